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
 * left.  Returns that status; if another rank failed and this one did not,
 * `err` says so ("another rank failed").  Rank 0's message wins when rank 0
 * failed (it is broadcast), so every rank can print the same line. */
int nidec_comm_agree(nidec_comm *c, int rc, nidec_err *err);

int nidec_comm_barrier(nidec_comm *c, nidec_err *err);
/* Broadcast `n` bytes from `root`; large buffers go in pieces. */
int nidec_comm_bcast(nidec_comm *c, void *buf, size_t n, int root, nidec_err *err);

/* Point-to-point, for the scheduler (Not Collective). */
int nidec_comm_send(nidec_comm *c, const void *buf, size_t n, int dest, int tag, nidec_err *err);
/* Receive from `src` (-1: any rank) with `tag` (-1: any tag); a message of
 * unknown size is probed first and received into a buffer allocated here
 * (*buf, freed by the caller with nidec_free). */
int nidec_comm_recv_alloc(nidec_comm *c, void **buf, size_t *n, int src, int tag,
			  int *from, int *got_tag, nidec_err *err);

/* Sum of a double over ranks, delivered to every rank (only for timings:
 * results never go through floating-point reductions). */
int nidec_comm_sum_double(nidec_comm *c, double *v, nidec_err *err);
/* Max of a double over ranks, delivered to every rank. */
int nidec_comm_max_double(nidec_comm *c, double *v, nidec_err *err);

/* Library version string of MPI ("Open MPI v4.1.4, ..."), Not Collective. */
const char *nidec_comm_library_version(void);

#endif
