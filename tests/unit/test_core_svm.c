/*
 * test_core_svm.c - liblinear wrapper and our dual coordinate descent.
 *
 * The key case: nidec_dcd_l2svc repeats liblinear 2.3.0's solver
 * operation for operation, so with the same srand() seed and a fit that
 * converges within liblinear's 1000 iterations both give the same weights
 * bit for bit.
 */
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
#include "nidec/rng.h"
#include "nidec/svm.h"

#define NS 60
#define NF 9

static float X[NS * NF];
static signed char Y[NS];
static size_t rows[NS];

/* a noisy linear problem: label = sign(x . v + noise), first sample -1 */
static int setup(void **state)
{
	nidec_rng r;
	size_t i, j;

	(void)state;
	nidec_rng_seed(&r, 7);
	for (i = 0; i < NS; i++) {
		double s = 0;
		for (j = 0; j < NF; j++) {
			X[i * NF + j] = (float)(nidec_rng_uniform(&r) * 4 - 2);
			s += X[i * NF + j] * (double)(j % 3 == 0 ? 1 : -0.5);
		}
		s += nidec_rng_uniform(&r) * 2 - 1;
		Y[i] = s > 0 ? 1 : -1;
		rows[i] = i;
	}
	if (Y[0] > 0) { /* liblinear would then keep +1 first: force the swap case */
		for (j = 0; j < NF; j++)
			X[j] = -X[j];
		Y[0] = -1;
	}
	return 0;
}

static nidec_view view_all(const nidec_scaler *s)
{
	nidec_view v;

	v.X = X;
	v.p = NF;
	v.rows = rows;
	v.n_rows = NS;
	v.feat = NULL;
	v.n_feat = NF;
	v.scaler = s;
	return v;
}

static nidec_svm_param param(int est, int solver, double C)
{
	nidec_svm_param p;

	p.estimator = est;
	p.solver = solver;
	p.C = C;
	p.tol = 1e-4;
	p.max_iter = 1000;
	p.liblinear_order = 1;
	p.seed = 12345;
	return p;
}

static void test_core_svm__dcd_equals_liblinear_bitwise(void **state)
{
	nidec_view v = view_all(NULL);
	nidec_svm_model a = NIDEC_SVM_MODEL_INIT, b = NIDEC_SVM_MODEL_INIT;
	nidec_svm_param pa = param(NIDEC_EST_SVC, NIDEC_SVM_LIBLINEAR, 1.0);
	nidec_svm_param pb = param(NIDEC_EST_SVC, NIDEC_SVM_DCD, 1.0);
	nidec_err err = NIDEC_ERR_INIT;
	size_t j;

	(void)state;
	assert_int_equal(nidec_svm_train(&v, Y, &pa, &a, &err), 0);
	assert_int_equal(nidec_svm_train(&v, Y, &pb, &b, &err), 0);
	assert_true(a.converged && b.converged);
	assert_int_equal(a.n_iter, b.n_iter);
	for (j = 0; j < NF; j++)
		assert_memory_equal(&a.w[j], &b.w[j], sizeof(double));
	assert_memory_equal(&a.b, &b.b, sizeof(double));
	/* the fast dot product: the same optimum within the tolerance */
	pb.liblinear_order = 0;
	assert_int_equal(nidec_svm_train(&v, Y, &pb, &b, &err), 0);
	for (j = 0; j < NF; j++)
		assert_true(fabs(a.w[j] - b.w[j]) < 1e-4 * (1 + fabs(a.w[j])));
	nidec_svm_model_release(&a);
	nidec_svm_model_release(&b);
}

/* same seed, same weights; another seed, other rounding but the same optimum */
static void test_core_svm__seeded(void **state)
{
	nidec_view v = view_all(NULL);
	nidec_svm_model a = NIDEC_SVM_MODEL_INIT, b = NIDEC_SVM_MODEL_INIT;
	nidec_svm_param p = param(NIDEC_EST_SVC, NIDEC_SVM_LIBLINEAR, 1.0);
	nidec_err err = NIDEC_ERR_INIT;
	size_t j;

	(void)state;
	assert_int_equal(nidec_svm_train(&v, Y, &p, &a, &err), 0);
	srand(99); /* whatever happened to rand() before must not matter */
	assert_int_equal(nidec_svm_train(&v, Y, &p, &b, &err), 0);
	assert_memory_equal(a.w, b.w, NF * sizeof(double));
	p.seed = 777;
	assert_int_equal(nidec_svm_train(&v, Y, &p, &b, &err), 0);
	for (j = 0; j < NF; j++)
		assert_true(fabs(a.w[j] - b.w[j]) < 1e-4 * (1 + fabs(a.w[j])));
	nidec_svm_model_release(&a);
	nidec_svm_model_release(&b);
}

