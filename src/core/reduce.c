/*
 * reduce.c - combine the results of every task of a plan into the outcome
 * (rank 0; see include/nidec/plan.h).
 *
 * Everything is computed in task-id order from results[t], so the outcome
 * is a pure function of the results and does not depend on which rank ran
 * what or when it arrived (README "Determinism").  The unit of reduction is
 * one permutation (its block of task ids): permutation 0 gives the scores,
 * predictions and weights, each permutation p > 0 one row of null scores.
 * The incremental reducer (nidec_reducer_add) reduces a permutation as soon
 * as its last result is in and frees its results, so rank 0 holds the
 * results of unfinished permutations only, not of the whole run: with the
 * scheduler running permutations in order (nidec_plan_task_group) that is
 * a few permutations' worth, whatever their number.  Means over folds are
 * sums in fold order; means of scores use numpy's summation order
 * (nidec_mean_numpy) so that exact ties between C, and the printed means,
 * are nilearn's and scikit-learn's.
 *
 * Selection rules (README "Model selection"):
 *  - nested: per (outer fold, problem) the C with the best mean inner score,
 *    ties to the FIRST C in grid order (GridSearchCV's rank + argmin); the
 *    fold model is that C's fit on the whole outer training part;
 *  - test-fold: the C whose outer test score is >= the best so far, i.e.
 *    ties to the LAST C (nilearn's _parallel_fit);
 *  - test-fold with an inner scheme (a Decoder inside an outer split): per
 *    inner fold the C by the same >= rule on the inner test part; the fold
 *    model is the mean of the picked inner models; its decision on the outer
 *    test part is the mean of their decisions (the same linear model), and
 *    the fold's C is the common pick, or NaN when inner folds disagree.
 * Keys for two classes: the one binary problem points to classes[1].  Under
 * compat = nilearn key classes[0] gets +w and classes[1] gets -w (nilearn's
 * coef_img_ quirk, semantics doc section 6); otherwise the weights of key c
 * point towards c.  Permutation p > 0 contributes only its fold scores.
 *
 * Depends on base and core only.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nidec/cfg.h"
#include "nidec/mem.h"
#include "nidec/metrics.h"
#include "nidec/svm.h"
#include "plan_int.h"

/* The task holding fit (q, c) of (perm, outer f, inner i), and that fit. */
#define R(perm, f, i, q) results[plan_fit_task(pl, (perm), (f), (i), (size_t)(q))]
#define FIT(q, c) plan_fit_index(pl, (size_t)(q), (size_t)(c))
#define SCORE(perm, f, i, q, c) (R(perm, f, i, q)->score[FIT(q, c)])
#define FIT_C(perm, f, i, q, c) (R(perm, f, i, q)->C[FIT(q, c)])
#define DEC(perm, f, i, q, c) (R(perm, f, i, q)->decision + FIT(q, c) * R(perm, f, i, q)->n_test)

/* The weights of fit (q, c) of (perm, f, i) into out[p + 1] (dense). */
static void fit_coef(const struct nidec_plan *pl, nidec_result *const *results, long perm, int f,
		     int i, int q, int c, double *out)
{
	nidec_result_coef(R(perm, f, i, q), FIT(q, c), out);
}

struct pick {
	double score, inner_score, C;
	const double *dec;   /* kept decisions on the outer test part */
	const double *coef;  /* kept weights + intercept (perm 0), or NULL */
	double *own_dec, *own_coef, *tmp_coef;
};

static void pick_release(struct pick *pk)
{
	nidec_free(pk->own_dec);
	nidec_free(pk->own_coef);
	nidec_free(pk->tmp_coef);
	memset(pk, 0, sizeof(*pk));
}

/* The kept fit's weights (when wanted and present), dense, as the pick's own. */
static int pick_coef(const struct nidec_plan *pl, nidec_result *const *results, long perm,
		     int f, int q, int best, int need_coef, struct pick *pk, nidec_err *err)
{
	if (!need_coef || !R(perm, f, -1, q)->n_coef)
		return 0;
	pk->own_coef = nidec_malloc_e(pl->p + 1, sizeof(double), "fold weights", err);
	if (!pk->own_coef)
		return NIDEC_ENOMEM;
	fit_coef(pl, results, perm, f, -1, q, best, pk->own_coef);
	pk->coef = pk->own_coef;
	return 0;
}

