/*
 * sched.c - dynamic master/worker distribution of a plan's tasks over the
 * ranks, results gathered on rank 0 by task id (see include/nidec/sched.h).
 *
 * Talks MPI only through comm.h.  Messages (tags below), all bytes:
 *   WORK         rank 0 -> worker  u64 n, u64 id[n]     (n <= NIDEC_SCHED_MAX_CHUNK)
 *   STOP         rank 0 -> worker  one byte; comes after the worker's last WORK
 *   RESULT_PART  worker -> rank 0  u64 n, then n x (u64 len, f64 CPU seconds
 *   RESULT_LAST                    of the task, len bytes of nidec_result_pack);
 *                                  LAST ends a chunk
 *   ERROR        worker -> rank 0  i32 code, message; ends a chunk, the worker
 *                                  is then "failed" and answers further chunks
 *                                  with empty RESULT_LASTs until STOP
 *   CANCEL       rank 0 -> worker  one byte: the run stops (a failure, or
 *                                  should_stop, e.g. SIGTERM); the worker
 *                                  ends its chunk after the task it is
 *                                  running (RESULT_LAST with what it did)
 *                                  and answers further chunks with empty
 *                                  RESULT_LASTs until STOP
 * MPI keeps the order of messages between two ranks, so a STOP sent right
 * after a worker's last chunk is only read once that chunk is done.
 *
 * Results reach rank 0 within NIDEC_SCHED_PART_SECONDS of being computed
 * (a worker posts what it has as a RESULT_PART when the last post is that
 * old), whatever the chunk size: a checkpoint ledger on rank 0 then loses
 * at most that much of a worker's work when the worker is killed.  A stop
 * (CANCEL) waits only for the task each worker is running, not for whole
 * chunks; results that arrive after a failure or a stop are still stored
 * (and passed to on_result), so a stopped run keeps everything finished.
 *
 * Progress (why almost everything is non-blocking): MPI moves a message
 * only while both ends are inside MPI, and a rank computing a task is not.
 * A blocking send, even of a few hundred bytes, waited a whole chunk for
 * the busy worker (measured, Open MPI 4.1 shared memory), and a blocking
 * receive of a large result makes rank 0 wait for the worker's next MPI
 * call.  So: rank 0 posts WORK/STOP with non-blocking sends; workers post
 * results with non-blocking sends and test them between tasks; rank 0
 * starts a non-blocking receive as soon as a message is announced (matched
 * probe) and hands the worker its next chunk right then, before the data
 * has arrived: the tag says the chunk is done.  Each worker holds up to two
 * chunks, so it never waits for rank 0 between them.
 * Large results (>= 1 MiB) are the exception: polled only between tasks, a
 * transfer without single-copy shared memory or RDMA moves a few hundred
 * KiB per round and would trail the work by many tasks.  The worker sends
 * them with a blocking send (tag + TAG_SYNC) and rank 0, seeing that tag,
 * completes the receive at once: the worker waits at most one of rank 0's
 * (cheapest) tasks and the copy runs at full speed.
 *
 * Why rank 0 runs the *cheapest* tasks: it polls messages only between its
 * own tasks, so short ones keep it responsive; workers take the expensive
 * ones from the front of the order.  (Alone, it follows the order from the
 * front, so that permutations and subjects complete in order.)  The exception are a plan's tasks with
 * large results (keep_tasks): rank 0 runs those first, so they are never
 * sent.
 *
 * Rank 0 probes twice when the first probe finds nothing (poll_incoming):
 * Open MPI's ob1 matches a probe before it progresses the transport, so
 * the first probe after a computation misses what arrived meanwhile.
 *
 * --timing (opts->record_tasks): rank 0 records per task who ran it, its
 * wall and CPU seconds (a worker measures the CPU time of the thread and
 * sends it in front of the result), the cost guess, the result's size and
 * when it arrived, and per message its size and rank 0's time handling it
 * (sched.h "Timing"; results.h5 /timing, bench/simulate.py).
 *
 * Invariant: results[id] is written once, by id, whatever the arrival
 * order; nothing here combines floating-point values across ranks except
 * the timing statistics.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/sbuf.h"
#include "nidec/sched.h"

enum {
	TAG_WORK = 7101, TAG_STOP = 7102, TAG_RESULT_PART = 7103, TAG_RESULT_LAST = 7104,
	TAG_ERROR = 7105, TAG_CANCEL = 7106,
	TAG_SYNC = 16 /* added to a RESULT tag: sent with a blocking send */
};

/* Results at least this large go with a blocking send (see the file comment). */
#define SYNC_BYTES ((size_t)1 << 20)

static int is_result(int tag)
{
	return tag == TAG_RESULT_PART || tag == TAG_RESULT_LAST ||
	       tag == TAG_RESULT_PART + TAG_SYNC || tag == TAG_RESULT_LAST + TAG_SYNC;
}

static int is_last(int tag)
{
	return tag == TAG_RESULT_LAST || tag == TAG_RESULT_LAST + TAG_SYNC;
}

#define HDR_BYTES sizeof(uint64_t)
/* Before each result of a RESULT message: u64 length, f64 CPU seconds. */
#define ENTRY_BYTES (2 * sizeof(uint64_t))

/* No MPI message over 2 GiB (issue 9): MPI counts are int, and every
 * message of this file stays within NIDEC_COMM_MAX_MSG. */
