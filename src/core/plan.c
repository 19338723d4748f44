/*
 * plan.c - the task space of a cross-validated decoding (see
 * include/nidec/plan.h): folds, binary problems, the task numbering, the
 * checks that must pass before any work starts, and per-rank data
 * preparation.  task.c runs one task; reduce.c combines the results.
 *
 * Decisions and reasons (README "Model selection", "Preprocessing"):
 *  - Modes.  selection = nested: every C is fitted on each inner fold
 *    (scored on its inner test part) and on the whole outer training part
 *    (scored on the outer test part); the reduction picks C by mean inner
 *    score.  selection = test-fold with inner scheme none (or auto, which
 *    means none here: nilearn's Decoder has no inner loop): every C is
 *    fitted on the outer training part and scored on the outer test part.
 *    selection = test-fold with an inner scheme: a whole nilearn Decoder
 *    runs inside each outer training part (tutorial steps a-c).
 *  - Inner scheme auto (nested): leave-one-run-out over the runs of the
 *    outer training part when it holds >= 2 runs (runs are the unit of
 *    independence in fMRI), else stratified k-fold with inner_folds.
 *  - Standardisation statistics: scope = train fits them on the training
 *    rows of each fit (no leakage); scope = all (nilearn) on all samples
 *    once, before splitting.  With a Decoder inside an outer split the
 *    outer training part is standardised on its own statistics, as nilearn's
 *    masker does at fit time; the outer test part on its own statistics
 *    under scope = all (nilearn's predict standardises new images on
 *    themselves), on the training statistics under scope = train.
 *    compat = nilearn standardises in numpy's float32 arithmetic.
 *  - Screening percentile: taken literally and applied when < 100; under
 *    compat = nilearn rescaled by the mask volume (x 1882989 mm3 / volume,
 *    capped at 100, truncated to an integer) and applied only when there are
 *    more than 100 voxels, as nilearn does.
 *  - holdout = a fraction f takes the last ceil(f n) samples as the test
 *    part (scikit-learn's train_test_split rounds the test size up).
 *  - estimator = dummy uses only the first C (it has no C).
 *  - Everything that can be known from the labels is checked here, before
 *    any work: a training part with one class, a test part without both
 *    classes when the score needs both (roc_auc), for the true labels and for
 *    every permutation.
 *
 * Depends on base and core only: no MPI, no HDF5, no NIfTI.
 */
#include <limits.h>
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

void nidec_plan_free(nidec_plan **plan)
{
	struct nidec_plan *pl;
	size_t i;

	if (!plan || !*plan)
		return;
	pl = *plan;
	nidec_free(pl->y);
	nidec_free(pl->runs);
	if (pl->class_names)
		for (i = 0; i < pl->K; i++)
			nidec_free(pl->class_names[i]);
	nidec_free(pl->class_names);
	nidec_free(pl->C);
	if (pl->inner)
		for (i = 0; i < pl->outer.n; i++)
			nidec_folds_release(&pl->inner[i]);
	nidec_free(pl->inner);
	nidec_folds_release(&pl->outer);
	nidec_free(pl->fold_off);
	nidec_scaler_release(&pl->global);
	nidec_runstats_release(&pl->runstats);
	nidec_free(pl->run_of);
	nidec_free(pl->gram_mem);
	if (pl->scratch) {
		nidec_free(pl->scratch->x_mem);
		nidec_free(pl->scratch->kb_mem);
	}
	nidec_free(pl->scratch);
	nidec_free(pl->target);
	nidec_free(pl->alphas);
	nidec_free(pl);
	*plan = NULL;
}

int plan_targets(const struct nidec_plan *pl, long perm, double *t, nidec_err *err)
{
	int *idx, *out;
	size_t i;
	int rc;

	if (perm == 0) {
		memcpy(t, pl->target, pl->n * sizeof(*t));
		return 0;
	}
	/* shuffle the sample indices as labels, then take their targets */
	if (pl->n > (size_t)INT_MAX)
		return nidec_fail(err, NIDEC_EINPUT, "too many samples to permute (%zu)", pl->n);
	idx = nidec_malloc_e(pl->n, sizeof(int), "permuted targets", err);
	out = nidec_malloc_e(pl->n, sizeof(int), "permuted targets", err);
	if (!idx || !out) {
		nidec_free(idx);
		nidec_free(out);
		return NIDEC_ENOMEM;
	}
	for (i = 0; i < pl->n; i++)
		idx[i] = (int)i;
	rc = nidec_folds_permute_labels(pl->n, idx, pl->permute_within == NIDEC_PERM_RUN ? pl->runs : NULL,
					nidec_seed_mix(pl->seed, PLAN_TAG_PERM, (uint64_t)perm, 0), out, err);
	if (rc == 0)
		for (i = 0; i < pl->n; i++)
			t[i] = pl->target[out[i]];
	nidec_free(idx);
	nidec_free(out);
	return rc;
}

int plan_score(const struct nidec_plan *pl, long perm, const int *y, int q, const size_t *rows,
	       size_t n, const double *dec, signed char *ypm, double *score, nidec_err *err)
{
	double *t, *ts;
	size_t j;
	int rc;

	if (!pl->target) {
		for (j = 0; j < n; j++)
			ypm[j] = plan_ypm(pl, y, rows[j], q);
		return nidec_metric_score(pl->scoring, ypm, dec, n, score, err);
	}
	t = nidec_malloc_e(pl->n + n, sizeof(double), "targets", err);
	if (!t)
		return NIDEC_ENOMEM;
	ts = t + pl->n;
	rc = plan_targets(pl, perm, t, err);
	if (rc == 0) {
		for (j = 0; j < n; j++)
			ts[j] = t[rows[j]];
		rc = nidec_metric_regression(pl->scoring, ts, dec, n, score, err);
	}
	nidec_free(t);
	return rc;
}

int plan_labels(const struct nidec_plan *pl, long perm, int *y, nidec_err *err)
{
	if (perm == 0) {
		memcpy(y, pl->y, pl->n * sizeof(*y));
		return 0;
	}
	return nidec_folds_permute_labels(pl->n, pl->y,
					  pl->permute_within == NIDEC_PERM_RUN ? pl->runs : NULL,
					  nidec_seed_mix(pl->seed, PLAN_TAG_PERM, (uint64_t)perm, 0),
					  y, err);
}

