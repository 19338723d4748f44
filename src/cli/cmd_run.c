/*
 * cmd_run.c - `nidec run CONFIG [options]`: the whole pipeline from one
 * config: convert the NIfTI inputs to the dataset (or reuse it when its
 * recorded input hashes match), cross-validate, write the outputs.
 *
 * A job of one subject (job.h): rank 0 converts, then every rank reads the
 * dataset itself.  The dataset goes to [data] dataset, or <[output]
 * dir>/dataset.h5.  A bad config value fails before anything is written;
 * an error found only with the labels (more folds than samples, a
 * one-class training fold) fails after conversion but before any result
 * file, leaving the reusable dataset.h5 only.  `nidec searchlight` is the
 * same command line with another analysis (nidec_cli_run_analysis).
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "nidec/job.h"
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

int nidec_cli_run_analysis(int argc, char **argv, nidec_comm *comm, const nidec_cli_texts *texts,
			   const nidec_analysis_ops *analysis)
{
	nidec_cfg cfg;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_job_opts opt = NIDEC_JOB_OPTS_INIT;
	nidec_job_subject sub;
	nidec_cli_common c = NIDEC_CLI_COMMON_INIT;
	const char *config = NULL;
	char dataset[4096];
	int rc = 0, ret;
	nidec_opt opts[] = {
		NIDEC_OPT_ARG("CONFIG", &config, 0, "INI file (configs/default.ini lists every key)"),
		NIDEC_OPT_FLAG(0, "force", &opt.force, "convert again even if the dataset is up to date"),
		NIDEC_OPT_FLAG(0, "timing", &opt.timing,
			       "print stage times (min/mean/max over ranks), tasks and busy time per "
			       "rank and the parallel efficiency"),
		NIDEC_OPT_FLAG(0, "resume", &opt.resume,
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
	nidec_opt_cmd cmd = { texts->name, texts->usage, texts->doc, texts->footer, opts,
			      nidec_cli_config_schemas, 0 };

	nidec_cfg_init(&cfg);
	memset(&sub, 0, sizeof(sub));
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
	if (rc == 0) {
		sub.cfg = &cfg;
		sub.dataset = dataset;
		sub.convert = 1;
		sub.analysis = analysis;
		/* progress lines: "cv: 40/116 tasks ...", "searchlight: ..." */
		opt.label = analysis == &nidec_decoder_analysis ? "cv" : analysis->name;
		opt.progress = cfg.progress;
		opt.print = 1;
		rc = nidec_job_run(comm, &sub, 1, &opt, &err);
	}
	ret = rc < 0 ? nidec_cli_fail(&err, comm) : NIDEC_EXIT_OK;
done:
	nidec_job_subject_release(&sub);
	nidec_cli_common_release(&c);
	nidec_cfg_release(&cfg);
	return ret;
}

int cmd_run(int argc, char **argv, nidec_comm *comm)
{
	static const nidec_cli_texts texts = { "nidec run", usage, doc, footer };

	return nidec_cli_run_analysis(argc, argv, comm, &texts, &nidec_decoder_analysis);
}
