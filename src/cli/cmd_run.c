/*
 * cmd_run.c - `nidec run CONFIG [options]`: the whole pipeline from one
 * config: convert the NIfTI inputs to the dataset (or reuse it when its
 * recorded input hashes match), cross-validate, write the outputs.
 *
 * Rank 0 converts while the other ranks wait in nidec_comm_agree(); then
 * every rank reads the dataset itself (cvjob.c).  The dataset goes to
 * [data] dataset, or <[output] dir>/dataset.h5.  A bad config value fails
 * before anything is written; an error found only with the labels (more
 * folds than samples, a one-class training fold) fails after conversion
 * but before any result file, leaving the reusable dataset.h5 only.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "cvjob.h"
#include "nidec/convert.h"
#include "nidec/log.h"

static const char usage[] = "usage: nidec run CONFIG [options]\n";

static const char doc[] =
	"The whole pipeline from a config: convert the NIfTI inputs into the dataset\n"
	"(reused when its recorded input hashes match), cross-validate, write the\n"
	"outputs.  Run it under mpirun/srun to spread the work over ranks.\n";

static const char footer[] =
	"SIGTERM (Slurm's time limit or preemption), SIGUSR1 (forwarded by mpirun) or\n"
	"SIGINT stop the run: no new tasks, the running ones finish, the checkpoint is\n"
	"saved and every rank exits with status 3; run the same command again with\n"
	"--resume.  Exit status: 0 ok, 1 error, 2 bad command line (an option or a\n"
	"--set value), 3 interrupted.\n"
	"\n"
	"The dataset goes to [data] dataset (default <[output] dir>/dataset.h5); the\n"
	"outputs (scores.tsv, grid_scores.tsv, predictions.tsv, summary.json, model.h5,\n"
	"results.h5, weights_<class>.nii.gz, weights_std_<class>.nii.gz, and\n"
	"null_scores.tsv with [cv] permutations > 0) to [output] dir.\n";

int cmd_run(int argc, char **argv, nidec_comm *comm)
{
	nidec_cfg cfg;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_cvjob job = NIDEC_CVJOB_INIT;
	nidec_cli_common c = NIDEC_CLI_COMMON_INIT;
	const char *config = NULL;
	char dataset[4096];
	int rc = 0, force = 0, reused = 0, ret;
	nidec_opt opts[] = {
		NIDEC_OPT_ARG("CONFIG", &config, 0, "INI file (configs/default.ini lists every key)"),
		NIDEC_OPT_FLAG(0, "force", &force, "convert again even if the dataset is up to date"),
		NIDEC_OPT_FLAG(0, "timing", &job.timing,
			       "print stage times (min/mean/max over ranks), tasks and busy time per "
			       "rank and the parallel efficiency"),
		NIDEC_OPT_FLAG(0, "resume", &job.resume,
			       "continue an interrupted run from its checkpoint (<[output] "
			       "dir>/results.ledger): finished tasks are not run again and the outputs "
			       "are those of an uninterrupted run; without a checkpoint, start from the "
			       "beginning (without --resume a new run replaces an old checkpoint)"),
		NIDEC_OPT_CONFIG(0, "checkpoint-interval", "output.checkpoint_interval", &c.sets, "SEC",
				 "seconds between syncs of the checkpoint to disk (every result is "
				 "written to it as it arrives)"),
		NIDEC_CLI_OPTS_CONFIG(&c),
		NIDEC_CLI_OPTS_COMMON(&c),
		NIDEC_OPT_END()
	};
	nidec_opt_cmd cmd = { "nidec run", usage, doc, footer, opts, nidec_cli_config_schemas, 0 };

	nidec_cfg_init(&cfg);
	if ((ret = nidec_cli_parse(comm, &cmd, argc, argv, &c)) >= 0)
		goto done;
	rc = nidec_cfg_load(&cfg, config, &err);
	if (rc == 0)
		rc = nidec_cli_apply_sets(&cfg, &c.sets, &err);
	if (rc == 0)
		rc = nidec_cfg_finish(&cfg, &err);
	if (rc == 0) {
		int n = cfg.dataset ? snprintf(dataset, sizeof(dataset), "%s", cfg.dataset)
				    : snprintf(dataset, sizeof(dataset), "%s/dataset.h5", cfg.dir);
		if (n < 0 || (size_t)n >= sizeof(dataset))
			rc = nidec_fail(&err, NIDEC_EINPUT, "[output] dir '%s' is too long", cfg.dir);
	}
	rc = nidec_comm_agree(comm, rc, &err);

	/* rank 0 converts (or reuses); the others wait for its status */
	if (rc == 0) {
		if (nidec_comm_rank(comm) == 0) {
			double t0 = nidec_now();
			rc = nidec_convert(&cfg, dataset, force, &reused, &err);
			if (rc == 0 && reused)
				nidec_info("dataset: reusing '%s' (inputs unchanged)", dataset);
			else if (rc == 0)
				nidec_info("dataset: converted to '%s' in %.1fs", dataset, nidec_now() - t0);
		}
		rc = nidec_comm_agree(comm, rc, &err);
	}
	if (rc == 0) {
		job.dataset = dataset;
		rc = nidec_cvjob_run(comm, &cfg, &job, &err);
	}
	ret = rc < 0 ? nidec_cli_fail(&err, comm) : NIDEC_EXIT_OK;
done:
	nidec_cli_common_release(&c);
	nidec_cfg_release(&cfg);
	return ret;
}