/* "fold 3 (run 3)" */
static void fold_desc(const struct nidec_plan *pl, size_t f, char *buf, size_t len)
{
	switch (pl->outer_scheme) {
	case NIDEC_CV_NONE:
		snprintf(buf, len, "the fit on all samples");
		break;
	case NIDEC_CV_HOLDOUT:
		snprintf(buf, len, "the holdout split");
		break;
	case NIDEC_CV_LEAVE_ONE_RUN_OUT:
		snprintf(buf, len, "fold %zu (run %ld)", f, pl->outer.split[f].id);
		break;
	case NIDEC_CV_FOLDS_FILE:
		snprintf(buf, len, "fold %zu (fold %ld of the folds file)", f, pl->outer.split[f].id);
		break;
	default:
		snprintf(buf, len, "fold %zu", f);
	}
}

void plan_task_desc(const struct nidec_plan *pl, const nidec_task *tk, char *buf, size_t len)
{
	char fd[64], pd[48] = "", id[48] = "", qd[96] = "", cd[48] = "";

	fold_desc(pl, (size_t)tk->outer, fd, sizeof(fd));
	if (tk->perm > 0)
		snprintf(pd, sizeof(pd), "permutation %ld, ", tk->perm);
	if (tk->inner >= 0)
		snprintf(id, sizeof(id), ", inner fold %d", tk->inner);
	if (tk->problem >= 0)
		snprintf(qd, sizeof(qd), ", class '%s'%s",
			 pl->class_names[pl->K == 2 ? 1 : (size_t)tk->problem],
			 pl->K == 2 ? " vs the other" : " vs rest");
	if (tk->c_index >= 0)
		snprintf(cd, sizeof(cd), ", C = %g", pl->C[tk->c_index]);
	snprintf(buf, len, "%s%s%s%s%s", pd, fd, id, qd, cd);
}

void nidec_plan_task_desc(const nidec_plan *plan, size_t t, char *buf, size_t len)
{
	nidec_task tk;

	nidec_plan_task(plan, t, &tk);
	plan_task_desc(plan, &tk, buf, len);
}

float *plan_scratch_floats(const struct nidec_plan *pl, size_t n, nidec_err *err)
{
	struct plan_scratch *sc = pl->scratch;

	if (n > sc->x_cap) {
		size_t bytes;
		nidec_free(sc->x_mem);
		sc->x_mem = NULL;
		sc->x = NULL;
		sc->x_cap = 0;
		if (nidec_mul_size(n, sizeof(float), &bytes) < 0) {
			nidec_fail(err, NIDEC_ENOMEM, "solver rows of %zu values overflow", n);
			return NULL;
		}
		sc->x = nidec_alloc_huge(bytes, &sc->x_mem, "solver rows", err);
		if (!sc->x)
			return NULL;
		sc->x_cap = n;
	}
	return sc->x;
}

double *plan_scratch_kblock(const struct nidec_plan *pl, size_t n, nidec_err *err)
{
	struct plan_scratch *sc = pl->scratch;

	if (n > sc->kb_cap) {
		size_t bytes;
		nidec_free(sc->kb_mem);
		sc->kb_mem = NULL;
		sc->kb = NULL;
		sc->kb_cap = 0;
		if (nidec_mul_size(n, sizeof(double), &bytes) < 0) {
			nidec_fail(err, NIDEC_ENOMEM, "solver block of %zu values overflows", n);
			return NULL;
		}
		sc->kb = nidec_alloc_huge(bytes, &sc->kb_mem, "solver block", err);
		if (!sc->kb)
			return NULL;
		sc->kb_cap = n;
	}
	return sc->kb;
}

size_t plan_task_id(const struct nidec_plan *pl, long perm, int outer, int inner)
{
	size_t unit = (size_t)(inner + (pl->has_outer_fit ? 1 : 0));

	return (size_t)perm * pl->block + pl->fold_off[outer] + unit * pl->tpu;
}

size_t nidec_plan_n_tasks(const nidec_plan *plan)
{
	return plan->n_tasks;
}

size_t nidec_plan_n_fit(const nidec_plan *plan)
{
	return plan->n_fit;
}

size_t nidec_plan_n_outer(const nidec_plan *plan)
{
	return plan->outer.n;
}

size_t nidec_plan_n_problems(const nidec_plan *plan)
{
	return plan->n_problems;
}

const size_t *nidec_plan_outer_test(const nidec_plan *plan, int f, size_t *n)
{
	if (f < 0 || (size_t)f >= plan->outer.n) {
		*n = 0;
		return NULL;
	}
	*n = plan->outer.split[f].n_test;
	return plan->outer.split[f].test;
}

void nidec_plan_task(const nidec_plan *pl, size_t t, nidec_task *out)
{
	size_t r = t % pl->block, f = 0;

	out->perm = (long)(t / pl->block);
	{
		/* the last fold whose offset is <= r (folds may have no tasks) */
		size_t lo = 0, hi = pl->outer.n - 1;
		while (lo < hi) {
			size_t mid = lo + (hi - lo + 1) / 2;
			if (pl->fold_off[mid] <= r)
				lo = mid;
			else
				hi = mid - 1;
		}
		f = lo;
	}
	r -= pl->fold_off[f];
	out->outer = (int)f;
	out->inner = (int)(r / pl->tpu) - (pl->has_outer_fit ? 1 : 0);
	out->problem = pl->tpu > 1 ? (int)(r % pl->tpu) : -1;
	out->c_index = -1;
}

/*
 * Relative cost: the solver touches the training rows (samples x features
 * kept) a number of times that grows with C, for every problem; the
 * preprocessing reads all voxels of the training rows once or twice.
 */
double nidec_plan_task_cost(const nidec_plan *pl, size_t t)
{
	nidec_task tk;
	size_t n_train, c;
	double feats = (double)pl->p, sum_c = 0;

	nidec_plan_task(pl, t, &tk);
	if (tk.inner >= 0)
		n_train = pl->inner[tk.outer].split[tk.inner].n_train;
	else
		n_train = pl->outer.split[tk.outer].n_train;
	if (pl->screen_pct < 100)
		feats *= pl->screen_pct / 100.0;
	for (c = 0; c < pl->n_C; c++) {
		double w = 1.0 + log10(pl->C[c]);
		sum_c += w < 1.0 ? 1.0 : w;
	}
	return (double)n_train * ((feats + 1.0) * sum_c * (double)(pl->n_problems / pl->tpu) +
				  3.0 * (double)pl->p);
}

size_t nidec_plan_task_group(const nidec_plan *pl, size_t t)
{
	return t / pl->block; /* task ids are permutation-major (plan_int.h) */
}

