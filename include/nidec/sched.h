/*
 * sched.h - run the tasks of a plan on every rank and gather their results
 * on rank 0, indexed by task id.
 *
 * Scheme (dynamic master/worker, as guided self-scheduling):
 *  - Rank 0 orders the tasks still to run by group (for a plan, the
 *    permutation: nidec_plan_task_group), then by nidec_plan_task_cost(),
 *    largest first (ties by task id), and hands out chunks of task ids from
 *    the front of that order; chunks shrink as the queue empties (remaining
 *    / (4 x ranks), at most NIDEC_SCHED_MAX_CHUNK ids), and each worker
 *    holds up to two chunks so it never waits for rank 0 between them.
 *  - Workers run nidec_task_run() on each id, pack every result
 *    (nidec_result_pack) and send them back per chunk, in messages of at
 *    most NIDEC_COMM_MAX_MSG bytes.
 *  - Rank 0 works too: between messages it runs single tasks from the
 *    *back* of the order (the cheapest), so it answers workers quickly.
 *    With one rank it runs everything in order, without any message.  For a plan
 *    (nidec_sched_run), rank 0 first runs the tasks whose results carry
 *    the weights (the outer folds' fits on the true labels), up to half
 *    its share of the work, so those large results are never sent (a
 *    worker would wait in a blocking send for rank 0's current task).
 *  - Results land in results[task id]; nidec_plan_reduce() then reads them
 *    in id order, so outputs never depend on the rank count, the schedule
 *    or the order of completion (STYLE.md "Determinism").
 *
 * Resume: entries of `results` that are non-NULL on entry (e.g. read back
 * from a checkpoint ledger), and tasks opts->is_done says are done, are
 * not run again.  Every result that arrives is passed to opts->on_result
 * (rank 0, arrival order) before it is stored, which is where a ledger
 * appends, and to opts->on_stored after, which may reduce and free it.
 *
 * Failure: a task whose *result* has a non-zero status is stored like any
 * other (the reduce reports it).  A failing *call* (out of memory, MPI)
 * on any rank stops the hand-out; workers end their chunk after the task
 * they are running, rank 0 drains what is in flight (storing it: every
 * finished result is kept and passed to on_result), every rank leaves the
 * loop and the ranks agree on the error (nidec_comm_agree), so no rank
 * hangs and every rank returns the same status.
 * opts->should_stop (rank 0, polled between tasks and while waiting for
 * workers; e.g. SIGTERM) ends the run the same way with NIDEC_EINTR once
 * the tasks being run have arrived.
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
 * per task its cost and place in the order (16 bytes); a worker holds the packed results of
 * the chunk it runs plus those still in flight (at most
 * NIDEC_SCHED_MAX_INFLIGHT bytes).  No message exceeds NIDEC_COMM_MAX_MSG
 * (1 GiB, below MPI's INT_MAX count): a WORK message is at most 2,056
 * bytes, a RESULT message packs whole results up to that size, and a task
 * whose packed result alone would exceed it fails with an error naming
 * the task and its size, on whichever rank runs it (rank 0 checks its own
 * results too, so whether a run fails never depends on the rank count).
 *
 * Timing (opts->record_tasks, e.g. --timing): rank 0 also records, per
 * task, the rank that ran it, the result's `seconds`, the CPU seconds of
 * the task (measured by the rank that ran it and sent with the result),
 * the cost guess, the result's size and when it arrived, and per result
 * message its sender, size and rank 0's time handling it (stats below; bench/simulate.py replays them through
 * this file's policy for other rank counts).  Recording changes no result.
 */
#ifndef NIDEC_SCHED_H
#define NIDEC_SCHED_H

#include <stddef.h>

#include "nidec/comm.h"
#include "nidec/err.h"
#include "nidec/plan.h"

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
	/* rank 0 only, may be NULL: */
	int (*on_result)(void *arg, const nidec_result *r, nidec_err *err);
	int (*should_stop)(void *arg);
	void *arg;              /* passed to on_result and should_stop */
	int record_tasks;       /* 1: fill the per-task and per-message arrays of stats */
	/* rank 0 only, may be NULL: called right after results[t] is stored;
	 * it may take results out of the table (free them, set the entries
	 * to NULL), e.g. an incremental reduce (nidec_reducer_add); an error
	 * stops the run like a failing task */
	int (*on_stored)(void *arg, nidec_result **results, size_t t, nidec_err *err);
	/* rank 0 only, may be NULL: 1 if task t is done although results[t]
	 * is NULL (its result was taken out before this call, e.g. reduced
	 * while a checkpoint was read back) */
	int (*is_done)(void *arg, size_t t);
} nidec_sched_opts;

#define NIDEC_SCHED_OPTS_INIT { "tasks", 10.0, 1, NULL, NULL, NULL, 0, NULL, NULL }

