/*
 * folds.c - cross-validation splits (see include/nidec/folds.h).
 *
 * Every scheme is reduced to an assignment "position in the subset -> fold
 * number or -1", then turned into ascending train/test index lists by one
 * function (from_assignment).  The assignments reproduce scikit-learn
 * 1.2.1's splitters exactly (KFold, StratifiedKFold without shuffling,
 * LeaveOneGroupOut), because nilearn's per-fold numbers depend on which
 * sample lands in which fold (README "Cross-validation"; semantics doc
 * section 2).
 *
 * Permutations (README "Permutation tests"): labels are shuffled within
 * runs by default so that the null keeps each run's class counts, which
 * keeps leave-one-run-out folds valid; the fold structure itself never
 * depends on the permutation.
 *
 * Depends on base only: no MPI, no HDF5, no NIfTI.
 */
#include <stdlib.h>
#include <string.h>

#include "nidec/folds.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/rng.h"

void nidec_folds_release(nidec_folds *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++) {
		nidec_free(f->split[i].train);
		nidec_free(f->split[i].test);
	}
	nidec_free(f->split);
	f->n = 0;
	f->split = NULL;
}

static size_t at(const size_t *idx, size_t i)
{
	return idx ? idx[i] : i;
}

/*
 * Build nf splits from assign[m] (fold number 0..nf-1, or -1 = train only).
 * ids[nf] become split.id (NULL: the fold number).  A fold with no test
 * sample is allowed here; callers that cannot have one check before.
 */
static int from_assignment(size_t m, const size_t *idx, const int *assign, size_t nf,
			   const long *ids, nidec_folds *out, nidec_err *err)
{
	nidec_folds f = NIDEC_FOLDS_INIT;
	size_t *n_test = NULL, i, s;
	int rc = 0;

	n_test = nidec_calloc_e(nf, sizeof(*n_test), "fold sizes", err);
	if (!n_test)
		return NIDEC_ENOMEM;
	for (i = 0; i < m; i++)
		if (assign[i] >= 0)
			n_test[assign[i]]++;
	f.split = nidec_calloc_e(nf, sizeof(*f.split), "folds", err);
	if (!f.split) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	f.n = nf;
	for (s = 0; s < nf; s++) {
		nidec_split *sp = &f.split[s];
		size_t a = 0, b = 0;

		sp->id = ids ? ids[s] : (long)s;
		sp->n_test = n_test[s];
		sp->n_train = m - n_test[s];
		sp->test = nidec_malloc_e(sp->n_test, sizeof(size_t), "fold test indices", err);
		sp->train = nidec_malloc_e(sp->n_train, sizeof(size_t), "fold train indices", err);
		if (!sp->test || !sp->train) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		for (i = 0; i < m; i++) {
			if (assign[i] == (int)s)
				sp->test[a++] = at(idx, i);
			else
				sp->train[b++] = at(idx, i);
		}
	}
	nidec_folds_release(out);
	*out = f;
	f.n = 0;
	f.split = NULL;
done:
	nidec_folds_release(&f);
	nidec_free(n_test);
	return rc;
}

int nidec_folds_none(size_t m, const size_t *idx, nidec_folds *out, nidec_err *err)
{
	nidec_folds f = NIDEC_FOLDS_INIT;
	nidec_split *sp;
	size_t i;

	if (m == 0)
		return nidec_fail(err, NIDEC_EINPUT, "no samples to fit");
	f.split = nidec_calloc_e(1, sizeof(*f.split), "folds", err);
	if (!f.split)
		return NIDEC_ENOMEM;
	f.n = 1;
	sp = &f.split[0];
	sp->n_train = sp->n_test = m;
	sp->train = nidec_malloc_e(m, sizeof(size_t), "fold indices", err);
	sp->test = nidec_malloc_e(m, sizeof(size_t), "fold indices", err);
	if (!sp->train || !sp->test) {
		nidec_folds_release(&f);
		return NIDEC_ENOMEM;
	}
	for (i = 0; i < m; i++)
		sp->train[i] = sp->test[i] = at(idx, i);
	nidec_folds_release(out);
	*out = f;
	return 0;
}

int nidec_folds_holdout(size_t m, const size_t *idx, size_t n_test, nidec_folds *out,
			nidec_err *err)
{
	int *assign;
	size_t i;
	int rc;

	if (n_test < 1 || n_test >= m)
		return nidec_fail(err, NIDEC_EINPUT,
				  "holdout of %zu samples out of %zu leaves no %s; give [cv] holdout between 1 and %zu samples, or a fraction in (0, 1)",
				  n_test, m, n_test < 1 ? "test sample" : "training sample",
				  m > 1 ? m - 1 : (size_t)1);
	assign = nidec_malloc_e(m, sizeof(*assign), "fold assignment", err);
	if (!assign)
		return NIDEC_ENOMEM;
	for (i = 0; i < m; i++)
		assign[i] = i >= m - n_test ? 0 : -1;
	rc = from_assignment(m, idx, assign, 1, NULL, out, err);
	nidec_free(assign);
	return rc;
}

