/*
 * dataset.h - the masked dataset: one HDF5 file holding the float32
 * samples x voxels matrix, labels, runs and mask geometry (layout in
 * docs/FORMAT.md), written by `nidec convert` and read by every rank.
 *
 * Reading (any rank, independently, read-only; no MPI):
 *     nidec_dataset *ds;
 *     nidec_ds_open("dataset.h5", &ds, &err);      metadata only
 *     nidec_ds_read_matrix(ds, &X, &err);          all rows, float32 row-major
 *     nidec_ds_close(&ds);                         NULL-safe, sets ds = NULL
 *
 * Not collective.  hdf5.h is included only by src/io/dataset.c.
 */
#ifndef NIDEC_DATASET_H
#define NIDEC_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/err.h"

#define NIDEC_DS_FORMAT_VERSION 1

typedef struct nidec_dataset {
	char *path;
	size_t n_samples;       /* rows of /X */
	size_t n_voxels;        /* columns of /X */
	char **labels;          /* [n_samples] condition of each sample */
	int32_t *runs;          /* [n_samples] run index, 0-based in input order */
	int64_t *volumes;       /* [n_samples] volume index within the original 4D series */
	char **conditions;      /* [n_conditions] distinct labels, sorted in byte order */
	size_t n_conditions;
	int32_t *ijk;           /* [n_voxels * 3] voxel (i, j, k), C order over the grid */
	int64_t dims[3];        /* grid of the BOLD images */
	double affine[16];      /* row-major 4x4 voxel -> world (mm), as nibabel's img.affine */
	double pixdim[4];       /* voxel sizes (mm) and TR (s) */
	unsigned char *nifti_header;  /* original BOLD header (348 or 540 bytes) */
	size_t nifti_header_len;
	char *inputs_sha256;    /* hash over the input hashes: the reuse key */
	void *priv;             /* HDF5 handles (dataset.c only) */
} nidec_dataset;

int nidec_ds_open(const char *path, nidec_dataset **out, nidec_err *err);

/* Rows r0 .. r0+n-1 into buf (n * n_voxels floats, row-major). */
int nidec_ds_read_rows(nidec_dataset *ds, size_t r0, size_t n, float *buf, nidec_err *err);

/* The whole matrix in a new buffer (free with nidec_free). */
int nidec_ds_read_matrix(nidec_dataset *ds, float **X, nidec_err *err);

/* A string attribute of the root group (provenance: "command_line",
 * "tool_version", "created", ...); *value is a new string, or NULL if the
 * attribute does not exist. */
int nidec_ds_attr(nidec_dataset *ds, const char *name, char **value, nidec_err *err);

void nidec_ds_close(nidec_dataset **ds);

/* |det(affine[:3,:3])|: the volume of one voxel in mm^3. */
double nidec_ds_voxel_volume(const nidec_dataset *ds);

#endif
