/*
 * svr.c - scikit-learn's SVR: the epsilon-SVR dual solved by nidec's own
 * SMO (nidec_svr_solve), with Debian's libsvm kept as the reference
 * (nidec_svr_solve_libsvm; this file is the only includer of libsvm's
 * header).  See include/nidec/regress.h.
 *
 * Why our own solver: scikit-learn's SVR, which nilearn's svr is, runs its
 * bundled libsvm with an iteration cap (nilearn passes max_iter = 10000);
 * Debian's libsvm has none it lets us set, and on noisy fMRI with C = 100
 * it runs for minutes (millions of iterations) where scikit-learn stops at
 * 10000 with a ConvergenceWarning.  A solver of our own also takes the
 * kernel matrix as it is, once per training part, for every C of the grid.
 *
 * The problem (Fan, Chen & Lin 2005, JMLR 6; libsvm's epsilon-SVR): for n
 * samples with kernel K and targets y, 2n variables, v < n the alpha_v of
 * sample v with sign s = +1, v >= n the alpha*_(v-n) with s = -1;
 *     min 1/2 a' Q a + p' a,  Q_uv = s_u s_v K(u, v),
 *     p_v = epsilon - s_v y_v,  sum_v s_v a_v = 0,  0 <= a_v <= C.
 * Each iteration picks a pair by WSS3 (second-order working-set
 * selection): i maximises -s_i G_i over the variables that may move up
 * along s (I_up), j among I_low minimises the decrease -b^2 / a of the
 * two-variable subproblem, with b = -s_i G_i + s_j G_j > 0 and a =
 * K_ii + K_jj - 2 K_ij (tau = 1e-12 when a <= 0).  The pair moves on the
 * line that keeps s_i a_i + s_j a_j, to the minimum clipped to [0, C],
 * and G moves by the two columns of Q.  It stops when m(a) - M(a) =
 * max_up(-s G) + max_low(s G) < tol.  The intercept is -rho, rho the mean
 * of s_v G_v over the free variables, or the midpoint of the bounds that
 * the bounded ones give when none is free.  The solution is beta = alpha -
 * alpha* (scikit-learn's dual_coef_).
 *
 * What makes it return what scikit-learn returns, not only a solution to
 * the same tolerance (capped fits have no unique answer: their weights
 * are where the path stopped):
 *  - Q is used in float32 (libsvm caches kernel columns as float; the
 *    diagonal stays double), so steps are the same to rounding.
 *  - Shrinking as libsvm's: every min(2n, 1000) iterations the variables at
 *    a bound whose gradient says they will stay there leave the active
 *    set (their positions are swapped to the end, which is also the order
 *    ties are broken in), G_bar (the part of G from the variables at C)
 *    rebuilds their gradient when the active set is found optimal or the
 *    violation first falls below 10 tol.  Variables live in position order
 *    in struct smo, swapped as the active set changes, for that reason.
 *  - The cap: at most max_iter pair updates (scikit-learn checks before
 *    each one); a capped fit computes rho over the active set as it is,
 *    without rebuilding the gradient of the shrunk variables, as
 *    scikit-learn's copy does (upstream libsvm rebuilds it first).
 * The arithmetic of the selection and update steps is ordered like
 * libsvm's, so on the same K the two take the same path: Debian's libsvm
 * (no cap) and this solver agree to rounding when both converge
 * (tests/unit/test_core_regress.c).  Nothing assumes a linear kernel.
 *
 * Memory: O(n) besides the caller's K.  Depends on base only (and libsvm
 * for the reference path).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libsvm/svm.h>

#include "nidec/mem.h"
#include "nidec/regress.h"
#include "nidec/svm.h"

#define TAU 1e-12

enum { AT_LOWER, AT_UPPER, AT_FREE };

/* The solver's state; every array but K is indexed by position, and a
 * swap of positions swaps all of them. */
struct smo {
	const double *K;   /* [n * n], the caller's */
	size_t n, l;       /* samples, variables (2n) */
	size_t active;     /* positions 0 .. active-1 are active */
	double C, tol;
	int unshrunk;      /* the whole gradient was rebuilt once near the end */
	double *a;         /* [l] the variable */
	double *G;         /* [l] gradient (stale outside the active set) */
	double *Gbar;      /* [l] sum of C Q_uv over the variables v at C */
	double *p;         /* [l] linear term */
	double *qd;        /* [l] K_ss of the variable's sample */
	size_t *smp;       /* [l] the variable's sample */
	signed char *s;    /* [l] +1 alpha, -1 alpha* */
	signed char *st;   /* [l] AT_LOWER, AT_UPPER, AT_FREE */
};

