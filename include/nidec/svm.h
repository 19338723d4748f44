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
 * The DCD also runs on prebuilt problems (nidec_dcd_solve): float32 rows,
 * or the Gram matrix of the rows (kernel form), with warm starts; task.c
 * uses that for svc, nidec_svm_train for everything else.
 *
 * Determinism: liblinear shuffles coordinates with rand(), so training
 * seeds it with srand(seed) right before train() (not thread-safe for that
 * reason; nidec runs one task at a time per rank); the DCD draws the same
 * numbers from a private copy of glibc's generator seeded with the same
 * value, so it has no global state.
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

/* The predicted class of one sample from the decisions of its binary
 * problems (nilearn's predict): one problem (two classes) gives class 1
 * when dec[0] > 0, else 0; n_problems > 1 (one-vs-rest) gives the first
 * maximum. */
int nidec_svm_predict_class(const double *dec, size_t n_problems);

void nidec_svm_model_release(nidec_svm_model *m);

/* liblinear's version, "2.30" for Debian's 2.3.0 (provenance). */
const char *nidec_svm_liblinear_version(void);

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
 * caller groups the +1 rows first).  w[d] is the result.  The coordinate
 * order draws the numbers that rand() gives after srand(seed) in the GNU C
 * library (liblinear's), from a private copy of that generator (no global
 * state).  liblinear_order = 1 sums each dot product in liblinear's order
 * (then the weights equal liblinear's bit for bit); 0 uses 16 partial sums,
 * faster, equal to liblinear's weights within tol.
 * *n_iter = iterations done.  Allocates O(l); NIDEC_ENOMEM on failure.
 */
int nidec_dcd_l2svc(const double *x, const signed char *y, size_t l, size_t d, double C,
		    double eps, int max_iter, int liblinear_order, unsigned seed, double *w,
		    int *n_iter, nidec_err *err);

/*
 * The same problem (L2-regularised squared hinge, the constant feature
 * included) solved in the primal by Newton's method on the generalised
 * Hessian, for few features and many samples (searchlight spheres; see
 * src/core/newton.c).  x: l rows of d float32 values, stride ld; y +1/-1;
 * w[d] is the start (warm starts along a C grid) and the result.  Stops
 * when |grad|_inf <= eps x max(1, |grad at 0|_inf) or after max_iter
 * iterations; *n_iter gets the iterations.  work: NIDEC_NEWTON_WORK(l, d)
 * doubles.  Returns 0, or -1 if the Hessian is not positive definite to
 * rounding (it always is in exact arithmetic: I + a positive
 * semi-definite sum).
 */
#define NIDEC_NEWTON_WORK(l, d) (3 * (d) + 2 * (d) * (d) + 3 * (l))
int nidec_newton_l2svc(const float *x, size_t ld, size_t l, size_t d, const signed char *y, double C,
		       double eps, int max_iter, double *w, double *work, int *n_iter);

/* How a DCD problem is held (src/core/dcd.c explains the trade-offs). */
enum { NIDEC_DCD_PRIMAL64 = 0, NIDEC_DCD_PRIMAL32 = 1, NIDEC_DCD_KERNEL = 2 };

typedef struct nidec_dcd_problem {
	int form;              /* NIDEC_DCD_* */
	size_t l;              /* samples */
	const signed char *y;  /* [l] +1/-1, liblinear's order (+1 rows first) */
	size_t d;              /* primal: features, the constant 1 included */
	size_t ld;             /* row stride of x64 / x32 / K (>= d, or >= l for K) */
	const double *x64;     /* PRIMAL64: [l * ld] (borrowed) */
	const float *x32;      /* PRIMAL32: [l * ld] (borrowed) */
	const double *K;       /* KERNEL: Gram matrix (constant included), row stride ld */
	const size_t *kidx;    /* KERNEL: sample i is row and column kidx[i] of K, all
				* distinct and < m; NULL: row i, m = l */
	size_t m;              /* KERNEL with kidx: columns of K (<= ld) */
	double *kbuf;          /* KERNEL: scratch of >= NIDEC_DCD_KBUF_LEN(l) doubles for
				* the compacted block (contents not kept; reused across
				* calls so that it is not mapped afresh), or NULL:
				* allocated per call */
	const double *norm2;   /* PRIMAL32: [l] x_i . x_i summed in double in feature
				* order (nidec_dcd_norms32), or NULL: computed per call.
				* The same for every C, so a grid computes them once. */
} nidec_dcd_problem;

/* norm2[i] = sum_j (double)x_i[j]^2 in order j = 0..d-1, rows of stride ld:
 * what nidec_dcd_solve computes for the diagonal of a PRIMAL32 problem. */
void nidec_dcd_norms32(const float *x32, size_t l, size_t d, size_t ld, double *norm2);

/* The kernel form's block rows are padded with zeros to a multiple of
 * NIDEC_DCD_KPAD values, so its dot products have no scalar tail. */
#define NIDEC_DCD_KPAD 32
#define NIDEC_DCD_KBUF_LEN(l) ((l) * ((l) + NIDEC_DCD_KPAD))

/*
 * The same solver on any form.  alpha[l] are the duals; wv is w[d] for the
 * primal forms (unused by the kernel form, may be NULL).  warm = 0 starts
 * from alpha = 0 (liblinear); warm = 1 starts from the alpha (and w) given,
 * which must belong together (a previous call's output on the same problem,
 * e.g. for the previous C of the grid).  The kernel form does not return w:
 * the caller forms w = sum_i alpha_i y_i x_i.  seed as nidec_dcd_l2svc.
 * Allocates O(l) (primal) or O(l^2) (kernel: a compacted working block,
 * unless pb->kbuf provides it); NIDEC_ENOMEM on failure.
 */
int nidec_dcd_solve(const nidec_dcd_problem *pb, double C, double eps, int max_iter,
		    int liblinear_order, unsigned seed, double *alpha, double *wv, int warm,
		    int *n_iter, nidec_err *err);

/* Test hook: 0 if the private generator of the DCD draws the same n numbers
 * as srand(seed); rand() (the GNU C library's), else the 1-based index of
 * the first difference.  Reseeds rand(). */
int nidec_dcd_rand_check(unsigned seed, int n);

/*
 * K[i][j] = z_i . z_j + c for the n rows of Z (stride ldz, d values used),
 * both triangles, K with row stride ldk.  Summed in a fixed order (16
 * partial sums), so the result has the same bits on every CPU.  c = 1 adds
 * the intercept's constant feature.  O(n^2 d) time, O(1) extra memory.
 */
int nidec_gram(const double *Z, size_t n, size_t d, size_t ldz, double c, double *K,
	       size_t ldk, nidec_err *err);

#endif
