/*
 * prep.h - per-voxel standardisation and ANOVA F screening, fitted on a
 * subset of rows (the training part) and applied to any rows.
 *
 * Data: X is the dataset matrix, row-major n x p float32 (samples x voxels),
 * borrowed.  Statistics accumulate in double (README "Float vs double"),
 * except in nilearn mode (`f32`), which reproduces numpy's float32
 * arithmetic of nilearn's masker bit for bit: nilearn z-scores the float32
 * masked data in float32 before casting to float64 (semantics doc sections
 * 3 and 11).
 *
 * A scaler maps x to (x - shift[j]) / scale[j].  A standard deviation below
 * DBL_EPSILON becomes 1, so a constant voxel maps to 0 (nilearn's and
 * scikit-learn's rule) instead of NaN.
 *
 * Lifecycle: nidec_scaler s = NIDEC_SCALER_INIT; nidec_scaler_fit(&s, ...);
 * nidec_prep_value(&s, x, j) ...; nidec_scaler_release(&s) (no-op on an
 * empty scaler, leaves it reusable).  Not collective, no MPI.
 */
#ifndef NIDEC_PREP_H
#define NIDEC_PREP_H

#include <stddef.h>

#include "nidec/err.h"

typedef struct nidec_scaler {
	size_t p;
	int f32;        /* float32 arithmetic (nilearn): shift_f/scale_f hold the statistics */
	double *shift;  /* [p] mean (double mode) */
	double *scale;  /* [p] standard deviation, or 1 (double mode) */
	float *shift_f; /* [p] (f32 mode) */
	float *scale_f; /* [p] (f32 mode) */
} nidec_scaler;

#define NIDEC_SCALER_INIT { 0, 0, NULL, NULL, NULL, NULL }

/*
 * Fit the statistics of `standardize` (enum nidec_standardize, not NONE) on
 * rows[0..n_rows) of X.  zscore: ddof 0; zscore_sample: ddof 1 (needs 2 rows).
 * f32 = 1: numpy float32 semantics as nilearn (sequential float32 column
 * sums over the rows in the given order, float32 mean, a second centring
 * pass as numpy's std, float32 sqrt).  f32 = 0: double, two-pass with the
 * compensation term (Chan, Golub, LeVeque), as scikit-learn's StandardScaler.
 * Memory: a few arrays of p doubles.  On error *s is unchanged.
 */
int nidec_scaler_fit(nidec_scaler *s, const float *X, size_t p, const size_t *rows,
		     size_t n_rows, int standardize, int f32, nidec_err *err);
void nidec_scaler_release(nidec_scaler *s);

/* Standardised value of x = X[row][j]; s NULL means no standardisation. */
static inline double nidec_prep_value(const nidec_scaler *s, float x, size_t j)
{
	if (!s)
		return (double)x;
	if (s->f32) {
		float c = x - s->shift_f[j];
		float v = c / s->scale_f[j];
		return (double)v;
	}
	return ((double)x - s->shift[j]) / s->scale[j];
}

/*
 * scikit-learn f_classif for two groups: one-way ANOVA F of each voxel
 * between the rows with ypm[i] = +1 and those with -1 (ypm indexed like
 * rows), on standardised values.  F[j] is NaN for a voxel constant within
 * both groups (0/0), +inf for one constant within groups but not between.
 * Needs both groups and >= 3 rows.  Memory: 5 arrays of p doubles.
 */
int nidec_prep_fclassif(const float *X, size_t p, const size_t *rows, size_t n_rows,
			const signed char *ypm, const nidec_scaler *s, double *F,
			nidec_err *err);

/*
 * scikit-learn f_regression (center=True, force_finite=True): the F of the
 * correlation r of each voxel with the target y (indexed like rows), on
 * standardised values: r = sum((y - mean y) x) / sqrt(sum x^2 - n mean(x)^2)
 * / |y - mean y|, F = r^2 / (1 - r^2) (n - 2).  A constant voxel or target
 * gives F = 0, a perfect correlation DBL_MAX.  Needs >= 3 rows.
 * Memory: 3 arrays of p doubles.
 */
int nidec_prep_fregression(const float *X, size_t p, const size_t *rows, size_t n_rows,
			   const double *y, const nidec_scaler *s, double *F, nidec_err *err);

/*
 * nidec_prep_fclassif for n_prob binary problems on the same rows in one
 * pass over the data: F[q * p + j] for problem q, whose labels are
 * ypm[q * n_rows + i].  Every sum is accumulated in the same order as
 * nidec_prep_fclassif accumulates it, so F has the same bits; the pass
 * works on blocks of voxels so its sums stay in cache.  Errors as
 * nidec_prep_fclassif (for the first problem that lacks a group).
 * Memory: 4 n_prob blocks of 256 doubles.
 */
