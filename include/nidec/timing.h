/*
 * timing.h - what `--timing` measures of a job, in one struct: the
 * scheduler fills it (sched.h: per rank, per task, per result message),
 * the job driver adds its stage times (job.h), and the writers read it by
 * pointer (summary.json "timing", results.h5 /timing; docs/FORMAT.md
 * "Timing"; bench/simulate.py replays the task and message tables).
 *
 * Plain data, owned by whoever holds the struct: init with
 * NIDEC_TIMING_INIT, free with nidec_timing_release (which leaves it
 * empty and reusable).  Arrays are NULL when not recorded: per rank on
 * rank 0 only; per task and per message only when the job records tasks.
 * Recording changes no result.  Not collective; libc only.
 */
#ifndef NIDEC_TIMING_H
#define NIDEC_TIMING_H

#include <stddef.h>

/* Bytes kept of a host name (with the NUL). */
#define NIDEC_TIMING_HOST 64

/* One task, as rank 0 saw it. */
typedef struct nidec_task_timing {
	int rank;          /* rank that ran it; -1 = taken from the checkpoint (resumed) */
	int keep;          /* 1: rank 0 may keep it for itself (a large result, sched.c) */
	double seconds;    /* wall time of the task (the result's `seconds`) */
	double cost;       /* the cost guess that ordered it */
	double done;       /* seconds from the start until rank 0 stored it */
	double bytes;      /* size of its packed result (what a worker sends) */
	double cpu;        /* CPU seconds of the thread that ran it (NaN: resumed) */
} nidec_task_timing;

/* One result message rank 0 received, in arrival order. */
typedef struct nidec_msg_timing {
	int from;          /* sending rank */
	double results;    /* results in the message */
	double bytes;      /* its size */
	double seconds;    /* rank 0's time handling it */
	double at;         /* seconds from the start when it was handled */
} nidec_msg_timing;

/* The job's stages, in order (job.c). */
enum { NIDEC_STAGE_READ, NIDEC_STAGE_PLAN, NIDEC_STAGE_PREPARE, NIDEC_STAGE_CV,
       NIDEC_STAGE_REDUCE, NIDEC_STAGE_WRITE, NIDEC_N_STAGES };

typedef struct nidec_timing {
	/* the scheduler (every rank) */
	int n_ranks;
	size_t n_tasks;            /* tasks of the job */
	size_t n_run;              /* tasks run (not read back from a checkpoint) */
	double wall;               /* seconds scheduling, rank 0's clock */
	double efficiency;         /* sum(busy) / (n_ranks * wall), rank 0 */
	int rank0_works;           /* rank 0 ran tasks itself */
	/* rank 0 */
	double *busy;              /* [n_ranks] seconds running and packing tasks */
	double *ran;               /* [n_ranks] tasks run */
	char *host;                /* [n_ranks * NIDEC_TIMING_HOST]: rank r's host (the node it
				    * ran on) at host + r * NIDEC_TIMING_HOST, or NULL */
	size_t n_msgs;             /* result messages received */
	size_t max_msg;            /* bytes of the largest */
	double msg_seconds;        /* rank 0's seconds completing, unpacking and storing them */
	nidec_task_timing *task;   /* [n_tasks], or NULL: tasks not recorded */
	nidec_msg_timing *msg;     /* [n_msgs], or NULL */
	/* the driver: seconds per stage over the ranks (write: rank 0's, as
	 * far as it is known when the files are written) */
	double stage_min[NIDEC_N_STAGES], stage_max[NIDEC_N_STAGES], stage_mean[NIDEC_N_STAGES];
	size_t n_stages;           /* stages measured so far (0: none) */
} nidec_timing;

#define NIDEC_TIMING_INIT { 0, 0, 0, 0.0, 0.0, 0, NULL, NULL, NULL, 0, 0, 0.0, NULL, NULL, \
			    { 0 }, { 0 }, { 0 }, 0 }

/* Name of stage s ("read", "plan", "prepare", "cv", "reduce", "write"). */
const char *nidec_timing_stage_name(int s);

/* Free the arrays; *t is left as NIDEC_TIMING_INIT.  NULL-safe. */
void nidec_timing_release(nidec_timing *t);

/* "2m05s", "45s", "1h02m": a duration for progress and timing lines. */
void nidec_format_seconds(double s, char *buf, size_t len);

#endif
