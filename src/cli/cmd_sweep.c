/*
 * cmd_sweep.c - `nidec sweep SWEEP.ini [options]`: one analysis config
 * over many subjects (docs/SWEEP.md).
 *
 * Modes:
 *   (default)          every subject in one launch and one task space
 *                      (the job driver, job.h), then the group files
 *                      (src/job/group.c)
 *   --only SUBJECT     one subject (a Slurm array task); no group files
 *   --gather           the group files from the subjects' outputs only
 *   --emit-slurm DIR   the job array + gather scripts (src/job/slurm.c)
 *   --list             the subjects, with their array index
 *
 * Every rank parses the same command line and sweep file and resolves the
 * same subject list; the ranks check that their lists agree (a file
 * system that differs between nodes would otherwise make them schedule
 * different task spaces).  Only rank 0 prints usage, errors and results.
 *
 * Exit status: 0 every subject done; 4 (NIDEC_EXIT_PARTIAL) some subjects
 * failed, the others are complete; 1 every subject failed or the sweep
 * itself failed; 2 bad command line; 3 interrupted by SIGTERM, SIGUSR1 or
 * SIGINT (signals.h; the subjects finished so far are written, --resume
 * does the rest).  Every rank returns the same status.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "nidec/job.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/results.h"
#include "nidec/sbuf.h"
#include "nidec/sweep.h"

static const char usage_text[] =
	"usage: nidec sweep SWEEP.ini [options]\n"
	"\n"
	"Decode many subjects with one analysis config, in one launch: every\n"
	"subject's tasks form one task space, so ranks never idle while a subject\n"
	"finishes.  Each subject's outputs go to <[output] dir>/sub-<label>/ (the same\n"
	"files as 'nidec run'), the group's to <[output] dir>/: dataset_description.json,\n"
	"group_scores.tsv, group_summary.json (docs/SWEEP.md).\n"
	"\n"
	"  SWEEP.ini            a [sweep] section: analysis = CONFIG, and subjects with\n"
	"                       per-subject patterns ({subject}) or bids_root + task\n"
	"  --only SUBJECT       run one subject (label, e.g. 01); no group files\n"
	"  --only-index N       run the N-th subject (0-based, as $SLURM_ARRAY_TASK_ID)\n"
	"  --gather             write the group files from the subjects' outputs only\n"
	"  --resume             keep subjects whose outputs are complete and current\n"
	"                       (same config and inputs); run the others (default: off)\n"
	"  --force              convert again even if a dataset is up to date (default: off)\n"
	"  --list               print the subjects with their index and exit\n"
	"  --emit-slurm DIR     write DIR/sweep-array.sbatch (a job array, one subject per\n"
	"                       task) and DIR/sweep-gather.sbatch; print how to submit\n"
	"    --ntasks N         ranks per array task (default 2)\n"
	"    --time T           time limit of an array task (default 01:00:00)\n"
	"    --mem-per-cpu M    memory per rank (default 4G)\n"
	"    --partition P      Slurm partition (default: the cluster's default)\n"
	"    --account A        Slurm account (default: none)\n"
	"  --set SEC.KEY=VAL    override a key of the analysis config (or sweep.KEY of\n"
	"                       the sweep file), any number of times\n"
	"  --progress SEC       seconds between progress lines on stderr (default 10, 0 = off)\n"
	"  -q, --quiet          errors only\n"
	"  -v, --verbose        more detail (twice: debug)\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit status: 0 all subjects done, 4 some failed (see group_summary.json),\n"
	"1 all failed or an error, 2 bad usage, 3 interrupted (run again with --resume).\n";

static int usage_error(nidec_comm *comm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(nidec_comm *comm, const char *fmt, ...)
{
	va_list ap;

	if (nidec_comm_rank(comm) == 0) {
		fprintf(stderr, "nidec sweep: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, "; see 'nidec sweep --help'\n");
	}
	return NIDEC_EXIT_USAGE;
}

struct opts {
	const char *sweep;
	char **sets;            /* --set values (not sweep.*) and --progress, in order */
	size_t n_sets;
	char **sweep_sets;      /* --set sweep.* */
	size_t n_sweep_sets;
	const char *only;
	long only_index;
	int gather, resume, force, list;
	nidec_sweep_slurm slurm;
	int slurm_opt;          /* an option of --emit-slurm was given */
};

