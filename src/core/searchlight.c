/*
 * searchlight.c - the searchlight's tasks and reduce (include/nidec/
 * searchlight.h).
 *
 * A searchlight reuses the decoder's plan (plan.h) for everything but the
 * features: the folds, the labels of each permutation, the binary
 * problems, the C selection rule, the standardisation scope, the scoring,
 * the seed.  What it adds is the sphere: a task (permutation, block of
 * centres) gathers the raw values of the union U of its spheres' voxels
 * once (G, all samples x |U|), and for each training part it fits:
 *  - standardises U's columns on the part's training rows (or takes the
 *    global statistics), into Ztr and Zte, float32, |U| columns;
 *  - per sphere and problem, copies the sphere's columns of Ztr into
 *    contiguous solver rows (+1 rows first, the constant 1 last, 64-byte
 *    stride) and solves the linear SVC (L2 penalty, squared hinge, the
 *    intercept as a constant feature: LinearSVC's problem) by Newton's
 *    method in the primal (newton.c) over the C grid with warm starts;
 *  - decides the test rows from Zte in double, in feature order.
 * So per fit the solver touches only (sphere voxels + 1) floats per row:
 * no liblinear copy (16 bytes a value), no allocation per sphere, and the
 * standardisation of a voxel is done once per part, not once per sphere
 * holding it.
 *
 * Why Newton, and in both modes: a sphere has ~20-100 voxels and a part a
 * few hundred samples, most of them support vectors; liblinear's dual
 * coordinate descent needs hundreds of epochs there (~550 on the bundled
 * slice) and often stops at LinearSVC's max_iter = 1000 unconverged, with
 * weights that depend on its random coordinate order - nilearn's own
 * maps move between runs there.  Newton reaches the problem's unique
 * minimiser in ~3-8 iterations of a (d + 1)^2 system, so where LinearSVC
 * converges both give the same weights within its tolerance, and where
 * it does not nidec gives the answer LinearSVC is heading for: under
 * compat = nilearn this matched nilearn's reference maps in more spheres
 * than liblinear's own iterates stopped at 1000 epochs (docs/NILEARN.md
 * "Searchlight").  The kernel form (a Gram matrix, l^2 d) would cost more
 * than the primal it replaces (d^2 per active sample, once).
 *
 * Continuous targets (estimator svr, task = regression): one problem, the
 * target, scored by the regression scorings.  Per sphere and training
 * part the kernel of the part's rows is built once (a linear Gram matrix,
 * or scikit-learn SVR()'s RBF kernel with gamma = 'scale', 1 / (d
 * var(X_train)), as nilearn's SearchLight(estimator='svr') fits) and every
 * C of the grid is solved on it by nidec's SMO (regress.h), each from
 * zero, as scikit-learn does.  Spheres are small (d ~ 20-100 voxels), so
 * the kernel (ntr^2 d) is cheap next to the solver.
 *
 * Determinism: every fit's seed mixes (seed, permutation, centre, outer
 * fold, inner fold, problem, C); blocks only group work.  Results are
 * stored by task and reduced in centre order.  Depends on base and core.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/metrics.h"
#include "nidec/regress.h"
#include "nidec/rng.h"
#include "nidec/searchlight.h"
#include "nidec/svm.h"
#include "plan_int.h"

#define SL_TAG 0x736c6974ULL /* 'slit' */

struct nidec_sl {
	nidec_plan *pl;          /* folds, labels, problems, rules */
	const nidec_spheres *sp; /* borrowed */
	double *C;
	size_t n_C;
	size_t min_voxels;
	int max_iter;            /* of the other estimators' solvers */
	size_t block, n_blocks, n_tasks;
	size_t n_keys;           /* 1 (two classes) or K */
	int multi_acc;           /* compat = nilearn, K > 2: map = multiclass accuracy */
	int fast;                /* svc + dcd: Newton on the sphere's rows (above) */
	int svr;                 /* a continuous target: svr on a kernel (above) */
	int svr_rbf;             /* its kernel: RBF with gamma 'scale', else linear */
	long svr_max_iter;       /* its SMO's cap, <= 0: none */
	double *block_cost;      /* [n_blocks] */
	const float *X;          /* borrowed (nidec_sl_prepare) */
	nidec_scaler global;     /* STD_GLOBAL */
};

void nidec_sl_free(nidec_sl **slp)
{
	nidec_sl *sl = slp ? *slp : NULL;

	if (!sl)
		return;
	nidec_plan_free(&sl->pl);
	nidec_free(sl->C);
	nidec_free(sl->block_cost);
	nidec_scaler_release(&sl->global);
	nidec_free(sl);
	*slp = NULL;
}

static int sphere_fitted(const nidec_sl *sl, size_t c)
{
	return sl->sp->ptr[c + 1] - sl->sp->ptr[c] >= sl->min_voxels;
}

