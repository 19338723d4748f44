/*
 * test_core_prep.c - standardisation and ANOVA screening against numpy /
 * scikit-learn (expected values printed by python3 with float.hex / repr).
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nidec/cfg.h"
#include "nidec/mem.h"
#include "nidec/prep.h"

/* 6 samples x 4 voxels; voxel 1 is constant (3.1) */
static const float X6[24] = {
	1.5f, 3.1f, -2, 7, 2.25f, 3.1f, -1, 7.5f, 0.1f, 3.1f, 4, 6,
	4.4f, 3.1f, 0.5f, 9, 3.3f, 3.1f, 2.5f, 1, 0.7f, 3.1f, -3, 2,
};
static const size_t rows6[6] = { 0, 1, 2, 3, 4, 5 };

/* nilearn: float32 X - X.mean(0), / X.std(0, ddof=1), C-ordered float32.
 * The constant voxel is not 0 but -2^-22: numpy's float32 mean of six 3.1f
 * is one ulp off, and nilearn keeps that (std < eps -> 1). */
static void test_core_prep__zscore_sample_f32_bitwise(void **state)
{
	static const double expect[24] = {
		-0x1.574d7cp-2, -0x1p-22, -0x1.9b85f8p-1, 0x1.faa02p-2,
		0x1.08143p-3, -0x1p-22, -0x1.bb2dcep-2, 0x1.4d4e66p-1,
		-0x1.33a6e8p+0, -0x1p-22, 0x1.6c0a32p+0, 0x1.754d96p-3,
		0x1.75abf6p+0, -0x1p-22, 0x1.fa7d7ep-4, 0x1.1ea4b2p+0,
		0x1.8ec25ap-1, -0x1p-22, 0x1.bb2dcep-1, -0x1.614df8p+0,
		-0x1.a92ac8p-1, -0x1p-22, -0x1.2cba84p+0, -0x1.114fa2p+0,
	};
	nidec_scaler s = NIDEC_SCALER_INIT;
	nidec_err err = NIDEC_ERR_INIT;
	size_t i, j;

	(void)state;
	assert_int_equal(nidec_scaler_fit(&s, X6, 4, rows6, 6, NIDEC_STD_ZSCORE_SAMPLE, 1, &err), 0);
	assert_true(s.scale_f[1] == 1.0f);
	for (i = 0; i < 6; i++)
		for (j = 0; j < 4; j++)
			assert_true(nidec_prep_value(&s, X6[i * 4 + j], j) == expect[i * 4 + j]);
	nidec_scaler_release(&s);
	nidec_scaler_release(&s);
}

/* double, ddof 0 (StandardScaler); the constant voxel becomes exactly 0 */
static void test_core_prep__zscore_f64_constant_voxel(void **state)
{
	static const double expect[24] = {
		-0.36725508342370666, 0.0, -0.8804710999221751, 0.541973010115873,
		0.14125194933423685, 0.0, -0.4740998230350174, 0.7131223817314118,
		-1.316468210228222, 0.0, 1.5577565614007716, 0.19967426688479525,
		1.5989721745670211, 0.0, 0.13545709229571928, 1.2265704965780284,
		0.8531617628653513, 0.0, 0.9481996460700348, -1.5118194492705934,
		-0.9096625931146813, 0.0, -1.2868423768093329, -1.1695207060395156,
	};
	nidec_scaler s = NIDEC_SCALER_INIT;
	nidec_err err = NIDEC_ERR_INIT;
	size_t i, j;

	(void)state;
	assert_int_equal(nidec_scaler_fit(&s, X6, 4, rows6, 6, NIDEC_STD_ZSCORE, 0, &err), 0);
	for (i = 0; i < 6; i++)
		for (j = 0; j < 4; j++) {
			double v = nidec_prep_value(&s, X6[i * 4 + j], j);
			assert_false(isnan(v));
			assert_true(fabs(v - expect[i * 4 + j]) <= 4e-16);
			if (j == 1)
				assert_true(v == 0.0);
		}
	nidec_scaler_release(&s);
}

