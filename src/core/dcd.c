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
 * repeats liblinear 2.3.0's solve_l2r_l1l2_svc step for step (the same
 * draws as liblinear's rand() after srand(seed) for the coordinate
 * permutation, same shrinking, same stopping rule
 * max PG - min PG <= eps), with the iteration limit as a parameter: with
 * max_iter = 1000 and liblinear's summation order it returns liblinear's
 * weights bit for bit (tests/unit/test_core_svm.c), with 10000 it converges
 * where scikit-learn does.
 *
 * One loop, three ways to hold the problem (nidec_dcd_problem.form):
 *  - PRIMAL64: dense double rows; the gradient of coordinate i needs w.x_i
 *    (O(d)) and an update adds to w (O(d)), as liblinear does.
 *  - PRIMAL32: the same with float32 rows and double w and sums: half the
 *    memory traffic.  Standardised values under compat = nilearn are
 *    float32 numbers (numpy's float32 z-scoring), so nothing is lost there.
 *  - KERNEL: the Gram matrix K = X X^T (constant feature included) instead
 *    of X: w.x_i = sum_k alpha_k y_k K_ik, a dot product over the active
 *    coordinates (see struct kblock), and an update changes one number.
 *    When samples are fewer than features this is much cheaper per step,
 *    and K is computed once per fold and shared by every C (and by every
 *    problem when no per-problem screening changes the features).
 * In exact arithmetic the three forms take the same steps (the same
 * coordinate, the same shrinking, the same new alpha), so they stop after
 * the same iterations at the same solution; in floating point they differ
 * by rounding only (a fit may stop one epoch earlier or later), within the
 * stopping tolerance.
 *
 * Warm start: alpha (and w) may hold a previous solution of the same
 * problem for another C (the C grid is solved in order, each C starting
 * where the previous one stopped).  The dual of the L2 loss has no upper
 * bound, so any alpha >= 0 is a valid start; the stopping rule is
 * liblinear's, unchanged, so the result is a solution to the same
 * tolerance.  Cold starts (alpha = 0) are what liblinear does.
 *
 * Speed notes: dot products are summed in 32 interleaved partial sums (four
 * independent 8-wide chains; `liblinear_order` = 1 keeps liblinear's single
 * chain for the bitwise test), the Gram matrix in 8 per entry; the kernel
 * form's rows are padded to whole blocks of 32 and multiply by 1/QD instead
 * of dividing (dotk, below).  Updates are
 * elementwise, so any vector width gives the same bits.  The coordinate
 * order draws from a private copy of glibc's rand() (no locked library call
 * per coordinate) and reduces it with a multiply instead of a division
 * (exact).  On x86-64 the loops are compiled for AVX-512, AVX2 and
 * the baseline and picked at run time (GCC target_clones); the operation
 * order is written out and the build does not contract a*b+c into FMA
 * (ISO C mode), so every clone returns the same bits: ranks on different
 * CPUs agree.  Depends on base only.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nidec/mem.h"
#include "nidec/svm.h"

#include "bigmem.h"
#include "clones.h"

/* liblinear's sparse_operator::dot order */
static double dot_seq(const double *w, const double *x, size_t d)
{
	double ret = 0;
	size_t j;

	for (j = 0; j < d; j++)
		ret += w[j] * x[j];
	return ret;
}

/* Elements per block of the vectorised loops (updates), and partial sums
 * of the dot products: 32 partial sums keep four 8-wide (or eight 4-wide)
 * independent addition chains in flight. */
#define NPART 16
#define DPART 32


/* the DPART partial sums, combined pairwise */
static inline double combine32(const double *r)
{
	double a = (((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))) +
		   (((r[8] + r[9]) + (r[10] + r[11])) + ((r[12] + r[13]) + (r[14] + r[15])));
	double b = (((r[16] + r[17]) + (r[18] + r[19])) + ((r[20] + r[21]) + (r[22] + r[23]))) +
		   (((r[24] + r[25]) + (r[26] + r[27])) + ((r[28] + r[29]) + (r[30] + r[31])));
	return a + b;
}

