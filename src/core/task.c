/*
 * task.c - run one task of a plan: (permutation, outer fold, inner fold) ->
 * the fits of every binary problem and every C on that training part (see
 * include/nidec/plan.h).
 *
 * A task is a pure function of (plan, task id, X): it derives its labels
 * (true or permuted), its rows, its standardisation statistics, its
 * screened voxels and the solver seed of every fit from the plan and the
 * task's identity only, never from the rank or the order tasks run in
 * (README "Determinism").
 *
 * Why a task is a whole training part rather than one fit: everything but
 * the solver's iterations is shared by the fits of a part, and at full size
 * (30,000 voxels) that shared work is most of the cost.  (Except with the
 * plan-wide Gram matrix, where a part shares nothing costly: there a task
 * is one problem of a part, tk->problem, and runs only that problem's fits
 * exactly as the task of the whole part would; plan.c, layout_tasks.)
 * Built once per
 * task: the standardisation statistics and the ANOVA F scores of every
 * problem (from the plan's per-run statistics and one pass of class sums
 * when the part is made of whole runs, per_run_prepare; else one pass
 * over the data, nidec_prep_fit_fclassif), the
 * standardised test rows, and the solver's matrix: float32 training rows
 * of each problem (primal form; several problems filled in one pass over
 * the rows), or the Gram matrix of the training rows (kernel form), shared
 * by every problem when no screening changes the voxels, and computed once
 * per plan when the standardisation is global (nilearn).
 *
 * Solvers (svc with solver = dcd, the default; src/core/dcd.c):
 *  - Form: the rule in plan.c (plan_kernel_form) picks the kernel form when
 *    the Gram matrix costs less than what it saves over ~20 epochs of the
 *    fits that share it (bundled slice: always), else the primal form on
 *    float32 rows (full-size data with screening).  Both take liblinear's
 *    steps in exact arithmetic and differ by rounding only.
 *  - Warm start along the C grid: the fits of a problem run in grid order
 *    and each starts from the previous C's duals.  Every fit still stops
 *    on liblinear's rule (max PG - min PG <= tol), so each is a solution to
 *    the same tolerance as a cold start (solutions agree to ~tol; the
 *    scores and chosen C of every reference run are unchanged).  A fit
 *    that stops at the iteration limit has no unique answer; there, as
 *    with another seed, the weights depend on the start.
 *  - Seeds: fit (q, c) uses the seed it had when each fit was its own
 *    task, mix(seed, perm, outer, inner, q, c): the coordinate order is
 *    what liblinear's rand() would draw after srand() of that seed.
 * Other estimators and solver = liblinear fit one model per (q, c) through
 * nidec_svm_train, as before.
 *
 * What a task returns (enough for reduce.c, nothing more), per fit:
 *  - score on its test part: the inner test part for an inner task, the
 *    outer test part for an outer fit;
 *  - decision values on the outer test part: for outer fits, and for inner
 *    tasks of a Decoder inside an outer split (its fold model is the mean of
 *    the inner models, so the mean of their decisions is its decision);
 *  - weights (p + intercept) when the fit can become a fold model of the
 *    true labels (permutation 0).
 * Decision values are x.w + b summed in feature order from the
 * standardised test rows in double, as nidec_svm_decision does.
 * A numerical failure becomes a result status with a message naming the
 * fit; only running out of memory is an error of the call.
 *
 * Depends on base and core only: no MPI, no HDF5, no NIfTI.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nidec/cfg.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/metrics.h"
#include "nidec/regress.h"
#include "nidec/rng.h"
#include "nidec/svm.h"
#include "bigmem.h"
#include "plan_int.h"

/* What the fits of one task share. */
struct unit {
	const nidec_split *os;
	size_t q0, q1;               /* the task's problems: q0 .. q1-1 */
	const size_t *tr, *sc;       /* training and scoring rows */
	size_t n_tr, n_sc;
	const nidec_scaler *s_tr, *s_sc, *s_ex;
	int want_ex, want_coef;
	size_t n_test;               /* decision values per fit in the result */

	int *y;                      /* [n] labels of the permutation */
	double *t;                   /* [n] targets of the permutation (regression), or NULL */
	signed char *ypm_tr;         /* [P * n_tr] */
	signed char *ypm_sc;         /* [P * n_sc] */
	nidec_scaler sa, sb;
	double *F;                   /* [P * p] screening scores */
	size_t **feat;               /* [P] kept voxels, NULL = all */
	size_t *n_feat;              /* [P] */

	/* fast path (svc + dcd) */
	double *Zs;                  /* [n_sc * p] standardised scoring rows */
	double *Zx;                  /* [n_ex * p] standardised outer test rows (want_ex) */
	double *Zt;                  /* [n_tr * nf] standardised training rows (kernel) */
	long Zt_q;                   /* problem whose voxels Zt and Kt hold, -1 = none yet */
	double *Kt;                  /* [n_tr * n_tr] Gram matrix + 1 of Zt */
	size_t *kidx;                /* [n_tr] solver row a -> row of the Gram matrix */
	size_t *ord;                 /* [n_tr] solver row a -> position in tr */
	signed char *yq;             /* [n_tr] labels in solver order */
	double *alpha, *wv, *w;      /* duals, the primal solver's w, the fit's weights */
	double *dec;                 /* [max(n_sc, n_ex)] */

	/* regression: what every C of the grid shares (regress_prepare) */
	double *Zr;                  /* [n_tr * nf] standardised, screened training rows */
	double *Kr;                  /* [n_tr * n_tr] their Gram matrix (svr), or NULL */
	double *yr;                  /* [n_tr + n_sc] training then scoring targets */
};