/* statistics from a row subset, applied to other rows */
static void test_core_prep__train_rows_only(void **state)
{
	size_t train[3] = { 0, 2, 4 };
	nidec_scaler s = NIDEC_SCALER_INIT;
	nidec_err err = NIDEC_ERR_INIT;
	double m = (1.5 + (double)0.1f + (double)3.3f) / 3;

	(void)state;
	assert_int_equal(nidec_scaler_fit(&s, X6, 4, train, 3, NIDEC_STD_ZSCORE_SAMPLE, 0, &err), 0);
	assert_true(fabs(s.shift[0] - m) < 1e-15);
	/* row 1 (not in the fit) uses the training statistics */
	assert_true(fabs(nidec_prep_value(&s, X6[4], 0) - (2.25 - m) / s.scale[0]) < 1e-15);
	assert_int_equal(nidec_scaler_fit(&s, X6, 4, train, 1, NIDEC_STD_ZSCORE_SAMPLE, 0, &err),
			 NIDEC_EINPUT);
	nidec_scaler_release(&s);
}

/* sklearn f_classif on the nilearn-standardised matrix */
static void test_core_prep__fclassif(void **state)
{
	signed char y[6] = { 1, 1, -1, 1, -1, -1 };
	nidec_scaler s = NIDEC_SCALER_INIT;
	nidec_err err = NIDEC_ERR_INIT;
	double F[4];

	(void)state;
	assert_int_equal(nidec_scaler_fit(&s, X6, 4, rows6, 6, NIDEC_STD_ZSCORE_SAMPLE, 1, &err), 0);
	assert_int_equal(nidec_prep_fclassif(X6, 4, rows6, 6, y, &s, F, &err), 0);
	assert_true(fabs(F[0] - 1.0597641814488066) < 1e-13);
	assert_true(isnan(F[1])); /* constant voxel: 0/0 */
	assert_true(fabs(F[2] - 0.7912087089602206) < 1e-13);
	assert_true(fabs(F[3] - 8.670103112772852) < 1e-12);
	nidec_scaler_release(&s);
}

static void select_pct(const double *F, size_t p, double pct, size_t *n, size_t **feat)
{
	nidec_err err = NIDEC_ERR_INIT;

	assert_int_equal(nidec_prep_select_percentile(F, p, pct, feat, n, &err), 0);
}

/* SelectPercentile: interpolated threshold, strict >, ties in voxel order,
 * NaN lowest (expected sets printed by scikit-learn 1.2.1) */
static void test_core_prep__select_percentile_ties(void **state)
{
	double F[10] = { 5, 1, 3, 3, 3, 0, NAN, 3, 2, 4 };
	double G[10] = { 9, 9, 9, 1, 1, 1, 1, 1, 1, 1 };
	size_t n, *feat;

	(void)state;
	select_pct(F, 10, 30, &n, &feat); /* [0 2 9] */
	assert_int_equal(n, 3);
	assert_int_equal(feat[0], 0);
	assert_int_equal(feat[1], 2);
	assert_int_equal(feat[2], 9);
	nidec_free(feat);
	select_pct(F, 10, 50, &n, &feat); /* [0 2 3 4 9] */
	assert_int_equal(n, 5);
	assert_int_equal(feat[3], 4);
	nidec_free(feat);
	select_pct(G, 10, 20, &n, &feat); /* threshold 9, nothing above: first 2 ties */
	assert_int_equal(n, 2);
	assert_int_equal(feat[1], 1);
	nidec_free(feat);
	select_pct(G, 10, 100, &n, &feat);
	assert_int_equal(n, 10);
	nidec_free(feat);
}

/* More voxels above the threshold than int(p * pct / 100): sklearn's
 * ties[: max_feats - mask.sum()] with a negative stop drops ties from the
 * end.  129 voxels, percentile 17: 22 above, 3 tied, keeps 24. */
