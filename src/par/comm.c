/*
 * comm.c - checked MPI calls behind the opaque nidec_comm (see comm.h).
 *
 * The communicator is a dup of MPI_COMM_WORLD with MPI_ERRORS_RETURN, so an
 * MPI failure is a return code we turn into text, never an abort inside the
 * library.  This file and src/par/sched.c are the only users of mpi.h
 * besides main().
 */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "nidec/comm.h"
#include "nidec/mem.h"

struct nidec_comm {
	MPI_Comm comm;
	int rank;
	int size;
	/* non-blocking sends in flight: request + the copy it sends */
	MPI_Request *req;
	void **req_buf;
	size_t *req_len;
	size_t n_req, cap_req;
	size_t pending_bytes;
};

static int mpi_fail(nidec_err *err, int code, const char *what)
{
	char text[MPI_MAX_ERROR_STRING];
	int len = 0;

	if (MPI_Error_string(code, text, &len) != MPI_SUCCESS)
		snprintf(text, sizeof(text), "MPI error %d", code);
	return nidec_fail(err, NIDEC_EMPI, "%s failed: %s", what, text);
}

#define NIDEC_MPI(call, what)                                 \
	do {                                                  \
		int nidec_mpi_rc_ = (call);                   \
		if (nidec_mpi_rc_ != MPI_SUCCESS)             \
			return mpi_fail(err, nidec_mpi_rc_, what); \
	} while (0)

/* Checked narrowing of a byte count to MPI's int. */
static int mpi_count(size_t n, int *out, nidec_err *err)
{
	if (n > (size_t)INT_MAX)
		return nidec_fail(err, NIDEC_EMPI,
				  "message of %zu bytes exceeds MPI's int count (max %d); this is a bug, please report it",
				  n, INT_MAX);
	*out = (int)n;
	return 0;
}

int nidec_comm_init(int *argc, char ***argv, nidec_comm **out, nidec_err *err)
{
	nidec_comm *c;
	int provided;

	NIDEC_MPI(MPI_Init_thread(argc, argv, MPI_THREAD_SINGLE, &provided), "MPI_Init_thread");
	c = nidec_calloc(1, sizeof(*c));
	if (!c)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	if (MPI_Comm_dup(MPI_COMM_WORLD, &c->comm) != MPI_SUCCESS ||
	    MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN) != MPI_SUCCESS ||
	    MPI_Comm_rank(c->comm, &c->rank) != MPI_SUCCESS ||
	    MPI_Comm_size(c->comm, &c->size) != MPI_SUCCESS) {
		nidec_free(c);
		return nidec_fail(err, NIDEC_EMPI, "cannot set up the MPI communicator");
	}
	*out = c;
	return 0;
}

void nidec_comm_finalize(nidec_comm **c)
{
	if (c && *c) {
		size_t i;
		/* sends still in flight after a failure: cancel, do not wait */
		for (i = 0; i < (*c)->n_req; i++) {
			MPI_Cancel(&(*c)->req[i]);
			MPI_Request_free(&(*c)->req[i]);
			nidec_free((*c)->req_buf[i]);
		}
		nidec_free((*c)->req);
		nidec_free((*c)->req_buf);
		nidec_free((*c)->req_len);
		MPI_Comm_free(&(*c)->comm);
		nidec_free(*c);
		*c = NULL;
	}
	MPI_Finalize();
}

int nidec_comm_rank(const nidec_comm *c) { return c->rank; }
int nidec_comm_size(const nidec_comm *c) { return c->size; }

static const char another_rank[] = "another rank failed (see its error above)";

int nidec_comm_agree(nidec_comm *c, int rc, nidec_err *err)
{
	int mine = rc < 0 ? rc : 0, worst = 0, root_rc;
	char msg[NIDEC_ERR_MSG_MAX];

	NIDEC_MPI(MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MIN, c->comm), "MPI_Allreduce (status)");
	if (worst >= 0)
		return 0;
	/* Rank 0's status and message, so that an error every rank hit (a bad
	 * config value) is printed once, by rank 0, and not once per rank. */
	root_rc = mine;
	NIDEC_MPI(MPI_Bcast(&root_rc, 1, MPI_INT, 0, c->comm), "MPI_Bcast (status)");
	if (root_rc < 0) {
		memset(msg, 0, sizeof(msg));
		if (c->rank == 0 && err)
			snprintf(msg, sizeof(msg), "%s", err->msg);
		NIDEC_MPI(MPI_Bcast(msg, (int)sizeof(msg), MPI_CHAR, 0, c->comm), "MPI_Bcast (message)");
		msg[sizeof(msg) - 1] = '\0';
		if (c->rank != 0 && mine < 0 && err && !strcmp(err->msg, msg))
			mine = 0; /* the same error as rank 0's: rank 0 reports it */
	}
	if (mine >= 0) {
		nidec_fail(err, worst, "%s", another_rank);
		return worst;
	}
	if (err)
		err->code = worst;
	return worst;
}

