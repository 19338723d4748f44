/*
 * cmd_cv.c - `nidec cv DATASET.h5 [CONFIG] [options]`: cross-validated
 * decoding on a dataset written by `nidec convert`.
 *
 * The config supplies everything but [data] (the dataset is given); its
 * [data] conditions, if set, select the samples to decode.  Options are
 * applied after the config file whatever their position on the command
 * line, so `--set` and `-o` always win.  Every rank parses the same command
 * line; only rank 0 prints usage and errors.  The job itself is a job of
 * one subject (job.h) without conversion.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "nidec/job.h"
#include "nidec/log.h"

static const char usage_text[] =
	"usage: nidec cv DATASET.h5 [CONFIG] [options]\n"
	"\n"
	"Cross-validated decoding on a dataset written by 'nidec convert'; run it\n"
	"under mpirun/srun to spread the tasks over ranks.\n"
	"\n"
	"  DATASET.h5           the masked dataset (samples x voxels, labels, runs)\n"
	"  CONFIG               INI file (configs/default.ini lists every key); optional:\n"
	"                       without it every key takes its default\n"
	"  -o, --output DIR     output directory (default: [output] dir, \"results\")\n"
	"  --timing             print stage times (min/mean/max over ranks), tasks and\n"
	"                       busy time per rank and the parallel efficiency; also\n"
	"                       stored in summary.json (default: off)\n"
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
	"                       (e.g. --set cv.scheme=kfold --set model.C=0.1,1,10)\n"
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
	"Writes scores.tsv, grid_scores.tsv, predictions.tsv, summary.json, model.h5,\n"
	"results.h5, weights_<class>.nii.gz / weights_std_<class>.nii.gz and, with\n"
	"[cv] permutations > 0, null_scores.tsv into the output directory; prints the\n"
	"score table (and the permutation p-values) on stdout.\n";

/* Options that take an argument (so pass 1 can skip their values). */
static int takes_arg(const char *a)
{
	return !strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--set") ||
	       !strcmp(a, "--progress") ||
	       !strcmp(a, "--checkpoint-interval");
}

static int usage_error(nidec_comm *comm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(nidec_comm *comm, const char *fmt, ...)
{
	va_list ap;

	if (nidec_comm_rank(comm) == 0) {
		fprintf(stderr, "nidec cv: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, "\n\n%s", usage_text);
	}
	return NIDEC_EXIT_USAGE;
}

int cmd_cv(int argc, char **argv, nidec_comm *comm)
{
	nidec_cfg cfg;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_job_opts opt = NIDEC_JOB_OPTS_INIT;
	nidec_job_subject sub;
	const char *config = NULL, *dataset = NULL;
	int i, rc = 0, ret;

	nidec_cfg_init(&cfg);
	/* pass 1: positionals and --help */
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
		if (!dataset)
			dataset = a;
		else if (!config)
			config = a;
		else
			return usage_error(comm, "unexpected argument '%s'", a);
	}
	if (!dataset)
		return usage_error(comm, "missing DATASET.h5");

	if (config)
		rc = nidec_cfg_load(&cfg, config, &err);
	/* pass 2: options, after the file so that they win */
	for (i = 1; rc == 0 && i < argc; i++) {
		const char *a = argv[i];
		int used;

		if (a[0] != '-' || !a[1]) {
			continue;
		}
		used = nidec_cli_common(argc, argv, &i, &cfg, &err);
		if (used < 0) {
			rc = used;
			break;
		}
		if (used)
			continue;
		if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			if (i + 1 >= argc) {
				nidec_cfg_release(&cfg);
				return usage_error(comm, "%s needs a directory", a);
			}
			rc = nidec_cfg_put(&cfg, "output", "dir", argv[++i], "-o", &err);
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
	nidec_cfg_release(&cfg);
	return ret;
}