/* every estimator: a positive decision means +1 (most training samples
 * right), whatever label liblinear met first */
static void test_core_svm__orientation(void **state)
{
	int est[] = { NIDEC_EST_SVC, NIDEC_EST_SVC_L1, NIDEC_EST_LOGISTIC, NIDEC_EST_LOGISTIC_L1 };
	nidec_view v = view_all(NULL);
	double dec[NS];
	nidec_err err = NIDEC_ERR_INIT;
	size_t e, i;

	(void)state;
	for (e = 0; e < 4; e++) {
		nidec_svm_model m = NIDEC_SVM_MODEL_INIT;
		nidec_svm_param p = param(est[e], NIDEC_SVM_LIBLINEAR, 1.0);
		size_t right = 0;
		assert_int_equal(nidec_svm_train(&v, Y, &p, &m, &err), 0);
		nidec_svm_decision(&m, &v, dec);
		for (i = 0; i < NS; i++)
			right += (dec[i] > 0) == (Y[i] > 0);
		assert_true(right >= NS * 8 / 10);
		nidec_svm_model_release(&m);
	}
}

static void test_core_svm__one_class_refused(void **state)
{
	signed char y1[NS];
	nidec_view v = view_all(NULL);
	nidec_svm_model m = NIDEC_SVM_MODEL_INIT;
	nidec_svm_param p = param(NIDEC_EST_SVC, NIDEC_SVM_LIBLINEAR, 1.0);
	nidec_err err = NIDEC_ERR_INIT;

	(void)state;
	memset(y1, 1, sizeof(y1));
	assert_int_equal(nidec_svm_train(&v, y1, &p, &m, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "only one class"));
	assert_null(m.w);
}

/* feature subset + standardisation go through the view */
static void test_core_svm__view_subset(void **state)
{
	size_t feat[3] = { 0, 3, 6 }, j;
	nidec_view v = view_all(NULL);
	nidec_svm_model m = NIDEC_SVM_MODEL_INIT;
	nidec_svm_param p = param(NIDEC_EST_SVC, NIDEC_SVM_DCD, 1.0);
	nidec_err err = NIDEC_ERR_INIT;

	(void)state;
	v.feat = feat;
	v.n_feat = 3;
	assert_int_equal(nidec_svm_train(&v, Y, &p, &m, &err), 0);
	assert_int_equal(m.n_feat, 3);
	for (j = 0; j < 3; j++)
		assert_true(m.w[j] > 0); /* the planted weights of 0, 3, 6 are +1 */
	nidec_svm_model_release(&m);
}

/* the chance baseline draws +1 with the training frequency */
static void test_core_svm__dummy(void **state)
{
	nidec_view v = view_all(NULL);
	nidec_svm_model m = NIDEC_SVM_MODEL_INIT;
	nidec_svm_param p = param(NIDEC_EST_DUMMY, NIDEC_SVM_LIBLINEAR, 1.0);
	nidec_err err = NIDEC_ERR_INIT;
	double d1[NS], d2[NS];
	size_t i, pos = 0;

	(void)state;
	assert_int_equal(nidec_svm_train(&v, Y, &p, &m, &err), 0);
	assert_true(m.dummy);
	for (i = 0; i < NS; i++)
		pos += Y[i] > 0;
	assert_true(m.prior == (double)pos / NS);
	nidec_svm_decision(&m, &v, d1);
	nidec_svm_decision(&m, &v, d2);
	assert_memory_equal(d1, d2, sizeof(d1));
	for (i = 0; i < NS; i++)
		assert_true(d1[i] == 1.0 || d1[i] == -1.0);
	nidec_svm_model_release(&m);
}

