/*
 * sweep_tdist.c - a driver for tests/e2e/t3000-sweep.sh: reads lines
 * "b A B X" (I_x(a, b)) or "t T DF" (Student-t cdf and sf) on stdin and
 * prints the values of src/core/stats.c with %.17g, for
 * check_sweep.py to compare with scipy.  Built by the test itself:
 *     cc -Iinclude tests/e2e/sweep_tdist.c src/core/stats.c -lm
 */
#include <stdio.h>

#include "nidec/stats.h"

int main(void)
{
	char kind;
	double a, b, x;

	while (scanf(" %c", &kind) == 1) {
		if (kind == 'b') {
			if (scanf("%lf %lf %lf", &a, &b, &x) != 3)
				return 1;
			printf("%.17g\n", nidec_stats_betainc(a, b, x, 1.0 - x));
		} else if (kind == 't') {
			if (scanf("%lf %lf", &a, &b) != 2)
				return 1;
			printf("%.17g %.17g\n", nidec_stats_t_cdf(a, b), nidec_stats_t_sf(a, b));
		} else {
			return 1;
		}
	}
	return 0;
}
