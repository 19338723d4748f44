/*
 * cmd_synth.c - `nidec synth -o DIR [options]`: a synthetic subject with a
 * planted signal (src/io/synth.c), for benchmarks and tests.
 *
 * Rank 0 writes the small files (mask, events, labels, config) first; then
 * the runs (--across-subjects: the subjects' maps) are shared out
 * round-robin over the ranks (run r on rank r mod N).  Every value is drawn from streams keyed by (seed, run,
 * volume), so the files do not depend on the number of ranks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/synth.h"

static const char usage[] = "usage: nidec synth -o DIR [options]\n";

static const char doc[] =
	"Write a synthetic subject: one 4D NIfTI per run, BIDS events, a brain-like\n"
	"ellipsoid mask, a labels table and a ready config (DIR/synth.ini).  Each class\n"
	"adds a fixed random spatial pattern times SIGNAL (in noise standard deviations)\n"
	"to its blocks of volumes.  The same seed gives the same files, for any number\n"
	"of ranks (runs are shared out over the ranks).  --layout fmriprep writes the\n"
	"study as fMRIPrep leaves it instead (include/nidec/synth.h).\n"
	"--across-subjects N writes a study instead: one 3D map per subject (a smooth\n"
	"noise field plus SIGNAL x the subject's score x a fixed smooth pattern), a\n"
	"sample table DIR/subjects.tsv (path, subject, contrast, score, age) and a\n"
	"synth.ini that predicts the score with ridge over 5 folds of subjects.\n";

static const nidec_key_name datatypes[] = { { "int16", 0 }, { "float32", 1 }, { NULL, 0 } };
static const nidec_key_name layouts[] = { { "flat", 0 }, { "fmriprep", 1 }, { NULL, 0 } };

/* --dims XxYxZ */
static int parse_dims(const nidec_opt *opt, const char *s, nidec_err *err)
{
	int64_t *d = opt->value;
	long long a, b, c;
	char tail;

	if (sscanf(s, "%lldx%lldx%lld%c", &a, &b, &c, &tail) != 3 || a < 1 || b < 1 || c < 1 ||
	    a > 32767 || b > 32767 || c > 32767)
		return nidec_fail(err, NIDEC_EUSAGE, "--dims '%s': give XxYxZ, each 1..32767, e.g. 40x64x64",
				  s);
	d[0] = a;
	d[1] = b;
	d[2] = c;
	return 0;
}