/* Q's magnitude between the samples of positions u and v: K in float32. */
static inline double qf(const struct smo *m, const double *row, size_t v)
{
	return (double)(float)row[m->smp[v]];
}

static inline const double *krow(const struct smo *m, size_t u)
{
	return m->K + m->smp[u] * m->n;
}

static void set_status(struct smo *m, size_t u)
{
	m->st[u] = m->a[u] >= m->C ? AT_UPPER : m->a[u] <= 0 ? AT_LOWER : AT_FREE;
}

/* may a_u grow along s_u (I_up) / shrink along it (I_low) */
static inline int in_up(const struct smo *m, size_t u)
{
	return m->s[u] > 0 ? m->st[u] != AT_UPPER : m->st[u] != AT_LOWER;
}

static inline int in_low(const struct smo *m, size_t u)
{
	return m->s[u] > 0 ? m->st[u] != AT_LOWER : m->st[u] != AT_UPPER;
}

static void swap_pos(struct smo *m, size_t u, size_t v)
{
	double d;
	size_t z;
	signed char c;

#define SWAP(x, t) (t = m->x[u], m->x[u] = m->x[v], m->x[v] = t)
	SWAP(a, d); SWAP(G, d); SWAP(Gbar, d); SWAP(p, d); SWAP(qd, d);
	SWAP(smp, z); SWAP(s, c); SWAP(st, c);
#undef SWAP
}

/*
 * The gradient of the inactive positions from G_bar and the free active
 * variables (variables at 0 add nothing, those at C are in G_bar).  Each
 * entry sums its terms in position order, as libsvm does whichever of its
 * two loop orders it picks.
 */
static void rebuild_gradient(struct smo *m)
{
	size_t u, v;

	if (m->active == m->l)
		return;
	for (u = m->active; u < m->l; u++) {
		const double *row = krow(m, u);
		double g = m->Gbar[u] + m->p[u];
		for (v = 0; v < m->active; v++)
			if (m->st[v] == AT_FREE)
				g += m->a[v] * (double)(m->s[u] * m->s[v]) * qf(m, row, v);
		m->G[u] = g;
	}
	m->active = m->l;
}

/*
 * WSS3 over the active positions: 1 when they are optimal to tol (or no
 * pair can improve), else 0 with the pair in *pi, *pj.  Ties go to the
 * later position (libsvm's >= and <=).
 */
static int select_pair(const struct smo *m, size_t *pi, size_t *pj)
{
	double gmax = -INFINITY, gmax2 = -INFINITY, best = INFINITY;
	size_t u, i = SIZE_MAX, j = SIZE_MAX;
	const double *row;

	for (u = 0; u < m->active; u++)
		if (in_up(m, u) && -m->s[u] * m->G[u] >= gmax) {
			gmax = -m->s[u] * m->G[u];
			i = u;
		}
	if (i == SIZE_MAX)
		return 1;
	row = krow(m, i);
	for (u = 0; u < m->active; u++) {
		double sg, b, quad, dec;
		if (!in_low(m, u))
			continue;
		sg = m->s[u] * m->G[u];
		if (sg >= gmax2)
			gmax2 = sg;
		b = gmax + sg;
		if (b <= 0)
			continue;
		quad = m->qd[i] + m->qd[u] - 2.0 * qf(m, row, u);
		dec = -(b * b) / (quad > 0 ? quad : TAU);
		if (dec <= best) {
			best = dec;
			j = u;
		}
	}
	if (gmax + gmax2 < m->tol || j == SIZE_MAX)
		return 1;
	*pi = i;
	*pj = j;
	return 0;
}

/*
 * Minimise over the pair (i, j) on its line and clip to the box.  With
 * opposite signs both variables move by the same amount (a_i - a_j is
 * kept); with equal signs one gains what the other loses (a_i + a_j is
 * kept).  A variable that would leave [0, C] stops on the bound and its
 * partner takes the value the kept quantity gives, so bounds are hit
 * exactly.  The unclipped step is the Newton step -b / quad along the
 * line (it decreases the objective: b > 0 by the selection).
 */