static int push(char ***v, size_t *n, const char *s)
{
	char **nv = nidec_realloc(*v, (*n + 1) * sizeof(char *));

	if (!nv)
		return NIDEC_ENOMEM;
	*v = nv;
	nv[*n] = nidec_strdup(s);
	if (!nv[*n])
		return NIDEC_ENOMEM;
	(*n)++;
	return 0;
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

/* Returns 0, NIDEC_EXIT_USAGE (message printed) or a negative code. */
static int parse_args(int argc, char **argv, nidec_comm *comm, struct opts *o, nidec_err *err)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int used;

		if (!strcmp(a, "--set") || !strcmp(a, "--progress") || !strncmp(a, "--set=", 6) ||
		    !strncmp(a, "--progress=", 11)) {
			char buf[128];
			const char *eq = strchr(a, '=');
			if (eq) {
				v = eq + 1;
			} else {
				if (!v)
					return usage_error(comm, "%s needs a value", a);
				i++;
			}
			if (!strncmp(a, "--progress", 10)) {
				snprintf(buf, sizeof(buf), "output.progress=%s", v);
				NIDEC_TRY(push(&o->sets, &o->n_sets, buf) < 0
						  ? nidec_fail(err, NIDEC_ENOMEM, "out of memory") : 0);
			} else if (!strncmp(v, "sweep.", 6)) {
				NIDEC_TRY(push(&o->sweep_sets, &o->n_sweep_sets, v) < 0
						  ? nidec_fail(err, NIDEC_ENOMEM, "out of memory") : 0);
			} else {
				NIDEC_TRY(push(&o->sets, &o->n_sets, v) < 0
						  ? nidec_fail(err, NIDEC_ENOMEM, "out of memory") : 0);
			}
			continue;
		}
		used = nidec_cli_common(argc, argv, &i, NULL, err); /* -q, -v */
		if (used < 0)
			return used;
		if (used)
			continue;
		if (!strcmp(a, "--only")) {
			if (!v)
				return usage_error(comm, "--only needs a subject label");
			o->only = argv[++i];
		} else if (!strcmp(a, "--only-index")) {
			if (!v || parse_long(v, 0, 100000000L, &o->only_index) < 0)
				return usage_error(comm, "--only-index needs a whole number >= 0");
			i++;
		} else if (!strcmp(a, "--gather")) {
			o->gather = 1;
		} else if (!strcmp(a, "--resume")) {
			o->resume = 1;
		} else if (!strcmp(a, "--force")) {
			o->force = 1;
		} else if (!strcmp(a, "--list")) {
			o->list = 1;
		} else if (!strcmp(a, "--emit-slurm")) {
			if (!v)
				return usage_error(comm, "--emit-slurm needs a directory");
			o->slurm.dir = argv[++i];
		} else if (!strcmp(a, "--ntasks")) {
			long n;
			if (!v || parse_long(v, 1, 1000000L, &n) < 0)
				return usage_error(comm, "--ntasks needs a whole number >= 1");
			o->slurm.ntasks = (int)n;
			o->slurm_opt = 1;
			i++;
		} else if (!strcmp(a, "--time") || !strcmp(a, "--mem-per-cpu") ||
			   !strcmp(a, "--partition") || !strcmp(a, "--account")) {
			if (!v)
				return usage_error(comm, "%s needs a value", a);
			i++;
			if (a[2] == 't')
				o->slurm.time = v;
			else if (a[2] == 'm')
				o->slurm.mem_per_cpu = v;
			else if (a[2] == 'p')
				o->slurm.partition = v;
			else
				o->slurm.account = v;
			o->slurm_opt = 1;
		} else if (a[0] == '-' && a[1]) {
			return usage_error(comm, "unknown option '%s'", a);
		} else if (o->sweep) {
			return usage_error(comm, "unexpected argument '%s'", a);
		} else {
			o->sweep = a;
		}
	}
	if (!o->sweep)
		return usage_error(comm, "missing SWEEP.ini");
	if (o->only && o->only_index >= 0)
		return usage_error(comm, "give --only or --only-index, not both");
	if (o->gather && (o->only || o->only_index >= 0 || o->resume || o->force))
		return usage_error(comm, "--gather only reads outputs: it takes no --only, --resume or --force");
	if (o->slurm.dir && (o->gather || o->only || o->only_index >= 0 || o->list))
		return usage_error(comm, "--emit-slurm writes scripts only: it takes no --only, --gather or --list");
	if (o->slurm_opt && !o->slurm.dir)
		return usage_error(comm, "--ntasks, --time, --mem-per-cpu, --partition and --account go with --emit-slurm DIR");
	return 0;
}