/*
 * DPART partial sums over whole blocks, combined, then the tail in order.
 * Partial sum k of the block starting at j is r[k] += w[j+k] x[j+k]; the
 * four 8-wide GCC vectors below hold r[0..7], r[8..15], ... (GCC lowers
 * them to whatever the clone's ISA has, so every clone adds the same
 * numbers in the same order).
 */
typedef double v8d __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));

/* (macros, not functions: a function returning a 64-byte vector has an
 * ABI that depends on the clone's ISA) */
#define LD8(v, p) memcpy(&(v), (p), sizeof(v8d))
#define LD8F(v, p)                                   \
	do {                                         \
		v8f f_;                              \
		memcpy(&f_, (p), sizeof(f_));        \
		(v) = __builtin_convertvector(f_, v8d); \
	} while (0)
/* The 32 partial sums of w[0..) . x[0..) over whole blocks of DPART into
 * a0..a3, loading x with LDX (LD8 or LD8F); j ends at the first element
 * of the tail.  pf (a float pointer, or NULL) is a row to prefetch as the
 * loop goes, one cache line per 16 of its values (dot32f). */
#define DOT_BLOCKS(j, d, w, x, LDX, a0, a1, a2, a3, pf)       \
	do {                                                   \
		v8d w0_, w1_, w2_, w3_, x0_, x1_, x2_, x3_;    \
		for ((j) = 0; (j) + DPART <= (d); (j) += DPART) { \
			if (pf) {                              \
				__builtin_prefetch((pf) + (j), 0, 3);      \
				__builtin_prefetch((pf) + (j) + 16, 0, 3); \
			}                                      \
			LD8(w0_, (w) + (j));                   \
			LD8(w1_, (w) + (j) + 8);               \
			LD8(w2_, (w) + (j) + 16);              \
			LD8(w3_, (w) + (j) + 24);              \
			LDX(x0_, (x) + (j));                   \
			LDX(x1_, (x) + (j) + 8);               \
			LDX(x2_, (x) + (j) + 16);              \
			LDX(x3_, (x) + (j) + 24);              \
			(a0) += w0_ * x0_;                     \
			(a1) += w1_ * x1_;                     \
			(a2) += w2_ * x2_;                     \
			(a3) += w3_ * x3_;                     \
		}                                              \
	} while (0)
#define FINISH32(ret, a0, a1, a2, a3)             \
	do {                                      \
		double r_[DPART];                 \
		memcpy(r_, &(a0), sizeof(v8d));   \
		memcpy(r_ + 8, &(a1), sizeof(v8d));  \
		memcpy(r_ + 16, &(a2), sizeof(v8d)); \
		memcpy(r_ + 24, &(a3), sizeof(v8d)); \
		(ret) = combine32(r_);            \
	} while (0)

NIDEC_CLONES
static double dot32(const double *restrict w, const double *restrict x, size_t d)
{
	v8d a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
	double ret;
	size_t j;

	DOT_BLOCKS(j, d, w, x, LD8, a0, a1, a2, a3, (const float *)NULL);
	FINISH32(ret, a0, a1, a2, a3);
	for (; j < d; j++)
		ret += w[j] * x[j];
	return ret;
}

/*
 * The kernel form's dot product: the same 32 partial sums, combined as
 * vectors (the four 8-wide sums added elementwise, then the 8 lanes
 * pairwise), then the tail in order.  Its rows are short (the active block,
 * typically a few hundred values) and padded to whole vector blocks
 * (NIDEC_DCD_KPAD), so the combination is a large share of each call:
 * 7 scalar additions here instead of combine32's 31 (step g: ~10 % less
 * CPU).  Elementwise and written out, so every clone gives the same bits.
 */
NIDEC_CLONES
static double dotk(const double *restrict u, const double *restrict k, size_t n)
{
	v8d a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 }, sv;
	double s[8], ret;
	size_t j;

	DOT_BLOCKS(j, n, u, k, LD8, a0, a1, a2, a3, (const float *)NULL);
	sv = (a0 + a1) + (a2 + a3);
	memcpy(s, &sv, sizeof(s));
	ret = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
	for (; j < n; j++)
		ret += u[j] * k[j];
	return ret;
}

