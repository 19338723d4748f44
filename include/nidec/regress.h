/*
 * regress.h - the regressors of continuous targets (nilearn's
 * DecoderRegressor): ridge with its efficient leave-one-out selection of
 * alpha (core/ridge.c, LAPACK), the epsilon-SVR of scikit-learn's SVR
 * (core/svr.c: nidec's own SMO on any kernel matrix, and Debian's libsvm as
 * the reference, the only includer of libsvm's header), the lasso with
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
 * scikit-learn SVR's epsilon-SVR dual on a kernel matrix, by nidec's own
 * SMO (core/svr.c): libsvm's algorithm (WSS3 pairs, shrinking, Q in
 * float32, stop when max_up(-s G) + max_low(s G) < tol) with
 * scikit-learn's iteration cap.  K is the n x n kernel, row-major and
 * exactly symmetric (K_ij == K_ji bit for bit), the caller's; any kernel
 * (linear, RBF, ...).  beta[n] receives alpha_i - alpha*_i (scikit-learn's
 * dual_coef_ at the support vectors, 0 elsewhere), *intercept = -rho:
 * prediction = sum_i beta_i K(x_i, x) + intercept.  max_iter > 0 stops
 * after that many pair updates, unconverged (scikit-learn's max_iter, with
 * its ConvergenceWarning: the caller sees *n_iter == max_iter); max_iter
 * <= 0 runs to tol.  *n_iter (or NULL) = pair updates done.  Needs n >= 2,
 * C > 0, epsilon >= 0, tol > 0 (else NIDEC_EINPUT).  Memory: 100 bytes
 * per sample besides K.
 */
int nidec_svr_solve(const double *K, size_t n, const double *y, double C, double epsilon,
		    double tol, long max_iter, double *beta, double *intercept, long *n_iter,
		    nidec_err *err);

/*
 * The same problem by Debian's libsvm (LIBSVM_VERSION 3.24, epsilon-SVR on
 * the precomputed kernel K, shrinking on, 200 MB cache): the reference the
 * own solver is tested against ([model] solver = libsvm).  libsvm has no
 * cap it lets us set (its own is 10^7 iterations) and rebuilds the whole
 * gradient before rho.  Memory: n (n + 2) libsvm nodes (16 bytes each).
 */
int nidec_svr_solve_libsvm(const double *K, size_t n, const double *y, double C, double epsilon,
			   double tol, double *beta, double *intercept, nidec_err *err);

/* nilearn's SVR(kernel='linear', max_iter=10000) */
#define NIDEC_SVR_MAX_ITER 10000L

/* The solver of nidec_svr_fit ([model] solver of estimator = svr). */
enum nidec_svr_solver { NIDEC_SVR_SMO, NIDEC_SVR_LIBSVM };

typedef struct {
	int solver;         /* enum nidec_svr_solver */
	double C, epsilon;  /* penalty, insensitive tube */
	double tol;         /* stopping tolerance (scikit-learn: 1e-3) */
	long max_iter;      /* SMO's cap (nilearn's SVR: 10000), <= 0: none */
} nidec_svr_opts;

/*
 * scikit-learn SVR(kernel='linear', C, epsilon, tol, max_iter) on the rows
 * X (n x p): the dual on the linear kernel K = X X^T, then coef = sum_i
 * beta_i x_i (over the support vectors, in sample order) and the
 * intercept.  K is the Gram matrix of X (nidec_gram of svm.h with c = 0),
 * computed once by a caller that fits several C on the same rows, or NULL:
 * computed here (n^2 doubles for the call).  *n_iter (or NULL) as
 * nidec_svr_solve, -1 for libsvm.  Needs n >= 2.
 */
int nidec_svr_fit(const double *X, size_t n, size_t p, const double *K, const double *y,
		  const nidec_svr_opts *o, double *coef, double *intercept, long *n_iter,
		  nidec_err *err);

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
