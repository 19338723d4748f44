/*
 * signals.h - graceful stop on SIGTERM, SIGUSR1 and SIGINT for the
 * jobs that run tasks (job.h: `nidec run`, `nidec cv`, `nidec sweep`).
 *
 * Slurm sends SIGTERM at a time limit or preemption (to every task of a
 * job step launched with srun; `--signal=TERM@120` sends it earlier, to
 * leave time); `mpirun` treats its own SIGTERM as "abort the job" (it
 * passes SIGTERM to the ranks and kills them 1 s later), but forwards
 * SIGUSR1 to every rank, hence SIGUSR1; srun forwards USR1 (and INT with
 * --disable-status) but turns its own TERM into SIGKILL of the ranks
 * (README "Errors and exit codes": what each launcher does with each
 * signal; the jobs/ scripts pass TERM, INT and USR1 on as USR1).  The handler only records the signal; rank 0 polls
 * nidec_signals_caught() between tasks and decides for every rank (a
 * worker that got the signal keeps working until rank 0 stops it).  A
 * second SIGINT (Ctrl-C twice) kills the process as usual.
 *
 * The recorded signal is a process-wide sig_atomic_t: the one mutable
 * global besides log level and rank, because a signal handler can reach
 * nothing else.
 *
 * Lifecycle: nidec_signals_install() before the work, nidec_signals_restore()
 * after it (the earlier handlers come back).  Not thread-safe (nidec is
 * single-threaded per rank); Not Collective.
 */
#ifndef NIDEC_SIGNALS_H
#define NIDEC_SIGNALS_H

#include "nidec/err.h"

/* Install the handlers (SA_RESTART: interrupted system calls resume) and
 * forget any signal recorded before.  Fails only if sigaction does. */
int nidec_signals_install(nidec_err *err);

/* Put the handlers found by nidec_signals_install back.  Safe to call
 * without install, or twice. */
void nidec_signals_restore(void);

/* The first stop signal received since install (SIGTERM, SIGUSR1,
 * SIGINT), or 0. */
int nidec_signals_caught(void);

/* "SIGTERM", "SIGUSR1", "SIGINT", or "a signal". */
const char *nidec_signals_name(int sig);

#endif