/*
 * The primal form's dot product over a float32 row, asking for the next
 * step's row (`next`, the same length; NULL = none) as it goes: two cache
 * lines of it per block of 32 values, so the whole row is on its way when
 * this one is done.  The rows are visited in random order and are 20-25
 * KiB at full size, so the hardware prefetcher starts late in each row and
 * the dot product waits on memory (47 % of workload 2's profile).  A hint
 * only: the same sums in the same order.  (prefetcht0: one outer fold of
 * workload 2, 7.4 -> 5.3 s of CPU; L2 hints, or the row after next, did
 * no better.)
 */
NIDEC_CLONES
static double dot32f(const double *restrict w, const float *restrict x, size_t d,
		     const float *next)
{
	v8d a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
	double ret;
	size_t j;

	DOT_BLOCKS(j, d, w, x, LD8F, a0, a1, a2, a3, next);
	FINISH32(ret, a0, a1, a2, a3);
	for (; j < d; j++)
		ret += w[j] * (double)x[j];
	return ret;
}

/*
 * rand() of the GNU C library (random(3), TYPE_3: additive feedback
 * r[i] = r[i-3] + r[i-31], output r >> 1), seeded as srand() seeds it, so
 * the coordinate order is liblinear's (which calls rand()) without a
 * locked library call per coordinate.  tests/unit/test_core_svm.c checks
 * it against rand().
 */
struct glibc_rand {
	int32_t r[31];
	int f, b;
};

static void grand_seed(struct glibc_rand *g, unsigned seed)
{
	int32_t word;
	int i;

	if (seed == 0)
		seed = 1;
	g->r[0] = (int32_t)seed;
	word = (int32_t)seed;
	for (i = 1; i < 31; i++) {
		long hi = word / 127773, lo = word % 127773;
		word = (int32_t)(16807 * lo - 2836 * hi);
		if (word < 0)
			word += 2147483647;
		g->r[i] = word;
	}
	g->f = 3;
	g->b = 0;
	for (i = 0; i < 310; i++) {
		g->r[g->f] = (int32_t)((uint32_t)g->r[g->f] + (uint32_t)g->r[g->b]);
		g->f = g->f == 30 ? 0 : g->f + 1;
		g->b = g->b == 30 ? 0 : g->b + 1;
	}
}

static inline int grand_next(struct glibc_rand *g)
{
	uint32_t v = (uint32_t)g->r[g->f] + (uint32_t)g->r[g->b];

	g->r[g->f] = (int32_t)v;
	g->f = g->f == 30 ? 0 : g->f + 1;
	g->b = g->b == 30 ? 0 : g->b + 1;
	return (int)(v >> 1);
}

/*
 * r % n for 0 <= r < 2^31 and 1 <= n < 2^31 without a division: Lemire,
 * Kaser and Kurz, "Faster remainder by direct computation" (2019), exact
 * for all 32-bit operands, with M = 2^64 / n rounded up (one table per
 * solve, n = 1..l).
 */
static inline uint32_t fastmod(uint32_t r, uint64_t M, uint32_t n)
{
	uint64_t low = M * r;

	return (uint32_t)(((unsigned __int128)low * n) >> 64);
}

int nidec_dcd_rand_check(unsigned seed, int n)
{
	struct glibc_rand g;
	int i;

	grand_seed(&g, seed);
	srand(seed);
	for (i = 0; i < n; i++)
		if (grand_next(&g) != rand())
			return i + 1;
	return 0;
}

/* w += a x, liblinear's sparse_operator::axpy (elementwise: any order).
 * Written in blocks of NPART so that GCC's -O2 (which does not vectorise
 * loops of unknown length) vectorises the block body. */
NIDEC_CLONES
static void axpy(double a, const double *restrict x, double *restrict w, size_t d)
{
	size_t j, k;

	for (j = 0; j + NPART <= d; j += NPART)
		for (k = 0; k < NPART; k++)
			w[j + k] += a * x[j + k];
	for (; j < d; j++)
		w[j] += a * x[j];
}