/* The ranks must see the same subjects (a shared file system). */
static int check_same_list(nidec_comm *comm, const nidec_sweep *sw, nidec_err *err)
{
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	uint64_t len;
	char *buf = NULL;
	size_t i;
	int rc = 0;

	if (nidec_comm_size(comm) == 1)
		return 0;
	for (i = 0; i < sw->n_subjects; i++) {
		const nidec_sweep_subject *s = &sw->subject[i];
		rc |= nidec_sbuf_addf(&sb, "%s|%s|%s|%s|%s|%d\n", s->label, s->bold ? s->bold : "",
				      s->mask ? s->mask : "", s->labels ? s->labels : "",
				      s->events ? s->events : "", s->status);
	}
	if (rc)
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	rc = nidec_comm_agree(comm, rc, err);
	if (rc < 0)
		goto done;
	len = sb.len;
	NIDEC_TRY_GOTO(rc, nidec_comm_bcast(comm, &len, sizeof(len), 0, err), done);
	buf = nidec_malloc_e((size_t)len + 1, 1, "the subject list", err);
	rc = buf ? 0 : NIDEC_ENOMEM;
	if (buf && nidec_comm_rank(comm) == 0)
		memcpy(buf, sb.buf, sb.len);
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(comm, rc, err), done);
	NIDEC_TRY_GOTO(rc, nidec_comm_bcast(comm, buf, (size_t)len, 0, err), done);
	if (len != sb.len || memcmp(buf, sb.buf, sb.len))
		rc = nidec_fail(err, NIDEC_EINPUT,
				"rank %d sees other subjects or files than rank 0 (is the data on a file system every node shares?)",
				nidec_comm_rank(comm));
	rc = nidec_comm_agree(comm, rc, err);
done:
	nidec_free(buf);
	nidec_sbuf_release(&sb);
	return rc;
}

static void print_list(const nidec_sweep *sw)
{
	size_t i;

	for (i = 0; i < sw->n_subjects; i++) {
		const nidec_sweep_subject *s = &sw->subject[i];
		if (s->status)
			nidec_out("%zu\tsub-%s\tfails: %s\n", i, s->label, s->error ? s->error : "?");
		else
			nidec_out("%zu\tsub-%s\t%s\n", i, s->label, s->bold);
	}
}

/* --gather: the subject configs, to tell current outputs from stale ones. */
static int gather_only(const nidec_sweep *sw, struct opts *o, const nidec_cfg *base,
		       size_t *n_ok, size_t *n_failed, nidec_err *err)
{
	nidec_cfg **cfgs;
	size_t i;
	int rc = 0;

	cfgs = nidec_calloc_e(sw->n_subjects ? sw->n_subjects : 1, sizeof(*cfgs), "subject configs", err);
	if (!cfgs)
		return NIDEC_ENOMEM;
	for (i = 0; i < sw->n_subjects; i++) {
		nidec_err e = NIDEC_ERR_INIT;
		if (sw->subject[i].status)
			continue;
		cfgs[i] = nidec_malloc_e(1, sizeof(nidec_cfg), "a subject config", err);
		if (!cfgs[i]) {
			rc = NIDEC_ENOMEM;
			break;
		}
		nidec_cfg_init(cfgs[i]);
		if (nidec_sweep_subject_cfg(sw, i, o->sets, o->n_sets, base->dir, cfgs[i], &e) < 0) {
			/* the run of this subject would have failed the same way */
			nidec_cfg_release(cfgs[i]);
			nidec_free(cfgs[i]);
			cfgs[i] = NULL;
		}
	}
	if (rc == 0)
		rc = nidec_sweep_write_description(sw, base->dir, err);
	if (rc == 0)
		rc = nidec_sweep_gather(sw, base, cfgs, base->dir, n_ok, n_failed, err);
	for (i = 0; i < sw->n_subjects; i++)
		if (cfgs[i]) {
			nidec_cfg_release(cfgs[i]);
			nidec_free(cfgs[i]);
		}
	nidec_free(cfgs);
	return rc;
}

/* The subjects through the job driver (one, with --only): each one's
 * config and dataset <dir>/sub-<label>/dataset.h5; a subject whose
 * config fails, fails alone.  Statuses and messages go back into sw. */
