/*
 * main.c - MPI start-up, the command table, exit statuses.  The top level
 * parses its own options (--version, --help) with the commands' parser
 * (opts.h) and hands the rest of argv to the command.
 *
 * This is the only place besides src/par/ that knows about MPI start-up,
 * and, with the cmd_*.c files, the only place that turns errors into
 * output and exit codes.  Every rank runs the same command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/sbuf.h"
#include "nidec/suggest.h"
#include "nidec/version.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, nidec_comm *comm);
	const char *help;
};

static const struct command commands[] = {
	{ "run", cmd_run, "the whole pipeline from a config: convert if needed, cross-validate, write outputs" },
	{ "searchlight", cmd_searchlight, "a searchlight map: the decoder in a sphere around every voxel" },
	{ "convert", cmd_convert, "NIfTI runs + mask + labels -> one masked HDF5 dataset" },
	{ "info", cmd_info, "describe a dataset or results file" },
	{ "cv", cmd_cv, "cross-validated decoding on a converted dataset" },
	{ "predict", cmd_predict, "apply a saved model (model.h5) to new images" },
	{ "synth", cmd_synth, "write a synthetic subject (per-run NIfTI, mask, BIDS events)" },
	{ "plot", cmd_plot, "PNG figures of NIfTI images: mean EPI, a mask, a weight map" },
	{ "report", cmd_report, "self-contained HTML report of a results directory" },
	{ "sweep", cmd_sweep, "many subjects in one launch (or a Slurm job array), with group statistics" },
};

/* The commands with their one-line help, for the top-level --help. */
static int list_commands(nidec_sbuf *sb)
{
	size_t i;
	int rc = 0;

	rc |= nidec_sbuf_adds(sb, "commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		rc |= nidec_sbuf_addf(sb, "  %-9s %s\n", commands[i].name, commands[i].help);
	rc |= nidec_sbuf_adds(sb, "\n'nidec <command> --help' (or 'nidec help <command>') shows the\n"
				  "options of a command.  Exit status: 0 ok, 1 error, 2 bad command line,\n"
				  "3 interrupted (run again with --resume), 4 some subjects of a sweep failed.\n");
	return rc ? NIDEC_ENOMEM : 0;
}

/* "'rn' is not a nidec command; did you mean 'run'?" */
static int not_a_command(const char *name, int rank)
{
	nidec_suggestion s = NIDEC_SUGGESTION_INIT;
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		nidec_suggest_add(&s, name, commands[i].name, 0, (long)i);
	if (rank == 0 && s.index >= 0)
		fprintf(stderr, "nidec: '%s' is not a nidec command; did you mean '%s'?\n", name,
			commands[s.index].name);
	else if (rank == 0)
		fprintf(stderr, "nidec: '%s' is not a nidec command; see 'nidec --help'\n", name);
	return NIDEC_EXIT_USAGE;
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

int nidec_cli_exit_code(int code)
{
	if (code >= 0)
		return NIDEC_EXIT_OK;
	if (code == NIDEC_EINTR)
		return NIDEC_EXIT_INTERRUPTED;
	if (code == NIDEC_EUSAGE)
		return NIDEC_EXIT_USAGE;
	return NIDEC_EXIT_FAILURE;
}

int nidec_cli_fail(const nidec_err *err, nidec_comm *comm)
{
	int rank = comm ? nidec_comm_rank(comm) : 0;
	const char *msg = err->msg[0] ? err->msg : nidec_err_name(err->code);

	/* Errors agreed on by every rank carry rank 0's message: print once.
	 * "another rank failed" lines are noise: the failing rank printed. */
	if (rank == 0 && strcmp(msg, "another rank failed (see its error above)"))
		fprintf(stderr, "nidec: error: %s\n", msg);
	else if (rank != 0 && strncmp(msg, "another rank failed", 19) && err->code != NIDEC_EINTR)
		nidec_error("%s", msg);
	return nidec_cli_exit_code(err->code);
}

int main(int argc, char **argv)
{
	nidec_comm *comm = NULL;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_sbuf footer = NIDEC_SBUF_INIT;
	nidec_cli_common c = NIDEC_CLI_COMMON_INIT;
	nidec_opt_rest rest = { NULL, 0 };
	const struct command *cmd = NULL;
	int rc, rank, version = 0;
	nidec_opt opts[] = {
		NIDEC_OPT_ARG("COMMAND", &rest, NIDEC_OPT_MANY | NIDEC_OPT_OPTIONAL,
			      "one of the commands below, then its arguments and options"),
		NIDEC_OPT_FLAG(0, "version", &version, "print the version"),
		NIDEC_OPT_HELP(),
		NIDEC_OPT_END()
	};
	nidec_opt_cmd top = { "nidec", "usage: nidec <command> [options]\n",
			      "MPI-distributed cross-validated decoding of fMRI (nilearn's Decoder,\n"
			      "natively).  Run under mpirun or srun to use several ranks.\n",
			      NULL, opts, NULL, NIDEC_OPT_STOP_AT_ARG };

	if (nidec_comm_init(&argc, &argv, &comm, &err) < 0) {
		fprintf(stderr, "nidec: error: %s\n", err.msg);
		return NIDEC_EXIT_FAILURE;
	}
	rank = nidec_comm_rank(comm);
	nidec_log_setup(NIDEC_LOG_INFO, rank, nidec_comm_size(comm));
	if (nidec_set_command_line(argc, argv) < 0) {
		fprintf(stderr, "nidec: error: out of memory\n");
		nidec_comm_finalize(&comm);
		return NIDEC_EXIT_FAILURE;
	}

	if (list_commands(&footer) < 0) {
		rc = nidec_cli_exit_code(nidec_fail(&err, NIDEC_ENOMEM, "out of memory"));
		if (rank == 0)
			fprintf(stderr, "nidec: error: %s\n", err.msg);
		goto done;
	}
	top.footer = footer.buf;
	if ((rc = nidec_cli_parse(comm, &top, argc, argv, &c)) >= 0)
		goto done;
	rc = NIDEC_EXIT_OK;
	if (version || (rest.argc > 0 && !strcmp(rest.argv[0], "version"))) {
		if (rank == 0)
			printf("nidec %s\n", nidec_version);
	} else if (rest.argc == 0 || (!strcmp(rest.argv[0], "help") && rest.argc == 1)) {
		/* no command: the help, on stderr as a usage error; `nidec help`: on stdout */
		nidec_sbuf help = NIDEC_SBUF_INIT;
		rc = rest.argc == 0 ? NIDEC_EXIT_USAGE : NIDEC_EXIT_OK;
		if (rank == 0 && nidec_opt_help(&top, &help) == 0)
			fputs(help.buf, rc ? stderr : stdout);
		nidec_sbuf_release(&help);
	} else if (!strcmp(rest.argv[0], "help")) {
		/* nidec help CMD = nidec CMD --help */
		char *help_argv[] = { rest.argv[1], (char *)"--help", NULL };
		if (!(cmd = find_command(rest.argv[1])))
			rc = not_a_command(rest.argv[1], rank);
		else
			rc = cmd->fn(2, help_argv, comm);
	} else if (!(cmd = find_command(rest.argv[0]))) {
		rc = not_a_command(rest.argv[0], rank);
	} else {
		rc = cmd->fn(rest.argc, rest.argv, comm);
	}
done:
	fflush(stdout);
	nidec_sbuf_release(&footer);
	nidec_cli_common_release(&c);
	nidec_free_command_line();
	nidec_comm_finalize(&comm);
	return rc;
}