NIDEC_CLONES
static void axpyf(double a, const float *restrict x, double *restrict w, size_t d)
{
	size_t j, k;

	for (j = 0; j + NPART <= d; j += NPART)
		for (k = 0; k < NPART; k++)
			w[j + k] += a * (double)x[j + k];
	for (; j < d; j++)
		w[j] += a * (double)x[j];
}

/*
 * The kernel form's working set.  The gradient of coordinate i needs
 * w.x_i = sum_k alpha_k y_k K_ik.  Shrinking only ever removes coordinates
 * with alpha = 0 (the L2 loss has no upper bound), and a removed
 * coordinate's alpha stays 0, so every non-zero alpha belongs to the active
 * set: a sum over any set of coordinates that contains the active set is
 * the whole sum.  Each gradient is one dot product of u (u_k = alpha_k y_k)
 * with a row of K, and an update changes one number of u; nothing else is
 * maintained, so nothing goes stale.
 *  - Full view: K as the caller holds it (rows kidx[i], m columns, u
 *    scattered to K's columns with zeros elsewhere).  No copy.
 *  - Block: once the active set has fallen below 7/8 of the view (checked
 *    at the start of an epoch), the rows and columns of the active
 *    coordinates are compacted into `buf` (in place from an older block),
 *    so a gradient costs nb, not m, and the block stays in L2.
 * liblinear's "unshrink" (all coordinates active again) goes back to the
 * full view.
 */
struct kblock {
	int full;         /* 1: full view of K, 0: compacted block */
	size_t nb;        /* coordinates in the view: m (full) or in the block */
	size_t nd;        /* dot product length: m (full), or nb rounded up to a
			   * multiple of NIDEC_DCD_KPAD (block: zeros past nb) */
	const double *Kb; /* K or buf */
	size_t ldb;       /* row stride */
	int *blk;         /* [l] block position -> coordinate, ascending */
	size_t *pos;      /* [l] coordinate -> row of Kb and index of ub */
	size_t *oldp;     /* [l] scratch */
	double *buf;      /* [NIDEC_DCD_KBUF_LEN(l)] compacted rows */
	double *ub;       /* [max(l + NIDEC_DCD_KPAD, m)] u in the view's column order */
	double *tmp;      /* [l] scratch */
	char *on;         /* [l] scratch: active flags */
};

/* Ask for the start of the next step's row of K while this step's dot
 * product runs: the rows are visited in random order, so the hardware
 * prefetcher only catches on a few lines into each row, and a block of
 * ~300 active coordinates (0.7 MiB) sits in L2, not L1.  A hint only: no
 * value changes.  Step g (corebench): ~5 % less CPU with the first 1 KiB
 * (16 lines); 512 bytes and 2 KiB or whole rows did no better. */
#define KPREFETCH_BYTES 1024

static inline void prefetch_row(const double *row, size_t n)
{
	const char *p = (const char *)row;
	size_t bytes = n * sizeof(double), o;

	for (o = 0; o < bytes && o < KPREFETCH_BYTES; o += 64)
		__builtin_prefetch(p + o);
}

static size_t kcol(const nidec_dcd_problem *pb, size_t i)
{
	return pb->kidx ? pb->kidx[i] : i;
}

/* The whole of K, as a view. */
static void block_full(const nidec_dcd_problem *pb, struct kblock *kb, const double *alpha)
{
	size_t a, m = pb->kidx ? pb->m : pb->l;

	memset(kb->ub, 0, m * sizeof(double));
	for (a = 0; a < pb->l; a++) {
		kb->pos[a] = kcol(pb, a);
		kb->ub[kb->pos[a]] = alpha[a] * (double)pb->y[a];
	}
	kb->full = 1;
	kb->nb = m;
	kb->nd = m;
	kb->Kb = pb->K;
	kb->ldb = pb->ld;
}

/* Compact to the coordinates index[0..n_act) (all in the view), in
 * ascending order; in place when the block already lives in buf. */
