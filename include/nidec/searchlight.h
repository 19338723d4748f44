/*
 * searchlight.h - the searchlight's task space, the pure function that
 * runs one task, and the reduce of its results into maps
 * (src/core/searchlight.c).
 *
 * A searchlight fits a cross-validated classifier in every sphere
 * (sphere.h) and maps its score.  It is the decoder's cross-validation
 * (the same folds, labels, permutations, problems, C selection rules,
 * scoring and standardisation: plan.h) run on each sphere's voxels:
 *  - the task space is (permutation, block of sphere centres); a task runs
 *    every outer fold (and, with a C grid in nested mode, every inner
 *    fold) of every sphere of its block, so the standardisation of the
 *    block's voxels is shared by its spheres;
 *  - standardisation: scope train fits the statistics on each fit's
 *    training rows (as scikit-learn's StandardScaler in a pipeline, per
 *    voxel, so the same numbers for every sphere holding the voxel); scope
 *    all once over all samples (nilearn, in numpy's float32 arithmetic
 *    under compat = nilearn);
 *  - C: one value fits it; a grid is selected per sphere and problem as in
 *    the decoder (nested: by the mean inner score, ties to the first C,
 *    then refitted on the outer training part from zero; test-fold: the
 *    best outer test score, ties to the last C);
 *  - svc (solver dcd, the default) is solved to its minimiser by Newton's
 *    method (svm.h) on float32 rows gathered per sphere, started from the
 *    previous C's or the previous fold's solution of the same sphere
 *    (blocks hold whole spheres, so the start never depends on the block
 *    or the rank); other estimators, and solver = liblinear, go through
 *    nidec_svm_train;
 *  - those fits' solver seeds are derived from (seed, permutation, centre,
 *    outer fold, inner fold, problem, C), never from the block or the
 *    rank: any block size and any schedule give the same bits.
 *  - a continuous target ([model] task = regression) is fitted by svr only:
 *    one problem, the target, scored by r2 or the negated errors; per
 *    sphere and training part its kernel (linear, or RBF with gamma =
 *    'scale' as scikit-learn's SVR()) is computed once and each C solved
 *    on it by nidec's SMO (regress.h) from zero; permutations shuffle the
 *    targets as the decoder's do.
 * Keys: two classes give one problem, reported under its positive class
 * (classes[1]); a continuous target one key, its name; K > 2 classes give K one-vs-rest problems, each its own
 * key.  The map value of a sphere is its score averaged over the outer
 * folds (numpy's mean, as cross_val_score(...).mean()), for K > 2 also
 * over the classes; under compat = nilearn with K > 2 it is the accuracy
 * of the multiclass prediction (the first maximum of the one-vs-rest
 * decisions), as LinearSVC's predict.
 * Spheres with fewer voxels than min_voxels are not fitted: NaN.
 *
 * Lifecycle (every rank builds the same from the same inputs):
 *     nidec_sl_create(&cfg, &lab, &spheres, &opts, &sl, &err);
 *     nidec_sl_prepare(sl, X, &err);
 *     for t in my tasks: nidec_sl_task_run(sl, t, &res, &err);
 *     rank 0: nidec_sl_reducer_* -> nidec_sl_outcome
 *     nidec_sl_free(&sl);
 * Not collective; not thread-safe; no MPI, HDF5 or NIfTI.
 */
#ifndef NIDEC_SEARCHLIGHT_H
#define NIDEC_SEARCHLIGHT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "nidec/cfg.h"
#include "nidec/err.h"
#include "nidec/plan.h"
#include "nidec/result.h"
#include "nidec/sphere.h"

typedef struct nidec_sl nidec_sl;

typedef struct nidec_sl_opts {
	const double *C;      /* the C grid of every sphere (borrowed) */
	size_t n_C;
	size_t min_voxels;    /* smaller spheres are skipped (NaN) */
	size_t block;         /* centres per task, 0 = automatic */
	int max_iter;         /* other estimators' iteration limit (nilearn's SearchLight: 1000) */
	int svr_rbf;          /* svr: 1 = RBF kernel, gamma 'scale' (SVR()), 0 = linear */
	long svr_max_iter;    /* svr: SMO's iteration cap, <= 0 = none (SVR()'s default) */
} nidec_sl_opts;

