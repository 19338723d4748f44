/*
 * cmd_run.c - `nidec run CONFIG [options]`: the whole pipeline from one
 * config: convert the NIfTI inputs to the dataset (or reuse it when its
 * recorded input hashes match), cross-validate, write the outputs.
 *
 * A job of one subject (job.h): rank 0 converts, then every rank reads
 * the dataset itself.  The dataset goes to [data] dataset, or <[output]
 * dir>/dataset.h5.  A bad config value fails before anything is written;
 * an error found only with the labels (more folds than samples, a
 * one-class training fold) fails after conversion but before any result
 * file, leaving the reusable dataset.h5 only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "nidec/job.h"
#include "nidec/log.h"

static const char usage_text[] =
	"usage: nidec run CONFIG [options]\n"
	"\n"
	"The whole pipeline from a config: convert the NIfTI inputs into the dataset\n"
	"(reused when its recorded input hashes match), cross-validate, write the\n"
	"outputs.  Run it under mpirun/srun to spread the work over ranks.\n"
	"\n"
	"  CONFIG               INI file (configs/default.ini lists every key)\n"
	"  --force              convert again even if the dataset is up to date (default: off)\n"
	"  --timing             print stage times (min/mean/max over ranks), tasks and\n"
	"                       busy time per rank and the parallel efficiency (default: off)\n"
	"  --resume             continue an interrupted run from its checkpoint\n"
	"                       (<[output] dir>/results.ledger): finished tasks are not\n"
	"                       run again and the outputs are those of an uninterrupted\n"
	"                       run; without a checkpoint, start from the beginning\n"
	"                       (default: off: a new run replaces an old checkpoint)\n"
	"  --checkpoint-interval SEC\n"
	"                       seconds between syncs of the checkpoint to disk (every\n"
	"                       result is written to it as it arrives); the same as\n"
	"                       --set output.checkpoint_interval=SEC (default 30)\n"
	"  --set SEC.KEY=VAL    override a config key, any number of times\n"
	"                       (e.g. --set cv.scheme=kfold --set output.dir=out)\n"
	"  --progress SEC       seconds between progress lines on stderr (default 10, 0 = off)\n"
	"  -q, --quiet          errors only\n"
	"  -v, --verbose        more detail (twice: debug)\n"
	"  -h, --help           this text\n"
	"\n"
	"SIGTERM (Slurm's time limit or preemption), SIGUSR1 (forwarded by mpirun) or\n"
	"SIGINT stop the run: no new tasks, the running ones finish, the checkpoint is\n"
	"saved and every rank exits with status 3; run the same command again with\n"
	"--resume.  Exit status: 0 ok, 1 error, 2 bad command line, 3 interrupted.\n"
	"\n"
	"The dataset goes to [data] dataset (default <[output] dir>/dataset.h5); the\n"
	"outputs (scores.tsv, grid_scores.tsv, predictions.tsv, summary.json, model.h5,\n"
	"results.h5, weights_<class>.nii.gz, weights_std_<class>.nii.gz, and\n"
	"null_scores.tsv with [cv] permutations > 0) to [output] dir.\n";

static int usage_error(nidec_comm *comm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(nidec_comm *comm, const char *fmt, ...)
{
	va_list ap;

	if (nidec_comm_rank(comm) == 0) {
		fprintf(stderr, "nidec run: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, "\n\n%s", usage_text);
	}
	return NIDEC_EXIT_USAGE;
}

static int takes_arg(const char *a)
{
	return !strcmp(a, "--set") || !strcmp(a, "--progress") ||
	       !strcmp(a, "--checkpoint-interval");
}

int cmd_run(int argc, char **argv, nidec_comm *comm)
{
	nidec_cfg cfg;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_job_opts opt = NIDEC_JOB_OPTS_INIT;
	nidec_job_subject sub;
	const char *config = NULL;
	char dataset[4096];
	int i, rc = 0, ret;

	nidec_cfg_init(&cfg);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			if (nidec_comm_rank(comm) == 0)
				fputs(usage_text, stdout);
			return NIDEC_EXIT_OK;
		}
		if (takes_arg(a)) {
			i++;
			continue;
		}
		if (a[0] == '-' && a[1])
			continue;
		if (config)
			return usage_error(comm, "unexpected argument '%s'", a);
		config = a;
	}
	if (!config)
		return usage_error(comm, "missing CONFIG");

	rc = nidec_cfg_load(&cfg, config, &err);
	for (i = 1; rc == 0 && i < argc; i++) {
		const char *a = argv[i];
		int used;

		if (a[0] != '-' || !a[1])
			continue;
		used = nidec_cli_common(argc, argv, &i, &cfg, &err);
		if (used < 0) {
			rc = used;
			break;
		}
		if (used)
			continue;
		if (!strcmp(a, "--force")) {
			opt.force = 1;
		} else if (!strcmp(a, "--timing")) {
			opt.timing = 1;
		} else if (!strcmp(a, "--resume")) {
			opt.resume = 1;
		} else if (!strcmp(a, "--checkpoint-interval")) {
			rc = nidec_cfg_put(&cfg, "output", "checkpoint_interval", argv[++i],
					   "--checkpoint-interval", &err);
		} else {
			nidec_cfg_release(&cfg);
			return usage_error(comm, "unknown option '%s'", a);
		}
	}
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
		memset(&sub, 0, sizeof(sub));
		sub.cfg = &cfg;
		sub.dataset = dataset;
		sub.convert = 1;
		sub.analysis = &nidec_decoder_analysis;
		opt.label = "cv";
		opt.progress = cfg.progress;
		opt.print = 1;
		rc = nidec_job_run(comm, &sub, 1, &opt, &err);
		nidec_job_subject_release(&sub);
	}
	ret = rc < 0 ? nidec_cli_fail(&err, comm) : NIDEC_EXIT_OK;
	nidec_cfg_release(&cfg);
	return ret;
}