/* Chunk policy (guided self-scheduling): a chunk is the tasks not handed
 * out yet / (NIDEC_SCHED_CHUNK_DIV x ranks), at least 1, at most
 * NIDEC_SCHED_MAX_CHUNK; a worker holds up to NIDEC_SCHED_CHUNKS_HELD. */
#define NIDEC_SCHED_CHUNK_DIV 4
#define NIDEC_SCHED_CHUNKS_HELD 2

typedef struct nidec_sched_stats {
	int n_ranks;
	size_t n_tasks;         /* tasks of the plan */
	size_t n_run;           /* tasks run in this call (not taken from `results`) */
	double wall;            /* seconds in nidec_sched_run, rank 0's clock */
	double *busy;           /* [n_ranks] seconds spent running and packing tasks (rank 0) */
	double *ran;            /* [n_ranks] tasks run by each rank (rank 0) */
	double efficiency;      /* sum(busy) / (n_ranks * wall), rank 0 */
	int rank0_works;        /* rank 0 ran tasks itself (opts->rank0_works or one rank) */
	/* rank 0, every run: result messages received, the largest in bytes,
	 * and rank 0's seconds completing, unpacking and storing them
	 * (on_result included) */
	size_t n_msgs;
	size_t max_msg;
	double msg_seconds;
	/* rank 0, only with opts->record_tasks (else NULL), [n_tasks] each: */
	int *task_rank;         /* rank that ran task t; -1 = taken from `results` (resume) */
	double *task_seconds;   /* the result's `seconds` (wall time of the task) */
	double *task_cost;      /* the cost guess that ordered it */
	double *task_done;      /* seconds from the start until rank 0 stored it */
	double *task_bytes;     /* size of its packed result (what a worker sends) */
	int *task_keep;         /* 1: rank 0 may keep it for itself (large result, see sched.c) */
	double *task_cpu;       /* CPU seconds of the thread that ran it (NaN: resumed) */
	/* rank 0, only with opts->record_tasks, [n_msgs] each, arrival order: */
	int *msg_from;          /* sending rank */
	double *msg_results;    /* results in the message */
	double *msg_bytes;      /* its size */
	double *msg_seconds_each; /* rank 0's time handling it */
	double *msg_at;         /* seconds from the start when it was handled */
} nidec_sched_stats;

#define NIDEC_SCHED_STATS_INIT { 0, 0, 0, 0.0, NULL, NULL, 0.0, 0, 0, 0, 0.0, \
				 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }

/* Run every task of `plan` that is not done yet.  Collective.
 * `plan` must be prepared (nidec_plan_prepare) on every rank.
 * Rank 0 passes `results`, an array of nidec_plan_n_tasks(plan) pointers
 * (NULL = to run); on success every entry is set and owned by the caller
 * (nidec_sched_results_free).  Other ranks pass NULL.  On failure the
 * entries filled so far stay in `results` (the caller frees them).
 * `stats` (may be NULL) is filled on every rank (per-rank arrays on rank 0
 * only; release with nidec_sched_stats_release). */
int nidec_sched_run(nidec_comm *comm, const nidec_plan *plan, const nidec_sched_opts *opts,
		    nidec_result **results, nidec_sched_stats *stats, nidec_err *err);

/* Any set of tasks, e.g. every subject's tasks of a sweep in one task
 * space.  `run` must be a pure function of the task id (it may run on any
 * rank, in any order) and set (*res)->task = t; `cost` is a relative guess
 * (bigger runs first).  `ctx` is passed to both. */
typedef struct nidec_task_source {
	size_t n_tasks;
	double (*cost)(void *ctx, size_t t);
	/* may be NULL (one group): tasks run by ascending group first, then
	 * by cost (see the scheme above) */
	size_t (*group)(void *ctx, size_t t);
	int (*run)(void *ctx, size_t t, nidec_result **res, nidec_err *err);
	void *ctx;
} nidec_task_source;

/* nidec_sched_run() for a task source: the same scheduling, resume and
 * failure rules, with results[t] indexed by the source's task ids.
 * Collective. */
int nidec_sched_run_source(nidec_comm *comm, const nidec_task_source *src,
			   const nidec_sched_opts *opts, nidec_result **results,
			   nidec_sched_stats *stats, nidec_err *err);

/* A zeroed array of n result pointers, or NULL with `err` set. */
nidec_result **nidec_sched_results_alloc(size_t n, nidec_err *err);
/* Free the results and the array; sets *results = NULL.  NULL-safe. */
void nidec_sched_results_free(nidec_result ***results, size_t n);

void nidec_sched_stats_release(nidec_sched_stats *stats);

/* "2m05s", "45s", "1h02m": a duration for progress and timing lines. */
void nidec_sched_format_seconds(double s, char *buf, size_t len);

#endif
