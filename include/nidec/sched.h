/*
 * sched.h - run a set of tasks on every rank and gather their results on
 * rank 0, indexed by task id.  The tasks come from a task source (below):
 * the job driver (job.h) makes one source of every subject's plan.
 *
 * Scheme (dynamic master/worker, as guided self-scheduling):
 *  - Rank 0 orders the tasks still to run by group (src->group: for a
 *    plan, subject then permutation), then by src->cost, largest first
 *    (ties by task id), and hands out chunks of task ids from the front of
 *    that order; chunks shrink as the queue empties (remaining /
 *    (4 x ranks), at most NIDEC_SCHED_MAX_CHUNK ids), and each worker holds
 *    up to two chunks so it never waits for rank 0 between them.
 *  - Workers run src->run on each id, pack every result
 *    (nidec_result_pack) and send them back per chunk, in messages of at
 *    most NIDEC_COMM_MAX_MSG bytes.
 *  - Rank 0 works too: between messages it runs single tasks from the
 *    *back* of the order (the cheapest), so it answers workers quickly.
 *    With one rank it runs everything in order, without any message.
 *    Rank 0 first runs the tasks src->keep names (for a plan, the outer
 *    folds' fits on the true labels, whose results carry the weights), up
 *    to half its share of the work, so those large results are never sent
 *    (a worker would wait in a blocking send for rank 0's current task).
 *  - Results land in results[task id]; the reduce reads them in id order,
 *    so outputs never depend on the rank count, the schedule or the order
 *    of completion (STYLE.md "Determinism").
 *
 * The callbacks of rank 0 (opts), and their order - the whole interface
 * between the scheduler and the job that runs it:
 *  1. before anything is handed out, for every task t: is_done(arg, t)
 *     unless results[t] is already set (a result read back from a
 *     checkpoint): either way the task is not run again;
 *  2. for each result that arrives (arrival order, from any rank, rank
 *     0's own included): on_result(arg, r) BEFORE it is stored - where a
 *     checkpoint ledger appends it; then results[r->task] = r; then
 *     on_stored(arg, results, t) - where an incremental reduce may take
 *     results out of the table (free them, set the entries to NULL);
 *  3. should_stop(arg), polled between tasks and while waiting for
 *     workers, after the results that arrived were stored: a job writes
 *     what is complete there; a true return stops the hand-out (e.g.
 *     SIGTERM) and the run ends with NIDEC_EINTR once the running tasks'
 *     results have arrived (and went through 2).
 * An error returned by on_result or on_stored stops the run like a
 * failing task.  Other ranks get no callback.
 *
 * Failure: a task whose *result* has a non-zero status is stored like any
 * other (the reduce reports it).  A failing *call* (out of memory, MPI)
 * on any rank stops the hand-out; workers end their chunk after the task
 * they are running, rank 0 drains what is in flight (storing it: every
 * finished result is kept and passed to on_result), every rank leaves the
 * loop and the ranks agree on the error (nidec_comm_agree), so no rank
 * hangs and every rank returns the same status.
 *
 * Checkpoints: a worker posts its finished results at least every
 * NIDEC_SCHED_PART_SECONDS, so on_result sees every result at most that
 * long (plus one message) after it was computed, whatever the chunk size.
 *
 * Test hook: NIDEC_TEST_TASK_DELAY=SECONDS in the environment makes every
 * task sleep that long after running (e2e tests that kill a run in the
 * middle); results do not change.
 *
 * Memory: rank 0 holds every result on_stored leaves in the table, and
 * per task its cost and place in the order (16 bytes); a worker holds the
 * packed results of the chunk it runs plus those still in flight (at most
 * NIDEC_SCHED_MAX_INFLIGHT bytes).  No message exceeds NIDEC_COMM_MAX_MSG
 * (1 GiB, below MPI's INT_MAX count): a WORK message is at most 2,056
 * bytes, a RESULT message packs whole results up to that size, and a task
 * whose packed result alone would exceed it fails with an error naming
 * the task and its size, on whichever rank runs it (rank 0 checks its own
 * results too, so whether a run fails never depends on the rank count).
 *
 * Timing (timing.h): given a nidec_timing, every rank gets the wall time
 * and rank 0 the busy time and tasks of each rank and the message
 * totals; with opts->record_tasks (--timing) rank 0 also records, per
 * task, the rank that ran it, the result's `seconds`, the CPU seconds of
 * the task (measured by the rank that ran it and sent with the result),
 * the cost guess, the result's size and when it arrived, and per result
 * message its sender, size and rank 0's time handling it (bench/simulate.py
 * replays them through this file's policy for other rank counts).
 * Recording changes no result.
 */
