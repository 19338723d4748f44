/*
 * prep.c - standardisation and ANOVA screening (see include/nidec/prep.h).
 *
 * Statistical decisions (README "Preprocessing"):
 *  - Statistics are fitted on the rows the caller gives (the training part
 *    by default), and applied to any rows: no test sample ever shapes its
 *    own preprocessing unless nilearn compatibility asks for it.
 *  - A standard deviation below DBL_EPSILON becomes 1, as in nilearn's
 *    signal.standardize_signal and scikit-learn's StandardScaler, so a
 *    constant voxel becomes 0 (double mode) instead of NaN.
 *  - nilearn mode (f32) repeats numpy's float32 arithmetic: the masker's
 *    output is C-ordered float32, numpy reduces axis 0 of a C-ordered array
 *    row by row, so every column sum is a sequential float32 sum over the
 *    rows in order (checked bit for bit against the JSON fingerprint of the
 *    z-scored slice).  This file is compiled in ISO C mode (-std=c11) where
 *    GCC does not contract a*b+c into an FMA, so float32 products are
 *    rounded before they are added, as numpy does.
 *  - Screening is scikit-learn's f_classif + SelectPercentile, including
 *    its interpolated threshold and tie rule, because the voxels kept
 *    change the weights (semantics doc section 8).
 *
 * Depends on base only: no MPI, no HDF5, no NIfTI.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nidec/cfg.h"
#include "nidec/mem.h"
#include "nidec/metrics.h"
#include "nidec/prep.h"
#include "clones.h"

void nidec_scaler_release(nidec_scaler *s)
{
	if (!s)
		return;
	nidec_free(s->shift);
	nidec_free(s->scale);
	nidec_free(s->shift_f);
	nidec_free(s->scale_f);
	memset(s, 0, sizeof(*s));
}

/*
 * The column loops below are written as blocks of VB elements plus a tail:
 * GCC's -O2 vectorises a loop of known length but not one of unknown
 * length.  Every operation is elementwise across columns (the sums run
 * over rows, in row order), so vectorising changes no bit.
 */
#define VB 16

/* acc += x (float to double) */
NIDEC_CLONES
static void col_sum_d(double *restrict acc, const float *restrict x, size_t n)
{
	size_t j, k;

	for (j = 0; j + VB <= n; j += VB)
		for (k = 0; k < VB; k++)
			acc[j + k] += (double)x[j + k];
	for (; j < n; j++)
		acc[j] += (double)x[j];
}

/* d = x - mean; corr += d; sd += d * d */
NIDEC_CLONES
static void col_centre_d(double *restrict corr, double *restrict sd, const float *restrict x,
			 const double *restrict mean, size_t n)
{
	size_t j, k;

	for (j = 0; j + VB <= n; j += VB)
		for (k = 0; k < VB; k++) {
			double d = (double)x[j + k] - mean[j + k];
			corr[j + k] += d;
			sd[j + k] += d * d;
		}
	for (; j < n; j++) {
		double d = (double)x[j] - mean[j];
		corr[j] += d;
		sd[j] += d * d;
	}
}

/* float32: acc += x */
NIDEC_CLONES
static void col_sum_f(float *restrict acc, const float *restrict x, size_t n)
{
	size_t j, k;

	for (j = 0; j + VB <= n; j += VB)
		for (k = 0; k < VB; k++)
			acc[j + k] += x[j + k];
	for (; j < n; j++)
		acc[j] += x[j];
}

/* float32: acc += x - mean */
NIDEC_CLONES
static void col_centre_f(float *restrict acc, const float *restrict x, const float *restrict mean,
			 size_t n)
{
	size_t j, k;

	for (j = 0; j + VB <= n; j += VB)
		for (k = 0; k < VB; k++) {
			float c = x[j + k] - mean[j + k];
			acc[j + k] += c;
		}
	for (; j < n; j++) {
		float c = x[j] - mean[j];
		acc[j] += c;
	}
}

/* float32: acc += ((x - mean) - mean2)^2 */
NIDEC_CLONES
static void col_sq_f(float *restrict acc, const float *restrict x, const float *restrict mean,
		     const float *restrict mean2, size_t n)
{
	size_t j, k;

	for (j = 0; j + VB <= n; j += VB)
		for (k = 0; k < VB; k++) {
			float c = x[j + k] - mean[j + k];
			float d = c - mean2[j + k];
			float sq = d * d;
			acc[j + k] += sq;
		}
	for (; j < n; j++) {
		float c = x[j] - mean[j];
		float d = c - mean2[j];
		float sq = d * d;
		acc[j] += sq;
	}
}