static void step_pair(struct smo *m, size_t i, size_t j, double *ai, double *aj)
{
	double C = m->C, kij = qf(m, krow(m, i), j);
	double quad = m->qd[i] + m->qd[j] - 2 * kij, x = m->a[i], y = m->a[j];

	if (quad <= 0)
		quad = TAU;
	if (m->s[i] != m->s[j]) {
		double d = x - y, t = (-m->G[i] - m->G[j]) / quad;
		x += t;
		y += t;
		/* the lower bound stops the smaller one, the upper the larger */
		if (d > 0 && y < 0) {
			y = 0;
			x = d;
		} else if (d <= 0 && x < 0) {
			x = 0;
			y = -d;
		}
		if (d > 0 && x > C) {
			x = C;
			y = C - d;
		} else if (d <= 0 && y > C) {
			y = C;
			x = C + d;
		}
	} else {
		double S = x + y, t = (m->G[i] - m->G[j]) / quad;
		x -= t;
		y += t;
		/* a sum above C can push either to C, one below C either to 0 */
		if (S > C) {
			if (x > C) {
				x = C;
				y = S - C;
			}
			if (y > C) {
				y = C;
				x = S - C;
			}
		} else {
			if (y < 0) {
				y = 0;
				x = S;
			}
			if (x < 0) {
				x = 0;
				y = S;
			}
		}
	}
	*ai = x;
	*aj = y;
}

/* Apply a step: G over the active set, the statuses, and G_bar (over
 * every position) for a variable that reached or left C. */
static void apply_step(struct smo *m, size_t i, size_t j, double ai, double aj)
{
	const double *ri = krow(m, i), *rj = krow(m, j);
	double di = m->s[i] * (ai - m->a[i]), dj = m->s[j] * (aj - m->a[j]);
	int ui = m->st[i] == AT_UPPER, uj = m->st[j] == AT_UPPER;
	size_t u;

	m->a[i] = ai;
	m->a[j] = aj;
	/* G_u += Q_ui da_i + Q_uj da_j, the signs taken out (exact) */
	for (u = 0; u < m->active; u++)
		m->G[u] += m->s[u] * (qf(m, ri, u) * di + qf(m, rj, u) * dj);
	set_status(m, i);
	set_status(m, j);
	if (ui != (m->st[i] == AT_UPPER)) {
		double c = ui ? -m->C : m->C;
		for (u = 0; u < m->l; u++)
			m->Gbar[u] += m->s[i] * m->s[u] * (c * qf(m, ri, u));
	}
	if (uj != (m->st[j] == AT_UPPER)) {
		double c = uj ? -m->C : m->C;
		for (u = 0; u < m->l; u++)
			m->Gbar[u] += m->s[j] * m->s[u] * (c * qf(m, rj, u));
	}
}

/* A bounded variable leaves the active set when its gradient points
 * further out than the largest violation of its side. */
static int stays_out(const struct smo *m, size_t u, double gup, double glow)
{
	double g = m->G[u];

	if (m->st[u] == AT_UPPER)
		return -g > (m->s[u] > 0 ? gup : glow);
	if (m->st[u] == AT_LOWER)
		return g > (m->s[u] > 0 ? glow : gup);
	return 0;
}

static void shrink(struct smo *m)
{
	double gup = -INFINITY, glow = -INFINITY; /* max -sG over I_up, max sG over I_low */
	size_t u;

	for (u = 0; u < m->active; u++) {
		double sg = m->s[u] * m->G[u];
		if (in_up(m, u) && -sg >= gup)
			gup = -sg;
		if (in_low(m, u) && sg >= glow)
			glow = sg;
	}
	/* near the end, once: every variable back, so that none is left out
	 * on a gradient that has gone stale */
	if (!m->unshrunk && gup + glow <= 10 * m->tol) {
		m->unshrunk = 1;
		rebuild_gradient(m);
	}
	for (u = 0; u < m->active; u++) {
		if (!stays_out(m, u, gup, glow))
			continue;
		/* fill position u from the end */
		while (--m->active > u)
			if (!stays_out(m, m->active, gup, glow)) {
				swap_pos(m, u, m->active);
				break;
			}
	}
}

