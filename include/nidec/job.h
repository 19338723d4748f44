/*
 * job.h - the job driver: a list of subjects, each with an analysis, run
 * through conversion, loading, one task space over every rank, the
 * checkpoint ledgers, the incremental reduce and the outputs.
 * `nidec run` and `nidec cv` are a job of one subject, `nidec sweep` a job
 * of many; what a subject computes is its analysis (below), so a new
 * analysis is a new set of operations, not a new pipeline.
 *
 * The phases, in order (src/job/job.c; each ends with the ranks agreeing
 * on what failed, so no rank waits in a collective another one left):
 *  0. guard     before anything is written, rank 0 checks each subject's
 *               output directory and the files it may write there against
 *               the subject's inputs and locks the directory for the whole
 *               job (src/job/guard.h, lock.h): a second run into it fails
 *               at once naming this one; a subject's earlier-run files it
 *               does not write again are removed once it is written;
 *  1. convert   subject s's NIfTI inputs become its dataset on rank
 *               s % ranks (reused when its recorded input hashes match);
 *  2. keep      with opts.resume and opts.keep_current, rank 0 keeps the
 *               subjects whose outputs are complete and current;
 *  3. load      every rank reads every remaining subject's dataset itself
 *               and builds its plan (every check that needs the labels;
 *               a task count too large for rank 0's memory is refused);
 *  4. open      rank 0 creates the output directory and the subject's
 *               checkpoint ledger (<dir>/results.ledger; with resume, the
 *               results it holds are read back and not run again);
 *  5. prepare   per-rank preparation of the data (analysis.prepare);
 *  6. run       every subject's tasks in one task space (global id = the
 *               subject's offset + its own id) through nidec_sched_run;
 *               rank 0 appends each result to its subject's ledger and
 *               hands it to the subject's incremental reduce; a subject
 *               whose last result is in is written at the scheduler's next
 *               poll (with opts.timing: after the run, so that its files
 *               carry the run's timing) and its ledger folded into its
 *               results.h5; SIGTERM, SIGUSR1 or SIGINT stop the hand-out
 *               and the job returns NIDEC_EINTR with every finished
 *               subject written and every finished task saved;
 *  7. timing    with opts.timing, the stage table over the ranks.
 * Nothing is written into a subject's output directory before its plan
 * is known to be valid (the dataset excepted), so a bad config leaves no
 * outputs behind.
 *
 * Failures: a subject with a label (a sweep's) fails alone - its status
 * and message are set on every rank and the job goes on; the job's
 * return value is negative only when the job itself cannot go on (out of
 * memory, MPI, interrupted).  A subject without a label (the one subject
 * of `run` and `cv`) fails the job: its error is returned.
 *
 * Determinism: a task's result is a pure function of its subject's plan
 * and own task id, and each subject is reduced in its own id order, so a
 * subject's files are byte-identical alone or in a sweep, for any number
 * of ranks, resumed or not.
 *
 * Warnings: what a subject's data made nidec warn about (converting,
 * loading, planning: docs/ERRORS.md "What nidec promises about your
 * files") is shown on rank 0 - the warnings of the rank that
 * converted it too, with that rank named - and stored in its
 * summary.json ("warnings").  Warnings about the run itself (a checkpoint
 * replaced, a torn record dropped) are only shown: a resumed run's files
 * are those of an uninterrupted one.
 *
 * Memory: every rank holds every running subject's data (any rank may run
 * any task); rank 0 also holds the results of the permutations not yet
 * reduced, and drops a subject's data once it is written.
 */
#ifndef NIDEC_JOB_H
#define NIDEC_JOB_H

#include <stddef.h>

#include "nidec/cfg.h"
#include "nidec/comm.h"
#include "nidec/err.h"
#include "nidec/result.h"
#include "nidec/sbuf.h"
#include "nidec/timing.h"

/* What the outputs record about the run besides the analysis. */
typedef struct nidec_job_provenance {
	const char *ledger_path;    /* the ledger to fold into results.h5, or NULL */
	int n_ranks;
	const char *mpi_version;    /* nidec_comm_library_version() */
	const nidec_timing *timing; /* NULL unless --timing */
	const char *warnings;       /* the subject's warnings, one per line, or NULL */
} nidec_job_provenance;

/*
 * An analysis: what one subject computes, as operations on its state
 * (opaque to the driver).  The driver calls them in the order of the
 * phases above: load and prepare on every rank; the task operations on
 * whichever rank runs a task; reduce_*, write, print and summary on rank
 * 0 only; free everywhere.  Every operation but the const ones may fail
 * with `err` set; a failure is the subject's (see "Failures").
 */
typedef struct nidec_analysis nidec_analysis;