int cmd_synth(int argc, char **argv, nidec_comm *comm)
{
	nidec_synth_opts o = NIDEC_SYNTH_OPTS_INIT;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_cli_common c = NIDEC_CLI_COMMON_INIT;
	unsigned char *mask = NULL;
	size_t n_inside = 0;
	int r, rc = 0, rank = nidec_comm_rank(comm), size = nidec_comm_size(comm), seed = 0, ret;
	double t0 = nidec_now();
	nidec_opt opts[] = {
		NIDEC_OPT_STRING('o', "output", &o.dir, "DIR", NULL,
				 "output directory, created if needed (required)"),
		NIDEC_OPT_CALLBACK(0, "dims", o.dims, "XxYxZ", "40x64x64", "grid", parse_dims),
		NIDEC_OPT_INT(0, "runs", &o.runs, "N", 1, 9999, "12", "runs, one file each, 1..9999"),
		NIDEC_OPT_INT(0, "volumes", &o.volumes, "N", 1, 32767, "121",
			      "volumes per run, at least 2 per class"),
		NIDEC_OPT_INT(0, "classes", &o.classes, "N", 2, 64, "8", "conditions besides rest, 2..64"),
		NIDEC_OPT_DOUBLE(0, "tr", &o.tr, "SEC", 0, 1000, NIDEC_KEY_LO_OPEN, "seconds", "2.5",
				 "repetition time"),
		NIDEC_OPT_DOUBLE(0, "signal", &o.signal, "S", 0, 100, 0, "noise SDs", "0.5",
				 "planted signal in noise SDs"),
		NIDEC_OPT_DOUBLE(0, "signal-radius", &o.signal_radius, "MM", 0, 1e6, 0, "mm", "0",
				 "plant it only within MM of the grid's centre (0: everywhere)"),
		NIDEC_OPT_DOUBLE(0, "mask-fraction", &o.mask_fraction, "F", 0, 1, NIDEC_KEY_LO_OPEN, NULL,
				 "0.25", "fraction of the grid inside the mask"),
		NIDEC_OPT_DOUBLE(0, "voxel-size", &o.voxel_size, "MM", 0, 1000, NIDEC_KEY_LO_OPEN, "mm",
				 "3", "isotropic voxel size"),
		NIDEC_OPT_INT(0, "seed", &seed, "N", 0, 2147483647, "0", "random seed"),
		NIDEC_OPT_STRING(0, "subject", &o.subject, "LABEL", "01", "BIDS subject label"),
		NIDEC_OPT_CHOICE(0, "layout", &o.fmriprep, "LAYOUT", layouts, "flat",
				 "flat: files in DIR; fmriprep: a raw BIDS tree with events and an fMRIPrep-like derivatives tree (bold, brain masks, confounds TSV) with drift and confounds planted"),
		NIDEC_OPT_STRING(0, "session", &o.session, "LABEL", NULL, "BIDS session label (fmriprep layout)"),
		NIDEC_OPT_FLAG(0, "target", &o.target,
			       "also plant a continuous target: a per-block modulation in the events and labels.txt, linearly related to a fixed map (flat layout; synth.ini runs ridge on it)"),
		NIDEC_OPT_INT(0, "across-subjects", &o.across, "N", 0, 9999, "0",
			      "write an across-subject set of N subjects (3..9999) instead of one subject's runs: a map per subject with a planted linear relation to its score, subjects.tsv, mask, synth.ini; 0: off"),
		NIDEC_OPT_CHOICE(0, "datatype", &o.float32, "TYPE", datatypes, "int16",
				 "int16 or float32 voxels"),
		NIDEC_OPT_INT(0, "compress", &o.compress_level, "N", 1, 9, "1",
			      "gzip level of the runs, 1 fast .. 9 small"),
		NIDEC_CLI_OPTS_COMMON(&c),
		NIDEC_OPT_END()
	};
	nidec_opt_cmd cmd = { "nidec synth", usage, doc, NULL, opts, NULL, 0 };

	if ((ret = nidec_cli_parse(comm, &cmd, argc, argv, &c)) >= 0)
		return ret;
	if (!o.dir)
		return nidec_cli_usage_error(comm, &cmd, "missing -o DIR; %.*s", (int)strlen(usage) - 1,
					     usage);
	o.seed = (uint64_t)seed;

	rc = nidec_synth_check(&o, &err);
	if (rc == 0)
		rc = nidec_synth_mask(&o, &mask, &n_inside, &err);
	if (rc == 0 && rank == 0)
		rc = nidec_synth_write_common(&o, mask, &err);
	rc = nidec_comm_agree(comm, rc, &err);
	for (r = rank; rc == 0 && r < (o.across ? o.across : o.runs); r += size) {
		rc = o.across ? nidec_synth_write_map(&o, mask, r, &err) : nidec_synth_write_run(&o, mask, r, &err);
		nidec_debug("synth: %s %d written", o.across ? "subject" : "run", r + 1);
	}
	{
		nidec_err mine = err;
		int local = rc;
		rc = nidec_comm_agree(comm, rc, &err);
		if (rank != 0 && local < 0 && strcmp(mine.msg, err.msg))
			nidec_error("%s", mine.msg);
	}
	nidec_free(mask);
	if (rc < 0)
		return rank == 0 ? nidec_cli_fail(&err, comm) : nidec_cli_exit_code(rc);
	if (o.across) {
		nidec_out("wrote '%s': %d subject maps of %lldx%lldx%lld (%zu voxels in the mask); sample table '%s/subjects.tsv', config '%s/synth.ini' (%.1fs)\n",
			  o.dir, o.across, (long long)o.dims[0], (long long)o.dims[1], (long long)o.dims[2],
			  n_inside, o.dir, o.dir, nidec_now() - t0);
		return NIDEC_EXIT_OK;
	}
	nidec_out("wrote '%s': %d runs x %d volumes of %lldx%lldx%lld (%zu voxels in the mask), %d classes; config '%s/synth.ini' (%.1fs)\n",
		  o.dir, o.runs, o.volumes, (long long)o.dims[0], (long long)o.dims[1],
		  (long long)o.dims[2], n_inside, o.classes, o.dir, nidec_now() - t0);
	return NIDEC_EXIT_OK;
}