static void unit_release(struct unit *u, size_t P)
{
	size_t q;

	nidec_free(u->y);
	nidec_free(u->t);
	nidec_free(u->ypm_tr);
	nidec_free(u->ypm_sc);
	nidec_scaler_release(&u->sa);
	nidec_scaler_release(&u->sb);
	nidec_free(u->F);
	if (u->feat)
		for (q = 0; q < P; q++)
			nidec_free(u->feat[q]);
	nidec_free(u->feat);
	nidec_free(u->n_feat);
	nidec_free(u->Zs);
	nidec_free(u->Zx);
	nidec_free(u->Zt);
	nidec_free(u->Kt);
	nidec_free(u->kidx);
	nidec_free(u->ord);
	nidec_free(u->yq);
	nidec_free(u->alpha);
	nidec_free(u->wv);
	nidec_free(u->w);
	nidec_free(u->dec);
	nidec_free(u->Zr);
	nidec_free(u->Kr);
	nidec_free(u->yr);
}

static uint64_t fit_seed(const struct nidec_plan *pl, const nidec_task *tk, size_t q, size_t c)
{
	return nidec_seed_mix(nidec_seed_mix(pl->seed, PLAN_TAG_FIT, (uint64_t)tk->perm,
					     (uint64_t)tk->outer),
			      (uint64_t)(tk->inner + 1), (uint64_t)q, (uint64_t)c);
}

/* The seed liblinear's srand() would get for fit (q, c) (svm.c). */
static unsigned solver_seed(const struct nidec_plan *pl, const nidec_task *tk, size_t q, size_t c)
{
	uint64_t s = fit_seed(pl, tk, q, c);

	return (unsigned)(s ^ (s >> 32));
}

/*
 * A training part made of whole runs (leave-one-run-out and its inner
 * folds): the scaler from the plan's per-run statistics, and the F scores
 * from per-class sums of the centred rows, instead of a standardising pass
 * (*whole = 1).  Same statistics and F to rounding; *whole = 0 when the
 * part cuts a run (k-fold schemes), for the general path.
 */
static int per_run_prepare(const struct nidec_plan *pl, struct unit *u, int *whole,
			   nidec_err *err)
{
	const nidec_runstats *rs = &pl->runstats;
	size_t *cnt, i, r, P = pl->n_problems;
	unsigned char *use = NULL;
	int *cls = NULL, *pos = NULL, rc = 0;

	*whole = 0;
	cnt = nidec_calloc_e(rs->n_runs, sizeof(*cnt), "run counts", err);
	use = nidec_calloc_e(rs->n_runs, 1, "run counts", err);
	if (!cnt || !use) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	if (!plan_whole_runs(pl->run_of, u->tr, u->n_tr, rs->count, rs->n_runs, cnt))
		goto done; /* a part of a run */
	for (r = 0; r < rs->n_runs; r++)
		use[r] = cnt[r] != 0;
	NIDEC_TRY_GOTO(rc, nidec_runstats_scaler(rs, use, pl->standardize, &u->sa, err), done);
	if (u->F) {
		cls = nidec_malloc_e(u->n_tr, sizeof(int), "classes", err);
		pos = nidec_malloc_e(P, sizeof(int), "classes", err);
		if (!cls || !pos) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		for (i = 0; i < u->n_tr; i++)
			cls[i] = u->y[u->tr[i]];
		for (i = 0; i < P; i++)
			pos[i] = pl->K == 2 ? 1 : (int)i;
		NIDEC_TRY_GOTO(rc, nidec_prep_fclassif_ovr(pl->X, pl->p, u->tr, u->n_tr, cls, pl->K,
							   u->sa.shift, P, pos, u->F, err), done);
	}
	*whole = 1;
done:
	nidec_free(cnt);
	nidec_free(use);
	nidec_free(cls);
	nidec_free(pos);
	return rc;
}

/* Labels, standardisation statistics and screening: everything a fit of
 * any estimator needs. */
