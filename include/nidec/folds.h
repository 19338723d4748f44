/*
 * folds.h - cross-validation splits: which samples train and which test.
 *
 * Invariants: a split's `train` and `test` hold dataset sample indices in
 * ascending order and never share an index; a nidec_folds owns its splits
 * and their arrays.  Initialise with NIDEC_FOLDS_INIT; nidec_folds_release()
 * frees everything and leaves an empty, reusable value (git's strbuf rule).
 *
 * Every builder works on a *subset* of the dataset given as `m` ascending
 * sample indices `idx` (NULL means 0..m-1), so the same code makes the outer
 * folds of the whole dataset and the inner folds of an outer training part.
 * Labels `y` and runs are indexed by dataset sample number, not by position
 * in the subset.  The fold order is the one of the scikit-learn splitter the
 * builder reproduces (README "Cross-validation"), because nilearn's numbers
 * depend on it.
 *
 * On error the output is left as it was and nothing leaks.  Not collective,
 * no MPI; O(m) memory besides the result.
 */
#ifndef NIDEC_FOLDS_H
#define NIDEC_FOLDS_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/err.h"

typedef struct nidec_split {
	size_t n_train;
	size_t n_test;
	size_t *train;  /* ascending dataset sample indices */
	size_t *test;   /* ascending dataset sample indices */
	long id;        /* run id (leave-one-run-out), fold value (folds-file), else fold number */
} nidec_split;

typedef struct nidec_folds {
	size_t n;           /* number of splits */
	nidec_split *split; /* [n] */
} nidec_folds;

#define NIDEC_FOLDS_INIT { 0, NULL }

void nidec_folds_release(nidec_folds *f);

/* One split with train = test = the whole subset (scheme none: fit and
 * predict on all, the tutorial's "meaningless" training accuracy). */
int nidec_folds_none(size_t m, const size_t *idx, nidec_folds *out, nidec_err *err);

/* One split: the last n_test samples of the subset test, the others train.
 * 1 <= n_test < m. */
int nidec_folds_holdout(size_t m, const size_t *idx, size_t n_test, nidec_folds *out,
			nidec_err *err);

/* scikit-learn KFold(k, shuffle=False): k contiguous blocks in subset order,
 * the first m mod k blocks one sample longer.  2 <= k <= m. */
int nidec_folds_kfold(size_t m, const size_t *idx, int k, nidec_folds *out, nidec_err *err);

/* scikit-learn 1.2.1 StratifiedKFold(k, shuffle=False): classes encoded by
 * order of first appearance, per-fold class counts dealt round-robin over
 * the sorted encoded labels, each class's samples given to folds in blocks
 * in subset order.  Errors as scikit-learn: k > m, or k above every class
 * count; a k above the smallest class count only warns (verbose log). */
int nidec_folds_stratified(size_t m, const size_t *idx, const int *y, int k,
			   nidec_folds *out, nidec_err *err);

/* The raw StratifiedKFold assignment: fold[i] (0..k-1) for the subset's
 * i-th label y_sub[i].  Used by nidec_folds_stratified and by tests. */
int nidec_folds_stratified_assign(size_t m, const int *y_sub, int k, int *fold,
				  nidec_err *err);

/* scikit-learn LeaveOneGroupOut over run ids: one split per distinct run of
 * the subset, runs in ascending order; split.id = the run.  Needs >= 2 runs. */
int nidec_folds_loro(size_t m, const size_t *idx, const int *runs, nidec_folds *out,
		     nidec_err *err);

/* Folds from an assignment (scheme folds-file): one split per distinct value
 * >= 0 of fold_of_sample, ascending; a sample with -1 is never tested and
 * always trains.  split.id = the value.  Needs >= 1 fold. */
int nidec_folds_assign(size_t m, const size_t *idx, const int *fold_of_sample,
		       nidec_folds *out, nidec_err *err);

/* Permuted labels for a permutation test: out[i] = y[perm(i)] where the
 * permutation only moves labels between samples of the same run (runs
 * non-NULL) or among all samples (runs NULL).  The shuffle is a pure
 * function of `seed` (xoshiro256**, Fisher-Yates over each run's samples in
 * ascending sample order, runs in ascending id order).  out may not alias y. */
int nidec_folds_permute_labels(size_t n, const int *y, const int *runs, uint64_t seed,
			       int *out, nidec_err *err);

#endif
