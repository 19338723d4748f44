/*
 * test_core_metrics.c - scores against scikit-learn 1.2.1 to the last bit
 * (expected values printed by python3-sklearn with repr()).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nidec/cfg.h"
#include "nidec/metrics.h"

/* ties count 1/2: y = [1 1 -1 -1 1 -1], d = [.9 .4 .4 .1 -.3 .5]:
 * pairs (pos > neg) = 4.5 of 9 -> 0.5 */
static void test_core_metrics__auc_ties(void **state)
{
	signed char y[] = { 1, 1, -1, -1, 1, -1 };
	double d[] = { 0.9, 0.4, 0.4, 0.1, -0.3, 0.5 }, auc = -1;
	nidec_err err = NIDEC_ERR_INIT;

	(void)state;
	assert_int_equal(nidec_metric_roc_auc(y, d, 6, &auc, &err), 0);
	assert_true(auc == 0.5);
}

/* perfect and reversed rankings, all decisions tied */
static void test_core_metrics__auc_extremes(void **state)
{
	signed char y[] = { -1, 1, -1, 1 };
	double up[] = { 0, 1, 0.5, 2 }, down[] = { 3, 1, 2, 0 }, flat[] = { 7, 7, 7, 7 }, auc;
	nidec_err err = NIDEC_ERR_INIT;

	(void)state;
	assert_int_equal(nidec_metric_roc_auc(y, up, 4, &auc, &err), 0);
	assert_true(auc == 1.0);
	assert_int_equal(nidec_metric_roc_auc(y, down, 4, &auc, &err), 0);
	assert_true(auc == 0.0);
	assert_int_equal(nidec_metric_roc_auc(y, flat, 4, &auc, &err), 0);
	assert_true(auc == 0.5);
}

/* 9 positives in 72 (one class vs the rest of 8, one run): scikit-learn's
 * trapezoid sum 0.4268077601410935 is one ulp above the Mann-Whitney ratio
 * 242/567 = 0.42680776014109345; we must print sklearn's */
static void test_core_metrics__auc_bitwise_sklearn(void **state)
{
	signed char y[72];
	double d[72], auc;
	nidec_err err = NIDEC_ERR_INIT;
	int i;

	(void)state;
	for (i = 0; i < 72; i++) {
		y[i] = (i * 37 + 1) % 8 == 3 ? 1 : -1;
		d[i] = (double)((i * 7919 + 104729) % 1009) / 100.0;
	}
	assert_int_equal(nidec_metric_roc_auc(y, d, 72, &auc, &err), 0);
	assert_true(auc == 0.4268077601410935);
	assert_true(auc != 0.42680776014109345);
}

static void test_core_metrics__auc_one_class(void **state)
{
	signed char y[] = { 1, 1, 1 };
	double d[] = { 1, 2, 3 }, auc;
	nidec_err err = NIDEC_ERR_INIT;

	(void)state;
	assert_int_equal(nidec_metric_roc_auc(y, d, 3, &auc, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "all of one class"));
}

/* predictions: d > 0 -> +1 (0 goes to -1) */
static void test_core_metrics__prf(void **state)
{
	signed char y[] = { 1, 1, 1, -1, -1, -1, -1, 1, 1 };
	double d[] = { 1, -1, 2, 0, -1, 3, -2, 0.5, -0.2 }, s;
	nidec_err err = NIDEC_ERR_INIT;

	(void)state;
	assert_true(nidec_metric_precision(y, d, 9) == 0.75);
	assert_true(nidec_metric_recall(y, d, 9) == 0.6);
	/* sklearn's 2*p*r/(p+r) path: 0.6666666666666665, not 2/3 */
	assert_true(nidec_metric_f1(y, d, 9) == 0.6666666666666665);
	assert_true(nidec_metric_balanced_accuracy(y, d, 9) == 0.675);
	assert_true(nidec_metric_accuracy(y, d, 9) == 6.0 / 9.0);
	assert_int_equal(nidec_metric_score(NIDEC_SCORE_F1, y, d, 9, &s, &err), 0);
	assert_true(s == 0.6666666666666665);
	/* no predicted positive: precision 0 (zero_division) */
	{
		double neg[] = { -1, -1, -1, -1, -1, -1, -1, -1, -1 };
		assert_true(nidec_metric_precision(y, neg, 9) == 0.0);
		assert_true(nidec_metric_f1(y, neg, 9) == 0.0);
	}
}

/* numpy.sum order: 300 terms differ from a sequential sum in the last bit */
static void test_core_metrics__pairwise_sum(void **state)
{
	double v[300], w[130], m[11];
	int i;

	(void)state;
	for (i = 0; i < 300; i++)
		v[i] = 1.0 / (i + 1);
	assert_true(nidec_sum_pairwise(v, 300) == 6.282663880299504);
	for (i = 0; i < 130; i++)
		w[i] = 0.1 * (i % 7) + 1e-3 * i;
	assert_true(nidec_sum_pairwise(w, 130) == 46.785);
	for (i = 0; i < 11; i++)
		m[i] = 1.0 / (i + 1);
	assert_true(nidec_mean_numpy(m, 11) == 0.2745343040797586);
	assert_true(isnan(nidec_mean_numpy(m, 0)));
}

static void test_core_metrics__confusion(void **state)
{
	int t[] = { 0, 0, 1, 2, 2, 2 }, p[] = { 0, 1, 1, 2, 0, 2 };
	long cm[9] = { 0 };

	(void)state;
	nidec_metric_confusion(t, p, 6, 3, cm);
	assert_int_equal(cm[0], 1);
	assert_int_equal(cm[1], 1);
	assert_int_equal(cm[4], 1);
	assert_int_equal(cm[6], 1);
	assert_int_equal(cm[8], 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_metrics__auc_ties),
		cmocka_unit_test(test_core_metrics__auc_extremes),
		cmocka_unit_test(test_core_metrics__auc_bitwise_sklearn),
		cmocka_unit_test(test_core_metrics__auc_one_class),
		cmocka_unit_test(test_core_metrics__prf),
		cmocka_unit_test(test_core_metrics__pairwise_sum),
		cmocka_unit_test(test_core_metrics__confusion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
