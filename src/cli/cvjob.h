/*
 * cvjob.h - the cross-validation job shared by `nidec cv` and `nidec run`
 * (private to src/cli).
 *
 * One call does, on every rank: read the dataset (each rank itself, no
 * matrix broadcast), keep the samples of [data] conditions, build and check
 * the plan, then - only if every check passed on every rank - create the
 * output directory (rank 0), run the tasks (sched.h), reduce and write the
 * outputs (rank 0) and print the result table on stdout (rank 0).
 * Nothing is written before the plan is known to be valid, so a bad config
 * leaves no output behind.
 *
 * Checkpoints (README "Checkpoint and resume"): rank 0 appends every
 * finished task result to <dir>/results.ledger (ledger.h) as it arrives;
 * with `resume` the results found there are not run again.  A SIGTERM,
 * SIGUSR1 or SIGINT (signals.h) stops the hand-out of tasks; the running
 * ones arrive, the ledger is synced and every rank returns NIDEC_EINTR
 * (exit status 3) with "interrupted ...; run again with --resume".  When
 * the run completes, the ledger is copied into results.h5 and removed.
 *
 * Collective.  Returns 0 or the status every rank agreed on, with `err`
 * set as nidec_comm_agree() leaves it (print with nidec_cli_fail).
 */
#ifndef NIDEC_CLI_CVJOB_H
#define NIDEC_CLI_CVJOB_H

#include "nidec/cfg.h"
#include "nidec/comm.h"
#include "nidec/err.h"

typedef struct nidec_cvjob {
	const char *dataset;   /* dataset HDF5 to read */
	int timing;            /* --timing: stage and per-rank tables */
	int resume;            /* --resume: continue from the checkpoint ledger */
} nidec_cvjob;

#define NIDEC_CVJOB_INIT { NULL, 0, 0 }

int nidec_cvjob_run(nidec_comm *comm, const nidec_cfg *cfg, const nidec_cvjob *job,
		    nidec_err *err);

#endif