int nidec_folds_kfold(size_t m, const size_t *idx, int k, nidec_folds *out, nidec_err *err)
{
	int *assign;
	size_t i, f, pos = 0;
	int rc;

	if (k < 2)
		return nidec_fail(err, NIDEC_EINPUT, "k-fold needs at least 2 folds, not %d", k);
	if ((size_t)k > m)
		return nidec_fail(err, NIDEC_EINPUT,
				  "%d folds but only %zu samples; lower the number of folds to at most %zu",
				  k, m, m);
	assign = nidec_malloc_e(m, sizeof(*assign), "fold assignment", err);
	if (!assign)
		return NIDEC_ENOMEM;
	/* sklearn KFold: fold sizes m // k, the first m % k one longer */
	for (f = 0; f < (size_t)k; f++) {
		size_t size = m / (size_t)k + (f < m % (size_t)k ? 1 : 0);
		for (i = 0; i < size; i++)
			assign[pos++] = (int)f;
	}
	rc = from_assignment(m, idx, assign, (size_t)k, NULL, out, err);
	nidec_free(assign);
	return rc;
}

int nidec_folds_stratified_assign(size_t m, const int *y_sub, int k, int *fold,
				  nidec_err *err)
{
	int *vals = NULL, *code = NULL;
	size_t *count = NULL, *alloc = NULL, *start = NULL, *next = NULL;
	size_t nc = 0, i, c, f, pos, min_count;
	int rc = 0;

	if (k < 2)
		return nidec_fail(err, NIDEC_EINPUT, "stratified k-fold needs at least 2 folds, not %d", k);
	if ((size_t)k > m)
		return nidec_fail(err, NIDEC_EINPUT,
				  "%d folds but only %zu samples; lower the number of folds to at most %zu",
				  k, m, m);
	vals = nidec_malloc_e(m, sizeof(*vals), "class values", err);
	code = nidec_malloc_e(m, sizeof(*code), "class codes", err);
	count = nidec_calloc_e(m, sizeof(*count), "class counts", err);
	if (!vals || !code || !count) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	/* 1. classes encoded by order of first appearance */
	for (i = 0; i < m; i++) {
		for (c = 0; c < nc; c++)
			if (vals[c] == y_sub[i])
				break;
		if (c == nc)
			vals[nc++] = y_sub[i];
		code[i] = (int)c;
		count[c]++;
	}
	min_count = m;
	for (c = 0; c < nc; c++)
		if (count[c] < min_count)
			min_count = count[c];
	{
		size_t max_count = 0;
		for (c = 0; c < nc; c++)
			if (count[c] > max_count)
				max_count = count[c];
		if ((size_t)k > max_count) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"%d folds but no class has that many samples (largest: %zu); lower the number of folds",
					k, max_count);
			goto done;
		}
	}
	if ((size_t)k > min_count)
		nidec_verbose("stratified-kfold: the least populated class has only %zu members, fewer than the %d folds",
			      min_count, k);
	/* 2. allocation[f][c] = count of class c at sorted positions f, f+k, ... */
	alloc = nidec_calloc_e((size_t)k * nc, sizeof(*alloc), "fold allocation", err);
	start = nidec_calloc_e(nc + 1, sizeof(*start), "class offsets", err);
	next = nidec_calloc_e(nc, sizeof(*next), "class cursors", err);
	if (!alloc || !start || !next) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (c = 0; c < nc; c++)
		start[c + 1] = start[c] + count[c];
	for (c = 0; c < nc; c++)
		for (pos = start[c]; pos < start[c + 1]; pos++)
			alloc[(pos % (size_t)k) * nc + c]++;
	/* 3. each class's samples, in order, fill fold 0 first, then 1, ... */
	for (c = 0; c < nc; c++)
		next[c] = 0; /* fold currently filled for class c */
	{
		size_t *used = count; /* reuse: samples already given to next[c] */
		memset(used, 0, nc * sizeof(*used));
		for (i = 0; i < m; i++) {
			c = (size_t)code[i];
			f = next[c];
			while (f < (size_t)k && used[c] >= alloc[f * nc + c]) {
				f++;
				used[c] = 0;
			}
			next[c] = f;
			used[c]++;
			fold[i] = (int)f;
		}
	}
done:
	nidec_free(vals);
	nidec_free(code);
	nidec_free(count);
	nidec_free(alloc);
	nidec_free(start);
	nidec_free(next);
	return rc;
}