int nidec_sl_create(const nidec_cfg *cfg, const nidec_labels *lab, const nidec_spheres *sp,
		    const nidec_sl_opts *opts, nidec_sl **out, nidec_err *err)
{
	nidec_sl *sl;
	size_t b, c, n_fitted = 0;
	int rc = 0;

	if (cfg->screening_percentile < 100)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[preprocess] screening_percentile = %g: the searchlight does not screen (each sphere's voxels are its features); remove the key",
				  cfg->screening_percentile);
	if (!opts->n_C)
		return nidec_fail(err, NIDEC_EINPUT, "[model] C is empty; give e.g. C = 1");
	if (lab->target && cfg->estimator != NIDEC_EST_SVR)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[model] estimator = %s: a searchlight of a continuous target fits svr (nilearn's SearchLight(estimator='svr')); set estimator = svr",
				  nidec_estimator_name(cfg->estimator));
	if (!lab->target && cfg->compat == NIDEC_COMPAT_NILEARN && lab->n_classes > 2 &&
	    cfg->scoring != NIDEC_SCORE_ACCURACY)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[cv] scoring = %s with %zu classes under compat = nilearn: nilearn's SearchLight scores the multiclass prediction, with accuracy only; set scoring = accuracy, or compat = none for one-vs-rest scores",
				  nidec_scoring_name(cfg->scoring), lab->n_classes);
	sl = nidec_calloc_e(1, sizeof(*sl), "the searchlight", err);
	if (!sl)
		return NIDEC_ENOMEM;
	rc = nidec_plan_create(cfg, lab, &sl->pl, err);
	if (rc == 0 && sl->pl->mode == MODE_TESTFOLD_INNER)
		rc = nidec_fail(err, NIDEC_EINPUT,
				"[cv] selection = test-fold with an inner scheme (a Decoder inside an outer split) is not a searchlight; set [cv] inner_scheme = none, or selection = nested");
	if (rc == 0 && sl->pl->l1_grid)
		rc = nidec_fail(err, NIDEC_EINPUT,
				"[model] estimator = svc_l1 under compat = nilearn derives its C grid from each part's data; give [model] C for the searchlight");
	if (rc < 0)
		goto fail;
	sl->sp = sp;
	sl->n_C = sl->pl->estimator == NIDEC_EST_DUMMY ? 1 : opts->n_C;
	if (sl->n_C >= NIDEC_SL_NO_C) {
		rc = nidec_fail(err, NIDEC_EINPUT, "[model] C: %zu values; a searchlight takes at most %d",
				sl->n_C, NIDEC_SL_NO_C - 1);
		goto fail;
	}
	sl->C = nidec_malloc_e(sl->n_C, sizeof(double), "the C grid", err);
	if (!sl->C) {
		rc = NIDEC_ENOMEM;
		goto fail;
	}
	memcpy(sl->C, opts->C, sl->n_C * sizeof(double));
	sl->min_voxels = opts->min_voxels;
	sl->max_iter = opts->max_iter > 0 ? opts->max_iter : NIDEC_DCD_MAX_ITER;
	sl->n_keys = sl->pl->K == 2 ? 1 : sl->pl->K;
	sl->multi_acc = sl->pl->compat == NIDEC_COMPAT_NILEARN && sl->pl->K > 2;
	sl->fast = sl->pl->estimator == NIDEC_EST_SVC && sl->pl->solver == NIDEC_SVM_DCD;
	sl->svr = sl->pl->target != NULL;
	sl->svr_rbf = opts->svr_rbf;
	sl->svr_max_iter = opts->svr_max_iter;
	for (c = 0; c < sp->n_centres; c++)
		n_fitted += sphere_fitted(sl, c);
	if (n_fitted == 0) {
		rc = nidec_fail(err, NIDEC_EINPUT,
				"[searchlight] min_voxels = %zu: no sphere has that many voxels (the largest has %zu); lower min_voxels or raise radius",
				sl->min_voxels, sp->max_size);
		goto fail;
	}
	sl->block = opts->block;
	if (!sl->block) {
		/* about 64 tasks per permutation, 16 to 256 centres each */
		sl->block = (sp->n_centres + 63) / 64;
		sl->block = sl->block < 16 ? 16 : sl->block > 256 ? 256 : sl->block;
	}
	sl->n_blocks = (sp->n_centres + sl->block - 1) / sl->block;
	sl->n_tasks = (size_t)(sl->pl->n_perm + 1) * sl->n_blocks;
	sl->block_cost = nidec_calloc_e(sl->n_blocks ? sl->n_blocks : 1, sizeof(double), "task costs", err);
	if (!sl->block_cost) {
		rc = NIDEC_ENOMEM;
		goto fail;
	}
	/* cost ~ sum of the fitted spheres' sizes (the solver's rows) */
	for (b = 0; b < sl->n_blocks; b++)
		for (c = b * sl->block; c < sp->n_centres && c < (b + 1) * sl->block; c++)
			if (sphere_fitted(sl, c))
				sl->block_cost[b] += (double)(sp->ptr[c + 1] - sp->ptr[c] + 1);
	*out = sl;
	return 0;
fail:
	nidec_sl_free(&sl);
	return rc;
}

int nidec_sl_prepare(nidec_sl *sl, const float *X, nidec_err *err)
{
	nidec_plan *pl = sl->pl;
	size_t *all, i;
	int rc;

	sl->X = X;
	if (pl->std_mode != STD_GLOBAL)
		return 0;
	all = nidec_malloc_e(pl->n, sizeof(*all), "the sample list", err);
	if (!all)
		return NIDEC_ENOMEM;
	for (i = 0; i < pl->n; i++)
		all[i] = i;
	rc = nidec_scaler_fit(&sl->global, X, pl->p, all, pl->n, pl->standardize, pl->f32, err);
	nidec_free(all);
	return rc;
}

size_t nidec_sl_n_tasks(const nidec_sl *sl) { return sl->n_tasks; }
size_t nidec_sl_n_blocks(const nidec_sl *sl) { return sl->n_blocks; }
size_t nidec_sl_n_keys(const nidec_sl *sl) { return sl->n_keys; }
size_t nidec_sl_n_outer(const nidec_sl *sl) { return sl->pl->outer.n; }
long nidec_sl_n_perm(const nidec_sl *sl) { return sl->pl->n_perm; }

const char *nidec_sl_key(const nidec_sl *sl, size_t k)
{
	return sl->pl->class_names[sl->pl->K == 2 ? 1 : k];
}

double nidec_sl_task_cost(const nidec_sl *sl, size_t t)
{
	return sl->block_cost[t % sl->n_blocks];
}

size_t nidec_sl_task_group(const nidec_sl *sl, size_t t)
{
	return t / sl->n_blocks;
}

/* ---- one task ------------------------------------------------------------------- */

/* Everything a task allocates, once. */
struct work {
	const nidec_sl *sl;
	long perm;
	size_t c0, c1;           /* the block's centres */
	int *y;                  /* [n] labels of the permutation */
	signed char *ypm;        /* [P * n] +1/-1 per problem */
	uint32_t *U;             /* [nU] the block's voxels, ascending */
	size_t nU;
	uint32_t *pos;           /* [p] position of a voxel in U (only U's entries valid) */
	float *G;                /* [n * nU] raw values */
	float *Ztr, *Zte;        /* [n * nU] standardised training / test rows */
	size_t *ident;           /* [n] 0..n-1 */
	size_t *col;             /* [max sphere] a sphere's positions in U */
	float *rows;             /* [n * ld_max] solver rows */
	signed char *yq;         /* [n] labels in solver order */
	signed char *yte;        /* [n] labels of the test rows of a problem */
	size_t *ord;             /* [n] solver row -> training row */
	double *wv;
	double *nwork;           /* Newton's work buffer */
	double *wlast;           /* [block * P * ld_max] each sphere's last Newton solution */
	long *wlast_c;           /* [block * P] its C index, -1: none */
	double *dec;             /* [P * n_C * n] decisions per problem and C */
	double *isc;             /* [block * P * n_C * inner folds] inner scores */
	double *osc;             /* [P * n_C] outer scores of one sphere */
	nidec_scaler sc;
	const nidec_scaler *zs;  /* the part's scaler (standardise), NULL: none */
	int zs_global;           /* it indexes voxels of the mask, not of U */
	/* svr (continuous targets) */
	double *t;               /* [n] targets of the permutation */
	double *zd;              /* [2 n * max sphere] a sphere's rows in double: training,
	                          * then test, then scratch */
	double *K;               /* [n * n] their kernel */
	double *beta;            /* [n] dual coefficients */
	double *tt;              /* [n] targets of the training, then the test rows */
};

