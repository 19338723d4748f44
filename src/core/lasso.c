/*
 * lasso.c - scikit-learn's LassoCV (include/nidec/regress.h): the alpha
 * path, its 5-fold selection and the cyclic coordinate descent with the
 * duality-gap stopping rule.
 *
 * The path: alpha_max = max_j |Xc_j . yc| / n on the centred training part
 * (above it every weight is 0), then n_alphas values from alpha_max down
 * to eps alpha_max, evenly spaced in log10 (numpy.logspace's arithmetic).
 * Each of the k contiguous folds (KFold without shuffling) fits the whole
 * path on its training rows, centred by their own means, warm-starting
 * each alpha from the previous one's weights, and scores every alpha by
 * the mean squared error on its test rows; the alpha of the smallest mean
 * over folds wins (the first on ties, numpy.argmin), and is refitted on
 * all rows from zero weights.
 *
 * The solver is cd_fast.enet_coordinate_descent's (l1_ratio 1): a sweep
 * updates every weight in voxel order by soft-thresholding x_j . r against
 * alpha n; after a sweep whose largest weight change is below tol times the
 * largest weight (or at the last iteration), the duality gap is computed
 * and the fit stops when it is below tol |yc|^2.  scikit-learn switches to
 * a Gram-matrix form of the same updates when a fold has more samples than
 * voxels: the same iterates to rounding.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nidec/mem.h"
#include "nidec/metrics.h"
#include "nidec/regress.h"

/* One coordinate-descent fit of w (warm: its current values) on the
 * column-major centred Xf (m x p, column norms nrm2) and centred y; r is
 * scratch of m. */
static int cd_fit(const double *Xf, size_t m, size_t p, const double *nrm2, const double *y,
		  double alpha, double tol, int max_iter, double *w, double *r, double *xta)
{
	double l1 = alpha * (double)m, gtol, yy = 0;
	size_t i, j;
	int it;

	for (i = 0; i < m; i++) {
		r[i] = y[i];
		yy += y[i] * y[i];
	}
	for (j = 0; j < p; j++)
		if (w[j] != 0)
			for (i = 0; i < m; i++)
				r[i] -= w[j] * Xf[j * m + i];
	gtol = tol * yy;
	for (it = 0; it < max_iter; it++) {
		double w_max = 0, dw_max = 0;
		for (j = 0; j < p; j++) {
			const double *x = Xf + j * m;
			double old = w[j], t = 0, nw;
			if (nrm2[j] == 0)
				continue;
			if (old != 0)
				for (i = 0; i < m; i++)
					r[i] += old * x[i];
			for (i = 0; i < m; i++)
				t += x[i] * r[i];
			nw = fabs(t) > l1 ? copysign(fabs(t) - l1, t) / nrm2[j] : 0.0;
			w[j] = nw;
			if (nw != 0)
				for (i = 0; i < m; i++)
					r[i] -= nw * x[i];
			if (fabs(nw - old) > dw_max)
				dw_max = fabs(nw - old);
			if (fabs(nw) > w_max)
				w_max = fabs(nw);
		}
		if (w_max == 0 || dw_max / w_max < tol || it == max_iter - 1) {
			double dual = 0, rr = 0, ry = 0, wl1 = 0, k, gap;
			for (j = 0; j < p; j++) {
				double s = 0;
				for (i = 0; i < m; i++)
					s += Xf[j * m + i] * r[i];
				xta[j] = s;
				if (fabs(s) > dual)
					dual = fabs(s);
				wl1 += fabs(w[j]);
			}
			for (i = 0; i < m; i++) {
				rr += r[i] * r[i];
				ry += r[i] * y[i];
			}
			if (dual > l1) {
				k = l1 / dual;
				gap = 0.5 * (rr + rr * k * k);
			} else {
				k = 1.0;
				gap = rr;
			}
			gap += l1 * wl1 - k * ry;
			if (gap < gtol)
				return 0;
		}
	}
	return 1; /* not converged (scikit-learn warns) */
}

/* Centre rows[0..m) of X (row-major n x p) into column-major Xf, with the
 * column means, squared norms, y's mean and centred copy. */
static void centre_part(const double *X, size_t p, const double *y, const size_t *rows, size_t m,
			double *Xf, double *xmean, double *nrm2, double *ymean, double *yc)
{
	size_t i, j;

	memset(xmean, 0, p * sizeof(double));
	for (i = 0; i < m; i++)
		for (j = 0; j < p; j++)
			xmean[j] += X[rows[i] * p + j];
	for (j = 0; j < p; j++) {
		double s = 0;
		xmean[j] /= (double)m;
		for (i = 0; i < m; i++) {
			double v = X[rows[i] * p + j] - xmean[j];
			Xf[j * m + i] = v;
			s += v * v;
		}
		nrm2[j] = s;
	}
	for (i = 0; i < m; i++)
		yc[i] = y[rows[i]];
	*ymean = nidec_mean_numpy(yc, m);
	for (i = 0; i < m; i++)
		yc[i] -= *ymean;
}