_Static_assert(NIDEC_COMM_MAX_MSG <= (size_t)INT_MAX, "a message must fit MPI's int count");
_Static_assert(sizeof(uint64_t) * (1 + NIDEC_SCHED_MAX_CHUNK) <= 4096,
	       "a WORK message must stay below Open MPI's eager limit");

/* Bytes of a packed result (nidec_result_pack), or SIZE_MAX when that
 * does not even fit a size_t. */
static size_t packed_bytes(const nidec_result *r)
{
	size_t n;

	return nidec_result_packed_size(r, &n) < 0 ? SIZE_MAX : n;
}

/* The guard: a result that one message cannot carry (with its 16 bytes of
 * framing) is an error, on every rank, before anything is sent. */
static int check_result_size(const nidec_result *r, size_t id, nidec_err *err)
{
	size_t n = packed_bytes(r);

	if (n > NIDEC_COMM_MAX_MSG - HDR_BYTES - ENTRY_BYTES)
		return nidec_fail(err, NIDEC_ENOMEM,
				  "the result of task %zu takes %s%zu bytes (%zu fits x %zu weights), more than one MPI message may carry (%zu); use fewer voxels (mask, screening), classes or C values",
				  id, n == SIZE_MAX ? "more than " : "", n, r->n_fit, r->n_coef,
				  NIDEC_COMM_MAX_MSG - HDR_BYTES - ENTRY_BYTES);
	return 0;
}

/* Test hook: NIDEC_TEST_TASK_DELAY=SECONDS makes every task sleep that
 * long after it ran (tests/e2e/t15xx: a run slow enough to be killed in
 * the middle without burning CPU).  Results are unchanged. */
static double task_delay(void)
{
	const char *v = getenv("NIDEC_TEST_TASK_DELAY");
	char *end;
	double d;

	if (!v || !*v)
		return 0;
	d = strtod(v, &end);
	return *end || !(d > 0) || d > 60 ? 0 : d;
}

/* CPU seconds of the calling thread: a task's cost without the time the
 * rank waited for a core (the machine may be shared), for --timing. */