/* The fold model of (perm, f, q).  grid_* and inner_* may be NULL. */
static int select_fold(const struct nidec_plan *pl, nidec_result *const *results, long perm,
		       int f, int q, const int *y, int need_coef, double *grid_score,
		       double *grid_inner, double *inner_C, double *inner_fold_score,
		       signed char *ypm, double *tmp, struct pick *pk, nidec_err *err)
{
	const nidec_split *os = &pl->outer.split[f];
	size_t n_in = pl->mode == MODE_TESTFOLD ? 0 : pl->inner[f].n, i, j, p1 = pl->p + 1;
	int c, best = -1;
	double bs = 0;

	memset(pk, 0, sizeof(*pk));
	if (pl->mode == MODE_NESTED) {
		for (c = 0; c < (int)pl->n_C; c++) {
			double m;
			for (i = 0; i < n_in; i++)
				tmp[i] = SCORE(perm, f, (int)i, q, c);
			m = nidec_mean_numpy(tmp, n_in);
			if (grid_inner)
				grid_inner[c] = m;
			if (grid_score)
				grid_score[c] = SCORE(perm, f, -1, q, c);
			/* strictly better only: the first C wins ties; NaN never wins */
			if (best < 0 || m > bs || (isnan(bs) && !isnan(m))) {
				best = c;
				bs = m;
			}
		}
		pk->score = SCORE(perm, f, -1, q, best);
		pk->inner_score = bs;
		pk->C = FIT_C(perm, f, -1, q, best);
		pk->dec = DEC(perm, f, -1, q, best);
		NIDEC_TRY(pick_coef(pl, results, perm, f, q, best, need_coef, pk, err));
		for (i = 0; i < n_in; i++) {
			if (inner_C)
				inner_C[i] = FIT_C(perm, f, (int)i, q, best);
			if (inner_fold_score)
				inner_fold_score[i] = SCORE(perm, f, (int)i, q, best);
		}
		return 0;
	}
	if (pl->mode == MODE_TESTFOLD) {
		for (c = 0; c < (int)pl->n_C; c++) {
			double s = SCORE(perm, f, -1, q, c);
			if (grid_score)
				grid_score[c] = s;
			if (grid_inner)
				grid_inner[c] = NAN;
			if (best < 0 || s >= bs) { /* nilearn: ties to the later C */
				best = c;
				bs = s;
			}
		}
		pk->score = SCORE(perm, f, -1, q, best);
		pk->inner_score = NAN;
		pk->C = FIT_C(perm, f, -1, q, best);
		pk->dec = DEC(perm, f, -1, q, best);
		return pick_coef(pl, results, perm, f, q, best, need_coef, pk, err);
	}

	/* MODE_TESTFOLD_INNER: average the models picked on each inner fold */
	pk->own_dec = nidec_calloc_e(os->n_test ? os->n_test : 1, sizeof(double), "fold decisions", err);
	if (!pk->own_dec)
		return NIDEC_ENOMEM;
	if (need_coef) {
		pk->own_coef = nidec_calloc_e(p1, sizeof(double), "fold weights", err);
		pk->tmp_coef = nidec_malloc_e(p1, sizeof(double), "fold weights", err);
		if (!pk->own_coef || !pk->tmp_coef)
			return NIDEC_ENOMEM;
	}
	pk->C = NAN;
	for (i = 0; i < n_in; i++) {
		const double *rdec;
		double rs, rC;
		best = -1;
		for (c = 0; c < (int)pl->n_C; c++) {
			double s = SCORE(perm, f, (int)i, q, c);
			if (best < 0 || s >= bs) {
				best = c;
				bs = s;
			}
		}
		rs = SCORE(perm, f, (int)i, q, best);
		rC = FIT_C(perm, f, (int)i, q, best);
		rdec = DEC(perm, f, (int)i, q, best);
		tmp[i] = rs;
		if (inner_C)
			inner_C[i] = rC;
		if (inner_fold_score)
			inner_fold_score[i] = rs;
		if (i == 0)
			pk->C = rC;
		else if (pk->C != rC)
			pk->C = NAN;
		for (j = 0; j < os->n_test; j++)
			pk->own_dec[j] += rdec[j];
		if (need_coef) {
			fit_coef(pl, results, perm, f, (int)i, q, best, pk->tmp_coef);
			for (j = 0; j < p1; j++)
				pk->own_coef[j] += pk->tmp_coef[j];
		}
	}
	for (j = 0; j < os->n_test; j++)
		pk->own_dec[j] /= (double)n_in;
	if (need_coef)
		for (j = 0; j < p1; j++)
			pk->own_coef[j] /= (double)n_in;
	pk->inner_score = nidec_mean_numpy(tmp, n_in);
	NIDEC_TRY(plan_score(pl, perm, y, q, os->test, os->n_test, pk->own_dec, ypm, &pk->score, err));
	pk->dec = pk->own_dec;
	pk->coef = pk->own_coef;
	if (grid_score || grid_inner) {
		double *d = nidec_malloc_e(os->n_test ? os->n_test : 1, sizeof(double), "grid decisions", err);
		int rc = 0;
		if (!d)
			return NIDEC_ENOMEM;
		for (c = 0; c < (int)pl->n_C && rc == 0; c++) {
			memset(d, 0, os->n_test * sizeof(double));
			for (i = 0; i < n_in; i++) {
				const double *rdec = DEC(perm, f, (int)i, q, c);
				tmp[i] = SCORE(perm, f, (int)i, q, c);
				for (j = 0; j < os->n_test; j++)
					d[j] += rdec[j];
			}
			for (j = 0; j < os->n_test; j++)
				d[j] /= (double)n_in;
			if (grid_inner)
				grid_inner[c] = nidec_mean_numpy(tmp, n_in);
			if (grid_score)
				rc = plan_score(pl, perm, y, q, os->test, os->n_test, d, ypm, &grid_score[c], err);
		}
		nidec_free(d);
		NIDEC_TRY(rc);
	}
	return 0;
}