static void layout_tasks(struct nidec_plan *pl);

void nidec_plan_set_solver(nidec_plan *plan, int form, int warm)
{
	plan->form = form == 1 ? PLAN_FORM_PRIMAL : form == 2 ? PLAN_FORM_KERNEL : PLAN_FORM_AUTO;
	plan->warm = warm != 0;
	layout_tasks(plan); /* the form decides the plan-wide Gram matrix */
}

/* ---- checks ------------------------------------------------------------ */

static int cmp_int_asc(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Both labels of every problem in a part (always for training parts, for
 * test parts when the score needs them). */
static int check_part(const struct nidec_plan *pl, const int *y, const size_t *rows,
		      size_t m, int is_test, const char *where, const char *fix,
		      size_t *cnt, nidec_err *err)
{
	size_t i, q;

	if (m == 0)
		return nidec_fail(err, NIDEC_EINPUT, "%s: the %s part is empty%s", where,
				  is_test ? "test" : "training", fix);
	if (is_test && !nidec_metric_needs_both(pl->scoring))
		return 0;
	memset(cnt, 0, pl->K * sizeof(*cnt));
	for (i = 0; i < m; i++)
		cnt[y[rows[i]]]++;
	for (q = 0; q < pl->n_problems; q++) {
		size_t pos_class = pl->K == 2 ? 1 : q;
		size_t pos = cnt[pos_class], neg = m - pos;
		const char *part = is_test ? "test" : "training";

		if (pos > 0 && neg > 0)
			continue;
		if (pl->K == 2)
			return nidec_fail(err, NIDEC_EINPUT,
					  "%s: the %s part has no sample of class '%s'; %s%s",
					  where, part, pl->class_names[pos == 0 ? 1 : 0],
					  is_test ? "roc_auc needs both classes in every test part; use [cv] scoring = accuracy, or a scheme whose test parts hold both classes"
						  : "every training part needs both classes; use a scheme whose training parts hold both",
					  fix);
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: the %s part has %s class '%s'; %s%s", where, part,
				  pos == 0 ? "no sample of" : "only samples of",
				  pl->class_names[pos_class],
				  is_test ? "roc_auc (one class vs the rest) needs both sides in every test part; use [cv] scoring = accuracy, or a scheme whose test parts hold every class"
					  : "every one-vs-rest training part needs both sides; use a scheme whose training parts hold every class",
				  fix);
	}
	return 0;
}

static int check_labels(const struct nidec_plan *pl, const int *y, long perm, size_t *cnt,
			nidec_err *err)
{
	char where[160], fd[64];
	const char *fix = perm > 0 ? " (or [cv] permute_within = run, fewer folds, or no permutations)" : "";
	size_t f, i;

	for (f = 0; f < pl->outer.n; f++) {
		const nidec_split *sp = &pl->outer.split[f];
		fold_desc(pl, f, fd, sizeof(fd));
		if (perm > 0)
			snprintf(where, sizeof(where), "permutation %ld, %s", perm, fd);
		else
			snprintf(where, sizeof(where), "%s", fd);
		NIDEC_TRY(check_part(pl, y, sp->train, sp->n_train, 0, where, fix, cnt, err));
		NIDEC_TRY(check_part(pl, y, sp->test, sp->n_test, 1, where, fix, cnt, err));
		if (pl->mode == MODE_TESTFOLD)
			continue;
		for (i = 0; i < pl->inner[f].n; i++) {
			const nidec_split *ip = &pl->inner[f].split[i];
			char w2[200];
			snprintf(w2, sizeof(w2), "%s, inner fold %zu", where, i);
			NIDEC_TRY(check_part(pl, y, ip->train, ip->n_train, 0, w2, fix, cnt, err));
			NIDEC_TRY(check_part(pl, y, ip->test, ip->n_test, 1, w2, fix, cnt, err));
		}
	}
	return 0;
}

int plan_whole_runs(const int *run_of, const size_t *rows, size_t m, const size_t *run_size,
		    size_t n_runs, size_t *seen)
{
	size_t i;

	memset(seen, 0, n_runs * sizeof(*seen));
	for (i = 0; i < m; i++)
		seen[run_of[rows[i]]]++;
	for (i = 0; i < n_runs; i++)
		if (seen[i] && seen[i] != run_size[i])
			return 0;
	return 1;
}

/* Each sample's run as an index into the distinct run ids in ascending
 * order (run_of[n]), and how many runs there are.  pl->runs is set. */
static int index_runs(const struct nidec_plan *pl, int *run_of, size_t *n_runs, nidec_err *err)
{
	int *ids = nidec_malloc_e(pl->n, sizeof(int), "run ids", err);
	size_t i, k = 0;

	if (!ids)
		return NIDEC_ENOMEM;
	memcpy(ids, pl->runs, pl->n * sizeof(int));
	qsort(ids, pl->n, sizeof(int), cmp_int_asc);
	for (i = 0; i < pl->n; i++)
		if (k == 0 || ids[k - 1] != ids[i])
			ids[k++] = ids[i];
	for (i = 0; i < pl->n; i++)
		run_of[i] = (int)((const int *)bsearch(&pl->runs[i], ids, k, sizeof(int), cmp_int_asc) - ids);
	nidec_free(ids);
	*n_runs = k;
	return 0;
}

/*
 * Shuffling labels within runs changes nothing when no run holds two
 * different labels (one class per run, or one sample per run): every
 * "permutation" would be the true labelling and every p-value 1.
 */
/* Samples i and j have the same label (or, in a regression, target). */
static int same_value(const struct nidec_plan *pl, size_t i, size_t j)
{
	return pl->target ? pl->target[i] == pl->target[j] : pl->y[i] == pl->y[j];
}

static int perms_can_shuffle(const struct nidec_plan *pl, nidec_err *err)
{
	long *first;
	int *run_of;
	size_t n_runs = 0, i;
	int rc;

	if (pl->permute_within != NIDEC_PERM_RUN || !pl->runs) {
		for (i = 1; i < pl->n; i++)
			if (!same_value(pl, i, 0))
				return 1;
		return 0;
	}
	run_of = nidec_malloc_e(pl->n, sizeof(int), "run ids", err);
	first = nidec_malloc_e(pl->n, sizeof(long), "run labels", err);
	if (!run_of || !first) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	NIDEC_TRY_GOTO(rc, index_runs(pl, run_of, &n_runs, err), done);
	for (i = 0; i < n_runs; i++)
		first[i] = -1; /* the run's first sample */
	rc = 0;
	for (i = 0; i < pl->n && !rc; i++) {
		if (first[run_of[i]] < 0)
			first[run_of[i]] = (long)i;
		rc = !same_value(pl, (size_t)first[run_of[i]], i);
	}
done:
	nidec_free(run_of);
	nidec_free(first);
	return rc;
}