/* sklearn.svm.l1_min_c(X, y, loss='squared_hinge') = 0.034482758620689655 */
static void test_core_svm__l1_min_c(void **state)
{
	static const float X6[24] = {
		1.5f, 3.1f, -2, 7, 2.25f, 3.1f, -1, 7.5f, 0.1f, 3.1f, 4, 6,
		4.4f, 3.1f, 0.5f, 9, 3.3f, 3.1f, 2.5f, 1, 0.7f, 3.1f, -3, 2,
	};
	size_t r6[6] = { 0, 1, 2, 3, 4, 5 };
	signed char y6[6] = { 1, 1, -1, 1, -1, -1 };
	nidec_view v;
	nidec_err err = NIDEC_ERR_INIT;
	double c;

	(void)state;
	v.X = X6;
	v.p = 4;
	v.rows = r6;
	v.n_rows = 6;
	v.feat = NULL;
	v.n_feat = 4;
	v.scaler = NULL;
	assert_int_equal(nidec_svm_l1_min_c(&v, y6, &c, &err), 0);
	assert_true(fabs(c - 0.034482758620689655) < 1e-16);
}

/* the DCD's private generator draws what glibc's rand() draws after srand() */
static void test_core_svm__dcd_rand_is_glibc(void **state)
{
	unsigned seeds[] = { 0, 1, 12345, 0x80000001u, 0xffffffffu };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		assert_int_equal(nidec_dcd_rand_check(seeds[i], 20000), 0);
}

/* a random problem with l samples, d features (+ the constant 1), labels
 * from a planted direction with noise, +1 rows first as liblinear orders */
struct rproblem {
	size_t l, d;
	double *x;         /* [l * (d + 1)] */
	float *x32;        /* [l * (d + 1)], the same values rounded to float */
	signed char *y;
};

static void rproblem_make(struct rproblem *pb, size_t l, size_t d, uint64_t seed)
{
	nidec_rng r;
	size_t i, j, npos = 0, a = 0;
	double *raw = malloc(l * (d + 1) * sizeof(double));
	signed char *yr = malloc(l);

	nidec_rng_seed(&r, seed);
	pb->l = l;
	pb->d = d;
	pb->x = malloc(l * (d + 1) * sizeof(double));
	pb->x32 = malloc(l * (d + 1) * sizeof(float));
	pb->y = malloc(l);
	for (i = 0; i < l; i++) {
		double s = 0;
		for (j = 0; j < d; j++) {
			/* float-representable values, so x32 == x exactly */
			double v = (double)(float)(nidec_rng_uniform(&r) * 2 - 1);
			raw[i * (d + 1) + j] = v;
			s += v * (j % 2 ? 0.3 : -0.2);
		}
		raw[i * (d + 1) + d] = 1.0;
		yr[i] = s + 0.3 * (nidec_rng_uniform(&r) - 0.5) > 0 ? 1 : -1;
		npos += yr[i] > 0;
	}
	assert_true(npos > 0 && npos < l);
	for (i = 0; i < l; i++)
		if (yr[i] > 0) {
			memcpy(pb->x + a * (d + 1), raw + i * (d + 1), (d + 1) * sizeof(double));
			pb->y[a++] = 1;
		}
	for (i = 0; i < l; i++)
		if (yr[i] < 0) {
			memcpy(pb->x + a * (d + 1), raw + i * (d + 1), (d + 1) * sizeof(double));
			pb->y[a++] = -1;
		}
	for (i = 0; i < l * (d + 1); i++)
		pb->x32[i] = (float)pb->x[i];
	free(raw);
	free(yr);
}

static void rproblem_free(struct rproblem *pb)
{
	free(pb->x);
	free(pb->x32);
	free(pb->y);
}

/* solve in one form; w[d + 1] = weights and intercept */
static int solve_form(const struct rproblem *rp, int form, double C, unsigned seed, double *alpha,
		      double *w, int warm)
{
	nidec_dcd_problem pb;
	nidec_err err = NIDEC_ERR_INIT;
	size_t l = rp->l, d1 = rp->d + 1, i, j;
	double *K = NULL;
	int n_iter = -1;

	memset(&pb, 0, sizeof(pb));
	pb.form = form;
	pb.l = l;
	pb.y = rp->y;
	pb.d = d1;
	pb.ld = d1;
	pb.x64 = rp->x;
	pb.x32 = rp->x32;
	if (form == NIDEC_DCD_KERNEL) {
		K = malloc(l * l * sizeof(double));
		/* the constant column is part of x: c = 0 */
		assert_int_equal(nidec_gram(rp->x, l, d1, d1, 0.0, K, l, &err), 0);
		pb.K = K;
		pb.ld = l;
	}
	assert_int_equal(nidec_dcd_solve(&pb, C, 1e-4, 10000, 0, seed, alpha, w, warm, &n_iter,
					 &err), 0);
	if (form == NIDEC_DCD_KERNEL) {
		for (j = 0; j < d1; j++)
			w[j] = 0;
		for (i = 0; i < l; i++)
			for (j = 0; j < d1; j++)
				w[j] += alpha[i] * rp->y[i] * rp->x[i * d1 + j];
	}
	free(K);
	return n_iter;
}

