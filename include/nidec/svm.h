/*
 * svm.h - linear models of one binary problem: train on a view of the data
 * matrix, evaluate decision values.  src/core/svm.c is the only file that
 * includes liblinear's <linear.h>; src/core/dcd.c is our own dual
 * coordinate descent for the L2-loss SVC (the same algorithm as liblinear
 * 2.3.0, without its hard-coded limit of 1000 iterations).
 *
 * A view is a float32 matrix seen through a row subset, a feature subset
 * and a standardisation; training builds one solver problem in double from
 * it and frees it before returning (README "Float vs double"), so the
 * caller never holds a double copy of the data.
 *
 * Determinism: training seeds the C library's rand() with srand(seed) right
 * before the solver runs (liblinear shuffles coordinates with rand()).  Not
 * thread-safe for that reason; nidec runs one task at a time per rank.
 * Labels are +1/-1; the returned weights always point to +1 (positive
 * decision -> +1) whatever order liblinear stores its labels in.
 */
#ifndef NIDEC_SVM_H
#define NIDEC_SVM_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/err.h"
#include "nidec/prep.h"

typedef struct nidec_view {
	const float *X;              /* row-major dataset matrix, p columns (borrowed) */
	size_t p;
	const size_t *rows;          /* samples of the view (borrowed) */
	size_t n_rows;
	const size_t *feat;          /* features used, ascending; NULL = all p */
	size_t n_feat;               /* = p when feat is NULL */
	const nidec_scaler *scaler;  /* NULL = raw values */
} nidec_view;

enum { NIDEC_SVM_LIBLINEAR = 0, NIDEC_SVM_DCD = 1 };

typedef struct nidec_svm_param {
	int estimator;   /* enum nidec_estimator */
	int solver;      /* NIDEC_SVM_LIBLINEAR or NIDEC_SVM_DCD (svc only) */
	double C;
	double tol;      /* stopping tolerance (liblinear eps) */
	int max_iter;    /* DCD outer iterations (liblinear 2.3.0 fixes 1000) */
	int liblinear_order; /* DCD: sum dot products in liblinear's order (tests) */
	uint64_t seed;   /* srand() seed of the solver / stream of the dummy */
} nidec_svm_param;

#define NIDEC_DCD_MAX_ITER 10000 /* scikit-learn's LinearSVC(max_iter) in nilearn */

typedef struct nidec_svm_model {
	size_t n_feat;
	double *w;       /* [n_feat] weights of the view's features, towards +1 */
	double b;        /* intercept (weight of the constant feature 1) */
	int n_iter;      /* solver iterations, -1 if unknown */
	int converged;   /* 0 if the solver stopped at its iteration limit */
	int dummy;       /* chance baseline: decisions are random draws */
	double prior;    /* dummy: fraction of +1 in the training labels */
	uint64_t seed;   /* dummy: stream seed */
} nidec_svm_model;

#define NIDEC_SVM_MODEL_INIT { 0, NULL, 0, -1, 1, 0, 0, 0 }

/*
 * Train on the view's rows with labels ypm[i] (+1/-1, indexed like
 * v->rows).  Estimators: svc (L2-regularised squared hinge, dual,
 * liblinear L2R_L2LOSS_SVC_DUAL or DCD), svc_l1 (L1R_L2LOSS_SVC), logistic
 * (L2R_LR), logistic_l1 (L1R_LR): all with a constant feature 1 whose
 * weight is the intercept, regularised like the others (liblinear's and
 * scikit-learn's intercept_scaling = 1).  dummy: no fit, see svm.c.
 * Needs both labels.  A solver that does not converge is not an error
 * (m->converged = 0).  Memory: 16 bytes per non-zero value of the view for
 * liblinear, 8 bytes per value for DCD, freed before return.
 * On error *m is unchanged.
 */
int nidec_svm_train(const nidec_view *v, const signed char *ypm, const nidec_svm_param *par,
		    nidec_svm_model *m, nidec_err *err);

/* dec[i] = x_i . w + b for the view's rows (the view must have the model's
 * features).  Sums in double in feature order. */
void nidec_svm_decision(const nidec_svm_model *m, const nidec_view *v, double *dec);

void nidec_svm_model_release(nidec_svm_model *m);

/* scikit-learn l1_min_c(X, y, loss='squared_hinge', fit_intercept=True):
 * 0.5 / max(max_j |sum_i y_i x_ij|, |sum_i y_i|), the smallest C with a
 * non-zero L1-penalised model; nilearn's grid for svc_l1 is {2, 20, 200} x
 * this value.  *min_c = +inf if the denominator is 0. */
int nidec_svm_l1_min_c(const nidec_view *v, const signed char *ypm, double *min_c,
		       nidec_err *err);

/*
 * Dual coordinate descent for min_w 1/2 |w|^2 + C sum_i max(0, 1 - y_i w.x_i)^2
 * (Hsieh et al. 2008), the algorithm and floating-point operation order of
 * liblinear 2.3.0's solve_l2r_l1l2_svc (random permutation by rand(),
 * shrinking, stop when max PG - min PG <= eps), with max_iter chosen by the
 * caller.  x is row-major l x d double (a column of ones included by the
 * caller for the intercept), y +1/-1 in the order liblinear would use (the
 * caller groups the +1 rows first).  w[d] is the result.  Call srand()
 * first.  liblinear_order = 1 sums each dot product in liblinear's order
 * (then the weights equal liblinear's bit for bit); 0 uses 8 partial sums,
 * about twice as fast, equal to liblinear's weights within tol.
 * *n_iter = iterations done.  Allocates O(l); NIDEC_ENOMEM on failure.
 */
int nidec_dcd_l2svc(const double *x, const signed char *y, size_t l, size_t d, double C,
		    double eps, int max_iter, int liblinear_order, double *w, int *n_iter,
		    nidec_err *err);

#endif
