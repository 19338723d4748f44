/*
 * job.c - the job driver (include/nidec/job.h): every subject of a job,
 * each with its analysis, through convert, keep, load, open, prepare, run
 * and write.  `nidec run`, `nidec cv` and `nidec sweep` are all this one
 * pipeline; the commands only build the subject list.
 *
 * Who fails how: converting, loading and preparing can fail on one rank
 * (a file system hiccup), planning fails alike on every rank (the same
 * config and labels), opening and writing on rank 0 only.  After each
 * phase the ranks agree per subject (nidec_comm_agree_all: every rank
 * learns the failing rank's message), so a subject that failed anywhere
 * is dropped everywhere, and a job-level failure ends every rank with the
 * same status.  A failing *call* inside the scheduler (out of memory, MPI)
 * ends the job; only subject-level problems are kept to their subject.
 *
 * The task space: subject s's task t is global task off[s] + t.  The
 * scheduler's callbacks (sched.h, "The callbacks of rank 0, and their
 * order") map a global id back to its subject by a binary search over the
 * offsets of the active subjects, and speak each subject's own task ids
 * to its ledger and reducer, so a subject's checkpoint and outputs never
 * depend on which other subjects ran with it.
 *
 * Checkpoints (README "Checkpoint and resume"): rank 0 opens each
 * subject's ledger once its plan is valid; with `resume` the results it
 * holds are read back (for a job of one subject also from the copy in
 * results.h5 of a completed run) and handed to the subject's reducer as
 * they are read, and the scheduler skips those tasks (results[t] set, or
 * is_done: reduced while read back).  The reduce then sees the same
 * bytes as an uninterrupted run.
 *
 * Guards (guard.h): before anything is written, rank 0 checks each
 * subject's output directory against its inputs and locks it for the
 * whole job (a second run into it fails at once, naming this one); once
 * a subject's files are written, an earlier run's files it did not write
 * again are removed and listed.
 *
 * Writing: a subject whose last result arrived is written at the next
 * poll (should_stop), its ledger synced, folded into results.h5, removed,
 * and only then its report drawn (so the report never lists the ledger).
 * With --timing the writes wait until after the run, so that the files
 * carry the run's figures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nidec/convert.h"
#include "nidec/dataset.h"
#include "nidec/job.h"
#include "nidec/ledger.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/results.h"
#include "nidec/sched.h"
#include "nidec/signals.h"
#include "nidec/sweep.h"
#include "nidec/version.h"

#include "guard.h"

/* One subject during the job. */
struct sj {
	nidec_job_subject *sub;
	size_t s;              /* index in the job's list */
	const nidec_analysis_ops *ops;
	nidec_analysis *a;
	int active;            /* still in the job */
	char who[96];          /* "sub-01: " or "" (message prefix) */
	nidec_sbuf warnings;   /* rank 0: its warnings, for summary.json */
	nidec_guard guard;     /* rank 0: its directory's lock, earlier files (guard.h) */
	/* rank 0: the checkpoint and the reduce */
	nidec_ledger *lg;
	char ledger_path[4200];
	nidec_result **pre;    /* [n_tasks] results read back from the ledger */
	size_t off, n_tasks;   /* its range of global task ids */
	size_t n_done;         /* results stored (or read back) */
	int ready;             /* every result in, not yet reduced */
	int reduced;           /* outcome made, not yet written */
	int finished;          /* written, or failed */
	int rd_failed;         /* a failed task: the subject fails once all are in */
	nidec_err rd_err;
};

struct job {
	nidec_comm *comm;
	const nidec_job_opts *opt;
	struct sj *j;          /* [n] */
	size_t n;
	size_t *act;           /* [n_act] indices into j of the active subjects, by offset */
	size_t n_act;
	nidec_result **results;/* rank 0: [total] */
	size_t total;
	size_t n_written;
	int stop_sig;          /* rank 0: the stop signal seen, 0 = none */
	int poll_rc;           /* rank 0: a failure that stopped the run (out of
				* memory finishing a subject), 0 = none */
	nidec_err poll_err;    /* its message */
	double stage[NIDEC_N_STAGES]; /* this rank's seconds per stage */
	nidec_timing tm;
};

static void sj_free(struct sj *j)
{
	nidec_err e = NIDEC_ERR_INIT;

	if (nidec_ledger_close(&j->lg, &e) < 0)
		nidec_warn("%s", e.msg);
	nidec_sched_results_free(&j->pre, j->n_tasks);
	if (j->a)
		j->ops->free(&j->a);
	nidec_sbuf_release(&j->warnings);
	/* the lock goes last: nothing is written for the subject any more */
	nidec_guard_close(&j->guard, j->sub->cfg ? j->sub->cfg->dir : NULL, 1);
}

/* Subject j failed with `e`: drop it, record its status and message
 * ("sub-01: ..." for a sweep's subject, which is also warned about: the
 * sweep goes on).  Returns 0, or NIDEC_ENOMEM recording the message. */