int nidec_folds_stratified(size_t m, const size_t *idx, const int *y, int k,
			   nidec_folds *out, nidec_err *err)
{
	int *y_sub, *assign;
	size_t i;
	int rc;

	y_sub = nidec_malloc_e(m ? m : 1, sizeof(*y_sub), "labels", err);
	if (!y_sub)
		return NIDEC_ENOMEM;
	assign = nidec_malloc_e(m ? m : 1, sizeof(*assign), "fold assignment", err);
	if (!assign) {
		nidec_free(y_sub);
		return NIDEC_ENOMEM;
	}
	for (i = 0; i < m; i++)
		y_sub[i] = y[at(idx, i)];
	rc = nidec_folds_stratified_assign(m, y_sub, k, assign, err);
	if (rc == 0)
		rc = from_assignment(m, idx, assign, (size_t)k, NULL, out, err);
	nidec_free(y_sub);
	nidec_free(assign);
	return rc;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Distinct values of v[at(idx, i)] (>= min_value), sorted ascending. */
static int distinct(size_t m, const size_t *idx, const int *v, int min_value, int **out,
		    size_t *n_out, nidec_err *err)
{
	int *d;
	size_t i, n = 0, u = 0;

	d = nidec_malloc_e(m ? m : 1, sizeof(*d), "distinct values", err);
	if (!d)
		return NIDEC_ENOMEM;
	for (i = 0; i < m; i++)
		if (v[at(idx, i)] >= min_value)
			d[n++] = v[at(idx, i)];
	qsort(d, n, sizeof(*d), cmp_int);
	for (i = 0; i < n; i++)
		if (u == 0 || d[u - 1] != d[i])
			d[u++] = d[i];
	*out = d;
	*n_out = u;
	return 0;
}

/* Folds: one per distinct value >= 0 of v over the subset. */
static int by_value(size_t m, const size_t *idx, const int *v, size_t min_folds,
		    const char *what, nidec_folds *out, nidec_err *err)
{
	int *vals = NULL, *assign = NULL;
	long *ids = NULL;
	size_t nv = 0, i;
	int rc;

	NIDEC_TRY(distinct(m, idx, v, 0, &vals, &nv, err));
	if (nv < min_folds) {
		rc = nidec_fail(err, NIDEC_EINPUT, "the samples have %zu distinct %s%s; %s",
				nv, what, nv == 1 ? "" : "s", min_folds > 1
				? "leave-one-run-out needs at least 2 runs; use another scheme"
				: "give at least one fold");
		goto done;
	}
	assign = nidec_malloc_e(m ? m : 1, sizeof(*assign), "fold assignment", err);
	ids = nidec_malloc_e(nv, sizeof(*ids), "fold ids", err);
	if (!assign || !ids) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (i = 0; i < nv; i++)
		ids[i] = vals[i];
	for (i = 0; i < m; i++) {
		int x = v[at(idx, i)];
		if (x < 0) {
			assign[i] = -1;
		} else {
			int *hit = bsearch(&x, vals, nv, sizeof(*vals), cmp_int);
			assign[i] = (int)(hit - vals);
		}
	}
	rc = from_assignment(m, idx, assign, nv, ids, out, err);
done:
	nidec_free(vals);
	nidec_free(assign);
	nidec_free(ids);
	return rc;
}

int nidec_folds_loro(size_t m, const size_t *idx, const int *runs, nidec_folds *out,
		     nidec_err *err)
{
	size_t i;

	if (!runs)
		return nidec_fail(err, NIDEC_EINPUT,
				  "leave-one-run-out needs run ids; give the run column of the labels table, or another scheme");
	for (i = 0; i < m; i++)
		if (runs[at(idx, i)] < 0)
			return nidec_fail(err, NIDEC_EINPUT,
					  "sample %zu has the negative run id %d; run ids must be >= 0",
					  at(idx, i), runs[at(idx, i)]);
	return by_value(m, idx, runs, 2, "run id", out, err);
}

int nidec_folds_assign(size_t m, const size_t *idx, const int *fold_of_sample,
		       nidec_folds *out, nidec_err *err)
{
	if (!fold_of_sample)
		return nidec_fail(err, NIDEC_EINPUT,
				  "scheme folds-file needs a fold for every sample; give [cv] folds_file");
	return by_value(m, idx, fold_of_sample, 1, "fold value", out, err);
}

struct run_pos {
	int run;
	size_t i;
};

static int cmp_run_pos(const void *a, const void *b)
{
	const struct run_pos *x = a, *y = b;

	if (x->run != y->run)
		return (x->run > y->run) - (x->run < y->run);
	return (x->i > y->i) - (x->i < y->i);
}

int nidec_folds_permute_labels(size_t n, const int *y, const int *runs, uint64_t seed,
			       int *out, nidec_err *err)
{
	struct run_pos *rp;
	int *lab;
	nidec_rng rng;
	size_t i, a, b;

	rp = nidec_malloc_e(n ? n : 1, sizeof(*rp), "permutation order", err);
	if (!rp)
		return NIDEC_ENOMEM;
	lab = nidec_malloc_e(n ? n : 1, sizeof(*lab), "permuted labels", err);
	if (!lab) {
		nidec_free(rp);
		return NIDEC_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		rp[i].run = runs ? runs[i] : 0;
		rp[i].i = i;
	}
	qsort(rp, n, sizeof(*rp), cmp_run_pos);
	nidec_rng_seed(&rng, seed);
	for (a = 0; a < n; a = b) {
		for (b = a; b < n && rp[b].run == rp[a].run; b++)
			lab[b] = y[rp[b].i];
		nidec_rng_shuffle_int(&rng, lab + a, b - a);
	}
	for (i = 0; i < n; i++)
		out[rp[i].i] = lab[i];
	nidec_free(rp);
	nidec_free(lab);
	return 0;
}
