/*
 * comm.h - the MPI layer as commands see it: an opaque communicator and a
 * few checked collectives.  Only the files of src/par and src/cli/main.c include
 * mpi.h; everything else talks to MPI through this header.
 *
 * Every function is Collective over the communicator unless it says Not
 * Collective.  Every MPI call is checked; a failure becomes NIDEC_EMPI with
 * MPI's own error string.  Counts are narrowed to MPI's int through a
 * checked cast, and buffers larger than NIDEC_COMM_MAX_MSG bytes are sent
 * in pieces, so no single message exceeds 2 GiB.
 */
#ifndef NIDEC_COMM_H
#define NIDEC_COMM_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/err.h"

#define NIDEC_COMM_MAX_MSG ((size_t)1 << 30) /* 1 GiB per message */

typedef struct nidec_comm nidec_comm;

/* main() only: MPI_Init_thread / MPI_Finalize around the whole program. */
int nidec_comm_init(int *argc, char ***argv, nidec_comm **out, nidec_err *err);
void nidec_comm_finalize(nidec_comm **c);

int nidec_comm_rank(const nidec_comm *c); /* Not Collective */
int nidec_comm_size(const nidec_comm *c); /* Not Collective */

/* Agree on the worst (most negative) status of all ranks after a phase in
 * which one rank may fail, so that none waits in a collective the others
 * left.  Returns that status (0 if every rank succeeded).
 * Messages, so that nidec_cli_fail() prints each distinct error once:
 *  - a rank that failed keeps its own message, unless rank 0 failed with
 *    the same message (an error every rank hit, e.g. a bad config value):
 *    then only rank 0 keeps it and the others get "another rank failed
 *    (see its error above)";
 *  - a rank that did not fail gets "another rank failed (see its error
 *    above)" and the worst code, so every rank returns the same status. */
int nidec_comm_agree(nidec_comm *c, int rc, nidec_err *err);

/* The same agreement, with every rank getting the status and message of
 * the lowest-numbered rank that failed (rank 0 included): for a failure
 * that every rank records alike, e.g. a sweep's subject that failed on
 * the rank converting it.
 * Returns that rank's status (0 if none failed).  Collective. */
int nidec_comm_agree_all(nidec_comm *c, int rc, nidec_err *err);

/* Broadcast `n` bytes from `root`; large buffers go in pieces. */
int nidec_comm_bcast(nidec_comm *c, void *buf, size_t n, int root, nidec_err *err);

/* Point-to-point, for the scheduler (Not Collective). */
int nidec_comm_send(nidec_comm *c, const void *buf, size_t n, int dest, int tag, nidec_err *err);
/* Non-blocking send of a private copy of `buf` (at most NIDEC_COMM_MAX_MSG
 * bytes): returns at once even if `dest` is busy computing; the copy is
 * freed when the send completes (nidec_comm_test_sends / flush_sends).
 * Sends to one destination arrive in the order they were posted. */
int nidec_comm_isend(nidec_comm *c, const void *buf, size_t n, int dest, int tag, nidec_err *err);
/* The same without the copy: takes *buf (allocated with nidec_malloc and
 * friends) and sets *buf = NULL; on failure *buf stays the caller's. */
int nidec_comm_isend_take(nidec_comm *c, void **buf, size_t n, int dest, int tag, nidec_err *err);
/* Bytes of this rank's non-blocking sends not yet known to be complete
 * (after the last nidec_comm_test_sends); Not Collective. */
size_t nidec_comm_pending_bytes(const nidec_comm *c);
/* Retire the non-blocking sends that have completed; never waits. */
int nidec_comm_test_sends(nidec_comm *c, nidec_err *err);
/* Wait until every non-blocking send of this rank has completed (the
 * receivers must be receiving, or this waits for them). */
int nidec_comm_flush_sends(nidec_comm *c, nidec_err *err);
/* A receive in progress (opaque; one message matched by nidec_comm_irecv). */
typedef struct nidec_comm_msg nidec_comm_msg;

/* If a message from `src` (-1: any) with `tag` (-1: any) is waiting,
 * start receiving it (matched probe + non-blocking receive into a buffer
 * allocated here) and set *msg, *from, *got_tag; else *msg = NULL.  Never
 * waits: the data may still be in flight (complete it with
 * nidec_comm_msg_test).  Not Collective. */
int nidec_comm_irecv(nidec_comm *c, int src, int tag, nidec_comm_msg **msg, int *from,
		     int *got_tag, nidec_err *err);
/* Complete a receive started by nidec_comm_irecv: wait = 0 tests, wait = 1
 * waits.  When done, *done = 1, *buf / *n get the message (the caller
 * frees *buf with nidec_free) and *msg is freed and set to NULL. */
int nidec_comm_msg_test(nidec_comm *c, nidec_comm_msg **msg, int wait, int *done, void **buf,
			size_t *n, nidec_err *err);
/* Abandon a receive (after a failure); NULL-safe. */
void nidec_comm_msg_free(nidec_comm_msg **msg);

/* Receive from `src` (-1: any rank) with `tag` (-1: any tag); a message of
 * unknown size is probed first and received into a buffer allocated here
 * (*buf, freed by the caller with nidec_free). */
int nidec_comm_recv_alloc(nidec_comm *c, void **buf, size_t *n, int src, int tag,
			  int *from, int *got_tag, nidec_err *err);

/* Non-blocking probe: *ready = 1 if a message from `src` (-1: any) with
 * `tag` (-1: any) is waiting, else 0.  Not Collective. */
int nidec_comm_probe(nidec_comm *c, int src, int tag, int *ready, nidec_err *err);

/* Gather one double from every rank into all[0 .. size-1] on rank 0 (`all`
 * is ignored elsewhere and may be NULL there).  For timings. */
int nidec_comm_gather_double(nidec_comm *c, double v, double *all, nidec_err *err);

/* Gather every rank's host name (MPI_Get_processor_name: the node it runs
 * on), cut to len - 1 bytes, into all[r * len .. (r + 1) * len) on rank 0
 * (`all` is ignored elsewhere and may be NULL there).  For timings. */
int nidec_comm_gather_host(nidec_comm *c, char *all, size_t len, nidec_err *err);

/* Sum of a double over ranks, delivered to every rank (only for timings:
 * results never go through floating-point reductions). */
int nidec_comm_sum_double(nidec_comm *c, double *v, nidec_err *err);
/* Max of a double over ranks, delivered to every rank. */
int nidec_comm_max_double(nidec_comm *c, double *v, nidec_err *err);

/* Library version string of MPI ("Open MPI v4.1.4, ..."), Not Collective. */
const char *nidec_comm_library_version(void);

#endif
