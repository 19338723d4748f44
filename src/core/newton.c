/*
 * newton.c - the L2-regularised, L2-loss linear SVC solved in the primal
 * by Newton's method (include/nidec/svm.h, nidec_newton_l2svc): the same
 * problem as liblinear's solver 1 and 2 and nidec's DCD,
 *     min_w f(w) = 1/2 |w|^2 + C sum_i max(0, 1 - y_i w.x_i)^2,
 * the constant feature (the intercept) included in x and w as liblinear
 * does.  f is strictly convex and piecewise quadratic, so its minimiser is
 * unique: any solver that reaches it gives the same weights, to its
 * tolerance.
 *
 * Why a second solver: the dual coordinate descent takes a step per sample
 * and needs many epochs when samples far outnumber features and most of
 * them are support vectors - a searchlight sphere (20-100 voxels, hundreds
 * of samples) took ~550 epochs on average on the bundled slice.  Newton's
 * method works on the d + 1 primal variables: each iteration forms the
 * generalised Hessian H = I + 2C sum_{i in I} x_i x_i^T over the samples
 * with a positive loss (the active set I), solves H s = -g by Cholesky,
 * and takes the step, halved until f decreases enough (Armijo).  Once the
 * active set stops changing the step is exact, so it converges in a few
 * iterations (finite termination for a piecewise quadratic).  H is kept
 * unfactored between iterations and updated only for the samples that
 * entered or left the active set, so an iteration after the first costs
 * O(changes x d^2) for H instead of O(|I| x d^2).
 *
 * Stopping: |g|_inf <= eps * max(1, |g(w0)|_inf at w = 0), i.e. relative
 * to the gradient at zero as liblinear's primal solver; nidec calls it
 * with eps far below liblinear's 1e-4 dual tolerance, so the weights are
 * the minimiser to rounding.  Sums in double; the rows are float32 (as
 * the DCD's primal form).  Memory: the caller's work buffer (see svm.h).
 * libc and libm only; no allocation.
 */
#include <math.h>
#include <string.h>

#include "nidec/svm.h"

/* f(w), with the margins m[i] = 1 - y_i w.x_i. */
static double objective(const float *x, size_t ld, size_t l, size_t d, const signed char *y,
			double C, const double *w, double *m)
{
	double f = 0, loss = 0;
	size_t i, k;

	for (k = 0; k < d; k++)
		f += w[k] * w[k];
	for (i = 0; i < l; i++) {
		const float *xi = x + i * ld;
		double s = 0;
		for (k = 0; k < d; k++)
			s += w[k] * (double)xi[k];
		m[i] = 1.0 - (double)y[i] * s;
		if (m[i] > 0)
			loss += m[i] * m[i];
	}
	return 0.5 * f + C * loss;
}

/* The gradient w - 2C sum_{m_i > 0} y_i m_i x_i. */
static void gradient(const float *x, size_t ld, size_t l, size_t d, const signed char *y, double C,
		     const double *w, const double *m, double *g)
{
	size_t i, k;

	memcpy(g, w, d * sizeof(double));
	for (i = 0; i < l; i++)
		if (m[i] > 0) {
			const float *xi = x + i * ld;
			double a = -2.0 * C * (double)y[i] * m[i];
			for (k = 0; k < d; k++)
				g[k] += a * (double)xi[k];
		}
}

/* Solve H s = -g (H symmetric positive definite, lower triangle used,
 * overwritten by its Cholesky factor).  0, or -1 if H is not positive
 * definite to rounding. */