static int sj_fail(struct job *J, struct sj *j, const nidec_err *e, nidec_err *err)
{
	nidec_job_subject *sub = j->sub;
	const char *m = e->msg[0] ? e->msg : nidec_err_name(e->code);
	nidec_sbuf msg = NIDEC_SBUF_INIT;

	j->active = 0;
	j->finished = 1;
	sj_free(j);
	sub->status = e->code < 0 ? e->code : NIDEC_EINTERNAL;
	if (sub->label && strncmp(m, "sub-", 4) &&
	    nidec_sbuf_addf(&msg, "sub-%s: ", sub->label) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	if (nidec_sbuf_adds(&msg, m) < 0) {
		nidec_sbuf_release(&msg);
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	}
	nidec_free(sub->error);
	sub->error = nidec_sbuf_detach(&msg, NULL);
	if (sub->label && nidec_comm_rank(J->comm) == 0)
		nidec_warn("%s (the sweep goes on without it)", sub->error);
	return 0;
}

/* After a per-subject step whose status on this rank is `rc`: agree
 * (every rank gets the failing rank's message); a failure anywhere drops
 * subject j.  The only subject of a job fails the job: its error is
 * returned (printed by rank 0 alone).  MPI errors end the job. */
static int sj_agree(struct job *J, struct sj *j, int rc, nidec_err *e, nidec_err *err)
{
	rc = nidec_comm_agree_all(J->comm, rc, e);
	if (rc == NIDEC_EMPI || rc >= 0) {
		if (rc < 0)
			*err = *e;
		return rc;
	}
	NIDEC_TRY(sj_fail(J, j, e, err));
	if (j->sub->label)
		return 0;
	if (nidec_comm_rank(J->comm) == 0)
		*err = *e;
	else
		nidec_fail(err, rc, "another rank failed (see its error above)");
	return rc;
}

/* A sweep's job: its subjects have labels (and fail alone). */
static int is_sweep(const struct job *J)
{
	return J->n > 0 && J->j[0].sub->label != NULL;
}

/* ---- the task source ------------------------------------------------------------- */

/* The active subject holding global task t (binary search on offsets). */
static struct sj *owner(const struct job *J, size_t t)
{
	size_t lo = 0, hi = J->n_act;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (J->j[J->act[mid]].off <= t)
			lo = mid;
		else
			hi = mid;
	}
	return &J->j[J->act[lo]];
}

static double src_cost(void *ctx, size_t t)
{
	struct sj *j = owner(ctx, t);

	return j->ops->task_cost(j->a, t - j->off);
}

/* Subject by subject, and within one by the analysis' groups (for the
 * decoder: permutation by permutation), so that subjects and permutations
 * complete one after the other and rank 0 holds a few at a time. */
static size_t src_group(void *ctx, size_t t)
{
	struct sj *j = owner(ctx, t);

	return j->off + j->ops->task_group(j->a, t - j->off);
}

static int src_keep(void *ctx, size_t t)
{
	struct sj *j = owner(ctx, t);

	return j->ops->task_keep(j->a, t - j->off);
}

static int src_run(void *ctx, size_t t, nidec_result **res, nidec_err *err)
{
	struct sj *j = owner(ctx, t);

	NIDEC_TRY(j->ops->task_run(j->a, t - j->off, res, err));
	(*res)->task = t;
	return 0;
}

/* ---- writing a subject (rank 0) ------------------------------------------------- */

/* Subject j's outcome, once every result is in; its data goes (rank 0
 * needs only the outcome now).  A failure is the subject's. */
static int reduce_subject(struct job *J, struct sj *j, nidec_err *e)
{
	double t0 = nidec_now();
	int rc;

	j->ready = 0;
	if (j->rd_failed) {
		*e = j->rd_err;
		return e->code < 0 ? e->code : NIDEC_EINTERNAL;
	}
	/* the ledger complete on disk before results.h5 copies it */
	rc = j->lg ? nidec_ledger_sync(j->lg, e) : 0;
	if (rc == 0)
		rc = j->ops->reduce_finish(j->a, e);
	if (rc == 0) {
		j->ops->drop_data(j->a);
		j->reduced = 1;
	}
	J->stage[NIDEC_STAGE_REDUCE] += nidec_now() - t0;
	return rc;
}

/* Write subject j's files, fold and remove its ledger, then the report;
 * print its table (opts.print) or its scores line. */
