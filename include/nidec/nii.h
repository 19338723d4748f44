/*
 * nii.h - NIfTI reading and writing through nifti_clib (nifti2_io), in
 * nidec's words: every error names the file, the field and the fix.
 *
 * Images are read as float32 with scl_slope/scl_inter applied as nibabel
 * does (slope 0 or NaN means no scaling; see docs/FORMAT.md "Voxel
 * values" for the exact arithmetic).  Grids are compared by shape and
 * affine (the affine nibabel reports: sform if sform_code > 0, else qform
 * if qform_code > 0, else nibabel's base affine from pixdim).  .nii and
 * .nii.gz, NIfTI-1 and NIfTI-2, either byte order; datatypes (u)int8,
 * (u)int16, (u)int32, (u)int64, float32, float64.  Voxel data is streamed
 * volume by volume (nidec_nii_stream_*), so reading a 4D series needs one
 * volume of memory.  Not collective; no MPI, no HDF5.
 */
#ifndef NIDEC_NII_H
#define NIDEC_NII_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/dataset.h"
#include "nidec/err.h"
#include "nidec/file.h"

typedef struct nidec_nii {
	char *path;
	int64_t dims[4];       /* nx, ny, nz, nt (nt = 1 for 3D) */
	int ndim;              /* 3 or 4 */
	double affine[16];     /* row-major 4x4 */
	double pixdim[4];      /* dx, dy, dz (mm), TR (s, converted from xyzt_units) */
	float *data;           /* x fastest (NIfTI order), or NULL if not loaded */
	unsigned char header[540]; /* raw header as on disk */
	size_t header_len;     /* 348 (NIfTI-1) or 540 (NIfTI-2) */
	int datatype;          /* NIfTI datatype code of the file */
	/* added by the reader for streaming */
	int nifti_version;     /* 1 or 2 */
	int swapped;           /* file byte order differs from the CPU's */
	int nbyper;            /* bytes per stored value */
	int64_t vox_offset;    /* byte offset of the voxel data in the (uncompressed) file */
	double scl_slope;      /* effective scaling: 1 and 0 when the header has none */
	double scl_inter;
	int xyzt_units;        /* as in the header */
	int sform_code, qform_code;
	size_t n_vox3;         /* nx * ny * nz (checked against overflow) */
} nidec_nii;

/* Read header and voxels (all volumes; memory nx*ny*nz*nt floats). */
int nidec_nii_read(const char *path, nidec_nii **out, nidec_err *err);
/* Read the header only (data stays NULL).  Checks dims (>= 1, product
 * fits in memory sizes), datatype, magic; errors name the field. */
int nidec_nii_read_header(const char *path, nidec_nii **out, nidec_err *err);
void nidec_nii_free(nidec_nii **img);

/* Streaming reader: one volume at a time, sequentially (gzip-friendly). */
typedef struct nidec_nii_stream nidec_nii_stream;

int nidec_nii_stream_open(const char *path, nidec_nii_stream **out, nidec_err *err);
/* The header of the stream's file (borrowed; valid until close). */
const nidec_nii *nidec_nii_stream_header(const nidec_nii_stream *s);
/* Read the next volume.  For i < n_idx, out[i] = scaled value of voxel
 * idx[i] (NIfTI order offset i + nx*(j + ny*k)); idx == NULL means all
 * n_vox3 voxels in NIfTI order (then n_idx must be n_vox3).  n_idx = 0
 * skips the volume.  Errors: truncated or corrupt file. */
int nidec_nii_stream_read(nidec_nii_stream *s, const size_t *idx, size_t n_idx,
			  float *out, nidec_err *err);
/* After the last volume: check that a gzip stream ends cleanly (length
 * and CRC), so a damaged file is not silently accepted. */
int nidec_nii_stream_finish(nidec_nii_stream *s, nidec_err *err);
void nidec_nii_stream_close(nidec_nii_stream **s);

/* Same grid: same nx, ny, nz and affine within `tol` mm element-wise. */
int nidec_nii_same_grid(const int64_t a_dims[3], const double a_aff[16],
			const int64_t b_dims[3], const double b_aff[16], double tol);

/* What nidec_nii_write() writes. */
typedef struct nidec_nii_spec {
	int64_t dims[4];       /* nx, ny, nz, nt (nt = 1 for 3D) */
	int ndim;              /* 3 or 4 */
	int datatype;          /* NIFTI_TYPE_UINT8, _INT16, _FLOAT32 (data in that type) */
	double affine[16];     /* row-major voxel -> world; written as sform and qform */
	int xform_code;        /* sform/qform code, e.g. 1 (scanner) or 2 (aligned) */
	double pixdim[4];      /* dx, dy, dz (mm), TR (s) */
	int compress_level;    /* gzip level for .nii.gz paths (1 fast .. 9 small) */
	const char *descrip;   /* header description (<= 79 chars), or NULL */
} nidec_nii_spec;