static int cholesky_solve(double *H, size_t d, const double *g, double *s)
{
	size_t i, j, k;

	for (j = 0; j < d; j++) {
		double v = H[j * d + j];
		for (k = 0; k < j; k++)
			v -= H[j * d + k] * H[j * d + k];
		if (!(v > 0))
			return -1;
		v = sqrt(v);
		H[j * d + j] = v;
		for (i = j + 1; i < d; i++) {
			double u = H[i * d + j];
			for (k = 0; k < j; k++)
				u -= H[i * d + k] * H[j * d + k];
			H[i * d + j] = u / v;
		}
	}
	for (i = 0; i < d; i++) {
		double v = -g[i];
		for (k = 0; k < i; k++)
			v -= H[i * d + k] * s[k];
		s[i] = v / H[i * d + i];
	}
	for (i = d; i-- > 0;) {
		double v = s[i];
		for (k = i + 1; k < d; k++)
			v -= H[k * d + i] * s[k];
		s[i] = v / H[i * d + i];
	}
	return 0;
}

/* H += sign 2C x x^T (lower triangle). */
static void rank_one(double *H, size_t d, const float *x, double a)
{
	size_t j, k;

	for (j = 0; j < d; j++) {
		double b = a * (double)x[j];
		double *row = H + j * d;
		for (k = 0; k <= j; k++)
			row[k] += b * (double)x[k];
	}
}

int nidec_newton_l2svc(const float *x, size_t ld, size_t l, size_t d, const signed char *y, double C,
		       double eps, int max_iter, double *w, double *work, int *n_iter)
{
	double *g = work, *s = g + d, *wn = s + d, *H = wn + d, *Hs = H + d * d, *m = Hs + d * d,
	       *mn = m + l, *act = mn + l;
	double f, g0 = 0, gmax;
	size_t i, k;
	int it;

	/* the gradient at zero sets the scale of the stopping rule */
	for (k = 0; k < d; k++)
		g[k] = 0;
	for (i = 0; i < l; i++)
		for (k = 0; k < d; k++)
			g[k] -= 2.0 * C * (double)y[i] * (double)x[i * ld + k];
	for (k = 0; k < d; k++)
		g0 = fabs(g[k]) > g0 ? fabs(g[k]) : g0;
	if (g0 < 1)
		g0 = 1;
	f = objective(x, ld, l, d, y, C, w, m);
	gradient(x, ld, l, d, y, C, w, m, g);
	/* Hs = I + 2C sum over the active set (lower triangle), act[i] = in it */
	memset(Hs, 0, d * d * sizeof(double));
	for (k = 0; k < d; k++)
		Hs[k * d + k] = 1.0;
	for (i = 0; i < l; i++) {
		act[i] = m[i] > 0;
		if (act[i])
			rank_one(Hs, d, x + i * ld, 2.0 * C);
	}
	for (it = 0; it < max_iter; it++) {
		double dec = 0, t = 1;

		gmax = 0;
		for (k = 0; k < d; k++)
			gmax = fabs(g[k]) > gmax ? fabs(g[k]) : gmax;
		if (gmax <= eps * g0)
			break;
		if (it > 0)
			for (i = 0; i < l; i++)
				if ((m[i] > 0) != (act[i] != 0)) {
					act[i] = m[i] > 0;
					rank_one(Hs, d, x + i * ld, act[i] ? 2.0 * C : -2.0 * C);
				}
		memcpy(H, Hs, d * d * sizeof(double));
		if (cholesky_solve(H, d, g, s) < 0)
			return -1;
		for (k = 0; k < d; k++)
			dec += g[k] * s[k];
		/* Armijo: halve the step until f drops by a tenth of the model's decrease */
		for (;;) {
			double fn;
			for (k = 0; k < d; k++)
				wn[k] = w[k] + t * s[k];
			fn = objective(x, ld, l, d, y, C, wn, mn);
			if (fn <= f + 0.1 * t * dec) {
				double *tmp = m;
				memcpy(w, wn, d * sizeof(double));
				m = mn;
				mn = tmp;
				f = fn;
				break;
			}
			t *= 0.5;
			if (t < 1e-12) {
				/* no decrease left to rounding: at the minimiser */
				*n_iter = it + 1;
				return 0;
			}
		}
		gradient(x, ld, l, d, y, C, w, m, g);
	}
	*n_iter = it;
	return 0;
}