/* out = (double)((x - m) / sc) in float32 (nilearn) */
NIDEC_CLONES
static void std_f32(double *restrict out, const float *restrict x, const float *restrict m,
		    const float *restrict sc, size_t n)
{
	size_t j, k;

	for (j = 0; j + VB <= n; j += VB)
		for (k = 0; k < VB; k++) {
			float c = x[j + k] - m[j + k];
			out[j + k] = (double)(c / sc[j + k]);
		}
	for (; j < n; j++) {
		float c = x[j] - m[j];
		out[j] = (double)(c / sc[j]);
	}
}

/* out = ((double)x - m) / sc */
NIDEC_CLONES
static void std_f64(double *restrict out, const float *restrict x, const double *restrict m,
		    const double *restrict sc, size_t n)
{
	size_t j, k;

	for (j = 0; j + VB <= n; j += VB)
		for (k = 0; k < VB; k++)
			out[j + k] = ((double)x[j + k] - m[j + k]) / sc[j + k];
	for (; j < n; j++)
		out[j] = ((double)x[j] - m[j]) / sc[j];
}

/* sum += v; ss += sq */
NIDEC_CLONES
static void acc2(double *restrict sum, double *restrict ss, const double *restrict v,
		 const double *restrict sq, size_t n)
{
	size_t j, k;

	for (j = 0; j + VB <= n; j += VB)
		for (k = 0; k < VB; k++) {
			sum[j + k] += v[j + k];
			ss[j + k] += sq[j + k];
		}
	for (; j < n; j++) {
		sum[j] += v[j];
		ss[j] += sq[j];
	}
}

/* sq = v * v */
NIDEC_CLONES
static void square(double *restrict sq, const double *restrict v, size_t n)
{
	size_t j, k;

	for (j = 0; j + VB <= n; j += VB)
		for (k = 0; k < VB; k++)
			sq[j + k] = v[j + k] * v[j + k];
	for (; j < n; j++)
		sq[j] = v[j] * v[j];
}

/* numpy float32: mean, a second centring as numpy's std, float32 sqrt.
 * Columns 0..p-1 of rows with stride ld (X may point into a row). */
static void fit_f32(const float *X, size_t ld, size_t p, const size_t *rows, size_t n, int ddof,
		    float *mean, float *sd, float *acc)
{
	size_t i, j;
	float fn = (float)n, fdf = (float)(n - (size_t)ddof);

	/* signals.mean(axis=0): sequential float32 sums, float32 division */
	memset(acc, 0, p * sizeof(*acc));
	for (i = 0; i < n; i++)
		col_sum_f(acc, X + rows[i] * ld, p);
	for (j = 0; j < p; j++)
		mean[j] = acc[j] / fn;
	/* (signals - mean).std(axis=0, ddof): numpy's _var recentres the
	 * already centred data on its own float32 mean */
	memset(acc, 0, p * sizeof(*acc));
	for (i = 0; i < n; i++)
		col_centre_f(acc, X + rows[i] * ld, mean, p);
	for (j = 0; j < p; j++)
		sd[j] = acc[j] / fn; /* second mean, kept in sd for now */
	memset(acc, 0, p * sizeof(*acc));
	for (i = 0; i < n; i++)
		col_sq_f(acc, X + rows[i] * ld, mean, sd, p);
	for (j = 0; j < p; j++) {
		float var = acc[j] / fdf;
		float s = sqrtf(var);
		/* nilearn: std[std < np.finfo(np.float64).eps] = 1.0 */
		sd[j] = (double)s < DBL_EPSILON ? 1.0f : s;
	}
}

/* double: two-pass with the compensation term, as StandardScaler. */
static void fit_f64(const float *X, size_t ld, size_t p, const size_t *rows, size_t n, int ddof,
		    double *mean, double *sd, double *corr)
{
	size_t i, j;
	double dn = (double)n;

	memset(mean, 0, p * sizeof(*mean));
	for (i = 0; i < n; i++)
		col_sum_d(mean, X + rows[i] * ld, p);
	for (j = 0; j < p; j++)
		mean[j] /= dn;
	memset(corr, 0, p * sizeof(*corr));
	memset(sd, 0, p * sizeof(*sd));
	for (i = 0; i < n; i++)
		col_centre_d(corr, sd, X + rows[i] * ld, mean, p);
	for (j = 0; j < p; j++) {
		double ss = sd[j] - corr[j] * corr[j] / dn;
		double s = sqrt(ss > 0 ? ss / (double)(n - (size_t)ddof) : 0.0);
		sd[j] = s < DBL_EPSILON ? 1.0 : s;
	}
}