/*
 * Labels shuffled within runs keep every run's class counts, so when every
 * training and test part is made of whole runs (leave-one-run-out outside
 * and inside), the checks of the true labels already hold for every
 * permutation and need not be repeated N times on every rank.
 */
static int perms_need_checks(const struct nidec_plan *pl, nidec_err *err)
{
	int *run_of = NULL;
	size_t *size = NULL, *seen = NULL, n_runs = 0, i, f;
	int need = 1, rc;

	if (pl->permute_within != NIDEC_PERM_RUN || !pl->runs)
		return 1;
	run_of = nidec_malloc_e(pl->n, sizeof(int), "run ids", err);
	size = nidec_calloc_e(pl->n, sizeof(size_t), "run sizes", err);
	seen = nidec_calloc_e(pl->n, sizeof(size_t), "run counts", err);
	if (!run_of || !size || !seen) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	NIDEC_TRY_GOTO(rc, index_runs(pl, run_of, &n_runs, err), done);
	for (i = 0; i < pl->n; i++)
		size[run_of[i]]++;
	need = 0;
	for (f = 0; f < pl->outer.n && !need; f++) {
		const nidec_split *sp = &pl->outer.split[f];
		need = !plan_whole_runs(run_of, sp->train, sp->n_train, size, n_runs, seen) ||
		       !plan_whole_runs(run_of, sp->test, sp->n_test, size, n_runs, seen);
		for (i = 0; pl->mode != MODE_TESTFOLD && i < pl->inner[f].n && !need; i++) {
			const nidec_split *ip = &pl->inner[f].split[i];
			need = !plan_whole_runs(run_of, ip->train, ip->n_train, size, n_runs, seen) ||
			       !plan_whole_runs(run_of, ip->test, ip->n_test, size, n_runs, seen);
		}
	}
	rc = need;
done:
	nidec_free(run_of);
	nidec_free(size);
	nidec_free(seen);
	return rc;
}

/* ---- building ---------------------------------------------------------- */

/* r2 is undefined on one sample (scikit-learn returns NaN with a
 * warning): a regression scored by r2 refuses folds that test fewer than
 * 2 samples.  fo: the folds of `scheme` over m samples; where: "[cv]
 * scheme = kfold, " or an inner part's; inner: the key to fix is
 * inner_folds / inner_scheme.  Returns 0 or NIDEC_EINPUT.  A k-fold is
 * checked before it is built (k > m / 2), so that the advice is right
 * whatever k. */
static int r2_scored(const struct nidec_plan *pl)
{
	return pl->target && pl->scoring == NIDEC_SCORE_R2;
}

static int r2_fail(const char *where, const char *what, int scheme, size_t m, int inner,
		   nidec_err *err)
{
	char fix[128];

	if (scheme == NIDEC_CV_KFOLD && m < 4)
		snprintf(fix, sizeof(fix), "%zu samples cannot make two folds of two; give more samples", m);
	else if (scheme == NIDEC_CV_KFOLD)
		snprintf(fix, sizeof(fix), "lower [cv] %s to at most %zu", inner ? "inner_folds" : "n_folds", m / 2);
	else if (scheme == NIDEC_CV_HOLDOUT)
		snprintf(fix, sizeof(fix), "set [cv] holdout to 2 samples or more");
	else if (scheme == NIDEC_CV_FOLDS_FILE)
		snprintf(fix, sizeof(fix), "give every fold of [cv] folds_file 2 samples or more");
	else
		snprintf(fix, sizeof(fix), "with one sample per run (e.g. one image per subject) use [cv] %s = kfold",
			 inner ? "inner_scheme" : "scheme");
	return nidec_fail(err, NIDEC_EINPUT,
			  "%s%s, and r2 is undefined on one sample; %s, or scoring = neg_mean_absolute_error",
			  where, what, fix);
}

static int check_r2_kfold(const struct nidec_plan *pl, const char *where, int k, size_t m, int inner,
			  nidec_err *err)
{
	char what[96];

	if (!r2_scored(pl) || (size_t)k <= m / 2)
		return 0;
	snprintf(what, sizeof(what), "%d folds of %zu samples test one sample (or none)", k, m);
	return r2_fail(where, what, NIDEC_CV_KFOLD, m, inner, err);
}

static int check_r2_folds(const struct nidec_plan *pl, const nidec_folds *fo, const char *where,
			  int scheme, size_t m, int inner, nidec_err *err)
{
	size_t f;
	char what[96], fd[64];

	if (!r2_scored(pl))
		return 0;
	for (f = 0; f < fo->n; f++) {
		if (fo->split[f].n_test >= 2)
			continue;
		if (inner) {
			snprintf(what, sizeof(what), "an inner fold tests %zu sample", fo->split[f].n_test);
		} else {
			fold_desc(pl, f, fd, sizeof(fd));
			snprintf(what, sizeof(what), "%s tests %zu sample", fd, fo->split[f].n_test);
		}
		return r2_fail(where, what, scheme, m, inner, err);
	}
	return 0;
}

static int make_outer(struct nidec_plan *pl, const nidec_cfg *cfg, const nidec_labels *lab,
		      nidec_err *err)
{
	int rc = 0;

	switch (cfg->scheme) {
	case NIDEC_CV_NONE:
		rc = nidec_folds_none(pl->n, NULL, &pl->outer, err);
		break;
	case NIDEC_CV_HOLDOUT: {
		size_t n_test = cfg->holdout >= 1 ? (size_t)cfg->holdout
						  : (size_t)ceil(cfg->holdout * (double)pl->n);
		rc = nidec_folds_holdout(pl->n, NULL, n_test, &pl->outer, err);
		break;
	}
	case NIDEC_CV_KFOLD:
		NIDEC_TRY(check_r2_kfold(pl, "[cv] scheme = kfold: ", cfg->n_folds, pl->n, 0, err));
		rc = nidec_folds_kfold(pl->n, NULL, cfg->n_folds, &pl->outer, err);
		break;
	case NIDEC_CV_STRATIFIED_KFOLD:
		rc = nidec_folds_stratified(pl->n, NULL, pl->y, cfg->n_folds, &pl->outer, err);
		break;
	case NIDEC_CV_LEAVE_ONE_RUN_OUT:
		rc = nidec_folds_loro(pl->n, NULL, pl->runs, &pl->outer, err);
		break;
	case NIDEC_CV_FOLDS_FILE:
		rc = nidec_folds_assign(pl->n, NULL, lab->fold_of_sample, &pl->outer, err);
		break;
	default:
		return nidec_fail(err, NIDEC_EINTERNAL, "unknown outer scheme %d", cfg->scheme);
	}
	if (rc == 0) {
		char where[64];
		snprintf(where, sizeof(where), "[cv] scheme = %s: ", nidec_scheme_name(cfg->scheme));
		return check_r2_folds(pl, &pl->outer, where, cfg->scheme, pl->n, 0, err);
	}
	if (rc != NIDEC_ENOMEM)
		nidec_err_prefix(err, "[cv] scheme = %s: ", nidec_scheme_name(cfg->scheme));
	return rc;
}

