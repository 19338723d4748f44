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
 * Adding a command takes: the cmd_<name>.c file with its options table
 * (below; --help is generated from it), a line in `commands[]` in main.c,
 * an e2e test tests/e2e/tNNNN-<name>-*.sh (t0050 tests its options from the
 * table by itself), and a paragraph in README.md.
 */
#ifndef NIDEC_CLI_CMD_H
#define NIDEC_CLI_CMD_H

#include "nidec/cfg.h"
#include "nidec/comm.h"
#include "nidec/err.h"
#include "nidec/opts.h"
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
int cmd_searchlight(int argc, char **argv, nidec_comm *comm);

/* Print `err` (once: from rank 0 if it failed, else from the failing rank)
 * and return the exit status for its code. */
int nidec_cli_fail(const nidec_err *err, nidec_comm *comm);

/* Exit status for an error code (NIDEC_EINTR -> NIDEC_EXIT_INTERRUPTED,
 * NIDEC_EUSAGE -> NIDEC_EXIT_USAGE). */
int nidec_cli_exit_code(int code);

/*
 * Options (include/nidec/opts.h).  Every command declares one table and
 * calls nidec_cli_parse() once; its --help comes from the same table.
 * The options every command shares (-q, -v, -h) and those of the commands
 * that read the analysis config (--set, --progress) are one table each,
 * included at the end of a command's table:
 *
 *     nidec_cli_common c = NIDEC_CLI_COMMON_INIT;
 *     nidec_opt opts[] = {
 *         ...the command's own...,
 *         NIDEC_CLI_OPTS_CONFIG(&c),   (commands that read a config)
 *         NIDEC_CLI_OPTS_COMMON(&c),
 *         NIDEC_OPT_END()
 *     };
 *     nidec_opt_cmd cmd = { "nidec cv", usage, doc, footer, opts,
 *                           nidec_cli_config_schemas, 0 };
 *     if ((ret = nidec_cli_parse(comm, &cmd, argc, argv, &c)) >= 0)
 *         goto done;                   help shown (0), bad usage (2), ...
 *     ... load the config, then nidec_cli_apply_sets(&cfg, &c.sets, &err)
 *     nidec_cli_common_release(&c);
 */
typedef struct nidec_cli_common {
	int quiet;            /* -q: errors only */
	int verbose;          /* -v, counted: more detail, twice debug */
	nidec_opt_sets sets;  /* --set and the options that set a config key, in order */
} nidec_cli_common;

#define NIDEC_CLI_COMMON_INIT { 0, 0, NIDEC_OPT_SETS_INIT }

#define NIDEC_CLI_OPTS_CONFIG(c)                                                              \
	NIDEC_OPT_SET(&(c)->sets, "override a config key (e.g. --set cv.scheme=kfold --set "   \
				  "model.C=0.1,1,10), any number of times; the last one wins"), \
	NIDEC_OPT_CONFIG(0, "progress", "output.progress", &(c)->sets, "SEC",                 \
			 "seconds between progress lines on stderr, 0 = off")
#define NIDEC_CLI_OPTS_COMMON(c)                                                              \
	NIDEC_OPT_FLAG('q', "quiet", &(c)->quiet, "errors only"),                             \
	NIDEC_OPT_COUNT('v', "verbose", &(c)->verbose, "more detail (twice: debug)"),         \
	NIDEC_OPT_HELP()

/* The key schemas of a command that reads the analysis config. */
extern const nidec_keyschema *const nidec_cli_config_schemas[];

/*
 * Parse argv with cmd's table, on every rank (they all see the same argv
 * and reach the same verdict); rank 0 alone prints: --help and
 * --list-options on stdout, a bad command line as one line
 * "nidec <command>: <message>" on stderr.  On success sets the log level
 * from -q and -v and returns -1: go on.  Otherwise returns the exit status
 * to return at once: 0 after --help, 2 for a bad command line, 1 out of
 * memory.
 */
int nidec_cli_parse(nidec_comm *comm, const nidec_opt_cmd *cmd, int argc, char **argv,
		    nidec_cli_common *c);

/* Print "<cmd->prog>: <message>" on rank 0 and return NIDEC_EXIT_USAGE: a
 * usage error found after parsing (two options that exclude each other). */
int nidec_cli_usage_error(nidec_comm *comm, const nidec_opt_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Apply the command line's config overrides, in order, after the config
 * file (they win); their errors are NIDEC_EUSAGE. */
int nidec_cli_apply_sets(nidec_cfg *cfg, const nidec_opt_sets *sets, nidec_err *err);

/* Frees what nidec_cli_parse() stored; `c` can be parsed into again. */
void nidec_cli_common_release(nidec_cli_common *c);

/* The help texts of a command (nidec_opt_cmd's). */
typedef struct nidec_cli_texts {
	const char *name, *usage, *doc, *footer;
} nidec_cli_texts;

/* `nidec run`'s command line and job with `analysis` (cmd_run.c): the
 * decoder for run, the searchlight for searchlight.  Returns the exit
 * status. */
struct nidec_analysis_ops;
int nidec_cli_run_analysis(int argc, char **argv, nidec_comm *comm, const nidec_cli_texts *texts,
			   const struct nidec_analysis_ops *analysis);

#endif
