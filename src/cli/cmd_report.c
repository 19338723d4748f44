/*
 * cmd_report.c - `nidec report RESULTS_DIR`: report.html from the files of
 * a results directory (src/report/report.c does the work and reads files
 * only; see include/nidec/report.h).
 *
 * Rank 0 writes the page; every other rank returns rank 0's exit status.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "nidec/log.h"
#include "nidec/report.h"

static const char usage_text[] =
	"usage: nidec report RESULTS_DIR [--dataset FILE] [-o FILE]\n"
	"\n"
	"Write one self-contained HTML page (images inlined, no network, no JavaScript) about\n"
	"the output directory of 'nidec run' / 'nidec cv': inputs and provenance, the dataset,\n"
	"the mean EPI and the mask, each class's weight map and its std over folds, scores per\n"
	"fold against chance, the chosen C, the confusion matrix, the permutation test and the\n"
	"timings.  A section whose file is missing says \"not available\".\n"
	"\n"
	"options:\n"
	"  --dataset FILE   the dataset HDF5 (default: the one summary.json names, or\n"
	"                   RESULTS_DIR/dataset.h5)\n"
	"  -o, --output FILE  page to write (default: RESULTS_DIR/report.html)\n"
	"  -q, -v           quieter, more verbose\n";

static int run_report(int argc, char **argv, int *status, nidec_err *err)
{
	const char *dir = NULL, *dataset = NULL, *output = NULL;
	int i, rc;

	*status = NIDEC_EXIT_USAGE;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_text, stdout);
			*status = NIDEC_EXIT_OK;
			return 0;
		}
		rc = nidec_cli_common(argc, argv, &i, NULL, err);
		if (rc < 0)
			return rc;
		if (rc > 0)
			continue;
		if (!strcmp(a, "--dataset") || !strcmp(a, "-o") || !strcmp(a, "--output")) {
			if (i + 1 >= argc)
				return nidec_fail(err, NIDEC_EINPUT, "%s needs a value; see 'nidec report --help'", a);
			if (!strcmp(a, "--dataset"))
				dataset = argv[++i];
			else
				output = argv[++i];
		} else if (!strncmp(a, "--dataset=", 10)) {
			dataset = a + 10;
		} else if (!strncmp(a, "--output=", 9)) {
			output = a + 9;
		} else if (a[0] == '-' && a[1]) {
			return nidec_fail(err, NIDEC_EINPUT, "unknown option '%s'; see 'nidec report --help'", a);
		} else if (!dir) {
			dir = a;
		} else {
			return nidec_fail(err, NIDEC_EINPUT, "unexpected argument '%s' (the results directory "
					  "is '%s'); see 'nidec report --help'", a, dir);
		}
	}
	if (!dir)
		return nidec_fail(err, NIDEC_EINPUT, "nidec report needs a results directory; "
				  "see 'nidec report --help'");
	*status = NIDEC_EXIT_FAILURE;
	NIDEC_TRY(nidec_report_write_to(dir, dataset, output, err));
	if (output)
		nidec_out("%s\n", output);
	else
		nidec_out("%s%sreport.html\n", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/");
	*status = NIDEC_EXIT_OK;
	return 0;
}

int cmd_report(int argc, char **argv, nidec_comm *comm)
{
	nidec_err err = NIDEC_ERR_INIT;
	int status = NIDEC_EXIT_OK;

	if (nidec_comm_rank(comm) == 0 && run_report(argc, argv, &status, &err) < 0) {
		fprintf(stderr, "nidec: error: %s\n", err.msg[0] ? err.msg : nidec_err_name(err.code));
		if (status == NIDEC_EXIT_OK)
			status = NIDEC_EXIT_FAILURE;
	}
	/* every rank exits with rank 0's status */
	if (nidec_comm_size(comm) > 1 && nidec_comm_bcast(comm, &status, sizeof(status), 0, &err) < 0) {
		if (nidec_comm_rank(comm) != 0)
			nidec_error("%s", err.msg);
		return NIDEC_EXIT_FAILURE;
	}
	return status;
}
