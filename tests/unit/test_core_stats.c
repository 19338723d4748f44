/*
 * test_core_stats.c - Student's t distribution and the one-sample t-test
 * of the sweep's group summary (include/nidec/stats.h), against values
 * printed by scipy 1.10 (scipy.special.betainc, scipy.stats.t,
 * scipy.stats.ttest_1samp).  Tolerance: 1e-12 relative, the continued
 * fraction's convergence criterion (t3000 checks many more points live).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nidec/stats.h"

static void near(double got, double want)
{
	if (!(fabs(got - want) <= 1e-12 * fabs(want) + 1e-300))
		fail_msg("got %.17g, want %.17g", got, want);
}

static void test_core_stats__betainc(void **state)
{
	(void)state;
	near(nidec_stats_betainc(2.5, 3.0, 0.3, 0.7), 0.24123755392118157);
	near(nidec_stats_betainc(0.5, 0.5, 0.999, 0.001), 0.9798649583666225);
	near(nidec_stats_betainc(10, 20, 0.4, 0.6), 0.785318389762826);
	assert_true(nidec_stats_betainc(1, 1, 0, 1) == 0);
	assert_true(nidec_stats_betainc(1, 1, 1, 0) == 1);
	assert_true(isnan(nidec_stats_betainc(-1, 1, 0.5, 0.5)));
}

static void test_core_stats__t(void **state)
{
	(void)state;
	near(nidec_stats_t_cdf(2.0, 5), 0.9490302605850709);
	near(nidec_stats_t_sf(2.0, 5), 0.05096973941492914);
	near(nidec_stats_t_cdf(-1.5, 3), 0.11529193262241141);
	near(nidec_stats_t_sf(-1.5, 3), 0.8847080673775886);
	/* the upper tail directly, not as 1 - cdf */
	near(nidec_stats_t_sf(40, 7), 7.951089992425214e-10);
	assert_true(isnan(nidec_stats_t_cdf(1, 0)));
}

static void test_core_stats__ttest(void **state)
{
	const double x[5] = { 0.61, 0.55, 0.72, 0.49, 0.66 };
	nidec_ttest t;

	(void)state;
	nidec_stats_ttest_1samp(x, 5, 0.5, &t);
	assert_int_equal(t.n, 5);
	near(t.mean, 0.606);
	near(t.sd, 0.09016651263079879);
	near(t.t, 2.62872765841025);
	assert_true(t.df == 4);
	near(t.p_two_sided, 0.05826381116111939);
	near(t.p_greater, 0.029131905580559694);
	/* one subject: no spread, no test */
	nidec_stats_ttest_1samp(x, 1, 0.5, &t);
	assert_true(t.mean == 0.61);
	assert_true(isnan(t.t) && isnan(t.p_two_sided));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_stats__betainc),
		cmocka_unit_test(test_core_stats__t),
		cmocka_unit_test(test_core_stats__ttest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