/* rho over the active positions (sums in position order) */
static double rho_of(const struct smo *m)
{
	double ub = INFINITY, lb = -INFINITY, sum = 0;
	size_t u, nfree = 0;

	for (u = 0; u < m->active; u++) {
		double sg = m->s[u] * m->G[u];
		if (m->st[u] == AT_FREE) {
			nfree++;
			sum += sg;
		} else if ((m->st[u] == AT_UPPER) == (m->s[u] < 0)) {
			ub = fmin(ub, sg); /* alpha* at C or alpha at 0: rho <= sG */
		} else {
			lb = fmax(lb, sg);
		}
	}
	return nfree ? sum / (double)nfree : (ub + lb) / 2;
}

int nidec_svr_solve(const double *K, size_t n, const double *y, double C, double epsilon,
		    double tol, long max_iter, double *beta, double *intercept, long *n_iter,
		    nidec_err *err)
{
	struct smo m;
	size_t u, i, j, l = 2 * n;
	long iter = 0, counter;
	void *blk;

	if (n < 2)
		return nidec_fail(err, NIDEC_EINPUT, "svr: the training part needs at least 2 samples (has %zu)", n);
	if (!(C > 0) || !(epsilon >= 0) || !(tol > 0))
		return nidec_fail(err, NIDEC_EINPUT, "svr: C = %g, epsilon = %g, tol = %g: need C > 0, epsilon >= 0, tol > 0",
				  C, epsilon, tol);
	if (n > SIZE_MAX / 2 / (5 * sizeof(double) + sizeof(size_t) + 2))
		return nidec_fail(err, NIDEC_ENOMEM, "svr: %zu samples overflow the solver's arrays", n);
	blk = nidec_malloc_e(l, 5 * sizeof(double) + sizeof(size_t) + 2, "svr's solver state", err);
	if (!blk)
		return NIDEC_ENOMEM;
	m = (struct smo){ .K = K, .n = n, .l = l, .active = l, .C = C, .tol = tol };
	/* one block: five arrays of doubles, then the sample indices, then
	 * the signs and statuses */
	m.a = blk;
	m.G = m.a + l;
	m.Gbar = m.G + l;
	m.p = m.Gbar + l;
	m.qd = m.p + l;
	m.smp = (size_t *)(m.qd + l);
	m.s = (signed char *)(m.smp + l);
	m.st = m.s + l;
	for (u = 0; u < l; u++) {
		size_t k = u < n ? u : u - n;
		m.smp[u] = k;
		m.s[u] = u < n ? 1 : -1;
		m.a[u] = 0;
		m.st[u] = AT_LOWER;
		m.p[u] = u < n ? epsilon - y[k] : epsilon + y[k];
		m.G[u] = m.p[u]; /* a = 0 */
		m.Gbar[u] = 0;
		m.qd[u] = K[k * n + k];
	}
	counter = (long)(l < 1000 ? l : 1000) + 1;
	for (;;) {
		double ai, aj;
		if (max_iter > 0 && iter >= max_iter)
			break; /* scikit-learn's cap: rho from the active set as it is */
		if (--counter == 0) {
			counter = (long)(l < 1000 ? l : 1000);
			shrink(&m);
		}
		if (select_pair(&m, &i, &j)) {
			/* optimal on the active set: check on all of them */
			rebuild_gradient(&m);
			if (select_pair(&m, &i, &j))
				break;
			counter = 1; /* shrink again at the next iteration */
		}
		iter++;
		step_pair(&m, i, j, &ai, &aj);
		apply_step(&m, i, j, ai, aj);
	}
	*intercept = -rho_of(&m);
	for (u = 0; u < l; u++)
		if (m.s[u] > 0)
			beta[m.smp[u]] = m.a[u];
	for (u = 0; u < l; u++)
		if (m.s[u] < 0)
			beta[m.smp[u]] -= m.a[u];
	if (n_iter)
		*n_iter = iter;
	nidec_free(blk);
	return 0;
}

/* ---- the reference: Debian's libsvm on the precomputed kernel ---------- */

static void quiet(const char *s)
{
	(void)s;
}

/*
 * libsvm takes a precomputed kernel as rows of nodes: row i is {0: i + 1},
 * then {j + 1: K_ij} for every j, then the terminator.
 */
