/*
 * clean.h - signal cleaning with nilearn's semantics (src/core/clean.c):
 * nilearn.image.smooth_img's Gaussian smoothing, then, on the masked
 * series, nilearn.signal.clean: linear detrend, Butterworth filter,
 * confound projection, standardization.  docs/NILEARN.md "Signal cleaning"
 * says what was checked against what.
 *
 * Smoothing (nilearn _smooth_array): per axis a Gaussian of
 * sigma = fwhm / (sqrt(8 ln 2) * voxel size), the voxel size being the norm
 * of the affine's column; scipy.ndimage.gaussian_filter1d with truncate 4
 * (radius int(4 sigma + 0.5)) and mode 'reflect' (d c b a | a b c d);
 * axes x, y, z in that order; with `round32` the values are rounded to
 * float32 after each axis, as nilearn's in-place filter of a float32 array
 * does (int16 and float32 images), else kept in double (float64 images,
 * scaled images).
 *
 * Cleaning one series (nilearn.signal.clean without runs; callers clean each
 * run separately for nilearn's runs=): with m0 the column means,
 *   1. detrend: remove each column's mean and its projection on the
 *      centred, normalised time index (signals and confounds);
 *   2. Butterworth filter of order 5 (scipy.signal.butter, output='sos';
 *      high-pass, low-pass or band-pass), forward and backward as
 *      scipy.signal.sosfiltfilt with its default padding: padtype 'odd',
 *      padlen 3 * (2 * sections + 1 - min(#b2 == 0, #a2 == 0)), initial
 *      conditions sosfilt_zi scaled by the first padded value (signals and
 *      confounds);
 *   3. confounds: z-scored (ddof 0; a std below 2.2e-16 counts as 1) with
 *      standardize_confounds, else divided by their largest absolute value;
 *      a QR decomposition with column pivoting keeps the columns whose
 *      |R_jj| > 100 * 2.2e-16, and the signals lose their projection on
 *      them (signals -= Q Q^T signals);
 *   4. standardize (none, zscore ddof 0, zscore_sample ddof 1, psc) the
 *      result, with m0 added back first when the series was filtered, or
 *      detrended under psc (so, unstandardized, a filtered series keeps its
 *      mean).  A series of one sample is not standardized.
 * Every step runs in double; the result is rounded to float32 (the
 * dataset's type).
 *
 * Lifecycle: nidec_cleaner_create (per series: its length, its confounds)
 * -> nidec_cleaner_apply (any number of blocks of voxels) ->
 * nidec_cleaner_free(&c).  Not collective; no MPI, HDF5, NIfTI or files.
 */
#ifndef NIDEC_CLEAN_H
#define NIDEC_CLEAN_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/err.h"

/* Order of nilearn's Butterworth filter. */
#define NIDEC_BUTTER_ORDER 5
/* Sections of an order-5 band-pass (the most a design of ours has). */
#define NIDEC_SOS_MAX 5

/*
 * Second-order sections of scipy.signal.butter(order, Wn, btype,
 * output='sos', fs) with scipy 1.10's zpk2sos pairing ('nearest'):
 * high_pass alone -> 'highpass' at high_pass Hz, low_pass alone ->
 * 'lowpass', both -> 'bandpass' [high_pass, low_pass]; NaN = not given.
 * sos[s] = b0 b1 b2 a0 a1 a2 (a0 = 1).  Errors: no cut-off, a cut-off <= 0
 * or >= fs / 2, high_pass >= low_pass, order outside 1..5.
 */
int nidec_butter_sos(int order, double high_pass, double low_pass, double fs,
		     double sos[][6], size_t *n_sections, nidec_err *err);

/* sosfiltfilt's default padding length of these sections. */
size_t nidec_sos_padlen(const double sos[][6], size_t n_sections);

/*
 * x[0..n) filtered forward and backward, in place, as sosfiltfilt(sos, x)
 * (padtype 'odd', default padlen).  work: n + 2 * padlen doubles.  Fails
 * (NIDEC_EINPUT) when n <= padlen, as scipy does.
 */
int nidec_sosfiltfilt(const double sos[][6], size_t n_sections, double *x, size_t n,
		      double *work, nidec_err *err);

/* What one series is cleaned with (see above). */
typedef struct nidec_clean_params {
	int detrend;                /* linear detrend */
	double high_pass, low_pass; /* Hz; NaN = none */
	double t_r;                 /* seconds; needed to filter */
	int standardize;            /* enum nidec_clean_std (cfg.h) */
	int standardize_confounds;  /* z-score the confounds (else max-abs scaling) */
} nidec_clean_params;