void nidec_outcome_free(nidec_outcome **out)
{
	nidec_outcome *o;
	size_t k;

	if (!out || !*out)
		return;
	o = *out;
	if (o->keys)
		for (k = 0; k < o->n_keys; k++)
			nidec_free(o->keys[k]);
	nidec_free(o->keys);
	nidec_free(o->C);
	nidec_free(o->score);
	nidec_free(o->inner_score);
	nidec_free(o->chosen_C);
	nidec_free(o->grid_score);
	nidec_free(o->grid_inner);
	nidec_free(o->inner_C);
	nidec_free(o->inner_fold_score);
	nidec_free(o->pred_accuracy);
	nidec_free(o->pred_sample);
	nidec_free(o->pred_fold);
	nidec_free(o->pred_true);
	nidec_free(o->pred_label);
	nidec_free(o->pred_target);
	nidec_free(o->pred_decision);
	nidec_free(o->coef_mean);
	nidec_free(o->coef_std);
	nidec_free(o->intercept);
	nidec_free(o->model_coef);
	nidec_free(o->model_intercept);
	nidec_free(o->confusion);
	nidec_free(o->null_scores);
	nidec_free(o->p_value);
	nidec_free(o);
	*out = NULL;
}

/* Every result of permutation perm present, successful and of the
 * expected shape. */
