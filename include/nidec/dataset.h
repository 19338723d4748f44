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
 * Writing (one process; src/io/convert.c):
 *     nidec_ds_writer *w;
 *     nidec_ds_create("out.h5", &meta, &prov, &w, &err);   under a temporary name
 *     nidec_ds_write_rows(w, r0, n, rows, &err);           any number of blocks
 *     nidec_ds_commit(&w, &err);                            close and rename
 *     (on any error: nidec_ds_abort(&w) removes the temporary file)
 *
 * Not collective.  hdf5.h is included only by src/io's .c files.
 */
#ifndef NIDEC_DATASET_H
#define NIDEC_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/err.h"
#include "nidec/sbuf.h"

#define NIDEC_DS_FORMAT_VERSION 1
#define NIDEC_DS_FORMAT_NAME "nidec-dataset"
/* Run ids of /runs are below this (nidec_ds_open refuses others). */
#define NIDEC_DS_MAX_RUNS (1 << 20)

typedef struct nidec_dataset {
	char *path;
	size_t n_samples;       /* rows of /X */
	size_t n_voxels;        /* columns of /X */
	char **labels;          /* [n_samples] condition of each sample */
	int32_t *runs;          /* [n_samples] run index, 0-based in input order */
	int64_t *volumes;       /* [n_samples] volume index within the original 4D series */
	double *target;         /* [n_samples] continuous target (/target), or NULL: none */
	char *target_column;    /* the column it was read from (/target's "column"), or NULL */
	char **conditions;      /* [n_conditions] distinct labels, sorted in byte order */
	size_t n_conditions;
	int32_t *ijk;           /* [n_voxels * 3] voxel (i, j, k), C order over the grid */
	int64_t dims[3];        /* grid of the BOLD images */
	double affine[16];      /* row-major 4x4 voxel -> world (mm), as nibabel's img.affine */
	double pixdim[4];       /* voxel sizes (mm) and TR (s) */
	unsigned char *nifti_header;  /* original BOLD header (348 or 540 bytes) */
	size_t nifti_header_len;
	char *inputs_sha256;    /* hash over the input hashes: the reuse key */
	int has_checksums;      /* /crc32 recorded (docs/FORMAT.md "Checksums"):
				 * /labels and /runs were checked at open, /X is
				 * checked on every read */
	void *priv;             /* HDF5 handles (dataset.c only) */
} nidec_dataset;

/* Open `path` and read its metadata (not /X).  Refused, naming the file
 * and the object: not HDF5, not a nidec dataset, a newer format version,
 * shapes that disagree, /mask/ijk outside /mask/dims, a run id outside
 * 0 .. NIDEC_DS_MAX_RUNS - 1, a label missing from /conditions, a /target
 * with a non-finite value. */
int nidec_ds_open(const char *path, nidec_dataset **out, nidec_err *err);

/* Rows r0 .. r0+n-1 into buf (n * n_voxels floats, row-major).  A NaN or
 * Inf among them is an error (convert never writes one: the file was
 * damaged or made by another tool), and so is a block of rows that does
 * not match its checksum (has_checksums): NIDEC_EFORMAT, "'ds.h5': /X
 * rows 96 to 127 do not match the checksum recorded when it was
 * converted; the file is damaged ...: convert again".  With checksums the
 * rows are read by whole blocks (the chunks of /X: about 1 MiB). */
int nidec_ds_read_rows(nidec_dataset *ds, size_t r0, size_t n, float *buf, nidec_err *err);

/* Read all of /X and check it against its checksums (nidec info --verify,
 * and convert before it reuses a dataset): 0, or the error of
 * nidec_ds_read_rows.  A dataset without checksums (has_checksums = 0)
 * cannot be checked: 0 (the caller tells). */
int nidec_ds_verify(nidec_dataset *ds, nidec_err *err);

/* The whole matrix in a new buffer (free with nidec_free). */
int nidec_ds_read_matrix(nidec_dataset *ds, float **X, nidec_err *err);

/* A string attribute of the root group (provenance: "command_line",
 * "tool_version", "created", ...); *value is a new string, or NULL if the
 * attribute does not exist. */
int nidec_ds_attr(nidec_dataset *ds, const char *name, char **value, nidec_err *err);

/* The dataset's /mean_epi in a new buffer of dims[0]*dims[1]*dims[2]
 * floats (NIfTI order), or *img = NULL when it has none (a dataset written
 * before nidec stored it).  A /mean_epi of another shape is an error. */
int nidec_ds_read_mean_epi(nidec_dataset *ds, float **img, nidec_err *err);

void nidec_ds_close(nidec_dataset **ds);

/* |det(affine[:3,:3])|: the volume of one voxel in mm^3. */
double nidec_ds_voxel_volume(const nidec_dataset *ds);

/* ---- provenance ---- */

