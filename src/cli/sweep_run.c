/*
 * sweep_run.c - the collective part of `nidec sweep`: every subject of the
 * sweep in one MPI launch and one task space (see sweep.h, docs/SWEEP.md).
 *
 * Phases, and how a failure is kept to its subject:
 *  1. config: every rank builds each subject's config (nidec_sweep_subject_cfg);
 *     a bad subject config fails that subject on every rank alike.
 *  2. convert: subject s is converted (or reused) by rank s % size, the
 *     ranks in parallel; then rank s % size broadcasts its status and
 *     message, so every rank knows which subjects are still in.
 *  3. resume (--resume): rank 0 keeps the subjects whose outputs are
 *     current (nidec_sweep_outputs_current) and broadcasts the list.
 *  4. load: every rank reads every remaining subject's dataset itself,
 *     selects the samples, builds and prepares the plan; after each step
 *     the ranks agree per subject (nidec_comm_agree), so a subject that
 *     failed on one rank is dropped on all.  Rank 0 then opens each
 *     subject's checkpoint ledger, <dir>/results.ledger as `nidec run`
 *     (ledger.h), and with --resume reads the tasks it holds back: those
 *     are not run again.
 *  5. work: all subjects' tasks form one task source (global id = the
 *     subject's offset + its local id) for nidec_sched_run_source, so no
 *     rank idles while a subject finishes; they are handed out subject by
 *     subject, permutation by permutation (src_group).  Rank 0 appends
 *     each result to its subject's ledger (with the subject's own task
 *     id) and gives it to the subject's incremental reducer, which reduces
 *     each permutation as soon as it is complete and frees its results; a
 *     subject whose last result arrived is written at the scheduler's
 *     next poll (should_stop) and its ledger folded into results.h5: a
 *     sweep stopped by a signal keeps every subject finished so far and
 *     every task of the others, and --resume does the rest.
 *  6. write (rank 0): the subject's outcome from its reducer, then the
 *     same writers as `nidec run` (results.h, report.h) plus
 *     null_scores.tsv; a subject that fails here is marked failed.
 * A failing *call* (out of memory, MPI) in the scheduler ends the sweep;
 * only subject-level problems are kept to their subject.
 *
 * Determinism: a task's result is a pure function of its subject's plan
 * and local task id (plan.h), results are reduced per subject in local id
 * order, so each subject's files are byte-identical to `nidec run` on that
 * subject alone, for any number of ranks (tests/e2e/t3000-sweep.sh).
 *
 * Memory: every rank holds every running subject's data matrix (any rank
 * may run any task); rank 0 also holds the results of the permutations
 * not yet complete (a few at a time, in the order above).
 * For studies that do not fit, use one subject per job (--only, the job
 * array of --emit-slurm).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "cvdata.h"
#include "cvjob.h"
#include "nidec/convert.h"
#include "nidec/dataset.h"
#include "nidec/ledger.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/plan.h"
#include "nidec/report.h"
#include "nidec/results.h"
#include "nidec/sched.h"
#include "sweep.h"

/* One subject during the run (index s into sw->subject). */
struct sj {
	size_t s;
	nidec_cfg cfg;
	int have_cfg;
	char dataset[4096];
	int active;            /* in the work phase */
	int skipped;           /* --resume: outputs kept */
	nidec_cvdata d;        /* the data, as `nidec run` holds it */
	/* the checkpoint (rank 0): <dir>/results.ledger, as `nidec run` */
	nidec_ledger *lg;
	char ledger_path[4200];
	nidec_result **pre;    /* [n_tasks] results read back from the ledger */
	size_t n_pre;
	/* the task space */
	size_t off, n_tasks;
	size_t n_done;         /* rank 0: results stored (or read back) */
	int ready;             /* rank 0: every result arrived, not yet written */
	int written;           /* rank 0: finished (written or failed) */
	/* rank 0: the subject's incremental reduce (each permutation as soon
	 * as it is complete, as `nidec run`); a failed task makes the subject
	 * fail once all its tasks are in (its plan may still be running) */
	nidec_reducer *rd;
	int rd_failed;
	nidec_err rd_err;
};

