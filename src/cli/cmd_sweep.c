/*
 * cmd_sweep.c - `nidec sweep SWEEP.ini [options]`: one analysis config
 * over many subjects (docs/SWEEP.md).
 *
 * Modes:
 *   (default)          every subject in one launch and one task space
 *                      (the job driver, job.h), then the group files
 *                      (src/job/group.c) and the group page
 *                      (src/report/report_group.c)
 *   --only SUBJECT     one subject (a Slurm array task); no group files
 *   --gather           the group files (and page) from the subjects' outputs only
 *   --emit-slurm DIR   the job array + gather scripts (sweep_slurm.c)
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "nidec/file.h"
#include "nidec/job.h"
#include "nidec/lock.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/report.h"
#include "nidec/results.h"
#include "nidec/sbuf.h"
#include "nidec/sweep.h"

static const char usage[] = "usage: nidec sweep SWEEP.ini [options]\n";

static const char doc[] =
	"Decode many subjects with one analysis config, in one launch: every\n"
	"subject's tasks form one task space, so ranks never idle while a subject\n"
	"finishes.  Each subject's outputs go to <[output] dir>/sub-<label>/ (the same\n"
	"files as 'nidec run', or as 'nidec searchlight' with [sweep] kind = searchlight),\n"
	"the group's to <[output] dir>/: dataset_description.json, group_scores.tsv,\n"
	"group_summary.json, for searchlights the group maps and cluster test\n"
	"(group_searchlight_*; docs/SWEEP.md), and unless [output] report = false the\n"
	"group page report.html.\n";

static const char footer[] =
	"--set SEC.KEY=VAL overrides a key of the analysis config, --set sweep.KEY=VAL\n"
	"one of the sweep file.\n"
	"Exit status: 0 all subjects done, 4 some failed (see group_summary.json),\n"
	"1 all failed or an error, 2 bad usage, 3 interrupted (run again with --resume).\n";

static const nidec_keyschema *const schemas[] = { &nidec_cfg_schema, &nidec_sweep_schema, NULL };

struct opts {
	const char *sweep;
	char **sets;            /* --set values (not sweep.*) and --progress, in order */
	size_t n_sets;
	char **sweep_sets;      /* --set sweep.* */
	size_t n_sweep_sets;
	const char *only;
	long only_index;
	int gather, resume, force, list, timing;
	nidec_sweep_slurm slurm;
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

/* Parse the command line into o (every rank).  Returns -1 to go on, or the
 * exit status to return at once (rank 0 printed why). */
