/*
 * plan.h - the task space of a cross-validated decoding and the pure
 * function that runs one task.  This is the contract between the numerical
 * core (src/core, no MPI/HDF5/NIfTI) and the scheduling layer (src/par) and
 * commands (src/cli).
 *
 * Lifecycle (every rank builds the same plan from the same inputs):
 *     nidec_plan_create(&cfg, &labels, &plan, &err);    folds, problems, tasks
 *     nidec_plan_prepare(plan, X, &err);                 per-rank data prep (may copy X)
 *     for t in my tasks: nidec_task_run(plan, t, &res, &err); pack, send
 *     rank 0: nidec_plan_reduce(plan, results, &outcome, &err);
 *     nidec_outcome_free(&outcome); nidec_plan_free(&plan);
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
 * Keys (outcome): K keys for K classes.  Two classes: one problem whose
 * weights point to classes[1]; compat = nilearn stores +w under classes[0]
 * and -w under classes[1] (nilearn's coef_img_ quirk), otherwise key c's
 * weights point towards c.  Both keys carry the problem's scores.
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
} nidec_labels;

typedef struct nidec_task {
	long perm;     /* 0 = true labels, 1..N = permutations */
	int outer;     /* outer fold */
	int inner;     /* inner fold, or -1 for a fit on the whole outer training part */
	int problem;   /* -1: a task runs every binary problem, else only this one (see above) */
	int c_index;   /* -1: a task runs every C of the grid */
} nidec_task;

/*
 * The result of one task: one "fit" per (problem q, C index c) of the task,
 * fit f = q * n_C + c (n_C = the plan's grid, 1 for the dummy estimator);
 * for a task of one problem (nidec_task.problem >= 0), f = c.
 */
typedef struct nidec_result {
	size_t task;       /* task id */
	int status;        /* 0, or a negative NIDEC_E* code (msg says why) */
	double seconds;    /* wall time of the task (timing, scheduling) */
	int n_iter;        /* solver iterations summed over the fits (-1 if unknown) */
	size_t n_fit;      /* fits: problems x C */
	double *score;     /* [n_fit] score on the task's test samples (cfg->scoring) */
	double *C;         /* [n_fit] C actually used (= cfg->C[c], except nilearn's
			    * data-dependent svc_l1 grid) */
	int *fit_iter;     /* [n_fit] solver iterations of each fit (-1 if unknown) */
	size_t n_test;     /* decision values per fit on the outer test samples,
			    * ascending order (0 for inner tasks of nested selection) */
	double *decision;  /* [n_fit * n_test] */
	size_t n_coef;     /* weights per fit: p weights + intercept last, or 0
			    * when not needed (permutations, nested inner tasks) */
	double *coef;      /* dense: [n_fit * n_coef]; sparse: the stored values */
	/* Sparse weights (screening keeps a fraction of the voxels, the others
	 * weigh exactly 0): fit f stores coef_nnz[f] voxel weights, then its
	 * intercept, fit after fit in coef; coef_vox holds their voxels,
	 * ascending within a fit.  NULL: dense.  Read with nidec_result_coef. */
	size_t *coef_nnz;  /* [n_fit] or NULL */
	uint32_t *coef_vox;/* [sum of coef_nnz] */
	char msg[256];
} nidec_result;

