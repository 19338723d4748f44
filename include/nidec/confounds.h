/*
 * confounds.h - the confound regressors of one run, from an fMRIPrep
 * confounds TSV (src/io/confounds.c), selected as [clean] confounds and
 * confounds_strategy say.
 *
 * Selection (in this order, a column chosen twice counted once):
 *  - confounds_strategy: presets with the meaning of nilearn's
 *    interfaces.fmriprep.load_confounds strategies:
 *      motion[:basic|derivatives|power2|full]   trans_x..rot_z (+ _derivative1,
 *                                               _power2, _derivative1_power2); default full
 *      wm_csf[:basic|...|full]                  csf, white_matter (+ suffixes); default basic
 *      global_signal[:basic|...|full]           global_signal (+ suffixes); default basic
 *      compcor[:anat_combined|anat_separated|temporal|temporal_anat_combined|
 *              temporal_anat_separated][:N|all]  the CompCor components the
 *                                               confounds JSON sidecar lists (by
 *                                               mask for aCompCor), the first N;
 *                                               default anat_combined, all
 *      high_pass                                every column whose name contains "cosine"
 *    a preset whose columns are missing is an error naming them;
 *  - confounds: column names, or globs (fnmatch: trans_*, a_comp_cor_0[0-4]),
 *    in header order within a glob.
 * Values: "n/a" (and empty) in the first row are replaced by the second
 * row's value, as load_confounds does for fMRIPrep's derivative columns;
 * then each column is demeaned over the run (load_confounds' demean=True).
 * Errors (each naming the file, the column and the fix): a missing column
 * (with "did you mean"), a glob matching nothing, a row count other than
 * the run's volumes, a value that is not a number, n/a beyond the first
 * row, a column constant over the run.
 * Not collective; no MPI, HDF5 or NIfTI.
 */
#ifndef NIDEC_CONFOUNDS_H
#define NIDEC_CONFOUNDS_H

#include <stddef.h>

#include "nidec/err.h"

typedef struct nidec_confounds {
	size_t n;          /* rows (volumes of the run) */
	size_t k;          /* columns kept */
	char **names;      /* [k] column names, in the order used */
	double *values;    /* [n * k] row-major, demeaned */
} nidec_confounds;

#define NIDEC_CONFOUNDS_INIT { 0, 0, NULL, NULL }

/* Load the columns of `tsv` for a run of `n_volumes` volumes; `bold`
 * names the run's image in messages. */
int nidec_confounds_load(const char *tsv, const char *bold, size_t n_volumes,
			 char *const *columns, size_t n_columns,
			 char *const *strategy, size_t n_strategy,
			 nidec_confounds *out, nidec_err *err);
void nidec_confounds_release(nidec_confounds *c);

/* Check the [clean] confounds_strategy items without a file (names and
 * levels); `origin` names the key in messages. */
int nidec_confounds_check_strategy(char *const *strategy, size_t n, nidec_err *err);

#endif
