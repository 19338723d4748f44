/*
 * convert_int.h - what convert.c and convert_studies.c share (private to
 * src/io): the conversion's state, and the stages of issue 17's inputs
 * (sample tables, BIDS + fMRIPrep derivatives, computed and intersected
 * masks, smoothing and signal cleaning) that convert.c calls.
 *
 * convert.c keeps the classic path (4D runs + one mask + labels table or
 * events) exactly as it was; each stage below is called only when a
 * config asks for one of the new inputs, so the files of older configs do
 * not change (tests/compare/revisions.sh).
 */
#ifndef NIDEC_IO_CONVERT_INT_H
#define NIDEC_IO_CONVERT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/bids.h"
#include "nidec/cfg.h"
#include "nidec/dataset.h"
#include "nidec/events.h"
#include "nidec/file.h"
#include "nidec/nii.h"
#include "nidec/sbuf.h"
#include "nidec/table.h"

struct studies;

struct job {
	char **bold;            /* [n_bold] BOLD files in run order (samples: the distinct images) */
	size_t n_bold;
	char **events;          /* [n_bold] events files, or NULL */
	size_t n_events;
	nidec_nii **hdr;        /* [n_bold] headers */
	nidec_vol_labels lab;   /* per volume of the concatenated series */
	nidec_events *evs;      /* [n_bold] events of each run, or NULL */
	size_t n_vol;           /* total volumes (samples: rows of the table) */
	unsigned char *keep;    /* [n_vol] */
	size_t n_keep;
	char **known;           /* conditions that exist in the labels/events */
	size_t n_known;
	nidec_dataset meta;     /* what the writer writes (borrowed pieces) */
	nidec_nii *mask;
	size_t *idx;            /* [p] NIfTI offsets of the mask voxels */
	struct studies *st;     /* issue 17's inputs and cleaning, or NULL */
};

/* Does this config use any of issue 17's inputs or steps? */
int nidec_cv_studies_wanted(const nidec_cfg *cfg);

/* Stage 1 (files): the sample table's images or the BIDS runs into
 * j->bold / j->events, and the confounds files ([data] confounds_files
 * or the derivatives'); creates j->st. */
int nidec_cv_studies_files(const nidec_cfg *cfg, struct job *j, nidec_err *err);

/* Stage 2 (hashes): the extra inputs (sample table, brain masks, confounds
 * TSVs) through `add(ctx, role, path, err)`, and the extra lines of the
 * reuse key and of the provenance's config text. */
int nidec_cv_studies_inputs(const nidec_cfg *cfg, struct job *j,
			    int (*add)(void *ctx, const char *role, const char *path, nidec_err *err),
			    void *ctx, nidec_err *err);
int nidec_cv_studies_key_text(const nidec_cfg *cfg, const struct job *j, nidec_sbuf *key,
			      nidec_sbuf *config);

/* Stage 3: the sample table's headers and labels (instead of the 4D runs'),
 * the rows' labels / runs / volumes, and the mask (BIDS intersection or
 * computed) into j->meta.ijk; `out_path` is the dataset's (a computed mask
 * is written beside it). */
int nidec_cv_studies_headers(const nidec_cfg *cfg, struct job *j, nidec_err *err);
int nidec_cv_studies_labels(const nidec_cfg *cfg, struct job *j, nidec_err *err);
int nidec_cv_studies_rows(struct job *j, nidec_err *err);
int nidec_cv_studies_mask(const nidec_cfg *cfg, struct job *j, const char *out_path,
			  size_t *n_voxels, nidec_err *err);

/* Before the dataset is created (so that bad input leaves no file): load
 * and check every run's confounds, the repetition time and the filter's
 * cut-offs, the sample attributes; the provenance extras into *prov. */
int nidec_cv_studies_prepare(const nidec_cfg *cfg, struct job *j, nidec_ds_provenance *prov,
			     nidec_err *err);

/* Stage 4: stream, smooth, clean and write the rows and the mean EPI, and
 * the sample attributes. */
int nidec_cv_studies_write(const nidec_cfg *cfg, struct job *j, nidec_ds_writer *w, nidec_err *err);
int nidec_cv_studies_write_attrs(struct job *j, nidec_ds_writer *w, nidec_err *err);

/* Stage 5: after the dataset's commit, the computed mask file. */
int nidec_cv_studies_commit(struct job *j, nidec_err *err);

void nidec_cv_studies_free(struct job *j);

#endif