struct run {
	nidec_comm *comm;
	nidec_sweep *sw;
	const nidec_sweep_run_opts *opt;
	struct sj *j;          /* [n] */
	size_t n;
	size_t *act;           /* [n_act] indices into j of the active subjects, by offset */
	size_t n_act;
	nidec_result **results;/* rank 0: [total] */
	size_t total;
	int n_written;
	int (*interrupted)(void);
	int stopping;          /* rank 0: the stop signal was seen */
};

static void sj_free_data(struct sj *j)
{
	nidec_err e = NIDEC_ERR_INIT;

	if (nidec_ledger_close(&j->lg, &e) < 0)
		nidec_warn("%s", e.msg);
	nidec_sched_results_free(&j->pre, j->n_tasks);
	nidec_reducer_free(&j->rd);
	nidec_cvdata_release(&j->d);
}

/* Drop subject j from the sweep with a message. */
static int sj_fail(struct run *R, struct sj *j, const nidec_err *e)
{
	nidec_sweep_subject *sub = &R->sw->subject[j->s];
	char msg[NIDEC_ERR_MSG_MAX + 64];
	const char *m = e->msg[0] ? e->msg : nidec_err_name(e->code);

	if (!strncmp(m, "sub-", 4))
		snprintf(msg, sizeof(msg), "%s", m);
	else
		snprintf(msg, sizeof(msg), "sub-%s: %s", sub->label, m);
	nidec_free(sub->error);
	sub->error = nidec_strdup(msg);
	sub->status = e->code < 0 ? e->code : NIDEC_EINTERNAL;
	j->active = 0;
	sj_free_data(j);
	if (nidec_comm_rank(R->comm) == 0)
		nidec_warn("%s (the sweep goes on without it)", msg);
	return sub->error ? 0 : NIDEC_ENOMEM;
}

/* ---- the task source --------------------------------------------------------- */

/* The active subject holding global task t (binary search on offsets). */
static struct sj *owner(const struct run *R, size_t t)
{
	size_t lo = 0, hi = R->n_act;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (R->j[R->act[mid]].off <= t)
			lo = mid;
		else
			hi = mid;
	}
	return &R->j[R->act[lo]];
}

static double src_cost(void *ctx, size_t t)
{
	struct run *R = ctx;
	struct sj *j = owner(R, t);

	return nidec_plan_task_cost(j->d.plan, t - j->off);
}

/* Subject by subject, permutation by permutation within one (each
 * subject's groups are inside its range of global ids), so that subjects
 * and their permutations complete one after the other and rank 0 holds
 * the results of a few of them at a time. */
static size_t src_group(void *ctx, size_t t)
{
	struct run *R = ctx;
	struct sj *j = owner(R, t);

	return j->off + nidec_plan_task_group(j->d.plan, t - j->off);
}

static int src_run(void *ctx, size_t t, nidec_result **res, nidec_err *err)
{
	struct run *R = ctx;
	struct sj *j = owner(R, t);

	NIDEC_TRY(nidec_task_run(j->d.plan, t - j->off, res, err));
	(*res)->task = t;
	return 0;
}

/* ---- writing one subject (rank 0) --------------------------------------------- */

static int write_subject(struct run *R, struct sj *j, nidec_outcome *o, nidec_err *err)
{
	nidec_results_info info;

	NIDEC_TRY(nidec_cvdata_stats(&j->d, &j->cfg, err));
	nidec_cvdata_info(&j->d, &j->cfg, R->comm, j->lg ? j->ledger_path : NULL, &info);
	NIDEC_TRY(nidec_results_write(j->cfg.dir, o, &info, err));
	if (j->cfg.report) {
		/* complete without it: a failing report is a warning (as nidec run) */
		nidec_err rerr = NIDEC_ERR_INIT;
		if (nidec_report_write(j->cfg.dir, j->dataset, &rerr) < 0)
			nidec_warn("sub-%s: report.html not written: %s", R->sw->subject[j->s].label, rerr.msg);
	}
	return 0;
}

