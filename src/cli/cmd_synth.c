/*
 * cmd_synth.c - `nidec synth -o DIR [options]`: a synthetic subject with a
 * planted signal (src/io/synth.c), for benchmarks and tests.
 *
 * Rank 0 writes the small files (mask, events, labels, config) first; then
 * the runs are shared out round-robin over the ranks (run r on rank
 * r mod N).  Every value is drawn from streams keyed by (seed, run,
 * volume), so the files do not depend on the number of ranks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/synth.h"

static const char usage_text[] =
	"usage: nidec synth -o DIR [options]\n"
	"\n"
	"Write a synthetic subject: one 4D NIfTI per run, BIDS events, a brain-like\n"
	"ellipsoid mask, a labels table and a ready config (DIR/synth.ini).  Each class\n"
	"adds a fixed random spatial pattern times SIGNAL (in noise standard deviations)\n"
	"to its blocks of volumes.  The same seed gives the same files, for any number\n"
	"of ranks (runs are shared out over the ranks).\n"
	"\n"
	"  -o, --output DIR      output directory, created if needed (required)\n"
	"  --dims XxYxZ          grid (default: 40x64x64)\n"
	"  --runs N              runs, one file each (default: 12)\n"
	"  --volumes N           volumes per run (default: 121)\n"
	"  --classes N           conditions besides rest, 2..64 (default: 8)\n"
	"  --tr SEC              repetition time (default: 2.5)\n"
	"  --signal S            planted signal in noise SDs (default: 0.5)\n"
	"  --mask-fraction F     fraction of the grid inside the mask (default: 0.25)\n"
	"  --voxel-size MM       isotropic voxel size (default: 3)\n"
	"  --seed N              random seed (default: 0)\n"
	"  --subject LABEL       BIDS subject label (default: 01)\n"
	"  --datatype TYPE       int16 or float32 voxels (default: int16)\n"
	"  --compress N          gzip level of the runs, 1 fast .. 9 small (default: 1)\n"
	"  -q, --quiet           errors only\n"
	"  -v, --verbose         more detail (twice: debug)\n"
	"  -h, --help            this text\n";

static int usage_error(nidec_comm *comm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(nidec_comm *comm, const char *fmt, ...)
{
	va_list ap;

	if (nidec_comm_rank(comm) == 0) {
		fprintf(stderr, "nidec synth: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, "; see 'nidec synth --help'\n");
	}
	return NIDEC_EXIT_USAGE;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return end == s || *end || errno ? -1 : 0;
}

static int parse_dims(const char *s, int64_t d[3])
{
	long long a, b, c;
	char tail;

	if (sscanf(s, "%lldx%lldx%lld%c", &a, &b, &c, &tail) != 3 || a < 1 || b < 1 || c < 1 ||
	    a > 32767 || b > 32767 || c > 32767)
		return -1;
	d[0] = a;
	d[1] = b;
	d[2] = c;
	return 0;
}

int cmd_synth(int argc, char **argv, nidec_comm *comm)
{
	nidec_synth_opts o = NIDEC_SYNTH_OPTS_INIT;
	nidec_err err = NIDEC_ERR_INIT;
	unsigned char *mask = NULL;
	size_t n_inside = 0;
	int i, r, rc = 0, rank = nidec_comm_rank(comm), size = nidec_comm_size(comm);
	double t0 = nidec_now();

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		long n;
		int used;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			if (rank == 0)
				fputs(usage_text, stdout);
			return NIDEC_EXIT_OK;
		}
		used = nidec_cli_common(argc, argv, &i, NULL, &err);
		if (used < 0)
			return usage_error(comm, "%s", err.msg);
		if (used)
			continue;
		if (a[0] != '-')
			return usage_error(comm, "unexpected argument '%s'", a);
		if (i + 1 >= argc)
			return usage_error(comm, "option '%s' needs a value", a);
		v = argv[++i];
		if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			o.dir = v;
		} else if (!strcmp(a, "--dims")) {
			if (parse_dims(v, o.dims) < 0)
				return usage_error(comm, "--dims '%s': give XxYxZ, e.g. 40x64x64", v);
		} else if (!strcmp(a, "--runs")) {
			if (parse_long(v, 1, 9999, &n) < 0)
				return usage_error(comm, "--runs '%s': give 1..9999", v);
			o.runs = (int)n;
		} else if (!strcmp(a, "--volumes")) {
			if (parse_long(v, 1, 32767, &n) < 0)
				return usage_error(comm, "--volumes '%s': give 1..32767", v);
			o.volumes = (int)n;
		} else if (!strcmp(a, "--classes")) {
			if (parse_long(v, 2, 64, &n) < 0)
				return usage_error(comm, "--classes '%s': give 2..64", v);
			o.classes = (int)n;
		} else if (!strcmp(a, "--tr")) {
			if (parse_double(v, &o.tr) < 0)
				return usage_error(comm, "--tr '%s' is not a number", v);
		} else if (!strcmp(a, "--signal")) {
			if (parse_double(v, &o.signal) < 0)
				return usage_error(comm, "--signal '%s' is not a number", v);
		} else if (!strcmp(a, "--mask-fraction")) {
			if (parse_double(v, &o.mask_fraction) < 0)
				return usage_error(comm, "--mask-fraction '%s' is not a number", v);
		} else if (!strcmp(a, "--voxel-size")) {
			if (parse_double(v, &o.voxel_size) < 0)
				return usage_error(comm, "--voxel-size '%s' is not a number", v);
		} else if (!strcmp(a, "--seed")) {
			if (parse_long(v, 0, 2147483647L, &n) < 0)
				return usage_error(comm, "--seed '%s': give a whole number >= 0", v);
			o.seed = (uint64_t)n;
		} else if (!strcmp(a, "--subject")) {
			o.subject = v;
		} else if (!strcmp(a, "--datatype")) {
			if (strcmp(v, "int16") && strcmp(v, "float32"))
				return usage_error(comm, "--datatype '%s': give int16 or float32", v);
			o.float32 = !strcmp(v, "float32");
		} else if (!strcmp(a, "--compress")) {
			if (parse_long(v, 1, 9, &n) < 0)
				return usage_error(comm, "--compress '%s': give 1..9", v);
			o.compress_level = (int)n;
		} else {
			return usage_error(comm, "unknown option '%s'", a);
		}
	}
	if (!o.dir)
		return usage_error(comm, "missing -o DIR");

	rc = nidec_synth_check(&o, &err);
	if (rc == 0)
		rc = nidec_synth_mask(&o, &mask, &n_inside, &err);
	if (rc == 0 && rank == 0)
		rc = nidec_synth_write_common(&o, mask, &err);
	rc = nidec_comm_agree(comm, rc, &err);
	for (r = rank; rc == 0 && r < o.runs; r += size) {
		rc = nidec_synth_write_run(&o, mask, r, &err);
		nidec_debug("synth: run %d written", r + 1);
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
	nidec_out("wrote '%s': %d runs x %d volumes of %lldx%lldx%lld (%zu voxels in the mask), %d classes; config '%s/synth.ini' (%.1fs)\n",
		  o.dir, o.runs, o.volumes, (long long)o.dims[0], (long long)o.dims[1],
		  (long long)o.dims[2], n_inside, o.classes, o.dir, nidec_now() - t0);
	return NIDEC_EXIT_OK;
}