static int run_subjects(nidec_comm *comm, nidec_sweep *sw, const struct opts *o,
			const nidec_cfg *base, long only, nidec_err *err)
{
	nidec_job_opts jo = NIDEC_JOB_OPTS_INIT;
	nidec_job_subject *js;
	nidec_cfg *cfgs;
	char **datasets;
	size_t *idx, n = 0, i, k;
	int rc = 0;

	js = nidec_calloc_e(sw->n_subjects + 1, sizeof(*js), "the subject list", err);
	cfgs = nidec_calloc_e(sw->n_subjects + 1, sizeof(*cfgs), "the subject list", err);
	datasets = nidec_calloc_e(sw->n_subjects + 1, sizeof(*datasets), "the subject list", err);
	idx = nidec_calloc_e(sw->n_subjects + 1, sizeof(*idx), "the subject list", err);
	if (!js || !cfgs || !datasets || !idx)
		rc = NIDEC_ENOMEM;
	for (i = 0; rc == 0 && i < sw->n_subjects; i++) {
		nidec_sweep_subject *sub = &sw->subject[i];
		nidec_err e = NIDEC_ERR_INIT;
		nidec_sbuf path = NIDEC_SBUF_INIT;

		if (sub->status != 0 || (only >= 0 && (size_t)only != i))
			continue;
		nidec_cfg_init(&cfgs[n]);
		if (nidec_sweep_subject_cfg(sw, i, o->sets, o->n_sets, base->dir, &cfgs[n], &e) < 0) {
			/* fails alone, on every rank alike */
			nidec_sbuf msg = NIDEC_SBUF_INIT;
			if (nidec_sbuf_addf(&msg, "sub-%s: %s", sub->label, e.msg) < 0) {
				rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory");
			} else {
				sub->status = e.code < 0 ? e.code : NIDEC_EINTERNAL;
				nidec_free(sub->error);
				sub->error = nidec_sbuf_detach(&msg, NULL);
				if (nidec_comm_rank(comm) == 0)
					nidec_warn("%s (the sweep goes on without it)", sub->error);
			}
			nidec_sbuf_release(&msg);
			nidec_cfg_release(&cfgs[n]);
			continue;
		}
		if (nidec_sbuf_addf(&path, "%s/dataset.h5", cfgs[n].dir) < 0) {
			rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory");
			nidec_cfg_release(&cfgs[n]);
			break;
		}
		datasets[n] = nidec_sbuf_detach(&path, NULL);
		js[n].label = sub->label;
		js[n].cfg = &cfgs[n];
		js[n].dataset = datasets[n];
		js[n].convert = 1;
		js[n].analysis = &nidec_decoder_analysis;
		idx[n++] = i;
	}
	rc = nidec_comm_agree(comm, rc, err);
	if (rc == 0) {
		jo.label = "sweep";
		jo.progress = base->progress;
		jo.force = o->force;
		jo.resume = o->resume;
		jo.keep_current = 1;
		rc = nidec_job_run(comm, js, n, &jo, err);
	}
	for (k = 0; k < n; k++) {
		nidec_sweep_subject *sub = &sw->subject[idx[k]];
		if (js[k].status && !sub->status) {
			sub->status = js[k].status;
			nidec_free(sub->error);
			sub->error = js[k].error;
			js[k].error = NULL;
		}
		nidec_job_subject_release(&js[k]);
		nidec_cfg_release(&cfgs[k]);
		nidec_free(datasets[k]);
	}
	nidec_free(js);
	nidec_free(cfgs);
	nidec_free(datasets);
	nidec_free(idx);
	return rc;
}

/* Rank 0 after the run: status files, then the group files.  After an
 * interruption only the failures are recorded (the unfinished subjects
 * keep whatever they had). */
static int finish(nidec_sweep *sw, const struct opts *o, const nidec_cfg *base, long only,
		  int stopped, size_t *n_ok, size_t *n_failed, nidec_err *err)
{
	size_t i;

	*n_ok = *n_failed = 0;
	for (i = 0; i < sw->n_subjects; i++) {
		if (only >= 0 && (size_t)only != i)
			continue;
		if (stopped && !sw->subject[i].status)
			continue;
		NIDEC_TRY(nidec_sweep_mark(base->dir, &sw->subject[i], err));
		if (sw->subject[i].status) {
			(*n_failed)++; /* its warning was printed when it failed */
		} else {
			(*n_ok)++;
		}
	}
	if (only >= 0 || o->list || stopped)
		return 0;
	NIDEC_TRY(nidec_sweep_write_description(sw, base->dir, err));
	return nidec_sweep_gather(sw, base, NULL, base->dir, n_ok, n_failed, err);
}