typedef struct nidec_analysis_ops {
	const char *name;
	/* read `dataset` and select the samples */
	int (*load)(const nidec_cfg *cfg, const char *dataset, nidec_analysis **out, nidec_err *err);
	/* build and check the plan (every check that needs the labels) */
	int (*plan)(nidec_analysis *a, nidec_err *err);
	/* one line for -v: samples, features, classes, folds, tasks */
	void (*describe)(const nidec_analysis *a, char *buf, size_t len);
	/* the dataset's reuse key (a checkpoint is only continued with it) */
	const char *(*inputs_sha256)(const nidec_analysis *a);
	/* per-rank preparation before tasks run */
	int (*prepare)(nidec_analysis *a, nidec_err *err);
	/* the task space (task ids 0..n_tasks-1; see sched.h's task source) */
	size_t (*n_tasks)(const nidec_analysis *a);
	double (*task_cost)(const nidec_analysis *a, size_t t);
	size_t (*task_group)(const nidec_analysis *a, size_t t);
	int (*task_keep)(const nidec_analysis *a, size_t t);
	int (*task_run)(nidec_analysis *a, size_t t, nidec_result **res, nidec_err *err);
	/* rank 0: the incremental reduce.  reduce_add takes results[t] (any
	 * order; it may free results of the table, see reduce.h);
	 * reduce_done(t) is 1 once t's result was reduced and freed;
	 * reduce_finish makes the outcome, after which drop_data may free
	 * what only the tasks needed. */
	int (*reduce_start)(nidec_analysis *a, nidec_err *err);
	int (*reduce_add)(nidec_analysis *a, nidec_result **results, size_t t, nidec_err *err);
	int (*reduce_done)(const nidec_analysis *a, size_t t);
	int (*reduce_finish)(nidec_analysis *a, nidec_err *err);
	void (*drop_data)(nidec_analysis *a);
	/* rank 0: every output file into cfg->dir (results.h5 with the
	 * ledger prov->ledger_path folded in); then, once the driver removed
	 * the ledger, report.html (unless [output] report = false; a failing
	 * report is a warning: the results are complete without it) */
	int (*write)(nidec_analysis *a, const nidec_cfg *cfg, const nidec_job_provenance *prov,
		     nidec_err *err);
	int (*report)(const nidec_analysis *a, const nidec_cfg *cfg, const char *dataset,
		      nidec_err *err);
	/* rank 0: the result table and the files written, on stdout */
	void (*print)(const nidec_analysis *a, const nidec_cfg *cfg, int wrote_report);
	/* rank 0: the scores in one line for the log ("roc_auc face 0.91 ...") */
	int (*summary)(const nidec_analysis *a, const nidec_cfg *cfg, nidec_sbuf *line);
	void (*free)(nidec_analysis **a);
} nidec_analysis_ops;

/* The decoder (nilearn's Decoder): src/job/decoder.c. */
extern const nidec_analysis_ops nidec_decoder_analysis;
/* The searchlight (nilearn's SearchLight): src/job/searchlight.c. */
extern const nidec_analysis_ops nidec_searchlight_analysis;

typedef struct nidec_job_subject {
	const char *label;          /* "01": a sweep's subject; NULL: the only one */
	const nidec_cfg *cfg;       /* finished config; its [output] dir is the subject's */
	const char *dataset;        /* the dataset's path */
	int convert;                /* 1: convert the NIfTI inputs into `dataset` first */
	const nidec_analysis_ops *analysis;
	/* set by nidec_job_run, the same on every rank: */
	int status;                 /* 0, or the NIDEC_E* code of its failure */
	char *error;                /* its message (nidec_job_subject_release) */
	int kept;                   /* --resume: its outputs were current, kept */
	int written;                /* rank 0: its outputs were written */
} nidec_job_subject;

/* Free `error`, leave the subject reusable. */
void nidec_job_subject_release(nidec_job_subject *s);

typedef struct nidec_job_opts {
	const char *label;          /* progress prefix ("cv", "sweep") */
	double progress;            /* seconds between progress lines, 0 = off */
	int force;                  /* convert again even if a dataset is current */
	int resume;                 /* continue from the checkpoints */
	int keep_current;           /* with resume: keep subjects whose outputs are current */
	int timing;                 /* --timing: stage and task tables, in the outputs too */
	int print;                  /* rank 0 prints each subject's result table (run, cv) */
} nidec_job_opts;

#define NIDEC_JOB_OPTS_INIT { "tasks", 10.0, 0, 0, 0, 0, 0 }

/* Run the job.  Collective: every rank passes the same subjects, configs
 * and options.  Returns 0 (failed labelled subjects are marked), or the
 * status every rank agreed on with `err` set (print it with
 * nidec_cli_fail).  NIDEC_EINTR: stopped by a signal, the checkpoints
 * saved; the message says how to go on. */
int nidec_job_run(nidec_comm *comm, nidec_job_subject *sub, size_t n, const nidec_job_opts *opt,
		  nidec_err *err);

#endif
