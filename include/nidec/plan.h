/*
 * plan.h - the task space of a cross-validated decoding and the pure
 * function that runs one task.  This is the contract between the numerical
 * core (src/core, no MPI/HDF5/NIfTI) and the scheduling layer (src/par) and
 * commands (src/cli).
 *
 * Lifecycle (every rank builds the same plan from the same inputs):
 *     nidec_plan_create(&cfg, &labels, &plan, &err);    folds, problems, tasks
 *     nidec_plan_prepare(plan, X, &err);                 per-rank data prep (may copy X)
 *     for t in my tasks: nidec_task_run(plan, t, &res, &err);   task.h; pack, send
 *     rank 0: nidec_reducer_*(plan, ...) -> outcome            reduce.h, outcome.h
 *     nidec_outcome_free(&outcome); nidec_plan_free(&plan);
 * The module (src/core/plan.c) owns the folds, the binary problems, the
 * task list and the per-rank preparation; running a task (task.h), a
 * task's result (result.h) and the reduce (reduce.h) are modules of their
 * own.
 *
 * A task is (permutation, outer fold, inner fold or -1): one training part
 * (a "fit unit").  It fits every binary problem and every C of the grid on
 * that part, so the part's standardisation, screening pass, solver matrix
 * (or Gram matrix) are built once and each C starts from the previous C's
 * solution (warm start; src/core/task.c).  When a part shares nothing
 * costly between its problems (nilearn's whole-data standardisation with
 * the plan-wide Gram matrix) and there are several problems, each problem
 * of a part is its own task instead (nidec_task.problem >= 0), for a
 * better balance over the ranks; the fits and their results are the same
 * bits either way.  Its result is a pure function
 * of (plan, task id, X): the liblinear seed of every fit is derived from
 * (permutation, folds, problem, C), never from the rank, so any schedule
 * gives byte-identical results.  Reduction works on results ordered by
 * task id.
 *
 * Problems: K = 2 classes give one binary problem (+1 = classes[1], as
 * nilearn's LabelBinarizer); K > 2 give K one-vs-rest problems.  Classes are
 * the distinct labels sorted in byte order (numpy.unique).
 *
 * Selection (README "Model selection"):
 *   nested     inner tasks score every C on inner folds of the outer training
 *              part; outer tasks (inner = -1) fit every C on the whole
 *              training part.  Reduce picks, per (outer fold, problem), the C
 *              with the best mean inner score (ties: first C in grid order,
 *              as GridSearchCV) and keeps that C's outer fit.
 *   test-fold  nilearn's: with inner scheme none (or auto, which means none
 *              here), outer tasks fit every C and are scored on the outer
 *              test fold; the best is kept (ties: the last C, as nilearn's
 *              `>=`).  With an inner scheme (a Decoder inside an outer split,
 *              tutorial steps a-c), there are only inner tasks: each picks
 *              C per inner fold on the inner test part, the fold model is the
 *              mean of the picked inner models (its decision on the outer
 *              test part is the mean of theirs), scored on the outer test
 *              part; the fold's C is NaN when the inner folds disagree.
 *
 * Standardisation (README "Preprocessing"): scope train fits the statistics
 * on each fit's training rows; scope all (nilearn) on all samples once in
 * nidec_plan_prepare, or, with a Decoder inside an outer split, on the outer
 * training part and separately on the outer test part (nilearn standardises
 * new images on themselves).  compat = nilearn does it in numpy's float32
 * arithmetic.  Screening: see src/core/plan.c.
 *
 * Regression ([model] task = regression, lab->target): one problem, one
 * key (the target's column), every fit predicts the target and is scored
 * by r2 or a negated error; permutations shuffle the targets (within runs
 * or across all samples, as the labels).  svr's grid is [model] C; ridge,
 * lasso and dummy_regressor have one fit per training part, their alpha
 * chosen inside it (RidgeCV's leave-one-out, LassoCV's 5 folds), reported
 * as the fit's "C".
 *
 * Keys (outcome): K keys for K > 2 classes, key c's weights pointing
 * towards c.  Two classes: one problem whose weights point to classes[1],
 * reported once, under classes[1]; compat = nilearn reports it under both
 * classes, +w under classes[0] and -w under classes[1] (nilearn's
 * coef_img_ quirk), both with the problem's scores.
 *
 * Not thread-safe: tasks of one plan reuse the plan's scratch memory, and
 * the liblinear path seeds the C library's rand().
 */