int cmd_sweep(int argc, char **argv, nidec_comm *comm)
{
	struct opts o;
	nidec_sweep sw;
	nidec_cfg base;
	nidec_err err = NIDEC_ERR_INIT;
	long only = -1;
	int rank = nidec_comm_rank(comm), rc = 0, ret = NIDEC_EXIT_OK, i;
	size_t k, n_ok = 0, n_failed = 0;
	int32_t code;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			if (rank == 0)
				fputs(usage_text, stdout);
			return NIDEC_EXIT_OK;
		}
	memset(&o, 0, sizeof(o));
	o.only_index = -1;
	{
		nidec_sweep_slurm d = NIDEC_SWEEP_SLURM_INIT;
		o.slurm = d;
	}
	nidec_sweep_init(&sw);
	nidec_cfg_init(&base);

	rc = parse_args(argc, argv, comm, &o, &err);
	if (rc == NIDEC_EXIT_USAGE) {
		ret = rc;
		rc = 0;
		goto done;
	}
	/* the sweep file, its overrides, the subject list, the analysis config */
	if (rc == 0)
		rc = nidec_sweep_load(&sw, o.sweep, &err);
	for (k = 0; rc == 0 && k < o.n_sweep_sets; k++)
		rc = nidec_sweep_set(&sw, o.sweep_sets[k], &err);
	if (rc == 0)
		rc = nidec_sweep_resolve(&sw, &err);
	if (rc == 0)
		rc = nidec_sweep_base_cfg(&sw, o.sets, o.n_sets, &base, &err);
	if (rc == 0 && o.only) {
		only = nidec_sweep_find(&sw, o.only);
		if (only < 0)
			rc = nidec_fail(&err, NIDEC_EINPUT, "--only %s: no such subject in sweep '%s' (see --list)",
					o.only, o.sweep);
	}
	if (rc == 0 && o.only_index >= 0) {
		if ((size_t)o.only_index >= sw.n_subjects)
			rc = nidec_fail(&err, NIDEC_EINPUT,
					"--only-index %ld: sweep '%s' has %zu subjects (indices 0..%zu); fix the job array's range",
					o.only_index, o.sweep, sw.n_subjects, sw.n_subjects ? sw.n_subjects - 1 : 0);
		only = o.only_index;
	}
	rc = nidec_comm_agree(comm, rc, &err);
	if (rc == 0)
		rc = check_same_list(comm, &sw, &err);
	if (rc < 0)
		goto done;

	if (o.list || o.slurm.dir || o.gather) {
		/* rank 0 alone: no collective work */
		if (rank == 0) {
			if (o.list)
				print_list(&sw);
			else if (o.slurm.dir)
				rc = nidec_sweep_emit_slurm(&sw, o.sweep, o.sets, o.n_sets, &o.slurm, &err);
			else
				rc = gather_only(&sw, &o, &base, &n_ok, &n_failed, &err);
		}
		rc = nidec_comm_agree(comm, rc, &err);
		if (rc == 0 && o.gather)
			goto status;
		goto done;
	}

	/* the sweep: SIGTERM, SIGUSR1 (mpirun forwards it) or SIGINT stop it
	 * cleanly (job.h) */
	if (rank == 0 && only < 0)
		rc = nidec_results_prepare_dir(base.dir, &err);
	rc = nidec_comm_agree(comm, rc, &err);
	if (rc == 0)
		rc = run_subjects(comm, &sw, &o, &base, only, &err);
	if (rc == NIDEC_EINTR || rc == 0) {
		/* even when interrupted, record the subjects' statuses */
		int frc = 0;
		if (rank == 0)
			frc = finish(&sw, &o, &base, only, rc == NIDEC_EINTR, &n_ok, &n_failed, &err);
		frc = nidec_comm_agree(comm, frc, &err);
		if (frc < 0)
			rc = frc;
	}
	if (rc < 0)
		goto done;
status:
	/* rank 0 knows the counts: everyone exits with its status */
	code = n_failed == 0 ? NIDEC_EXIT_OK : n_ok == 0 ? NIDEC_EXIT_FAILURE : NIDEC_EXIT_PARTIAL;
	rc = nidec_comm_bcast(comm, &code, sizeof(code), 0, &err);
	if (rc == 0) {
		ret = code;
		if (rank == 0 && n_failed)
			fprintf(stderr, "nidec: %zu of %zu subject%s failed (see %s/group_summary.json and sub-*/error.txt)\n",
				n_failed, n_ok + n_failed, n_ok + n_failed == 1 ? "" : "s", base.dir);
	}
done:
	if (rc < 0)
		ret = nidec_cli_fail(&err, comm);
	nidec_strv_free(o.sets, o.n_sets);
	nidec_strv_free(o.sweep_sets, o.n_sweep_sets);
	nidec_cfg_release(&base);
	nidec_sweep_release(&sw);
	return ret;
}