static int ddof_of(int standardize, size_t n_rows, int *ddof, nidec_err *err)
{
	if (standardize == NIDEC_STD_ZSCORE)
		*ddof = 0;
	else if (standardize == NIDEC_STD_ZSCORE_SAMPLE)
		*ddof = 1;
	else
		return nidec_fail(err, NIDEC_EINTERNAL, "scaler: unknown standardisation %d", standardize);
	if (n_rows < (size_t)*ddof + 1)
		return nidec_fail(err, NIDEC_EINPUT,
				  "cannot standardize %zu sample%s with %s; the training part needs at least %d samples",
				  n_rows, n_rows == 1 ? "" : "s",
				  *ddof ? "zscore_sample" : "zscore", *ddof + 1);
	return 0;
}

int nidec_scaler_fit(nidec_scaler *s, const float *X, size_t p, const size_t *rows,
		     size_t n_rows, int standardize, int f32, nidec_err *err)
{
	nidec_scaler t = NIDEC_SCALER_INIT;
	int ddof;

	NIDEC_TRY(ddof_of(standardize, n_rows, &ddof, err));
	t.p = p;
	t.f32 = f32;
	if (f32) {
		float *acc = nidec_malloc_e(p, sizeof(float), "standardisation sums", err);
		t.shift_f = nidec_malloc_e(p, sizeof(float), "voxel means", err);
		t.scale_f = nidec_malloc_e(p, sizeof(float), "voxel standard deviations", err);
		if (!acc || !t.shift_f || !t.scale_f) {
			nidec_free(acc);
			nidec_scaler_release(&t);
			return NIDEC_ENOMEM;
		}
		fit_f32(X, p, p, rows, n_rows, ddof, t.shift_f, t.scale_f, acc);
		nidec_free(acc);
	} else {
		double *corr = nidec_malloc_e(p, sizeof(double), "standardisation sums", err);
		t.shift = nidec_malloc_e(p, sizeof(double), "voxel means", err);
		t.scale = nidec_malloc_e(p, sizeof(double), "voxel standard deviations", err);
		if (!corr || !t.shift || !t.scale) {
			nidec_free(corr);
			nidec_scaler_release(&t);
			return NIDEC_ENOMEM;
		}
		fit_f64(X, p, p, rows, n_rows, ddof, t.shift, t.scale, corr);
		nidec_free(corr);
	}
	nidec_scaler_release(s);
	*s = t;
	return 0;
}

int nidec_prep_fclassif(const float *X, size_t p, const size_t *rows, size_t n_rows,
			const signed char *ypm, const nidec_scaler *s, double *F,
			nidec_err *err)
{
	double *buf, *sum[2], *ss[2];
	size_t cnt[2] = { 0, 0 }, i, j;

	for (i = 0; i < n_rows; i++)
		cnt[ypm[i] > 0]++;
	if (cnt[0] == 0 || cnt[1] == 0 || n_rows < 3)
		return nidec_fail(err, NIDEC_EINPUT,
				  "ANOVA screening needs both classes and at least 3 training samples (has %zu and %zu)",
				  cnt[1], cnt[0]);
	buf = nidec_calloc_e(4 * p, sizeof(double), "ANOVA sums", err);
	if (!buf)
		return NIDEC_ENOMEM;
	/* group 0 = label -1, group 1 = label +1: numpy.unique order */
	sum[0] = buf;
	sum[1] = buf + p;
	ss[0] = buf + 2 * p;
	ss[1] = buf + 3 * p;
	for (i = 0; i < n_rows; i++) {
		const float *x = X + rows[i] * p;
		int g = ypm[i] > 0;
		for (j = 0; j < p; j++) {
			double v = nidec_prep_value(s, x[j], j);
			sum[g][j] += v;
			ss[g][j] += v * v;
		}
	}
	/* sklearn.feature_selection.f_oneway, operation for operation */
	for (j = 0; j < p; j++) {
		double n = (double)n_rows;
		double ss_all = (0.0 + ss[0][j]) + ss[1][j];
		double s_all = (0.0 + sum[0][j]) + sum[1][j];
		double sq_all = s_all * s_all;
		double sstot = ss_all - sq_all / n;
		double ssbn = 0.0, sswn, msb, msw;

		ssbn += sum[0][j] * sum[0][j] / (double)cnt[0];
		ssbn += sum[1][j] * sum[1][j] / (double)cnt[1];
		ssbn -= sq_all / n;
		sswn = sstot - ssbn;
		msb = ssbn / 1.0;
		msw = sswn / (double)(n_rows - 2);
		F[j] = msb / msw;
	}
	nidec_free(buf);
	return 0;
}