static int check_results(const struct nidec_plan *pl, nidec_result *const *results, long perm,
			 nidec_err *err)
{
	size_t t, t0 = (size_t)perm * pl->block;
	char desc[200];

	for (t = t0; t < t0 + pl->block; t++) {
		const nidec_result *r = results[t];
		nidec_task tk;
		size_t want_test = 0, want_coef = 0;

		nidec_plan_task(pl, t, &tk);
		if (!r)
			return nidec_fail(err, NIDEC_EINTERNAL, "task %zu has no result", t);
		if (r->status < 0)
			return nidec_fail(err, r->status, "task %zu failed: %s", t, r->msg);
		if (r->task != t)
			return nidec_fail(err, NIDEC_EINTERNAL, "result %zu carries task id %zu", t, r->task);
		if (tk.inner < 0 || pl->mode == MODE_TESTFOLD_INNER)
			want_test = pl->outer.split[tk.outer].n_test;
		if (tk.perm == 0 && (tk.inner < 0 || pl->mode == MODE_TESTFOLD_INNER))
			want_coef = pl->p + 1;
		if (r->n_fit != pl->n_fit || !r->score || !r->C || r->n_test != want_test ||
		    (want_test && !r->decision) || r->n_coef != want_coef || (want_coef && !r->coef)) {
			plan_task_desc(pl, &tk, desc, sizeof(desc));
			return nidec_fail(err, NIDEC_EINTERNAL,
					  "result of task %zu (%s) has %zu fits, %zu decision values and %zu weights per fit, expected %zu, %zu and %zu",
					  t, desc, r->n_fit, r->n_test, r->n_coef, pl->n_fit, want_test, want_coef);
		}
	}
	return 0;
}

/* The output keys (outcome.h): one per class, except that a binary
 * problem is reported once, under its positive class classes[1], outside
 * compat = nilearn (nilearn reports it under both classes, the second
 * with the first's scores and the negated weights: its coef_img_ quirk). */
static size_t n_keys(const struct nidec_plan *pl)
{
	return pl->K == 2 && pl->compat != NIDEC_COMPAT_NILEARN ? 1 : pl->K;
}

/* The class of key k, and its binary problem (regression: the one
 * "class", the target). */
static size_t key_class(const struct nidec_plan *pl, size_t k)
{
	return pl->K == 1 ? 0 : n_keys(pl) == 1 ? 1 : k;
}

static size_t key_problem(const struct nidec_plan *pl, size_t k)
{
	return pl->K == 2 ? 0 : k;
}