int nidec_comm_agree_all(nidec_comm *c, int rc, nidec_err *err)
{
	int mine = rc < 0 ? rc : 0, worst = 0, first, me;
	struct {
		int code;
		char msg[NIDEC_ERR_MSG_MAX];
	} e;

	NIDEC_MPI(MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MIN, c->comm), "MPI_Allreduce (status)");
	if (worst >= 0)
		return 0;
	me = mine < 0 ? c->rank : c->size;
	NIDEC_MPI(MPI_Allreduce(&me, &first, 1, MPI_INT, MPI_MIN, c->comm), "MPI_Allreduce (failing rank)");
	memset(&e, 0, sizeof(e));
	if (c->rank == first) {
		e.code = mine;
		if (err)
			snprintf(e.msg, sizeof(e.msg), "%s", err->msg);
	}
	NIDEC_MPI(MPI_Bcast(&e, (int)sizeof(e), MPI_BYTE, first, c->comm), "MPI_Bcast (error)");
	e.msg[sizeof(e.msg) - 1] = '\0';
	if (err) {
		err->code = e.code;
		memcpy(err->msg, e.msg, sizeof(e.msg));
	}
	return e.code;
}

int nidec_comm_bcast(nidec_comm *c, void *buf, size_t n, int root, nidec_err *err)
{
	size_t off = 0;

	while (off < n) {
		size_t piece = n - off < NIDEC_COMM_MAX_MSG ? n - off : NIDEC_COMM_MAX_MSG;
		int count;
		NIDEC_TRY(mpi_count(piece, &count, err));
		NIDEC_MPI(MPI_Bcast((char *)buf + off, count, MPI_BYTE, root, c->comm), "MPI_Bcast");
		off += piece;
	}
	return 0;
}

int nidec_comm_send(nidec_comm *c, const void *buf, size_t n, int dest, int tag, nidec_err *err)
{
	int count;

	if (n > NIDEC_COMM_MAX_MSG)
		return nidec_fail(err, NIDEC_EMPI,
				  "message of %zu bytes exceeds nidec's %zu-byte limit; this is a bug, please report it",
				  n, NIDEC_COMM_MAX_MSG);
	NIDEC_TRY(mpi_count(n, &count, err));
	NIDEC_MPI(MPI_Send(buf, count, MPI_BYTE, dest, tag, c->comm), "MPI_Send");
	return 0;
}

int nidec_comm_isend_take(nidec_comm *c, void **buf, size_t n, int dest, int tag, nidec_err *err)
{
	int count, rc;

	if (n > NIDEC_COMM_MAX_MSG)
		return nidec_fail(err, NIDEC_EMPI,
				  "message of %zu bytes exceeds nidec's %zu-byte limit; this is a bug, please report it",
				  n, NIDEC_COMM_MAX_MSG);
	NIDEC_TRY(mpi_count(n, &count, err));
	if (c->n_req == c->cap_req) {
		size_t cap = c->cap_req ? 2 * c->cap_req : 16;
		MPI_Request *r = nidec_realloc(c->req, cap * sizeof(*r));
		void **b;
		size_t *l;
		if (!r)
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory queueing a message");
		c->req = r;
		b = nidec_realloc(c->req_buf, cap * sizeof(*b));
		if (!b)
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory queueing a message");
		c->req_buf = b;
		l = nidec_realloc(c->req_len, cap * sizeof(*l));
		if (!l)
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory queueing a message");
		c->req_len = l;
		c->cap_req = cap;
	}
	rc = MPI_Isend(*buf, count, MPI_BYTE, dest, tag, c->comm, &c->req[c->n_req]);
	if (rc != MPI_SUCCESS)
		return mpi_fail(err, rc, "MPI_Isend");
	c->req_buf[c->n_req] = *buf;
	c->req_len[c->n_req++] = n;
	c->pending_bytes += n;
	*buf = NULL;
	return 0;
}