static void block_shrink(const nidec_dcd_problem *pb, struct kblock *kb, const int *index,
			 size_t n_act)
{
	size_t l = pb->l, a, b, nb = 0, nd, ldo = kb->ldb;
	const double *src = kb->Kb;

	memset(kb->on, 0, l);
	for (a = 0; a < n_act; a++)
		kb->on[index[a]] = 1;
	if (kb->full) {
		for (a = 0; a < l; a++)
			if (kb->on[a]) {
				kb->blk[nb] = (int)a;
				kb->oldp[nb] = kb->pos[a];
				nb++;
			}
	} else {
		for (a = 0; a < kb->nb; a++)
			if (kb->on[kb->blk[a]]) {
				kb->blk[nb] = kb->blk[a];
				kb->oldp[nb] = a;
				nb++;
			}
	}
	/* rows of nd values, zeros past nb: the dot products then run over
	 * whole vector blocks (the zeros add nothing).  In place from an
	 * older block: a <= oldp[a], b <= oldp[b] and nd <= ldo, so position
	 * a * nd + b is at or before its source oldp[a] * ldo + oldp[b] and
	 * before every later row's; written in ascending order, with each
	 * row's padding after the row was read, no source is overwritten
	 * before it is read.  From the full view the sources are K's columns,
	 * in any order, hence the scratch copy of u. */
	nd = (nb + NIDEC_DCD_KPAD - 1) / NIDEC_DCD_KPAD * NIDEC_DCD_KPAD;
	for (a = 0; a < nb; a++) {
		const double *sr = src + kb->oldp[a] * ldo;
		double *dr = kb->buf + a * nd;
		for (b = 0; b < nb; b++)
			dr[b] = sr[kb->oldp[b]];
		for (; b < nd; b++)
			dr[b] = 0;
		kb->tmp[a] = kb->ub[kb->oldp[a]];
	}
	memcpy(kb->ub, kb->tmp, nb * sizeof(double));
	for (a = nb; a < nd; a++)
		kb->ub[a] = 0;
	for (a = 0; a < nb; a++)
		kb->pos[kb->blk[a]] = a;
	kb->full = 0;
	kb->nb = nb;
	kb->nd = nd;
	kb->Kb = kb->buf;
	kb->ldb = nd;
}

/* Four rows at a time: each row's sum is its own chain in feature order
 * (the same bits as one row at a time), and the four chains overlap the
 * latency of the additions. */
void nidec_dcd_norms32(const float *x32, size_t l, size_t d, size_t ld, double *norm2)
{
	size_t i, j;

	for (i = 0; i + 4 <= l; i += 4) {
		const float *x0 = x32 + i * ld, *x1 = x0 + ld, *x2 = x1 + ld, *x3 = x2 + ld;
		double n0 = 0, n1 = 0, n2 = 0, n3 = 0;
		for (j = 0; j < d; j++) {
			n0 += (double)x0[j] * (double)x0[j];
			n1 += (double)x1[j] * (double)x1[j];
			n2 += (double)x2[j] * (double)x2[j];
			n3 += (double)x3[j] * (double)x3[j];
		}
		norm2[i] = n0;
		norm2[i + 1] = n1;
		norm2[i + 2] = n2;
		norm2[i + 3] = n3;
	}
	for (; i < l; i++) {
		const float *xi = x32 + i * ld;
		double nrm = 0;
		for (j = 0; j < d; j++)
			nrm += (double)xi[j] * (double)xi[j];
		norm2[i] = nrm;
	}
}