/* Write an image (NIfTI-1, or NIfTI-2 when a dim exceeds 32767) into
 * temporary `t` (file.h; zlib writes it by path, so t's descriptor is
 * closed): targets ending in .gz are gzip-compressed.  `data` holds
 * nx*ny*nz*nt values of spec->datatype, x fastest.  nifti_clib's own
 * writer returns void, so nidec writes the header and data itself and
 * reads the header back to check it.  The caller commits or aborts `t`. */
int nidec_nii_write_to(nidec_tempfile *t, const nidec_nii_spec *spec, const void *data,
		       nidec_err *err);

/* nidec_nii_write_to a new temporary of `path`, committed: no half file is
 * ever left under `path`. */
int nidec_nii_write(const char *path, const nidec_nii_spec *spec, const void *data,
		    nidec_err *err);

/* Write a 3D float32 image on the dataset grid into temporary `t` (as
 * nidec_nii_write_to): vals[v] goes to voxel ds->ijk[v], zero elsewhere;
 * affine and units from the dataset. */
int nidec_nii_write_masked(nidec_tempfile *t, const nidec_dataset *ds,
			   const float *vals, nidec_err *err);

/* The same for n_vol volumes (a 4D image when n_vol > 1): vals holds
 * n_vol x n_voxels values, volume after volume; `descrip` goes into the
 * header's description (<= 79 characters, or NULL). */
int nidec_nii_write_masked_n(nidec_tempfile *t, const nidec_dataset *ds, const float *vals,
			     size_t n_vol, const char *descrip, nidec_err *err);

/* Load images (3D or 4D files) and extract the voxels of a mask given by
 * grid, affine and ijk: *X becomes a new (n_volumes x n_voxels) row-major
 * float32 matrix.  The images must be on that grid (same shape and affine,
 * within 1e-4 mm), and every ijk must lie inside dims (an error otherwise);
 * used by `nidec predict`.  NaN and Inf voxel values become 0 with a
 * warning naming the file and their number (as nilearn's maskers,
 * ensure_finite=True).  Memory: the matrix plus one volume. */
int nidec_nii_extract(const char *const *paths, size_t n_paths, const int64_t dims[3],
		      const double affine[16], const int32_t *ijk, size_t n_voxels,
		      float **X, size_t *n_volumes, nidec_err *err);

/* Replace every NaN and +-Inf among v[0..n) by 0; returns how many were
 * replaced.  The rule for voxel values of BOLD images (convert, predict):
 * tests/bad/README.md "Decisions". */
size_t nidec_zero_nonfinite(float *v, size_t n);

/* ---- masks (src/io/mask.c) ---- */

/* Nearest-neighbour resampling of a mask onto a target grid, as nilearn's
 * resample_img(interpolation="nearest"): target voxel ijk is inside when
 * round(A_mask^-1 * A_target * ijk) falls inside the mask grid on a
 * finite non-zero value (NaN and Inf are outside, as nilearn).
 * mask: mdims[0]*mdims[1]*mdims[2] values, x fastest;
 * out: dims[0]*dims[1]*dims[2] bytes (1 inside, 0 outside), x fastest.
 * Fails if A_mask is singular. */
int nidec_mask_resample(const float *mask, const int64_t mdims[3], const double maff[16],
			const int64_t dims[3], const double aff[16], unsigned char *out,
			nidec_err *err);

/* The mask's voxels on the BOLD grid (dims, affine), in C order over
 * (i, j, k), k fastest (as nibabel/nilearn boolean indexing): *ijk gets a
 * new [n x 3] int32 array.  The mask (read with data) is resampled when its
 * grid differs (*resampled = 1, and a warning is logged).  Errors: mask not
 * 3D, empty mask, nothing inside the BOLD grid after resampling. */
int nidec_mask_on_grid(const nidec_nii *mask, const int64_t dims[3], const double affine[16],
		       int32_t **ijk, size_t *n, int *resampled, nidec_err *err);

/* Version of the NIfTI library ("nifti2_io 2.1.0 ..."), into buf. */
void nidec_nii_library_version(char *buf, size_t n);

/* The line the NIfTI library loaded at run time gives of itself
 * ("NIFTI2_IO version 2.1.0 (18 Jun, 2020), compiled May 31 2022"), for
 * `nidec --version`; "unknown" if it cannot be had.  nifti_clib prints it
 * on stdout only, so stdout is pointed at a temporary file for the call:
 * not for a process whose other threads write to stdout. */
void nidec_nii_runtime_version(char *buf, size_t n);

#endif