static double cpu_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_seconds(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

nidec_result **nidec_sched_results_alloc(size_t n, nidec_err *err)
{
	return nidec_calloc_e(n ? n : 1, sizeof(nidec_result *), "the result table", err);
}

void nidec_sched_results_free(nidec_result ***results, size_t n)
{
	size_t i;

	if (!results || !*results)
		return;
	for (i = 0; i < n; i++)
		nidec_result_free(&(*results)[i]);
	nidec_free(*results);
	*results = NULL;
}

static void put_u64(unsigned char *p, uint64_t v) { memcpy(p, &v, sizeof(v)); }

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* ---- worker --------------------------------------------------------------- */

struct worker {
	nidec_comm *comm;
	const nidec_task_source *src;
	nidec_sbuf out;       /* RESULT message being built */
	size_t n_out;         /* entries in `out` */
	double t_posted;      /* when results were last posted */
	double delay;         /* test hook (task_delay) */
	int cancelled;        /* CANCEL received: run nothing more */
	double busy;
	size_t ran;
};

static int out_reset(struct worker *w, nidec_err *err)
{
	static const unsigned char zero[HDR_BYTES];

	nidec_sbuf_reset(&w->out);
	w->n_out = 0;
	if (nidec_sbuf_add(&w->out, zero, sizeof(zero)) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory building a result message");
	return 0;
}

/* Post the collected results: the buffer itself goes to MPI (no copy) and
 * `out` starts a new one.  Results in flight are capped at
 * NIDEC_SCHED_MAX_INFLIGHT bytes: past that the worker waits for rank 0 to
 * take them, so memory stays bounded when results are large (a transfer
 * moves only while both ends are inside MPI, see the file comment). */
static int out_send(struct worker *w, int tag, nidec_err *err)
{
	size_t len;
	void *buf;
	int rc;

	put_u64((unsigned char *)w->out.buf, (uint64_t)w->n_out);
	w->t_posted = nidec_now();
	if (w->out.len >= SYNC_BYTES) {
		double t0 = nidec_now();
		NIDEC_TRY(nidec_comm_send(w->comm, w->out.buf, w->out.len, 0, tag + TAG_SYNC, err));
		w->t_posted = nidec_now();
		nidec_debug("sent %zu bytes of results to rank 0 (blocking send: %.3f s)", w->out.len,
			    w->t_posted - t0);
		return out_reset(w, err);
	}
	buf = nidec_sbuf_detach(&w->out, &len);
	if (!buf)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory sending results");
	rc = nidec_comm_isend_take(w->comm, &buf, len, 0, tag, err);
	nidec_free(buf); /* NULL unless the send failed */
	NIDEC_TRY(rc);
	NIDEC_TRY(nidec_comm_test_sends(w->comm, err));
	if (nidec_comm_pending_bytes(w->comm) > NIDEC_SCHED_MAX_INFLIGHT)
		NIDEC_TRY(nidec_comm_flush_sends(w->comm, err));
	return out_reset(w, err);
}

/* Has rank 0 cancelled the run?  Takes its CANCEL message if so. */
static int check_cancel(struct worker *w, nidec_err *err)
{
	void *msg = NULL;
	size_t len = 0;
	int ready = 0;

	if (w->cancelled)
		return 0;
	NIDEC_TRY(nidec_comm_probe(w->comm, 0, TAG_CANCEL, &ready, err));
	if (!ready)
		return 0;
	NIDEC_TRY(nidec_comm_recv_alloc(w->comm, &msg, &len, 0, TAG_CANCEL, NULL, NULL, err));
	nidec_free(msg);
	w->cancelled = 1;
	return 0;
}

/* Run one chunk; results go to rank 0 in messages of at most 1 GiB.
 * Returns NIDEC_EMPI only for MPI failures (then the run cannot go on). */
static int worker_chunk(struct worker *w, const unsigned char *msg, size_t len, nidec_err *err)
{
	uint64_t n, i;

	if (len < sizeof(uint64_t))
		return nidec_fail(err, NIDEC_EINTERNAL, "short work message (%zu bytes)", len);
	n = get_u64(msg);
	if (n > NIDEC_SCHED_MAX_CHUNK || len != sizeof(uint64_t) * (1 + n))
		return nidec_fail(err, NIDEC_EINTERNAL, "malformed work message (%zu bytes)", len);
	for (i = 0; i < n; i++) {
		uint64_t id = get_u64(msg + sizeof(uint64_t) * (1 + i));
		nidec_result *r = NULL;
		void *packed = NULL;
		size_t plen = 0;
		unsigned char lenbuf[ENTRY_BYTES];
		double t0 = nidec_now(), c0 = cpu_now(), cpu;
		uint64_t cpu_bits;
		int rc;

		if (id >= w->src->n_tasks)
			return nidec_fail(err, NIDEC_EINTERNAL, "task id %llu out of range",
					  (unsigned long long)id);
		NIDEC_TRY(check_cancel(w, err));
		if (w->cancelled)
			break; /* the rest of the chunk stays undone */
		NIDEC_TRY(w->src->run(w->src->ctx, (size_t)id, &r, err));
		if ((rc = check_result_size(r, (size_t)id, err)) < 0) {
			nidec_result_free(&r);
			return rc;
		}
		rc = nidec_result_pack(r, &packed, &plen, err);
		nidec_result_free(&r);
		if (rc < 0)
			return rc;
		cpu = cpu_now() - c0;
		sleep_seconds(w->delay);
		w->busy += nidec_now() - t0;
		w->ran++;
		if (HDR_BYTES + sizeof(lenbuf) + plen > NIDEC_COMM_MAX_MSG) {
			/* check_result_size() is an upper bound: cannot happen */
			nidec_free(packed);
			return nidec_fail(err, NIDEC_EINTERNAL, "the result of task %llu takes %zu bytes",
					  (unsigned long long)id, plen);
		}
		if (w->out.len + sizeof(lenbuf) + plen > NIDEC_COMM_MAX_MSG &&
		    (rc = out_send(w, TAG_RESULT_PART, err)) < 0) {
			nidec_free(packed);
			return rc;
		}
		put_u64(lenbuf, (uint64_t)plen);
		memcpy(&cpu_bits, &cpu, sizeof(cpu_bits));
		put_u64(lenbuf + sizeof(uint64_t), cpu_bits);
		if (nidec_sbuf_add(&w->out, lenbuf, sizeof(lenbuf)) < 0 ||
		    nidec_sbuf_add(&w->out, packed, plen) < 0) {
			nidec_free(packed);
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory collecting results (%zu bytes)",
					  w->out.len + plen);
		}
		nidec_free(packed);
		w->n_out++;
		/* results older than NIDEC_SCHED_PART_SECONDS go now (file comment) */
		if (i + 1 < n && nidec_now() - w->t_posted >= NIDEC_SCHED_PART_SECONDS)
			NIDEC_TRY(out_send(w, TAG_RESULT_PART, err));
		/* let the results posted earlier move while we compute */
		NIDEC_TRY(nidec_comm_test_sends(w->comm, err));
	}
	return out_send(w, TAG_RESULT_LAST, err);
}

static int send_error(nidec_comm *comm, const nidec_err *e, nidec_err *err)
{
	unsigned char buf[sizeof(int32_t) + NIDEC_ERR_MSG_MAX];
	int32_t code = e->code < 0 ? e->code : NIDEC_EINTERNAL;
	size_t n = strnlen(e->msg, NIDEC_ERR_MSG_MAX - 1);

	memcpy(buf, &code, sizeof(code));
	memcpy(buf + sizeof(code), e->msg, n);
	buf[sizeof(code) + n] = '\0';
	return nidec_comm_isend(comm, buf, sizeof(code) + n + 1, 0, TAG_ERROR, err);
}

/* Returns the first local failure (0 if none); MPI failures end the loop. */
static int worker_loop(struct worker *w, nidec_err *err)
{
	nidec_err local = NIDEC_ERR_INIT;
	int failed = 0;

	NIDEC_TRY(out_reset(w, err));
	w->t_posted = nidec_now();
	w->delay = task_delay();
	for (;;) {
		void *msg = NULL;
		size_t len = 0;
		int tag = 0, rc;

		NIDEC_TRY(nidec_comm_recv_alloc(w->comm, &msg, &len, 0, -1, NULL, &tag, err));
		if (tag == TAG_STOP) {
			nidec_free(msg);
			break;
		}
		if (tag == TAG_CANCEL) {
			nidec_free(msg);
			w->cancelled = 1;
			continue;
		}
		if (tag != TAG_WORK) {
			nidec_free(msg);
			return nidec_fail(err, NIDEC_EINTERNAL, "unexpected message (tag %d) from rank 0", tag);
		}
		if (failed || w->cancelled) {
			/* acknowledge the chunk without running it */
			nidec_free(msg);
			NIDEC_TRY(out_reset(w, err));
			NIDEC_TRY(out_send(w, TAG_RESULT_LAST, err));
			continue;
		}
		rc = worker_chunk(w, msg, len, &local);
		nidec_free(msg);
		if (rc == NIDEC_EMPI) {
			*err = local;
			return rc;
		}
		if (rc < 0) {
			failed = 1;
			NIDEC_TRY(send_error(w->comm, &local, err));
		}
	}
	/* rank 0 receives until every chunk is answered, so this returns */
	NIDEC_TRY(nidec_comm_flush_sends(w->comm, err));
	if (failed) {
		/* Rank 0 got this error (ERROR message) and reports the first
		 * failure of the run, this one or an earlier one: one error
		 * line, not one per failing rank (the others follow from it). */
		int code = local.code < 0 ? local.code : NIDEC_EINTERNAL;
		nidec_debug("failed task, reported by rank 0: %s", local.msg);
		return nidec_fail(err, code, "another rank failed (see its error above)");
	}
	return 0;
}

/* ---- rank 0 ------------------------------------------------------------- */

struct master {
	nidec_comm *comm;
	const nidec_task_source *src;
	const nidec_sched_opts *opts;
	nidec_result **results;
	int n_ranks;
	size_t *order;       /* task ids to run: by group, costliest first */
	double *cost;        /* [n_tasks] */
	size_t front, back;  /* order[front .. back) not handed out yet */
	int *chunks_out;     /* [n_ranks] chunks a worker has not finished */
	int *stopped;        /* [n_ranks] STOP sent */
	int *cancelled;      /* [n_ranks] CANCEL sent */
	double delay;        /* test hook (task_delay) */
	size_t done;         /* results present (including preloaded ones) */
	double cost_todo, cost_done;
	double t_start, t_last_progress;
	int rc;              /* first failure, 0 while none */
	nidec_err fail;      /* its message */
	double busy;
	size_t ran;
	struct pending *pend;/* receives in progress */
	size_t n_pend, cap_pend;
	/* --timing: the caller's record (NULL = none); its task and message
	 * tables only with opts->record_tasks */
	nidec_timing *tm;
	size_t cap_msgs;
	/* tasks rank 0 keeps for itself (see keep_tasks), costliest first */
	size_t *mine;
	size_t n_mine, i_mine;
};

struct pending {
	nidec_comm_msg *msg;
	int from, tag;
};

struct costly {
	size_t group;
	double cost;
	size_t id;
};

/* Groups in ascending order, then costliest first; equal costs in task-id
 * order (a total order, so the schedule itself is reproducible). */
static int by_cost_desc(const void *a, const void *b)
{
	const struct costly *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->cost != y->cost)
		return x->cost > y->cost ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void master_failed(struct master *m, const nidec_err *e)
{
	if (m->rc < 0)
		return;
	m->rc = e->code < 0 ? e->code : NIDEC_EINTERNAL;
	m->fail = *e;
	m->fail.code = m->rc;
}

/* Give worker w its next chunk, or STOP when nothing is left. */
static int dispatch(struct master *m, int w, nidec_err *err)
{
	unsigned char buf[sizeof(uint64_t) * (1 + NIDEC_SCHED_MAX_CHUNK)];
	size_t left, chunk, i;

	if (m->stopped[w])
		return 0;
	left = m->back - m->front;
	if (m->rc < 0 || left == 0) {
		m->stopped[w] = 1;
		buf[0] = 0;
		return nidec_comm_isend(m->comm, buf, 1, w, TAG_STOP, err);
	}
	/* guided self-scheduling: big chunks first, single tasks at the end */
	chunk = left / (NIDEC_SCHED_CHUNK_DIV * (size_t)m->n_ranks);
	if (chunk < 1)
		chunk = 1;
	if (chunk > NIDEC_SCHED_MAX_CHUNK)
		chunk = NIDEC_SCHED_MAX_CHUNK;
	put_u64(buf, (uint64_t)chunk);
	for (i = 0; i < chunk; i++)
		put_u64(buf + sizeof(uint64_t) * (1 + i), (uint64_t)m->order[m->front + i]);
	m->front += chunk;
	m->chunks_out[w]++;
	return nidec_comm_isend(m->comm, buf, sizeof(uint64_t) * (1 + chunk), w, TAG_WORK, err);
}

/* After a failure or a stop: workers still busy with chunks end them
 * after their current task (CANCEL goes before STOP). */
static int stop_all(struct master *m, nidec_err *err)
{
	int w;

	for (w = 1; w < m->n_ranks; w++)
		if (!m->stopped[w] && !m->cancelled[w] && m->chunks_out[w] > 0) {
			m->cancelled[w] = 1;
			NIDEC_TRY(nidec_comm_isend(m->comm, "", 1, w, TAG_CANCEL, err));
		}
	for (w = 1; w < m->n_ranks; w++)
		if (!m->stopped[w]) {
			m->stopped[w] = 1;
			NIDEC_TRY(nidec_comm_isend(m->comm, "", 1, w, TAG_STOP, err));
		}
	return 0;
}

/* Store a result of rank `from` under its task id (it is then owned by
 * the table). */
static int store(struct master *m, nidec_result *r, int from, size_t bytes, double cpu,
		 nidec_err *err)
{
	if (r->task >= m->src->n_tasks || m->results[r->task]) {
		size_t id = r->task;
		nidec_result_free(&r);
		return nidec_fail(err, NIDEC_EINTERNAL, "result for task %zu is %s", id,
				  id >= m->src->n_tasks ? "out of range" : "a duplicate");
	}
	if (m->opts->on_result) {
		int rc = m->opts->on_result(m->opts->arg, r, err);
		if (rc < 0) {
			nidec_result_free(&r);
			return rc;
		}
	}
	m->cost_done += m->cost[r->task];
	if (m->tm && m->tm->task) {
		nidec_task_timing *tt = &m->tm->task[r->task];
		tt->rank = from;
		tt->seconds = r->seconds;
		tt->done = nidec_now() - m->t_start;
		tt->bytes = (double)bytes;
		tt->cpu = cpu;
	}
	m->results[r->task] = r;
	m->done++;
	if (m->opts->on_stored)
		return m->opts->on_stored(m->opts->arg, m->results, r->task, err);
	return 0;
}

/* Unpack and store the results of a RESULT message. */
static int handle_result(struct master *m, int from, const unsigned char *msg, size_t len,
			 nidec_err *err)
{
	uint64_t n, i;
	size_t off = HDR_BYTES;

	if (len < HDR_BYTES)
		return nidec_fail(err, NIDEC_EINTERNAL, "short result message from rank %d", from);
	n = get_u64(msg);
	for (i = 0; i < n; i++) {
		uint64_t plen, cpu_bits;
		nidec_result *r = NULL;
		double cpu;

		if (len - off < ENTRY_BYTES)
			return nidec_fail(err, NIDEC_EINTERNAL, "truncated result message from rank %d", from);
		plen = get_u64(msg + off);
		cpu_bits = get_u64(msg + off + sizeof(uint64_t));
		memcpy(&cpu, &cpu_bits, sizeof(cpu));
		off += ENTRY_BYTES;
		if (plen > len - off)
			return nidec_fail(err, NIDEC_EINTERNAL, "truncated result message from rank %d", from);
		NIDEC_TRY(nidec_result_unpack(msg + off, (size_t)plen, &r, err));
		off += (size_t)plen;
		NIDEC_TRY(store(m, r, from, (size_t)plen, cpu, err));
	}
	return 0;
}

static int complete_one(struct master *m, size_t i, int wait, int *done, nidec_err *err);

/* Start receiving every announced message.  A RESULT_LAST means the
 * worker finished a chunk: it gets its next one now, before the data
 * arrived.  Only MPI failures are returned; others land in m->rc. */
static int poll_incoming(struct master *m, nidec_err *err)
{
	int retried = 0;

	for (;;) {
		nidec_comm_msg *msg = NULL;
		int from = -1, tag = -1;

		NIDEC_TRY(nidec_comm_irecv(m->comm, -1, -1, &msg, &from, &tag, err));
		if (!msg && !retried) {
			/* Open MPI's ob1 matches a probe against the messages it
			 * already took in and only then progresses the transport,
			 * so a message that reached shared memory while rank 0
			 * computed is seen by the second probe, not the first
			 * (measured: every result, and a worker blocked in a large
			 * send, waited one more of rank 0's tasks).  Probe again. */
			retried = 1;
			NIDEC_TRY(nidec_comm_irecv(m->comm, -1, -1, &msg, &from, &tag, err));
		}
		if (!msg)
			return 0;
		if (from < 1 || from >= m->n_ranks || (!is_result(tag) && tag != TAG_ERROR)) {
			nidec_err e = NIDEC_ERR_INIT;
			nidec_comm_msg_free(&msg);
			nidec_fail(&e, NIDEC_EINTERNAL, "unexpected message (tag %d) from rank %d", tag, from);
			master_failed(m, &e);
			continue;
		}
		if (m->n_pend == m->cap_pend) {
			size_t cap = m->cap_pend ? 2 * m->cap_pend : 16;
			struct pending *p = nidec_realloc(m->pend, cap * sizeof(*p));
			if (!p) {
				nidec_comm_msg_free(&msg);
				return nidec_fail(err, NIDEC_ENOMEM, "out of memory receiving results");
			}
			m->pend = p;
			m->cap_pend = cap;
		}
		m->pend[m->n_pend].msg = msg;
		m->pend[m->n_pend].from = from;
		m->pend[m->n_pend].tag = tag;
		m->n_pend++;
		if (is_last(tag)) {
			m->chunks_out[from]--;
			NIDEC_TRY(dispatch(m, from, err));
		}
		if (tag >= TAG_RESULT_PART + TAG_SYNC)
			/* its sender waits in a blocking send: finish it now */
			NIDEC_TRY(complete_one(m, m->n_pend - 1, 1, NULL, err));
	}
}

/* One more entry in the per-message record (record_tasks only). */
static int record_msg(struct master *m, const struct pending *p, size_t len, double t0,
		      double t1, size_t n_results, nidec_err *err)
{
	nidec_msg_timing *mt;

	if (!m->tm || !m->tm->task)
		return 0;
	if (m->tm->n_msgs == m->cap_msgs) {
		size_t cap = m->cap_msgs ? 2 * m->cap_msgs : 256;
		nidec_msg_timing *v = nidec_realloc(m->tm->msg, cap * sizeof(*v));

		if (!v)
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory recording the timing of messages");
		m->tm->msg = v;
		m->cap_msgs = cap;
	}
	mt = &m->tm->msg[m->tm->n_msgs];
	mt->from = p->from;
	mt->results = (double)n_results;
	mt->bytes = (double)len;
	mt->seconds = t1 - t0;
	mt->at = t1 - m->t_start;
	return 0;
}

/* Act on one received message. */
static int handle_message(struct master *m, const struct pending *p, unsigned char *buf,
			  size_t len, double t0, nidec_err *err)
{
	nidec_err local = NIDEC_ERR_INIT;
	size_t before = m->done;
	double t1;

	if (p->tag == TAG_ERROR) {
		int32_t code = NIDEC_EINTERNAL;
		if (len > sizeof(code)) {
			memcpy(&code, buf, sizeof(code));
			buf[len - 1] = '\0';
			nidec_fail(&local, code < 0 ? code : NIDEC_EINTERNAL, "%s", (char *)buf + sizeof(code));
		} else {
			nidec_fail(&local, NIDEC_EINTERNAL, "malformed error message from rank %d", p->from);
		}
		master_failed(m, &local);
		/* the ERROR ended the worker's chunk: it now gets STOP */
		m->chunks_out[p->from]--;
		return dispatch(m, p->from, err);
	}
	/* after a failure or a stop too: what finished is kept (and ledgered) */
	if (handle_result(m, p->from, buf, len, &local) < 0)
		master_failed(m, &local);
	t1 = nidec_now();
	if (m->tm) {
		NIDEC_TRY(record_msg(m, p, len, t0, t1, m->done - before, err));
		m->tm->n_msgs++;
		m->tm->msg_seconds += t1 - t0;
		if (len > m->tm->max_msg)
			m->tm->max_msg = len;
	}
	return 0;
}

/* Complete pending receive i (wait = 1: wait for it); *done (may be NULL)
 * says whether it completed (it is then removed from the list). */
static int complete_one(struct master *m, size_t i, int wait, int *done, nidec_err *err)
{
	struct pending p = m->pend[i];
	void *buf = NULL;
	size_t len = 0;
	int fin = 0, rc;
	double t0 = nidec_now();

	NIDEC_TRY(nidec_comm_msg_test(m->comm, &m->pend[i].msg, wait, &fin, &buf, &len, err));
	if (done)
		*done = fin;
	if (!fin)
		return 0;
	/* keep arrival order for the rest */
	memmove(m->pend + i, m->pend + i + 1, (m->n_pend - i - 1) * sizeof(*m->pend));
	m->n_pend--;
	rc = handle_message(m, &p, buf, len, t0, err);
	nidec_free(buf);
	return rc;
}

/* Complete the receives whose data arrived, without waiting. */
static int complete_pending(struct master *m, nidec_err *err)
{
	size_t i = 0;

	while (i < m->n_pend) {
		int done = 0;
		NIDEC_TRY(complete_one(m, i, 0, &done, err));
		if (!done)
			i++;
	}
	return 0;
}

static void progress(struct master *m, int final)
{
	double now = nidec_now(), el = now - m->t_start;
	size_t n = m->src->n_tasks;
	char e[32], l[32];

	if (m->opts->progress <= 0 || (!final && now - m->t_last_progress < m->opts->progress))
		return;
	if (final && m->t_last_progress == m->t_start)
		return; /* a run shorter than one period prints no progress */
	m->t_last_progress = now;
	nidec_format_seconds(el, e, sizeof(e));
	if (final || m->cost_done <= 0) {
		nidec_info("%s: %zu/%zu tasks (%d%%), %s elapsed", m->opts->label ? m->opts->label : "tasks",
			   m->done, n, n ? (int)(100.0 * (double)m->done / (double)n) : 100, e);
		return;
	}
	nidec_format_seconds(el * (m->cost_todo - m->cost_done) / m->cost_done, l, sizeof(l));
	nidec_info("%s: %zu/%zu tasks (%d%%), %s elapsed, ~%s left",
		   m->opts->label ? m->opts->label : "tasks", m->done, n,
		   (int)(100.0 * (double)m->done / (double)n), e, l);
}

/* Rank 0 runs one task itself. */
static int master_run_one(struct master *m, size_t id)
{
	nidec_err local = NIDEC_ERR_INIT;
	nidec_result *r = NULL;
	double t0 = nidec_now(), c0 = cpu_now(), cpu;

	if (m->src->run(m->src->ctx, id, &r, &local) < 0) {
		master_failed(m, &local);
		return 0;
	}
	cpu = cpu_now() - c0;
	sleep_seconds(m->delay);
	m->busy += nidec_now() - t0;
	m->ran++;
	if (check_result_size(r, id, &local) < 0) {
		nidec_result_free(&r);
		master_failed(m, &local);
		return 0;
	}
	if (store(m, r, 0, packed_bytes(r), cpu, &local) < 0)
		master_failed(m, &local);
	return 0;
}

static int any_out(const struct master *m)
{
	int w;

	for (w = 1; w < m->n_ranks; w++)
		if (m->chunks_out[w] > 0)
			return 1;
	return 0;
}

static int master_loop(struct master *m, nidec_err *err)
{
	int w, k, self = m->opts->rank0_works || m->n_ranks == 1;

	for (k = 0; k < NIDEC_SCHED_CHUNKS_HELD; k++)
		for (w = 1; w < m->n_ranks; w++)
			NIDEC_TRY(dispatch(m, w, err));
	for (;;) {
		/* answer every worker that finished a chunk, collect results */
		NIDEC_TRY(poll_incoming(m, err));
		NIDEC_TRY(complete_pending(m, err));
		NIDEC_TRY(nidec_comm_test_sends(m->comm, err));
		progress(m, 0);
		if (m->rc == 0 && m->opts->should_stop && m->opts->should_stop(m->opts->arg)) {
			nidec_err stop = NIDEC_ERR_INIT;
			nidec_fail(&stop, NIDEC_EINTR, "interrupted: %zu of %zu tasks done",
				   m->done, m->src->n_tasks);
			master_failed(m, &stop);
		}
		if (m->rc < 0)
			NIDEC_TRY(stop_all(m, err));
		if (m->rc == 0 && self && m->i_mine < m->n_mine) {
			/* a task kept for rank 0 (keep_tasks): its big result is
			 * not sent anywhere */
			NIDEC_TRY(master_run_one(m, m->mine[m->i_mine++]));
			continue;
		}
		if (m->rc == 0 && self && m->front < m->back) {
			/* with workers, the cheapest task left: rank 0 must stay
			 * responsive; alone, the order itself */
			NIDEC_TRY(master_run_one(m, m->n_ranks == 1 ? m->order[m->front++]
								     : m->order[--m->back]));
			continue;
		}
		if (any_out(m) || m->n_pend)
			continue; /* wait for the workers (polling, as MPI's own waits do) */
		if (m->rc == 0 && m->front < m->back)
			return nidec_fail(err, NIDEC_EINTERNAL,
					  "scheduler: %zu tasks left but no rank to run them", m->back - m->front);
		break;
	}
	NIDEC_TRY(stop_all(m, err));
	/* every worker reads its messages up to STOP, so this returns */
	NIDEC_TRY(nidec_comm_flush_sends(m->comm, err));
	progress(m, 1);
	return 0;
}

/*
 * Tasks whose results are large (a plan's outer-fold fits on the true
 * labels carry every fit's weights: n_fit x (voxels + 1) doubles, 5.4 MiB
 * for 8 classes x 3 C x 29,500 voxels) are run by rank 0 itself when it
 * works, so they are never sent.  A worker sends a result of SYNC_BYTES or
 * more with a blocking send and waits until rank 0 is done with the task
 * it is running (issue 9, workload 2 on 2 ranks: the worker spent 20-25 %
 * of the cv stage in those waits for 12 results).  Rank 0 keeps them,
 * costliest first, up to half of its share of the guessed cost (so it
 * does not become the last rank), and runs them before its usual
 * cheapest-first tasks; the others stay in the hand-out order.  Results
 * are stored by task id, so the outputs do not change.
 */
static int keep_tasks(struct master *m, nidec_err *err)
{
	size_t i, j, k = m->back;
	double cap, took = 0;

	if (!m->src->keep || m->n_ranks < 2 || !m->opts->rank0_works || k == 0)
		return 0;
	m->mine = nidec_malloc_e(k, sizeof(*m->mine), "the task order", err);
	if (!m->mine)
		return NIDEC_ENOMEM;
	cap = m->cost_todo / (2.0 * (double)m->n_ranks);
	for (i = j = 0; i < k; i++) {
		size_t t = m->order[i];
		if (m->src->keep(m->src->ctx, t) && took + m->cost[t] <= cap) {
			took += m->cost[t];
			m->mine[m->n_mine++] = t;
		} else {
			m->order[j++] = t;
		}
	}
	m->back = j;
	return 0;
}

static int master_setup(struct master *m, nidec_err *err)
{
	size_t n = m->src->n_tasks, i, k = 0;
	struct costly *c;

	m->cost = nidec_malloc_e(n ? n : 1, sizeof(*m->cost), "the task costs", err);
	m->order = nidec_malloc_e(n ? n : 1, sizeof(*m->order), "the task order", err);
	m->chunks_out = nidec_calloc_e((size_t)m->n_ranks, sizeof(int), "the scheduler state", err);
	m->stopped = nidec_calloc_e((size_t)m->n_ranks, sizeof(int), "the scheduler state", err);
	m->cancelled = nidec_calloc_e((size_t)m->n_ranks, sizeof(int), "the scheduler state", err);
	m->delay = task_delay();
	c = nidec_malloc_e(n ? n : 1, sizeof(*c), "the task order", err);
	if (m->tm && m->opts->record_tasks) {
		m->tm->task = nidec_malloc_e(n ? n : 1, sizeof(*m->tm->task), "the task timing", err);
		if (!m->tm->task) {
			nidec_free(c);
			return NIDEC_ENOMEM;
		}
	}
	if (!m->cost || !m->order || !m->chunks_out || !m->stopped || !m->cancelled || !c) {
		nidec_free(c);
		return NIDEC_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		m->cost[i] = m->src->cost(m->src->ctx, i);
		if (!(m->cost[i] > 0))
			m->cost[i] = 1e-9; /* unknown or zero: still counted */
		if (m->tm && m->tm->task) {
			/* a result taken from `results` keeps the time it took */
			nidec_task_timing *tt = &m->tm->task[i];
			tt->rank = -1;
			tt->seconds = m->results[i] ? m->results[i]->seconds : NAN;
			tt->cost = m->cost[i];
			tt->done = m->results[i] ? 0.0 : NAN;
			tt->bytes = m->results[i] ? (double)packed_bytes(m->results[i]) : NAN;
			tt->keep = m->src->keep ? m->src->keep(m->src->ctx, i) : 0;
			tt->cpu = NAN; /* not measured (resumed) */
		}
		if (m->results[i] || (m->opts->is_done && m->opts->is_done(m->opts->arg, i))) {
			m->done++;
			continue;
		}
		c[k].group = m->src->group ? m->src->group(m->src->ctx, i) : 0;
		c[k].cost = m->cost[i];
		c[k++].id = i;
		m->cost_todo += m->cost[i];
	}
	qsort(c, k, sizeof(*c), by_cost_desc);
	for (i = 0; i < k; i++)
		m->order[i] = c[i].id;
	nidec_free(c);
	m->front = 0;
	m->back = k;
	return keep_tasks(m, err);
}

int nidec_sched_run(nidec_comm *comm, const nidec_task_source *src, const nidec_sched_opts *opts,
		    nidec_result **results, nidec_timing *tm, nidec_err *err)
{
	static const nidec_sched_opts defaults = NIDEC_SCHED_OPTS_INIT;
	int rank = nidec_comm_rank(comm), size = nidec_comm_size(comm), rc = 0, k;
	double t0 = nidec_now(), busy, ran, wall, *g_busy = NULL, *g_ran = NULL;
	char *g_host = NULL;
	nidec_err local = NIDEC_ERR_INIT;
	struct master m;
	struct worker w;

	if (!opts)
		opts = &defaults;
	memset(&m, 0, sizeof(m));
	memset(&w, 0, sizeof(w));
	nidec_sbuf_init(&w.out);
	if (rank == 0) {
		m.comm = comm;
		m.src = src;
		m.opts = opts;
		m.results = results;
		m.tm = tm;
		m.n_ranks = size;
		m.t_start = m.t_last_progress = t0;
		g_busy = nidec_calloc_e((size_t)size, sizeof(double), "timing", &local);
		g_ran = nidec_calloc_e((size_t)size, sizeof(double), "timing", &local);
		g_host = nidec_calloc_e((size_t)size, NIDEC_TIMING_HOST, "timing", &local);
		if (!results)
			rc = nidec_fail(&local, NIDEC_EINTERNAL, "nidec_sched_run: rank 0 needs a result table");
		else if (!g_busy || !g_ran || !g_host)
			rc = NIDEC_ENOMEM;
		else
			rc = master_setup(&m, &local);
		if (rc < 0) {
			/* nothing was handed out yet: release the workers */
			master_failed(&m, &local);
			for (k = 1; k < size && rc != NIDEC_EMPI; k++)
				if (nidec_comm_isend(comm, "", 1, k, TAG_STOP, &local) < 0)
					rc = NIDEC_EMPI;
			if (rc != NIDEC_EMPI && nidec_comm_flush_sends(comm, &local) < 0)
				rc = NIDEC_EMPI;
		} else {
			rc = master_loop(&m, &local);
		}
		if (rc >= 0 && m.rc < 0) {
			local = m.fail;
			rc = m.rc;
		}
		busy = m.busy;
		ran = (double)m.ran;
	} else {
		w.comm = comm;
		w.src = src;
		rc = worker_loop(&w, &local);
		busy = w.busy;
		ran = (double)w.ran;
	}
	nidec_sbuf_release(&w.out);
	nidec_free(m.order);
	nidec_free(m.mine);
	nidec_free(m.chunks_out);
	nidec_free(m.stopped);
	nidec_free(m.cancelled);
	for (k = 0; k < (int)m.n_pend; k++)
		nidec_comm_msg_free(&m.pend[k].msg);
	nidec_free(m.pend);

	rc = nidec_comm_agree(comm, rc, &local);
	if (rc < 0) {
		*err = local;
		goto done;
	}
	wall = nidec_now() - t0;
	NIDEC_TRY_GOTO(rc, nidec_comm_bcast(comm, &wall, sizeof(wall), 0, err), done);
	NIDEC_TRY_GOTO(rc, nidec_comm_gather_double(comm, busy, g_busy, err), done);
	NIDEC_TRY_GOTO(rc, nidec_comm_gather_double(comm, ran, g_ran, err), done);
	NIDEC_TRY_GOTO(rc, nidec_comm_gather_host(comm, g_host, NIDEC_TIMING_HOST, err), done);
	if (tm) {
		double sum = 0, total = ran;

		tm->n_ranks = size;
		tm->n_tasks = src->n_tasks;
		tm->wall = wall;
		tm->rank0_works = opts->rank0_works || size == 1;
		if (rank == 0) {
			for (total = 0, k = 0; k < size; k++) {
				sum += g_busy[k];
				total += g_ran[k];
			}
			tm->efficiency = wall > 0 ? sum / ((double)size * wall) : 1.0;
			nidec_free(tm->busy);
			nidec_free(tm->ran);
			nidec_free(tm->host);
			tm->busy = g_busy;
			tm->ran = g_ran;
			tm->host = g_host;
			g_busy = g_ran = NULL;
			g_host = NULL;
		}
		tm->n_run = (size_t)total;
	}
done:
	nidec_free(g_busy);
	nidec_free(g_ran);
	nidec_free(g_host);
	nidec_free(m.cost);
	return rc;
}
