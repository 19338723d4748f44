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
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