static int unit_prepare(const struct nidec_plan *pl, const nidec_task *tk, struct unit *u,
			nidec_err *err)
{
	const nidec_split *os = &pl->outer.split[tk->outer];
	const nidec_split *is = tk->inner >= 0 ? &pl->inner[tk->outer].split[tk->inner] : NULL;
	size_t P = pl->n_problems, q, i;

	u->os = os;
	u->q0 = tk->problem >= 0 ? (size_t)tk->problem : 0;
	u->q1 = tk->problem >= 0 ? u->q0 + 1 : P;
	u->tr = is ? is->train : os->train;
	u->sc = is ? is->test : os->test;
	u->n_tr = is ? is->n_train : os->n_train;
	u->n_sc = is ? is->n_test : os->n_test;
	u->want_ex = pl->mode == MODE_TESTFOLD_INNER;
	u->want_coef = tk->perm == 0 && (tk->inner < 0 || u->want_ex);
	u->n_test = (u->want_ex || tk->inner < 0) ? os->n_test : 0;

	u->y = nidec_malloc_e(pl->n, sizeof(int), "task labels", err);
	u->ypm_tr = nidec_malloc_e(P * u->n_tr, 1, "task labels", err);
	u->ypm_sc = nidec_malloc_e(u->n_sc ? P * u->n_sc : 1, 1, "task labels", err);
	u->feat = nidec_calloc_e(P, sizeof(*u->feat), "screened voxels", err);
	u->n_feat = nidec_malloc_e(P, sizeof(*u->n_feat), "screened voxels", err);
	if (!u->y || !u->ypm_tr || !u->ypm_sc || !u->feat || !u->n_feat)
		return NIDEC_ENOMEM;
	NIDEC_TRY(plan_labels(pl, tk->perm, u->y, err));
	if (pl->target) {
		u->t = nidec_malloc_e(pl->n, sizeof(double), "task targets", err);
		if (!u->t)
			return NIDEC_ENOMEM;
		NIDEC_TRY(plan_targets(pl, tk->perm, u->t, err));
	}
	for (q = 0; q < P; q++) {
		for (i = 0; i < u->n_tr; i++)
			u->ypm_tr[q * u->n_tr + i] = plan_ypm(pl, u->y, u->tr[i], (int)q);
		for (i = 0; i < u->n_sc; i++)
			u->ypm_sc[q * u->n_sc + i] = plan_ypm(pl, u->y, u->sc[i], (int)q);
		u->n_feat[q] = pl->p;
	}

	if (pl->screen_pct < 100.0 && !pl->target) { /* regression: below */
		size_t Pp;
		if (nidec_mul_size(P, pl->p, &Pp) < 0)
			return nidec_fail(err, NIDEC_ENOMEM, "screening scores overflow");
		u->F = nidec_malloc_e(Pp, sizeof(double), "F scores", err);
		if (!u->F)
			return NIDEC_ENOMEM;
	}

	/* standardisation statistics (plan.c explains the modes) */
	switch (pl->std_mode) {
	case STD_GLOBAL:
		u->s_tr = u->s_sc = u->s_ex = &pl->global;
		break;
	case STD_PER_FIT:
		if (pl->run_of) {
			int whole;
			NIDEC_TRY(per_run_prepare(pl, u, &whole, err));
			if (whole) {
				u->s_tr = u->s_sc = &u->sa;
				break;
			}
		}
		/* statistics and screening scores of the same rows: one pass */
		NIDEC_TRY(nidec_prep_fit_fclassif(&u->sa, pl->X, pl->p, u->tr, u->n_tr,
						  pl->standardize, pl->f32, u->ypm_tr,
						  u->F ? P : 0, u->F, err));
		u->s_tr = u->s_sc = &u->sa;
		break;
	case STD_OUTER:
		NIDEC_TRY(nidec_scaler_fit(&u->sa, pl->X, pl->p, os->train, os->n_train,
					   pl->standardize, pl->f32, err));
		u->s_tr = u->s_sc = u->s_ex = &u->sa;
		if (pl->scope == NIDEC_SCOPE_ALL) {
			NIDEC_TRY(nidec_scaler_fit(&u->sb, pl->X, pl->p, os->test, os->n_test,
						   pl->standardize, pl->f32, err));
			u->s_ex = &u->sb;
		}
		break;
	default:
		break;
	}

	/* regression: f_regression of the training rows' targets */
	if (pl->screen_pct < 100.0 && pl->target) {
		double *tt = nidec_malloc_e(u->n_tr, sizeof(double), "training targets", err);
		int rc;
		u->F = nidec_malloc_e(pl->p, sizeof(double), "F scores", err);
		if (!tt || !u->F) {
			nidec_free(tt);
			return NIDEC_ENOMEM;
		}
		for (i = 0; i < u->n_tr; i++)
			tt[i] = u->t[u->tr[i]];
		rc = nidec_prep_fregression(pl->X, pl->p, u->tr, u->n_tr, tt, u->s_tr, u->F, err);
		nidec_free(tt);
		NIDEC_TRY(rc);
	}
	/* ANOVA screening on the training rows, one F per problem and voxel */
	if (u->F) {
		if (pl->std_mode != STD_PER_FIT && !pl->target)
			NIDEC_TRY(nidec_prep_fclassif_multi(pl->X, pl->p, u->tr, u->n_tr, u->ypm_tr, P,
							    u->s_tr, u->F, err));
		for (q = 0; q < P; q++) {
			NIDEC_TRY(nidec_prep_select_percentile(u->F + q * pl->p, pl->p, pl->screen_pct,
							       &u->feat[q], &u->n_feat[q], err));
			if (u->n_feat[q] == 0)
				return nidec_fail(err, NIDEC_ESOLVER, "class '%s': screening at %g %% kept no voxel",
						  pl->class_names[pl->K == 2 ? 1 : q], pl->screen_pct);
		}
		nidec_free(u->F);
		u->F = NULL;
	}
	return 0;
}

/* ---- weights in the result -------------------------------------------- */

/*
 * The weights of every fit (p voxels + intercept): dense, or, when
 * screening kept a list of voxels for each problem, only those (the others
 * are exactly 0): at 20 % screening a fifth of the memory on rank 0, which
 * holds the outer folds' results of every C until the reduce (plan.h
 * "nidec_result").  Fit f belongs to problem q0 + f / n_C (plan_fit_index).
 */
static int alloc_coef(const struct nidec_plan *pl, const struct unit *u, nidec_result *r,
		      nidec_err *err)
{
	size_t n_fit = r->n_fit, f, n_vox = 0, nc;
	int sparse = 1;

	r->n_coef = pl->p + 1;
	for (f = 0; f < n_fit; f++) {
		size_t q = u->q0 + f / pl->n_C;
		sparse &= u->feat[q] != NULL;
		n_vox += u->n_feat[q];
	}
	if (!sparse || pl->p > UINT32_MAX) {
		if (nidec_mul_size(n_fit, r->n_coef, &nc) < 0)
			return nidec_fail(err, NIDEC_ENOMEM, "weights overflow");
		r->coef = nidec_calloc_e(nc, sizeof(double), "weights", err);
		return r->coef ? 0 : NIDEC_ENOMEM;
	}
	r->coef_nnz = nidec_malloc_e(n_fit, sizeof(size_t), "weights", err);
	r->coef_vox = nidec_malloc_e(n_vox ? n_vox : 1, sizeof(uint32_t), "weights", err);
	r->coef = nidec_calloc_e(n_vox + n_fit, sizeof(double), "weights", err);
	if (!r->coef_nnz || !r->coef_vox || !r->coef)
		return NIDEC_ENOMEM;
	for (f = 0, n_vox = 0; f < n_fit; f++) {
		size_t q = u->q0 + f / pl->n_C, k;
		r->coef_nnz[f] = u->n_feat[q];
		for (k = 0; k < u->n_feat[q]; k++)
			r->coef_vox[n_vox + k] = (uint32_t)u->feat[q][k];
		n_vox += u->n_feat[q];
	}
	return 0;
}

/* Fit f's weights: w[k] of voxel feat[k] (feat NULL: voxel k), k < nf, and
 * the intercept b (the sparse layout of alloc_coef has the same voxels). */