static void work_release(struct work *w)
{
	nidec_free(w->y);
	nidec_free(w->ypm);
	nidec_free(w->U);
	nidec_free(w->pos);
	nidec_free(w->G);
	nidec_free(w->Ztr);
	nidec_free(w->Zte);
	nidec_free(w->ident);
	nidec_free(w->col);
	nidec_free(w->rows);
	nidec_free(w->yq);
	nidec_free(w->yte);
	nidec_free(w->ord);
	nidec_free(w->wv);
	nidec_free(w->nwork);
	nidec_free(w->wlast);
	nidec_free(w->wlast_c);
	nidec_free(w->dec);
	nidec_free(w->isc);
	nidec_free(w->osc);
	nidec_scaler_release(&w->sc);
	nidec_free(w->t);
	nidec_free(w->zd);
	nidec_free(w->K);
	nidec_free(w->beta);
	nidec_free(w->tt);
}

static size_t row_ld(size_t d)
{
	return (d + 1 + 15) & ~(size_t)15;
}

static int work_alloc(struct work *w, nidec_err *err)
{
	const nidec_sl *sl = w->sl;
	const nidec_plan *pl = sl->pl;
	const nidec_spheres *sp = sl->sp;
	size_t n = pl->n, P = pl->n_problems, c, k, i, q, ldm = row_ld(sp->max_size);

	w->y = nidec_malloc_e(n, sizeof(*w->y), "labels", err);
	w->ypm = nidec_malloc_e(P * n, 1, "labels", err);
	w->pos = nidec_malloc_e(pl->p, sizeof(*w->pos), "the block's voxels", err);
	w->ident = nidec_malloc_e(n, sizeof(*w->ident), "the sample list", err);
	w->col = nidec_malloc_e(sp->max_size ? sp->max_size : 1, sizeof(*w->col), "a sphere", err);
	w->rows = nidec_malloc_e(n * ldm, sizeof(float), "solver rows", err);
	w->yq = nidec_malloc_e(n, 1, "solver labels", err);
	w->yte = nidec_malloc_e(n, 1, "test labels", err);
	w->ord = nidec_malloc_e(n, sizeof(*w->ord), "solver order", err);
	w->wv = nidec_malloc_e(ldm, sizeof(double), "weights", err);
	w->nwork = nidec_malloc_e(NIDEC_NEWTON_WORK(n, ldm), sizeof(double), "solver work", err);
	w->dec = nidec_malloc_e(P * sl->n_C * n, sizeof(double), "decisions", err);
	w->isc = nidec_malloc_e((w->c1 - w->c0) * P * sl->n_C * (pl->n_inner_max ? pl->n_inner_max : 1),
				sizeof(double), "inner scores", err);
	w->osc = nidec_malloc_e(P * sl->n_C, sizeof(double), "scores", err);
	w->wlast = nidec_malloc_e((w->c1 - w->c0) * P * ldm, sizeof(double), "warm starts", err);
	w->wlast_c = nidec_malloc_e((w->c1 - w->c0) * P, sizeof(long), "warm starts", err);
	if (!w->y || !w->ypm || !w->pos || !w->ident || !w->col || !w->rows || !w->yq || !w->yte ||
	    !w->ord || !w->wv || !w->nwork || !w->dec || !w->isc || !w->osc ||
	    !w->wlast || !w->wlast_c)
		return NIDEC_ENOMEM;
	if (sl->svr) {
		size_t nn, nz;
		if (nidec_mul_size(n, n, &nn) < 0 || nidec_mul_size(2 * n, sp->max_size ? sp->max_size : 1, &nz) < 0)
			return nidec_fail(err, NIDEC_ENOMEM, "svr's kernel of %zu samples overflows", n);
		w->t = nidec_malloc_e(n, sizeof(double), "targets", err);
		w->zd = nidec_malloc_e(nz, sizeof(double), "a sphere's rows", err);
		w->K = nidec_malloc_e(nn, sizeof(double), "svr's kernel", err);
		w->beta = nidec_malloc_e(n, sizeof(double), "svr's dual coefficients", err);
		w->tt = nidec_malloc_e(n, sizeof(double), "targets", err);
		if (!w->t || !w->zd || !w->K || !w->beta || !w->tt)
			return NIDEC_ENOMEM;
		NIDEC_TRY(plan_targets(pl, w->perm, w->t, err));
	}
	for (i = 0; i < (w->c1 - w->c0) * P; i++)
		w->wlast_c[i] = -1;
	for (i = 0; i < n; i++)
		w->ident[i] = i;
	NIDEC_TRY(plan_labels(pl, w->perm, w->y, err));
	for (q = 0; q < P; q++)
		for (i = 0; i < n; i++)
			w->ypm[q * n + i] = plan_ypm(pl, w->y, i, (int)q);
	/* U: the union of the block's fitted spheres, ascending (a mark per
	 * voxel, then one scan) */
	for (i = 0; i < pl->p; i++)
		w->pos[i] = UINT32_MAX;
	w->nU = 0;
	for (c = w->c0; c < w->c1; c++)
		if (sphere_fitted(sl, c))
			for (k = sp->ptr[c]; k < sp->ptr[c + 1]; k++)
				if (w->pos[sp->vox[k]] == UINT32_MAX) {
					w->pos[sp->vox[k]] = 0;
					w->nU++;
				}
	w->U = nidec_malloc_e(w->nU ? w->nU : 1, sizeof(*w->U), "the block's voxels", err);
	w->G = nidec_malloc_e(n * (w->nU ? w->nU : 1), sizeof(float), "the block's values", err);
	w->Ztr = nidec_malloc_e(n * (w->nU ? w->nU : 1), sizeof(float), "standardised rows", err);
	w->Zte = nidec_malloc_e(n * (w->nU ? w->nU : 1), sizeof(float), "standardised rows", err);
	if (!w->U || !w->G || !w->Ztr || !w->Zte)
		return NIDEC_ENOMEM;
	for (i = 0, k = 0; i < pl->p; i++)
		if (w->pos[i] != UINT32_MAX) {
			w->pos[i] = (uint32_t)k;
			w->U[k++] = (uint32_t)i;
		}
	for (i = 0; i < n; i++) {
		const float *x = sl->X + i * pl->p;
		float *g = w->G + i * w->nU;
		for (k = 0; k < w->nU; k++)
			g[k] = x[w->U[k]];
	}
	return 0;
}