int nidec_prep_fregression(const float *X, size_t p, const size_t *rows, size_t n_rows,
			   const double *y, const nidec_scaler *s, double *F, nidec_err *err)
{
	double *buf, *sum, *ss, *sxy, *yc, ymean = 0, ynorm = 0, n = (double)n_rows;
	size_t i, j;

	if (n_rows < 3)
		return nidec_fail(err, NIDEC_EINPUT,
				  "f_regression screening needs at least 3 training samples (has %zu)", n_rows);
	buf = nidec_calloc_e(3 * p + n_rows, sizeof(double), "f_regression sums", err);
	if (!buf)
		return NIDEC_ENOMEM;
	sum = buf;
	ss = buf + p;
	sxy = buf + 2 * p;
	yc = buf + 3 * p;
	for (i = 0; i < n_rows; i++)
		yc[i] = y[i];
	ymean = nidec_mean_numpy(yc, n_rows);
	for (i = 0; i < n_rows; i++) {
		yc[i] = y[i] - ymean;
		ynorm += yc[i] * yc[i];
	}
	ynorm = sqrt(ynorm);
	for (i = 0; i < n_rows; i++) {
		const float *x = X + rows[i] * p;
		for (j = 0; j < p; j++) {
			double v = nidec_prep_value(s, x[j], j);
			sum[j] += v;
			ss[j] += v * v;
			sxy[j] += yc[i] * v;
		}
	}
	for (j = 0; j < p; j++) {
		double mean = sum[j] / n, xn = sqrt(ss[j] - n * mean * mean);
		double r = sxy[j] / xn / ynorm, r2, f;
		if (isnan(r))
			r = 0.0; /* a constant voxel or target: r_regression's force_finite */
		r2 = r * r;
		f = r2 / (1 - r2) * (n - 2);
		F[j] = isinf(f) ? DBL_MAX : isnan(f) ? 0.0 : f;
	}
	nidec_free(buf);
	return 0;
}

void nidec_prep_row(const nidec_scaler *s, const float *x, const size_t *feat, size_t n,
		    double *out)
{
	size_t k;

	if (!s) {
		for (k = 0; k < n; k++)
			out[k] = (double)x[feat ? feat[k] : k];
	} else if (s->f32) {
		if (feat) {
			for (k = 0; k < n; k++) {
				size_t j = feat[k];
				float c = x[j] - s->shift_f[j];
				out[k] = (double)(c / s->scale_f[j]);
			}
		} else {
			std_f32(out, x, s->shift_f, s->scale_f, n);
		}
	} else {
		if (feat) {
			for (k = 0; k < n; k++) {
				size_t j = feat[k];
				out[k] = ((double)x[j] - s->shift[j]) / s->scale[j];
			}
		} else {
			std_f64(out, x, s->shift, s->scale, n);
		}
	}
}

#define FBLOCK 256

/* v[b] = nidec_prep_value(s, x[j0 + b], j0 + b), b < nb */
static void std_block(const nidec_scaler *s, const float *x, size_t j0, size_t nb, double *v)
{
	size_t b;

	if (!s) {
		for (b = 0; b < nb; b++)
			v[b] = (double)x[j0 + b];
	} else if (s->f32) {
		std_f32(v, x + j0, s->shift_f + j0, s->scale_f + j0, nb);
	} else {
		std_f64(v, x + j0, s->shift + j0, s->scale + j0, nb);
	}
}

/* Group counts of every problem; fails if a problem lacks a group. */
static int fclassif_counts(const signed char *ypm, size_t n_rows, size_t n_prob, size_t *cnt,
			   nidec_err *err)
{
	size_t q, i;

	for (q = 0; q < n_prob; q++) {
		for (i = 0; i < n_rows; i++)
			cnt[2 * q + (ypm[q * n_rows + i] > 0)]++;
		if (cnt[2 * q] == 0 || cnt[2 * q + 1] == 0 || n_rows < 3)
			return nidec_fail(err, NIDEC_EINPUT,
					  "ANOVA screening needs both classes and at least 3 training samples (has %zu and %zu)",
					  cnt[2 * q + 1], cnt[2 * q]);
	}
	return 0;
}

/* F of voxels j0..j0+nb-1 (nb <= FBLOCK) of every problem; acc holds
 * (4 n_prob + 2) FBLOCK doubles of scratch. */