int nidec_comm_isend(nidec_comm *c, const void *buf, size_t n, int dest, int tag, nidec_err *err)
{
	void *copy = nidec_malloc(n ? n : 1);
	int rc;

	if (!copy)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory queueing a message of %zu bytes", n);
	memcpy(copy, buf, n);
	rc = nidec_comm_isend_take(c, &copy, n, dest, tag, err);
	nidec_free(copy);
	return rc;
}

size_t nidec_comm_pending_bytes(const nidec_comm *c)
{
	return c->pending_bytes;
}

int nidec_comm_test_sends(nidec_comm *c, nidec_err *err)
{
	size_t i = 0;

	while (i < c->n_req) {
		int done = 0;
		NIDEC_MPI(MPI_Test(&c->req[i], &done, MPI_STATUS_IGNORE), "MPI_Test");
		if (!done) {
			i++;
			continue;
		}
		nidec_free(c->req_buf[i]);
		c->pending_bytes -= c->req_len[i];
		/* keep the order of the rest (not needed by MPI, cheap enough) */
		memmove(c->req + i, c->req + i + 1, (c->n_req - i - 1) * sizeof(*c->req));
		memmove(c->req_buf + i, c->req_buf + i + 1, (c->n_req - i - 1) * sizeof(*c->req_buf));
		memmove(c->req_len + i, c->req_len + i + 1, (c->n_req - i - 1) * sizeof(*c->req_len));
		c->n_req--;
	}
	return 0;
}

int nidec_comm_flush_sends(nidec_comm *c, nidec_err *err)
{
	size_t i;
	int count = 0;

	if (!c->n_req)
		return 0;
	NIDEC_TRY(mpi_count(c->n_req, &count, err));
	NIDEC_MPI(MPI_Waitall(count, c->req, MPI_STATUSES_IGNORE), "MPI_Waitall");
	for (i = 0; i < c->n_req; i++)
		nidec_free(c->req_buf[i]);
	c->n_req = 0;
	c->pending_bytes = 0;
	return 0;
}

struct nidec_comm_msg {
	MPI_Request req;
	void *buf;
	size_t n;
};

int nidec_comm_irecv(nidec_comm *c, int src, int tag, nidec_comm_msg **msg, int *from,
		     int *got_tag, nidec_err *err)
{
	MPI_Message handle;
	MPI_Status st;
	nidec_comm_msg *m;
	int flag = 0, count = 0, rc;

	*msg = NULL;
	NIDEC_MPI(MPI_Improbe(src < 0 ? MPI_ANY_SOURCE : src, tag < 0 ? MPI_ANY_TAG : tag, c->comm,
			      &flag, &handle, &st), "MPI_Improbe");
	if (!flag)
		return 0;
	NIDEC_MPI(MPI_Get_count(&st, MPI_BYTE, &count), "MPI_Get_count");
	m = nidec_calloc(1, sizeof(*m));
	if (m)
		m->buf = nidec_malloc(count > 0 ? (size_t)count : 1);
	if (!m || !m->buf) {
		/* the matched message must still be received: take it into a
		 * scratch byte we cannot have, so report and leave */
		if (m)
			nidec_free(m);
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory receiving %d bytes", count);
	}
	m->n = (size_t)count;
	rc = MPI_Imrecv(m->buf, count, MPI_BYTE, &handle, &m->req);
	if (rc != MPI_SUCCESS) {
		nidec_free(m->buf);
		nidec_free(m);
		return mpi_fail(err, rc, "MPI_Imrecv");
	}
	*msg = m;
	if (from)
		*from = st.MPI_SOURCE;
	if (got_tag)
		*got_tag = st.MPI_TAG;
	return 0;
}

int nidec_comm_msg_test(nidec_comm *c, nidec_comm_msg **msg, int wait, int *done, void **buf,
			size_t *n, nidec_err *err)
{
	nidec_comm_msg *m = *msg;
	int flag = 0;

	(void)c;
	if (wait) {
		NIDEC_MPI(MPI_Wait(&m->req, MPI_STATUS_IGNORE), "MPI_Wait (receive)");
		flag = 1;
	} else {
		NIDEC_MPI(MPI_Test(&m->req, &flag, MPI_STATUS_IGNORE), "MPI_Test (receive)");
	}
	*done = flag != 0;
	if (!flag)
		return 0;
	*buf = m->buf;
	*n = m->n;
	nidec_free(m);
	*msg = NULL;
	return 0;
}