static size_t count_runs(const struct nidec_plan *pl, const size_t *rows, size_t m)
{
	size_t i, j, n = 0;

	if (!pl->runs)
		return 0;
	/* small m in practice; quadratic only in the number of distinct runs */
	for (i = 0; i < m; i++) {
		for (j = 0; j < i; j++)
			if (pl->runs[rows[j]] == pl->runs[rows[i]])
				break;
		if (j == i && ++n >= 2)
			return n;
	}
	return n;
}

/* 1 if some run holds exactly one of the m samples rows[], else 0 (or
 * NIDEC_ENOMEM).  Run ids are 0..R-1 (dataset.h). */
static int run_of_one(const struct nidec_plan *pl, const size_t *rows, size_t m, nidec_err *err)
{
	size_t i, max = 0, *count;
	int one = 0;

	if (!pl->runs)
		return 0;
	for (i = 0; i < m; i++)
		if ((size_t)pl->runs[rows[i]] + 1 > max)
			max = (size_t)pl->runs[rows[i]] + 1;
	count = nidec_calloc_e(max + 1, sizeof(*count), "run counts", err);
	if (!count)
		return NIDEC_ENOMEM;
	for (i = 0; i < m; i++)
		count[pl->runs[rows[i]]]++;
	for (i = 0; i < max && !one; i++)
		one = count[i] == 1;
	nidec_free(count);
	return one;
}

static int make_inner(struct nidec_plan *pl, const nidec_cfg *cfg, nidec_err *err)
{
	size_t f;
	int rc = 0;

	pl->inner = nidec_calloc_e(pl->outer.n, sizeof(*pl->inner), "inner folds", err);
	if (!pl->inner)
		return NIDEC_ENOMEM;
	for (f = 0; f < pl->outer.n; f++) {
		const nidec_split *sp = &pl->outer.split[f];
		int scheme = cfg->inner_scheme;
		char fd[64], where[160];

		if (scheme == NIDEC_CV_AUTO)
			scheme = count_runs(pl, sp->train, sp->n_train) >= 2 ? NIDEC_CV_LEAVE_ONE_RUN_OUT
				 : pl->target ? NIDEC_CV_KFOLD : NIDEC_CV_STRATIFIED_KFOLD;
		if (cfg->inner_scheme == NIDEC_CV_AUTO && scheme == NIDEC_CV_LEAVE_ONE_RUN_OUT && r2_scored(pl)) {
			/* r2 needs 2 test samples: one image per subject goes to kfold */
			int one = run_of_one(pl, sp->train, sp->n_train, err);
			if (one < 0)
				return one;
			if (one)
				scheme = NIDEC_CV_KFOLD;
		}
		fold_desc(pl, f, fd, sizeof(fd));
		snprintf(where, sizeof(where), "[cv] inner_scheme = %s, training part of %s: ",
			 nidec_scheme_name(cfg->inner_scheme), fd);
		switch (scheme) {
		case NIDEC_CV_KFOLD:
			NIDEC_TRY(check_r2_kfold(pl, where, cfg->inner_folds, sp->n_train, 1, err));
			rc = nidec_folds_kfold(sp->n_train, sp->train, cfg->inner_folds, &pl->inner[f], err);
			break;
		case NIDEC_CV_STRATIFIED_KFOLD:
			rc = nidec_folds_stratified(sp->n_train, sp->train, pl->y, cfg->inner_folds,
						    &pl->inner[f], err);
			break;
		case NIDEC_CV_LEAVE_ONE_RUN_OUT:
			rc = nidec_folds_loro(sp->n_train, sp->train, pl->runs, &pl->inner[f], err);
			break;
		default:
			return nidec_fail(err, NIDEC_EINTERNAL, "unknown inner scheme %d", scheme);
		}
		if (rc == 0)
			rc = check_r2_folds(pl, &pl->inner[f], where, scheme, sp->n_train, 1, err);
		else if (rc != NIDEC_ENOMEM)
			nidec_err_prefix(err, "%s", where);
		if (rc < 0)
			return rc;
		if (pl->inner[f].n > pl->n_inner_max)
			pl->n_inner_max = pl->inner[f].n;
	}
	return 0;
}

static int set_screening(struct nidec_plan *pl, const nidec_cfg *cfg, const nidec_labels *lab,
			 nidec_err *err)
{
	double pct = cfg->screening_percentile;

	pl->screen_pct = 100.0;
	if (pct >= 100.0)
		return 0;
	if (pl->compat == NIDEC_COMPAT_NILEARN) {
		if (!(lab->voxel_volume_mm3 > 0))
			return nidec_fail(err, NIDEC_EINPUT,
					  "[preprocess] screening_percentile = %g under compat = nilearn needs the voxel volume of the mask; the dataset does not record it",
					  pct);
		pct = nidec_prep_nilearn_percentile(pct, pl->p, lab->voxel_volume_mm3);
		/* nilearn screens only when there are more than 100 voxels */
		if (pl->p <= 100 || pct >= 100.0)
			return 0;
		if (pct < 1.0)
			return nidec_fail(err, NIDEC_EINPUT,
					  "[preprocess] screening_percentile = %g becomes 0 %% after nilearn's rescaling by the mask volume (%g mm3); raise it",
					  cfg->screening_percentile, lab->voxel_volume_mm3 * (double)pl->p);
	} else if ((size_t)(((double)pl->p * pct) / 100.0) < 1) {
		return nidec_fail(err, NIDEC_EINPUT,
				  "[preprocess] screening_percentile = %g keeps no voxel of %zu; raise it to at least %g",
				  pct, pl->p, 100.0 / (double)pl->p);
	}
	pl->screen_pct = pct;
	return 0;
}

