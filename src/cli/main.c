/*
 * main.c - MPI start-up, the command table, exit statuses.
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
#include "nidec/version.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, nidec_comm *comm);
	const char *help;
};

static const struct command commands[] = {
	{ "run", cmd_run, "the whole pipeline from a config: convert if needed, cross-validate, write outputs" },
	{ "convert", cmd_convert, "NIfTI runs + mask + labels -> one masked HDF5 dataset" },
	{ "info", cmd_info, "describe a dataset or results file" },
	{ "cv", cmd_cv, "cross-validated decoding on a converted dataset" },
	{ "predict", cmd_predict, "apply a saved model (model.h5) to new images" },
	{ "synth", cmd_synth, "write a synthetic subject (per-run NIfTI, mask, BIDS events)" },
	{ "plot", cmd_plot, "PNG figures of NIfTI images: mean EPI, a mask, a weight map" },
	{ "report", cmd_report, "self-contained HTML report of a results directory" },
	{ "sweep", cmd_sweep, "many subjects in one launch (or a Slurm job array), with group statistics" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: nidec <command> [options]\n\n"
		   "MPI-distributed cross-validated decoding of fMRI (nilearn's Decoder, natively).\n"
		   "Run under mpirun or srun to use several ranks.\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'nidec <command> --help' shows the options of a command.\n"
		   "'nidec --version' prints the version.\n");
}

int nidec_cli_exit_code(int code)
{
	if (code >= 0)
		return NIDEC_EXIT_OK;
	if (code == NIDEC_EINTR)
		return NIDEC_EXIT_INTERRUPTED;
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
	const struct command *cmd = NULL;
	size_t i;
	int rc, rank;

	if (nidec_comm_init(&argc, &argv, &comm, &err) < 0) {
		fprintf(stderr, "nidec: error: %s\n", err.msg);
		return NIDEC_EXIT_FAILURE;
	}
	rank = nidec_comm_rank(comm);
	nidec_log_setup(NIDEC_LOG_INFO, rank, nidec_comm_size(comm));
	if (nidec_set_command_line(argc, argv) < 0) {
		fprintf(stderr, "nidec: error: out of memory\n");
		rc = NIDEC_EXIT_FAILURE;
		goto done;
	}

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		if (rank == 0)
			usage(argc < 2 ? stderr : stdout);
		rc = argc < 2 ? NIDEC_EXIT_USAGE : NIDEC_EXIT_OK;
		goto done;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		if (rank == 0)
			printf("nidec %s\n", nidec_version);
		rc = NIDEC_EXIT_OK;
		goto done;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			cmd = &commands[i];
	if (!cmd) {
		if (rank == 0) {
			fprintf(stderr, "nidec: '%s' is not a nidec command\n\n", argv[1]);
			usage(stderr);
		}
		rc = NIDEC_EXIT_USAGE;
		goto done;
	}
	rc = cmd->fn(argc - 1, argv + 1, comm);
done:
	fflush(stdout);
	nidec_free_command_line();
	nidec_comm_finalize(&comm);
	return rc;
}