static void fclassif_block(const float *X, size_t p, const size_t *rows, size_t n_rows,
			   const signed char *ypm, size_t n_prob, const nidec_scaler *s,
			   const size_t *cnt, size_t j0, size_t nb, double *acc, double *F)
{
	double *v = acc + 4 * n_prob * FBLOCK, *sq = v + FBLOCK;
	size_t i, q, b;

	memset(acc, 0, 4 * n_prob * FBLOCK * sizeof(double));
	for (i = 0; i < n_rows; i++) {
		std_block(s, X + rows[i] * p, j0, nb, v);
		square(sq, v, nb);
		for (q = 0; q < n_prob; q++) {
			int g = ypm[q * n_rows + i] > 0;
			double *sum = acc + ((q * 2 + (size_t)g) * 2) * FBLOCK;
			acc2(sum, sum + FBLOCK, v, sq, nb);
		}
	}
	/* sklearn.feature_selection.f_oneway, as nidec_prep_fclassif */
	for (q = 0; q < n_prob; q++) {
		const double *s0 = acc + (q * 4) * FBLOCK, *ss0 = s0 + FBLOCK;
		const double *s1 = acc + (q * 4 + 2) * FBLOCK, *ss1 = s1 + FBLOCK;
		double c0 = (double)cnt[2 * q], c1 = (double)cnt[2 * q + 1];
		for (b = 0; b < nb; b++) {
			double n = (double)n_rows;
			double ss_all = (0.0 + ss0[b]) + ss1[b];
			double s_all = (0.0 + s0[b]) + s1[b];
			double sq_all = s_all * s_all;
			double sstot = ss_all - sq_all / n;
			double ssbn = 0.0, sswn, msb, msw;

			ssbn += s0[b] * s0[b] / c0;
			ssbn += s1[b] * s1[b] / c1;
			ssbn -= sq_all / n;
			sswn = sstot - ssbn;
			msb = ssbn / 1.0;
			msw = sswn / (double)(n_rows - 2);
			F[q * p + j0 + b] = msb / msw;
		}
	}
}

int nidec_prep_fclassif_multi(const float *X, size_t p, const size_t *rows, size_t n_rows,
			      const signed char *ypm, size_t n_prob, const nidec_scaler *s,
			      double *F, nidec_err *err)
{
	double *acc;
	size_t *cnt, j0;
	int rc;

	if (n_prob == 0)
		return 0;
	cnt = nidec_calloc_e(2 * n_prob, sizeof(*cnt), "ANOVA counts", err);
	if (!cnt)
		return NIDEC_ENOMEM;
	rc = fclassif_counts(ypm, n_rows, n_prob, cnt, err);
	acc = rc < 0 ? NULL : nidec_malloc_e((4 * n_prob + 2) * FBLOCK, sizeof(double), "ANOVA sums", err);
	if (rc == 0 && !acc)
		rc = NIDEC_ENOMEM;
	for (j0 = 0; rc == 0 && j0 < p; j0 += FBLOCK)
		fclassif_block(X, p, rows, n_rows, ypm, n_prob, s, cnt, j0,
			       p - j0 < FBLOCK ? p - j0 : FBLOCK, acc, F);
	nidec_free(acc);
	nidec_free(cnt);
	return rc;
}