static double rel_diff(const double *a, const double *b, size_t n)
{
	double m = 0, dmax = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		m = fabs(a[i]) > m ? fabs(a[i]) : m;
		dmax = fabs(a[i] - b[i]) > dmax ? fabs(a[i] - b[i]) : dmax;
	}
	return dmax / (m > 0 ? m : 1);
}

/* primal (double and float rows) and kernel forms take the same steps:
 * same iterations, weights equal to rounding, for n > p and n < p */
static void test_core_svm__dcd_forms_agree(void **state)
{
	size_t shapes[2][2] = { { 80, 12 }, { 40, 300 } }, k;
	double Cs[3] = { 1, 10, 100 };

	(void)state;
	for (k = 0; k < 2; k++) {
		struct rproblem rp;
		size_t l = shapes[k][0], d1 = shapes[k][1] + 1, c;
		double *al = malloc(l * sizeof(double)), *w0 = malloc(d1 * sizeof(double));
		double *w1 = malloc(d1 * sizeof(double)), *w2 = malloc(d1 * sizeof(double));

		rproblem_make(&rp, l, shapes[k][1], 42 + k);
		for (c = 0; c < 3; c++) {
			int i0 = solve_form(&rp, NIDEC_DCD_PRIMAL64, Cs[c], 7, al, w0, 0);
			int i1 = solve_form(&rp, NIDEC_DCD_PRIMAL32, Cs[c], 7, al, w1, 0);
			int i2 = solve_form(&rp, NIDEC_DCD_KERNEL, Cs[c], 7, al, w2, 0);
			assert_true(i0 > 0 && i0 < 10000);
			assert_true(abs(i0 - i1) <= 1 && abs(i0 - i2) <= 1);
			assert_true(rel_diff(w0, w1, d1) < 1e-9);
			assert_true(rel_diff(w0, w2, d1) < 1e-9);
		}
		rproblem_free(&rp);
		free(al);
		free(w0);
		free(w1);
		free(w2);
	}
}

/* warm start along the C grid reaches the cold solution to the tolerance
 * (and in fewer iterations) */
static void test_core_svm__dcd_warm_start(void **state)
{
	struct rproblem rp;
	size_t l = 60, d1 = 31, form;
	double Cs[3] = { 1, 10, 100 };

	(void)state;
	rproblem_make(&rp, l, 30, 5);
	for (form = 0; form < 3; form++) {
		double *ac = malloc(l * sizeof(double)), *aw = malloc(l * sizeof(double));
		double *wc = malloc(d1 * sizeof(double)), *ww = malloc(d1 * sizeof(double));
		int ic = 0, iw = 0;
		size_t c;
		for (c = 0; c < 3; c++) {
			ic += solve_form(&rp, (int)form, Cs[c], 11, ac, wc, 0);
			iw += solve_form(&rp, (int)form, Cs[c], 11, aw, ww, c > 0);
			assert_true(rel_diff(wc, ww, d1) < 1e-3);
		}
		assert_true(iw < ic);
		free(ac);
		free(aw);
		free(wc);
		free(ww);
	}
	rproblem_free(&rp);
}

/* nidec_gram: the naive sums to rounding, exactly symmetric, + c */
static void test_core_svm__gram(void **state)
{
	size_t n = 13, d = 37, i, j, k;
	double Z[13 * 37], K[13 * 13];
	nidec_err err = NIDEC_ERR_INIT;
	nidec_rng r;

	(void)state;
	nidec_rng_seed(&r, 9);
	for (i = 0; i < n * d; i++)
		Z[i] = nidec_rng_uniform(&r) - 0.5;
	assert_int_equal(nidec_gram(Z, n, d, d, 1.0, K, n, &err), 0);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			double s = 1.0;
			for (k = 0; k < d; k++)
				s += Z[i * d + k] * Z[j * d + k];
			assert_true(fabs(K[i * n + j] - s) < 1e-13);
			assert_memory_equal(&K[i * n + j], &K[j * n + i], sizeof(double));
		}
}

