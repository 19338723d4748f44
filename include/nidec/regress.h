/*
 * regress.h - the regressors of continuous targets (nilearn's
 * DecoderRegressor): ridge with its efficient leave-one-out selection of
 * alpha (core/ridge.c, LAPACK), the epsilon-SVR of libsvm with a linear
 * kernel (core/svr.c, the only includer of libsvm's header), the lasso with
 * its cross-validated path (core/lasso.c), and the mean (dummy_regressor).
 *
 * Data: X is a dense row-major n x p matrix of doubles (a training part,
 * standardised and screened: the caller builds it), y its n targets.  Every
 * fit yields a linear model, prediction = x . coef + intercept, with an
 * unpenalised intercept, as scikit-learn's estimators with
 * fit_intercept=True.  coef has p entries and is the caller's.
 *
 * Errors: NIDEC_EINPUT for a problem the estimator cannot fit (too few
 * samples), NIDEC_ENOMEM, NIDEC_EINTERNAL when a library call fails (the
 * message names it).  On error the outputs are unspecified.  Not
 * collective, no MPI; memory is stated per function.
 */
#ifndef NIDEC_REGRESS_H
#define NIDEC_REGRESS_H

#include <stddef.h>

#include "nidec/err.h"

/* scikit-learn DummyRegressor(strategy='mean'): coef = 0, intercept =
 * numpy.mean(y).  n >= 1. */
int nidec_dummy_regressor_fit(const double *y, size_t n, size_t p, double *coef,
			      double *intercept, nidec_err *err);

/*
 * scikit-learn RidgeCV(alphas, fit_intercept=True, scoring=None, cv=None):
 * X and y are centred (means over the rows), the Gram matrix K = Xc Xc^T +
 * 1 1^T is diagonalised once (LAPACK dsyevr, as scipy.linalg.eigh), and
 * for each alpha the leave-one-out residuals c_i / G^-1_ii come from the
 * eigenvectors (the intercept's eigenvector, the one closest to 1/sqrt(n),
 * is left unpenalised): _RidgeGCV's "eigen" mode.  The alpha with the
 * smallest mean squared residual wins, the first on ties (RidgeCV keeps a
 * later alpha only when it is strictly better).  scikit-learn uses the SVD
 * of X instead when n > p; both are the same hat matrix, so results agree
 * to rounding.  *best = index of the chosen alpha; loo_mse (or NULL)
 * receives the mean squared leave-one-out error of every alpha.
 * Needs n >= 2.  Memory: 3 n^2 + n p doubles.
 */
int nidec_ridge_gcv(const double *X, size_t n, size_t p, const double *y, const double *alphas,
		    size_t n_alphas, double *coef, double *intercept, size_t *best,
		    double *loo_mse, nidec_err *err);

/*
 * scikit-learn SVR(kernel='linear', C, epsilon, tol): libsvm's epsilon-SVR
 * (Debian's libsvm, LIBSVM_VERSION 3.24) on the precomputed linear kernel
 * X X^T, shrinking on, 200 MB cache; coef = sum_k dual_k x_k over the
 * support vectors, intercept = -rho.  libsvm's iteration limit is its own
 * (scikit-learn adds max_iter; both stop at `tol` on this problem's scale).
 * Needs n >= 2.  Memory: n (n + 2) libsvm nodes (16 bytes each).
 */
int nidec_svr_fit(const double *X, size_t n, size_t p, const double *y, double C, double epsilon,
		  double tol, double *coef, double *intercept, nidec_err *err);

/*
 * scikit-learn LassoCV(n_alphas, eps, cv=n_folds, tol, max_iter): the path
 * of n_alphas alphas from alpha_max (the smallest alpha with all weights
 * 0) down to eps alpha_max, each fold of KFold(n_folds) fitting the path
 * with warm starts, the alpha of the smallest mean test MSE over folds
 * (the first on ties), refitted on every row.  *alpha = the chosen alpha;
 * alphas and mse (n_alphas each, or NULL) receive the path and its mean
 * MSE.  Needs n >= n_folds >= 2.  Memory: n p + 4 p + 3 n doubles.
 */
int nidec_lasso_cv(const double *X, size_t n, size_t p, const double *y, size_t n_alphas,
		   double eps, size_t n_folds, double tol, int max_iter, double *coef,
		   double *intercept, double *alpha, double *alphas, double *mse, nidec_err *err);

#endif