static void put_coef(nidec_result *r, size_t f, const size_t *feat, size_t nf, const double *w,
		     double b)
{
	size_t k, at = 0;

	if (!r->coef_nnz) {
		double *co = r->coef + f * r->n_coef;
		for (k = 0; k < nf; k++)
			co[feat ? feat[k] : k] = w[k];
		co[r->n_coef - 1] = b;
		return;
	}
	for (k = 0; k < f; k++)
		at += r->coef_nnz[k] + 1;
	memcpy(r->coef + at, w, nf * sizeof(double));
	r->coef[at + nf] = b;
}

/* ---- fits through nidec_svm_train (every estimator and solver) --------- */

static int generic_fit(const struct nidec_plan *pl, const nidec_task *tk, struct unit *u,
		       size_t q, size_t c, nidec_result *r, nidec_err *err)
{
	nidec_view v_tr, v_sc, v_ex;
	nidec_svm_param par;
	nidec_svm_model model = NIDEC_SVM_MODEL_INIT;
	size_t f = plan_fit_index(pl, q, c), n_feat = u->n_feat[q];
	const size_t *feat = u->feat[q];
	const signed char *ypm_tr = u->ypm_tr + q * u->n_tr, *ypm_sc = u->ypm_sc + q * u->n_sc;
	double C = pl->C[c];
	int rc = 0;

	v_tr.X = v_sc.X = v_ex.X = pl->X;
	v_tr.p = v_sc.p = v_ex.p = pl->p;
	v_tr.feat = v_sc.feat = v_ex.feat = feat;
	v_tr.n_feat = v_sc.n_feat = v_ex.n_feat = n_feat;
	v_tr.rows = u->tr;
	v_tr.n_rows = u->n_tr;
	v_tr.scaler = u->s_tr;
	v_sc.rows = u->sc;
	v_sc.n_rows = u->n_sc;
	v_sc.scaler = u->s_sc;
	v_ex.rows = u->os->test;
	v_ex.n_rows = u->os->n_test;
	v_ex.scaler = u->s_ex;

	if (pl->l1_grid) {
		double min_c;
		NIDEC_TRY(nidec_svm_l1_min_c(&v_tr, ypm_tr, &min_c, err));
		C = (2.0 * C) * min_c; /* nilearn: [2, 20, 200] * l1_min_c */
	}
	par.estimator = pl->estimator;
	par.solver = pl->solver;
	par.C = C;
	par.tol = pl->tol;
	par.max_iter = NIDEC_DCD_MAX_ITER;
	par.liblinear_order = 0;
	par.seed = fit_seed(pl, tk, q, c);
	NIDEC_TRY(nidec_svm_train(&v_tr, ypm_tr, &par, &model, err));

	nidec_svm_decision(&model, &v_sc, u->dec);
	NIDEC_TRY_GOTO(rc, nidec_metric_score(pl->scoring, ypm_sc, u->dec, u->n_sc, &r->score[f], err),
		       done);
	r->C[f] = C;
	r->fit_iter[f] = model.n_iter;
	if (u->want_ex) {
		if (model.dummy)
			model.seed ^= 0x6f75746572ULL; /* another stream than the inner test's */
		nidec_svm_decision(&model, &v_ex, r->decision + f * r->n_test);
	} else if (tk->inner < 0) {
		memcpy(r->decision + f * r->n_test, u->dec, u->n_sc * sizeof(double));
	}
	if (u->want_coef)
		put_coef(r, f, feat, n_feat, model.w, model.b);
done:
	nidec_svm_model_release(&model);
	return rc;
}

/* ---- regression: svr, ridge, lasso, dummy_regressor --------------------- */

/* Predictions x . w + b of rows[0..n) (standardised with s) over the
 * voxels feat[0..nf), summed in voxel order. */
static void predict_rows(const struct nidec_plan *pl, const nidec_scaler *s, const size_t *rows,
			 size_t n, const size_t *feat, size_t nf, const double *w, double b,
			 double *z, double *out)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		double v = 0;
		nidec_prep_row(s, pl->X + rows[i] * pl->p, feat, nf, z);
		for (k = 0; k < nf; k++)
			v += w[k] * z[k];
		out[i] = v + b;
	}
}

/* Lasso's path and folds (LassoCV's defaults, as nilearn's lasso). */
#define LASSO_EPS 1e-3
#define LASSO_FOLDS 5
#define LASSO_MAX_ITER 1000

/*
 * The training rows and targets of a regression unit, and for svr their
 * Gram matrix: built once, shared by every C of the grid (the rows and
 * features are the same; only the solver's C changes).  u->w holds the
 * weights and a row of scratch.
 */
static int regress_prepare(const struct nidec_plan *pl, struct unit *u, nidec_err *err)
{
	size_t nf = u->n_feat[0], i, nz, nk;
	const size_t *feat = u->feat[0];

	if (nidec_mul_size(u->n_tr, nf ? nf : 1, &nz) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "training matrix overflow");
	u->Zr = nidec_malloc_e(nz, sizeof(double), "training rows", err);
	u->yr = nidec_malloc_e(u->n_tr + u->n_sc + 1, sizeof(double), "training targets", err);
	u->w = nidec_malloc_e(nf ? 2 * nf : 1, sizeof(double), "weights", err);
	if (!u->Zr || !u->yr || !u->w)
		return NIDEC_ENOMEM;
	for (i = 0; i < u->n_tr; i++) {
		nidec_prep_row(u->s_tr, pl->X + u->tr[i] * pl->p, feat, nf, u->Zr + i * nf);
		u->yr[i] = u->t[u->tr[i]];
	}
	for (i = 0; i < u->n_sc; i++)
		u->yr[u->n_tr + i] = u->t[u->sc[i]];
	if (pl->estimator != NIDEC_EST_SVR)
		return 0;
	if (nidec_mul_size(u->n_tr, u->n_tr, &nk) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "svr's kernel of %zu samples overflows", u->n_tr);
	u->Kr = nidec_malloc_e(nk, sizeof(double), "svr's kernel matrix", err);
	if (!u->Kr)
		return NIDEC_ENOMEM;
	return nidec_gram(u->Zr, u->n_tr, nf, nf, 0.0, u->Kr, u->n_tr, err);
}