int nidec_dcd_solve(const nidec_dcd_problem *pb, double C, double eps, int max_iter,
		    int liblinear_order, unsigned seed, double *alpha, double *wv, int warm,
		    int *n_iter, nidec_err *err)
{
	struct glibc_rand rng;
	const signed char *y = pb->y;
	double *QD = NULL, *QDinv = NULL;
	uint64_t *magic = NULL;
	int *index = NULL;
	int i, s, iter = 0, active_size, li;
	double diag = 0.5 / C, upper_bound = INFINITY;
	double PGmax_old = INFINITY, PGmin_old = -INFINITY, PGmax_new, PGmin_new;
	size_t j, l = pb->l, d = pb->d, ld = pb->ld, ll;
	int form = pb->form, rc = 0;
	struct kblock kb;
	double *own_buf = NULL;

	memset(&kb, 0, sizeof(kb));
	if (l > (size_t)2147483647)
		return nidec_fail(err, NIDEC_EINPUT, "dcd: %zu training samples exceed the solver's int limit", l);
	li = (int)l;
	QD = nidec_malloc_e(l ? l : 1, sizeof(*QD), "solver diagonal", err);
	index = nidec_malloc_e(l ? l : 1, sizeof(*index), "solver order", err);
	magic = nidec_malloc_e(l + 1, sizeof(*magic), "solver order", err);
	if (!QD || !index || !magic) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	magic[0] = 0;
	for (j = 1; j <= l; j++)
		magic[j] = UINT64_MAX / j + 1;
	if (form == NIDEC_DCD_KERNEL) {
		if (nidec_mul_size(l, l + NIDEC_DCD_KPAD, &ll) < 0) { /* NIDEC_DCD_KBUF_LEN */
			rc = nidec_fail(err, NIDEC_ENOMEM, "dcd: kernel block of %zu samples overflows", l);
			goto done;
		}
		size_t m = pb->kidx ? pb->m : l, lp = l + NIDEC_DCD_KPAD;
		kb.blk = nidec_malloc_e(l ? l : 1, sizeof(int), "solver block", err);
		kb.pos = nidec_malloc_e(l ? l : 1, sizeof(size_t), "solver block", err);
		kb.oldp = nidec_malloc_e(l ? l : 1, sizeof(size_t), "solver block", err);
		if (pb->kbuf)
			kb.buf = pb->kbuf;
		else
			kb.buf = own_buf = nidec_malloc_e(ll ? ll : 1, sizeof(double), "solver block", err);
		kb.ub = nidec_malloc_e(m > lp ? m : lp, sizeof(double), "solver block", err);
		kb.tmp = nidec_malloc_e(l ? l : 1, sizeof(double), "solver block", err);
		kb.on = nidec_malloc_e(l ? l : 1, 1, "solver block", err);
		QDinv = nidec_malloc_e(l ? l : 1, sizeof(double), "solver diagonal", err);
		if (!QDinv || !kb.blk || !kb.pos || !kb.oldp || !kb.buf || !kb.ub || !kb.tmp || !kb.on) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		nidec_hint_huge(own_buf, ll * sizeof(double));
	}
	if (!warm) {
		for (i = 0; i < li; i++)
			alpha[i] = 0;
		if (form != NIDEC_DCD_KERNEL)
			for (j = 0; j < d; j++)
				wv[j] = 0;
	}
	if (form == NIDEC_DCD_PRIMAL32 && !pb->norm2)
		nidec_dcd_norms32(pb->x32, l, d, ld, QD);
	for (i = 0; i < li; i++) {
		double nrm = 0;
		if (form == NIDEC_DCD_KERNEL) {
			nrm = pb->K[kcol(pb, (size_t)i) * ld + kcol(pb, (size_t)i)];
		} else if (form == NIDEC_DCD_PRIMAL32) {
			nrm = pb->norm2 ? pb->norm2[i] : QD[i];
		} else {
			const double *xi = pb->x64 + (size_t)i * ld;
			for (j = 0; j < d; j++)
				nrm += xi[j] * xi[j];
		}
		QD[i] = diag;
		QD[i] += nrm;
		if (QDinv)
			QDinv[i] = 1.0 / QD[i];
		index[i] = i;
	}
	active_size = li;
	grand_seed(&rng, seed);
	if (form == NIDEC_DCD_KERNEL)
		block_full(pb, &kb, alpha);
	while (iter < max_iter) {
		PGmax_new = -INFINITY;
		PGmin_new = INFINITY;
		if (form == NIDEC_DCD_KERNEL && (size_t)active_size * 8 < (kb.full ? l : kb.nb) * 7)
			block_shrink(pb, &kb, index, (size_t)active_size);
		for (i = 0; i < active_size; i++) {
			uint32_t n_left = (uint32_t)(active_size - i);
			int k = i + (int)fastmod((uint32_t)grand_next(&rng), magic[n_left], n_left);
			int t = index[i];
			index[i] = index[k];
			index[k] = t;
		}
		for (s = 0; s < active_size; s++) {
			double G, PG, yi, wx;

			i = index[s];
			yi = y[i];
			if (form == NIDEC_DCD_KERNEL && s + 1 < active_size)
				prefetch_row(kb.Kb + kb.pos[index[s + 1]] * kb.ldb, kb.nd);
			if (form == NIDEC_DCD_KERNEL)
				wx = dotk(kb.ub, kb.Kb + kb.pos[i] * kb.ldb, kb.nd);
			else if (form == NIDEC_DCD_PRIMAL32)
				wx = dot32f(wv, pb->x32 + (size_t)i * ld, d,
					    s + 1 < active_size ? pb->x32 + (size_t)index[s + 1] * ld : NULL);
			else if (liblinear_order)
				wx = dot_seq(wv, pb->x64 + (size_t)i * ld, d);
			else
				wx = dot32(wv, pb->x64 + (size_t)i * ld, d);
			G = yi * wx - 1;
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
				/* (the kernel form multiplies by 1/QD: the division's
				 * latency is on its critical path, through u) */
				double alpha_old = alpha[i], dd;
				double a = alpha[i] - (QDinv ? G * QDinv[i] : G / QD[i]);
				a = a > 0.0 ? a : 0.0;
				alpha[i] = a < upper_bound ? a : upper_bound;
				dd = (alpha[i] - alpha_old) * yi;
				if (form == NIDEC_DCD_KERNEL)
					kb.ub[kb.pos[i]] = alpha[i] * yi;
				else if (form == NIDEC_DCD_PRIMAL32)
					axpyf(dd, pb->x32 + (size_t)i * ld, wv, d);
				else
					axpy(dd, pb->x64 + (size_t)i * ld, wv, d);
			}
		}
		iter++;
		if (PGmax_new - PGmin_new <= eps) {
			if (active_size == li)
				break;
			active_size = li;
			PGmax_old = INFINITY;
			PGmin_old = -INFINITY;
			if (form == NIDEC_DCD_KERNEL)
				block_full(pb, &kb, alpha);
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
done:
	nidec_free(QD);
	nidec_free(QDinv);
	nidec_free(index);
	nidec_free(magic);
	nidec_free(kb.blk);
	nidec_free(kb.pos);
	nidec_free(kb.oldp);
	nidec_free(own_buf);
	nidec_free(kb.ub);
	nidec_free(kb.tmp);
	nidec_free(kb.on);
	return rc;
}

int nidec_dcd_l2svc(const double *x, const signed char *y, size_t l, size_t d, double C,
		    double eps, int max_iter, int liblinear_order, unsigned seed, double *w,
		    int *n_iter, nidec_err *err)
{
	nidec_dcd_problem pb;
	double *alpha;
	int rc;

	memset(&pb, 0, sizeof(pb));
	pb.form = NIDEC_DCD_PRIMAL64;
	pb.l = l;
	pb.y = y;
	pb.d = pb.ld = d;
	pb.x64 = x;
	alpha = nidec_malloc_e(l ? l : 1, sizeof(*alpha), "solver duals", err);
	if (!alpha)
		return NIDEC_ENOMEM;
	rc = nidec_dcd_solve(&pb, C, eps, max_iter, liblinear_order, seed, alpha, w, 0, n_iter, err);
	nidec_free(alpha);
	return rc;
}

/* ---- Gram matrices ------------------------------------------------------ */

/*
 * K[i][j] = z_i . z_j + c for rows of Z (n x d, stride ldz), lower and upper
 * triangle both written.  Each entry is the sum of GPART partial sums
 * (partial sum k collects the features k, k + 8, k + 16, ... of the whole
 * blocks of 8), combined pairwise, then the tail in order: the same
 * numbers in the same order whatever the tile, the clone or the CPU, so
 * K[i][j] and K[j][i] are one number and every rank gets the same bits.
 * Tiles of 4 x 4 rows keep 16 running 8-wide sums in registers (AVX-512)
 * and read each row block once per tile; GBK features per pass keep the
 * tile's rows in L1.
 */
#define GPART 8
#define GBK 256

static inline double combine8(const double *r)
{
	return ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
}

/* acc[a][b] += sum over k in [k0, k1) (multiples of 8) of z_{i0+a} * z_{j0+b} */
NIDEC_CLONES
static void gram_tile44(const double *restrict Z, size_t ldz, size_t i0, size_t j0, size_t k0,
			size_t k1, v8d *restrict acc)
{
	const double *z0 = Z + i0 * ldz, *z1 = z0 + ldz, *z2 = z1 + ldz, *z3 = z2 + ldz;
	const double *y0 = Z + j0 * ldz, *y1 = y0 + ldz, *y2 = y1 + ldz, *y3 = y2 + ldz;
	v8d c00 = acc[0], c01 = acc[1], c02 = acc[2], c03 = acc[3];
	v8d c10 = acc[4], c11 = acc[5], c12 = acc[6], c13 = acc[7];
	v8d c20 = acc[8], c21 = acc[9], c22 = acc[10], c23 = acc[11];
	v8d c30 = acc[12], c31 = acc[13], c32 = acc[14], c33 = acc[15];
	size_t k;

	for (k = k0; k < k1; k += GPART) {
		v8d a0, a1, a2, a3, b0, b1, b2, b3;
		LD8(a0, z0 + k);
		LD8(a1, z1 + k);
		LD8(a2, z2 + k);
		LD8(a3, z3 + k);
		LD8(b0, y0 + k);
		LD8(b1, y1 + k);
		LD8(b2, y2 + k);
		LD8(b3, y3 + k);
		c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
		c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
		c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
		c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
	}
	acc[0] = c00; acc[1] = c01; acc[2] = c02; acc[3] = c03;
	acc[4] = c10; acc[5] = c11; acc[6] = c12; acc[7] = c13;
	acc[8] = c20; acc[9] = c21; acc[10] = c22; acc[11] = c23;
	acc[12] = c30; acc[13] = c31; acc[14] = c32; acc[15] = c33;
}

/* the same for a partial tile (ni x nj rows, ni, nj <= 4) */
NIDEC_CLONES
static void gram_tile_edge(const double *restrict Z, size_t ldz, size_t i0, size_t ni,
			   size_t j0, size_t nj, size_t k0, size_t k1, v8d *restrict acc)
{
	size_t a, b, k;

	for (a = 0; a < ni; a++)
		for (b = 0; b < nj; b++) {
			const double *za = Z + (i0 + a) * ldz, *yb = Z + (j0 + b) * ldz;
			v8d c = acc[a * 4 + b], x, y;
			for (k = k0; k < k1; k += GPART) {
				LD8(x, za + k);
				LD8(y, yb + k);
				c += x * y;
			}
			acc[a * 4 + b] = c;
		}
}

int nidec_gram(const double *Z, size_t n, size_t d, size_t ldz, double c, double *K,
	       size_t ldk, nidec_err *err)
{
	v8d acc[16]; /* (on the stack: 64-byte aligned, which malloc does not promise) */
	size_t i0, j0, kfull = d - d % GPART;

	(void)err;
	for (i0 = 0; i0 < n; i0 += 4) {
		size_t ni = n - i0 < 4 ? n - i0 : 4;
		for (j0 = 0; j0 <= i0; j0 += 4) {
			size_t nj = n - j0 < 4 ? n - j0 : 4, k0, a, b, k;
			memset(acc, 0, 16 * sizeof(v8d));
			for (k0 = 0; k0 < kfull; k0 += GBK) {
				size_t k1 = k0 + GBK < kfull ? k0 + GBK : kfull;
				if (ni == 4 && nj == 4)
					gram_tile44(Z, ldz, i0, j0, k0, k1, acc);
				else
					gram_tile_edge(Z, ldz, i0, ni, j0, nj, k0, k1, acc);
			}
			for (a = 0; a < ni; a++)
				for (b = 0; b < nj; b++) {
					const double *zi = Z + (i0 + a) * ldz, *zj = Z + (j0 + b) * ldz;
					double r[GPART], sum;
					memcpy(r, &acc[a * 4 + b], sizeof(r));
					sum = combine8(r);
					for (k = kfull; k < d; k++)
						sum += zi[k] * zj[k];
					sum += c;
					K[(i0 + a) * ldk + j0 + b] = sum;
					K[(j0 + b) * ldk + i0 + a] = sum;
				}
		}
	}
	return 0;
}
