/*
 * nii.h - NIfTI reading and writing through nifti_clib (nifti2_io), in
 * nidec's words: every error names the file, the field and the fix.
 *
 * Images are read as float32 with scl_slope/scl_inter applied as nibabel
 * does (slope 0 or NaN means no scaling).  Grids are compared by shape and
 * affine (the affine nibabel reports: sform if sform_code > 0, else qform
 * if qform_code > 0, else the pixdim diagonal).  Not collective; no MPI.
 */
#ifndef NIDEC_NII_H
#define NIDEC_NII_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/dataset.h"
#include "nidec/err.h"

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
} nidec_nii;

/* Read header and voxels. */
int nidec_nii_read(const char *path, nidec_nii **out, nidec_err *err);
/* Read the header only (data stays NULL). */
int nidec_nii_read_header(const char *path, nidec_nii **out, nidec_err *err);
void nidec_nii_free(nidec_nii **img);

/* Write a 3D float32 image on the dataset grid: vals[v] goes to voxel
 * ds->ijk[v], zero elsewhere; affine and units from the dataset.  Written
 * to a temporary name, re-read, then renamed: no half file under `path`. */
int nidec_nii_write_masked(const char *path, const nidec_dataset *ds,
			   const float *vals, nidec_err *err);

/* Load images (3D or 4D files) and extract the voxels of a mask given by
 * grid, affine and ijk: *X becomes a new (n_volumes x n_voxels) row-major
 * float32 matrix.  The images must be on that grid (same shape and affine,
 * within 1e-4 mm); used by `nidec predict`. */
int nidec_nii_extract(const char *const *paths, size_t n_paths, const int64_t dims[3],
		      const double affine[16], const int32_t *ijk, size_t n_voxels,
		      float **X, size_t *n_volumes, nidec_err *err);

#endif