static int regress_fit(const struct nidec_plan *pl, const nidec_task *tk, struct unit *u, size_t c,
		       nidec_result *r, nidec_err *err)
{
	size_t f = plan_fit_index(pl, 0, c), nf = u->n_feat[0];
	const size_t *feat = u->feat[0];
	double *w = u->w, b = 0, used = NAN;
	long n_iter = -1;
	int rc = 0;

	switch (pl->estimator) {
	case NIDEC_EST_SVR: {
		/* nilearn's SVR(kernel='linear', max_iter=10000) */
		nidec_svr_opts o = { pl->svr_solver, pl->C[c], pl->epsilon, pl->tol, NIDEC_SVR_MAX_ITER };
		used = pl->C[c];
		rc = nidec_svr_fit(u->Zr, u->n_tr, nf, u->Kr, u->yr, &o, w, &b, &n_iter, err);
		if (rc == 0 && n_iter >= NIDEC_SVR_MAX_ITER)
			nidec_verbose("svr stopped at its iteration limit (C = %g, %zu samples), as nilearn's does; the weights are not converged to tol %g",
				      pl->C[c], u->n_tr, pl->tol);
		break;
	}
	case NIDEC_EST_RIDGE: {
		size_t best = 0;
		rc = nidec_ridge_gcv(u->Zr, u->n_tr, nf, u->yr, pl->alphas, pl->n_alphas, w, &b, &best, NULL,
				     err);
		used = pl->alphas[best];
		break;
	}
	case NIDEC_EST_LASSO:
		rc = nidec_lasso_cv(u->Zr, u->n_tr, nf, u->yr, (size_t)pl->lasso_n_alphas, LASSO_EPS,
				    LASSO_FOLDS, pl->tol, LASSO_MAX_ITER, w, &b, &used, NULL, NULL, err);
		break;
	case NIDEC_EST_DUMMY_REGRESSOR:
		rc = nidec_dummy_regressor_fit(u->yr, u->n_tr, nf, w, &b, err);
		break;
	default:
		rc = nidec_fail(err, NIDEC_EINTERNAL, "estimator %d is not a regressor", pl->estimator);
	}
	if (rc < 0)
		return rc;
	/* the scoring rows' predictions and score, then the outer test's */
	predict_rows(pl, u->s_sc, u->sc, u->n_sc, feat, nf, w, b, w + nf, u->dec);
	NIDEC_TRY(nidec_metric_regression(pl->scoring, u->yr + u->n_tr, u->dec, u->n_sc, &r->score[f],
					  err));
	r->C[f] = used;
	r->fit_iter[f] = (int)n_iter;
	if (u->want_ex)
		predict_rows(pl, u->s_ex, u->os->test, u->os->n_test, feat, nf, w, b, w + nf,
			     r->decision + f * r->n_test);
	else if (tk->inner < 0)
		memcpy(r->decision + f * r->n_test, u->dec, u->n_sc * sizeof(double));
	if (u->want_coef)
		put_coef(r, f, feat, nf, w, b);
	return 0;
}

/* ---- the fast path: svc with our DCD ----------------------------------- */

/* dec[r] = x_r . w + b over the problem's voxels, summed in voxel order
 * from standardised rows Z (stride p), as nidec_svm_decision sums.  Four
 * rows at a time, each its own chain in that order (the same bits), so
 * that the chains overlap the latency of the additions. */
static void decide(const double *Z, size_t p, size_t n, const size_t *feat, size_t nf,
		   const double *w, double b, double *dec)
{
	size_t r, k;

	for (r = 0; r + 4 <= n; r += 4) {
		const double *z0 = Z + r * p, *z1 = z0 + p, *z2 = z1 + p, *z3 = z2 + p;
		double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
		if (feat) {
			for (k = 0; k < nf; k++) {
				size_t j = feat[k];
				s0 += w[k] * z0[j];
				s1 += w[k] * z1[j];
				s2 += w[k] * z2[j];
				s3 += w[k] * z3[j];
			}
		} else {
			for (k = 0; k < nf; k++) {
				s0 += w[k] * z0[k];
				s1 += w[k] * z1[k];
				s2 += w[k] * z2[k];
				s3 += w[k] * z3[k];
			}
		}
		dec[r] = s0 + b;
		dec[r + 1] = s1 + b;
		dec[r + 2] = s2 + b;
		dec[r + 3] = s3 + b;
	}
	for (; r < n; r++) {
		const double *z = Z + r * p;
		double s = 0;
		if (feat)
			for (k = 0; k < nf; k++)
				s += w[k] * z[feat[k]];
		else
			for (k = 0; k < nf; k++)
				s += w[k] * z[k];
		dec[r] = s + b;
	}
}

/* Standardised rows rows[0..n) of X (all voxels) in double. */
static double *std_rows(const struct nidec_plan *pl, const size_t *rows, size_t n,
			const nidec_scaler *s, nidec_err *err)
{
	size_t i, np;
	double *Z;

	if (nidec_mul_size(n ? n : 1, pl->p, &np) < 0) {
		nidec_fail(err, NIDEC_ENOMEM, "standardised rows overflow");
		return NULL;
	}
	Z = nidec_malloc_e(np, sizeof(double), "standardised rows", err);
	if (!Z)
		return NULL;
	nidec_hint_huge(Z, np * sizeof(double));
	for (i = 0; i < n; i++)
		nidec_prep_row(s, pl->X + rows[i] * pl->p, NULL, pl->p, Z + i * pl->p);
	return Z;
}

/* Solver order of problem q: liblinear's grouping, +1 rows first, then -1,
 * each in training-part order. */