/* Write subject j, every result of which is in (its reducer has them).
 * A failure is the subject's (marked), not the sweep's, except running
 * out of memory while recording it. */
static int finish_subject(struct run *R, struct sj *j)
{
	nidec_outcome *o = NULL;
	nidec_err e = NIDEC_ERR_INIT;
	int rc;

	j->ready = 0;
	j->written = 1;
	/* complete on disk before results.h5 copies it */
	rc = j->lg ? nidec_ledger_sync(j->lg, &e) : 0;
	if (rc == 0 && j->rd_failed) {
		e = j->rd_err;
		rc = e.code < 0 ? e.code : NIDEC_EINTERNAL;
	} else if (rc == 0) {
		rc = nidec_reducer_finish(j->rd, &o, &e);
	}
	nidec_reducer_free(&j->rd);
	if (rc == 0)
		rc = write_subject(R, j, o, &e);
	if (rc == 0 && j->lg) {
		/* complete, and the ledger is in results.h5: the sidecar goes */
		nidec_err ce = NIDEC_ERR_INIT;
		if (nidec_ledger_close(&j->lg, &ce) < 0)
			nidec_warn("%s", ce.msg);
		if (unlink(j->ledger_path) < 0 && errno != ENOENT)
			nidec_warn("cannot remove the checkpoint '%s': %s", j->ledger_path, strerror(errno));
	}
	if (rc == 0 && o) {
		size_t k;
		nidec_sbuf line = NIDEC_SBUF_INIT;
		for (k = 0; k < o->n_keys; k++) {
			double s = 0;
			size_t f, m = 0;
			for (f = 0; f < o->n_folds; f++)
				if (isfinite(o->score[k * o->n_folds + f])) {
					s += o->score[k * o->n_folds + f];
					m++;
				}
			if (nidec_sbuf_addf(&line, " %s %.4f", o->keys[k], m ? s / (double)m : NAN) < 0)
				break; /* out of memory: a shorter log line */
		}
		R->n_written++;
		nidec_info("sub-%s: written to '%s' (%s%s)", R->sw->subject[j->s].label, j->cfg.dir,
			   nidec_scoring_name(j->cfg.scoring), line.buf);
		nidec_sbuf_release(&line);
	}
	nidec_outcome_free(&o);
	if (rc < 0) {
		sj_fail(R, j, &e);
		return R->sw->subject[j->s].error ? 0 : NIDEC_ENOMEM;
	}
	return 0;
}

static int on_result(void *arg, const nidec_result *r, nidec_err *err)
{
	struct run *R = arg;
	struct sj *j;

	if (r->task >= R->total)
		return nidec_fail(err, NIDEC_EINTERNAL, "sweep: result for task %zu of %zu", r->task,
				  R->total);
	j = owner(R, r->task);
	if (j->lg) {
		/* the ledger speaks the subject's own task ids (a resumed sweep
		 * may have other subjects, so other offsets); it skips failed
		 * results: a resumed sweep tries them again */
		nidec_result local = *r;
		local.task = r->task - j->off;
		NIDEC_TRY(nidec_ledger_append(j->lg, &local, err));
	}
	return 0;
}

/* After result t is stored: to its subject's reducer, in the subject's own
 * task ids (the reducer frees each permutation's results once it is
 * complete).  A failed task fails the subject, not the sweep: its later
 * results are dropped, and it is marked when all are in. */
static int on_stored(void *arg, nidec_result **results, size_t t, nidec_err *err)
{
	struct run *R = arg;
	struct sj *j = owner(R, t);
	size_t l = t - j->off, i;

	results[t]->task = l;
	if (j->rd_failed) {
		nidec_result_free(&results[t]);
	} else {
		int rc = nidec_reducer_add(j->rd, results + j->off, l, &j->rd_err);
		if (rc == NIDEC_ENOMEM) {
			*err = j->rd_err;
			return rc;
		}
		if (rc < 0) {
			j->rd_failed = 1;
			for (i = 0; i < j->n_tasks; i++)
				nidec_result_free(&results[j->off + i]);
		}
	}
	if (++j->n_done == j->n_tasks)
		j->ready = 1; /* written at the next poll */
	return 0;
}

