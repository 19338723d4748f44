/*
 * bids.h - the runs of one subject in a BIDS dataset and its fMRIPrep
 * derivatives (src/io/bids.c), for [data] bids_root and `nidec sweep`.
 *
 * Files are matched by their entities (BIDS file names
 * key-value_key-value_..._suffix.ext), never by their order:
 *  - BOLD: in <derivatives>/sub-<S>[/ses-<X>]/func, suffix bold, .nii or
 *    .nii.gz, task-<T>, desc-<desc> and space-<space> (with no space
 *    given, the one space present; several are an error naming them).
 *    Without derivatives, the raw BOLD of <bids_root> (no desc, no space).
 *  - events: in <bids_root>/sub-<S>[/ses-<X>]/func, suffix events, .tsv,
 *    with the BOLD's sub, ses, task and run, and any other entity it
 *    carries (acq, dir, ...) equal to the BOLD's.
 *  - brain mask: beside the BOLD, suffix mask, desc-brain, the BOLD's
 *    other entities (space included).
 *  - confounds: beside the BOLD, desc-confounds, suffix timeseries (or
 *    regressors, fMRIPrep < 20.2), .tsv, the BOLD's entities but space and
 *    desc.
 * Runs are sorted by session then run label (natural order).  A BOLD with
 * no events, events with no BOLD, two candidates for one file, or a
 * derivatives tree of another space is an error naming the entities and
 * the pattern tried, and the fix.
 * Not collective; no MPI, HDF5 or NIfTI: directory listings only.
 */
#ifndef NIDEC_BIDS_H
#define NIDEC_BIDS_H

#include <stddef.h>

#include "nidec/err.h"

typedef struct nidec_bids_query {
	const char *root;         /* raw BIDS dataset (events) */
	const char *derivatives;  /* fMRIPrep output, or NULL: raw BOLD from root */
	const char *subject;      /* label, without sub- */
	const char *session;      /* label, or NULL: every session */
	const char *task;
	const char *space;        /* or NULL: the only one present */
	const char *desc;         /* the BOLD's desc ("preproc") */
	int need_confounds;       /* a run without a confounds TSV is an error */
} nidec_bids_query;

typedef struct nidec_bids_run {
	char *session;    /* ses label, or NULL */
	char *run;        /* run label as written ("1", "01"), or NULL */
	char *bold;
	char *events;
	char *mask;       /* desc-brain mask, or NULL */
	char *confounds;  /* confounds TSV, or NULL */
} nidec_bids_run;

/* The runs (a new array of *n; free with nidec_bids_runs_free).  The
 * masks are all there or all absent (some missing is an error). */
int nidec_bids_find(const nidec_bids_query *q, nidec_bids_run **runs, size_t *n, nidec_err *err);
void nidec_bids_runs_free(nidec_bids_run *runs, size_t n);

/* "ses-01 run-2" (or "run-2", or "1" without entities) into buf. */
const char *nidec_bids_run_label(const nidec_bids_run *r, char *buf, size_t n);

#endif
