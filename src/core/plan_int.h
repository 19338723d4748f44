/*
 * plan_int.h - the inside of a nidec_plan, shared by plan.c (building the
 * task space), task.c (running one task) and reduce.c (combining results).
 * Private to src/core; the contract is include/nidec/plan.h.
 */
#ifndef NIDEC_PLAN_INT_H
#define NIDEC_PLAN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/folds.h"
#include "nidec/plan.h"
#include "nidec/reduce.h"
#include "nidec/task.h"
#include "nidec/prep.h"

/* How C is selected (README "Model selection"). */
enum plan_mode {
	MODE_NESTED,          /* inner folds score every C; outer fits refit every C */
	MODE_TESTFOLD,        /* nilearn: every C scored on the outer test fold */
	MODE_TESTFOLD_INNER   /* nilearn Decoder inside an outer split: inner folds
			       * pick C, fold model = mean of the picked models */
};

/* Where the standardisation statistics of a task come from. */
enum plan_std {
	STD_OFF,     /* standardize = none */
	STD_GLOBAL,  /* all samples, once, in nidec_plan_prepare (nilearn) */
	STD_PER_FIT, /* the training rows of the task's fit (default) */
	STD_OUTER    /* the outer training part; outer test on its own (scope all)
		      * or on the training statistics (scope train) */
};

/* Tags mixed into seeds, so streams of different purposes never collide. */
#define PLAN_TAG_PERM 0x7065726dULL /* 'perm' */
#define PLAN_TAG_FIT 0x66697421ULL  /* 'fit!' */

struct nidec_plan {
	size_t n, p, K, n_problems;
	int *y;               /* [n] class index */
	int *runs;            /* [n] or NULL */
	double *target;       /* [n] regression targets, or NULL: classification */
	double *alphas;       /* [n_alphas] ridge's grid */
	size_t n_alphas;
	int lasso_n_alphas;   /* lasso's path length */
	double epsilon;       /* svr's tube */
	int svr_solver;       /* svr's: enum nidec_svr_solver (regress.h) */
	char **class_names;   /* [K] */
	double *C;            /* [n_C] */
	size_t n_C;

	int estimator, solver, scoring, standardize, scope, compat, permute_within;
	int f32;              /* nilearn float32 standardisation */
	double tol;
	long n_perm;          /* permutations besides the true labels */
	uint64_t seed;
	double screen_pct;    /* effective percentile, >= 100 = no screening */
	int l1_grid;          /* nilearn svc_l1: C x 2 x l1_min_c of the training part */
	int mode;             /* enum plan_mode */
	int outer_scheme;     /* enum nidec_scheme, for messages */
	int std_mode;         /* enum plan_std */

	nidec_folds outer;
	nidec_folds *inner;   /* [outer.n], empty in MODE_TESTFOLD */
	size_t n_inner_max;

	/* task numbering: t = perm * block + fold_off[f] + unit * tpu + q',
	 * unit 0 = the outer fit (if has_outer_fit), then the inner folds.
	 * tpu = 1: a task fits every problem and every C of its unit (fit
	 * q * n_C + c, q' = 0); tpu = n_problems: one task per problem of the
	 * unit (q' = q, fit c), chosen by layout_tasks when the unit's work is
	 * all in the fits (plan-wide Gram matrix), so that the scheduler can
	 * balance many small tasks. */
	int has_outer_fit;
	size_t *fold_off;     /* [outer.n + 1] */
	size_t n_units;       /* training parts per permutation */
	size_t tpu;           /* tasks per unit: 1 or n_problems */
	int no_split;         /* tests: never one task per problem */
	size_t block;         /* tasks per permutation: n_units * tpu */
	size_t n_tasks;
	size_t n_fit;         /* fits per task: n_problems * n_C / tpu */

	/* solver of svc + dcd (see task.c): form rule and warm start */
	int form;             /* PLAN_FORM_* */
	int warm;             /* 1: each C starts from the previous C's solution */

	const float *X;       /* borrowed, set by nidec_plan_prepare */
	nidec_scaler global;  /* STD_GLOBAL */
	/* STD_PER_FIT in double with runs: per-run statistics, so that a
	 * training part made of whole runs gets its scaler without a pass
	 * over its rows (nidec_plan_prepare, task.c) */
	nidec_runstats runstats;
	int *run_of;          /* [n] run index 0..runstats.n_runs-1, or NULL */
	/* STD_GLOBAL, no screening, kernel form: the standardised matrix and
	 * its Gram matrix (+1) over all samples, shared by every task */
	double *Zg;           /* [n * p] or NULL */
	double *Kg;           /* [n * n] or NULL */
	void *gram_mem;       /* the allocation holding Zg and Kg */

