/*
 * cmd_convert.c - `nidec convert [CONFIG] [options]`: NIfTI runs + mask +
 * labels -> one masked HDF5 dataset (src/io/convert.c does the work).
 *
 * Every rank parses the command line and the config (so usage errors and
 * exit statuses agree without messages); rank 0 converts while the others
 * wait in nidec_comm_agree() and leave with rank 0's status.  Only rank 0
 * prints.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "nidec/convert.h"
#include "nidec/log.h"
#include "nidec/mem.h"

static const char usage_text[] =
	"usage: nidec convert [CONFIG] [options]\n"
	"\n"
	"Convert NIfTI runs, a mask and labels into one masked HDF5 dataset (samples x\n"
	"voxels, float32; layout in docs/FORMAT.md).  Only the [data] section of CONFIG\n"
	"is used.  An existing output whose recorded input hashes match is reused.\n"
	"Under mpirun, rank 0 converts and the other ranks exit with its status.\n"
	"\n"
	"  CONFIG                INI file (optional when the options give the inputs)\n"
	"  -o, --output FILE     dataset to write (default: [data] dataset, else\n"
	"                        <[output] dir>/dataset.h5, i.e. results/dataset.h5)\n"
	"  --bold PATH|GLOB      one 4D NIfTI, or a glob of per-run 4D files sorted\n"
	"                        naturally, one run each (default: [data] bold, none)\n"
	"  --mask FILE           3D mask, non-zero = inside; resampled (nearest) if its\n"
	"                        grid differs (default: [data] mask, none)\n"
	"  --labels FILE         labels table, one row per volume (default: [data] labels)\n"
	"  --events GLOB         per-run BIDS events.tsv, one per BOLD file\n"
	"                        (default: [data] events)\n"
	"  --conditions LIST     comma-separated conditions to keep (default: all)\n"
	"  --label-column NAME   labels table column of the condition (default: labels)\n"
	"  --run-column NAME     labels table column of the run (default: chunks)\n"
	"  --hrf-shift SEC       seconds added to event onsets (default: 0)\n"
	"  --force               convert even if the output is up to date (default: off)\n"
	"  --set SEC.KEY=VAL     override a config key, any number of times\n"
	"  -q, --quiet           errors only\n"
	"  -v, --verbose         more detail (twice: debug)\n"
	"  -h, --help            this text\n";

/* Options that set a [data] key: option name -> key. */
static const struct {
	const char *opt;
	const char *key;
} data_opts[] = {
	{ "--bold", "bold" }, { "--mask", "mask" }, { "--labels", "labels" },
	{ "--events", "events" }, { "--conditions", "conditions" },
	{ "--label-column", "label_column" }, { "--run-column", "run_column" },
	{ "--hrf-shift", "hrf_shift" },
};

static int usage_error(nidec_comm *comm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(nidec_comm *comm, const char *fmt, ...)
{
	va_list ap;

	if (nidec_comm_rank(comm) == 0) {
		fprintf(stderr, "nidec convert: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, "; see 'nidec convert --help'\n");
	}
	return NIDEC_EXIT_USAGE;
}

/* If argv[*i] is option `name` ("--x VAL" or "--x=VAL"), set *val and
 * return 1 (advancing *i past a separate value); -1 if the value is missing. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n))
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n])
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 1;
}

/* Is `a` one of our options given as "--opt=VALUE"? */
static int has_inline_value(const char *a)
{
	static const char *const with_value[] = { "--output=", "--set=", "--progress=" };
	size_t k;

	for (k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++)
		if (!strncmp(a, with_value[k], strlen(with_value[k])))
			return 1;
	for (k = 0; k < sizeof(data_opts) / sizeof(data_opts[0]); k++)
		if (!strncmp(a, data_opts[k].opt, strlen(data_opts[k].opt)) &&
		    a[strlen(data_opts[k].opt)] == '=')
			return 1;
	return 0;
}

static int is_flag(const char *a)
{
	return !strcmp(a, "--force") || !strcmp(a, "-q") || !strcmp(a, "--quiet") ||
	       !strcmp(a, "-v") || !strcmp(a, "--verbose") || !strcmp(a, "-vv");
}

static int takes_value(const char *a)
{
	size_t k;

	if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--set") ||
	    !strcmp(a, "--progress"))
		return 1;
	for (k = 0; k < sizeof(data_opts) / sizeof(data_opts[0]); k++)
		if (!strcmp(a, data_opts[k].opt))
			return 1;
	return 0;
}

int cmd_convert(int argc, char **argv, nidec_comm *comm)
{
	nidec_convert_opts opts = NIDEC_CONVERT_OPTS_INIT;
	nidec_convert_result res;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_cfg cfg;
	const char *config = NULL, *output = NULL;
	char *out_path = NULL;
	int i, rc = 0, ret, rank = nidec_comm_rank(comm);
	double t0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			if (rank == 0)
				fputs(usage_text, stdout);
			return NIDEC_EXIT_OK;
		}
		if (takes_value(argv[i])) {
			i++;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			if (!is_flag(argv[i]) && !has_inline_value(argv[i]))
				return usage_error(comm, "unknown option '%s'", argv[i]);
			continue;
		}
		if (config)
			return usage_error(comm, "unexpected argument '%s' (one CONFIG only)", argv[i]);
		config = argv[i];
	}

	nidec_cfg_init(&cfg);
	if (config)
		rc = nidec_cfg_load(&cfg, config, &err);
	for (i = 1; rc == 0 && i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		size_t k;
		int used = 0;

		if (a[0] != '-' || !a[1])
			continue;
		if (!strcmp(a, "--force")) {
			opts.force = 1;
			continue;
		}
		if ((used = opt_value(argc, argv, &i, "--output", &v)) != 0 ||
		    (used = opt_value(argc, argv, &i, "-o", &v)) != 0) {
			if (used < 0)
				goto missing;
			output = v;
			continue;
		}
		for (k = 0; k < sizeof(data_opts) / sizeof(data_opts[0]); k++)
			if ((used = opt_value(argc, argv, &i, data_opts[k].opt, &v)) != 0)
				break;
		if (used < 0)
			goto missing;
		if (used) {
			rc = nidec_cfg_put(&cfg, "data", data_opts[k].key, v, data_opts[k].opt, &err);
			continue;
		}
		used = nidec_cli_common(argc, argv, &i, &cfg, &err);
		if (used < 0) {
			rc = used;
			break;
		}
		if (!used) {
			nidec_cfg_release(&cfg);
			return usage_error(comm, "unknown option '%s'", a);
		}
		continue;
missing:
		nidec_cfg_release(&cfg);
		return usage_error(comm, "option '%s' needs a value", a);
	}
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
	nidec_free(out_path);
	nidec_cfg_release(&cfg);
	return ret;
}