#define NIDEC_CLEAN_PARAMS_INIT { 0, NAN, NAN, NAN, 0, 1 }

typedef struct nidec_cleaner nidec_cleaner;

/*
 * Prepare the cleaning of a series of n samples: the detrend regressor, the
 * filter, and the confounds' orthonormal basis.  conf: n x k row-major
 * (sample after sample; k = 0 and conf NULL: no confounds); copied.
 * Errors: a filter on a series too short for its padding (naming n and
 * the minimum), a non-finite confound value, out of memory.
 * Memory: (n + 2 padlen) x 8 + n x k x 16 bytes.
 */
int nidec_cleaner_create(const nidec_clean_params *cp, size_t n, const double *conf, size_t k,
			 nidec_cleaner **out, nidec_err *err);

/* Columns of the confounds kept after the rank test (<= k). */
size_t nidec_cleaner_rank(const nidec_cleaner *c);

/*
 * Clean every column of X (n x p, row-major, the series' samples as rows)
 * in place.  Columns are independent, so a caller may clean any subset of
 * voxels in any order (blocks of columns: X and ld = its row stride).
 */
int nidec_cleaner_apply(nidec_cleaner *c, float *X, size_t p, size_t ld, nidec_err *err);

void nidec_cleaner_free(nidec_cleaner **c);

/* ---- smoothing ---------------------------------------------------------- */

/* Per-axis sigma in voxels of a Gaussian of `fwhm` mm on a grid with this
 * affine (row-major 4x4): fwhm / (sqrt(8 ln 2) * |affine[:3, axis]|). */
void nidec_smooth_sigma(double fwhm, const double affine[16], double sigma[3]);

/* scipy.ndimage's Gaussian kernel of sigma (truncate 4): weights
 * w[0..radius] (w[j] = weight at distance j, normalised over -radius..radius
 * as numpy sums them); returns the radius, or -1 if it exceeds max_radius. */
int nidec_gauss_kernel(double sigma, double *w, int max_radius);

typedef struct nidec_smoother nidec_smoother;

/*
 * A smoother of volumes on a dims grid with per-axis sigma (voxels; an
 * axis with sigma <= 0 is left alone).  round32: round to float32 after
 * each axis (see above).
 */
int nidec_smoother_create(const int64_t dims[3], const double sigma[3], int round32,
			  nidec_smoother **out, nidec_err *err);

/* Smooth vol (dims[0] * dims[1] * dims[2] values, x fastest) in place;
 * non-finite values become 0 first (nilearn's ensure_finite). */
void nidec_smoother_apply(nidec_smoother *s, double *vol);

/* The same for the voxels of the box lo..hi (inclusive, voxel indices) of
 * a float32 volume `in`, computing only what they need (the x pass on
 * the lines the y and z passes read, each later pass on its rows): out
 * (dims[0] * dims[1] * dims[2] doubles, x fastest) holds the smoothed
 * values inside the box on return, other entries are undefined.  The
 * values are those of nidec_smoother_apply, bit for bit. */
void nidec_smoother_apply_box(nidec_smoother *s, const float *in, const int64_t lo[3],
			      const int64_t hi[3], double *out);

void nidec_smoother_free(nidec_smoother **s);

/* ---- computed masks (src/core/maskcomp.c) -------------------------------- */

/*
 * nilearn.masking.compute_epi_mask with its defaults (lower_cutoff 0.2,
 * upper_cutoff 0.85, opening 2, connected, exclude_zeros False) on `mean`,
 * the mean image (double, x fastest; modified: non-finite values become 0
 * and it is smoothed by a Gaussian of FWHM 1 voxel, as nilearn does before
 * its histogram).  out: one byte per voxel, 1 inside; *n_inside its count.
 * An empty result is an error naming the fix.
 */
int nidec_mask_compute_epi(double *mean, const int64_t dims[3], unsigned char *out,
			   size_t *n_inside, nidec_err *err);

/*
 * nilearn.masking.compute_background_mask with its defaults (border 2,
 * no opening, not connected): the background is the median of the border
 * voxels (every face of width 2, edges counted once per face), inside =
 * value != background; a NaN on the border makes inside = not NaN.
 */
int nidec_mask_compute_background(const double *mean, const int64_t dims[3],
				  unsigned char *out, size_t *n_inside, nidec_err *err);

#endif
