/*
 * stats.h - the group statistics of `nidec sweep`: Student's t
 * distribution through the regularized incomplete beta function, and the
 * one-sample t-test of subject scores against chance (docs/SWEEP.md).
 *
 * libc + libm only (tests/e2e/t3000-sweep.sh compiles this file alone and
 * checks it against scipy.special.betainc and scipy.stats.t).  Not
 * collective; no allocation; no errors: out-of-domain arguments give NaN.
 */
#ifndef NIDEC_STATS_H
#define NIDEC_STATS_H

#include <stddef.h>

/* I_x(a, b), the regularized incomplete beta function, for a, b > 0 and
 * 0 <= x <= 1.  `xc` must be 1 - x, given separately so that callers
 * near x = 1 keep its precision (pass 1 - x when it is exact). */
double nidec_stats_betainc(double a, double b, double x, double xc);

/* P(T <= t) and P(T > t) for Student's t with `df` > 0 degrees of freedom
 * (the upper tail is computed directly, not as 1 - cdf). */
double nidec_stats_t_cdf(double t, double df);
double nidec_stats_t_sf(double t, double df);

/* One-sample t-test of x[0..n-1] against `mu` (scipy.stats.ttest_1samp). */
typedef struct nidec_ttest {
	size_t n;
	double mean;
	double sd;          /* sample standard deviation (ddof 1) */
	double sem;         /* sd / sqrt(n) */
	double t;           /* (mean - mu) / sem; +-inf when sd = 0 and mean != mu */
	double df;          /* n - 1 */
	double p_greater;   /* one-sided, H1: mean > mu */
	double p_two_sided;
} nidec_ttest;

/* n < 2 gives NaN for everything but n and mean. */
void nidec_stats_ttest_1samp(const double *x, size_t n, double mu, nidec_ttest *out);

#endif