int nidec_prep_fit_fclassif(nidec_scaler *s, const float *X, size_t p, const size_t *rows,
			    size_t n_rows, int standardize, int f32, const signed char *ypm,
			    size_t n_prob, double *F, nidec_err *err)
{
	nidec_scaler t = NIDEC_SCALER_INIT;
	double *acc = NULL, *dtmp = NULL;
	float *ftmp = NULL;
	size_t *cnt = NULL, j0;
	int ddof, rc;

	NIDEC_TRY(ddof_of(standardize, n_rows, &ddof, err));
	cnt = nidec_calloc_e(2 * (n_prob ? n_prob : 1), sizeof(*cnt), "ANOVA counts", err);
	if (!cnt)
		return NIDEC_ENOMEM;
	NIDEC_TRY_GOTO(rc, fclassif_counts(ypm, n_rows, n_prob, cnt, err), done);
	t.p = p;
	t.f32 = f32;
	acc = nidec_malloc_e((4 * n_prob + 2) * FBLOCK, sizeof(double), "ANOVA sums", err);
	if (f32) {
		t.shift_f = nidec_malloc_e(p, sizeof(float), "voxel means", err);
		t.scale_f = nidec_malloc_e(p, sizeof(float), "voxel standard deviations", err);
		ftmp = nidec_malloc_e(FBLOCK, sizeof(float), "standardisation sums", err);
	} else {
		t.shift = nidec_malloc_e(p, sizeof(double), "voxel means", err);
		t.scale = nidec_malloc_e(p, sizeof(double), "voxel standard deviations", err);
		dtmp = nidec_malloc_e(FBLOCK, sizeof(double), "standardisation sums", err);
	}
	if (!acc || (f32 ? !t.shift_f || !t.scale_f || !ftmp : !t.shift || !t.scale || !dtmp)) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	/* block by block: the statistics of the block's voxels, then their F,
	 * while the block's values are still in cache */
	for (j0 = 0; j0 < p; j0 += FBLOCK) {
		size_t nb = p - j0 < FBLOCK ? p - j0 : FBLOCK;
		if (f32)
			fit_f32(X + j0, p, nb, rows, n_rows, ddof, t.shift_f + j0, t.scale_f + j0, ftmp);
		else
			fit_f64(X + j0, p, nb, rows, n_rows, ddof, t.shift + j0, t.scale + j0, dtmp);
		if (n_prob)
			fclassif_block(X, p, rows, n_rows, ypm, n_prob, &t, cnt, j0, nb, acc, F);
	}
	nidec_scaler_release(s);
	*s = t;
	t = (nidec_scaler)NIDEC_SCALER_INIT;
	rc = 0;
done:
	nidec_scaler_release(&t);
	nidec_free(acc);
	nidec_free(dtmp);
	nidec_free(ftmp);
	nidec_free(cnt);
	return rc;
}

/* ---- per-run statistics ------------------------------------------------ */

void nidec_runstats_release(nidec_runstats *rs)
{
	nidec_free(rs->count);
	nidec_free(rs->mean);
	nidec_free(rs->m2);
	memset(rs, 0, sizeof(*rs));
}

int nidec_runstats_fit(nidec_runstats *rs, const float *X, size_t n, size_t p, const int *run_of,
		       size_t n_runs, nidec_err *err)
{
	nidec_runstats t = NIDEC_RUNSTATS_INIT;
	double *corr;
	size_t i, j, r, rp;

	if (nidec_mul_size(n_runs, p, &rp) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "per-run statistics overflow");
	t.n_runs = n_runs;
	t.p = p;
	t.count = nidec_calloc_e(n_runs ? n_runs : 1, sizeof(size_t), "per-run statistics", err);
	t.mean = nidec_calloc_e(rp ? rp : 1, sizeof(double), "per-run statistics", err);
	t.m2 = nidec_calloc_e(rp ? rp : 1, sizeof(double), "per-run statistics", err);
	corr = nidec_calloc_e(rp ? rp : 1, sizeof(double), "per-run statistics", err);
	if (!t.count || !t.mean || !t.m2 || !corr) {
		nidec_free(corr);
		nidec_runstats_release(&t);
		return NIDEC_ENOMEM;
	}
	/* pass 1: sums; pass 2: centred sums and squares, with the
	 * compensation term as fit_f64 */
	for (i = 0; i < n; i++) {
		r = (size_t)run_of[i];
		t.count[r]++;
		col_sum_d(t.mean + r * p, X + i * p, p);
	}
	for (r = 0; r < n_runs; r++)
		for (j = 0; j < p && t.count[r]; j++)
			t.mean[r * p + j] /= (double)t.count[r];
	for (i = 0; i < n; i++) {
		r = (size_t)run_of[i];
		col_centre_d(corr + r * p, t.m2 + r * p, X + i * p, t.mean + r * p, p);
	}
	for (r = 0; r < n_runs; r++)
		for (j = 0; j < p && t.count[r]; j++) {
			double c = corr[r * p + j], m2 = t.m2[r * p + j] - c * c / (double)t.count[r];
			t.m2[r * p + j] = m2 > 0 ? m2 : 0.0;
		}
	nidec_free(corr);
	nidec_runstats_release(rs);
	*rs = t;
	return 0;
}

