/*
 * guard.h - what the job driver promises about a subject's files (private
 * to src/job; docs/ERRORS.md "What nidec promises about your files"):
 *  - its output directory is locked for the whole job (lock.h), so two
 *    runs never write into one directory;
 *  - none of the files it may write (every existing file of its output
 *    directory named as nidec's outputs are, the checkpoint) is one of its
 *    inputs (file.h, by device and inode);
 *  - files of an earlier run that this run does not write again are
 *    removed once its own outputs are in place, and listed in the log;
 *  - a task count whose tables would not fit in memory is refused before
 *    anything is written, and a very large one is announced.
 * Rank 0 calls these (not collective); job.c agrees on the outcome.
 */
#ifndef NIDEC_JOB_GUARD_H
#define NIDEC_JOB_GUARD_H

#include <stddef.h>

#include "nidec/cfg.h"
#include "nidec/err.h"
#include "nidec/file.h"
#include "nidec/lock.h"

/* One subject's guards. */
typedef struct nidec_guard {
	nidec_lock *lock;
	int made_dir;        /* the output directory was created by this run */
	char **earlier;      /* files of an earlier run found at the start */
	unsigned long long *dev, *ino;
	size_t n_earlier;
} nidec_guard;

#define NIDEC_GUARD_INIT { NULL, 0, NULL, NULL, NULL, 0 }

/* Is `name` (a file name, no directory) one that nidec writes into an
 * output directory (scores.tsv, weights_*.nii.gz, searchlight_*.nii.gz,
 * report.html, ...)? */
int nidec_guard_is_output_name(const char *name);

/*
 * Before anything is written for a subject: create its output directory
 * (remembering that this run made it), check that neither it nor any
 * file the run may write there is one of the subject's inputs (its NIfTI
 * inputs when `convert`, else `dataset`; the config; the folds file), take
 * its lock, and list the files of an earlier run.  `who` prefixes the log
 * lines ("sub-01: " or "").  On failure nothing is held.
 */
int nidec_guard_open(nidec_guard *g, const nidec_cfg *cfg, const char *dataset, int convert,
		     const char *who, nidec_err *err);

/* After the subject's outputs are written: remove the earlier files that
 * were not written again, listing them (info); a file that cannot be
 * removed is a warning. */
void nidec_guard_clean(nidec_guard *g, const char *dir, const char *who);

/* Release the lock; if the run made the directory and failed (`failed`),
 * remove it when it is empty.  Leaves g as NIDEC_GUARD_INIT. */
void nidec_guard_close(nidec_guard *g, const char *dir, int failed);

/* Bytes rank 0 needs per task to schedule, store and reduce a run's
 * tasks (the result table, the scheduler's cost and order arrays, a
 * checkpoint read back). */
#define NIDEC_GUARD_TASK_BYTES 64

/*
 * A run of n_tasks tasks: an error when rank 0's tables would take more
 * than 80 % of this node's memory (the message says how much and what to
 * lower), a warning (stored with the subject's) when more than 1 GiB or
 * 10^6 tasks.  `what` describes the plan (analysis' describe line).
 */
int nidec_guard_task_count(const nidec_cfg *cfg, size_t n_tasks, const char *what,
			   const char *who, nidec_err *err);

#endif