int nidec_prep_fclassif_multi(const float *X, size_t p, const size_t *rows, size_t n_rows,
			      const signed char *ypm, size_t n_prob, const nidec_scaler *s,
			      double *F, nidec_err *err);

/*
 * nidec_scaler_fit(s, ...) then nidec_prep_fclassif_multi(..., s, F) on the
 * same rows, with the same bits, in one pass over the data (block of
 * voxels by block: statistics, then F, while the block is in cache).
 * n_prob may be 0 (statistics only).  On error *s is unchanged.
 */
int nidec_prep_fit_fclassif(nidec_scaler *s, const float *X, size_t p, const size_t *rows,
			    size_t n_rows, int standardize, int f32, const signed char *ypm,
			    size_t n_prob, double *F, nidec_err *err);

/* out[k] = nidec_prep_value(s, x[j], j) with j = feat[k] (feat NULL: j = k),
 * k < n: one standardised row, the same bits as nidec_prep_value. */
void nidec_prep_row(const nidec_scaler *s, const float *x, const size_t *feat, size_t n,
		    double *out);

/*
 * scikit-learn SelectPercentile(percentile) on scores F[p]: NaN counts as
 * the lowest float; thr = numpy.percentile(F, 100 - percentile) (linear
 * interpolation); keep F > thr, then voxels with F == thr in voxel order
 * while fewer than int(p * percentile / 100) are kept (python slice rule
 * included).  *feat = new ascending list of kept voxels (caller frees with
 * nidec_free), *n_feat its length (may be 0).  percentile 100 keeps all.
 */
int nidec_prep_select_percentile(const double *F, size_t p, double percentile,
				 size_t **feat, size_t *n_feat, nidec_err *err);

/*
 * Per-run statistics, for training parts made of whole runs (leave-one-run-
 * out and its inner folds): the count, mean and sum of squared deviations
 * of every voxel within each run (two passes, double), fitted once per
 * dataset; a part's scaler then combines its runs in O(runs x voxels)
 * instead of a pass over its rows (Chan, Golub and LeVeque's pairwise
 * update, runs in ascending order).  Double mode only; the result equals
 * nidec_scaler_fit's on the same rows to rounding (not to the bit).
 *
 *     nidec_runstats rs = NIDEC_RUNSTATS_INIT;
 *     nidec_runstats_fit(&rs, X, n, p, run_of, n_runs, &err);  run_of[i] in 0..n_runs-1
 *     nidec_runstats_scaler(&rs, use, standardize, &s, &err);  use[r]: run r is in the part
 *     nidec_runstats_release(&rs);
 */
typedef struct nidec_runstats {
	size_t n_runs, p;
	size_t *count;  /* [n_runs] */
	double *mean;   /* [n_runs * p] */
	double *m2;     /* [n_runs * p] sum of squared deviations from the run's mean */
} nidec_runstats;

#define NIDEC_RUNSTATS_INIT { 0, 0, NULL, NULL, NULL }

int nidec_runstats_fit(nidec_runstats *rs, const float *X, size_t n, size_t p, const int *run_of,
		       size_t n_runs, nidec_err *err);
/* The scaler of the rows of the runs r with use[r] != 0 (enum
 * nidec_standardize: zscore or zscore_sample); errors as nidec_scaler_fit.
 * On error *s is unchanged. */
int nidec_runstats_scaler(const nidec_runstats *rs, const unsigned char *use, int standardize,
			  nidec_scaler *s, nidec_err *err);
void nidec_runstats_release(nidec_runstats *rs);

/*
 * f_classif of n_prob one-vs-rest problems from per-class sums, in one pass
 * over the rows: cls[i] in 0..K-1 is the class of rows[i]; problem q tests
 * class pos[q] against all the others.  Values are centred on centre[j]
 * (e.g. the part's mean; NULL = 0) and not scaled: F does not change under
 * a per-voxel affine map, so this is the F of the standardised values to
 * rounding, at 4 operations per value instead of 2 per problem.  Errors as
 * nidec_prep_fclassif.  Memory: 2 K blocks of 256 doubles.
 */
int nidec_prep_fclassif_ovr(const float *X, size_t p, const size_t *rows, size_t n_rows,
			    const int *cls, size_t K, const double *centre, size_t n_prob,
			    const int *pos, double *F, nidec_err *err);

/* nilearn's screening percentile: percentile * (1882989 mm3 / mask volume),
 * capped at 100, truncated to an integer (as SelectPercentile receives it).
 * A percentile >= 100 is returned unchanged. */
double nidec_prep_nilearn_percentile(double percentile, size_t n_voxels,
				     double voxel_volume_mm3);

#define NIDEC_MNI152_BRAIN_VOLUME_MM3 1882989.0

#endif
