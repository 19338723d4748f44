/*
 * dcd.c - dual coordinate descent for the L2-regularised, L2-loss (squared
 * hinge) linear SVC, i.e. scikit-learn's LinearSVC(dual=True) and liblinear
 * solver 1 (L2R_L2LOSS_SVC_DUAL).  See include/nidec/svm.h.
 *
 * Why our own copy of liblinear's solver: Debian's liblinear 2.3.0 stops
 * the dual solver after a hard-coded 1000 outer iterations, while
 * scikit-learn's bundled copy (what nilearn runs) allows max_iter = 10000.
 * Fits that need more than 1000 iterations (the 8-class Haxby problems need
 * up to ~2000) stop early in liblinear and give other weights.  This file
 * repeats liblinear 2.3.0's solve_l2r_l1l2_svc operation for operation
 * (same rand() draws for the coordinate permutation, same shrinking, same
 * stopping rule max PG - min PG <= eps, same floating-point order in the dot
 * products), with the iteration limit as a parameter: with max_iter = 1000
 * it returns liblinear's weights bit for bit (tests/unit/test_core_svm.c),
 * with 10000 it converges where scikit-learn does.
 *
 * Data are dense doubles (8 bytes per value instead of liblinear's 16);
 * zeros are multiplied like any other value, which leaves every sum
 * unchanged.
 *
 * Speed: almost all the time goes to the dot product w.x_i and the update
 * w += d x_i of each coordinate step.  The update is elementwise, so its
 * vectorised form gives the same bits.  The dot product in liblinear's
 * order is one long chain of dependent additions; by default we sum it in
 * 8 interleaved partial sums (vectorisable, about twice as fast on the
 * slice), which changes its rounding in the last bits only: the solver
 * stops on the same criterion and reaches the same optimum within tol.
 * `liblinear_order` = 1 keeps liblinear's order (bit-for-bit equality, for
 * tests).  On x86-64 both loops are also compiled for AVX2 and picked at run
 * time (GCC target_clones); elsewhere they are plain C.  Depends on base only.
 */
#include <math.h>
#include <stdlib.h>

#include "nidec/mem.h"
#include "nidec/svm.h"

#if defined(__x86_64__) && defined(__GNUC__) && (__GNUC__ >= 6 || defined(__clang__)) && \
	!defined(__SANITIZE_ADDRESS__)
/* (not under ASan: its runtime and ifunc resolvers do not mix) */
#define NIDEC_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NIDEC_CLONES
#endif

/* liblinear's sparse_operator::dot order */
static double dot_seq(const double *w, const double *x, size_t d)
{
	double ret = 0;
	size_t j;

	for (j = 0; j < d; j++)
		ret += w[j] * x[j];
	return ret;
}

/* 8 partial sums, combined pairwise, then the tail */
NIDEC_CLONES
static double dot8(const double *restrict w, const double *restrict x, size_t d)
{
	double r[8] = { 0, 0, 0, 0, 0, 0, 0, 0 }, ret;
	size_t j, k;

	for (j = 0; j + 8 <= d; j += 8)
		for (k = 0; k < 8; k++)
			r[k] += w[j + k] * x[j + k];
	ret = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
	for (; j < d; j++)
		ret += w[j] * x[j];
	return ret;
}

/* w += a x, liblinear's sparse_operator::axpy (elementwise: any order) */
NIDEC_CLONES
static void axpy(double a, const double *restrict x, double *restrict w, size_t d)
{
	size_t j;

	for (j = 0; j < d; j++)
		w[j] += a * x[j];
}

int nidec_dcd_l2svc(const double *x, const signed char *y, size_t l, size_t d, double C,
		    double eps, int max_iter, int liblinear_order, double *w, int *n_iter,
		    nidec_err *err)
{
	double *QD = NULL, *alpha = NULL;
	int *index = NULL;
	int i, s, iter = 0, active_size, li;
	double diag = 0.5 / C, upper_bound = INFINITY;
	double PGmax_old = INFINITY, PGmin_old = -INFINITY, PGmax_new, PGmin_new;
	size_t j;

	if (l > (size_t)2147483647)
		return nidec_fail(err, NIDEC_EINPUT, "dcd: %zu training samples exceed the solver's int limit", l);
	li = (int)l;
	QD = nidec_malloc_e(l, sizeof(*QD), "solver diagonal", err);
	alpha = nidec_malloc_e(l, sizeof(*alpha), "solver duals", err);
	index = nidec_malloc_e(l, sizeof(*index), "solver order", err);
	if (!QD || !alpha || !index) {
		nidec_free(QD);
		nidec_free(alpha);
		nidec_free(index);
		return NIDEC_ENOMEM;
	}
	for (j = 0; j < d; j++)
		w[j] = 0;
	for (i = 0; i < li; i++) {
		const double *xi = x + (size_t)i * d;
		double nrm = 0;
		alpha[i] = 0;
		for (j = 0; j < d; j++)
			nrm += xi[j] * xi[j];
		QD[i] = diag;
		QD[i] += nrm;
		index[i] = i;
	}
	active_size = li;
	while (iter < max_iter) {
		PGmax_new = -INFINITY;
		PGmin_new = INFINITY;
		for (i = 0; i < active_size; i++) {
			int k = i + rand() % (active_size - i), t = index[i];
			index[i] = index[k];
			index[k] = t;
		}
		for (s = 0; s < active_size; s++) {
			const double *xi;
			double G, PG, yi;

			i = index[s];
			yi = y[i];
			xi = x + (size_t)i * d;
			G = yi * (liblinear_order ? dot_seq(w, xi, d) : dot8(w, xi, d)) - 1;
			G += alpha[i] * diag;
			PG = 0;
			if (alpha[i] == 0) {
				if (G > PGmax_old) {
					int t;
					active_size--;
					t = index[s];
					index[s] = index[active_size];
					index[active_size] = t;
					s--;
					continue;
				} else if (G < 0) {
					PG = G;
				}
			} else if (alpha[i] == upper_bound) {
				if (G < PGmin_old) {
					int t;
					active_size--;
					t = index[s];
					index[s] = index[active_size];
					index[active_size] = t;
					s--;
					continue;
				} else if (G > 0) {
					PG = G;
				}
			} else {
				PG = G;
			}
			PGmax_new = PGmax_new > PG ? PGmax_new : PG;
			PGmin_new = PGmin_new < PG ? PGmin_new : PG;
			if (fabs(PG) > 1.0e-12) {
				double alpha_old = alpha[i], a = alpha[i] - G / QD[i], dd;
				a = a > 0.0 ? a : 0.0;
				alpha[i] = a < upper_bound ? a : upper_bound;
				dd = (alpha[i] - alpha_old) * yi;
				axpy(dd, xi, w, d);
			}
		}
		iter++;
		if (PGmax_new - PGmin_new <= eps) {
			if (active_size == li)
				break;
			active_size = li;
			PGmax_old = INFINITY;
			PGmin_old = -INFINITY;
			continue;
		}
		PGmax_old = PGmax_new;
		PGmin_old = PGmin_new;
		if (PGmax_old <= 0)
			PGmax_old = INFINITY;
		if (PGmin_old >= 0)
			PGmin_old = -INFINITY;
	}
	*n_iter = iter;
	nidec_free(QD);
	nidec_free(alpha);
	nidec_free(index);
	return 0;
}