#ifndef NIDEC_SCHED_H
#define NIDEC_SCHED_H

#include <stddef.h>

#include "nidec/comm.h"
#include "nidec/err.h"
#include "nidec/result.h"
#include "nidec/timing.h"

/* Task ids per chunk message, at most (keeps a chunk message under 4 KiB,
 * below Open MPI's eager limits, so rank 0 never blocks sending one). */
#define NIDEC_SCHED_MAX_CHUNK 256
/* A worker posts the results it holds when its last post is this old. */
#define NIDEC_SCHED_PART_SECONDS 2.0
/* Result bytes a worker may have in flight before it waits for rank 0. */
#define NIDEC_SCHED_MAX_INFLIGHT ((size_t)256 << 20)

typedef struct nidec_sched_opts {
	const char *label;      /* progress prefix ("cv"), NULL = "tasks" */
	double progress;        /* seconds between progress lines on rank 0, 0 = off */
	int rank0_works;        /* 1: rank 0 runs tasks between messages (default) */
	int record_tasks;       /* 1: fill the task and message tables of the timing */
	/* rank 0 only, each may be NULL; their order is in the file comment */
	int (*is_done)(void *arg, size_t t);
	int (*on_result)(void *arg, const nidec_result *r, nidec_err *err);
	int (*on_stored)(void *arg, nidec_result **results, size_t t, nidec_err *err);
	int (*should_stop)(void *arg);
	void *arg;              /* passed to each */
} nidec_sched_opts;

#define NIDEC_SCHED_OPTS_INIT { "tasks", 10.0, 1, 0, NULL, NULL, NULL, NULL, NULL }

/* Chunk policy (guided self-scheduling): a chunk is the tasks not handed
 * out yet / (NIDEC_SCHED_CHUNK_DIV x ranks), at least 1, at most
 * NIDEC_SCHED_MAX_CHUNK; a worker holds up to NIDEC_SCHED_CHUNKS_HELD. */
#define NIDEC_SCHED_CHUNK_DIV 4
#define NIDEC_SCHED_CHUNKS_HELD 2

/* The tasks to run: any set, e.g. every subject's tasks of a sweep in one
 * task space.  `run` must be a pure function of the task id (it may run
 * on any rank, in any order) and set (*res)->task = t. */
typedef struct nidec_task_source {
	size_t n_tasks;
	/* a relative cost guess (bigger runs first) */
	double (*cost)(void *ctx, size_t t);
	/* may be NULL (one group): tasks run by ascending group first, then
	 * by cost (see the scheme above) */
	size_t (*group)(void *ctx, size_t t);
	/* may be NULL: 1 if rank 0 should run task t itself (a large result) */
	int (*keep)(void *ctx, size_t t);
	int (*run)(void *ctx, size_t t, nidec_result **res, nidec_err *err);
	void *ctx;              /* passed to each */
} nidec_task_source;

/* Run every task of `src` that is not done yet.  Collective; every rank
 * passes the same source (its callbacks read each rank's own data).
 * Rank 0 passes `results`, an array of src->n_tasks pointers (NULL = to
 * run); on success every entry is set or was taken out by on_stored, and
 * what is left is the caller's (nidec_sched_results_free).  Other ranks
 * pass NULL.  On failure the entries filled so far stay in `results`.
 * `tm` (may be NULL) gets the timing described above (release it with
 * nidec_timing_release). */
int nidec_sched_run(nidec_comm *comm, const nidec_task_source *src, const nidec_sched_opts *opts,
		    nidec_result **results, nidec_timing *tm, nidec_err *err);

/* A zeroed array of n result pointers, or NULL with `err` set. */
nidec_result **nidec_sched_results_alloc(size_t n, nidec_err *err);
/* Free the results and the array; sets *results = NULL.  NULL-safe. */
void nidec_sched_results_free(nidec_result ***results, size_t n);

#endif