int nidec_runstats_scaler(const nidec_runstats *rs, const unsigned char *use, int standardize,
			  nidec_scaler *s, nidec_err *err)
{
	nidec_scaler t = NIDEC_SCALER_INIT;
	size_t p = rs->p, n = 0, r, j;
	int ddof;

	for (r = 0; r < rs->n_runs; r++)
		n += use[r] ? rs->count[r] : 0;
	NIDEC_TRY(ddof_of(standardize, n, &ddof, err));
	t.p = p;
	t.shift = nidec_calloc_e(p ? p : 1, sizeof(double), "voxel means", err);
	t.scale = nidec_calloc_e(p ? p : 1, sizeof(double), "voxel standard deviations", err);
	if (!t.shift || !t.scale) {
		nidec_scaler_release(&t);
		return NIDEC_ENOMEM;
	}
	/* combine the runs in order: mean in shift, sum of squares in scale */
	n = 0;
	for (r = 0; r < rs->n_runs; r++) {
		const double *mr = rs->mean + r * p, *qr = rs->m2 + r * p;
		double nb = (double)rs->count[r], na = (double)n, nt = na + nb;
		if (!use[r] || rs->count[r] == 0)
			continue;
		if (n == 0) {
			memcpy(t.shift, mr, p * sizeof(double));
			memcpy(t.scale, qr, p * sizeof(double));
		} else {
			for (j = 0; j < p; j++) {
				double d = mr[j] - t.shift[j];
				t.shift[j] += d * (nb / nt);
				t.scale[j] += qr[j] + d * d * (na * nb / nt);
			}
		}
		n += rs->count[r];
	}
	for (j = 0; j < p; j++) {
		double sd = sqrt(t.scale[j] / (double)(n - (size_t)ddof));
		t.scale[j] = sd < DBL_EPSILON ? 1.0 : sd;
	}
	nidec_scaler_release(s);
	*s = t;
	return 0;
}

/* ---- one-vs-rest F from class sums ------------------------------------- */

int nidec_prep_fclassif_ovr(const float *X, size_t p, const size_t *rows, size_t n_rows,
			    const int *cls, size_t K, const double *centre, size_t n_prob,
			    const int *pos, double *F, nidec_err *err)
{
	double *acc, *zero;
	size_t *cnt, i, q, c, b, j0;
	int rc = 0;

	if (n_prob == 0)
		return 0;
	cnt = nidec_calloc_e(K, sizeof(*cnt), "ANOVA counts", err);
	acc = nidec_malloc_e(2 * K * FBLOCK, sizeof(double), "ANOVA sums", err);
	zero = nidec_calloc_e(FBLOCK, sizeof(double), "ANOVA sums", err);
	if (!cnt || !acc || !zero) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (i = 0; i < n_rows; i++)
		cnt[cls[i]]++;
	for (q = 0; q < n_prob; q++) {
		size_t c1 = cnt[pos[q]];
		if (c1 == 0 || c1 == n_rows || n_rows < 3) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"ANOVA screening needs both classes and at least 3 training samples (has %zu and %zu)",
					c1, n_rows - c1);
			goto done;
		}
	}
	for (j0 = 0; j0 < p; j0 += FBLOCK) {
		size_t nb = p - j0 < FBLOCK ? p - j0 : FBLOCK;
		const double *m = centre ? centre + j0 : zero;
		memset(acc, 0, 2 * K * FBLOCK * sizeof(double));
		for (i = 0; i < n_rows; i++) {
			double *a = acc + 2 * (size_t)cls[i] * FBLOCK;
			col_centre_d(a, a + FBLOCK, X + rows[i] * p + j0, m, nb); /* sum, squares */
		}
		/* sklearn.feature_selection.f_oneway on the two groups */
		for (q = 0; q < n_prob; q++) {
			const double *s1 = acc + 2 * (size_t)pos[q] * FBLOCK, *ss1 = s1 + FBLOCK;
			double n = (double)n_rows, n1 = (double)cnt[pos[q]], n0 = n - n1;
			for (b = 0; b < nb; b++) {
				double s0 = 0, ss0 = 0, s_all, sstot, ssbn, sswn;
				for (c = 0; c < K; c++)
					if ((int)c != pos[q]) {
						s0 += acc[2 * c * FBLOCK + b];
						ss0 += acc[(2 * c + 1) * FBLOCK + b];
					}
				s_all = s0 + s1[b];
				sstot = (ss0 + ss1[b]) - s_all * s_all / n;
				ssbn = s0 * s0 / n0 + s1[b] * s1[b] / n1 - s_all * s_all / n;
				sswn = sstot - ssbn;
				F[q * p + j0 + b] = ssbn / (sswn / (double)(n_rows - 2));
			}
		}
	}
done:
	nidec_free(cnt);
	nidec_free(acc);
	nidec_free(zero);
	return rc;
}

/*
 * The k-th smallest of a[0..n) (no NaN), a reordered: quickselect with a
 * median-of-three pivot and a three-way partition (F scores repeat, e.g.
 * constant voxels), O(n) on average.  Afterwards a[k] is that value and
 * everything after position k is >= a[k], as after a sort.
 */