static void test_core_prep__select_percentile_negative_slice(void **state)
{
	static const size_t expect[24] = { 2, 7, 12, 17, 19, 24, 29, 34, 41, 46, 51, 58,
					   63, 68, 73, 80, 85, 90, 97, 102, 107, 114, 119, 124 };
	double F[129], Fp[129];
	size_t i, n, *feat;

	(void)state;
	for (i = 0; i < 129; i++)
		F[i] = (double)i;
	for (i = 104; i < 107; i++)
		F[i] = 1e16;
	for (i = 107; i < 129; i++)
		F[i] = 1e16 + 2 + (double)(i - 107) * 4;
	for (i = 0; i < 129; i++)
		Fp[i] = F[(i * 53) % 129];
	select_pct(Fp, 129, 17, &n, &feat);
	assert_int_equal(n, 24);
	for (i = 0; i < 24; i++)
		assert_int_equal(feat[i], expect[i]);
	nidec_free(feat);
	/* the held-out 25 mm case of the semantics doc: 129 voxels, 18 % -> 24 */
	for (i = 0; i < 129; i++)
		F[i] = (double)((i * 7919) % 1009) / 7.0;
	select_pct(F, 129, 18, &n, &feat);
	assert_int_equal(n, 24);
	nidec_free(feat);
}

/* the one-pass F of several problems has the bits of one call per
 * problem: double and float32 scalers, a constant voxel, p not a multiple
 * of the pass's block */
static void test_core_prep__fclassif_multi_bitwise(void **state)
{
	enum { N = 23, P = 300, Q = 3 };
	static float X[N * P];
	size_t rows[N], i, j, q;
	signed char ypm[Q * N];
	double Fm[Q * P], F1[P];
	nidec_err err = NIDEC_ERR_INIT;
	int f32;

	(void)state;
	for (i = 0; i < N; i++) {
		rows[i] = N - 1 - i; /* any row order */
		for (j = 0; j < P; j++)
			X[i * P + j] = j == 7 ? 2.5f : (float)sin((double)(i * P + j) * 0.37) * (float)(1 + j % 5);
		for (q = 0; q < Q; q++)
			ypm[q * N + i] = (i + q) % (q + 2) == 0 ? 1 : -1;
	}
	for (f32 = 0; f32 <= 1; f32++) {
		nidec_scaler s = NIDEC_SCALER_INIT;
		assert_int_equal(nidec_scaler_fit(&s, X, P, rows, N, NIDEC_STD_ZSCORE_SAMPLE, f32, &err), 0);
		assert_int_equal(nidec_prep_fclassif_multi(X, P, rows, N, ypm, Q, &s, Fm, &err), 0);
		for (q = 0; q < Q; q++) {
			assert_int_equal(nidec_prep_fclassif(X, P, rows, N, ypm + q * N, &s, F1, &err), 0);
			assert_memory_equal(Fm + q * P, F1, P * sizeof(double));
		}
		/* statistics and F fused in one pass: the same bits */
		{
			nidec_scaler s2 = NIDEC_SCALER_INIT;
			double F2[Q * P];
			assert_int_equal(nidec_prep_fit_fclassif(&s2, X, P, rows, N, NIDEC_STD_ZSCORE_SAMPLE,
								 f32, ypm, Q, F2, &err), 0);
			assert_memory_equal(F2, Fm, sizeof(F2));
			if (f32) {
				assert_memory_equal(s2.shift_f, s.shift_f, P * sizeof(float));
				assert_memory_equal(s2.scale_f, s.scale_f, P * sizeof(float));
			} else {
				assert_memory_equal(s2.shift, s.shift, P * sizeof(double));
				assert_memory_equal(s2.scale, s.scale, P * sizeof(double));
			}
			nidec_scaler_release(&s2);
		}
		nidec_scaler_release(&s);
	}
	/* a problem without one of the groups is refused */
	memset(ypm + N, 1, N);
	assert_int_equal(nidec_prep_fclassif_multi(X, P, rows, N, ypm, Q, NULL, Fm, &err), NIDEC_EINPUT);
}