/* The standardised rows of a training part `tr` and of the rows `te` it
 * is scored on, into Ztr and Zte (row r of the part -> row r). */
static int standardise(struct work *w, const size_t *tr, size_t ntr, const size_t *te, size_t nte,
		       nidec_err *err)
{
	const nidec_plan *pl = w->sl->pl;
	const nidec_scaler *s = NULL;
	size_t r, k, nU = w->nU;
	int global = pl->std_mode == STD_GLOBAL;

	if (pl->std_mode == STD_PER_FIT) {
		NIDEC_TRY(nidec_scaler_fit(&w->sc, w->G, nU, tr, ntr, pl->standardize, 0, err));
		s = &w->sc;
	} else if (global) {
		s = &w->sl->global;
	}
	w->zs = s;
	w->zs_global = global;
	if (w->sl->svr)
		return 0; /* svr_fits standardises its spheres in double */
	for (r = 0; r < ntr + nte; r++) {
		size_t row = r < ntr ? tr[r] : te[r - ntr];
		const float *g = w->G + row * nU;
		float *z = r < ntr ? w->Ztr + r * nU : w->Zte + (r - ntr) * nU;
		if (!s)
			memcpy(z, g, nU * sizeof(float));
		else if (global)
			for (k = 0; k < nU; k++)
				z[k] = (float)nidec_prep_value(s, g[k], w->U[k]);
		else
			for (k = 0; k < nU; k++)
				z[k] = (float)nidec_prep_value(s, g[k], k);
	}
	return 0;
}

static unsigned fit_seed(const struct work *w, size_t c, size_t f, long g, size_t q, size_t ci)
{
	uint64_t s = nidec_seed_mix(nidec_seed_mix(w->sl->pl->seed, SL_TAG, (uint64_t)w->perm, (uint64_t)c),
				    (uint64_t)f, (uint64_t)(g + 1), ((uint64_t)q << 32) | (uint64_t)ci);

	return (unsigned)(s ^ (s >> 32));
}

/* The score of decisions dec[nte] on the test rows te for problem q. */
static int score_fit(struct work *w, size_t q, const size_t *te, size_t nte, const double *dec,
		     double *score, nidec_err *err)
{
	const signed char *ypm = w->ypm + q * w->sl->pl->n;
	size_t a;

	for (a = 0; a < nte; a++)
		w->yte[a] = ypm[te[a]];
	return nidec_metric_score(w->sl->pl->scoring, w->yte, dec, nte, score, err);
}

/* x.w + b of the test rows from Zte, in double, in feature order
 * (nidec_svm_decision's). */
static void decide(const struct work *w, size_t d, size_t nte, double *dec)
{
	size_t a, k, nU = w->nU;

	for (a = 0; a < nte; a++) {
		const float *z = w->Zte + a * nU;
		double sum = 0;
		for (k = 0; k < d; k++)
			sum += w->wv[k] * (double)z[w->col[k]];
		dec[a] = sum + w->wv[d];
	}
}

/* The solver rows of a sphere (built by fit_sphere) solved by Newton for
 * each C.  The minimiser is unique, so the start only changes the
 * iterations: the previous C's weights (warm), or this sphere's last
 * solution for the same C - the previous fold's, which shares most of
 * the training samples (a third fewer iterations on a full-size
 * leave-one-run-out searchlight) - else zero. */
static int newton_fits(struct work *w, size_t c, size_t d, size_t ld, size_t ntr, const size_t *te,
		       size_t nte, size_t q, const size_t *cs, size_t ncs, int warm, double *score,
		       double *decs, nidec_err *err)
{
	const nidec_sl *sl = w->sl;
	size_t i, slot = (c - w->c0) * sl->pl->n_problems + q, ldm = row_ld(sl->sp->max_size);
	double *last = w->wlast + slot * ldm;

	for (i = 0; i < ncs; i++) {
		double *dec = decs ? decs + i * nte : w->dec;
		int n_iter = 0;

		if (i == 0 && w->wlast_c[slot] == (long)cs[0])
			memcpy(w->wv, last, (d + 1) * sizeof(double));
		else if (!(warm && i > 0))
			memset(w->wv, 0, (d + 1) * sizeof(double));
		if (nidec_newton_l2svc(w->rows, ld, ntr, d + 1, w->yq, sl->C[cs[i]], 1e-10, 100, w->wv,
				       w->nwork, &n_iter) < 0)
			return nidec_fail(err, NIDEC_ESOLVER,
					  "sphere at centre %zu: the Newton solver lost positive definiteness (C = %g)",
					  c, sl->C[cs[i]]);
		decide(w, d, nte, dec);
		NIDEC_TRY(score_fit(w, q, te, nte, dec, &score[i], err));
	}
	memcpy(last, w->wv, (d + 1) * sizeof(double));
	w->wlast_c[slot] = (long)cs[ncs - 1];
	return 0;
}

/*
 * The kernel of a sphere's training rows zd[0..ntr) (d values each): the
 * Gram matrix, or scikit-learn's RBF kernel exp(-gamma (|x_i|^2 + |x_j|^2
 * - 2 x_i.x_j)) with gamma = 'scale' = 1 / (d var(X_train)), the variance
 * of every training value as numpy's X.var() sums it (1 when it is 0).
 */
static int svr_kernel(struct work *w, size_t d, size_t ntr, double *dev, double *gamma,
		      nidec_err *err)
{
	double *K = w->K, mean, var;
	size_t i, j, m = ntr * d;

	NIDEC_TRY(nidec_gram(w->zd, ntr, d, d, 0.0, K, ntr, err));
	if (!w->sl->svr_rbf)
		return 0;
	/* numpy's X.var(): the mean, then the mean of the squared deviations
	 * (dev[m]: scratch), each a pairwise sum */
	mean = nidec_sum_pairwise(w->zd, m) / (double)m;
	for (i = 0; i < m; i++) {
		double e = w->zd[i] - mean;
		dev[i] = e * e;
	}
	var = nidec_sum_pairwise(dev, m) / (double)m;
	*gamma = var != 0 ? 1.0 / ((double)d * var) : 1.0;
	for (i = 0; i < ntr; i++)
		w->beta[i] = K[i * ntr + i]; /* |x_i|^2, before K is overwritten */
	for (i = 0; i < ntr; i++)
		for (j = 0; j <= i; j++) {
			double v = exp(-*gamma * (w->beta[i] + w->beta[j] - 2 * K[i * ntr + j]));
			K[i * ntr + j] = v;
			K[j * ntr + i] = v;
		}
	return 0;
}