static int write_subject(struct job *J, struct sj *j, nidec_err *e)
{
	nidec_job_provenance prov;
	const nidec_cfg *cfg = j->sub->cfg;
	double t0 = nidec_now();
	int report = 0;

	memset(&prov, 0, sizeof(prov));
	prov.ledger_path = j->lg ? j->ledger_path : NULL;
	prov.n_ranks = nidec_comm_size(J->comm);
	prov.mpi_version = nidec_comm_library_version();
	prov.timing = J->opt->timing ? &J->tm : NULL;
	prov.warnings = j->warnings.buf;
	NIDEC_TRY(j->ops->write(j->a, cfg, &prov, e));
	if (j->lg) {
		/* complete, and the ledger is in results.h5: the sidecar goes */
		nidec_err ce = NIDEC_ERR_INIT;
		if (nidec_ledger_close(&j->lg, &ce) < 0)
			nidec_warn("%s", ce.msg);
		if (unlink(j->ledger_path) < 0 && errno != ENOENT)
			nidec_warn("%scannot remove the checkpoint '%s': %s", j->who, j->ledger_path,
				   strerror(errno));
	}
	if (cfg->report) {
		nidec_err re = NIDEC_ERR_INIT;
		if (j->ops->report(j->a, cfg, j->sub->dataset, &re) < 0)
			nidec_warn("%sreport.html not written: %s", j->who, re.msg);
		else
			report = 1;
	}
	/* the run's outputs are in place: an earlier run's other files go */
	nidec_guard_clean(&j->guard, cfg->dir, j->who);
	j->reduced = 0;
	j->finished = 1;
	j->sub->written = 1;
	J->n_written++;
	if (J->opt->print) {
		j->ops->print(j->a, cfg, report);
		fflush(stdout);
	} else {
		nidec_sbuf line = NIDEC_SBUF_INIT;
		/* out of memory: a shorter log line */
		(void)j->ops->summary(j->a, cfg, &line);
		nidec_info("%swritten to '%s' (%s)", j->who, cfg->dir, line.buf ? line.buf : "");
		nidec_sbuf_release(&line);
	}
	J->stage[NIDEC_STAGE_WRITE] += nidec_now() - t0;
	return 0;
}

/* Rank 0, during or after the run: reduce and (unless the writes wait
 * for the timing) write subject j.  A failure fails the subject, which
 * is marked on rank 0 only here: the run is under way (the sweep records
 * it in the group files, run and cv return it after the run). */
static int finish_subject(struct job *J, struct sj *j, int write, nidec_err *err)
{
	nidec_err e = NIDEC_ERR_INIT;
	int rc = 0;

	if (j->ready)
		rc = reduce_subject(J, j, &e);
	if (rc == 0 && write && j->reduced)
		rc = write_subject(J, j, &e);
	if (rc == NIDEC_ENOMEM) {
		*err = e;
		return rc;
	}
	return rc < 0 ? sj_fail(J, j, &e, err) : 0;
}

/* ---- the scheduler's callbacks (rank 0) --------------------------------------- */

/* A result arrived: to its subject's ledger, in the subject's own task
 * ids (a resumed sweep may run other subjects, so other offsets); failed
 * results are not recorded (a resumed run tries them again). */
static int on_result(void *arg, const nidec_result *r, nidec_err *err)
{
	struct job *J = arg;
	struct sj *j;
	nidec_result local;

	if (r->task >= J->total)
		return nidec_fail(err, NIDEC_EINTERNAL, "job: result for task %zu of %zu", r->task,
				  J->total);
	j = owner(J, r->task);
	if (!j->lg)
		return 0;
	local = *r;
	local.task = r->task - j->off;
	return nidec_ledger_append(j->lg, &local, err);
}

/* Result t is stored: to its subject's reducer, which frees each
 * permutation's results once it is complete.  A failed task fails the
 * subject (when all its results are in), not the job. */