/* Build the task space.  Borrows `sp` (valid until nidec_sl_free); copies
 * the rest.  Checks what the decoder's plan checks (nidec_plan_create),
 * and what a searchlight refuses: screening, a Decoder inside an outer
 * split, compat = nilearn with K > 2 classes and another scoring than
 * accuracy, a continuous target with another estimator than svr.  Not
 * collective. */
int nidec_sl_create(const nidec_cfg *cfg, const nidec_labels *lab, const nidec_spheres *sp,
		    const nidec_sl_opts *opts, nidec_sl **out, nidec_err *err);
void nidec_sl_free(nidec_sl **sl);

/* Give the data matrix (row-major n x p float32; borrowed until free);
 * computes the global standardisation when the scope is all. */
int nidec_sl_prepare(nidec_sl *sl, const float *X, nidec_err *err);

size_t nidec_sl_n_tasks(const nidec_sl *sl);
size_t nidec_sl_n_blocks(const nidec_sl *sl);
double nidec_sl_task_cost(const nidec_sl *sl, size_t t);
/* The permutation of task t (the scheduler runs permutations in order). */
size_t nidec_sl_task_group(const nidec_sl *sl, size_t t);
/* Keys (class names of the maps' scores), outer folds, C grid. */
size_t nidec_sl_n_keys(const nidec_sl *sl);
const char *nidec_sl_key(const nidec_sl *sl, size_t k);
size_t nidec_sl_n_outer(const nidec_sl *sl);
long nidec_sl_n_perm(const nidec_sl *sl);

/* Run task t: *res holds, for each centre s of its block (in order), each
 * outer fold f and each entry k = 0..n_keys (the keys, then the map
 * value), fit (s * F + f) * (n_keys + 1) + k: its score, and the C used
 * (NaN for the map entry).  A numerical failure is a result with a
 * status, not an error of this call. */
int nidec_sl_task_run(nidec_sl *sl, size_t t, nidec_result **res, nidec_err *err);

/* What the searchlight found (rank 0), ready to be written. */
typedef struct nidec_sl_outcome {
	size_t n_centres, n_folds, n_keys;
	char **keys;            /* [n_keys] */
	size_t n_C;
	double *C;              /* [n_C] */
	/* [n_centres * n_keys * n_folds], index (s * n_keys + k) * n_folds + f */
	double *fold_score;
	uint16_t *chosen;       /* the C used: an index into C, NIDEC_SL_NO_C for none
	                         * (2 bytes, not 8: rank 0 holds the maps) */
	double *score;          /* [n_centres * n_keys] mean over folds */
	double *map;            /* [n_centres] the map value (see above) */
	/* [n_centres * n_folds] the map value per fold: fold_score itself for
	 * one key (the map is that key's score), else map_fold_own */
	const double *map_fold;
	double *map_fold_own;
	size_t n_skipped;       /* spheres below min_voxels (NaN) */
	/* permutations */
	long n_perm;
	float *null_map;        /* [n_perm * n_centres] each permutation's map, float32 */
	float *null_max;        /* [n_perm] its maximum over the fitted spheres */
	double *p;              /* [n_centres] (1 + #null >= observed) / (n_perm + 1) */
	double *p_fwe;          /* [n_centres] the same against the maxima */
} nidec_sl_outcome;

#define NIDEC_SL_NO_C UINT16_MAX

/* The C of entry i of fold_score (NaN: none). */
static inline double nidec_sl_chosen_C(const nidec_sl_outcome *o, size_t i)
{
	return o->chosen[i] == NIDEC_SL_NO_C ? (double)NAN : o->C[o->chosen[i]];
}

void nidec_sl_outcome_free(nidec_sl_outcome **o);

/* The incremental reduce (as reduce.h's): results in any order, each
 * reduced into the maps (a block writes its own centres) and freed as it
 * arrives - rank 0 holds the maps and the null maps, no results; a
 * permutation's maximum is taken once all its blocks are in.  The maps do
 * not depend on the arrival order. */
typedef struct nidec_sl_reducer nidec_sl_reducer;

int nidec_sl_reducer_create(const nidec_sl *sl, nidec_sl_reducer **out, nidec_err *err);
int nidec_sl_reducer_add(nidec_sl_reducer *rd, nidec_result **results, size_t t, nidec_err *err);
int nidec_sl_reducer_done(const nidec_sl_reducer *rd, size_t t);
int nidec_sl_reducer_finish(nidec_sl_reducer *rd, nidec_sl_outcome **out, nidec_err *err);
void nidec_sl_reducer_free(nidec_sl_reducer **rd);

#endif