void nidec_comm_msg_free(nidec_comm_msg **msg)
{
	if (!msg || !*msg)
		return;
	if ((*msg)->req != MPI_REQUEST_NULL) {
		MPI_Cancel(&(*msg)->req);
		MPI_Request_free(&(*msg)->req);
	}
	nidec_free((*msg)->buf);
	nidec_free(*msg);
	*msg = NULL;
}

int nidec_comm_recv_alloc(nidec_comm *c, void **buf, size_t *n, int src, int tag,
			  int *from, int *got_tag, nidec_err *err)
{
	MPI_Status st;
	int count;
	void *p;

	NIDEC_MPI(MPI_Probe(src < 0 ? MPI_ANY_SOURCE : src, tag < 0 ? MPI_ANY_TAG : tag,
			    c->comm, &st), "MPI_Probe");
	NIDEC_MPI(MPI_Get_count(&st, MPI_BYTE, &count), "MPI_Get_count");
	p = nidec_malloc(count > 0 ? (size_t)count : 1);
	if (!p)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory receiving %d bytes", count);
	if (MPI_Recv(p, count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, c->comm,
		     MPI_STATUS_IGNORE) != MPI_SUCCESS) {
		nidec_free(p);
		return nidec_fail(err, NIDEC_EMPI, "MPI_Recv failed");
	}
	*buf = p;
	*n = (size_t)count;
	if (from)
		*from = st.MPI_SOURCE;
	if (got_tag)
		*got_tag = st.MPI_TAG;
	return 0;
}

int nidec_comm_probe(nidec_comm *c, int src, int tag, int *ready, nidec_err *err)
{
	int flag = 0;

	NIDEC_MPI(MPI_Iprobe(src < 0 ? MPI_ANY_SOURCE : src, tag < 0 ? MPI_ANY_TAG : tag,
			     c->comm, &flag, MPI_STATUS_IGNORE), "MPI_Iprobe");
	*ready = flag != 0;
	return 0;
}

int nidec_comm_gather_double(nidec_comm *c, double v, double *all, nidec_err *err)
{
	NIDEC_MPI(MPI_Gather(&v, 1, MPI_DOUBLE, c->rank == 0 ? all : NULL, 1, MPI_DOUBLE, 0,
			     c->comm), "MPI_Gather (double)");
	return 0;
}

int nidec_comm_gather_host(nidec_comm *c, char *all, size_t len, nidec_err *err)
{
	char name[MPI_MAX_PROCESSOR_NAME + 1], *mine;
	int n = 0, count = 0, rc;

	NIDEC_TRY(mpi_count(len, &count, err));
	memset(name, 0, sizeof(name));
	NIDEC_MPI(MPI_Get_processor_name(name, &n), "MPI_Get_processor_name");
	mine = nidec_calloc_e(len, 1, "a host name", err);
	if (!mine)
		return NIDEC_ENOMEM;
	snprintf(mine, len, "%s", name);
	rc = MPI_Gather(mine, count, MPI_CHAR, c->rank == 0 ? all : NULL, count, MPI_CHAR, 0, c->comm);
	nidec_free(mine);
	return rc == MPI_SUCCESS ? 0 : mpi_fail(err, rc, "MPI_Gather (host names)");
}

int nidec_comm_sum_double(nidec_comm *c, double *v, nidec_err *err)
{
	double in = *v;

	NIDEC_MPI(MPI_Allreduce(&in, v, 1, MPI_DOUBLE, MPI_SUM, c->comm), "MPI_Allreduce (sum)");
	return 0;
}

int nidec_comm_max_double(nidec_comm *c, double *v, nidec_err *err)
{
	double in = *v;

	NIDEC_MPI(MPI_Allreduce(&in, v, 1, MPI_DOUBLE, MPI_MAX, c->comm), "MPI_Allreduce (max)");
	return 0;
}

const char *nidec_comm_library_version(void)
{
	static char version[MPI_MAX_LIBRARY_VERSION_STRING];
	int len = 0;
	char *nl;

	if (!version[0] && MPI_Get_library_version(version, &len) != MPI_SUCCESS)
		snprintf(version, sizeof(version), "unknown MPI");
	nl = strpbrk(version, ",\n");
	if (nl)
		*nl = '\0';
	return version;
}