/* The predictions of the test rows zd[ntr..ntr+nte): sum_i beta_i K(x_i, x)
 * - rho over the support vectors in training order, K the RBF kernel on
 * the squared distance summed per voxel (libsvm's prediction); for the
 * linear kernel x . coef + b with coef = sum_i beta_i x_i (the decoder's). */
static void svr_predict(const struct work *w, size_t d, size_t ntr, size_t nte, double gamma,
			double b, double *coef, double *dec)
{
	const double *xs = w->zd, *xt = w->zd + ntr * d;
	size_t a, i, k;

	if (!w->sl->svr_rbf) {
		memset(coef, 0, d * sizeof(double));
		for (i = 0; i < ntr; i++)
			if (w->beta[i] != 0)
				for (k = 0; k < d; k++)
					coef[k] += w->beta[i] * xs[i * d + k];
		for (a = 0; a < nte; a++) {
			double v = 0;
			for (k = 0; k < d; k++)
				v += coef[k] * xt[a * d + k];
			dec[a] = v + b;
		}
		return;
	}
	for (a = 0; a < nte; a++) {
		double v = 0;
		for (i = 0; i < ntr; i++) {
			double d2 = 0;
			if (w->beta[i] == 0)
				continue;
			for (k = 0; k < d; k++) {
				double e = xs[i * d + k] - xt[a * d + k];
				d2 += e * e;
			}
			v += w->beta[i] * exp(-gamma * d2);
		}
		dec[a] = v + b;
	}
}

/* A sphere's svr fits on a training part: its kernel once, then every C
 * of cs[0..ncs) from zero (the solver is pl->svr_solver's), each scored on
 * the test rows into score[i], its predictions into decs + i * nte (or
 * w->dec). */
static int svr_fits(struct work *w, size_t c, size_t d, const size_t *tr, size_t ntr, const size_t *te,
		    size_t nte, const size_t *cs, size_t ncs, double *score, double *decs, nidec_err *err)
{
	const nidec_sl *sl = w->sl;
	const nidec_plan *pl = sl->pl;
	size_t a, i, k, nU = w->nU;
	double gamma = 0;

	/* the sphere's standardised columns in double (not Ztr's float32: a
	 * fit capped at max_iter depends on every bit of its kernel), training
	 * rows, then test rows */
	for (a = 0; a < ntr + nte; a++) {
		const float *g = w->G + (a < ntr ? tr[a] : te[a - ntr]) * nU;
		for (k = 0; k < d; k++) {
			size_t u = w->col[k];
			w->zd[a * d + k] = nidec_prep_value(w->zs, g[u], w->zs_global ? w->U[u] : u);
		}
	}
	for (a = 0; a < ntr; a++)
		w->tt[a] = w->t[tr[a]];
	NIDEC_TRY(svr_kernel(w, d, ntr, w->zd + (ntr + nte) * d, &gamma, err));
	for (i = 0; i < ncs; i++) {
		double *dec = decs ? decs + i * nte : w->dec, b;
		int rc;

		if (pl->svr_solver == NIDEC_SVR_LIBSVM)
			rc = nidec_svr_solve_libsvm(w->K, ntr, w->tt, sl->C[cs[i]], pl->epsilon, pl->tol, w->beta,
						    &b, err);
		else
			rc = nidec_svr_solve(w->K, ntr, w->tt, sl->C[cs[i]], pl->epsilon, pl->tol,
					     sl->svr_max_iter, w->beta, &b, NULL, err);
		if (rc < 0) {
			if (rc != NIDEC_ENOMEM)
				nidec_err_prefix(err, "sphere at centre %zu: ", c);
			return rc;
		}
		svr_predict(w, d, ntr, nte, gamma, b, w->wv, dec);
		for (a = 0; a < nte; a++)
			w->tt[ntr + a] = w->t[te[a]];
		NIDEC_TRY(nidec_metric_regression(pl->scoring, w->tt + ntr, dec, nte, &score[i], err));
	}
	return 0;
}

/* One sphere and problem on a training part: the C indices cs[0..ncs) in
 * order, each scored on the test rows into score[i], its decisions into
 * decs + i * nte (decs may be NULL).  warm: each C starts from the
 * previous one's solution. */