int nidec_lasso_cv(const double *X, size_t n, size_t p, const double *y, size_t n_alphas,
		   double eps, size_t n_folds, double tol, int max_iter, double *coef,
		   double *intercept, double *alpha, double *alphas, double *mse, nidec_err *err)
{
	double *Xf = NULL, *buf = NULL, *path = NULL, *score = NULL, *w, *xmean, *nrm2, *yc, *r, *xta;
	double ymean, amax = 0, lo, hi, step, *pred = NULL;
	size_t *rows = NULL, i, j, a, f, best = 0;
	int rc = 0;

	if (n_folds < 2 || n < n_folds)
		return nidec_fail(err, NIDEC_EINPUT,
				  "lasso: its %zu-fold selection of alpha needs at least %zu training samples (has %zu)",
				  n_folds, n_folds, n);
	if (n_alphas < 1)
		return nidec_fail(err, NIDEC_EINPUT, "lasso: no alpha on the path; give [model] n_alphas");
	Xf = nidec_malloc_e(n * (p ? p : 1), sizeof(double), "lasso's centred data", err);
	buf = nidec_malloc_e(4 * (p ? p : 1) + 3 * n, sizeof(double), "lasso's vectors", err);
	path = nidec_malloc_e(n_alphas, sizeof(double), "lasso's path", err);
	score = nidec_calloc_e(n_alphas, sizeof(double), "lasso's path", err);
	rows = nidec_malloc_e(n, sizeof(size_t), "lasso's folds", err);
	if (!Xf || !buf || !path || !score || !rows) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	w = buf;
	xmean = buf + p;
	nrm2 = buf + 2 * p;
	xta = buf + 3 * p;
	yc = buf + 4 * p;
	r = yc + n;
	pred = r + n;

	/* the path, from all rows */
	for (i = 0; i < n; i++)
		rows[i] = i;
	centre_part(X, p, y, rows, n, Xf, xmean, nrm2, &ymean, yc);
	for (j = 0; j < p; j++) {
		double s = 0;
		for (i = 0; i < n; i++)
			s += Xf[j * n + i] * yc[i];
		if (fabs(s) > amax)
			amax = fabs(s);
	}
	amax /= (double)n;
	if (amax <= 1e-15) { /* numpy.finfo(float).resolution */
		for (a = 0; a < n_alphas; a++)
			path[a] = 1e-15;
	} else {
		/* numpy.logspace(log10(amax eps), log10(amax), n)[::-1] */
		lo = log10(amax * eps);
		hi = log10(amax);
		step = n_alphas > 1 ? (hi - lo) / (double)(n_alphas - 1) : 0;
		for (a = 0; a < n_alphas; a++) {
			double e = a == n_alphas - 1 ? hi : (double)a * step + lo;
			path[n_alphas - 1 - a] = pow(10.0, e);
		}
	}

	/* KFold(n_folds): the first n % k folds one sample larger */
	for (f = 0; f < n_folds; f++) {
		size_t t0 = 0, t1, m = 0, size;
		for (i = 0; i < f; i++)
			t0 += n / n_folds + (i < n % n_folds);
		size = n / n_folds + (f < n % n_folds);
		t1 = t0 + size;
		for (i = 0; i < n; i++)
			if (i < t0 || i >= t1)
				rows[m++] = i;
		centre_part(X, p, y, rows, m, Xf, xmean, nrm2, &ymean, yc);
		memset(w, 0, p * sizeof(double));
		for (a = 0; a < n_alphas; a++) {
			double b = ymean, s;
			cd_fit(Xf, m, p, nrm2, yc, path[a], tol, max_iter, w, r, xta);
			for (j = 0; j < p; j++)
				b -= xmean[j] * w[j];
			for (i = t0; i < t1; i++) {
				double v = b;
				for (j = 0; j < p; j++)
					v += X[i * p + j] * w[j];
				pred[i - t0] = (v - y[i]) * (v - y[i]);
			}
			s = nidec_mean_numpy(pred, size);
			score[a] += s;
		}
	}
	for (a = 0; a < n_alphas; a++) {
		score[a] /= (double)n_folds;
		if (score[a] < score[best])
			best = a;
	}

	/* refit on all rows at the chosen alpha, from zero weights */
	for (i = 0; i < n; i++)
		rows[i] = i;
	centre_part(X, p, y, rows, n, Xf, xmean, nrm2, &ymean, yc);
	memset(coef, 0, p * sizeof(double));
	cd_fit(Xf, n, p, nrm2, yc, path[best], tol, max_iter, coef, r, xta);
	*intercept = ymean;
	for (j = 0; j < p; j++)
		*intercept -= xmean[j] * coef[j];
	*alpha = path[best];
	if (alphas)
		memcpy(alphas, path, n_alphas * sizeof(double));
	if (mse)
		memcpy(mse, score, n_alphas * sizeof(double));
done:
	nidec_free(Xf);
	nidec_free(buf);
	nidec_free(path);
	nidec_free(score);
	nidec_free(rows);
	return rc;
}