static size_t solver_order(const struct unit *u, size_t q)
{
	const signed char *ypm = u->ypm_tr + q * u->n_tr;
	size_t i, a = 0;
	int g;

	for (g = 1; g >= -1; g -= 2)
		for (i = 0; i < u->n_tr; i++)
			if ((ypm[i] > 0 ? 1 : -1) == g) {
				u->ord[a] = i;
				u->yq[a] = (signed char)g;
				a++;
			}
	return a;
}

/* Scores, decisions and weights of fit (q, c) from w[nf] and b. */
static int finish_fit(const struct nidec_plan *pl, const nidec_task *tk, struct unit *u,
		      size_t q, size_t c, const double *w, double b, int n_iter, nidec_result *r,
		      nidec_err *err)
{
	size_t f = plan_fit_index(pl, q, c), nf = u->n_feat[q];
	const size_t *feat = u->feat[q];

	decide(u->Zs, pl->p, u->n_sc, feat, nf, w, b, u->dec);
	NIDEC_TRY(nidec_metric_score(pl->scoring, u->ypm_sc + q * u->n_sc, u->dec, u->n_sc,
				     &r->score[f], err));
	r->C[f] = pl->C[c];
	r->fit_iter[f] = n_iter;
	if (u->want_ex)
		decide(u->Zx, pl->p, u->os->n_test, feat, nf, w, b, r->decision + f * r->n_test);
	else if (tk->inner < 0)
		memcpy(r->decision + f * r->n_test, u->dec, u->n_sc * sizeof(double));
	if (u->want_coef)
		put_coef(r, f, feat, nf, w, b);
	if (n_iter >= NIDEC_DCD_MAX_ITER)
		nidec_verbose("dcd stopped at its iteration limit (C = %g, %zu samples); the weights are not converged to tol %g",
			      pl->C[c], u->n_tr, pl->tol);
	return 0;
}

/* Kernel form of problem q: the Gram matrix of the training rows (plan-wide
 * or the task's), seen in the solver's row order through an index, every C
 * in order. */
static int kernel_problem(const struct nidec_plan *pl, const nidec_task *tk, struct unit *u,
			  size_t q, nidec_result *r, nidec_err *err)
{
	size_t l = u->n_tr, nf = u->n_feat[q], a, k, c;
	const size_t *feat = u->feat[q];
	int global = plan_use_global_gram(pl);
	nidec_dcd_problem pb;

	memset(&pb, 0, sizeof(pb));
	pb.form = NIDEC_DCD_KERNEL;
	pb.l = l;
	pb.y = u->yq;
	pb.kidx = u->kidx;
	pb.kbuf = plan_scratch_kblock(pl, NIDEC_DCD_KBUF_LEN(l), err); /* (checked by fast_fits) */
	if (!pb.kbuf)
		return NIDEC_ENOMEM;
	if (global) {
		for (a = 0; a < l; a++)
			u->kidx[a] = u->tr[u->ord[a]];
		pb.K = pl->Kg;
		pb.ld = pb.m = pl->n;
	} else {
		/* the task's Gram matrix, kept for the next problem when the
		 * voxels are the same for all (no screening) */
		if (u->Zt_q < 0 || (feat && u->Zt_q != (long)q)) {
			for (a = 0; a < l; a++)
				nidec_prep_row(u->s_tr, pl->X + u->tr[a] * pl->p, feat, nf, u->Zt + a * nf);
			NIDEC_TRY(nidec_gram(u->Zt, l, nf, nf, 1.0, u->Kt, l, err));
			u->Zt_q = (long)q;
		}
		for (a = 0; a < l; a++)
			u->kidx[a] = u->ord[a];
		pb.K = u->Kt;
		pb.ld = pb.m = l;
	}
	for (c = 0; c < pl->n_C; c++) {
		int n_iter = 0;
		double bias = 0;

		NIDEC_TRY(nidec_dcd_solve(&pb, pl->C[c], pl->tol, NIDEC_DCD_MAX_ITER, 0,
					  solver_seed(pl, tk, q, c), u->alpha, u->wv,
					  pl->warm && c > 0, &n_iter, err));
		/* w = sum_a alpha_a y_a x_a, in solver order */
		memset(u->w, 0, nf * sizeof(double));
		for (a = 0; a < l; a++) {
			double ay = u->alpha[a] * (double)u->yq[a];
			const double *z;
			if (u->alpha[a] == 0)
				continue;
			bias += ay;
			if (global) {
				z = pl->Zg + u->kidx[a] * pl->p;
				if (feat)
					for (k = 0; k < nf; k++)
						u->w[k] += ay * z[feat[k]];
				else
					for (k = 0; k < nf; k++)
						u->w[k] += ay * z[k];
			} else {
				z = u->Zt + u->ord[a] * nf;
				for (k = 0; k < nf; k++)
					u->w[k] += ay * z[k];
			}
		}
		r->n_iter += n_iter;
		NIDEC_TRY(finish_fit(pl, tk, u, q, c, u->w, bias, n_iter, r, err));
	}
	return 0;
}

/* Row stride of a problem's float32 rows: 16 floats (64 bytes) aligned. */
static size_t primal_ld(size_t nf)
{
	return (nf + 1 + 15) & ~(size_t)15;
}

/* Solver rows of several problems at once stay under this many bytes. */
#define PRIMAL_GROUP_BYTES ((size_t)64 << 20)

/*
 * Primal form of problems q0..q1-1 on float32 rows: one pass over the
 * training rows standardises each row once and fills every problem's rows
 * (its voxels, the constant 1, in its solver order), so the data matrix is
 * read once per group, not once per problem; then each problem runs every C
 * in order.  Values are nidec_prep_value's, rounded to float32 (exact under
 * compat = nilearn, whose standardised values are float32 numbers).
 */