static int fit_sphere(struct work *w, size_t c, size_t f, long g, size_t q, const size_t *tr,
		      size_t ntr, const size_t *te, size_t nte, const size_t *cs, size_t ncs, int warm,
		      double *score, double *decs, nidec_err *err)
{
	const nidec_sl *sl = w->sl;
	const nidec_plan *pl = sl->pl;
	const nidec_spheres *sp = sl->sp;
	size_t d = sp->ptr[c + 1] - sp->ptr[c], ld = row_ld(d), a, k, i, nU = w->nU;
	const signed char *ypm = w->ypm + q * pl->n;
	int rc = 0;

	for (k = 0; k < d; k++)
		w->col[k] = w->pos[sp->vox[sp->ptr[c] + k]];
	if (sl->svr)
		return svr_fits(w, c, d, tr, ntr, te, nte, cs, ncs, score, decs, err);
	if (sl->fast) {
		int gsign;

		/* solver rows: +1 rows first (liblinear's order), constant 1 last */
		a = 0;
		for (gsign = 1; gsign >= -1; gsign -= 2)
			for (i = 0; i < ntr; i++)
				if (ypm[tr[i]] == gsign) {
					const float *z = w->Ztr + i * nU;
					float *x = w->rows + a * ld;
					for (k = 0; k < d; k++)
						x[k] = z[w->col[k]];
					x[d] = 1.0f;
					for (k = d + 1; k < ld; k++)
						x[k] = 0.0f;
					w->yq[a] = (signed char)gsign;
					w->ord[a++] = i;
				}
		return newton_fits(w, c, d, ld, ntr, te, nte, q, cs, ncs, warm, score, decs, err);
	}
	/* any other estimator: nidec_svm_train on the sphere's columns */
	for (i = 0; i < ncs; i++) {
		nidec_view vtr = { w->Ztr, nU, w->ident, ntr, w->col, d, NULL };
		nidec_view vte = { w->Zte, nU, w->ident, nte, w->col, d, NULL };
		double *dec = decs ? decs + i * nte : w->dec;
		nidec_svm_param par;
		nidec_svm_model m = NIDEC_SVM_MODEL_INIT;

		for (a = 0; a < ntr; a++)
			w->yq[a] = ypm[tr[a]];
		memset(&par, 0, sizeof(par));
		par.estimator = pl->estimator;
		par.solver = pl->solver;
		par.C = sl->C[cs[i]];
		par.tol = pl->tol;
		par.max_iter = sl->max_iter;
		par.seed = fit_seed(w, c, f, g, q, cs[i]);
		rc = nidec_svm_train(&vtr, w->yq, &par, &m, err);
		if (rc == 0) {
			nidec_svm_decision(&m, &vte, dec);
			rc = score_fit(w, q, te, nte, dec, &score[i], err);
		}
		nidec_svm_model_release(&m);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The best C index of scores[n]: ties to the first (GridSearchCV) or,
 * with last = 1, to the last (nilearn's test-fold `>=`).  NaN never wins
 * unless every score is NaN. */
static size_t best_c(const double *scores, size_t n, int last)
{
	size_t i, b = 0;

	for (i = 1; i < n; i++)
		if ((last ? scores[i] >= scores[b] : scores[i] > scores[b]) || isnan(scores[b]))
			if (!isnan(scores[i]))
				b = i;
	return b;
}

/* Outer fold f of every sphere of the block: the entries of r. */
static int run_fold(struct work *w, size_t f, nidec_result *r, nidec_err *err)
{
	const nidec_sl *sl = w->sl;
	const nidec_plan *pl = sl->pl;
	const nidec_split *os = &pl->outer.split[f];
	size_t P = pl->n_problems, nC = sl->n_C, F = pl->outer.n, E = sl->n_keys + 1;
	size_t c, q, i, g, all[64], *cs = all, nte = os->n_test;
	int nested = pl->mode == MODE_NESTED && nC > 1;
	size_t nI = nested ? pl->inner[f].n : 0;
	int rc = 0;

	if (nC > 64) {
		cs = nidec_malloc_e(nC, sizeof(*cs), "the C grid", err);
		if (!cs)
			return NIDEC_ENOMEM;
	}
	for (i = 0; i < nC; i++)
		cs[i] = i;
	/* nested: every C on every inner fold, the mean inner score picks C */
	for (g = 0; g < nI && rc == 0; g++) {
		const nidec_split *is = &pl->inner[f].split[g];
		rc = standardise(w, is->train, is->n_train, is->test, is->n_test, err);
		for (c = w->c0; c < w->c1 && rc == 0; c++) {
			if (!sphere_fitted(sl, c))
				continue;
			for (q = 0; q < P && rc == 0; q++) {
				rc = fit_sphere(w, c, f, (long)g, q, is->train, is->n_train, is->test, is->n_test,
						cs, nC, pl->warm, w->osc, NULL, err);
				for (i = 0; i < nC; i++)
					w->isc[(((c - w->c0) * P + q) * nC + i) * nI + g] = w->osc[i];
			}
		}
	}
	if (rc == 0)
		rc = standardise(w, os->train, os->n_train, os->test, nte, err);
	for (c = w->c0; c < w->c1 && rc == 0; c++) {
		size_t s = c - w->c0, e0 = (s * F + f) * E, chosen[64], *ch = chosen;
		double key_score[64], *ks = key_score;

		if (!sphere_fitted(sl, c)) {
			for (i = 0; i < E; i++) {
				r->score[e0 + i] = NAN;
				r->C[e0 + i] = NAN;
			}
			continue;
		}
		if (P > 64) {
			ch = nidec_malloc_e(P, sizeof(*ch), "choices", err);
			ks = nidec_malloc_e(P, sizeof(*ks), "scores", err);
			if (!ch || !ks) {
				if (ch != chosen)
					nidec_free(ch);
				rc = NIDEC_ENOMEM;
				break;
			}
		}
		for (q = 0; q < P && rc == 0; q++) {
			if (nested) {
				double mean[64], *mn = mean;
				if (nC > 64 && !(mn = nidec_malloc_e(nC, sizeof(*mn), "scores", err))) {
					rc = NIDEC_ENOMEM;
					break;
				}
				for (i = 0; i < nC; i++)
					mn[i] = nidec_mean_numpy(w->isc + ((s * P + q) * nC + i) * nI, nI);
				ch[q] = best_c(mn, nC, 0);
				if (mn != mean)
					nidec_free(mn);
				/* the chosen C on the whole training part, from zero */
				rc = fit_sphere(w, c, f, -1, q, os->train, os->n_train, os->test, nte, &ch[q], 1, 0,
						&ks[q], w->dec + q * nC * nte, err);
			} else {
				rc = fit_sphere(w, c, f, -1, q, os->train, os->n_train, os->test, nte, cs, nC,
						pl->warm, w->osc, w->dec + q * nC * nte, err);
				ch[q] = nC == 1 ? 0 : best_c(w->osc, nC, 1);
				ks[q] = w->osc[ch[q]];
				if (ch[q] != 0)
					memmove(w->dec + q * nC * nte, w->dec + (q * nC + ch[q]) * nte,
						nte * sizeof(double));
			}
		}
		if (rc == 0) {
			/* the keys, then the map value */
			for (q = 0; q < sl->n_keys; q++) {
				r->score[e0 + q] = ks[q];
				r->C[e0 + q] = sl->C[ch[q]];
			}
			r->C[e0 + sl->n_keys] = NAN;
			if (sl->n_keys == 1) {
				r->score[e0 + 1] = ks[0];
			} else if (sl->multi_acc) {
				/* LinearSVC's multiclass predict: the first maximum */
				size_t right = 0, a;
				for (a = 0; a < nte; a++) {
					size_t best = 0;
					for (q = 1; q < P; q++)
						if (w->dec[q * nC * nte + a] > w->dec[best * nC * nte + a])
							best = q;
					right += (int)best == w->y[os->test[a]];
				}
				r->score[e0 + sl->n_keys] = nte ? (double)right / (double)nte : NAN;
			} else {
				r->score[e0 + sl->n_keys] = nidec_mean_numpy(ks, sl->n_keys);
			}
		}
		if (ch != chosen)
			nidec_free(ch);
		if (ks != key_score)
			nidec_free(ks);
	}
	if (cs != all)
		nidec_free(cs);
	return rc;
}

/* A permutation's result keeps only what its null map needs: each
 * centre's map value, the mean over folds (computed here as the reduce
 * would): S doubles instead of S x F x E fold entries, so the messages
 * and the ledger of the permutations are ~25x smaller. */
static void null_result(nidec_result *r, size_t S, size_t F, size_t E)
{
	double fm[512];
	size_t s, f;

	for (s = 0; s < S; s++) {
		double *fmap = F <= 512 ? fm : r->score + s * F * E;  /* in place when large */
		for (f = 0; f < F; f++)
			fmap[f] = r->score[(s * F + f) * E + E - 1];
		r->score[s] = nidec_mean_numpy(fmap, F);
		r->C[s] = NAN;
		r->fit_iter[s] = -1;
	}
	r->n_fit = S;
}

int nidec_sl_task_run(nidec_sl *sl, size_t t, nidec_result **res, nidec_err *err)
{
	struct work w;
	nidec_result *r;
	size_t F = sl->pl->outer.n, E = sl->n_keys + 1, S, f, i;
	double t0 = nidec_now();
	int rc = 0;

	if (t >= sl->n_tasks)
		return nidec_fail(err, NIDEC_EINTERNAL, "searchlight: task %zu of %zu", t, sl->n_tasks);
	memset(&w, 0, sizeof(w));
	w.sl = sl;
	w.perm = (long)(t / sl->n_blocks);
	w.c0 = (t % sl->n_blocks) * sl->block;
	w.c1 = w.c0 + sl->block < sl->sp->n_centres ? w.c0 + sl->block : sl->sp->n_centres;
	S = w.c1 - w.c0;
	r = nidec_calloc_e(1, sizeof(*r), "a result", err);
	if (!r)
		return NIDEC_ENOMEM;
	r->task = t;
	r->n_iter = -1;
	r->n_fit = S * F * E;
	r->score = nidec_malloc_e(r->n_fit ? r->n_fit : 1, sizeof(double), "a result", err);
	r->C = nidec_malloc_e(r->n_fit ? r->n_fit : 1, sizeof(double), "a result", err);
	r->fit_iter = nidec_malloc_e(r->n_fit ? r->n_fit : 1, sizeof(int), "a result", err);
	if (!r->score || !r->C || !r->fit_iter)
		rc = NIDEC_ENOMEM;
	for (i = 0; rc == 0 && i < r->n_fit; i++)
		r->fit_iter[i] = -1;
	if (rc == 0)
		rc = work_alloc(&w, err);
	for (f = 0; f < F && rc == 0; f++)
		rc = run_fold(&w, f, r, err);
	work_release(&w);
	if (rc == NIDEC_ENOMEM || rc == NIDEC_EINTERNAL) {
		nidec_result_free(&r);
		return rc;
	}
	if (rc == 0 && w.perm > 0)
		null_result(r, S, F, E);
	if (rc < 0) {
		/* a numerical failure: the result says so */
		r->status = rc;
		snprintf(r->msg, sizeof(r->msg), "searchlight centres %zu-%zu, permutation %ld: %.150s", w.c0,
			 w.c1 - 1, w.perm, err->msg);
		nidec_err_clear(err);
	}
	r->seconds = nidec_now() - t0;
	*res = r;
	return 0;
}

/* ---- the reduce ------------------------------------------------------------------- */

/* Each result is reduced as it arrives (a block writes its own centres'
 * entries) and freed at once: rank 0 holds the maps, never a backlog of
 * results.  A permutation's maximum is taken once all its blocks are in. */
struct nidec_sl_reducer {
	const nidec_sl *sl;
	nidec_sl_outcome *o;
	size_t *got;           /* [n_perm + 1] results received per permutation */
	unsigned char *reduced;/* [n_perm + 1] every block in */
	unsigned char *done;   /* [n_tasks] the task's result was reduced */
};

void nidec_sl_outcome_free(nidec_sl_outcome **op)
{
	nidec_sl_outcome *o = op ? *op : NULL;
	size_t k;

	if (!o)
		return;
	for (k = 0; o->keys && k < o->n_keys; k++)
		nidec_free(o->keys[k]);
	nidec_free(o->keys);
	nidec_free(o->C);
	nidec_free(o->fold_score);
	nidec_free(o->chosen);
	nidec_free(o->score);
	nidec_free(o->map);
	nidec_free(o->map_fold_own);
	nidec_free(o->null_map);
	nidec_free(o->null_max);
	nidec_free(o->p);
	nidec_free(o->p_fwe);
	nidec_free(o);
	*op = NULL;
}

void nidec_sl_reducer_free(nidec_sl_reducer **rdp)
{
	nidec_sl_reducer *rd = rdp ? *rdp : NULL;

	if (!rd)
		return;
	nidec_sl_outcome_free(&rd->o);
	nidec_free(rd->got);
	nidec_free(rd->reduced);
	nidec_free(rd->done);
	nidec_free(rd);
	*rdp = NULL;
}

int nidec_sl_reducer_create(const nidec_sl *sl, nidec_sl_reducer **out, nidec_err *err)
{
	nidec_sl_reducer *rd = nidec_calloc_e(1, sizeof(*rd), "the reduce", err);
	nidec_sl_outcome *o;
	size_t N = sl->sp->n_centres, F = sl->pl->outer.n, Kk = sl->n_keys, k, np = (size_t)sl->pl->n_perm;

	if (!rd)
		return NIDEC_ENOMEM;
	rd->sl = sl;
	rd->got = nidec_calloc_e(np + 1, sizeof(*rd->got), "the reduce", err);
	rd->reduced = nidec_calloc_e(np + 1, 1, "the reduce", err);
	rd->done = nidec_calloc_e(sl->n_tasks + 1, 1, "the reduce", err);
	rd->o = o = nidec_calloc_e(1, sizeof(*o), "the searchlight maps", err);
	if (!rd->got || !rd->reduced || !rd->done || !o)
		goto oom;
	o->n_centres = N;
	o->n_folds = F;
	o->n_keys = Kk;
	o->n_C = sl->n_C;
	o->n_perm = sl->pl->n_perm;
	o->keys = nidec_calloc_e(Kk, sizeof(char *), "keys", err);
	o->C = nidec_malloc_e(sl->n_C, sizeof(double), "the C grid", err);
	o->fold_score = nidec_malloc_e(N * Kk * F + 1, sizeof(double), "the searchlight maps", err);
	o->chosen = nidec_malloc_e(N * Kk * F + 1, sizeof(uint16_t), "the searchlight maps", err);
	o->score = nidec_malloc_e(N * Kk + 1, sizeof(double), "the searchlight maps", err);
	o->map = nidec_malloc_e(N + 1, sizeof(double), "the searchlight maps", err);
	if (Kk > 1)
		o->map_fold_own = nidec_malloc_e(N * F + 1, sizeof(double), "the searchlight maps", err);
	o->map_fold = Kk > 1 ? o->map_fold_own : o->fold_score;
	o->null_map = nidec_malloc_e(np * N + 1, sizeof(float), "the null maps", err);
	o->null_max = nidec_malloc_e(np + 1, sizeof(float), "the null maps", err);
	o->p = nidec_malloc_e(N + 1, sizeof(double), "p-values", err);
	o->p_fwe = nidec_malloc_e(N + 1, sizeof(double), "p-values", err);
	if (!o->keys || !o->C || !o->fold_score || !o->chosen || !o->score || !o->map ||
	    !o->map_fold || !o->null_map || !o->null_max || !o->p || !o->p_fwe)
		goto oom;
	for (k = 0; k < Kk; k++)
		if (!(o->keys[k] = nidec_strdup_e(nidec_sl_key(sl, k), err)))
			goto oom;
	memcpy(o->C, sl->C, sl->n_C * sizeof(double));
	*out = rd;
	return 0;
oom:
	nidec_sl_reducer_free(&rd);
	return NIDEC_ENOMEM;
}

/* The index of C value v in the grid, NIDEC_SL_NO_C for NaN (a map
 * entry, a sphere not fitted). */
static uint16_t c_index(const nidec_sl *sl, double v)
{
	size_t i;

	for (i = 0; i < sl->n_C; i++)
		if (sl->C[i] == v)
			return (uint16_t)i;
	return NIDEC_SL_NO_C;
}

/* One block's result r of permutation perm into the maps. */
static int reduce_block(nidec_sl_reducer *rd, const nidec_result *r, long perm, size_t b, nidec_err *err)
{
	const nidec_sl *sl = rd->sl;
	nidec_sl_outcome *o = rd->o;
	size_t F = o->n_folds, Kk = o->n_keys, E = Kk + 1, s, f, k;
	size_t c0 = b * sl->block, S = (c0 + sl->block < o->n_centres ? c0 + sl->block : o->n_centres) - c0;

	if (r->status)
		return nidec_fail(err, r->status < 0 ? r->status : NIDEC_EINTERNAL, "%s", r->msg);
	if (r->n_fit != (perm == 0 ? S * F * E : S))
		return nidec_fail(err, NIDEC_EINTERNAL, "searchlight result %zu holds %zu values, expected %zu",
				  r->task, r->n_fit, perm == 0 ? S * F * E : S);
	if (perm > 0) {
		/* a null map: each centre's mean over folds (null_result) */
		for (s = 0; s < S; s++)
			o->null_map[(size_t)(perm - 1) * o->n_centres + c0 + s] = (float)r->score[s];
		return 0;
	}
	for (s = 0; s < S; s++) {
		size_t c = c0 + s;
		double fm[512], *fmap = fm;
		if (F > 512 && !(fmap = nidec_malloc_e(F, sizeof(double), "fold scores", err)))
			return NIDEC_ENOMEM;
		for (f = 0; f < F; f++)
			fmap[f] = r->score[(s * F + f) * E + Kk];
		for (k = 0; k < Kk; k++)
			for (f = 0; f < F; f++) {
				o->fold_score[(c * Kk + k) * F + f] = r->score[(s * F + f) * E + k];
				o->chosen[(c * Kk + k) * F + f] = c_index(sl, r->C[(s * F + f) * E + k]);
			}
		if (o->map_fold_own)
			memcpy(o->map_fold_own + c * F, fmap, F * sizeof(double));
		o->map[c] = nidec_mean_numpy(fmap, F);
		if (fmap != fm)
			nidec_free(fmap);
	}
	return 0;
}

/* A complete null map's maximum over its spheres (NaN: none fitted). */
static void null_max(nidec_sl_outcome *o, long perm)
{
	const float *m = o->null_map + (size_t)(perm - 1) * o->n_centres;
	float mx = -INFINITY;
	size_t c;
	int any = 0;

	for (c = 0; c < o->n_centres; c++)
		if (!isnan(m[c])) {
			mx = m[c] > mx ? m[c] : mx;
			any = 1;
		}
	o->null_max[perm - 1] = any ? mx : NAN;
}

int nidec_sl_reducer_add(nidec_sl_reducer *rd, nidec_result **results, size_t t, nidec_err *err)
{
	const nidec_sl *sl = rd->sl;
	long perm = (long)(t / sl->n_blocks);

	if (t >= sl->n_tasks || !results[t] || rd->done[t])
		return nidec_fail(err, NIDEC_EINTERNAL, "searchlight reduce: task %zu given twice or out of range", t);
	NIDEC_TRY(reduce_block(rd, results[t], perm, t % sl->n_blocks, err));
	nidec_result_free(&results[t]);
	rd->done[t] = 1;
	if (++rd->got[perm] == sl->n_blocks) {
		if (perm > 0)
			null_max(rd->o, perm);
		rd->reduced[perm] = 1;
	}
	return 0;
}

int nidec_sl_reducer_done(const nidec_sl_reducer *rd, size_t t)
{
	return t < rd->sl->n_tasks && rd->done[t];
}

int nidec_sl_reducer_finish(nidec_sl_reducer *rd, nidec_sl_outcome **out, nidec_err *err)
{
	nidec_sl_outcome *o = rd->o;
	size_t N = o->n_centres, F = o->n_folds, Kk = o->n_keys, c, k;
	long perm;
	float obs;

	for (perm = 0; perm <= o->n_perm; perm++)
		if (!rd->reduced[perm])
			return nidec_fail(err, NIDEC_EINTERNAL, "searchlight reduce: permutation %ld incomplete", perm);
	o->n_skipped = 0;
	for (c = 0; c < N; c++) {
		for (k = 0; k < Kk; k++)
			o->score[c * Kk + k] = nidec_mean_numpy(o->fold_score + (c * Kk + k) * F, F);
		if (!sphere_fitted(rd->sl, c)) {
			o->n_skipped++;
			o->map[c] = o->p[c] = o->p_fwe[c] = NAN;
			continue;
		}
		if (o->n_perm == 0) {
			o->p[c] = o->p_fwe[c] = NAN;
			continue;
		}
		/* (1 + #null >= observed) / (N + 1), voxel-wise and against
		 * the permutations' maxima (family-wise); compared in float32,
		 * as the null maps are kept (distinct scores stay distinct,
		 * equal ones equal) */
		obs = (float)o->map[c];
		o->p[c] = o->p_fwe[c] = 1;
		for (perm = 0; perm < o->n_perm; perm++) {
			if (o->null_map[(size_t)perm * N + c] >= obs)
				o->p[c] += 1;
			if (o->null_max[perm] >= obs)
				o->p_fwe[c] += 1;
		}
		o->p[c] /= (double)(o->n_perm + 1);
		o->p_fwe[c] /= (double)(o->n_perm + 1);
	}
	*out = o;
	rd->o = NULL;
	return 0;
}