static int parse_args(int argc, char **argv, nidec_comm *comm, struct opts *o)
{
	nidec_cli_common c = NIDEC_CLI_COMMON_INIT;
	nidec_sweep_slurm def = NIDEC_SWEEP_SLURM_INIT;
	int only_index = -1, ntasks = 0, ret;
	const char *time = NULL, *mem = NULL, *partition = NULL, *account = NULL;
	size_t k;
	nidec_opt opts[] = {
		NIDEC_OPT_ARG("SWEEP.ini", &o->sweep, 0,
			      "a [sweep] section: analysis = CONFIG, and subjects with per-subject "
			      "patterns ({subject}) or bids_root + task"),
		NIDEC_OPT_STRING(0, "only", &o->only, "SUBJECT", NULL,
				 "run one subject (label, e.g. 01); no group files"),
		NIDEC_OPT_INT(0, "only-index", &only_index, "N", 0, 100000000, NULL,
			      "run the N-th subject (0-based, as $SLURM_ARRAY_TASK_ID)"),
		NIDEC_OPT_FLAG(0, "gather", &o->gather, "write the group files from the subjects' outputs only"),
		NIDEC_OPT_FLAG(0, "resume", &o->resume,
			       "keep subjects whose outputs are complete and current (same config and "
			       "inputs); run the others"),
		NIDEC_OPT_FLAG(0, "force", &o->force, "convert again even if a dataset is up to date"),
		NIDEC_OPT_FLAG(0, "timing", &o->timing,
			       "print stage times (min/mean/max over ranks), tasks, busy time and host "
			       "per rank and the parallel efficiency; each subject's files record them"),
		NIDEC_OPT_FLAG(0, "list", &o->list, "print the subjects with their index and exit"),
		NIDEC_OPT_STRING(0, "emit-slurm", &o->slurm.dir, "DIR", NULL,
				 "write DIR/sweep-array.sbatch (a job array, one subject per task) and "
				 "DIR/sweep-gather.sbatch; print how to submit"),
		NIDEC_OPT_GROUP("options of --emit-slurm:"),
		NIDEC_OPT_INT(0, "ntasks", &ntasks, "N", 1, 1000000, "2", "ranks per array task"),
		NIDEC_OPT_STRING(0, "time", &time, "T", "01:00:00", "time limit of an array task"),
		NIDEC_OPT_STRING(0, "mem-per-cpu", &mem, "M", "4G", "memory per rank"),
		NIDEC_OPT_STRING(0, "partition", &partition, "P", "the cluster's default", "Slurm partition"),
		NIDEC_OPT_STRING(0, "account", &account, "A", "none", "Slurm account"),
		NIDEC_OPT_GROUP("common options:"),
		NIDEC_CLI_OPTS_CONFIG(&c),
		NIDEC_CLI_OPTS_COMMON(&c),
		NIDEC_OPT_END()
	};
	nidec_opt_cmd cmd = { "nidec sweep", usage, doc, footer, opts, schemas, 0 };

	if ((ret = nidec_cli_parse(comm, &cmd, argc, argv, &c)) >= 0)
		goto done;
	/* --set sweep.KEY=VAL goes to the sweep file, the others (and
	 * --progress) to the analysis config, in order */
	for (k = 0; k < c.sets.n; k++) {
		const char *a = c.sets.assign[k];
		if ((!strncmp(a, "sweep.", 6) ? push(&o->sweep_sets, &o->n_sweep_sets, a)
					      : push(&o->sets, &o->n_sets, a)) < 0) {
			if (nidec_comm_rank(comm) == 0)
				fprintf(stderr, "nidec: error: out of memory\n");
			ret = NIDEC_EXIT_FAILURE;
			goto done;
		}
	}
	o->only_index = only_index;
	ret = NIDEC_EXIT_USAGE;
	if (o->only && o->only_index >= 0)
		nidec_cli_usage_error(comm, &cmd, "give --only or --only-index, not both");
	else if (o->gather && (o->only || o->only_index >= 0 || o->resume || o->force))
		nidec_cli_usage_error(comm, &cmd, "--gather only reads outputs: it takes no --only, --resume or --force");
	else if (o->slurm.dir && (o->gather || o->only || o->only_index >= 0 || o->list))
		nidec_cli_usage_error(comm, &cmd, "--emit-slurm writes scripts only: it takes no --only, --gather or --list");
	else if ((ntasks || time || mem || partition || account) && !o->slurm.dir)
		nidec_cli_usage_error(comm, &cmd, "--ntasks, --time, --mem-per-cpu, --partition and --account go with --emit-slurm DIR");
	else
		ret = -1;
	o->slurm.ntasks = ntasks ? ntasks : def.ntasks;
	o->slurm.time = time ? time : def.time;
	o->slurm.mem_per_cpu = mem ? mem : def.mem_per_cpu;
	o->slurm.partition = partition ? partition : def.partition;
	o->slurm.account = account ? account : def.account;
done:
	nidec_cli_common_release(&c);
	return ret;
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
		rc |= nidec_sbuf_addf(&sb, "%s|%s|%s|%s|%s|%s|%d\n", s->label, s->bold ? s->bold : "",
				      s->samples ? s->samples : "",
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
		else if (s->found)
			nidec_out("%zu\tsub-%s\n%s", i, s->label, s->found);
		else
			nidec_out("%zu\tsub-%s\t%s\n", i, s->label, s->bold ? s->bold : s->samples);
	}
}

