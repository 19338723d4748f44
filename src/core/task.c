/*
 * task.c - run one task of a plan: (permutation, outer fold, inner fold,
 * problem, C) -> a result (see include/nidec/plan.h).
 *
 * A task is a pure function of (plan, task id, X): it derives its labels
 * (true or permuted), its rows, its standardisation statistics, its
 * screened voxels and its solver seed from the plan and the task's identity
 * only, never from the rank or the order tasks run in (README
 * "Determinism").  Statistics and screening are refitted inside each task
 * rather than cached per fold: a task then needs nothing but X, and the
 * O(n p) cost is small next to the solver's O(iterations n p).
 *
 * What a task returns (enough for reduce.c, nothing more):
 *  - score on its test part: the inner test part for an inner task, the
 *    outer test part for an outer fit;
 *  - decision values on the outer test part: for outer fits, and for inner
 *    tasks of a Decoder inside an outer split (its fold model is the mean of
 *    the inner models, so the mean of their decisions is its decision);
 *  - weights (p + intercept) when the fit can become a fold model of the
 *    true labels (permutation 0).
 * A numerical failure becomes a result status with a message naming the
 * task; only running out of memory is an error of the call.
 *
 * Depends on base and core only: no MPI, no HDF5, no NIfTI.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nidec/cfg.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/metrics.h"
#include "nidec/rng.h"
#include "nidec/svm.h"
#include "plan_int.h"

struct task_state {
	int *y;
	signed char *ypm_tr, *ypm_sc;
	nidec_scaler sa, sb;
	double *F;
	size_t *feat;
	nidec_svm_model model;
	double *dec;
};

static void state_release(struct task_state *st)
{
	nidec_free(st->y);
	nidec_free(st->ypm_tr);
	nidec_free(st->ypm_sc);
	nidec_scaler_release(&st->sa);
	nidec_scaler_release(&st->sb);
	nidec_free(st->F);
	nidec_free(st->feat);
	nidec_svm_model_release(&st->model);
	nidec_free(st->dec);
}

static int run_fit(const struct nidec_plan *pl, const nidec_task *tk, nidec_result *r,
		   struct task_state *st, nidec_err *err)
{
	const nidec_split *os = &pl->outer.split[tk->outer];
	const nidec_split *is = tk->inner >= 0 ? &pl->inner[tk->outer].split[tk->inner] : NULL;
	const size_t *tr = is ? is->train : os->train, *sc = is ? is->test : os->test;
	size_t n_tr = is ? is->n_train : os->n_train, n_sc = is ? is->n_test : os->n_test;
	const nidec_scaler *s_tr = NULL, *s_sc = NULL, *s_ex = NULL;
	nidec_view v_tr, v_sc, v_ex;
	nidec_svm_param par;
	size_t i, n_feat = pl->p;
	int want_ex = pl->mode == MODE_TESTFOLD_INNER;
	int want_coef = tk->perm == 0 && (tk->inner < 0 || want_ex);
	double C = pl->C[tk->c_index];

	st->y = nidec_malloc_e(pl->n, sizeof(int), "task labels", err);
	st->ypm_tr = nidec_malloc_e(n_tr, 1, "task labels", err);
	st->ypm_sc = nidec_malloc_e(n_sc, 1, "task labels", err);
	if (!st->y || !st->ypm_tr || !st->ypm_sc)
		return NIDEC_ENOMEM;
	NIDEC_TRY(plan_labels(pl, tk->perm, st->y, err));
	for (i = 0; i < n_tr; i++)
		st->ypm_tr[i] = plan_ypm(pl, st->y, tr[i], tk->problem);
	for (i = 0; i < n_sc; i++)
		st->ypm_sc[i] = plan_ypm(pl, st->y, sc[i], tk->problem);

	/* standardisation statistics (plan.c explains the modes) */
	switch (pl->std_mode) {
	case STD_GLOBAL:
		s_tr = s_sc = s_ex = &pl->global;
		break;
	case STD_PER_FIT:
		NIDEC_TRY(nidec_scaler_fit(&st->sa, pl->X, pl->p, tr, n_tr, pl->standardize, pl->f32, err));
		s_tr = s_sc = &st->sa;
		break;
	case STD_OUTER:
		NIDEC_TRY(nidec_scaler_fit(&st->sa, pl->X, pl->p, os->train, os->n_train,
					   pl->standardize, pl->f32, err));
		s_tr = s_sc = s_ex = &st->sa;
		if (pl->scope == NIDEC_SCOPE_ALL) {
			NIDEC_TRY(nidec_scaler_fit(&st->sb, pl->X, pl->p, os->test, os->n_test,
						   pl->standardize, pl->f32, err));
			s_ex = &st->sb;
		}
		break;
	default:
		break;
	}

	/* ANOVA screening on this fit's training rows and problem labels */
	if (pl->screen_pct < 100.0) {
		st->F = nidec_malloc_e(pl->p, sizeof(double), "F scores", err);
		if (!st->F)
			return NIDEC_ENOMEM;
		NIDEC_TRY(nidec_prep_fclassif(pl->X, pl->p, tr, n_tr, st->ypm_tr, s_tr, st->F, err));
		NIDEC_TRY(nidec_prep_select_percentile(st->F, pl->p, pl->screen_pct, &st->feat,
						       &n_feat, err));
		if (n_feat == 0)
			return nidec_fail(err, NIDEC_ESOLVER,
					  "screening at %g %% kept no voxel", pl->screen_pct);
	}
	v_tr.X = v_sc.X = v_ex.X = pl->X;
	v_tr.p = v_sc.p = v_ex.p = pl->p;
	v_tr.feat = v_sc.feat = v_ex.feat = st->feat;
	v_tr.n_feat = v_sc.n_feat = v_ex.n_feat = n_feat;
	v_tr.rows = tr;
	v_tr.n_rows = n_tr;
	v_tr.scaler = s_tr;
	v_sc.rows = sc;
	v_sc.n_rows = n_sc;
	v_sc.scaler = s_sc;
	v_ex.rows = os->test;
	v_ex.n_rows = os->n_test;
	v_ex.scaler = s_ex;

	if (pl->l1_grid) {
		double min_c;
		NIDEC_TRY(nidec_svm_l1_min_c(&v_tr, st->ypm_tr, &min_c, err));
		C = (2.0 * C) * min_c; /* nilearn: [2, 20, 200] * l1_min_c */
	}
	par.estimator = pl->estimator;
	par.solver = pl->solver;
	par.C = C;
	par.tol = pl->tol;
	par.max_iter = NIDEC_DCD_MAX_ITER;
	par.liblinear_order = 0;
	par.seed = nidec_seed_mix(nidec_seed_mix(pl->seed, PLAN_TAG_FIT, (uint64_t)tk->perm,
						 (uint64_t)tk->outer),
				  (uint64_t)(tk->inner + 1), (uint64_t)tk->problem,
				  (uint64_t)tk->c_index);
	NIDEC_TRY(nidec_svm_train(&v_tr, st->ypm_tr, &par, &st->model, err));

	st->dec = nidec_malloc_e(n_sc ? n_sc : 1, sizeof(double), "decision values", err);
	if (!st->dec)
		return NIDEC_ENOMEM;
	nidec_svm_decision(&st->model, &v_sc, st->dec);
	NIDEC_TRY(nidec_metric_score(pl->scoring, st->ypm_sc, st->dec, n_sc, &r->score, err));
	r->C = C;
	r->n_iter = st->model.n_iter;

	if (want_ex) {
		r->decision = nidec_malloc_e(os->n_test, sizeof(double), "decision values", err);
		if (!r->decision)
			return NIDEC_ENOMEM;
		if (st->model.dummy)
			st->model.seed ^= 0x6f75746572ULL; /* another stream than the inner test's */
		nidec_svm_decision(&st->model, &v_ex, r->decision);
		r->n_test = os->n_test;
	} else if (tk->inner < 0) {
		r->decision = st->dec;
		st->dec = NULL;
		r->n_test = n_sc;
	}
	if (want_coef) {
		r->coef = nidec_calloc_e(pl->p + 1, sizeof(double), "weights", err);
		if (!r->coef)
			return NIDEC_ENOMEM;
		for (i = 0; i < n_feat; i++)
			r->coef[st->feat ? st->feat[i] : i] = st->model.w[i];
		r->coef[pl->p] = st->model.b;
		r->n_coef = pl->p + 1;
	}
	return 0;
}

int nidec_task_run(const nidec_plan *pl, size_t t, nidec_result **res, nidec_err *err)
{
	struct task_state st;
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
	memset(&st, 0, sizeof(st));
	nidec_plan_task(pl, t, &tk);
	r->task = t;
	r->n_iter = -1;
	r->score = NAN;
	r->C = pl->C[tk.c_index];
	rc = run_fit(pl, &tk, r, &st, &terr);
	state_release(&st);
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
		r->decision = r->coef = NULL;
		r->n_test = r->n_coef = 0;
		r->status = rc;
		if (snprintf(r->msg, sizeof(r->msg), "%s: %s", desc, terr.msg) >= (int)sizeof(r->msg))
			memcpy(r->msg + sizeof(r->msg) - 4, "...", 4); /* keep the start, mark the cut */
	}
	r->seconds = nidec_now() - t0;
	*res = r;
	return 0;
}