/* Newton's method in the primal reaches the minimiser the DCD approaches:
 * on problems with many more samples than features (searchlight spheres),
 * the DCD run to a tight tolerance and Newton agree to 1e-6 relative; at
 * liblinear's tolerance (1e-4) within 1e-2 (the dual's stopping rule
 * bounds the gap, not the weights); every C, warm or cold. */
static void test_core_svm__newton_matches_dcd(void **state)
{
	size_t shapes[3][2] = { { 200, 8 }, { 300, 27 }, { 120, 60 } }, k;
	double Cs[3] = { 0.1, 1, 100 };

	(void)state;
	for (k = 0; k < 3; k++) {
		struct rproblem rp;
		size_t l = shapes[k][0], d1 = shapes[k][1] + 1, c;
		double *al = malloc(l * sizeof(double)), *wd = malloc(d1 * sizeof(double));
		double *wn = calloc(d1, sizeof(double)), *work = malloc(NIDEC_NEWTON_WORK(l, d1) * sizeof(double));
		nidec_err err = NIDEC_ERR_INIT;

		rproblem_make(&rp, l, shapes[k][1], 7 + k);
		for (c = 0; c < 3; c++) {
			nidec_dcd_problem pb;
			int it = 0, itn = 0;
			memset(&pb, 0, sizeof(pb));
			pb.form = NIDEC_DCD_PRIMAL32;
			pb.l = l;
			pb.y = rp.y;
			pb.d = d1;
			pb.ld = d1;
			pb.x32 = rp.x32;
			assert_int_equal(nidec_dcd_solve(&pb, Cs[c], 1e-10, 1000000, 0, 3, al, wd, 0, &it, &err), 0);
			/* warm from the previous C's minimiser */
			assert_int_equal(nidec_newton_l2svc(rp.x32, d1, l, d1, rp.y, Cs[c], 1e-12, 100, wn, work,
							    &itn), 0);
			assert_true(itn < 100);
			if (rel_diff(wd, wn, d1) >= 1e-6)
				fail_msg("shape %zu C %g: Newton vs DCD(1e-10) differ by %g", k, Cs[c],
					 rel_diff(wd, wn, d1));
			assert_int_equal(nidec_dcd_solve(&pb, Cs[c], 1e-4, 10000, 0, 3, al, wd, 0, &it, &err), 0);
			assert_true(rel_diff(wd, wn, d1) < 1e-2);
		}
		rproblem_free(&rp);
		free(al);
		free(wd);
		free(wn);
		free(work);
	}
}

/* nilearn's predict: two classes by the sign of the one decision (0
 * goes to the first class), more by the first maximum. */
static void test_core_svm__predict_class(void **state)
{
	const double two_pos[1] = { 0.25 }, two_zero[1] = { 0.0 }, two_neg[1] = { -1e-300 };
	const double ovr[4] = { -1.0, 2.0, 2.0, 0.5 }, ovr_first[3] = { 3.0, -1.0, 3.0 };

	(void)state;
	assert_int_equal(nidec_svm_predict_class(two_pos, 1), 1);
	assert_int_equal(nidec_svm_predict_class(two_zero, 1), 0);
	assert_int_equal(nidec_svm_predict_class(two_neg, 1), 0);
	assert_int_equal(nidec_svm_predict_class(ovr, 4), 1);
	assert_int_equal(nidec_svm_predict_class(ovr_first, 3), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_svm__dcd_equals_liblinear_bitwise),
		cmocka_unit_test(test_core_svm__seeded),
		cmocka_unit_test(test_core_svm__orientation),
		cmocka_unit_test(test_core_svm__one_class_refused),
		cmocka_unit_test(test_core_svm__view_subset),
		cmocka_unit_test(test_core_svm__dummy),
		cmocka_unit_test(test_core_svm__l1_min_c),
		cmocka_unit_test(test_core_svm__dcd_rand_is_glibc),
		cmocka_unit_test(test_core_svm__dcd_forms_agree),
		cmocka_unit_test(test_core_svm__dcd_warm_start),
		cmocka_unit_test(test_core_svm__gram),
		cmocka_unit_test(test_core_svm__predict_class),
		cmocka_unit_test(test_core_svm__newton_matches_dcd),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
