/*
 * ridge.c - RidgeCV's efficient leave-one-out selection of alpha and the
 * mean regressor (include/nidec/regress.h); the only includer of LAPACK's
 * header.
 *
 * Why the eigendecomposition of the Gram matrix: a ridge fit's
 * leave-one-out residual of sample i is c_i / (G^-1)_ii with G = K +
 * alpha I and c = G^-1 y (the dual coefficients), so one eigendecomposition
 * K = Q diag(l) Q^T serves every alpha: G^-1 = Q diag(1 / (l + alpha)) Q^T,
 * O(n^2) per alpha after an O(n^2 p + n^3) start.  fMRI training parts
 * have fewer samples than voxels, which is when scikit-learn's _RidgeGCV
 * takes this "eigen" path; it adds 1 1^T to K (a column of ones, the
 * intercept, orthogonal to the centred X) and gives that eigenvector no
 * penalty.  With more samples than voxels scikit-learn uses the SVD of [X
 * 1] instead: the same G^-1 (the eigenvalues of K beyond X's rank are 0, so
 * their 1 / alpha is the SVD path's (I - U U^T) / alpha), hence the same
 * alpha and coefficients to rounding.  Measured against scikit-learn 1.2.1
 * in tests/unit/test_core_regress.c.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

#include "nidec/mem.h"
#include "nidec/metrics.h"
#include "nidec/regress.h"

int nidec_dummy_regressor_fit(const double *y, size_t n, size_t p, double *coef,
			      double *intercept, nidec_err *err)
{
	if (n == 0)
		return nidec_fail(err, NIDEC_EINPUT, "dummy_regressor: the training part has no sample");
	memset(coef, 0, p * sizeof(double));
	*intercept = nidec_mean_numpy(y, n);
	return 0;
}

/* Column means (numpy's mean over axis 0 of a C-ordered matrix: a running
 * sum over the rows) and the centred copy of X; y's mean and centred copy. */
static void center(const double *X, size_t n, size_t p, const double *y, double *xmean,
		   double *Xc, double *ymean, double *yc)
{
	size_t i, k;

	memset(xmean, 0, p * sizeof(double));
	for (i = 0; i < n; i++)
		for (k = 0; k < p; k++)
			xmean[k] += X[i * p + k];
	for (k = 0; k < p; k++)
		xmean[k] /= (double)n;
	for (i = 0; i < n; i++)
		for (k = 0; k < p; k++)
			Xc[i * p + k] = X[i * p + k] - xmean[k];
	*ymean = nidec_mean_numpy(y, n);
	for (i = 0; i < n; i++)
		yc[i] = y[i] - *ymean;
}

int nidec_ridge_gcv(const double *X, size_t n, size_t p, const double *y, const double *alphas,
		    size_t n_alphas, double *coef, double *intercept, size_t *best,
		    double *loo_mse, nidec_err *err)
{
	double *K = NULL, *Q = NULL, *Xc = NULL, *xmean = NULL, *buf = NULL;
	double *yc, *ev, *qty, *w, *c, *cbest, *sq, ymean, best_score = 0, dot, amax = -1;
	lapack_int *isuppz = NULL, m = 0, info, ln;
	size_t i, j, k, a, dim = 0;
	int rc = 0;

	if (n < 2)
		return nidec_fail(err, NIDEC_EINPUT, "ridge: the training part needs at least 2 samples (has %zu)", n);
	if (n_alphas == 0)
		return nidec_fail(err, NIDEC_EINPUT, "ridge: no alpha to try; give [model] alphas");
	if (n > (size_t)INT32_MAX / 2)
		return nidec_fail(err, NIDEC_EINPUT, "ridge: %zu training samples is more than LAPACK's int allows", n);
	ln = (lapack_int)n;
	K = nidec_malloc_e(n * n, sizeof(double), "ridge's Gram matrix", err);
	Q = nidec_malloc_e(n * n, sizeof(double), "ridge's eigenvectors", err);
	Xc = nidec_malloc_e(n * (p ? p : 1), sizeof(double), "ridge's centred data", err);
	xmean = nidec_malloc_e(p ? p : 1, sizeof(double), "ridge's column means", err);
	buf = nidec_malloc_e(7 * n, sizeof(double), "ridge's vectors", err);
	isuppz = nidec_malloc_e(2 * n, sizeof(lapack_int), "ridge's eigenvector supports", err);
	if (!K || !Q || !Xc || !xmean || !buf || !isuppz) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	yc = buf;
	ev = buf + n;
	qty = buf + 2 * n;
	w = buf + 3 * n;
	c = buf + 4 * n;
	cbest = buf + 5 * n;
	sq = buf + 6 * n;
	center(X, n, p, y, xmean, Xc, &ymean, yc);

	/* K = Xc Xc^T + 1 1^T (upper triangle is what dsyevr reads) */
	for (i = 0; i < n; i++)
		for (j = i; j < n; j++) {
			const double *u = Xc + i * p, *v = Xc + j * p;
			dot = 0;
			for (k = 0; k < p; k++)
				dot += u[k] * v[k];
			K[i * n + j] = K[j * n + i] = dot + 1.0;
		}
	info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'A', 'U', ln, K, ln, 0.0, 0.0, 0, 0, 0.0, &m, ev,
			      Q, ln, isuppz);
	if (info != 0 || m != ln) {
		rc = nidec_fail(err, NIDEC_EINTERNAL,
				"ridge: LAPACK dsyevr failed on the %zu x %zu Gram matrix (info %d)", n, n, (int)info);
		goto done;
	}
	/* Q^T y, and the eigenvector of the intercept: the column most aligned
	 * with 1 / sqrt(n) (_find_smallest_angle: the first largest |cosine|) */
	for (j = 0; j < n; j++) {
		double s = 0, t = 0;
		for (i = 0; i < n; i++) {
			s += Q[i * n + j] * yc[i];
			t += Q[i * n + j];
		}
		qty[j] = s;
		t = fabs(t / sqrt((double)n));
		if (t > amax) {
			amax = t;
			dim = j;
		}
	}
	for (a = 0; a < n_alphas; a++) {
		double mse;
		for (j = 0; j < n; j++)
			w[j] = 1.0 / (ev[j] + alphas[a]);
		w[dim] = 0; /* the intercept is not penalised */
		for (i = 0; i < n; i++) {
			double ci = 0, gi = 0;
			const double *q = Q + i * n;
			for (j = 0; j < n; j++) {
				ci += q[j] * (w[j] * qty[j]);
				gi += w[j] * q[j] * q[j];
			}
			c[i] = ci;
			sq[i] = (ci / gi) * (ci / gi);
		}
		mse = nidec_mean_numpy(sq, n);
		if (loo_mse)
			loo_mse[a] = mse;
		if (a == 0 || -mse > best_score) {
			best_score = -mse;
			*best = a;
			memcpy(cbest, c, n * sizeof(double));
		}
	}
	/* coef = c^T Xc, intercept = mean(y) - mean(X) . coef */
	memset(coef, 0, p * sizeof(double));
	for (i = 0; i < n; i++)
		for (k = 0; k < p; k++)
			coef[k] += cbest[i] * Xc[i * p + k];
	dot = 0;
	for (k = 0; k < p; k++)
		dot += xmean[k] * coef[k];
	*intercept = ymean - dot;
done:
	nidec_free(K);
	nidec_free(Q);
	nidec_free(Xc);
	nidec_free(xmean);
	nidec_free(buf);
	nidec_free(isuppz);
	return rc;
}
