/*
 * cmd_report.c - `nidec report RESULTS_DIR`: report.html from the files of
 * a results directory, a searchlight's or a sweep's output root
 * (src/report does the work and reads files only; see
 * include/nidec/report.h).
 *
 * Every rank parses the options; rank 0 writes the page; every other rank
 * returns rank 0's exit status.
 */
#include <stdio.h>
#include <string.h>

#include <dirent.h>

#include "cmd.h"
#include "nidec/file.h"
#include "nidec/log.h"
#include "nidec/report.h"

static const char usage[] = "usage: nidec report RESULTS_DIR [--dataset FILE] [-o FILE]\n";

static const char doc[] =
	"Write one self-contained HTML page (images inlined, no network, no JavaScript) about\n"
	"the output directory of 'nidec run' / 'nidec cv': inputs and provenance, the dataset,\n"
	"the mean EPI and the mask, each class's weight map and its std over folds, scores per\n"
	"fold against chance, the chosen C, the confusion matrix, the permutation test and the\n"
	"timings.  A section whose file is missing says \"not available\".\n"
	"On the directory of 'nidec searchlight': the map over the mean EPI coloured where the\n"
	"score is above chance, the distribution of the sphere scores, the best spheres, the\n"
	"sphere sizes and the permutation test.  On the output root of 'nidec sweep': the group\n"
	"page, every subject's score with its folds, the group statistics, each subject's\n"
	"status (its error, or a link to its own page).\n";

/* Inputs are read-only (docs/ERRORS.md): -o is no file of the results
 * directory but report.html, nor the dataset. */
static int check_output(const char *dir, const char *dataset, const char *output, nidec_err *err)
{
	nidec_file_inputs in = NIDEC_FILE_INPUTS_INIT;
	char path[NIDEC_PATH_MAX];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (!output)
		return 0;
	d = opendir(dir);
	while (rc == 0 && d && (e = readdir(d)))
		if (e->d_name[0] != '.' && strcmp(e->d_name, "report.html") &&
		    nidec_file_join(path, sizeof(path), dir, e->d_name, NULL) == 0)
			rc = nidec_file_inputs_add(&in, path, "a result file", err);
	if (d)
		closedir(d);
	if (rc == 0)
		rc = nidec_file_inputs_add(&in, dataset, "--dataset", err);
	if (rc == 0)
		rc = nidec_file_inputs_check(&in, output, "choose another page (-o)", err);
	nidec_file_inputs_release(&in);
	return rc;
}

int cmd_report(int argc, char **argv, nidec_comm *comm)
{
	nidec_err err = NIDEC_ERR_INIT;
	nidec_cli_common c = NIDEC_CLI_COMMON_INIT;
	const char *dir = NULL, *dataset = NULL, *output = NULL;
	int status;
	nidec_opt opts[] = {
		NIDEC_OPT_ARG("RESULTS_DIR", &dir, NIDEC_OPT_OPTIONAL,
			      "the output directory of 'nidec run', 'nidec cv' or 'nidec searchlight', "
			      "or the output root of 'nidec sweep'"),
		NIDEC_OPT_STRING(0, "dataset", &dataset, "FILE",
				 "the one summary.json names, or RESULTS_DIR/dataset.h5",
				 "the dataset HDF5 (not for a sweep's root)"),
		NIDEC_OPT_STRING('o', "output", &output, "FILE", "RESULTS_DIR/report.html", "page to write"),
		NIDEC_CLI_OPTS_COMMON(&c),
		NIDEC_OPT_END()
	};
	nidec_opt_cmd cmd = { "nidec report", usage, doc, NULL, opts, NULL, 0 };

	if ((status = nidec_cli_parse(comm, &cmd, argc, argv, &c)) >= 0)
		return status;
	if (!dir)
		return nidec_cli_usage_error(comm, &cmd, "needs a results directory; see 'nidec report --help'");
	status = NIDEC_EXIT_OK;
	if (nidec_comm_rank(comm) == 0) {
		if (check_output(dir, dataset, output, &err) < 0 ||
		    nidec_report_write_to(dir, dataset, output, &err) < 0) {
			fprintf(stderr, "nidec: error: %s\n", err.msg[0] ? err.msg : nidec_err_name(err.code));
			status = NIDEC_EXIT_FAILURE;
		} else if (output) {
			nidec_out("%s\n", output);
		} else {
			nidec_out("%s%sreport.html\n", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/");
		}
	}
	/* every rank exits with rank 0's status */
	if (nidec_comm_size(comm) > 1 && nidec_comm_bcast(comm, &status, sizeof(status), 0, &err) < 0) {
		if (nidec_comm_rank(comm) != 0)
			nidec_error("%s", err.msg);
		return NIDEC_EXIT_FAILURE;
	}
	return status;
}
