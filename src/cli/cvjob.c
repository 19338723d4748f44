/*
 * cvjob.c - the cross-validation job of `nidec cv` and `nidec run` (see
 * cvjob.h): read, select, plan, schedule, reduce, write, print.
 *
 * Phases and who fails how: reading and selecting can fail on one rank
 * (a file system hiccup), planning fails identically on every rank (the
 * same config and labels), writing fails on rank 0 only.  After each phase
 * the ranks agree (nidec_comm_agree) before the next collective, so a
 * failure anywhere ends every rank with the same status and the error is
 * printed once.
 *
 * Checkpoint and resume (cvjob.h): rank 0 opens the ledger once the plan
 * is valid (after the output directory is checked), hands finished
 * results to it from the scheduler's on_result hook, and polls the stop
 * signals from its should_stop hook.  A resumed run reads the ledger (or,
 * for a run that had completed, the copy in results.h5) into the result
 * table before the scheduler starts; the scheduler skips those tasks, and
 * the reduce sees the same bytes as an uninterrupted run, so the outputs
 * are byte-identical (STYLE.md "Determinism").
 *
 * Rank 0 reduces incrementally (nidec_reducer): each permutation as soon
 * as its last result is stored or read back, its results then freed, so
 * memory does not grow with the number of permutations.
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
#include "nidec/dataset.h"
#include "nidec/ledger.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/plan.h"
#include "nidec/report.h"
#include "nidec/results.h"
#include "nidec/sched.h"
#include "signals.h"

/* What one rank holds during the job. */
struct job {
	nidec_cvdata d;
	nidec_result **results;
	nidec_reducer *reducer;  /* rank 0: reduces each permutation as it completes */
	nidec_outcome *outcome;
	int report;            /* report.html written */
	char ledger_path[4200];/* <dir>/results.ledger (rank 0) */
};

/* The scheduler hooks of rank 0: the ledger, the incremental reduce and
 * the stop signals. */
struct ckpt {
	nidec_ledger *lg;
	nidec_reducer *rd;
	int sig;               /* the stop signal seen, 0 = none */
};

static int ckpt_on_result(void *arg, const nidec_result *r, nidec_err *err)
{
	struct ckpt *c = arg;

	return c->lg ? nidec_ledger_append(c->lg, r, err) : 0;
}

/* After a result is stored (or read back from the checkpoint): reduce
 * its permutation if it is complete, freeing its results. */
static int ckpt_on_stored(void *arg, nidec_result **results, size_t t, nidec_err *err)
{
	struct ckpt *c = arg;

	return nidec_reducer_add(c->rd, results, t, err);
}

static int ckpt_is_done(void *arg, size_t t)
{
	struct ckpt *c = arg;

	return nidec_reducer_done(c->rd, t);
}

/* Rank 0 decides for every rank (signals.h).  The ledger is synced at
 * once, before the running tasks arrive: under mpirun a SIGTERM is
 * followed by SIGKILL one second later. */
static int ckpt_should_stop(void *arg)
{
	struct ckpt *c = arg;
	int sig = nidec_signals_caught();

	if (!sig)
		return 0;
	if (!c->sig) {
		nidec_err e = NIDEC_ERR_INIT;
		c->sig = sig;
		nidec_info("%s: no new tasks; waiting for the running ones, then saving the checkpoint",
			   nidec_signals_name(sig));
		if (c->lg && nidec_ledger_sync(c->lg, &e) < 0)
			nidec_warn("%s", e.msg);
	}
	return 1;
}