/* One input file of a conversion. */
typedef struct nidec_ds_input {
	char *role;             /* "bold", "mask", "labels" or "events" */
	char *path;             /* absolute path when known */
	int64_t size;           /* bytes */
	char *sha256;           /* 64 hex digits */
} nidec_ds_input;

/* What the writer records besides the data (all strings borrowed). */
typedef struct nidec_ds_provenance {
	const nidec_ds_input *inputs;
	size_t n_inputs;
	const char *inputs_sha256;     /* the reuse key (see docs/FORMAT.md) */
	const char *tool_version;      /* nidec's version */
	const char *command_line;
	const char *liblinear_version; /* or NULL */
	const char *nifti_version;     /* or NULL */
	const char *config;            /* the [data] keys that shaped the content, INI text */
	const char *created;           /* ISO 8601 UTC time; NULL = now */
	/* issue 17 (written only when set, so older conversions stay as they were): */
	const char *preprocessing;     /* what was done to the images (mask, smoothing,
					* cleaning), lines of text; NULL = nothing */
	const char *const *confound_columns; /* the confound columns regressed out */
	size_t n_confound_columns;
} nidec_ds_provenance;

/* The per-sample attributes (/sample_attrs): *names gets a new array of
 * *n_attrs names and *values a new n_samples x n_attrs array (free both
 * with nidec_ds_sample_attrs_free); *n_attrs = 0 and NULLs when the
 * dataset has none. */
int nidec_ds_sample_attrs(nidec_dataset *ds, char ***names, size_t *n_attrs, char ***values,
			  nidec_err *err);
void nidec_ds_sample_attrs_free(char **names, size_t n_attrs, char **values, size_t n_samples);

/* The inputs recorded in a dataset: *inputs is a new array of *n entries
 * (free with nidec_ds_inputs_free). */
int nidec_ds_inputs(nidec_dataset *ds, nidec_ds_input **inputs, size_t *n, nidec_err *err);
void nidec_ds_inputs_free(nidec_ds_input *inputs, size_t n);

/* ---- writing ---- */

typedef struct nidec_ds_writer nidec_ds_writer;

/* Create `path`'s temporary (file.h) and write everything but /X's values:
 * `meta` gives n_samples, n_voxels, labels, runs, volumes, conditions, ijk,
 * dims, affine, pixdim and nifti_header (borrowed; path, priv and
 * inputs_sha256 of meta are ignored).  /X is chunked by blocks of rows of
 * about 1 MiB.  Errors name the file, the HDF5 object and the operation. */
int nidec_ds_create(const char *path, const nidec_dataset *meta,
		    const nidec_ds_provenance *prov, nidec_ds_writer **out, nidec_err *err);
/* Write rows r0 .. r0+n-1 of /X from `rows` (n * n_voxels floats). */
int nidec_ds_write_rows(nidec_ds_writer *w, size_t r0, size_t n, const float *rows,
			nidec_err *err);
/* /mean_epi: the mean EPI of the BOLD input (the mean over time of each
 * BOLD file, then over the files), float32 on the whole grid, img in NIfTI
 * order (x fastest; HDF5 shape [nz][ny][nx]), for the report's pictures, so
 * that they need not read the 4D series again.  dims as meta's. */
int nidec_ds_write_mean_epi(nidec_ds_writer *w, const float *img, const int64_t dims[3],
			    nidec_err *err);
/* /sample_attrs: per-sample attributes (a sample table's other columns,
 * a BIDS run's label, onset, ...): one string dataset per attribute, in
 * the order of the group's attribute `columns`.  values: n_samples x n_attrs
 * row-major.  Not written when n_attrs is 0. */
int nidec_ds_write_sample_attrs(nidec_ds_writer *w, const char *const *names, size_t n_attrs,
				const char *const *values, nidec_err *err);

/* Close the file and rename it to its final name; *w becomes NULL.  On
 * failure the temporary file is removed (and *w is NULL too). */
int nidec_ds_commit(nidec_ds_writer **w, nidec_err *err);
/* Give up: close and remove the temporary file; NULL-safe. */
void nidec_ds_abort(nidec_ds_writer **w);

/* ---- describing any HDF5 file (nidec info) ---- */

/* True (1) if `path` is an HDF5 file whose root says format = nidec-dataset,
 * 0 if it is another HDF5 file; an error if it is not HDF5 at all. */
int nidec_ds_is_dataset(const char *path, int *is_dataset, nidec_err *err);

/* A listing of any HDF5 file for humans: root attributes (strings and
 * small numeric ones) and every dataset with its shape and type. */
int nidec_h5_describe(const char *path, nidec_sbuf *out, nidec_err *err);

/* Version of the HDF5 library ("1.10.8"), into buf. */
void nidec_h5_library_version(char *buf, size_t n);

#endif
