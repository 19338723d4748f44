/*
 * samples.h - the samples a subject's analysis works on (src/job/
 * samples.c): the dataset's rows of the [data] conditions (all when the
 * list is empty), their classes (the kept conditions in byte order, as
 * numpy.unique), class indices, runs, and [cv] folds_file's assignment.
 * Shared by the decoder and the searchlight, so that both see the same
 * samples in the same order.
 *
 * Only the selected rows are read (consecutive rows in one read each), so
 * a rank holds n x p float32 values, not the whole dataset's.
 * Not collective: each rank loads for itself.
 */
#ifndef NIDEC_SAMPLES_H
#define NIDEC_SAMPLES_H

#include <stddef.h>

#include "nidec/cfg.h"
#include "nidec/dataset.h"
#include "nidec/err.h"
#include "nidec/plan.h"

typedef struct nidec_samples {
	nidec_dataset *ds;
	float *X;              /* [n x p] the selected rows, row-major */
	size_t n, p;
	size_t *rows;          /* [n] dataset row of each sample */
	char **classes;        /* [n_classes] borrowed from ds->conditions or cfg */
	size_t n_classes;
	int *y;                /* [n] class index */
	int *runs;             /* [n] */
	int *fold_of_sample;   /* [n] or NULL ([cv] scheme = folds-file) */
	double *target;        /* [n] the dataset's /target ([model] task = regression), or NULL */
} nidec_samples;

/* Open `dataset`, select and read the samples, read the folds file (and,
 * for task = regression, the targets: the dataset must hold the /target
 * of [data] target_column).
 * `s` zeroed on entry; release it on any return.  Errors name the
 * dataset or the file and the fix. */
int nidec_samples_load(nidec_samples *s, const nidec_cfg *cfg, const char *dataset, nidec_err *err);

/* What a plan needs (borrowing from s). */
void nidec_samples_labels(const nidec_samples *s, nidec_labels *lab);

/* Free everything; s zeroed.  NULL-safe members. */
void nidec_samples_release(nidec_samples *s);

#endif
