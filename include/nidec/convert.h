/*
 * convert.h - NIfTI runs + mask + labels -> one masked HDF5 dataset
 * (the `nidec convert` step, callable by `nidec run`).
 *
 * nidec_convert() reads the [data] keys of a finished config (bold, mask,
 * labels or events, conditions, label_column, run_column, hrf_shift; or a
 * sample table, or a BIDS dataset with fMRIPrep derivatives; a computed
 * mask) and the [clean] keys (smoothing and signal cleaning, README "Real
 * studies"),
 * checks every input before writing anything, and writes the dataset of
 * docs/FORMAT.md under a temporary name in the output's directory, then
 * renames it: no half file is ever left under the final name.  If the
 * output exists and records the same `inputs_sha256` (SHA-256 over the
 * inputs' SHA-256 and the [data] values that shape the content), it is
 * reused as it is, unless `force`.
 *
 * Memory: one volume of the BOLD series plus a block of about 8 MiB of
 * output rows, whatever the number of runs (with smoothing or cleaning:
 * one run's rows; docs/FORMAT.md "Sample tables, BIDS, confounds,
 * cleaning").  Not collective: one process
 * (rank 0) calls it; no MPI.  Errors are one line naming the file, the
 * field and the fix; the output is then left as it was.
 */
#ifndef NIDEC_CONVERT_H
#define NIDEC_CONVERT_H

#include <stddef.h>

#include "nidec/cfg.h"
#include "nidec/err.h"

typedef struct nidec_convert_opts {
	int force;                     /* rebuild even if the output is up to date */
	const char *tool_version;      /* provenance; NULL = nidec_version */
	const char *command_line;      /* provenance; NULL = nidec_command_line() */
	const char *liblinear_version; /* provenance; NULL = "unknown" */
} nidec_convert_opts;

#define NIDEC_CONVERT_OPTS_INIT { 0, NULL, NULL, NULL }

typedef struct nidec_convert_result {
	int reused;            /* 1: the existing output was up to date */
	size_t n_samples;      /* rows of /X */
	size_t n_voxels;       /* columns of /X */
	size_t n_runs;         /* distinct runs among the samples */
	size_t n_conditions;
	size_t n_volumes;      /* volumes read (before the condition selection) */
	int mask_resampled;    /* the mask was resampled onto the BOLD grid */
} nidec_convert_result;

/* Convert (or reuse) into out_path.  `res` may be NULL. */
int nidec_convert_ex(const nidec_cfg *cfg, const char *out_path,
		     const nidec_convert_opts *opts, nidec_convert_result *res,
		     nidec_err *err);

/* The same with default provenance (this process's version and command line). */
int nidec_convert(const nidec_cfg *cfg, const char *out_path, int force, int *reused,
		  nidec_err *err);

/* The default output: [data] dataset if set, else <[output] dir>/dataset.h5
 * (a new string for the caller to nidec_free). */
int nidec_convert_output_path(const nidec_cfg *cfg, char **out, nidec_err *err);

#endif
