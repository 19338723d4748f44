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
#include "nidec/prep.h"

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

/* numpy float32: mean, a second centring as numpy's std, float32 sqrt. */
static void fit_f32(const float *X, size_t p, const size_t *rows, size_t n, int ddof,
		    float *mean, float *sd, float *acc)
{
	size_t i, j;
	float fn = (float)n, fdf = (float)(n - (size_t)ddof);

	/* signals.mean(axis=0): sequential float32 sums, float32 division */
	memset(acc, 0, p * sizeof(*acc));
	for (i = 0; i < n; i++) {
		const float *x = X + rows[i] * p;
		for (j = 0; j < p; j++)
			acc[j] += x[j];
	}
	for (j = 0; j < p; j++)
		mean[j] = acc[j] / fn;
	/* (signals - mean).std(axis=0, ddof): numpy's _var recentres the
	 * already centred data on its own float32 mean */
	memset(acc, 0, p * sizeof(*acc));
	for (i = 0; i < n; i++) {
		const float *x = X + rows[i] * p;
		for (j = 0; j < p; j++) {
			float c = x[j] - mean[j];
			acc[j] += c;
		}
	}
	for (j = 0; j < p; j++)
		sd[j] = acc[j] / fn; /* second mean, kept in sd for now */
	memset(acc, 0, p * sizeof(*acc));
	for (i = 0; i < n; i++) {
		const float *x = X + rows[i] * p;
		for (j = 0; j < p; j++) {
			float c = x[j] - mean[j];
			float d = c - sd[j];
			float sq = d * d;
			acc[j] += sq;
		}
	}
	for (j = 0; j < p; j++) {
		float var = acc[j] / fdf;
		float s = sqrtf(var);
		/* nilearn: std[std < np.finfo(np.float64).eps] = 1.0 */
		sd[j] = (double)s < DBL_EPSILON ? 1.0f : s;
	}
}

/* double: two-pass with the compensation term, as StandardScaler. */
static void fit_f64(const float *X, size_t p, const size_t *rows, size_t n, int ddof,
		    double *mean, double *sd, double *corr)
{
	size_t i, j;
	double dn = (double)n;

	memset(mean, 0, p * sizeof(*mean));
	for (i = 0; i < n; i++) {
		const float *x = X + rows[i] * p;
		for (j = 0; j < p; j++)
			mean[j] += (double)x[j];
	}
	for (j = 0; j < p; j++)
		mean[j] /= dn;
	memset(corr, 0, p * sizeof(*corr));
	memset(sd, 0, p * sizeof(*sd));
	for (i = 0; i < n; i++) {
		const float *x = X + rows[i] * p;
		for (j = 0; j < p; j++) {
			double d = (double)x[j] - mean[j];
			corr[j] += d;
			sd[j] += d * d;
		}
	}
	for (j = 0; j < p; j++) {
		double ss = sd[j] - corr[j] * corr[j] / dn;
		double s = sqrt(ss > 0 ? ss / (double)(n - (size_t)ddof) : 0.0);
		sd[j] = s < DBL_EPSILON ? 1.0 : s;
	}
}

int nidec_scaler_fit(nidec_scaler *s, const float *X, size_t p, const size_t *rows,
		     size_t n_rows, int standardize, int f32, nidec_err *err)
{
	nidec_scaler t = NIDEC_SCALER_INIT;
	int ddof;

	if (standardize == NIDEC_STD_ZSCORE)
		ddof = 0;
	else if (standardize == NIDEC_STD_ZSCORE_SAMPLE)
		ddof = 1;
	else
		return nidec_fail(err, NIDEC_EINTERNAL, "scaler: unknown standardisation %d", standardize);
	if (n_rows < (size_t)ddof + 1)
		return nidec_fail(err, NIDEC_EINPUT,
				  "cannot standardize %zu sample%s with %s; the training part needs at least %d samples",
				  n_rows, n_rows == 1 ? "" : "s",
				  ddof ? "zscore_sample" : "zscore", ddof + 1);
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
		fit_f32(X, p, rows, n_rows, ddof, t.shift_f, t.scale_f, acc);
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
		fit_f64(X, p, rows, n_rows, ddof, t.shift, t.scale, corr);
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
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
	sorted = nidec_malloc_e(2 * p, sizeof(double), "sorted F scores", err);
	if (!sorted) {
		nidec_free(keep);
		return NIDEC_ENOMEM;
	}
	clean = sorted + p;
	/* _clean_nans: NaN -> the lowest finite double */
	for (i = 0; i < p; i++)
		clean[i] = isnan(F[i]) ? -DBL_MAX : F[i];
	memcpy(sorted, clean, p * sizeof(double));
	qsort(sorted, p, sizeof(double), cmp_double);

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
	a = sorted[prev < 0 ? (long)p - 1 : prev];
	b = sorted[next < 0 ? (long)p - 1 : next];
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