/* Tasks whose permutation was reduced while its checkpoint was read back. */
static int is_done(void *arg, size_t t)
{
	struct run *R = arg;
	struct sj *j = owner(R, t);

	return j->rd && nidec_reducer_done(j->rd, t - j->off);
}

/* A result read back from subject arg's checkpoint (local task ids). */
static int on_loaded(void *arg, nidec_result **results, size_t t, nidec_err *err)
{
	struct sj *j = arg;

	return nidec_reducer_add(j->rd, results, t, err);
}

/* Polled by the scheduler on rank 0 between tasks, after results are
 * stored: write the subjects that are complete, then report SIGTERM. */
static int should_stop(void *arg)
{
	struct run *R = arg;
	size_t a;

	for (a = 0; a < R->n_act; a++) {
		struct sj *j = &R->j[R->act[a]];
		if (j->ready && !j->written && finish_subject(R, j) < 0)
			return 1; /* out of memory recording a failure: stop */
		if (j->lg) {
			nidec_err e = NIDEC_ERR_INIT;
			if (nidec_ledger_tick(j->lg, &e) < 0)
				nidec_warn("%s", e.msg);
		}
	}
	if (!R->interrupted || !R->interrupted())
		return 0;
	if (!R->stopping) {
		/* sync at once, before the running tasks arrive: under mpirun a
		 * SIGTERM is followed by SIGKILL one second later */
		R->stopping = 1;
		nidec_info("stop signal: no new tasks; waiting for the running ones, then saving the checkpoints");
		for (a = 0; a < R->n_act; a++) {
			nidec_err e = NIDEC_ERR_INIT;
			nidec_ledger *lg = R->j[R->act[a]].lg;
			if (lg && nidec_ledger_sync(lg, &e) < 0)
				nidec_warn("%s", e.msg);
		}
	}
	return 1;
}

/* ---- the phases ------------------------------------------------------------------ */

struct conv_msg {
	int32_t rc;
	int32_t reused;
	char msg[NIDEC_ERR_MSG_MAX];
};

/* Phase 2: convert (rank s % size), then share the outcomes. */
static int convert_all(struct run *R, nidec_err *err)
{
	int rank = nidec_comm_rank(R->comm), size = nidec_comm_size(R->comm);
	struct conv_msg *cm;
	size_t i;
	int rc = 0;

	cm = nidec_calloc_e(R->n ? R->n : 1, sizeof(*cm), "conversion statuses", err);
	if (!cm)
		rc = NIDEC_ENOMEM;
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(R->comm, rc, err), done);
	for (i = 0; i < R->n; i++) {
		struct sj *j = &R->j[i];
		nidec_err e = NIDEC_ERR_INIT;
		int reused = 0, c;
		double t0 = nidec_now();

		if (!j->active || (int)(j->s % (size_t)size) != rank)
			continue;
		c = nidec_results_prepare_dir(j->cfg.dir, &e);
		if (c == 0)
			c = nidec_convert(&j->cfg, j->dataset, R->opt->force, &reused, &e);
		cm[i].rc = c;
		cm[i].reused = reused;
		if (c < 0)
			snprintf(cm[i].msg, sizeof(cm[i].msg), "%s", e.msg);
		else if (size > 1)
			nidec_verbose("sub-%s: dataset %s by this rank in %.1fs", R->sw->subject[j->s].label,
				      reused ? "reused" : "converted", nidec_now() - t0);
	}
	/* every rank learns every outcome from the rank that converted */
	for (i = 0; i < R->n; i++) {
		struct sj *j = &R->j[i];
		if (!j->active)
			continue;
		NIDEC_TRY_GOTO(rc, nidec_comm_bcast(R->comm, &cm[i], sizeof(cm[i]), (int)(j->s % (size_t)size),
						    err), done);
		if (cm[i].rc < 0) {
			nidec_err e = NIDEC_ERR_INIT;
			e.code = cm[i].rc;
			cm[i].msg[sizeof(cm[i].msg) - 1] = '\0';
			snprintf(e.msg, sizeof(e.msg), "%s", cm[i].msg);
			NIDEC_TRY_GOTO(rc, sj_fail(R, j, &e), done);
		} else if (!cm[i].reused) {
			nidec_info("sub-%s: dataset converted to '%s'", R->sw->subject[j->s].label, j->dataset);
		} else if (j->s % (size_t)size != 0) {
			/* rank 0's own conversions say so themselves */
			nidec_info("sub-%s: reusing '%s' (inputs unchanged)", R->sw->subject[j->s].label,
				   j->dataset);
		}
	}