static int copy_labels(struct nidec_plan *pl, const nidec_labels *lab, nidec_err *err)
{
	size_t i;

	pl->y = nidec_malloc_e(pl->n, sizeof(int), "labels", err);
	if (!pl->y)
		return NIDEC_ENOMEM;
	for (i = 0; i < pl->n; i++) {
		if (lab->target) { /* one "class": the target */
			pl->y[i] = 0;
			continue;
		}
		if (lab->y[i] < 0 || (size_t)lab->y[i] >= pl->K)
			return nidec_fail(err, NIDEC_EINTERNAL,
					  "sample %zu has class index %d, outside 0..%zu", i,
					  lab->y[i], pl->K - 1);
		pl->y[i] = lab->y[i];
	}
	if (lab->runs) {
		pl->runs = nidec_malloc_e(pl->n, sizeof(int), "run ids", err);
		if (!pl->runs)
			return NIDEC_ENOMEM;
		memcpy(pl->runs, lab->runs, pl->n * sizeof(int));
	}
	pl->class_names = nidec_calloc_e(pl->K, sizeof(char *), "class names", err);
	if (!pl->class_names)
		return NIDEC_ENOMEM;
	for (i = 0; i < pl->K; i++) {
		const char *name = lab->target ? (lab->target_name ? lab->target_name : "target")
					       : lab->class_names[i] ? lab->class_names[i] : "?";
		pl->class_names[i] = nidec_strdup_e(name, err);
		if (!pl->class_names[i])
			return NIDEC_ENOMEM;
	}
	pl->C = nidec_malloc_e(pl->n_C, sizeof(double), "C grid", err);
	if (!pl->C)
		return NIDEC_ENOMEM;
	return 0;
}

/* Regression: the targets (a constant target is refused: r2 has nothing
 * to explain) and the estimators' grids. */
static int copy_target(struct nidec_plan *pl, const nidec_cfg *cfg, const nidec_labels *lab,
		       nidec_err *err)
{
	size_t i;

	for (i = 1; i < pl->n && lab->target[i] == lab->target[0]; i++)
		;
	if (i == pl->n)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[data] target_column = %s: the target is %g for every selected sample; regression needs a target that varies (check the column or [data] conditions)",
				  lab->target_name ? lab->target_name : "?", lab->target[0]);
	pl->target = nidec_malloc_e(pl->n, sizeof(double), "targets", err);
	pl->alphas = nidec_malloc_e(cfg->n_alphas ? cfg->n_alphas : 1, sizeof(double), "alpha grid", err);
	if (!pl->target || !pl->alphas)
		return NIDEC_ENOMEM;
	memcpy(pl->target, lab->target, pl->n * sizeof(double));
	memcpy(pl->alphas, cfg->alphas, cfg->n_alphas * sizeof(double));
	pl->n_alphas = cfg->n_alphas;
	pl->lasso_n_alphas = cfg->lasso_n_alphas;
	pl->epsilon = cfg->epsilon;
	return 0;
}

static int want_global_gram(const struct nidec_plan *pl);

/*
 * Task numbering over fold_off (see plan_int.h).  One task per problem
 * (tpu = n_problems) when the plan uses the plan-wide Gram matrix and has
 * several problems: a unit's tasks then share nothing costly (labels and
 * the standardised test rows, read from the plan-wide data), so splitting
 * costs no shared work, and 8 classes x 12 folds make 96 tasks instead of
 * 12 of ~0.1 s whose unequal lengths left a rank idle at the end (step g:
 * 86 % parallel efficiency on 2 ranks).  Every fit is computed exactly as
 * in a task of the whole unit: same Gram matrix, seed, solver order and
 * warm start along C within the problem, so the results are the same bits
 * either way.  Deterministic: depends on the plan's inputs only.
 */
static void layout_tasks(struct nidec_plan *pl)
{
	size_t f, blocks = (size_t)pl->n_perm + 1, split;

	pl->tpu = 1;
	if (pl->n_problems > 1 && !pl->no_split && want_global_gram(pl) &&
	    nidec_mul_size(pl->n_units, pl->n_problems, &split) == 0 &&
	    nidec_mul_size(split, blocks, &split) == 0)
		pl->tpu = pl->n_problems;
	pl->fold_off[0] = 0;
	for (f = 0; f < pl->outer.n; f++) {
		size_t units = (pl->has_outer_fit ? 1 : 0) +
			       (pl->mode == MODE_TESTFOLD ? 0 : pl->inner[f].n);
		pl->fold_off[f + 1] = pl->fold_off[f] + units * pl->tpu;
	}
	pl->block = pl->fold_off[pl->outer.n];
	pl->n_fit = pl->n_problems / pl->tpu * pl->n_C;
	pl->n_tasks = pl->block * blocks;
}

void nidec_plan_allow_split(nidec_plan *pl, int allow)
{
	pl->no_split = !allow;
	layout_tasks(pl);
}

static int make_tasks(struct nidec_plan *pl, nidec_err *err)
{
	size_t f, blocks;

	pl->fold_off = nidec_calloc_e(pl->outer.n + 1, sizeof(size_t), "task offsets", err);
	if (!pl->fold_off)
		return NIDEC_ENOMEM;
	pl->n_units = 0;
	for (f = 0; f < pl->outer.n; f++)
		pl->n_units += (pl->has_outer_fit ? 1 : 0) +
			       (pl->mode == MODE_TESTFOLD ? 0 : pl->inner[f].n);
	blocks = (size_t)pl->n_perm + 1;
	if (pl->n_units == 0 || nidec_mul_size(pl->n_units, blocks, &pl->n_tasks) < 0)
		return nidec_fail(err, NIDEC_EINPUT, "the task space (%zu tasks x %zu permutations) is empty or too large",
				  pl->n_units, blocks);
	layout_tasks(pl);
	return 0;
}