/* Relative closeness: |a - b| <= tol * max(|a|, |b|, 1e-300), NaN == NaN. */
static int close_rel(double a, double b, double tol)
{
	double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);

	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return fabs(a - b) <= tol * (m > 1e-300 ? m : 1e-300);
}

/* Per-run statistics combined over whole runs, and the one-vs-rest F from
 * class sums, equal the row-by-row scaler and F to rounding (1e-12
 * relative: the same sums in another order), on data with a large offset
 * (cancellation), a constant voxel (scale 1, F NaN) and a voxel constant
 * within one run. */
static void test_core_prep__runstats_and_ovr_f(void **state)
{
	enum { RUNS = 5, PER = 9, N = RUNS * PER, P = 70, K = 3 };
	static float X[N * P];
	int run_of[N], cls[N], pos[K] = { 0, 1, 2 };
	size_t rows[N], n_rows = 0, i, j, q;
	unsigned char use[RUNS] = { 1, 0, 1, 1, 1 };
	signed char ypm[K * N];
	double Fo[K * P], Fm[K * P];
	nidec_runstats rs = NIDEC_RUNSTATS_INIT;
	nidec_scaler a = NIDEC_SCALER_INIT, b = NIDEC_SCALER_INIT;
	nidec_err err = NIDEC_ERR_INIT;

	(void)state;
	for (i = 0; i < N; i++) {
		run_of[i] = (int)(i / PER);
		cls[i] = (int)((i * 7 + 3) % K);
		for (j = 0; j < P; j++)
			X[i * P + j] = j == 3 ? 1234.5f
				     : j == 4 && run_of[i] == 2 ? 7.0f
				     : (float)(800.0 + 40.0 * sin((double)(i * P + j) * 0.61) +
					       (j % 4 == 0 ? 5.0 * cls[i] : 0.0));
	}
	assert_int_equal(nidec_runstats_fit(&rs, X, N, P, run_of, RUNS, &err), 0);
	for (i = 0; i < N; i++)
		if (use[run_of[i]])
			rows[n_rows++] = i;
	assert_int_equal(nidec_runstats_scaler(&rs, use, NIDEC_STD_ZSCORE_SAMPLE, &a, &err), 0);
	assert_int_equal(nidec_scaler_fit(&b, X, P, rows, n_rows, NIDEC_STD_ZSCORE_SAMPLE, 0, &err), 0);
	for (j = 0; j < P; j++) {
		assert_true(close_rel(a.shift[j], b.shift[j], 1e-14));
		assert_true(close_rel(a.scale[j], b.scale[j], 1e-12));
	}
	assert_true(a.scale[3] == 1.0 && a.shift[3] == 1234.5);

	/* F of each class against the rest, from the standardised rows */
	for (q = 0; q < K; q++)
		for (i = 0; i < n_rows; i++)
			ypm[q * n_rows + i] = cls[rows[i]] == (int)q ? 1 : -1;
	assert_int_equal(nidec_prep_fclassif_multi(X, P, rows, n_rows, ypm, K, &b, Fm, &err), 0);
	{
		int c_rows[N];
		for (i = 0; i < n_rows; i++)
			c_rows[i] = cls[rows[i]];
		assert_int_equal(nidec_prep_fclassif_ovr(X, P, rows, n_rows, c_rows, K, a.shift, K, pos,
							 Fo, &err), 0);
		for (i = 0; i < K * P; i++)
			assert_true(close_rel(Fo[i], Fm[i], 1e-9));
		assert_true(isnan(Fo[3]) && isnan(Fo[P + 3]));
		/* a class that is all or none of the rows is refused */
		for (i = 0; i < n_rows; i++)
			c_rows[i] = 1;
		assert_int_equal(nidec_prep_fclassif_ovr(X, P, rows, n_rows, c_rows, K, a.shift, K, pos,
							 Fo, &err), NIDEC_EINPUT);
	}
	nidec_scaler_release(&a);
	nidec_scaler_release(&b);
	nidec_runstats_release(&rs);
	nidec_runstats_release(&rs);
}