done:
	nidec_free(cm);
	return rc;
}

/* Phase 3: --resume keeps subjects whose outputs are current (rank 0
 * decides, everyone follows). */
static int resume_check(struct run *R, nidec_err *err)
{
	unsigned char *keep;
	size_t i;
	int rc = 0;

	keep = nidec_calloc_e(R->n ? R->n : 1, 1, "the resume list", err);
	if (!keep)
		rc = NIDEC_ENOMEM;
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(R->comm, rc, err), done);
	if (nidec_comm_rank(R->comm) == 0)
		for (i = 0; i < R->n; i++) {
			struct sj *j = &R->j[i];
			nidec_dataset *ds = NULL;
			nidec_err e = NIDEC_ERR_INIT;
			int cur = 0;

			if (!j->active || nidec_ds_open(j->dataset, &ds, &e) < 0)
				continue; /* not current: the load phase reports the error */
			if (nidec_sweep_outputs_current(j->cfg.dir, &j->cfg, ds->inputs_sha256, &cur, &e) == 0)
				keep[i] = (unsigned char)cur;
			nidec_ds_close(&ds);
		}
	NIDEC_TRY_GOTO(rc, nidec_comm_bcast(R->comm, keep, R->n ? R->n : 1, 0, err), done);
	for (i = 0; i < R->n; i++)
		if (keep[i]) {
			R->j[i].active = 0;
			R->j[i].skipped = 1;
			nidec_info("sub-%s: outputs in '%s' are current, kept (--resume)",
				   R->sw->subject[R->j[i].s].label, R->j[i].cfg.dir);
		}
done:
	nidec_free(keep);
	return rc;
}

/* Phase 4: every rank loads every active subject; the ranks agree per
 * subject after each step. */
static int load_all(struct run *R, nidec_err *err)
{
	size_t i;
	int step;

	for (step = 0; step < 2; step++)
		for (i = 0; i < R->n; i++) {
			struct sj *j = &R->j[i];
			nidec_err e = NIDEC_ERR_INIT;
			int c = 0;

			if (!j->active)
				continue;
			if (step == 0) {
				c = nidec_cvdata_load(&j->d, &j->cfg, j->dataset, &e);
				if (c == 0)
					c = nidec_cvdata_plan(&j->d, &j->cfg, &e);
			} else {
				c = nidec_plan_prepare(j->d.plan, j->d.X, &e);
			}
			if (c == NIDEC_EMPI) {
				*err = e;
				return c;
			}
			if (c < 0 && nidec_comm_rank(R->comm) != 0)
				nidec_error("sub-%s: %s", R->sw->subject[j->s].label, e.msg);
			c = nidec_comm_agree(R->comm, c, &e);
			if (c == NIDEC_EMPI) {
				*err = e;
				return c;
			}
			if (c < 0)
				NIDEC_TRY(sj_fail(R, j, &e));
			else if (step == 0)
				nidec_verbose("sub-%s: %zu samples x %zu voxels, %zu classes, %zu outer folds, %zu tasks",
					      R->sw->subject[j->s].label, j->d.n, j->d.p, j->d.n_classes,
					      nidec_plan_n_outer(j->d.plan), nidec_plan_n_tasks(j->d.plan));
		}
	return 0;
}

/* Rank 0: subject j's checkpoint ledger, read back into j->pre with
 * --resume (as `nidec run`; a subject whose outputs are complete was
 * skipped before, so there is no results.h5 copy to look at). */