static int alloc_outcome(const struct nidec_plan *pl, nidec_outcome *o, nidec_err *err)
{
	size_t K = pl->K, N = n_keys(pl), F = pl->outer.n, nC = pl->n_C, P = pl->n_problems, f, k, i;
	size_t kf = N * F, kfc = N * F * nC, kfi = N * F * pl->n_inner_max;

	o->n_keys = N;
	o->n_folds = F;
	o->n_C = nC;
	o->nested = pl->mode != MODE_TESTFOLD;
	o->n_inner = pl->mode == MODE_TESTFOLD ? 0 : pl->n_inner_max;
	o->n_problems = P;
	o->p = pl->p;
	o->n_classes = K;
	o->n_perm = pl->n_perm;
	for (f = 0; f < F; f++)
		o->n_pred += pl->outer.split[f].n_test;
	o->keys = nidec_calloc_e(N, sizeof(char *), "outcome keys", err);
	if (!o->keys)
		return NIDEC_ENOMEM;
	for (k = 0; k < N; k++)
		if (!(o->keys[k] = nidec_strdup_e(pl->class_names[key_class(pl, k)], err)))
			return NIDEC_ENOMEM;
	o->C = nidec_malloc_e(nC, sizeof(double), "outcome", err);
	o->score = nidec_malloc_e(kf, sizeof(double), "outcome", err);
	o->inner_score = nidec_malloc_e(kf, sizeof(double), "outcome", err);
	o->chosen_C = nidec_malloc_e(kf, sizeof(double), "outcome", err);
	o->grid_score = nidec_malloc_e(kfc, sizeof(double), "outcome", err);
	o->grid_inner = nidec_malloc_e(kfc, sizeof(double), "outcome", err);
	o->inner_C = nidec_malloc_e(kfi ? kfi : 1, sizeof(double), "outcome", err);
	o->inner_fold_score = nidec_malloc_e(kfi ? kfi : 1, sizeof(double), "outcome", err);
	o->pred_accuracy = nidec_malloc_e(F, sizeof(double), "outcome", err);
	o->pred_sample = nidec_malloc_e(o->n_pred ? o->n_pred : 1, sizeof(size_t), "predictions", err);
	o->pred_fold = nidec_malloc_e(o->n_pred ? o->n_pred : 1, sizeof(int), "predictions", err);
	o->pred_true = nidec_malloc_e(o->n_pred ? o->n_pred : 1, sizeof(int), "predictions", err);
	o->pred_label = nidec_malloc_e(o->n_pred ? o->n_pred : 1, sizeof(int), "predictions", err);
	if (pl->target && !(o->pred_target = nidec_malloc_e(o->n_pred ? o->n_pred : 1, sizeof(double),
							     "predictions", err)))
		return NIDEC_ENOMEM;
	o->pred_decision = nidec_calloc_e(o->n_pred ? o->n_pred * P : 1, sizeof(double), "predictions", err);
	o->coef_mean = nidec_calloc_e(N * pl->p, sizeof(double), "mean weights", err);
	o->coef_std = nidec_calloc_e(N * pl->p, sizeof(double), "weight std", err);
	o->intercept = nidec_calloc_e(N, sizeof(double), "intercepts", err);
	o->model_coef = nidec_calloc_e(P * pl->p, sizeof(double), "model weights", err);
	o->model_intercept = nidec_calloc_e(P, sizeof(double), "model intercepts", err);
	o->confusion = nidec_calloc_e(K * K, sizeof(long), "confusion matrix", err);
	o->null_scores = nidec_malloc_e(pl->n_perm ? (size_t)pl->n_perm * N : 1, sizeof(double), "null scores", err);
	o->p_value = nidec_malloc_e(N, sizeof(double), "p-values", err);
	if (!o->C || !o->score || !o->inner_score || !o->chosen_C || !o->grid_score ||
	    !o->grid_inner || !o->inner_C || !o->inner_fold_score || !o->pred_accuracy ||
	    !o->pred_sample || !o->pred_fold || !o->pred_true || !o->pred_label ||
	    !o->pred_decision || !o->coef_mean || !o->coef_std || !o->intercept ||
	    !o->model_coef || !o->model_intercept || !o->confusion || !o->null_scores ||
	    !o->p_value)
		return NIDEC_ENOMEM;
	memcpy(o->C, pl->C, nC * sizeof(double));
	for (i = 0; i < kfi; i++)
		o->inner_C[i] = o->inner_fold_score[i] = NAN;
	for (i = 0; i < N; i++)
		o->p_value[i] = NAN;
	o->p_value_mean = NAN;
	return 0;
}

/* The sign of key k's weights: a binary problem's weights point to
 * classes[1]; nilearn stores them as they are under classes[0] and
 * negated under classes[1]. */
static double key_sign(const struct nidec_plan *pl, size_t k)
{
	if (pl->K != 2)
		return 1.0;
	if (pl->compat == NIDEC_COMPAT_NILEARN)
		return k == 0 ? 1.0 : -1.0;
	return key_class(pl, k) == 1 ? 1.0 : -1.0;
}