static double select_kth(double *a, size_t n, size_t k)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1) {
		double x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi - 1], piv, t;
		size_t lt = lo, i = lo, gt = hi;

		piv = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
		while (i < gt) {
			if (a[i] < piv) {
				t = a[lt];
				a[lt++] = a[i];
				a[i++] = t;
			} else if (a[i] > piv) {
				t = a[--gt];
				a[gt] = a[i];
				a[i] = t;
			} else {
				i++;
			}
		}
		if (k < lt)
			hi = lt;
		else if (k >= gt)
			lo = gt;
		else
			return piv;
	}
	return a[k];
}

int nidec_prep_select_percentile(const double *F, size_t p, double percentile,
				 size_t **feat, size_t *n_feat, nidec_err *err)
{
	double *sorted, *clean, q, h, gamma, a, b, diff, thr;
	long prev, next;
	size_t i, n_keep = 0, max_feats, n_ties = 0, ties_to_keep;
	size_t *keep;
	long k;

	if (p == 0)
		return nidec_fail(err, NIDEC_EINPUT, "screening: no voxel to select from");
	keep = nidec_malloc_e(p, sizeof(*keep), "selected voxels", err);
	if (!keep)
		return NIDEC_ENOMEM;
	if (percentile >= 100.0) {
		for (i = 0; i < p; i++)
			keep[i] = i;
		*feat = keep;
		*n_feat = p;
		return 0;
	}
	if (percentile <= 0.0) {
		*feat = keep;
		*n_feat = 0;
		return 0;
	}
	sorted = nidec_malloc_e(2 * p, sizeof(double), "F scores", err);
	if (!sorted) {
		nidec_free(keep);
		return NIDEC_ENOMEM;
	}
	clean = sorted + p;
	/* _clean_nans: NaN -> the lowest finite double */
	for (i = 0; i < p; i++)
		clean[i] = isnan(F[i]) ? -DBL_MAX : F[i];
	memcpy(sorted, clean, p * sizeof(double));

	/* numpy.percentile(scores, 100 - percentile), method 'linear' */
	q = (100.0 - percentile) / 100.0;
	h = (double)(p - 1) * q;
	prev = (long)floor(h);
	next = prev + 1;
	if (h >= (double)(p - 1)) {
		prev = next = -1;
	} else if (h < 0) {
		prev = next = 0;
	}
	gamma = h - (double)prev;
	/* the two order statistics numpy's sort would put at prev and next */
	{
		size_t ka = (size_t)(prev < 0 ? (long)p - 1 : prev);
		size_t kb = (size_t)(next < 0 ? (long)p - 1 : next);
		a = select_kth(sorted, p, ka);
		if (kb == ka) {
			b = a;
		} else {
			/* kb = ka + 1: the smallest value after position ka */
			size_t t;
			b = sorted[ka + 1];
			for (t = ka + 2; t < p; t++)
				if (sorted[t] < b)
					b = sorted[t];
		}
	}
	/* numpy's _lerp */
	diff = b - a;
	if (gamma >= 0.5)
		thr = b - diff * (1.0 - gamma);
	else
		thr = a + diff * gamma;

	for (i = 0; i < p; i++) {
		if (clean[i] > thr)
			n_keep++;
		else if (clean[i] == thr)
			n_ties++;
	}
	/* ties[: max_feats - mask.sum()] with python's slice rule for a
	 * negative stop (drops that many ties from the end) */
	max_feats = (size_t)(((double)p * percentile) / 100.0);
	k = (long)max_feats - (long)n_keep;
	if (k >= 0)
		ties_to_keep = (size_t)k < n_ties ? (size_t)k : n_ties;
	else
		ties_to_keep = (size_t)(-k) < n_ties ? n_ties - (size_t)(-k) : 0;
	{
		size_t m = 0, t = 0;
		for (i = 0; i < p; i++) {
			if (clean[i] > thr) {
				keep[m++] = i;
			} else if (clean[i] == thr) {
				if (t < ties_to_keep)
					keep[m++] = i;
				t++;
			}
		}
		*n_feat = m;
	}
	nidec_free(sorted);
	*feat = keep;
	return 0;
}

double nidec_prep_nilearn_percentile(double percentile, size_t n_voxels,
				     double voxel_volume_mm3)
{
	double volume = voxel_volume_mm3 * (double)n_voxels, pct = percentile;

	if (pct >= 100.0)
		return pct;
	/* nilearn adjust_screening_percentile, then int() in check_feature_screening */
	pct = pct * (NIDEC_MNI152_BRAIN_VOLUME_MM3 / volume);
	if (pct > 100.0)
		pct = 100.0;
	return floor(pct);
}
