/*
 * result.h - the result of one task of a plan (src/core/result.c): the
 * scores, decisions and weights of its fits, and their serialisation to
 * bytes for MPI messages and the checkpoint ledger (docs/FORMAT.md).
 *
 * A result is plain data: any layer may hold one (io's ledger, par's
 * scheduler, the job driver) without knowing the plan that made it.
 * Create with nidec_result_unpack or nidec_task_run (plan.h); free with
 * nidec_result_free, which is NULL-safe and sets the pointer to NULL.
 * Not collective; no MPI, no I/O.
 */
#ifndef NIDEC_RESULT_H
#define NIDEC_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/err.h"

/*
 * The result of one task: one "fit" per (problem q, C index c) of the task,
 * fit f = q * n_C + c (n_C = the plan's grid, 1 for the dummy estimator);
 * for a task of one problem (nidec_task.problem >= 0), f = c.
 */
typedef struct nidec_result {
	size_t task;       /* task id */
	int status;        /* 0, or a negative NIDEC_E* code (msg says why) */
	double seconds;    /* wall time of the task (timing, scheduling) */
	int n_iter;        /* solver iterations summed over the fits (-1 if unknown) */
	size_t n_fit;      /* fits: problems x C */
	double *score;     /* [n_fit] score on the task's test samples (cfg->scoring) */
	double *C;         /* [n_fit] C actually used (= cfg->C[c], except nilearn's
			    * data-dependent svc_l1 grid); ridge and lasso: the alpha
			    * chosen inside the training part; dummy_regressor: NaN */
	int *fit_iter;     /* [n_fit] solver iterations of each fit (-1 if unknown) */
	size_t n_test;     /* decision values per fit on the outer test samples,
			    * ascending order (0 for inner tasks of nested selection) */
	double *decision;  /* [n_fit * n_test] */
	size_t n_coef;     /* weights per fit: p weights + intercept last, or 0
			    * when not needed (permutations, nested inner tasks) */
	double *coef;      /* dense: [n_fit * n_coef]; sparse: the stored values */
	/* Sparse weights (screening keeps a fraction of the voxels, the others
	 * weigh exactly 0): fit f stores coef_nnz[f] voxel weights, then its
	 * intercept, fit after fit in coef; coef_vox holds their voxels,
	 * ascending within a fit.  NULL: dense.  Read with nidec_result_coef. */
	size_t *coef_nnz;  /* [n_fit] or NULL */
	uint32_t *coef_vox;/* [sum of coef_nnz] */
	char msg[256];
} nidec_result;

/* Fit f's weights and intercept as a dense vector out[r->n_coef] (a sparse
 * result's missing voxels are 0).  r->n_coef > 0. */
void nidec_result_coef(const nidec_result *r, size_t f, double *out);

/* Serialise a result to bytes (for MPI and the checkpoint ledger), and back. */
int nidec_result_pack(const nidec_result *r, void **buf, size_t *len, nidec_err *err);
/* The bytes nidec_result_pack would produce, or -1 if that overflows. */
int nidec_result_packed_size(const nidec_result *r, size_t *bytes);
int nidec_result_unpack(const void *buf, size_t len, nidec_result **r, nidec_err *err);
void nidec_result_free(nidec_result **r);

#endif