/* <root>/report.html, the group page, when the analysis writes reports
 * ([output] report); failing to write it is a warning, as for a subject's
 * report (job.c). */
static void group_report(const nidec_cfg *base)
{
	nidec_err e = NIDEC_ERR_INIT;

	if (!base->report)
		return;
	if (nidec_report_group_write(base->dir, &e) < 0)
		nidec_warn("%s/report.html not written: %s", base->dir, e.msg);
	else
		nidec_out("wrote %s/report.html\n", base->dir);
}

/* Rank 0: the sweep's root (its group files), made if needed and locked. */
static int lock_root(const nidec_cfg *base, nidec_lock **lock, nidec_err *err)
{
	NIDEC_TRY(nidec_file_mkdir_p(base->dir, "choose another [output] dir", err));
	return nidec_lock_take(base->dir, "the sweep's [output] dir",
			       "wait for that sweep to finish, or choose another [output] dir", lock, err);
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
	/* the group files only once the gather can be made (it writes none
	 * when it cannot) */
	if (rc == 0)
		rc = nidec_sweep_gather(sw, base, cfgs, base->dir, n_ok, n_failed, err);
	if (rc == 0)
		rc = nidec_sweep_write_description(sw, base->dir, err);
	if (rc == 0)
		group_report(base);
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
		js[n].analysis = sw->kind == NIDEC_SWEEP_SEARCHLIGHT ? &nidec_searchlight_analysis
								 : &nidec_decoder_analysis;
		idx[n++] = i;
	}
	/* a searchlight group level needs one grid: refuse before any work */
	if (rc == 0 && sw->kind == NIDEC_SWEEP_SEARCHLIGHT && nidec_comm_rank(comm) == 0)
		rc = nidec_sl_group_check_grids(sw, cfgs, idx, n, err);
	rc = nidec_comm_agree(comm, rc, err);
	if (rc == 0) {
		jo.label = "sweep";
		jo.progress = base->progress;
		jo.force = o->force;
		jo.resume = o->resume;
		jo.timing = o->timing;
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
	NIDEC_TRY(nidec_sweep_gather(sw, base, NULL, base->dir, n_ok, n_failed, err));
	group_report(base);
	return 0;
}

int cmd_sweep(int argc, char **argv, nidec_comm *comm)
{
	struct opts o;
	nidec_sweep sw;
	nidec_cfg base;
	nidec_err err = NIDEC_ERR_INIT;
	long only = -1;
	int rank = nidec_comm_rank(comm), rc = 0, ret = NIDEC_EXIT_OK;
	size_t k, n_ok = 0, n_failed = 0;
	int32_t code;
	nidec_lock *root_lock = NULL; /* rank 0: the sweep's root, for its group files */

	memset(&o, 0, sizeof(o));
	o.only_index = -1;
	nidec_sweep_init(&sw);
	nidec_cfg_init(&base);

	if ((ret = parse_args(argc, argv, comm, &o)) >= 0)
		goto done;
	ret = NIDEC_EXIT_OK;
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
			else if ((rc = lock_root(&base, &root_lock, &err)) == 0)
				rc = gather_only(&sw, &o, &base, &n_ok, &n_failed, &err);
			nidec_lock_release(&root_lock);
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
	/* the group files are the sweep's: one sweep per root at a time (the
	 * job driver locks each subject's directory) */
	if (rank == 0 && only < 0 && rc == 0)
		rc = lock_root(&base, &root_lock, &err);
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
	nidec_lock_release(&root_lock);
	if (rc < 0)
		ret = nidec_cli_fail(&err, comm);
	nidec_strv_free(o.sets, o.n_sets);
	nidec_strv_free(o.sweep_sets, o.n_sweep_sets);
	nidec_cfg_release(&base);
	nidec_sweep_release(&sw);
	return ret;
}