	/* per-rank scratch memory reused from task to task (solver rows, the
	 * kernel solver's block), so that large buffers are not mapped and
	 * faulted in again by every task; contents never carry from one task
	 * to the next */
	struct plan_scratch *scratch;
};

struct plan_scratch {
	float *x;             /* solver rows of a group of problems */
	size_t x_cap;         /* floats */
	void *x_mem;          /* the allocation holding x (in huge pages, bigmem.h) */
	double *kb;           /* the kernel solver's block (nidec_dcd_problem.kbuf) */
	size_t kb_cap;        /* doubles */
	void *kb_mem;         /* the allocation holding kb */
};

/* A scratch buffer of at least n floats (contents undefined), or NULL with
 * err set.  Valid until the next call or nidec_plan_free. */
float *plan_scratch_floats(const struct nidec_plan *pl, size_t n, nidec_err *err);

/* The same for the kernel solver's block: n doubles, in huge pages. */
double *plan_scratch_kblock(const struct nidec_plan *pl, size_t n, nidec_err *err);

/* Solver forms for svc + dcd: automatic (task.c's rule), or forced. */
enum { PLAN_FORM_AUTO = 0, PLAN_FORM_PRIMAL = 1, PLAN_FORM_KERNEL = 2 };

/* +1/-1 label of sample i for problem q given class labels y. */
static inline signed char plan_ypm(const struct nidec_plan *pl, const int *y, size_t i, int q)
{
	int pos = pl->K == 2 ? 1 : q;

	return y[i] == pos ? 1 : -1;
}


/* Targets of permutation perm (regression; perm 0: a copy of the true
 * targets), shuffled as plan_labels shuffles labels. */
int plan_targets(const struct nidec_plan *pl, long perm, double *t, nidec_err *err);

/* The score of decisions dec[0..n) on samples rows[0..n) for problem q
 * under permutation perm: classification from labels y (ypm: scratch of
 * n), regression from the permutation's targets. */
int plan_score(const struct nidec_plan *pl, long perm, const int *y, int q, const size_t *rows,
	       size_t n, const double *dec, signed char *ypm, double *score, nidec_err *err);

/* Labels of permutation perm (perm 0: a copy of the true labels). */
int plan_labels(const struct nidec_plan *pl, long perm, int *y, nidec_err *err);

/* 1 if rows[0..m) are whole runs: every run they touch lies entirely
 * inside (run_of[i]: sample i's run index; run_size[r]: samples of run r;
 * seen: scratch of n_runs). */
int plan_whole_runs(const int *run_of, const size_t *rows, size_t m, const size_t *run_size,
		    size_t n_runs, size_t *seen);

/* Describe task t ("permutation 0, fold 3 (run 3), inner fold 2, class 'face', C = 10"). */
void plan_task_desc(const struct nidec_plan *pl, const nidec_task *tk, char *buf, size_t len);

/* Task id of (perm, outer, inner); inner -1 = the outer fit.  With one
 * task per problem (tpu > 1), the task of problem 0. */
size_t plan_task_id(const struct nidec_plan *pl, long perm, int outer, int inner);

/* Task id holding fit (q, c) of unit (perm, outer, inner), and the index of
 * that fit in the task's result. */
static inline size_t plan_fit_task(const struct nidec_plan *pl, long perm, int outer, int inner,
				   size_t q)
{
	return plan_task_id(pl, perm, outer, inner) + (pl->tpu > 1 ? q : 0);
}

static inline size_t plan_fit_index(const struct nidec_plan *pl, size_t q, size_t c)
{
	return (pl->tpu > 1 ? 0 : q) * pl->n_C + c;
}

/* 1 if task.c will solve the plan's problems in kernel form with the
 * plan-wide Gram matrix (decided in nidec_plan_prepare). */
int plan_use_global_gram(const struct nidec_plan *pl);

/* The kernel/primal rule for l training samples and d features (constant
 * included), the Gram shared by `share` problems. */
int plan_kernel_form(const struct nidec_plan *pl, size_t l, size_t d, size_t share);

#endif