static int primal_group(const struct nidec_plan *pl, const nidec_task *tk, struct unit *u,
			size_t q0, size_t q1, nidec_result *r, nidec_err *err)
{
	size_t l = u->n_tr, G = q1 - q0, g, a, k, c, total = 0;
	size_t *off = NULL, *inv = NULL;
	signed char *yg = NULL;
	float *x = NULL;
	double *zrow = NULL, *norm2 = NULL;
	int rc = 0;

	off = nidec_malloc_e(G + 1, sizeof(*off), "solver rows", err);
	inv = nidec_malloc_e(G * l, sizeof(*inv), "solver order", err);
	yg = nidec_malloc_e(G * l, 1, "solver labels", err);
	zrow = nidec_malloc_e(pl->p, sizeof(double), "standardised row", err);
	norm2 = nidec_malloc_e(l ? l : 1, sizeof(double), "solver diagonal", err);
	if (!off || !inv || !yg || !zrow || !norm2) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (g = 0; g < G; g++) {
		off[g] = total;
		total += l * primal_ld(u->n_feat[q0 + g]);
		solver_order(u, q0 + g);
		for (a = 0; a < l; a++) {
			inv[g * l + u->ord[a]] = a;
			yg[g * l + a] = u->yq[a];
		}
	}
	off[G] = total;
	x = plan_scratch_floats(pl, total ? total : 1, err);
	if (!x) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (a = 0; a < l; a++) {
		nidec_prep_row(u->s_tr, pl->X + u->tr[a] * pl->p, NULL, pl->p, zrow);
		for (g = 0; g < G; g++) {
			size_t q = q0 + g, nf = u->n_feat[q], ld = primal_ld(nf);
			const size_t *feat = u->feat[q];
			float *xa = x + off[g] + inv[g * l + a] * ld;
			if (feat)
				for (k = 0; k < nf; k++)
					xa[k] = (float)zrow[feat[k]];
			else
				for (k = 0; k < nf; k++)
					xa[k] = (float)zrow[k];
			xa[nf] = 1.0f;
			for (k = nf + 1; k < ld; k++)
				xa[k] = 0.0f;
		}
	}
	for (g = 0; g < G; g++) {
		size_t q = q0 + g, nf = u->n_feat[q];
		nidec_dcd_problem pb;

		memset(&pb, 0, sizeof(pb));
		pb.form = NIDEC_DCD_PRIMAL32;
		pb.l = l;
		pb.y = yg + g * l;
		pb.d = nf + 1;
		pb.ld = primal_ld(nf);
		pb.x32 = x + off[g];
		/* the diagonal of the dual: once for the whole C grid */
		nidec_dcd_norms32(pb.x32, l, pb.d, pb.ld, norm2);
		pb.norm2 = norm2;
		for (c = 0; c < pl->n_C; c++) {
			int n_iter = 0;

			rc = nidec_dcd_solve(&pb, pl->C[c], pl->tol, NIDEC_DCD_MAX_ITER, 0,
					     solver_seed(pl, tk, q, c), u->alpha, u->wv,
					     pl->warm && c > 0, &n_iter, err);
			if (rc == 0) {
				r->n_iter += n_iter;
				rc = finish_fit(pl, tk, u, q, c, u->wv, u->wv[nf], n_iter, r, err);
			}
			if (rc < 0) {
				if (rc != NIDEC_ENOMEM)
					nidec_err_prefix(err, "class '%s': ",
							 pl->class_names[pl->K == 2 ? 1 : q]);
				goto done;
			}
		}
	}
done:
	nidec_free(off);
	nidec_free(inv);
	nidec_free(yg);
	nidec_free(zrow);
	nidec_free(norm2);
	return rc;
}

static int fast_fits(const struct nidec_plan *pl, const nidec_task *tk, struct unit *u,
		     nidec_result *r, nidec_err *err)
{
	size_t P = pl->n_problems, l = u->n_tr, q, nf_max = 0, ll, sz;
	int any_kernel = 0, global = plan_use_global_gram(pl), rc = 0;
	int *kern;

	kern = nidec_malloc_e(P, sizeof(int), "solver forms", err);
	if (!kern)
		return NIDEC_ENOMEM;
	for (q = u->q0; q < u->q1; q++) {
		size_t d = u->n_feat[q] + 1;
		kern[q] = global || plan_kernel_form(pl, l, d, u->feat[q] ? 1 : P);
		any_kernel |= kern[q];
		if (u->n_feat[q] > nf_max)
			nf_max = u->n_feat[q];
	}
	u->Zs = std_rows(pl, u->sc, u->n_sc, u->s_sc, err);
	if (!u->Zs)
		goto nomem;
	if (u->want_ex && !(u->Zx = std_rows(pl, u->os->test, u->os->n_test, u->s_ex, err)))
		goto nomem;
	u->ord = nidec_malloc_e(l, sizeof(*u->ord), "solver order", err);
	u->yq = nidec_malloc_e(l, 1, "solver labels", err);
	u->alpha = nidec_malloc_e(l, sizeof(double), "solver duals", err);
	u->wv = nidec_malloc_e(nf_max + 1, sizeof(double), "solver state", err);
	u->w = nidec_malloc_e(nf_max + 1, sizeof(double), "weights", err);
	if (!u->ord || !u->yq || !u->alpha || !u->wv || !u->w)
		goto nomem;
	if (any_kernel) {
		/* the Gram matrix, and the solver's padded block (NIDEC_DCD_KBUF_LEN) */
		if (nidec_mul_size(l, l, &ll) < 0 || nidec_mul_size(l, l + NIDEC_DCD_KPAD, &sz) < 0)
			goto toobig;
		u->kidx = nidec_malloc_e(l, sizeof(*u->kidx), "solver order", err);
		if (!u->kidx)
			goto nomem;
		if (!global) {
			if (nidec_mul_size(l, nf_max, &sz) < 0)
				goto toobig;
			u->Kt = nidec_malloc_e(ll, sizeof(double), "Gram matrix", err);
			u->Zt = nidec_malloc_e(sz, sizeof(double), "standardised training rows", err);
			if (!u->Kt || !u->Zt)
				goto nomem;
			nidec_hint_huge(u->Kt, ll * sizeof(double));
			nidec_hint_huge(u->Zt, sz * sizeof(double));
		}
	}
	for (q = u->q0; q < u->q1 && rc == 0;) {
		size_t q1 = q, bytes = 0;
		if (kern[q]) {
			solver_order(u, q);
			rc = kernel_problem(pl, tk, u, q, r, err);
			if (rc < 0 && rc != NIDEC_ENOMEM)
				nidec_err_prefix(err, "class '%s': ", pl->class_names[pl->K == 2 ? 1 : q]);
			q++;
			continue;
		}
		/* the next primal problems whose rows fit in PRIMAL_GROUP_BYTES */
		while (q1 < u->q1 && !kern[q1]) {
			size_t b;
			if (nidec_mul_size(l, primal_ld(u->n_feat[q1]) * sizeof(float), &b) < 0)
				goto toobig;
			if (q1 > q && bytes + b > PRIMAL_GROUP_BYTES)
				break;
			bytes += b;
			q1++;
		}
		rc = primal_group(pl, tk, u, q, q1, r, err);
		q = q1;
	}
	nidec_free(kern);
	return rc;
toobig:
	nidec_free(kern);
	return nidec_fail(err, NIDEC_ENOMEM, "solver matrix of %zu samples overflows", l);
nomem:
	nidec_free(kern);
	return NIDEC_ENOMEM;
}

