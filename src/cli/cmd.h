/*
 * cmd.h - the command table's contract (after git's builtin.h).
 *
 * Each command lives in src/cli/cmd_<name>.c and exports
 *     int cmd_<name>(int argc, char **argv, nidec_comm *comm);
 * argv[0] is the command name.  The return value IS the exit status
 * (NIDEC_EXIT_*).  Commands print errors through nidec_cli_fail() (rank 0
 * prints, or the failing rank with "[rank N]"), free everything they
 * allocated, and never call exit().  Every rank calls the command; the
 * command decides which ranks work.
 *
 * Adding a command takes: the cmd_<name>.c file, a line in `commands[]` in
 * main.c, its --help text, an e2e test tests/e2e/tNNNN-<name>-*.sh, and a
 * paragraph in README.md.
 */
#ifndef NIDEC_CLI_CMD_H
#define NIDEC_CLI_CMD_H

#include "nidec/cfg.h"
#include "nidec/comm.h"
#include "nidec/err.h"
#include "nidec/version.h"

enum {
	NIDEC_EXIT_OK = 0,
	NIDEC_EXIT_FAILURE = 1,     /* an error: bad input, I/O, ... */
	NIDEC_EXIT_USAGE = 2,       /* bad command line */
	NIDEC_EXIT_INTERRUPTED = 3, /* SIGTERM: state saved, run again with --resume */
	NIDEC_EXIT_PARTIAL = 4      /* a sweep where some subjects failed */
};

int cmd_convert(int argc, char **argv, nidec_comm *comm);
int cmd_info(int argc, char **argv, nidec_comm *comm);
int cmd_synth(int argc, char **argv, nidec_comm *comm);
int cmd_cv(int argc, char **argv, nidec_comm *comm);
int cmd_run(int argc, char **argv, nidec_comm *comm);
int cmd_predict(int argc, char **argv, nidec_comm *comm);
int cmd_plot(int argc, char **argv, nidec_comm *comm);
int cmd_report(int argc, char **argv, nidec_comm *comm);
int cmd_sweep(int argc, char **argv, nidec_comm *comm);

/* Print `err` (once: from rank 0 if it failed, else from the failing rank)
 * and return the exit status for its code. */
int nidec_cli_fail(const nidec_err *err, nidec_comm *comm);

/* Exit status for an error code (NIDEC_EINTR -> NIDEC_EXIT_INTERRUPTED). */
int nidec_cli_exit_code(int code);

/*
 * Options every command shares, handled by nidec_cli_common():
 *   -q, --quiet        errors only
 *   -v, --verbose      more detail (twice: debug)
 *   --set SEC.KEY=VAL  override a config key (any number of times)
 *   --progress SEC     seconds between progress lines (0 = off)
 * Returns 1 if argv[*i] (and maybe its argument) was consumed, 0 if it is
 * not a common option, or a negative code with `err` set.
 */
int nidec_cli_common(int argc, char **argv, int *i, nidec_cfg *cfg, nidec_err *err);

#endif