/* Per-fold, per-key results ready to be written (rank 0). */
typedef struct nidec_outcome {
	size_t n_keys;          /* class keys of the outputs (K, also for K = 2) */
	char **keys;            /* [n_keys] class names */
	size_t n_folds;         /* outer folds */
	size_t n_C;
	double *C;              /* [n_C] grid */
	int nested;             /* 1 if inner scores exist */

	/* [n_keys * n_folds], index k*n_folds + f */
	double *score;          /* outer test score of the kept model */
	double *inner_score;    /* mean inner score of the chosen C (NaN if none) */
	double *chosen_C;       /* C kept for (key, fold) */
	/* [n_keys * n_folds * n_C]: every C tried */
	double *grid_score;     /* outer test score of each C (NaN if not computed) */
	double *grid_inner;     /* mean inner score of each C (NaN if none) */
	/* [n_keys * n_folds * n_inner]: per inner fold (NaN where absent):
	 * the C picked on that inner fold (test-fold with an inner scheme; in
	 * nested mode the C chosen for the fold) and its inner test score */
	size_t n_inner;         /* most inner folds of any outer fold (0 if none) */
	double *inner_C;
	double *inner_fold_score;
	/* [n_folds]: fraction of the fold's test samples whose final predicted
	 * class (pred_label) is right: the tutorial's accuracy of predict() */
	double *pred_accuracy;

	/* predictions on outer test samples, fold by fold, in sample order */
	size_t n_pred;
	size_t *pred_sample;    /* [n_pred] sample index in the dataset */
	int *pred_fold;         /* [n_pred] */
	int *pred_true;         /* [n_pred] class index */
	int *pred_label;        /* [n_pred] predicted class index */
	double *pred_decision;  /* [n_pred * n_problems] decision value per problem */
	size_t n_problems;

	/* weights, mean and std (ddof 0) over outer folds, [n_keys * p] */
	size_t p;
	double *coef_mean;
	double *coef_std;
	double *intercept;      /* [n_keys] mean intercept */
	/* the averaged model per problem (what model.h5 stores) */
	double *model_coef;     /* [n_problems * p] */
	double *model_intercept;/* [n_problems] */

	long *confusion;        /* [n_classes * n_classes], row = true, col = predicted */
	size_t n_classes;

	/* permutations: null scores [n_perm * n_keys] (mean over folds) and the
	 * p-values (1 + #null >= observed) / (n_perm + 1) per key and for the mean */
	long n_perm;
	double *null_scores;
	double *p_value;        /* [n_keys] */
	double p_value_mean;
} nidec_outcome;

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

/* Run one task.  On success *res is a new result (free with
 * nidec_result_free).  A numerical failure inside the task is a result with
 * a status, not an error of this call.  Memory (svc, dcd): the task's
 * training rows in the solver's form (float32 rows, or a Gram matrix and
 * double rows), the standardised test rows in double, and the result. */
int nidec_task_run(const nidec_plan *plan, size_t t, nidec_result **res, nidec_err *err);

/* Fit f's weights and intercept as a dense vector out[r->n_coef] (a sparse
 * result's missing voxels are 0).  r->n_coef > 0. */
void nidec_result_coef(const nidec_result *r, size_t f, double *out);

/* Serialise a result to bytes (for MPI and the checkpoint ledger), and back. */
int nidec_result_pack(const nidec_result *r, void **buf, size_t *len, nidec_err *err);
/* The bytes nidec_result_pack would produce, or -1 if that overflows. */
int nidec_result_packed_size(const nidec_result *r, size_t *bytes);
int nidec_result_unpack(const void *buf, size_t len, nidec_result **r, nidec_err *err);
void nidec_result_free(nidec_result **r);

/* Rank 0: combine the results of every task (results[t] for task t) into
 * the outcome.  Fails if a task failed (its message is passed on).  The
 * results stay the caller's. */
int nidec_plan_reduce(const nidec_plan *plan, nidec_result *const *results,
		      nidec_outcome **out, nidec_err *err);
void nidec_outcome_free(nidec_outcome **out);

/*
 * The same reduce, incrementally, so that rank 0's memory does not grow
 * with the number of permutations: results are handed over one by one as
 * they are stored in the table (any order); when the last result of a
 * permutation is in, that permutation is reduced (permutation 0: scores,
 * predictions, weights; p > 0: its row of null scores) and its results
 * are freed (their table entries set to NULL).  The outcome is the same
 * bits as nidec_plan_reduce's.
 *
 *     nidec_reducer_create(plan, &rd, &err);
 *     for each stored result t: nidec_reducer_add(rd, results, t, &err);
 *     nidec_reducer_finish(rd, &outcome, &err);    every permutation reduced
 *     nidec_reducer_free(&rd);
 *
 * nidec_reducer_add fails (and the run should stop) if the permutation it
 * completes holds a failed task (its message is passed on), or if t was
 * given before.  nidec_reducer_done(rd, t) is 1 once t's permutation is
 * reduced (its result gone from the table: the task is done).  Memory:
 * the outcome (the null scores, n_perm x classes, included), a count per
 * permutation, and the results of permutations not yet complete.
 */
typedef struct nidec_reducer nidec_reducer;

int nidec_reducer_create(const nidec_plan *plan, nidec_reducer **out, nidec_err *err);
int nidec_reducer_add(nidec_reducer *rd, nidec_result **results, size_t t, nidec_err *err);
int nidec_reducer_done(const nidec_reducer *rd, size_t t);
/* The outcome, once every permutation is reduced (else NIDEC_EINTERNAL). */
int nidec_reducer_finish(nidec_reducer *rd, nidec_outcome **out, nidec_err *err);
/* NULL-safe; *rd = NULL. */
void nidec_reducer_free(nidec_reducer **rd);

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

#endif
