/*
 * cvdata.h - one subject's analysed data, as `nidec cv`, `nidec run` and
 * `nidec sweep` all prepare it (private to src/cli): read the dataset,
 * keep the samples of [data] conditions, read [cv] folds_file, build the
 * plan; the column statistics model.h5 stores; the provenance the writers
 * need; and the subject's checkpoint ledger.  One implementation, so that
 * a sweep's subject gives byte-identical outputs to `nidec run` on it.
 *
 * Not collective: each rank calls these for itself (the callers agree
 * between phases).  Statistics for model.h5: the column mean and standard
 * deviation of all analysed samples (ddof 1 for zscore_sample, 0 for
 * zscore; a std below float64 epsilon counts as 1, as nilearn); `nidec
 * predict` applies them to new images outside compat mode.
 */
#ifndef NIDEC_CLI_CVDATA_H
#define NIDEC_CLI_CVDATA_H

#include <stddef.h>

#include "nidec/cfg.h"
#include "nidec/comm.h"
#include "nidec/dataset.h"
#include "nidec/err.h"
#include "nidec/ledger.h"
#include "nidec/plan.h"
#include "nidec/results.h"

typedef struct nidec_cvdata {
	nidec_dataset *ds;
	float *X;              /* [n x p] analysed samples (rows compacted) */
	size_t n, p;
	size_t *rows;          /* [n] dataset row of each sample */
	char **classes;        /* [n_classes] borrowed from ds->conditions or cfg */
	size_t n_classes;
	int *y;                /* [n] class index */
	int *runs;             /* [n] */
	int *fold_of_sample;   /* [n] or NULL ([cv] scheme = folds-file) */
	nidec_plan *plan;
	double *mean, *scale;  /* [p] model.h5 statistics, after nidec_cvdata_stats */
} nidec_cvdata;

/* Read `dataset`, select the samples, read the folds file.  `d` zeroed
 * on entry; release it on any return. */
int nidec_cvdata_load(nidec_cvdata *d, const nidec_cfg *cfg, const char *dataset, nidec_err *err);

/* Create the plan (checks everything that needs the labels; not yet
 * prepared: nidec_plan_prepare(d->plan, d->X, ...)). */
int nidec_cvdata_plan(nidec_cvdata *d, const nidec_cfg *cfg, nidec_err *err);

/* The column statistics of X (nothing with standardize = none). */
int nidec_cvdata_stats(nidec_cvdata *d, const nidec_cfg *cfg, nidec_err *err);

/* Fill `info` for nidec_results_write (borrowing from d and cfg);
 * `ledger_path` may be NULL. */
void nidec_cvdata_info(const nidec_cvdata *d, const nidec_cfg *cfg, nidec_comm *comm,
		       const char *ledger_path, nidec_results_info *info);

/* Free everything; d zeroed.  NULL-safe members. */
void nidec_cvdata_release(nidec_cvdata *d);

/* Rank 0: open the checkpoint ledger <[output] dir>/results.ledger into
 * `path` (len bytes).  With `resume` an existing ledger is read back into
 * results[0..n_tasks) (*n_loaded of them); when there is none and
 * `from_results_h5`, the copy results.h5 keeps of a completed run is taken
 * out first.  Without `resume` a new ledger replaces an old one (with a
 * warning).  `who` prefixes messages ("" or "sub-01: ").  A ledger of
 * another config or dataset is refused (ledger.h). */
typedef struct nidec_cvdata_ckpt {
	int resume;
	int from_results_h5;
	double interval;       /* seconds between syncs */
	const char *who;
	nidec_ledger_loaded_fn on_loaded; /* may be NULL: see nidec_ledger_resume */
	void *arg;
} nidec_cvdata_ckpt;

int nidec_cvdata_open_ledger(const nidec_cvdata *d, const nidec_cfg *cfg,
			     const nidec_cvdata_ckpt *ck, nidec_result **results, size_t n_tasks,
			     char *path, size_t len, nidec_ledger **lg, size_t *n_loaded,
			     nidec_err *err);

#endif