/* Permutation 0: scores, grid, predictions and weights. */
static int reduce_true(const struct nidec_plan *pl, nidec_result *const *results,
		       nidec_outcome *o, int *y, signed char *ypm, double *tmp, nidec_err *err)
{
	size_t F = pl->outer.n, nC = pl->n_C, nI = o->n_inner, p1 = pl->p + 1;
	size_t q, f, j, k, *off = NULL;
	double *fc = NULL, *gs = NULL, *gi = NULL, *ic = NULL, *is = NULL;
	int rc = 0;

	off = nidec_malloc_e(F + 1, sizeof(size_t), "prediction offsets", err);
	fc = nidec_malloc_e(F * p1, sizeof(double), "fold weights", err);
	gs = nidec_malloc_e(nC, sizeof(double), "grid", err);
	gi = nidec_malloc_e(nC, sizeof(double), "grid", err);
	ic = nidec_malloc_e(nI ? nI : 1, sizeof(double), "inner picks", err);
	is = nidec_malloc_e(nI ? nI : 1, sizeof(double), "inner picks", err);
	if (!off || !fc || !gs || !gi || !ic || !is) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	NIDEC_TRY_GOTO(rc, plan_labels(pl, 0, y, err), done);
	off[0] = 0;
	for (f = 0; f < F; f++) {
		const nidec_split *os = &pl->outer.split[f];
		off[f + 1] = off[f] + os->n_test;
		for (j = 0; j < os->n_test; j++) {
			o->pred_sample[off[f] + j] = os->test[j];
			o->pred_fold[off[f] + j] = (int)f;
			o->pred_true[off[f] + j] = y[os->test[j]];
		}
	}
	for (q = 0; q < pl->n_problems; q++) {
		for (f = 0; f < F; f++) {
			struct pick pk;
			const nidec_split *os = &pl->outer.split[f];
			size_t i;

			for (i = 0; i < nI; i++)
				ic[i] = is[i] = NAN;
			rc = select_fold(pl, results, 0, (int)f, (int)q, y, 1, gs, gi, ic, is, ypm,
					 tmp, &pk, err);
			if (rc < 0) {
				pick_release(&pk);
				goto done;
			}
			for (j = 0; j < os->n_test; j++)
				o->pred_decision[(off[f] + j) * pl->n_problems + q] = pk.dec[j];
			memcpy(fc + f * p1, pk.coef, p1 * sizeof(double));
			for (k = 0; k < n_keys(pl); k++) {
				size_t kf = k * F + f;
				if (key_problem(pl, k) != q)
					continue;
				o->score[kf] = pk.score;
				o->inner_score[kf] = pk.inner_score;
				o->chosen_C[kf] = pk.C;
				memcpy(o->grid_score + kf * nC, gs, nC * sizeof(double));
				memcpy(o->grid_inner + kf * nC, gi, nC * sizeof(double));
				if (nI) {
					memcpy(o->inner_C + kf * nI, ic, nI * sizeof(double));
					memcpy(o->inner_fold_score + kf * nI, is, nI * sizeof(double));
				}
			}
			pick_release(&pk);
		}
		/* mean and std (ddof 0) over folds, sums in fold order (numpy
		 * reduces the fold axis of the stacked weights sequentially) */
		for (j = 0; j < p1; j++) {
			double s = 0, m, v = 0;
			for (f = 0; f < F; f++)
				s += fc[f * p1 + j];
			m = s / (double)F;
			for (f = 0; f < F; f++) {
				double d = fc[f * p1 + j] - m;
				v += d * d;
			}
			v = sqrt(v / (double)F);
			if (j < pl->p)
				o->model_coef[q * pl->p + j] = m;
			else
				o->model_intercept[q] = m;
			for (k = 0; k < n_keys(pl); k++) {
				double sg = key_sign(pl, k);
				if (key_problem(pl, k) != q)
					continue;
				if (j < pl->p) {
					o->coef_mean[k * pl->p + j] = sg * m;
					o->coef_std[k * pl->p + j] = v;
				} else {
					o->intercept[k] = sg * m;
				}
			}
		}
	}
	/* final predicted class: decision > 0 for two classes, else the first
	 * maximum over the one-vs-rest problems */
	if (pl->target) {
		/* regression: the true targets; no class is predicted */
		for (j = 0; j < o->n_pred; j++) {
			o->pred_target[j] = pl->target[o->pred_sample[j]];
			o->pred_label[j] = o->pred_true[j];
		}
		nidec_free(o->pred_accuracy); /* no class accuracy, no confusion */
		o->pred_accuracy = NULL;
		o->n_classes = 0;
		goto done;
	}
	for (j = 0; j < o->n_pred; j++)
		o->pred_label[j] = nidec_svm_predict_class(o->pred_decision + j * pl->n_problems,
							   pl->n_problems);
	for (f = 0; f < F; f++) {
		size_t right = 0, n = off[f + 1] - off[f];
		for (j = off[f]; j < off[f + 1]; j++)
			right += o->pred_label[j] == o->pred_true[j];
		o->pred_accuracy[f] = n ? (double)right / (double)n : NAN;
	}
	nidec_metric_confusion(o->pred_true, o->pred_label, o->n_pred, pl->K, o->confusion);
done:
	nidec_free(off);
	nidec_free(fc);
	nidec_free(gs);
	nidec_free(gi);
	nidec_free(ic);
	nidec_free(is);
	return rc;
}