static int on_stored(void *arg, nidec_result **results, size_t t, nidec_err *err)
{
	struct job *J = arg;
	struct sj *j = owner(J, t);
	size_t l = t - j->off, i;

	results[t]->task = l;
	if (j->rd_failed) {
		nidec_result_free(&results[t]);
	} else {
		int rc = j->ops->reduce_add(j->a, results + j->off, l, &j->rd_err);
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
		j->ready = 1; /* finished at the next poll */
	return 0;
}

/* Tasks whose result was reduced while the checkpoint was read back. */
static int is_done(void *arg, size_t t)
{
	struct sj *j = owner(arg, t);

	return j->ops->reduce_done(j->a, t - j->off);
}

/* Polled between tasks: finish the subjects that are complete, sync the
 * ledgers now and then, and report a stop signal (for every rank). */
static int should_stop(void *arg)
{
	struct job *J = arg;
	size_t a;
	int sig;

	for (a = 0; a < J->n_act; a++) {
		struct sj *j = &J->j[J->act[a]];
		nidec_err e = NIDEC_ERR_INIT;
		if (j->ready && !J->opt->timing && finish_subject(J, j, 1, &e) < 0) {
			/* out of memory recording a failure: stop, and fail with it
			 * (not as if a signal had stopped the run) */
			J->poll_rc = e.code ? e.code : NIDEC_ENOMEM;
			J->poll_err = e;
			return 1;
		}
		if (j->lg && nidec_ledger_tick(j->lg, &e) < 0)
			nidec_warn("%s", e.msg);
		nidec_lock_refresh(j->guard.lock);
	}
	sig = nidec_signals_caught();
	if (!sig)
		return 0;
	if (!J->stop_sig) {
		/* sync at once, before the running tasks arrive: under mpirun a
		 * SIGTERM is followed by SIGKILL one second later */
		J->stop_sig = sig;
		nidec_info("%s: no new tasks; waiting for the running ones, then saving the checkpoint%s",
			   nidec_signals_name(sig), J->n > 1 ? "s" : "");
		for (a = 0; a < J->n_act; a++) {
			nidec_err e = NIDEC_ERR_INIT;
			nidec_ledger *lg = J->j[J->act[a]].lg;
			if (lg && nidec_ledger_sync(lg, &e) < 0)
				nidec_warn("%s", e.msg);
		}
	}
	return 1;
}

/* A result read back from subject arg's checkpoint (its own task ids). */
static int on_loaded(void *arg, nidec_result **results, size_t t, nidec_err *err)
{
	struct sj *j = arg;

	return j->ops->reduce_add(j->a, results, t, err);
}

/* ---- the phases ------------------------------------------------------------------ */

/* The warnings rank `root` recorded for subject j go to rank 0, which
 * shows them (the other ranks print no warning) and keeps them.
 * Collective. */
static int share_warnings(struct job *J, struct sj *j, int root, nidec_err *err)
{
	int rank = nidec_comm_rank(J->comm);
	uint64_t len = rank == root ? j->warnings.len : 0;
	char *text, *line, *next;
	int rc;

	NIDEC_TRY(nidec_comm_bcast(J->comm, &len, sizeof(len), root, err));
	if (len == 0)
		return 0;
	text = nidec_malloc_e((size_t)len + 1, 1, "the warnings", err);
	rc = nidec_comm_agree(J->comm, text ? 0 : NIDEC_ENOMEM, err);
	if (rc == 0) {
		if (rank == root)
			memcpy(text, j->warnings.buf, (size_t)len);
		rc = nidec_comm_bcast(J->comm, text, (size_t)len, root, err);
	}
	nidec_sbuf_reset(&j->warnings);
	if (rc == 0 && rank == 0) {
		text[len] = '\0';
		/* out of memory: shown, not stored (the run goes on) */
		(void)nidec_sbuf_add(&j->warnings, text, (size_t)len);
		for (line = text; *line; line = next) {
			next = strchr(line, '\n');
			*next++ = '\0';
			nidec_warn("%s%s (on rank %d)", j->who, line, root);
		}
	}
	nidec_free(text);
	return rc;
}

/* 0. guard: before anything is written, rank 0 takes each subject's
 * output directory (guard.h: checked against its inputs, locked for the
 * whole job, an earlier run's files listed); a subject whose directory is
 * in use fails (a sweep goes on without it). */
static int phase_guard(struct job *J, nidec_err *err)
{
	size_t i;

	for (i = 0; i < J->n; i++) {
		struct sj *j = &J->j[i];
		nidec_err e = NIDEC_ERR_INIT;
		int rc = 0;

		if (!j->active)
			continue;
		if (nidec_comm_rank(J->comm) == 0)
			rc = nidec_guard_open(&j->guard, j->sub->cfg, j->sub->dataset, j->sub->convert,
					      j->who, &e);
		NIDEC_TRY(sj_agree(J, j, rc, &e, err));
	}
	return 0;
}

/* 1. convert: subject s on rank s % size, the ranks in parallel; then
 * every rank learns every outcome from the rank that converted. */
static int phase_convert(struct job *J, nidec_err *err)
{
	int rank = nidec_comm_rank(J->comm), size = nidec_comm_size(J->comm), rc = 0;
	struct conv {
		int32_t rc, reused;
		nidec_err e;
	} *cv;
	size_t i;

	cv = nidec_calloc_e(J->n ? J->n : 1, sizeof(*cv), "the conversion statuses", err);
	NIDEC_TRY(nidec_comm_agree(J->comm, cv ? 0 : NIDEC_ENOMEM, err));
	for (i = 0; i < J->n; i++) {
		struct sj *j = &J->j[i];
		double t0 = nidec_now();
		int reused = 0;

		if (!j->active || !j->sub->convert || (int)(j->s % (size_t)size) != rank)
			continue;
		nidec_log_record_warnings(&j->warnings);
		cv[i].rc = nidec_convert(j->sub->cfg, j->sub->dataset, J->opt->force, &reused, &cv[i].e);
		nidec_log_record_warnings(NULL);
		cv[i].reused = reused;
		/* a reuse says so itself (nidec_convert) */
		if (cv[i].rc == 0 && !reused)
			nidec_info("%sdataset converted to '%s' in %.1fs", j->who, j->sub->dataset,
				   nidec_now() - t0);
	}
	for (i = 0; rc == 0 && i < J->n; i++) {
		struct sj *j = &J->j[i];
		int root = (int)(j->s % (size_t)size);

		if (!j->active || !j->sub->convert)
			continue;
		rc = nidec_comm_bcast(J->comm, &cv[i].reused, sizeof(cv[i].reused), root, err);
		if (rc == 0 && root != 0)
			rc = share_warnings(J, j, root, err);
		if (rc == 0 && rank == 0 && root != 0 && cv[i].rc == 0)
			nidec_info("%s%s '%s' (on rank %d)", j->who,
				   cv[i].reused ? "reusing (inputs unchanged)" : "dataset converted to",
				   j->sub->dataset, root);
		if (rc == 0)
			rc = sj_agree(J, j, cv[i].rc, &cv[i].e, err);
	}
	nidec_free(cv);
	return rc;
}

/* 2. keep: with --resume, rank 0 keeps the subjects whose outputs are
 * current (same config and inputs); everyone follows. */
static int phase_keep(struct job *J, nidec_err *err)
{
	size_t i;

	for (i = 0; i < J->n; i++) {
		struct sj *j = &J->j[i];
		int32_t keep = 0;

		if (!j->active)
			continue;
		if (nidec_comm_rank(J->comm) == 0) {
			nidec_dataset *ds = NULL;
			nidec_err e = NIDEC_ERR_INIT;
			int cur = 0;
			/* not current on any error: the load phase reports it */
			if (nidec_ds_open(j->sub->dataset, &ds, &e) == 0 &&
			    nidec_sweep_outputs_current(j->sub->cfg->dir, j->sub->cfg, ds->inputs_sha256, &cur, &e) == 0)
				keep = cur;
			nidec_ds_close(&ds);
		}
		NIDEC_TRY(nidec_comm_bcast(J->comm, &keep, sizeof(keep), 0, err));
		if (keep) {
			j->active = 0;
			j->sub->kept = 1;
			nidec_info("%soutputs in '%s' are current, kept (--resume)", j->who, j->sub->cfg->dir);
		}
	}
	return 0;
}

/* Rank 0 records subject j's warnings (the others print none). */
static void record_warnings(struct job *J, struct sj *j)
{
	if (nidec_comm_rank(J->comm) == 0)
		nidec_log_record_warnings(&j->warnings);
}

/* 3. load: every rank reads every active subject and builds its plan. */
static int phase_load(struct job *J, nidec_err *err)
{
	size_t i;

	for (i = 0; i < J->n; i++) {
		struct sj *j = &J->j[i];
		nidec_err e = NIDEC_ERR_INIT;
		double t0 = nidec_now();
		int rc;

		if (!j->active)
			continue;
		record_warnings(J, j);
		rc = j->ops->load(j->sub->cfg, j->sub->dataset, &j->a, &e);
		nidec_log_record_warnings(NULL);
		J->stage[NIDEC_STAGE_READ] += nidec_now() - t0;
		NIDEC_TRY(sj_agree(J, j, rc, &e, err));
		if (!j->active)
			continue;
		t0 = nidec_now();
		record_warnings(J, j);
		rc = j->ops->plan(j->a, &e);
		if (rc == 0) {
			/* a task count too large for rank 0's memory fails here,
			 * before the checkpoint or any table is made */
			char d[256];
			j->ops->describe(j->a, d, sizeof(d));
			rc = nidec_guard_task_count(j->sub->cfg, j->ops->n_tasks(j->a), d, j->who, &e);
		}
		nidec_log_record_warnings(NULL);
		J->stage[NIDEC_STAGE_PLAN] += nidec_now() - t0;
		NIDEC_TRY(sj_agree(J, j, rc, &e, err));
		if (j->active) {
			char d[256];
			j->ops->describe(j->a, d, sizeof(d));
			j->n_tasks = j->ops->n_tasks(j->a);
			nidec_verbose("%s%s", j->who, d);
		}
	}
	return 0;
}

/* Rank 0: subject j's output directory, reducer and checkpoint ledger
 * <dir>/results.ledger.  With --resume an existing ledger is read back
 * into j->pre (for a job of one subject, the copy results.h5 keeps of a
 * completed run first: a sweep kept those subjects in phase 2).  Without
 * it a new ledger replaces an old one, with a warning. */
static int open_subject(struct job *J, struct sj *j, nidec_err *err)
{
	const nidec_cfg *cfg = j->sub->cfg;
	nidec_ledger_id id;
	nidec_sbuf text = NIDEC_SBUF_INIT;
	char h5[4200];
	int rc = 0, n, extracted = 0;
	size_t n_loaded = 0;

	NIDEC_TRY(nidec_results_prepare_dir(cfg->dir, err));
	NIDEC_TRY(j->ops->reduce_start(j->a, err));
	memset(&id, 0, sizeof(id));
	n = snprintf(j->ledger_path, sizeof(j->ledger_path), "%s/%s", cfg->dir, NIDEC_LEDGER_NAME);
	if (n < 0 || (size_t)n >= sizeof(j->ledger_path) ||
	    (n = snprintf(h5, sizeof(h5), "%s/results.h5", cfg->dir)) < 0 || (size_t)n >= sizeof(h5))
		return nidec_fail(err, NIDEC_EINPUT, "[output] dir '%s' is too long", cfg->dir);
	NIDEC_TRY_GOTO(rc, nidec_ledger_config_hash(cfg, &text, id.config_sha256, err), done);
	id.config_text = text.buf;
	snprintf(id.inputs_sha256, sizeof(id.inputs_sha256), "%s", j->ops->inputs_sha256(j->a));
	snprintf(id.version, sizeof(id.version), "%s", nidec_version);
	id.n_tasks = j->n_tasks;

	if (!J->opt->resume) {
		if (access(j->ledger_path, F_OK) == 0)
			nidec_warn("%sreplacing the checkpoint of an unfinished run '%s' (to continue that run instead, add --resume)",
				   j->who, j->ledger_path);
		rc = nidec_ledger_create(j->ledger_path, &id, cfg->checkpoint_interval, &j->lg, err);
		goto done;
	}
	j->pre = nidec_sched_results_alloc(j->n_tasks, err);
	if (!j->pre) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	if (!J->opt->keep_current && access(j->ledger_path, F_OK) < 0) {
		/* a run that completed: its ledger lives on in results.h5 */
		NIDEC_TRY_GOTO(rc, nidec_results_extract_ledger(h5, j->ledger_path, &extracted, err), done);
	}
	if (access(j->ledger_path, F_OK) == 0) {
		rc = nidec_ledger_resume(j->ledger_path, extracted ? h5 : NULL, &id, cfg->checkpoint_interval,
					 j->pre, j->n_tasks, on_loaded, j, &n_loaded, &j->lg, err);
		if (rc < 0 && extracted)
			unlink(j->ledger_path);
		if (rc == 0)
			nidec_info("%sresume: %zu of %zu tasks already done (%s '%s')", j->who, n_loaded,
				   j->n_tasks, extracted ? "ledger kept in" : "checkpoint",
				   extracted ? h5 : j->ledger_path);
	} else {
		nidec_info("%sresume: no checkpoint in '%s'; starting from the beginning", j->who, cfg->dir);
		rc = nidec_ledger_create(j->ledger_path, &id, cfg->checkpoint_interval, &j->lg, err);
	}
done:
	if (rc < 0 || !n_loaded)
		nidec_sched_results_free(&j->pre, j->n_tasks);
	nidec_sbuf_release(&text);
	return rc;
}

/* Rank 0, before a very large run starts: time one task and say how long
 * the run should take from the task costs (guard.h's memory check came
 * first).  Shown, not stored: a resumed run's files must not depend on a
 * timing. */
static void announce_time(struct job *J, struct sj *j)
{
	nidec_result *res = NULL;
	nidec_err e = NIDEC_ERR_INIT;
	double t0, dt, total = 0, c, secs;
	size_t t, pick;
	char w[32];
	int size = nidec_comm_size(J->comm);

	if (j->n_tasks < 1000000)
		return;
	pick = j->n_tasks - 1; /* a permutation task: the most of the run */
	c = j->ops->task_cost(j->a, pick);
	for (t = 0; t < j->n_tasks; t++)
		total += j->ops->task_cost(j->a, t);
	t0 = nidec_now();
	if (j->ops->task_run(j->a, pick, &res, &e) < 0 || !(c > 0))
		return; /* the run itself reports a failing task */
	dt = nidec_now() - t0;
	nidec_result_free(&res);
	secs = dt * total / c / (double)size;
	nidec_format_seconds(secs, w, sizeof(w));
	nidec_info("%s%zu tasks: about %s on %d rank%s (one task took %.3f s; the others scaled by their cost)",
		   j->who, j->n_tasks, w, size, size == 1 ? "" : "s", dt);
}

/* 4. open (rank 0) and 5. prepare (every rank), per subject. */
static int phase_open_prepare(struct job *J, nidec_err *err)
{
	size_t i;

	for (i = 0; i < J->n; i++) {
		struct sj *j = &J->j[i];
		nidec_err e = NIDEC_ERR_INIT;
		double t0;
		int rc = 0;

		if (!j->active)
			continue;
		if (nidec_comm_rank(J->comm) == 0)
			rc = open_subject(J, j, &e);
		NIDEC_TRY(sj_agree(J, j, rc, &e, err));
		if (!j->active)
			continue;
		t0 = nidec_now();
		rc = j->ops->prepare(j->a, &e);
		J->stage[NIDEC_STAGE_PREPARE] += nidec_now() - t0;
		NIDEC_TRY(sj_agree(J, j, rc, &e, err));
		if (j->active && nidec_comm_rank(J->comm) == 0)
			announce_time(J, j);
	}
	return 0;
}

/* 6. every active subject's tasks in one task space. */
static int phase_run(struct job *J, nidec_err *err)
{
	nidec_sched_opts so = NIDEC_SCHED_OPTS_INIT;
	nidec_task_source src;
	int rank = nidec_comm_rank(J->comm), size = nidec_comm_size(J->comm), rc = 0;
	size_t i, a;
	double t0;

	for (i = 0; i < J->n; i++) {
		struct sj *j = &J->j[i];
		if (!j->active)
			continue;
		j->off = J->total;
		J->total += j->n_tasks;
		J->act[J->n_act++] = i;
	}
	if (J->n_act == 0)
		return 0;
	if (rank == 0) {
		J->results = nidec_sched_results_alloc(J->total, err);
		if (!J->results)
			rc = NIDEC_ENOMEM;
		/* results read back from the ledgers count as done */
		for (a = 0; rc == 0 && a < J->n_act; a++) {
			struct sj *j = &J->j[J->act[a]];
			size_t l;
			for (l = 0; l < j->n_tasks; l++)
				if (j->pre && j->pre[l]) {
					J->results[j->off + l] = j->pre[l];
					j->pre[l] = NULL;
					j->n_done++;
				} else if (j->ops->reduce_done(j->a, l)) {
					j->n_done++; /* reduced as it was read back */
				}
			nidec_sched_results_free(&j->pre, j->n_tasks);
			j->ready = j->n_done == j->n_tasks;
		}
	}
	NIDEC_TRY(nidec_comm_agree(J->comm, rc, err));
	if (is_sweep(J))
		nidec_info("%s: %zu subject%s, %zu tasks on %d rank%s", J->opt->label, J->n_act,
			   J->n_act == 1 ? "" : "s", J->total, size, size == 1 ? "" : "s");
	src.n_tasks = J->total;
	src.cost = src_cost;
	src.group = src_group;
	src.keep = src_keep;
	src.run = src_run;
	src.ctx = J;
	so.label = J->opt->label;
	so.progress = J->opt->progress;
	/* with many ranks rank 0 is busier answering workers than it would
	 * be useful computing (it polls only between its own tasks) */
	so.rank0_works = size <= 8;
	so.record_tasks = J->opt->timing;
	if (rank == 0) {
		so.is_done = is_done;
		so.on_result = on_result;
		so.on_stored = on_stored;
		so.should_stop = should_stop;
		so.arg = J;
	}
	t0 = nidec_now();
	rc = nidec_sched_run(J->comm, &src, &so, J->results, &J->tm, err);
	J->stage[NIDEC_STAGE_CV] = nidec_now() - t0;
	return rc;
}

/* min / max / mean over the ranks of stages [from, to) (collective). */
static int stage_stats(struct job *J, int from, int to, nidec_err *err)
{
	int s, size = nidec_comm_size(J->comm);

	for (s = from; s < to; s++) {
		double mx = J->stage[s], mn = -J->stage[s], sum = J->stage[s];
		NIDEC_TRY(nidec_comm_max_double(J->comm, &mx, err));
		NIDEC_TRY(nidec_comm_max_double(J->comm, &mn, err));
		NIDEC_TRY(nidec_comm_sum_double(J->comm, &sum, err));
		J->tm.stage_max[s] = mx;
		J->tm.stage_min[s] = -mn;
		J->tm.stage_mean[s] = sum / size;
	}
	J->tm.n_stages = (size_t)to;
	return 0;
}

static void print_timing(const nidec_timing *tm)
{
	int s, r;
	char w[32];

	if (!nidec_log_enabled(NIDEC_LOG_INFO))
		return;
	fprintf(stderr, "timing: stage      min (s)   mean (s)   max (s)   max/min\n");
	for (s = 0; s < NIDEC_N_STAGES; s++)
		fprintf(stderr, "timing: %-9s %8.3f  %9.3f  %8.3f  %8.2f\n", nidec_timing_stage_name(s),
			tm->stage_min[s], tm->stage_mean[s], tm->stage_max[s],
			tm->stage_min[s] > 0 ? tm->stage_max[s] / tm->stage_min[s] : 1.0);
	nidec_format_seconds(tm->wall, w, sizeof(w));
	fprintf(stderr, "timing: cv ran %zu tasks in %s on %d rank%s, parallel efficiency %.0f%%\n",
		tm->n_run, w, tm->n_ranks, tm->n_ranks == 1 ? "" : "s", 100.0 * tm->efficiency);
	fprintf(stderr, "timing: rank   tasks   busy (s)   busy/wall  host\n");
	for (r = 0; r < tm->n_ranks && tm->busy && tm->ran; r++)
		fprintf(stderr, "timing: %4d  %6.0f  %9.3f  %9.0f%%  %s\n", r, tm->ran[r], tm->busy[r],
			tm->wall > 0 ? 100.0 * tm->busy[r] / tm->wall : 100.0,
			tm->host ? tm->host + (size_t)r * NIDEC_TIMING_HOST : "?");
}

/* 7. after the run (rank 0): finish what is complete; with --timing the
 * stage table first, then the writes. */
static int phase_finish(struct job *J, int run_rc, nidec_err *err)
{
	int rank = nidec_comm_rank(J->comm), rc = 0;
	size_t a;

	if (rank == 0 && J->poll_rc)
		rc = nidec_fail(err, J->poll_rc, "%s", J->poll_err.msg);
	if (rank == 0)
		for (a = 0; rc == 0 && a < J->n_act; a++) {
			struct sj *j = &J->j[J->act[a]];
			if (j->active && j->ready)
				rc = finish_subject(J, j, !J->opt->timing, err);
		}
	if (J->opt->timing) {
		/* the files carry the stages up to the reduce */
		NIDEC_TRY(nidec_comm_agree(J->comm, rc, err));
		NIDEC_TRY(stage_stats(J, 0, NIDEC_STAGE_WRITE, err));
		if (rank == 0)
			for (a = 0; rc == 0 && a < J->n_act; a++) {
				struct sj *j = &J->j[J->act[a]];
				if (j->active && j->reduced)
					rc = finish_subject(J, j, 1, err);
			}
	}
	if (rank == 0 && run_rc == NIDEC_EINTR && rc == 0) {
		size_t left = 0, saved = 0;
		for (a = 0; a < J->n_act; a++) {
			struct sj *j = &J->j[J->act[a]];
			if (j->finished)
				continue;
			left++;
			saved += j->lg ? nidec_ledger_count(j->lg) : 0;
		}
		if (left && !is_sweep(J))
			rc = nidec_fail(err, NIDEC_EINTR,
					"interrupted by %s: %zu/%zu tasks saved in '%s'; run again with --resume",
					nidec_signals_name(J->stop_sig), saved, J->total, J->j[0].ledger_path);
		else if (left)
			rc = nidec_fail(err, NIDEC_EINTR,
					"interrupted: %zu subject%s written, %zu unfinished (%zu of their tasks saved in sub-*/%s); run the same command with --resume to finish them",
					J->n_written, J->n_written == 1 ? "" : "s", left, saved, NIDEC_LEDGER_NAME);
		/* keep what finished: the ledgers are the job's state now */
		for (a = 0; a < J->n_act; a++) {
			struct sj *j = &J->j[J->act[a]];
			nidec_err e = NIDEC_ERR_INIT;
			if (!j->finished && nidec_ledger_close(&j->lg, &e) < 0) {
				if (!is_sweep(J))
					nidec_fail(err, NIDEC_EINTR,
						   "interrupted by %s, and the checkpoint was not saved: %s",
						   nidec_signals_name(J->stop_sig), e.msg);
				else
					nidec_warn("%s", e.msg);
			}
		}
	}
	/* a job of one subject fails with it (written on rank 0, it may
	 * have failed there only) */
	if (rank == 0 && rc == 0 && !is_sweep(J) && J->n == 1 && J->j[0].sub->status)
		rc = nidec_fail(err, J->j[0].sub->status, "%s", J->j[0].sub->error);
	NIDEC_TRY(nidec_comm_agree(J->comm, rc, err));
	if (J->opt->timing) {
		NIDEC_TRY(stage_stats(J, NIDEC_STAGE_WRITE, NIDEC_N_STAGES, err));
		if (rank == 0)
			print_timing(&J->tm);
	}
	return 0;
}

void nidec_job_subject_release(nidec_job_subject *s)
{
	nidec_free(s->error);
	s->error = NULL;
}

int nidec_job_run(nidec_comm *comm, nidec_job_subject *sub, size_t n, const nidec_job_opts *opt,
		  nidec_err *err)
{
	static const nidec_timing no_timing = NIDEC_TIMING_INIT;
	struct job J;
	size_t i;
	int rc = 0;

	memset(&J, 0, sizeof(J));
	J.comm = comm;
	J.opt = opt;
	J.n = n;
	J.tm = no_timing;
	/* first, so that a signal during the long first phases is not lost
	 * (it is polled once the tasks run) */
	rc = nidec_signals_install(err);
	if (rc == 0) {
		J.j = nidec_calloc_e(n ? n : 1, sizeof(*J.j), "the subject table", err);
		J.act = nidec_calloc_e(n ? n : 1, sizeof(*J.act), "the subject table", err);
		if (!J.j || !J.act)
			rc = NIDEC_ENOMEM;
	}
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(comm, rc, err), done);
	for (i = 0; i < n; i++) {
		struct sj *j = &J.j[i];
		j->sub = &sub[i];
		j->s = i;
		j->ops = sub[i].analysis ? sub[i].analysis : &nidec_decoder_analysis;
		j->active = sub[i].status == 0;
		if (sub[i].label)
			snprintf(j->who, sizeof(j->who), "sub-%s: ", sub[i].label);
	}

	NIDEC_TRY_GOTO(rc, phase_guard(&J, err), done);
	NIDEC_TRY_GOTO(rc, phase_convert(&J, err), done);
	if (opt->resume && opt->keep_current)
		NIDEC_TRY_GOTO(rc, phase_keep(&J, err), done);
	NIDEC_TRY_GOTO(rc, phase_load(&J, err), done);
	NIDEC_TRY_GOTO(rc, phase_open_prepare(&J, err), done);
	rc = phase_run(&J, err);
	if (rc < 0 && rc != NIDEC_EINTR)
		goto done;
	rc = phase_finish(&J, rc, err);
done:
	if (J.j)
		for (i = 0; i < n; i++)
			sj_free(&J.j[i]);
	nidec_signals_restore();
	nidec_sched_results_free(&J.results, J.total);
	nidec_timing_release(&J.tm);
	nidec_free(J.j);
	nidec_free(J.act);
	return rc;
}
