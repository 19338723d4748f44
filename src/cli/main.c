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
#include "nidec/dataset.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/nii.h"
#include "nidec/sbuf.h"
#include "nidec/suggest.h"
#include "nidec/svm.h"
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
	rc |= nidec_sbuf_adds(sb, "\n'nidec <command> --help' (or 'nidec help <command>', or 'man nidec-<command>')\n"
				  "shows the options of a command.  Exit status: 0 ok, 1 error, 2 bad command\n"
				  "line, 3 interrupted (run again with --resume), 4 some subjects of a sweep failed.\n");
	return rc ? NIDEC_ENOMEM : 0;
}

/* nidec's version, then those of the libraries this process runs with
 * (the loaded ones, not the headers it was built against). */
static void print_version(void)
{
	char h5[64], nii[256];

	nidec_h5_library_version(h5, sizeof(h5));
	nidec_nii_runtime_version(nii, sizeof(nii));
	printf("nidec %s\n", nidec_version);
	printf("MPI: %s\n", nidec_comm_library_version());
	printf("HDF5: %s\n", h5);
	printf("liblinear: %s\n", nidec_svm_liblinear_version());
	printf("nifti_clib: %s\n", nii);
}

/* The sections of nidec(1) after its options (README "Errors and exit
 * codes", "Checkpoint and resume", "Running on a cluster"). */
static const char man_sections[] =
	".SH EXIT STATUS\n"
	".TP\n0\nsuccess\n"
	".TP\n1\nan error (bad input, I/O, ...); no partial output is left\n"
	".TP\n2\nbad command line\n"
	".TP\n3\ninterrupted by SIGTERM, SIGUSR1 or SIGINT: the checkpoint is saved; run the same "
	"command again with \\-\\-resume\n"
	".TP\n4\n\\fBnidec sweep\\fR: some subjects failed, the others are complete\n"
	".SH SIGNALS\n"
	"SIGTERM, SIGUSR1 and SIGINT stop a run between tasks: no new task is handed out, "
	"the running ones finish, the checkpoint (<output dir>/results.ledger) is synced and every "
	"rank exits with status 3.  What the launcher makes of a signal sent to it:\n"
	".TP\n\\fBmpirun\\fR\n"
	"forwards SIGUSR1 (status 3); takes SIGTERM and SIGINT as an abort: it sends the ranks "
	"SIGTERM (they save the checkpoint if their running tasks end within "
	"odls_base_sigkill_timeout, 1 s by default) and exits 1 whatever they do.\n"
	".TP\n\\fBsrun\\fR\n"
	"forwards SIGUSR1 (status 3), and SIGINT with \\-\\-disable\\-status (status 3); turns "
	"SIGTERM into SIGKILL of every rank (status 137: the checkpoint holds every result rank 0 "
	"had received).\n"
	".TP\nthe batch script\n"
	"the scripts in share/nidec/jobs and those of \\fBnidec sweep \\-\\-emit\\-slurm\\fR "
	"trap SIGTERM (Slurm's \\-\\-signal=B:TERM@N before a time limit), SIGINT and SIGUSR1 and "
	"pass them to srun as SIGUSR1: status 3.\n"
	".SH ENVIRONMENT\n"
	".TP\n.B HDF5_USE_FILE_LOCKING\n"
	"nidec opens and creates its HDF5 files without a file lock (it never reads a file being "
	"written); TRUE, FALSE or BEST_EFFORT here, read by HDF5, decide instead.\n"
	".TP\n.B NIDEC\n"
	"the nidec binary the job scripts run (default: nidec on PATH).\n"
	".TP\n.B NIDEC_SHARE\n"
	"set by the modulefile: the directory of the job scripts, configs and data.\n"
	".SH FILES\n"
	".TP\n.I share/nidec/jobs/\n"
	"Slurm job scripts: one subject, a sweep, a sweep as a job array and its gather, a long "
	"permutation test that requeues itself.\n"
	".TP\n.I share/nidec/configs/\n"
	"default.ini (every key with its default) and the configs of the tutorial steps.\n"
	".TP\n.I share/nidec/data/haxby\\-slice/\n"
	"the bundled test subject (a slice of Haxby et al. 2001, subject 1) the configs use.\n"
	".TP\n.I share/nidec/modulefiles/nidec/\n"
	"a modulefile for Environment Modules and Lmod: module use share/nidec/modulefiles; module "
	"load nidec.\n";