int nidec_plan_create(const nidec_cfg *cfg, const nidec_labels *lab, nidec_plan **out,
		      nidec_err *err)
{
	struct nidec_plan *pl;
	int *yp = NULL;
	size_t *cnt = NULL;
	long perm;
	int rc = 0;

	if (!cfg->finished)
		return nidec_fail(err, NIDEC_EINTERNAL, "plan: the configuration was not finished");
	if (lab->n < 2 || lab->p < 1)
		return nidec_fail(err, NIDEC_EINPUT,
				  "the dataset has %zu samples and %zu voxels; decoding needs at least 2 samples and 1 voxel",
				  lab->n, lab->p);
	if (lab->n_classes < 2 && !lab->target)
		return nidec_fail(err, NIDEC_EINPUT,
				  "the selected samples hold %zu class%s; decoding needs at least 2 (check [data] conditions)",
				  lab->n_classes, lab->n_classes == 1 ? "" : "es");
	if (cfg->n_C < 1)
		return nidec_fail(err, NIDEC_EINPUT, "[model] C is empty; give e.g. C = 1, 10, 100");
	pl = nidec_calloc_e(1, sizeof(*pl), "plan", err);
	if (!pl)
		return NIDEC_ENOMEM;
	pl->scratch = nidec_calloc_e(1, sizeof(*pl->scratch), "plan scratch", err);
	if (!pl->scratch) {
		rc = NIDEC_ENOMEM;
		goto fail;
	}
	pl->n = lab->n;
	pl->p = lab->p;
	pl->K = lab->target ? 1 : lab->n_classes;
	pl->n_problems = pl->K == 2 ? 1 : pl->K;
	/* the chance baseline has no C: one task per fit, or test-fold
	 * selection would keep the luckiest of several random draws; ridge
	 * and lasso choose their alpha inside each training part */
	pl->n_C = cfg->estimator == NIDEC_EST_DUMMY || (lab->target && cfg->estimator != NIDEC_EST_SVR)
			  ? 1 : cfg->n_C;
	NIDEC_TRY_GOTO(rc, copy_labels(pl, lab, err), fail);
	memcpy(pl->C, cfg->C, pl->n_C * sizeof(double));
	if (lab->target) {
		NIDEC_TRY_GOTO(rc, copy_target(pl, cfg, lab, err), fail);
		if (cfg->estimator != NIDEC_EST_SVR)
			pl->C[0] = NAN;
	}
	pl->estimator = cfg->estimator;
	/* [model] solver: dcd (default) or liblinear; only svc has a dcd path */
	pl->solver = cfg->solver == NIDEC_SOLVER_LIBLINEAR ? NIDEC_SVM_LIBLINEAR : NIDEC_SVM_DCD;
	/* svr: smo (default) or libsvm, the reference */
	pl->svr_solver = cfg->solver == NIDEC_SOLVER_LIBSVM ? NIDEC_SVR_LIBSVM : NIDEC_SVR_SMO;
	pl->outer_scheme = cfg->scheme;
	pl->scoring = cfg->scoring;
	pl->standardize = cfg->standardize;
	pl->scope = cfg->standardize_scope;
	pl->compat = cfg->compat;
	pl->permute_within = cfg->permute_within;
	pl->f32 = cfg->compat == NIDEC_COMPAT_NILEARN;
	pl->tol = cfg->tol;
	pl->n_perm = cfg->permutations;
	pl->seed = cfg->seed;
	pl->form = PLAN_FORM_AUTO;
	pl->warm = 1;
	pl->l1_grid = cfg->compat == NIDEC_COMPAT_NILEARN && cfg->estimator == NIDEC_EST_SVC_L1 &&
		      !nidec_cfg_is_set(cfg, "model", "C");

	if (cfg->selection == NIDEC_SEL_NESTED) {
		if (cfg->inner_scheme == NIDEC_CV_NONE) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"[cv] selection = nested needs an inner scheme; set [cv] inner_scheme = auto, or selection = test-fold");
			goto fail;
		}
		pl->mode = MODE_NESTED;
		pl->has_outer_fit = 1;
	} else if (cfg->inner_scheme == NIDEC_CV_NONE || cfg->inner_scheme == NIDEC_CV_AUTO) {
		pl->mode = MODE_TESTFOLD;
		pl->has_outer_fit = 1;
	} else {
		pl->mode = MODE_TESTFOLD_INNER;
		pl->has_outer_fit = 0;
	}
	/* ridge, lasso and dummy_regressor choose their alpha inside each
	 * training part: with one fit per part there is nothing to select,
	 * so nested selection runs no inner folds (their scores would be
	 * discarded; inner_score is NaN) */
	if (lab->target && pl->n_C == 1 && pl->mode == MODE_NESTED)
		pl->mode = MODE_TESTFOLD;
	if (pl->standardize == NIDEC_STD_NONE)
		pl->std_mode = STD_OFF;
	else if (pl->mode == MODE_TESTFOLD_INNER)
		pl->std_mode = STD_OUTER;
	else if (pl->scope == NIDEC_SCOPE_ALL)
		pl->std_mode = STD_GLOBAL;
	else
		pl->std_mode = STD_PER_FIT;
	if (pl->n_perm > 0 && pl->permute_within == NIDEC_PERM_RUN && !pl->runs) {
		rc = nidec_fail(err, NIDEC_EINPUT,
				"[cv] permute_within = run needs run ids; give the run column, or set permute_within = all");
		goto fail;
	}
	if (pl->n_perm > 0) {
		rc = perms_can_shuffle(pl, err);
		if (rc < 0)
			goto fail;
		if (!rc) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"[cv] permutations = %ld: no run holds two different %s, so shuffling them within runs changes nothing; set [cv] permute_within = all (or 0 permutations)",
					pl->n_perm, pl->target ? "targets" : "labels");
			goto fail;
		}
	}
	NIDEC_TRY_GOTO(rc, set_screening(pl, cfg, lab, err), fail);
	NIDEC_TRY_GOTO(rc, make_outer(pl, cfg, lab, err), fail);
	if (pl->mode != MODE_TESTFOLD)
		NIDEC_TRY_GOTO(rc, make_inner(pl, cfg, err), fail);
	NIDEC_TRY_GOTO(rc, make_tasks(pl, err), fail);

	yp = nidec_malloc_e(pl->n, sizeof(*yp), "labels", err);
	cnt = nidec_malloc_e(pl->K, sizeof(*cnt), "class counts", err);
	if (!yp || !cnt) {
		rc = NIDEC_ENOMEM;
		goto fail;
	}
	{
		long last = pl->target ? -1 : pl->n_perm; /* regression: no classes to check */
		if (last > 0) {
			NIDEC_TRY_GOTO(rc, perms_need_checks(pl, err), fail);
			if (rc == 0)
				last = 0;
			rc = 0;
		}
		for (perm = 0; perm <= last; perm++) {
			NIDEC_TRY_GOTO(rc, plan_labels(pl, perm, yp, err), fail);
			NIDEC_TRY_GOTO(rc, check_labels(pl, yp, perm, cnt, err), fail);
		}
	}
	nidec_free(yp);
	nidec_free(cnt);
	nidec_verbose("plan: %zu outer folds, %zu problem%s, %zu C, %ld permutation%s: %zu tasks",
		      pl->outer.n, pl->n_problems, pl->n_problems == 1 ? "" : "s", pl->n_C,
		      pl->n_perm, pl->n_perm == 1 ? "" : "s", pl->n_tasks);
	*out = pl;
	return 0;