/* Permutation perm > 0: its null score per key, the mean over outer folds
 * of the fold scores, into row[n_keys]. */
static int null_row(const struct nidec_plan *pl, nidec_result *const *results, long perm,
		    int *y, signed char *ypm, double *tmp, double *row, nidec_err *err)
{
	size_t F = pl->outer.n, f, k, q;
	double *fs;
	int rc = 0;

	fs = nidec_malloc_e(F * pl->n_problems, sizeof(double), "fold scores", err);
	if (!fs)
		return NIDEC_ENOMEM;
	NIDEC_TRY_GOTO(rc, plan_labels(pl, perm, y, err), done);
	for (q = 0; q < pl->n_problems; q++)
		for (f = 0; f < F; f++) {
			struct pick pk;
			rc = select_fold(pl, results, perm, (int)f, (int)q, y, 0, NULL, NULL, NULL, NULL,
					 ypm, tmp, &pk, err);
			fs[q * F + f] = pk.score;
			pick_release(&pk);
			if (rc < 0)
				goto done;
		}
	for (k = 0; k < n_keys(pl); k++)
		row[k] = nidec_mean_numpy(fs + key_problem(pl, k) * F, F);
done:
	nidec_free(fs);
	return rc;
}

/* p = (1 + number of null scores >= observed) / (N + 1), per key and for
 * the mean over keys, from the null rows (permutation order). */
static int p_values(const struct nidec_plan *pl, nidec_outcome *o, nidec_err *err)
{
	size_t F = pl->outer.n, K = n_keys(pl), k;
	double *obs, obs_mean;
	long perm;

	if (pl->n_perm == 0)
		return 0;
	obs = nidec_malloc_e(K, sizeof(double), "observed scores", err);
	if (!obs)
		return NIDEC_ENOMEM;
	for (k = 0; k < K; k++) {
		obs[k] = nidec_mean_numpy(o->score + k * F, F);
		o->p_value[k] = 1;
	}
	obs_mean = nidec_mean_numpy(obs, K);
	o->p_value_mean = 1;
	for (perm = 1; perm <= pl->n_perm; perm++) {
		const double *row = o->null_scores + (size_t)(perm - 1) * K;
		for (k = 0; k < K; k++)
			if (row[k] >= obs[k])
				o->p_value[k] += 1;
		if (nidec_mean_numpy(row, K) >= obs_mean)
			o->p_value_mean += 1;
	}
	for (k = 0; k < K; k++)
		o->p_value[k] /= (double)(pl->n_perm + 1);
	o->p_value_mean /= (double)(pl->n_perm + 1);
	nidec_free(obs);
	return 0;
}

/* ---- the incremental reduce (plan.h "nidec_reducer") ------------------- */

struct nidec_reducer {
	const struct nidec_plan *pl;
	nidec_outcome *o;
	int *y;
	signed char *ypm;
	double *tmp;
	size_t *stored;          /* [n_perm + 1] results of each permutation in the table */
	unsigned char *reduced;  /* [n_perm + 1] 1 once the permutation is reduced */
	long n_reduced;
};

void nidec_reducer_free(nidec_reducer **rdp)
{
	nidec_reducer *rd;

	if (!rdp || !*rdp)
		return;
	rd = *rdp;
	nidec_outcome_free(&rd->o);
	nidec_free(rd->y);
	nidec_free(rd->ypm);
	nidec_free(rd->tmp);
	nidec_free(rd->stored);
	nidec_free(rd->reduced);
	nidec_free(rd);
	*rdp = NULL;
}