static void print_table(const nidec_outcome *o, const nidec_cfg *cfg)
{
	size_t k, f, c;

	nidec_out("%-16s %-10s %-10s %s\n", "class", nidec_scoring_name(cfg->scoring), "std",
		  "C chosen (folds)");
	for (k = 0; k < o->n_keys; k++) {
		double s = 0, ss = 0, mean;
		size_t m = 0;
		char cs[256] = "";

		for (f = 0; f < o->n_folds; f++) {
			double v = o->score[k * o->n_folds + f];
			if (isfinite(v)) {
				s += v;
				m++;
			}
		}
		mean = m ? s / (double)m : NAN;
		for (f = 0; f < o->n_folds; f++) {
			double v = o->score[k * o->n_folds + f];
			if (isfinite(v))
				ss += (v - mean) * (v - mean);
		}
		{
			size_t nan_folds = 0;
			for (f = 0; f < o->n_folds; f++)
				nan_folds += isnan(o->chosen_C[k * o->n_folds + f]);
			if (nan_folds)
				snprintf(cs, sizeof(cs), "per inner fold (%zu)", nan_folds);
		}
		for (c = 0; c < o->n_C; c++) {
			size_t cnt = 0;
			for (f = 0; f < o->n_folds; f++)
				cnt += o->chosen_C[k * o->n_folds + f] == o->C[c];
			if (cnt) {
				size_t len = strlen(cs);
				snprintf(cs + len, sizeof(cs) - len, "%s%g (%zu)", len ? ", " : "", o->C[c], cnt);
			}
		}
		nidec_out("%-16s %-10.4f %-10.4f %s\n", o->keys[k], mean,
			  m ? sqrt(ss / (double)m) : NAN, cs);
	}
	if (o->pred_accuracy && o->n_folds) {
		double a = 0;
		for (f = 0; f < o->n_folds; f++)
			a += o->pred_accuracy[f];
		nidec_out("accuracy of the predicted labels: %.4f (mean over %zu fold%s)\n",
			  a / (double)o->n_folds, o->n_folds, o->n_folds == 1 ? "" : "s");
	}
	if (o->n_perm > 0 && o->p_value) {
		for (k = 0; k < o->n_keys; k++)
			nidec_out("p-value %-16s %.4g (%ld permutations)\n", o->keys[k], o->p_value[k],
				  o->n_perm);
		nidec_out("p-value %-16s %.4g (%ld permutations)\n", "mean score", o->p_value_mean,
			  o->n_perm);
	}
}