static int fast_path(const struct nidec_plan *pl)
{
	return pl->estimator == NIDEC_EST_SVC && pl->solver == NIDEC_SVM_DCD && !pl->l1_grid;
}

static int run_unit(const struct nidec_plan *pl, const nidec_task *tk, struct unit *u,
		    nidec_result *r, nidec_err *err)
{
	size_t n_fit = pl->n_fit, q, c, nd;

	r->n_fit = n_fit;
	r->score = nidec_malloc_e(n_fit, sizeof(double), "scores", err);
	r->C = nidec_malloc_e(n_fit, sizeof(double), "C values", err);
	r->fit_iter = nidec_malloc_e(n_fit, sizeof(int), "iterations", err);
	if (!r->score || !r->C || !r->fit_iter)
		return NIDEC_ENOMEM;
	for (q = 0; q < n_fit; q++) {
		r->score[q] = NAN;
		r->C[q] = pl->C[q % pl->n_C];
		r->fit_iter[q] = -1;
	}
	NIDEC_TRY(unit_prepare(pl, tk, u, err));
	r->n_iter = 0;
	r->n_test = u->n_test;
	if (u->n_test) {
		if (nidec_mul_size(n_fit, u->n_test, &nd) < 0)
			return nidec_fail(err, NIDEC_ENOMEM, "decision values overflow");
		r->decision = nidec_malloc_e(nd, sizeof(double), "decision values", err);
		if (!r->decision)
			return NIDEC_ENOMEM;
	}
	if (u->want_coef)
		NIDEC_TRY(alloc_coef(pl, u, r, err));
	nd = u->n_sc > u->os->n_test ? u->n_sc : u->os->n_test;
	u->dec = nidec_malloc_e(nd ? nd : 1, sizeof(double), "decision values", err);
	if (!u->dec)
		return NIDEC_ENOMEM;
	if (pl->target) {
		NIDEC_TRY(regress_prepare(pl, u, err));
		for (c = 0; c < pl->n_C; c++)
			NIDEC_TRY(regress_fit(pl, tk, u, c, r, err));
		return 0;
	}
	if (fast_path(pl))
		return fast_fits(pl, tk, u, r, err);
	for (q = u->q0; q < u->q1; q++)
		for (c = 0; c < pl->n_C; c++) {
			int rc = generic_fit(pl, tk, u, q, c, r, err);
			if (rc < 0) {
				if (rc != NIDEC_ENOMEM)
					nidec_err_prefix(err, "class '%s', C = %g: ",
							 pl->class_names[pl->K == 2 ? 1 : q], pl->C[c]);
				return rc;
			}
		}
	return 0;
}

int nidec_task_run(const nidec_plan *pl, size_t t, nidec_result **res, nidec_err *err)
{
	struct unit u;
	nidec_result *r;
	nidec_task tk;
	nidec_err terr = NIDEC_ERR_INIT;
	double t0 = nidec_now();
	int rc;

	if (t >= pl->n_tasks)
		return nidec_fail(err, NIDEC_EINTERNAL, "task %zu out of range (%zu tasks)", t,
				  pl->n_tasks);
	if (!pl->X)
		return nidec_fail(err, NIDEC_EINTERNAL, "task %zu: nidec_plan_prepare was not called", t);
	r = nidec_calloc_e(1, sizeof(*r), "task result", err);
	if (!r)
		return NIDEC_ENOMEM;
	memset(&u, 0, sizeof(u));
	u.Zt_q = -1;
	nidec_plan_task(pl, t, &tk);
	r->task = t;
	r->n_iter = -1;
	rc = run_unit(pl, &tk, &u, r, &terr);
	unit_release(&u, pl->n_problems);
	if (rc == NIDEC_ENOMEM) {
		nidec_result_free(&r);
		if (err)
			*err = terr;
		return rc;
	}
	if (rc < 0) {
		char desc[200];
		plan_task_desc(pl, &tk, desc, sizeof(desc));
		nidec_free(r->decision);
		nidec_free(r->coef);
		nidec_free(r->coef_nnz);
		nidec_free(r->coef_vox);
		r->decision = r->coef = NULL;
		r->coef_nnz = NULL;
		r->coef_vox = NULL;
		r->n_test = r->n_coef = 0;
		r->status = rc;
		if (snprintf(r->msg, sizeof(r->msg), "%s: %s", desc, terr.msg) >= (int)sizeof(r->msg))
			memcpy(r->msg + sizeof(r->msg) - 4, "...", 4); /* keep the start, mark the cut */
	}
	r->seconds = nidec_now() - t0;
	*res = r;
	return 0;
}
