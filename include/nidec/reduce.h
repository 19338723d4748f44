/*
 * reduce.h - rank 0's reduce of a plan's task results into its outcome
 * (src/core/reduce.c): the whole table at once, or incrementally as the
 * results arrive, so that memory does not grow with the permutations.
 * Not collective: the scheduler (sched.h) brings the results to rank 0.
 */
#ifndef NIDEC_REDUCE_H
#define NIDEC_REDUCE_H

#include <stddef.h>

#include "nidec/err.h"
#include "nidec/outcome.h"
#include "nidec/plan.h"
#include "nidec/result.h"

/* Rank 0: combine the results of every task (results[t] for task t) into
 * the outcome.  Fails if a task failed (its message is passed on).  The
 * results stay the caller's. */
int nidec_plan_reduce(const nidec_plan *plan, nidec_result *const *results,
		      nidec_outcome **out, nidec_err *err);

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

#endif
