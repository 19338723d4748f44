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
		MPI_Comm_free(&(*c)->comm);
		nidec_free(*c);
		*c = NULL;
	}
	MPI_Finalize();
}

int nidec_comm_rank(const nidec_comm *c) { return c->rank; }
int nidec_comm_size(const nidec_comm *c) { return c->size; }

int nidec_comm_agree(nidec_comm *c, int rc, nidec_err *err)
{
	int worst = rc, root_rc;
	char msg[NIDEC_ERR_MSG_MAX];

	NIDEC_MPI(MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, c->comm), "MPI_Allreduce (status)");
	if (worst >= 0)
		return 0;
	/* Share rank 0's message if rank 0 failed, so all ranks say the same. */
	root_rc = rc;
	NIDEC_MPI(MPI_Bcast(&root_rc, 1, MPI_INT, 0, c->comm), "MPI_Bcast (status)");
	if (root_rc < 0) {
		if (c->rank == 0)
			snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
		NIDEC_MPI(MPI_Bcast(msg, (int)sizeof(msg), MPI_CHAR, 0, c->comm), "MPI_Bcast (message)");
		msg[sizeof(msg) - 1] = '\0';
		if (err && c->rank != 0)
			nidec_fail(err, root_rc, "%s", msg);
		return root_rc;
	}
	if (rc >= 0)
		nidec_fail(err, worst, "another rank failed (see its error above)");
	return worst;
}

int nidec_comm_barrier(nidec_comm *c, nidec_err *err)
{
	NIDEC_MPI(MPI_Barrier(c->comm), "MPI_Barrier");
	return 0;
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