#ifndef NIDEC_PLAN_H
#define NIDEC_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/cfg.h"
#include "nidec/err.h"
#include "nidec/result.h"

/* What the plan needs to know about a dataset (no voxel values). */
typedef struct nidec_labels {
	size_t n;                      /* samples */
	size_t p;                      /* voxels (features) */
	const int *y;                  /* [n] class index, 0..n_classes-1 */
	const int *runs;               /* [n] run id of each sample */
	size_t n_classes;
	const char *const *class_names;/* [n_classes], sorted byte order */
	double voxel_volume_mm3;       /* |det(affine[:3,:3])|, for nilearn's screening rescale */
	const int *fold_of_sample;     /* [n] for scheme folds-file (-1 = never tested), else NULL */
	/* [model] task = regression: the continuous target of each sample (y
	 * is then ignored: one problem, keyed by target_name), else NULL */
	const double *target;
	const char *target_name;
} nidec_labels;

typedef struct nidec_task {
	long perm;     /* 0 = true labels, 1..N = permutations */
	int outer;     /* outer fold */
	int inner;     /* inner fold, or -1 for a fit on the whole outer training part */
	int problem;   /* -1: a task runs every binary problem, else only this one (see above) */
	int c_index;   /* -1: a task runs every C of the grid */
} nidec_task;

typedef struct nidec_plan nidec_plan;

/* Build folds, problems and the task list.  Checks what needs the labels:
 * more folds than samples, a training fold with one class, a test fold
 * missing a class where the score needs both, no runs for LORO, ...
 * Borrows nothing: `lab` may be freed afterwards.  Not collective. */
int nidec_plan_create(const nidec_cfg *cfg, const nidec_labels *lab,
		      nidec_plan **out, nidec_err *err);
void nidec_plan_free(nidec_plan **plan);

/* Give the plan the data matrix (row-major n x p float32) before running
 * tasks.  Borrows X until nidec_plan_free; may precompute per-rank state
 * (e.g. nilearn's whole-data standardisation).  Not collective. */
int nidec_plan_prepare(nidec_plan *plan, const float *X, nidec_err *err);

size_t nidec_plan_n_tasks(const nidec_plan *plan);
void nidec_plan_task(const nidec_plan *plan, size_t t, nidec_task *out);
/* A relative cost guess for task t (bigger first when scheduling). */
double nidec_plan_task_cost(const nidec_plan *plan, size_t t);
/* Fits per task: problems x C, fit f = problem * n_C + c_index; or C when
 * each task holds one problem (then f = c_index). */
size_t nidec_plan_n_fit(const nidec_plan *plan);
size_t nidec_plan_n_outer(const nidec_plan *plan);
/* Binary problems: 1 for two classes, K for K > 2 (one-vs-rest). */
size_t nidec_plan_n_problems(const nidec_plan *plan);
/* Human-readable task, e.g. "fold 3 (run 3), inner fold 2" (permutation
 * added when > 0), for logs and error messages. */
void nidec_plan_task_desc(const nidec_plan *plan, size_t t, char *buf, size_t len);
/* Test sample indices of outer fold f (ascending), borrowed. */
const size_t *nidec_plan_outer_test(const nidec_plan *plan, int f, size_t *n);

/* The scheduling group of task t: its permutation.  The scheduler runs
 * groups in ascending order (costliest first within one), so that
 * permutations complete one after the other and the incremental reducer
 * holds only a few of them. */
size_t nidec_plan_task_group(const nidec_plan *plan, size_t t);

/*
 * Solver form of estimator svc with solver dcd (tests, benchmarks): form 0
 * = automatic (src/core/task.c states the rule), 1 = primal (rows), 2 =
 * kernel (Gram matrix); warm = 1 (default) starts each C from the previous
 * C's solution, 0 from zero as liblinear.  Every choice gives the same
 * solutions to the solver's tolerance.  Call before nidec_plan_prepare and
 * before reading the task list (the form may change how tasks are cut).
 */
void nidec_plan_set_solver(nidec_plan *plan, int form, int warm);

/* Tests: allow (1, the default) or forbid (0) one task per problem (see
 * the file comment), and lay the tasks out again.  Call before
 * nidec_plan_prepare. */
void nidec_plan_allow_split(nidec_plan *plan, int allow);

#endif