int nidec_reducer_create(const nidec_plan *pl, nidec_reducer **out, nidec_err *err)
{
	nidec_reducer *rd;
	size_t nmax = pl->n_inner_max > pl->outer.n ? pl->n_inner_max : pl->outer.n;
	size_t blocks = (size_t)pl->n_perm + 1;
	int rc;

	rd = nidec_calloc_e(1, sizeof(*rd), "reducer", err);
	if (!rd)
		return NIDEC_ENOMEM;
	rd->pl = pl;
	rd->o = nidec_calloc_e(1, sizeof(*rd->o), "outcome", err);
	rd->y = nidec_malloc_e(pl->n, sizeof(int), "labels", err);
	rd->ypm = nidec_malloc_e(pl->n, 1, "labels", err);
	rd->tmp = nidec_malloc_e(nmax ? nmax : 1, sizeof(double), "scores", err);
	rd->stored = nidec_calloc_e(blocks, sizeof(size_t), "reducer counts", err);
	rd->reduced = nidec_calloc_e(blocks, 1, "reducer counts", err);
	if (!rd->o || !rd->y || !rd->ypm || !rd->tmp || !rd->stored || !rd->reduced) {
		nidec_reducer_free(&rd);
		return NIDEC_ENOMEM;
	}
	rc = alloc_outcome(pl, rd->o, err);
	if (rc < 0) {
		nidec_reducer_free(&rd);
		return rc;
	}
	*out = rd;
	return 0;
}

/* Reduce permutation perm from the table (every result of it present). */
static int reduce_perm(nidec_reducer *rd, nidec_result *const *results, long perm,
		       nidec_err *err)
{
	const struct nidec_plan *pl = rd->pl;

	NIDEC_TRY(check_results(pl, results, perm, err));
	if (perm == 0)
		NIDEC_TRY(reduce_true(pl, results, rd->o, rd->y, rd->ypm, rd->tmp, err));
	else
		NIDEC_TRY(null_row(pl, results, perm, rd->y, rd->ypm, rd->tmp,
				   rd->o->null_scores + (size_t)(perm - 1) * n_keys(pl), err));
	rd->reduced[perm] = 1;
	rd->n_reduced++;
	return 0;
}

int nidec_reducer_add(nidec_reducer *rd, nidec_result **results, size_t t, nidec_err *err)
{
	const struct nidec_plan *pl = rd->pl;
	long perm = (long)(t / pl->block);
	size_t t0, i;

	if (t >= pl->n_tasks || !results[t])
		return nidec_fail(err, NIDEC_EINTERNAL, "reducer: task %zu has no result", t);
	if (rd->reduced[perm]) {
		/* a second copy (e.g. a duplicate checkpoint record) of a task
		 * already reduced: the first one counted */
		nidec_result_free(&results[t]);
		return 0;
	}
	if (rd->stored[perm] >= pl->block)
		return nidec_fail(err, NIDEC_EINTERNAL, "reducer: permutation %ld got more than its %zu results",
				  perm, pl->block);
	if (++rd->stored[perm] < pl->block)
		return 0;
	NIDEC_TRY(reduce_perm(rd, results, perm, err));
	t0 = (size_t)perm * pl->block;
	for (i = t0; i < t0 + pl->block; i++)
		nidec_result_free(&results[i]);
	return 0;
}

int nidec_reducer_done(const nidec_reducer *rd, size_t t)
{
	return t < rd->pl->n_tasks && rd->reduced[t / rd->pl->block];
}

int nidec_reducer_finish(nidec_reducer *rd, nidec_outcome **out, nidec_err *err)
{
	const struct nidec_plan *pl = rd->pl;

	if (rd->n_reduced != pl->n_perm + 1)
		return nidec_fail(err, NIDEC_EINTERNAL, "reducer: %ld of %ld permutations complete",
				  rd->n_reduced, pl->n_perm + 1);
	NIDEC_TRY(p_values(pl, rd->o, err));
	*out = rd->o;
	rd->o = NULL;
	return 0;
}

int nidec_plan_reduce(const nidec_plan *pl, nidec_result *const *results,
		      nidec_outcome **out, nidec_err *err)
{
	nidec_reducer *rd;
	long perm;
	int rc;

	NIDEC_TRY(nidec_reducer_create(pl, &rd, err));
	for (perm = 0, rc = 0; perm <= pl->n_perm && rc == 0; perm++)
		rc = reduce_perm(rd, results, perm, err);
	if (rc == 0)
		rc = nidec_reducer_finish(rd, out, err);
	nidec_reducer_free(&rd);
	return rc;
}