/* nidec(1): the top level's options, the commands, then man_sections and
 * every command's page under SEE ALSO. */
static int top_man(const nidec_opt_cmd *top, nidec_sbuf *out)
{
	nidec_sbuf extra = NIDEC_SBUF_INIT;
	nidec_opt_cmd page = *top;
	size_t i;
	int rc = 0;

	page.footer = NULL; /* the command list of --help: COMMANDS below */
	rc |= nidec_sbuf_adds(&extra, ".SH COMMANDS\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		rc |= nidec_sbuf_addf(&extra, ".TP\n.BR nidec\\-%s (1)\n%s\n", commands[i].name,
				      commands[i].help);
	rc |= nidec_sbuf_adds(&extra, man_sections);
	rc |= nidec_sbuf_adds(&extra, ".SH SEE ALSO\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		rc |= nidec_sbuf_addf(&extra, ".BR nidec\\-%s (1)%s\n", commands[i].name,
				      i + 1 < sizeof(commands) / sizeof(commands[0]) ? " ," : "");
	if (rc == 0)
		rc = nidec_opt_man(&page, "cross-validated fMRI decoding over MPI", extra.buf, out);
	nidec_sbuf_release(&extra);
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
		NIDEC_OPT_FLAG(0, "version", &version,
			       "print the version, and those of MPI, HDF5, liblinear and nifti_clib"),
		NIDEC_OPT_HELP(),
		NIDEC_OPT_END()
	};
	nidec_opt_cmd top = { "nidec", "usage: nidec <command> [options]\n",
			      "MPI-distributed cross-validated decoding of fMRI (nilearn's Decoder,\n"
			      "natively).  Run under mpirun or srun to use several ranks.\n",
			      NULL, opts, NULL, NIDEC_OPT_STOP_AT_ARG };

	nidec_mem_keep_freed();
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
			print_version();
	} else if (rest.argc == 0 || (!strcmp(rest.argv[0], "help") && rest.argc == 1)) {
		/* no command: the help, on stderr as a usage error; `nidec help`: on stdout */
		nidec_sbuf help = NIDEC_SBUF_INIT;
		rc = rest.argc == 0 ? NIDEC_EXIT_USAGE : NIDEC_EXIT_OK;
		if (rank == 0 && nidec_opt_help(&top, &help) == 0)
			fputs(help.buf, rc ? stderr : stdout);
		nidec_sbuf_release(&help);
	} else if (!strcmp(rest.argv[0], "help") && !strcmp(rest.argv[1], "--man") && rest.argc == 2) {
		/* nidec help --man: nidec(1) */
		nidec_sbuf man = NIDEC_SBUF_INIT;
		if (top_man(&top, &man) < 0) {
			rc = NIDEC_EXIT_FAILURE;
			if (rank == 0)
				fprintf(stderr, "nidec: error: out of memory\n");
		} else if (rank == 0) {
			fputs(man.buf, stdout);
		}
		nidec_sbuf_release(&man);
	} else if (!strcmp(rest.argv[0], "help")) {
		/* nidec help CMD = nidec CMD --help; nidec help --man CMD: its
		 * manual page, with the command table's summary */
		int man = !strcmp(rest.argv[1], "--man") && rest.argc == 3;
		const char *name = rest.argv[man ? 2 : 1];
		char opt[256];
		char *help_argv[] = { (char *)name, opt, NULL };
		if (!(cmd = find_command(name))) {
			rc = not_a_command(name, rank);
		} else {
			if (man)
				snprintf(opt, sizeof(opt), "--man=%s", cmd->help);
			else
				snprintf(opt, sizeof(opt), "--help");
			rc = cmd->fn(2, help_argv, comm);
		}
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