/* the selection (quickselect for the threshold) equals a full sort's, on
 * random scores with many ties and NaN, for many percentiles */
static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void test_core_prep__select_percentile_vs_sort(void **state)
{
	enum { P = 257 };
	double F[P], clean[P], sorted[P];
	size_t trial;

	(void)state;
	for (trial = 0; trial < 200; trial++) {
		double pct = 1 + (double)(trial % 99), q, h, gamma, a, b, thr;
		size_t i, n, *feat, above = 0, ties = 0, max_feats, keep_ties, m = 0;
		long prev, next, k;

		for (i = 0; i < P; i++) {
			unsigned v = (unsigned)((i * 2654435761u + trial * 40503u) >> 7);
			F[i] = trial % 3 == 0 ? (double)(v % 13) : (double)(v % 1000) / 7.0;
			if ((v % 17) == 0)
				F[i] = NAN;
			clean[i] = isnan(F[i]) ? -DBL_MAX : F[i];
		}
		/* the reference: numpy.percentile by a full sort */
		memcpy(sorted, clean, sizeof(sorted));
		qsort(sorted, P, sizeof(double), cmp_d);
		q = (100.0 - pct) / 100.0;
		h = (double)(P - 1) * q;
		prev = (long)floor(h);
		next = prev + 1;
		gamma = h - (double)prev;
		a = sorted[prev];
		b = sorted[next < P ? next : P - 1];
		thr = gamma >= 0.5 ? b - (b - a) * (1.0 - gamma) : a + (b - a) * gamma;
		for (i = 0; i < P; i++) {
			above += clean[i] > thr;
			ties += clean[i] == thr;
		}
		max_feats = (size_t)(((double)P * pct) / 100.0);
		k = (long)max_feats - (long)above;
		keep_ties = k >= 0 ? ((size_t)k < ties ? (size_t)k : ties)
				   : ((size_t)(-k) < ties ? ties - (size_t)(-k) : 0);
		select_pct(F, P, pct, &n, &feat);
		for (i = 0; i < P; i++)
			if (clean[i] > thr || (clean[i] == thr && keep_ties > 0 && keep_ties--)) {
				assert_true(m < n);
				assert_int_equal(feat[m], i);
				m++;
			}
		assert_int_equal(m, n);
		nidec_free(feat);
	}
}

static void test_core_prep__nilearn_percentile(void **state)
{
	(void)state;
	/* the slice: 530 voxels of 43.59 mm3 -> 1630 % -> 100 (no screening) */
	assert_true(nidec_prep_nilearn_percentile(20, 530, 43.59374865889549) == 100.0);
	/* 25 mm data: 129 voxels of 15625 mm3 -> 18.68 -> 18 */
	assert_true(nidec_prep_nilearn_percentile(20, 129, 15625.0) == 18.0);
	assert_true(nidec_prep_nilearn_percentile(100, 129, 15625.0) == 100.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_prep__zscore_sample_f32_bitwise),
		cmocka_unit_test(test_core_prep__zscore_f64_constant_voxel),
		cmocka_unit_test(test_core_prep__train_rows_only),
		cmocka_unit_test(test_core_prep__fclassif),
		cmocka_unit_test(test_core_prep__select_percentile_ties),
		cmocka_unit_test(test_core_prep__select_percentile_negative_slice),
		cmocka_unit_test(test_core_prep__nilearn_percentile),
		cmocka_unit_test(test_core_prep__fclassif_multi_bitwise),
		cmocka_unit_test(test_core_prep__select_percentile_vs_sort),
		cmocka_unit_test(test_core_prep__runstats_and_ovr_f),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
