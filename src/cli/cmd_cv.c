/*
 * cmd_cv.c - `nidec cv DATASET.h5 [CONFIG] [options]`: cross-validated
 * decoding on a dataset written by `nidec convert`.
 *
 * The config supplies everything but [data] (the dataset is given); its
 * [data] conditions, if set, select the samples to decode.  Options are
 * applied after the config file whatever their position on the command
 * line, so `--set` and `-o` always win.  Every rank parses the same command
 * line (the options table below, opts.h); only rank 0 prints usage and
 * errors.  The job itself is a job of one subject without conversion
 * (job.h).
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "nidec/job.h"
#include "nidec/log.h"

static const char usage[] = "usage: nidec cv DATASET.h5 [CONFIG] [options]\n";

static const char doc[] =
	"Cross-validated decoding on a dataset written by 'nidec convert'; run it\n"
	"under mpirun/srun to spread the tasks over ranks.\n";

static const char footer[] =
	"SIGTERM (Slurm's time limit or preemption), SIGUSR1 (forwarded by mpirun) or\n"
	"SIGINT stop the run: no new tasks, the running ones finish, the checkpoint is\n"
	"saved and every rank exits with status 3; run the same command again with\n"
	"--resume.  Exit status: 0 ok, 1 error, 2 bad command line (an option or a\n"
	"--set value), 3 interrupted.\n"
	"\n"
	"Writes scores.tsv, grid_scores.tsv, predictions.tsv, summary.json, model.h5,\n"
	"results.h5, weights_<class>.nii.gz / weights_std_<class>.nii.gz and, with\n"
	"[cv] permutations > 0, null_scores.tsv into the output directory; prints the\n"
	"score table (and the permutation p-values) on stdout.\n";

int cmd_cv(int argc, char **argv, nidec_comm *comm)
{
	nidec_cfg cfg;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_job_opts opt = NIDEC_JOB_OPTS_INIT;
	nidec_job_subject sub;
	const char *dataset = NULL;
	nidec_cli_common c = NIDEC_CLI_COMMON_INIT;
	const char *config = NULL;
	int rc = 0, ret;
	nidec_opt opts[] = {
		NIDEC_OPT_ARG("DATASET.h5", &dataset, 0,
			      "the masked dataset (samples x voxels, labels, runs)"),
		NIDEC_OPT_ARG("CONFIG", &config, NIDEC_OPT_OPTIONAL,
			      "INI file (configs/default.ini lists every key); optional: without it "
			      "every key takes its default"),
		NIDEC_OPT_CONFIG('o', "output", "output.dir", &c.sets, "DIR", "output directory"),
		NIDEC_OPT_FLAG(0, "timing", &opt.timing,
			       "print stage times (min/mean/max over ranks), tasks and busy time per "
			       "rank and the parallel efficiency; also stored in summary.json"),
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
	nidec_opt_cmd cmd = { "nidec cv", usage, doc, footer, opts, nidec_cli_config_schemas, 0 };

	nidec_cfg_init(&cfg);
	if ((ret = nidec_cli_parse(comm, &cmd, argc, argv, &c)) >= 0)
		goto done;
	if (config)
		rc = nidec_cfg_load(&cfg, config, &err);
	/* options after the file, whatever their position, so that they win */
	if (rc == 0)
		rc = nidec_cli_apply_sets(&cfg, &c.sets, &err);
	if (rc == 0)
		rc = nidec_cfg_finish(&cfg, &err);
	/* every rank parsed the same input: agree so the error prints once */
	rc = nidec_comm_agree(comm, rc, &err);
	if (rc == 0) {
		memset(&sub, 0, sizeof(sub));
		sub.cfg = &cfg;
		sub.dataset = dataset;
		sub.analysis = &nidec_decoder_analysis;
		opt.label = "cv";
		opt.progress = cfg.progress;
		opt.print = 1;
		rc = nidec_job_run(comm, &sub, 1, &opt, &err);
		nidec_job_subject_release(&sub);
	}
	ret = rc < 0 ? nidec_cli_fail(&err, comm) : NIDEC_EXIT_OK;
done:
	nidec_cli_common_release(&c);
	nidec_cfg_release(&cfg);
	return ret;
}