static int open_ledger(struct run *R, struct sj *j, nidec_err *err)
{
	nidec_cvdata_ckpt ck = { R->opt->resume, 0, j->cfg.checkpoint_interval, NULL, on_loaded, j };
	char who[128];
	int rc;

	snprintf(who, sizeof(who), "sub-%s: ", R->sw->subject[j->s].label);
	ck.who = who;
	NIDEC_TRY(nidec_reducer_create(j->d.plan, &j->rd, err));
	if (R->opt->resume) {
		j->pre = nidec_sched_results_alloc(j->n_tasks, err);
		if (!j->pre)
			return NIDEC_ENOMEM;
	}
	rc = nidec_cvdata_open_ledger(&j->d, &j->cfg, &ck, j->pre, j->n_tasks, j->ledger_path,
				      sizeof(j->ledger_path), &j->lg, &j->n_pre, err);
	if (rc < 0 || !j->n_pre) {
		nidec_sched_results_free(&j->pre, j->n_tasks);
		j->n_pre = 0;
	}
	return rc;
}

/* Phase 4b: rank 0 opens every active subject's ledger; a subject whose
 * ledger cannot be used (another config, corrupt) fails alone. */
static int open_ledgers(struct run *R, nidec_err *err)
{
	size_t i;

	for (i = 0; i < R->n; i++) {
		struct sj *j = &R->j[i];
		nidec_err e = NIDEC_ERR_INIT;
		int c = 0;

		if (!j->active)
			continue;
		j->n_tasks = nidec_plan_n_tasks(j->d.plan);
		if (nidec_comm_rank(R->comm) == 0)
			c = open_ledger(R, j, &e);
		c = nidec_comm_agree(R->comm, c, &e);
		if (c == NIDEC_EMPI) {
			*err = e;
			return c;
		}
		if (c < 0)
			NIDEC_TRY(sj_fail(R, j, &e));
	}
	return 0;
}