int nidec_svr_solve_libsvm(const double *K, size_t n, const double *y, double C, double epsilon,
			   double tol, double *beta, double *intercept, nidec_err *err)
{
	struct svm_problem prob;
	struct svm_parameter par;
	struct svm_model *model = NULL;
	struct svm_node *nodes = NULL, **rows = NULL;
	const char *why;
	size_t i, j, row = n + 2;
	int rc = 0, nsv, k;

	if (n < 2)
		return nidec_fail(err, NIDEC_EINPUT, "svr: the training part needs at least 2 samples (has %zu)", n);
	if (n + 2 > (size_t)INT32_MAX / (n + 2))
		return nidec_fail(err, NIDEC_EINPUT, "svr: %zu training samples is more than libsvm's int allows", n);
	nodes = nidec_malloc_e(n * row, sizeof(*nodes), "svr's kernel matrix", err);
	rows = nidec_malloc_e(n, sizeof(*rows), "svr's kernel rows", err);
	if (!nodes || !rows) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (i = 0; i < n; i++) {
		struct svm_node *r = nodes + i * row;
		rows[i] = r;
		r[0].index = 0;
		r[0].value = (double)(i + 1);
		for (j = 0; j < n; j++) {
			r[j + 1].index = (int)(j + 1);
			r[j + 1].value = K[i * n + j];
		}
		r[n + 1].index = -1;
		r[n + 1].value = 0;
	}
	prob.l = (int)n;
	prob.y = (double *)y; /* libsvm does not write it */
	prob.x = rows;
	memset(&par, 0, sizeof(par));
	par.svm_type = EPSILON_SVR;
	par.kernel_type = PRECOMPUTED;
	par.cache_size = 200;
	par.eps = tol;
	par.C = C;
	par.p = epsilon;
	par.shrinking = 1;
	par.probability = 0;
	why = svm_check_parameter(&prob, &par);
	if (why) {
		rc = nidec_fail(err, NIDEC_EINPUT, "svr: libsvm refuses C = %g, epsilon = %g, tol = %g: %s", C,
				epsilon, tol, why);
		goto done;
	}
	svm_set_print_string_function(quiet);
	model = svm_train(&prob, &par);
	if (!model) {
		rc = nidec_fail(err, NIDEC_ENOMEM, "svr: libsvm could not train (out of memory)");
		goto done;
	}
	nsv = svm_get_nr_sv(model);
	memset(beta, 0, n * sizeof(double));
	for (k = 0; k < nsv; k++) /* sv_indices are 1-based rows */
		beta[model->sv_indices[k] - 1] = model->sv_coef[0][k];
	*intercept = -model->rho[0];
done:
	svm_free_and_destroy_model(&model);
	nidec_free(nodes);
	nidec_free(rows);
	return rc;
}

/* ---- the linear model ---------------------------------------------------- */

int nidec_svr_fit(const double *X, size_t n, size_t p, const double *K, const double *y,
		  const nidec_svr_opts *o, double *coef, double *intercept, long *n_iter,
		  nidec_err *err)
{
	double *beta = NULL, *own = NULL;
	size_t i, j, nn;
	int rc;

	if (n < 2)
		return nidec_fail(err, NIDEC_EINPUT, "svr: the training part needs at least 2 samples (has %zu)", n);
	if (nidec_mul_size(n, n, &nn) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "svr: the kernel of %zu samples overflows", n);
	beta = nidec_malloc_e(n, sizeof(double), "svr's dual coefficients", err);
	if (!beta)
		return NIDEC_ENOMEM;
	if (!K) {
		own = nidec_malloc_e(nn, sizeof(double), "svr's kernel matrix", err);
		if (!own) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		NIDEC_TRY_GOTO(rc, nidec_gram(X, n, p, p, 0.0, own, n, err), done);
		K = own;
	}
	if (n_iter)
		*n_iter = -1;
	if (o->solver == NIDEC_SVR_LIBSVM)
		rc = nidec_svr_solve_libsvm(K, n, y, o->C, o->epsilon, o->tol, beta, intercept, err);
	else
		rc = nidec_svr_solve(K, n, y, o->C, o->epsilon, o->tol, o->max_iter, beta, intercept,
				     n_iter, err);
	if (rc < 0)
		goto done;
	/* coef = sum_i beta_i x_i over the support vectors, in sample order */
	memset(coef, 0, p * sizeof(double));
	for (i = 0; i < n; i++) {
		const double *x = X + i * p;
		double d = beta[i];
		if (d == 0)
			continue;
		for (j = 0; j < p; j++)
			coef[j] += d * x[j];
	}
done:
	nidec_free(own);
	nidec_free(beta);
	return rc;
}