fail:
	nidec_free(yp);
	nidec_free(cnt);
	nidec_plan_free(&pl);
	return rc;
}

/* ---- solver form ------------------------------------------------------- */

/* svc solved by our DCD: the estimator and solver that task.c's fast path
 * covers (everything else goes through nidec_svm_train fit by fit). */
static int fast_path(const struct nidec_plan *pl)
{
	return pl->estimator == NIDEC_EST_SVC && pl->solver == NIDEC_SVM_DCD && !pl->l1_grid;
}

/*
 * Kernel or primal form for a training part of l samples and d features
 * (constant included) whose Gram matrix would serve `share` problems and
 * every C.  Per coordinate step the primal form reads a row and updates w
 * (~2 d multiply-adds), the kernel form one dot product over the active
 * coordinates (at most l); the Gram matrix costs l^2 d / 2 multiply-adds
 * once, which run about twice as fast as the solver's (register tiles, no
 * dependency on the previous step).  With E0 = 20 epochs per fit as a
 * floor (about the fewest a cold fit of our reference and synthetic data
 * needed; most need hundreds), the kernel form is chosen when it saves
 * more over the n_C fits it serves than its Gram matrix costs:
 *     l^2 d / (4 share) <= E0 n_C l (2 d - l).
 * (Bundled slice: kernel everywhere; full-size data with 20 % screening,
 * 880 samples x 5,900 voxels per problem: primal.)  The rule depends on
 * (l, d, share, n_C) only, so every rank decides the same.
 */
int plan_kernel_form(const struct nidec_plan *pl, size_t l, size_t d, size_t share)
{
	const double E0 = 20.0;
	double gram, saved;

	if (pl->form == PLAN_FORM_PRIMAL)
		return 0;
	if (pl->form == PLAN_FORM_KERNEL)
		return 1;
	if (l >= 2 * d)
		return 0;
	gram = (double)l * (double)l * (double)d / (4.0 * (double)(share ? share : 1));
	saved = E0 * (double)pl->n_C * (double)l * (2.0 * (double)d - (double)l);
	return gram <= saved;
}

int plan_use_global_gram(const struct nidec_plan *pl)
{
	return pl->Kg != NULL;
}

/* The plan-wide Gram matrix is worth it when the standardisation is global,
 * there is no per-problem screening (every task then uses a submatrix of it)
 * and the rule picks the kernel form for a training part of all samples;
 * at most NIDEC_GLOBAL_GRAM_MAX bytes. */
#define NIDEC_GLOBAL_GRAM_MAX ((size_t)512 << 20)

static int want_global_gram(const struct nidec_plan *pl)
{
	size_t nn, np, bytes;

	if (pl->std_mode != STD_GLOBAL || pl->screen_pct < 100.0 || !fast_path(pl))
		return 0;
	if (nidec_mul_size(pl->n, pl->n, &nn) < 0 || nidec_mul_size(pl->n, pl->p, &np) < 0 ||
	    nn > SIZE_MAX - np || nidec_mul_size(nn + np, sizeof(double), &bytes) < 0 ||
	    bytes > NIDEC_GLOBAL_GRAM_MAX)
		return 0;
	return plan_kernel_form(pl, pl->n, pl->p + 1, pl->n_problems * pl->n_units);
}

/* Per-run statistics for STD_PER_FIT in double (plan_int.h). */
static int prepare_runstats(struct nidec_plan *pl, nidec_err *err)
{
	size_t n_runs;
	int rc;

	if (pl->std_mode != STD_PER_FIT || pl->f32 || !pl->runs || pl->run_of)
		return 0;
	pl->run_of = nidec_malloc_e(pl->n, sizeof(int), "run ids", err);
	if (!pl->run_of)
		return NIDEC_ENOMEM;
	rc = index_runs(pl, pl->run_of, &n_runs, err);
	if (rc == 0)
		rc = nidec_runstats_fit(&pl->runstats, pl->X, pl->n, pl->p, pl->run_of, n_runs, err);
	if (rc < 0) {
		nidec_free(pl->run_of);
		pl->run_of = NULL;
	}
	return rc;
}

int nidec_plan_prepare(nidec_plan *pl, const float *X, nidec_err *err)
{
	size_t *all, i, j;
	int rc;

	if (!X)
		return nidec_fail(err, NIDEC_EINTERNAL, "plan_prepare: no data matrix");
	pl->X = X;
	if (pl->std_mode == STD_PER_FIT)
		return prepare_runstats(pl, err);
	if (pl->std_mode != STD_GLOBAL)
		return 0;
	all = nidec_malloc_e(pl->n, sizeof(*all), "sample list", err);
	if (!all)
		return NIDEC_ENOMEM;
	for (i = 0; i < pl->n; i++)
		all[i] = i;
	rc = nidec_scaler_fit(&pl->global, X, pl->p, all, pl->n, pl->standardize, pl->f32, err);
	nidec_free(all);
	if (rc < 0 || !want_global_gram(pl) || pl->Kg)
		return rc;
	/* one allocation in huge pages (bigmem.h): 1.3 MiB for step e, first
	 * touched in one page fault instead of ~320 */
	pl->Zg = nidec_alloc_huge((pl->n * pl->p + pl->n * pl->n) * sizeof(double), &pl->gram_mem,
				  "standardised data and Gram matrix", err);
	if (!pl->Zg) {
		rc = NIDEC_ENOMEM;
		goto fail;
	}
	pl->Kg = pl->Zg + pl->n * pl->p;
	for (i = 0; i < pl->n; i++)
		for (j = 0; j < pl->p; j++)
			pl->Zg[i * pl->p + j] = nidec_prep_value(&pl->global, X[i * pl->p + j], j);
	NIDEC_TRY_GOTO(rc, nidec_gram(pl->Zg, pl->n, pl->p, pl->p, 1.0, pl->Kg, pl->n, err), fail);
	return 0;
fail:
	nidec_free(pl->gram_mem);
	pl->gram_mem = NULL;
	pl->Zg = pl->Kg = NULL;
	return rc;
}
