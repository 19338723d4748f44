/*
 * cmd_convert.c - `nidec convert [CONFIG] [options]`: NIfTI runs + mask +
 * labels -> one masked HDF5 dataset (src/io/convert.c does the work).
 *
 * Every rank parses the command line and the config (so usage errors and
 * exit statuses agree without messages); rank 0 converts while the others
 * wait in nidec_comm_agree() and leave with rank 0's status.  Only rank 0
 * prints.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "nidec/convert.h"
#include "nidec/log.h"
#include "nidec/mem.h"

static const char usage[] = "usage: nidec convert [CONFIG] [options]\n";

static const char doc[] =
	"Convert NIfTI runs, a mask and labels into one masked HDF5 dataset (samples x\n"
	"voxels, float32; layout in docs/FORMAT.md).  Only the [data] and [clean]\n"
	"sections of CONFIG are used (sample tables, BIDS + fMRIPrep, smoothing and\n"
	"cleaning: README \"Real studies\").  An existing output whose recorded input\n"
	"hashes and settings match is reused.\n"
	"Under mpirun, rank 0 converts and the other ranks exit with its status.\n";

int cmd_convert(int argc, char **argv, nidec_comm *comm)
{
	nidec_convert_opts opts = NIDEC_CONVERT_OPTS_INIT;
	nidec_convert_result res;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_cfg cfg;
	nidec_cli_common c = NIDEC_CLI_COMMON_INIT;
	const char *config = NULL, *output = NULL;
	char *out_path = NULL;
	int rc = 0, ret, rank = nidec_comm_rank(comm);
	double t0;
	nidec_opt table[] = {
		NIDEC_OPT_ARG("CONFIG", &config, NIDEC_OPT_OPTIONAL,
			      "INI file (optional when the options give the inputs)"),
		NIDEC_OPT_STRING('o', "output", &output, "FILE",
				 "[data] dataset, else <[output] dir>/dataset.h5, i.e. results/dataset.h5",
				 "dataset to write"),
		NIDEC_OPT_CONFIG(0, "bold", "data.bold", &c.sets, "PATH|GLOB",
				 "one 4D NIfTI, or a glob of per-run 4D files sorted naturally, one "
				 "run each"),
		NIDEC_OPT_CONFIG(0, "mask", "data.mask", &c.sets, "FILE",
				 "3D mask, non-zero = inside; resampled (nearest) if its grid differs"),
		NIDEC_OPT_CONFIG(0, "labels", "data.labels", &c.sets, "FILE",
				 "labels table, one row per volume"),
		NIDEC_OPT_CONFIG(0, "events", "data.events", &c.sets, "GLOB",
				 "per-run BIDS events.tsv, one per BOLD file"),
		NIDEC_OPT_CONFIG(0, "conditions", "data.conditions", &c.sets, "LIST",
				 "comma-separated conditions to keep; none given: all"),
		NIDEC_OPT_CONFIG(0, "label-column", "data.label_column", &c.sets, "NAME",
				 "labels table column of the condition"),
		NIDEC_OPT_CONFIG(0, "run-column", "data.run_column", &c.sets, "NAME",
				 "labels table column of the run"),
		NIDEC_OPT_CONFIG(0, "hrf-shift", "data.hrf_shift", &c.sets, "SEC",
				 "seconds added to event onsets"),
		NIDEC_OPT_CONFIG(0, "samples", "data.samples", &c.sets, "FILE",
				 "a sample table (path, label, run, [volume], ...) instead of --bold and --labels"),
		NIDEC_OPT_CONFIG(0, "mask-strategy", "data.mask_strategy", &c.sets, "epi|background",
				 "without --mask: compute one as nilearn's compute_epi_mask or compute_background_mask"),
		NIDEC_OPT_FLAG(0, "force", &opts.force, "convert even if the output is up to date"),
		NIDEC_CLI_OPTS_CONFIG(&c),
		NIDEC_CLI_OPTS_COMMON(&c),
		NIDEC_OPT_END()
	};
	nidec_opt_cmd cmd = { "nidec convert", usage, doc, NULL, table, nidec_cli_config_schemas, 0 };

	nidec_cfg_init(&cfg);
	if ((ret = nidec_cli_parse(comm, &cmd, argc, argv, &c)) >= 0)
		goto done;
	if (config)
		rc = nidec_cfg_load(&cfg, config, &err);
	if (rc == 0)
		rc = nidec_cli_apply_sets(&cfg, &c.sets, &err);
	if (rc == 0)
		rc = nidec_cfg_finish(&cfg, &err);
	if (rc == 0) {
		if (output) {
			out_path = nidec_strdup_e(output, &err);
			rc = out_path ? 0 : NIDEC_ENOMEM;
		} else {
			rc = nidec_convert_output_path(&cfg, &out_path, &err);
		}
	}
	/* every rank parsed the same input: agree so that only rank 0 prints
	 * (a rank that failed alone, e.g. out of memory, says so itself) */
	{
		nidec_err mine = err;
		int local = rc;
		rc = nidec_comm_agree(comm, rc, &err);
		if (rank != 0 && local < 0 && strcmp(mine.msg, err.msg))
			nidec_error("%s", mine.msg);
	}

	if (rc == 0) {
		t0 = nidec_now();
		if (rank == 0) {
			memset(&res, 0, sizeof(res));
			rc = nidec_convert_ex(&cfg, out_path, &opts, &res, &err);
			if (rc == 0)
				nidec_out("%s '%s': %zu samples x %zu voxels, %zu run%s, %zu condition%s (%s)\n",
					  res.reused ? "reused" : "wrote", out_path, res.n_samples,
					  res.n_voxels, res.n_runs, res.n_runs == 1 ? "" : "s",
					  res.n_conditions, res.n_conditions == 1 ? "" : "s",
					  res.reused ? "inputs unchanged" : "converted");
			if (rc == 0 && !res.reused)
				nidec_verbose("convert: %.2fs", nidec_now() - t0);
		}
		rc = nidec_comm_agree(comm, rc, &err);
	}
	if (rc < 0)
		ret = rank == 0 ? nidec_cli_fail(&err, comm) : nidec_cli_exit_code(rc);
	else
		ret = NIDEC_EXIT_OK;
done:
	nidec_free(out_path);
	nidec_cli_common_release(&c);
	nidec_cfg_release(&cfg);
	return ret;
}