int nidec_sweep_run(nidec_comm *comm, nidec_sweep *sw, char *const *sets, size_t n_sets,
		    const nidec_cfg *base, const nidec_sweep_run_opts *opt, nidec_err *err)
{
	struct run R;
	nidec_sched_opts so = NIDEC_SCHED_OPTS_INIT;
	nidec_sched_stats st = NIDEC_SCHED_STATS_INIT;
	nidec_task_source src;
	int rank = nidec_comm_rank(comm), rc = 0;
	size_t i, a;

	memset(&R, 0, sizeof(R));
	R.comm = comm;
	R.sw = sw;
	R.opt = opt;
	R.n = sw->n_subjects;
	R.interrupted = opt->interrupted;
	R.j = nidec_calloc_e(R.n ? R.n : 1, sizeof(*R.j), "the subject table", err);
	R.act = nidec_calloc_e(R.n ? R.n : 1, sizeof(*R.act), "the subject table", err);
	if (!R.j || !R.act)
		rc = NIDEC_ENOMEM;
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(comm, rc, err), done);

	/* 1. configs (identical on every rank) */
	for (i = 0; i < R.n; i++) {
		struct sj *j = &R.j[i];
		nidec_err e = NIDEC_ERR_INIT;
		int n;

		j->s = i;
		nidec_cfg_init(&j->cfg);
		j->have_cfg = 1;
		if (sw->subject[i].status != 0 || (opt->only >= 0 && (size_t)opt->only != i))
			continue;
		j->active = 1;
		if (nidec_sweep_subject_cfg(sw, i, sets, n_sets, base->dir, &j->cfg, &e) < 0) {
			NIDEC_TRY_GOTO(rc, sj_fail(&R, j, &e), done);
			continue;
		}
		n = snprintf(j->dataset, sizeof(j->dataset), "%s/dataset.h5", j->cfg.dir);
		if (n < 0 || (size_t)n >= sizeof(j->dataset)) {
			nidec_fail(&e, NIDEC_EINPUT, "[output] dir '%s' is too long", j->cfg.dir);
			NIDEC_TRY_GOTO(rc, sj_fail(&R, j, &e), done);
		}
	}

	/* 2. - 4. */
	NIDEC_TRY_GOTO(rc, convert_all(&R, err), done);
	if (opt->resume)
		NIDEC_TRY_GOTO(rc, resume_check(&R, err), done);
	NIDEC_TRY_GOTO(rc, load_all(&R, err), done);
	NIDEC_TRY_GOTO(rc, open_ledgers(&R, err), done);

	/* 5. one task space */
	for (i = 0; i < R.n; i++) {
		struct sj *j = &R.j[i];
		if (!j->active)
			continue;
		j->off = R.total;
		R.total += j->n_tasks;
		R.act[R.n_act++] = i;
	}
	if (R.n_act > 0) {
		if (rank == 0) {
			R.results = nidec_sched_results_alloc(R.total, err);
			if (!R.results)
				rc = NIDEC_ENOMEM;
			/* results read back from the ledgers count as done */
			for (a = 0; rc == 0 && a < R.n_act; a++) {
				struct sj *j = &R.j[R.act[a]];
				size_t l;
				for (l = 0; j->pre && l < j->n_tasks; l++)
					if (j->pre[l]) {
						R.results[j->off + l] = j->pre[l];
						j->pre[l] = NULL;
						j->n_done++;
					} else if (nidec_reducer_done(j->rd, l)) {
						j->n_done++; /* reduced as it was read back */
					}
				nidec_sched_results_free(&j->pre, j->n_tasks);
				j->ready = j->n_done == j->n_tasks;
			}
		}
		NIDEC_TRY_GOTO(rc, nidec_comm_agree(comm, rc, err), done);
		nidec_info("sweep: %zu subject%s, %zu tasks on %d rank%s", R.n_act, R.n_act == 1 ? "" : "s",
			   R.total, nidec_comm_size(comm), nidec_comm_size(comm) == 1 ? "" : "s");
		src.n_tasks = R.total;
		src.cost = src_cost;
		src.group = src_group;
		src.run = src_run;
		src.ctx = &R;
		so.label = "sweep";
		so.progress = base->progress;
		so.rank0_works = nidec_comm_size(comm) <= 8;
		so.on_result = on_result;
		so.on_stored = on_stored;
		so.is_done = is_done;
		so.should_stop = should_stop;
		so.arg = &R;
		rc = nidec_sched_run_source(comm, &src, &so, R.results, &st, err);
		if (rc < 0 && rc != NIDEC_EINTR)
			goto done;
	}

	/* 6. rank 0: the subjects not written during the run */
	if (rank == 0)
		for (a = 0; a < R.n_act; a++) {
			struct sj *j = &R.j[R.act[a]];
			if (j->written)
				continue;
			if (j->n_done == j->n_tasks && finish_subject(&R, j) < 0) {
				rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory");
				break;
			}
		}
	if (rc == NIDEC_EINTR && rank == 0) {
		size_t left = 0, saved = 0;
		for (a = 0; a < R.n_act; a++) {
			struct sj *j = &R.j[R.act[a]];
			nidec_err e = NIDEC_ERR_INIT;
			if (j->written)
				continue;
			left++;
			saved += j->lg ? nidec_ledger_count(j->lg) : 0;
			/* keep what finished: the ledgers are the sweep's state now */
			if (nidec_ledger_close(&j->lg, &e) < 0)
				nidec_warn("%s", e.msg);
		}
		nidec_fail(err, NIDEC_EINTR,
			   "interrupted: %d subject%s written, %zu unfinished (%zu of their tasks saved in sub-*/%s); run the same command with --resume to finish them",
			   R.n_written, R.n_written == 1 ? "" : "s", left, saved, NIDEC_LEDGER_NAME);
	}
done:
	if (R.j)
		for (i = 0; i < R.n; i++) {
			sj_free_data(&R.j[i]);
			if (R.j[i].have_cfg)
				nidec_cfg_release(&R.j[i].cfg);
		}
	nidec_sched_results_free(&R.results, R.total);
	nidec_sched_stats_release(&st);
	nidec_free(R.j);
	nidec_free(R.act);
	return rc;
}