static void print_files(const char *dir, const nidec_outcome *o)
{
	static const char *const names[] = { "scores.tsv", "grid_scores.tsv", "predictions.tsv",
					     "summary.json", "model.h5", "results.h5" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		nidec_out("wrote %s/%s\n", dir, names[i]);
	if (o->n_perm > 0)
		nidec_out("wrote %s/null_scores.tsv\n", dir);
	for (i = 0; i < o->n_keys; i++) {
		char safe[256];
		nidec_results_safe_name(o->keys[i], safe, sizeof(safe));
		nidec_out("wrote %s/weights_%s.nii.gz\n", dir, safe);
		nidec_out("wrote %s/weights_std_%s.nii.gz\n", dir, safe);
	}
}

enum { ST_READ, ST_PLAN, ST_PREPARE, ST_CV, ST_REDUCE, ST_WRITE, N_STAGES };
static const char *const stage_names[N_STAGES] = { "read", "plan", "prepare", "cv", "reduce", "write" };

/* min / max / mean of each stage over ranks (collective). */
static int stage_stats(nidec_comm *comm, const double *t, double *mn, double *mx, double *mean,
		       nidec_err *err)
{
	int s;

	for (s = 0; s < N_STAGES; s++) {
		double a = t[s], b = -t[s], c = t[s];
		NIDEC_TRY(nidec_comm_max_double(comm, &a, err));
		NIDEC_TRY(nidec_comm_max_double(comm, &b, err));
		NIDEC_TRY(nidec_comm_sum_double(comm, &c, err));
		mx[s] = a;
		mn[s] = -b;
		mean[s] = c / nidec_comm_size(comm);
	}
	return 0;
}

static void print_timing(const nidec_sched_stats *st, const double *mn, const double *mx,
			 const double *mean)
{
	int s, r;
	char w[32];

	if (!nidec_log_enabled(NIDEC_LOG_INFO))
		return;
	fprintf(stderr, "timing: stage      min (s)   mean (s)   max (s)   max/min\n");
	for (s = 0; s < N_STAGES; s++)
		fprintf(stderr, "timing: %-9s %8.3f  %9.3f  %8.3f  %8.2f\n", stage_names[s], mn[s],
			mean[s], mx[s], mn[s] > 0 ? mx[s] / mn[s] : 1.0);
	nidec_sched_format_seconds(st->wall, w, sizeof(w));
	fprintf(stderr, "timing: cv ran %zu tasks in %s on %d rank%s, parallel efficiency %.0f%%\n",
		st->n_run, w, st->n_ranks, st->n_ranks == 1 ? "" : "s", 100.0 * st->efficiency);
	fprintf(stderr, "timing: rank   tasks   busy (s)   busy/wall\n");
	for (r = 0; r < st->n_ranks; r++)
		fprintf(stderr, "timing: %4d  %6.0f  %9.3f  %9.0f%%\n", r, st->ran[r], st->busy[r],
			st->wall > 0 ? 100.0 * st->busy[r] / st->wall : 100.0);
}

int nidec_cvjob_run(nidec_comm *comm, const nidec_cfg *cfg, const nidec_cvjob *cj,
		    nidec_err *err)
{
	struct job j;
	int rank = nidec_comm_rank(comm), rc = 0;
	double t[N_STAGES] = { 0 }, t0, smin[N_STAGES], smax[N_STAGES], smean[N_STAGES];
	nidec_sched_opts so = NIDEC_SCHED_OPTS_INIT;
	nidec_sched_stats st = NIDEC_SCHED_STATS_INIT;
	struct ckpt ck = { NULL, NULL, 0 };
	size_t n_tasks = 0;

	memset(&j, 0, sizeof(j));
	/* first, so that a signal during the read is not lost (polled later) */
	rc = nidec_signals_install(err);
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(comm, rc, err), done);

	/* 1. every rank reads the dataset itself */
	t0 = nidec_now();
	rc = nidec_cvdata_load(&j.d, cfg, cj->dataset, err);
	t[ST_READ] = nidec_now() - t0;
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(comm, rc, err), done);

	/* 2. the plan checks everything that needs the labels */
	t0 = nidec_now();
	rc = nidec_cvdata_plan(&j.d, cfg, err);
	t[ST_PLAN] = nidec_now() - t0;
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(comm, rc, err), done);
	n_tasks = nidec_plan_n_tasks(j.d.plan);
	nidec_verbose("%zu samples x %zu voxels, %zu classes, %zu outer folds, %zu tasks",
		      j.d.n, j.d.p, j.d.n_classes, nidec_plan_n_outer(j.d.plan), n_tasks);

	/* 3. only now touch the output directory (rank 0) */
	if (rank == 0) {
		rc = nidec_results_prepare_dir(cfg->dir, err);
		if (rc == 0) {
			j.results = nidec_sched_results_alloc(n_tasks, err);
			if (!j.results)
				rc = NIDEC_ENOMEM;
		}
		if (rc == 0)
			rc = nidec_reducer_create(j.d.plan, &j.reducer, err);
		ck.rd = j.reducer;
		if (rc == 0) {
			nidec_cvdata_ckpt cp = { cj->resume, 1, cfg->checkpoint_interval, "",
						 ckpt_on_stored, &ck };
			size_t loaded;
			rc = nidec_cvdata_open_ledger(&j.d, cfg, &cp, j.results, n_tasks, j.ledger_path,
						      sizeof(j.ledger_path), &ck.lg, &loaded, err);
		}
	}
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(comm, rc, err), done);

	t0 = nidec_now();
	rc = nidec_plan_prepare(j.d.plan, j.d.X, err);
	t[ST_PREPARE] = nidec_now() - t0;
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(comm, rc, err), done);

	/* 4. the work */
	so.label = "cv";
	so.progress = cfg->progress;
	/* with many ranks rank 0 is busier answering workers than it would be
	 * useful computing (it polls only between its own tasks) */
	so.rank0_works = nidec_comm_size(comm) <= 8;
	so.record_tasks = cj->timing;
	if (rank == 0) {
		so.on_result = ckpt_on_result;
		so.on_stored = ckpt_on_stored;
		so.is_done = ckpt_is_done;
		so.should_stop = ckpt_should_stop;
		so.arg = &ck;
	}
	t0 = nidec_now();
	rc = nidec_sched_run(comm, j.d.plan, &so, j.results, &st, err);
	t[ST_CV] = nidec_now() - t0;
	if (rc < 0) {
		if (rank == 0 && ck.lg) {
			/* keep what finished: the ledger is the run's state now */
			size_t saved = nidec_ledger_count(ck.lg);
			nidec_err e = NIDEC_ERR_INIT;
			int sync_rc = nidec_ledger_close(&ck.lg, &e);
			if (rc == NIDEC_EINTR && sync_rc == 0)
				nidec_fail(err, NIDEC_EINTR,
					   "interrupted by %s: %zu/%zu tasks saved in '%s'; run again with --resume",
					   nidec_signals_name(ck.sig), saved, n_tasks, j.ledger_path);
			else if (rc == NIDEC_EINTR)
				nidec_fail(err, NIDEC_EINTR, "interrupted by %s, and the checkpoint was not saved: %s",
					   nidec_signals_name(ck.sig), e.msg);
			else if (sync_rc < 0)
				nidec_warn("%s", e.msg);
		}
		goto done;
	}

	/* 5. reduce and write (rank 0) */
	if (rank == 0) {
		t0 = nidec_now();
		rc = nidec_ledger_close(&ck.lg, err);
		if (rc == 0)
			rc = nidec_reducer_finish(j.reducer, &j.outcome, err);
		nidec_reducer_free(&j.reducer);
		nidec_sched_results_free(&j.results, n_tasks);
		t[ST_REDUCE] = nidec_now() - t0;
		if (rc == 0)
			rc = nidec_cvdata_stats(&j.d, cfg, err);
	}
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(comm, rc, err), done);
	/* free the data before writing: rank 0 needs only the outcome now */
	nidec_free(j.d.X);
	j.d.X = NULL;
	nidec_plan_free(&j.d.plan);

	if (rank == 0) {
		nidec_results_info info;
		nidec_results_timing tm;

		memset(&tm, 0, sizeof(tm));
		nidec_cvdata_info(&j.d, cfg, comm, j.ledger_path, &info);
		if (cj->timing) {
			tm.n_ranks = st.n_ranks;
			tm.wall = st.wall;
			tm.efficiency = st.efficiency;
			tm.busy = st.busy;
			tm.ran = st.ran;
			/* stage figures of rank 0 (the summary is written before
			 * the collective min/max below) */
			tm.n_stages = ST_WRITE;
			tm.stage = stage_names;
			tm.stage_min = tm.stage_max = tm.stage_mean = t;
			/* per task and message: results.h5 /timing */
			tm.rank0_works = st.rank0_works;
			tm.n_tasks = st.task_rank ? n_tasks : 0;
			tm.task_rank = st.task_rank;
			tm.task_seconds = st.task_seconds;
			tm.task_cost = st.task_cost;
			tm.task_done = st.task_done;
			tm.task_bytes = st.task_bytes;
			tm.task_keep = st.task_keep;
			tm.task_cpu = st.task_cpu;
			tm.n_msgs = st.n_msgs;
			tm.max_msg = st.max_msg;
			tm.msg_seconds = st.msg_seconds;
			tm.msg_from = st.msg_from;
			tm.msg_results = st.msg_results;
			tm.msg_bytes = st.msg_bytes;
			tm.msg_seconds_each = st.msg_seconds_each;
			tm.msg_at = st.msg_at;
			info.timing = &tm;
		}
		t0 = nidec_now();
		rc = nidec_results_write(cfg->dir, j.outcome, &info, err);
		/* complete, and the ledger is in results.h5: the sidecar goes */
		if (rc == 0 && unlink(j.ledger_path) < 0 && errno != ENOENT)
			nidec_warn("cannot remove the checkpoint '%s': %s", j.ledger_path, strerror(errno));
		if (rc == 0 && cfg->report) {
			/* the results are complete without it: a failing report
			 * is a warning, not a failed run */
			nidec_err rerr = NIDEC_ERR_INIT;
			if (nidec_report_write(cfg->dir, cj->dataset, &rerr) < 0)
				nidec_warn("report.html not written: %s", rerr.msg);
			else
				j.report = 1;
		}
		t[ST_WRITE] = nidec_now() - t0;
	}
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(comm, rc, err), done);

	if (rank == 0) {
		print_table(j.outcome, cfg);
		print_files(cfg->dir, j.outcome);
		if (j.report)
			nidec_out("wrote %s/report.html\n", cfg->dir);
		fflush(stdout);
	}
	if (cj->timing) {
		NIDEC_TRY_GOTO(rc, stage_stats(comm, t, smin, smax, smean, err), done);
		if (rank == 0)
			print_timing(&st, smin, smax, smean);
	}
done:
	if (ck.lg) {
		nidec_err e = NIDEC_ERR_INIT;
		if (nidec_ledger_close(&ck.lg, &e) < 0)
			nidec_warn("%s", e.msg);
	}
	nidec_signals_restore();
	nidec_sched_stats_release(&st);
	nidec_sched_results_free(&j.results, n_tasks);
	nidec_reducer_free(&j.reducer);
	nidec_outcome_free(&j.outcome);
	nidec_cvdata_release(&j.d);
	return rc;
}
