/*
 * mask.c - a 3D mask as a voxel list on the BOLD grid (see nii.h).
 *
 * When the mask's grid (shape or affine) is not the BOLD's, it is
 * resampled by nearest neighbour as nilearn's resample_img does for masks:
 * each BOLD voxel's centre is mapped into the mask's voxel space
 * (A_mask^-1 A_bold ijk) and rounded to the nearest voxel (floor(x + 0.5),
 * as scipy.ndimage's order-0 interpolation under nilearn); the BOLD voxel is inside when that voxel exists and is
 * non-zero and finite (NaN and Inf are outside, as nilearn's load_mask_img).  The voxel list is in C order over (i, j, k), k fastest: the
 * column order of nibabel's img.get_fdata()[mask] and nilearn's maskers.
 * Depends on base and nifti_clib's matrix helpers; no MPI, no HDF5.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <nifti2_io.h>

#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/nii.h"

/* Inverse of a row-major 4x4 affine; fails if the 3x3 part is singular. */
static int invert_affine(const double a[16], double inv[16])
{
	nifti_dmat44 m, r;
	double det;
	int i, j;

	det = a[0] * (a[5] * a[10] - a[6] * a[9]) - a[1] * (a[4] * a[10] - a[6] * a[8]) +
	      a[2] * (a[4] * a[9] - a[5] * a[8]);
	if (!isfinite(det) || fabs(det) < 1e-12)
		return -1;
	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++)
			m.m[i][j] = a[i * 4 + j];
	r = nifti_dmat44_inverse(m);
	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++)
			inv[i * 4 + j] = r.m[i][j];
	return 0;
}

/* A mask voxel is inside when it is a finite non-zero value: NaN and
 * +-Inf are outside, as nilearn's load_mask_img (safe_get_data with
 * ensure_finite=True replaces them by 0 first; tests/bad/README.md
 * "Decisions"). */
static int inside(float v)
{
	return v != 0 && isfinite(v);
}

int nidec_mask_resample(const float *mask, const int64_t mdims[3], const double maff[16],
			const int64_t dims[3], const double aff[16], unsigned char *out,
			nidec_err *err)
{
	double inv[16], M[12];
	int64_t i, j, k;
	int r, c;

	if (invert_affine(maff, inv) < 0)
		return nidec_fail(err, NIDEC_EINPUT,
				  "the mask's affine is singular (a voxel has no volume), so it cannot be resampled onto the BOLD grid; fix the mask's sform/qform");
	/* M = inv(A_mask) * A_bold, rows 0..2 */
	for (r = 0; r < 3; r++)
		for (c = 0; c < 4; c++)
			M[r * 4 + c] = inv[r * 4 + 0] * aff[0 * 4 + c] + inv[r * 4 + 1] * aff[1 * 4 + c] +
				       inv[r * 4 + 2] * aff[2 * 4 + c] + inv[r * 4 + 3] * aff[3 * 4 + c];
	for (k = 0; k < dims[2]; k++)
		for (j = 0; j < dims[1]; j++)
			for (i = 0; i < dims[0]; i++) {
				double p[3];
				int64_t q[3];
				int in_box = 1;
				for (r = 0; r < 3; r++) {
					p[r] = M[r * 4 + 0] * (double)i + M[r * 4 + 1] * (double)j +
					       M[r * 4 + 2] * (double)k + M[r * 4 + 3];
					/* floor(x + 0.5); a tiny tolerance keeps exact
					 * half points from flipping on rounding noise */
					if (!isfinite(p[r]) || p[r] < -1 || p[r] > (double)mdims[r]) {
						in_box = 0;
						q[r] = 0;
						continue;
					}
					q[r] = (int64_t)floor(p[r] + 0.5 + 1e-9);
					if (q[r] < 0 || q[r] >= mdims[r])
						in_box = 0;
				}
				out[(size_t)i + (size_t)dims[0] * ((size_t)j + (size_t)dims[1] * (size_t)k)] =
					in_box && inside(mask[(size_t)q[0] + (size_t)mdims[0] *
							      ((size_t)q[1] + (size_t)mdims[1] * (size_t)q[2])]);
			}
	return 0;
}

int nidec_mask_on_grid(const nidec_nii *mask, const int64_t dims[3], const double affine[16],
		       int32_t **ijk, size_t *n, int *resampled, nidec_err *err)
{
	unsigned char *in = NULL;
	int32_t *list = NULL;
	size_t n3, count = 0, nm, v, w;
	int64_t i, j, k;
	int same, rc = 0;

	if (mask->dims[3] != 1)
		return nidec_fail(err, NIDEC_EINPUT,
				  "mask '%s' is 4D (%lldx%lldx%lldx%lld); give a 3D mask (non-zero = inside)",
				  mask->path, (long long)mask->dims[0], (long long)mask->dims[1],
				  (long long)mask->dims[2], (long long)mask->dims[3]);
	if (!mask->data)
		return nidec_fail(err, NIDEC_EINTERNAL, "mask '%s' has no data loaded", mask->path);
	nm = mask->n_vox3;
	for (v = 0; v < nm && !inside(mask->data[v]); v++)
		;
	if (v == nm) {
		for (v = 0; v < nm && mask->data[v] == 0; v++)
			;
		return nidec_fail(err, NIDEC_EINPUT,
				  "mask '%s' is empty (every voxel is 0%s); give a mask with non-zero voxels inside the brain",
				  mask->path, v == nm ? "" : " or not a finite number");
	}
	if (nidec_mul_size((size_t)dims[0], (size_t)dims[1], &n3) < 0 ||
	    nidec_mul_size(n3, (size_t)dims[2], &n3) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "BOLD grid too large");
	in = nidec_malloc_e(n3, 1, "the mask on the BOLD grid", err);
	if (!in)
		return NIDEC_ENOMEM;
	same = nidec_nii_same_grid(mask->dims, mask->affine, dims, affine, 1e-4);
	if (same) {
		for (v = 0; v < n3; v++)
			in[v] = (unsigned char)inside(mask->data[v]);
	} else {
		rc = nidec_mask_resample(mask->data, mask->dims, mask->affine, dims, affine, in, err);
		if (rc < 0) {
			nidec_err_prefix(err, "mask '%s': ", mask->path);
			goto done;
		}
	}
	for (v = 0; v < n3; v++)
		count += in[v];
	if (count == 0) {
		rc = nidec_fail(err, NIDEC_EINPUT,
				"mask '%s' (%lldx%lldx%lld) does not overlap the BOLD grid (%lldx%lldx%lld) once resampled: no voxel lands inside; check that mask and images are in the same space",
				mask->path, (long long)mask->dims[0], (long long)mask->dims[1],
				(long long)mask->dims[2], (long long)dims[0], (long long)dims[1],
				(long long)dims[2]);
		goto done;
	}
	if (count > (size_t)INT32_MAX) {
		rc = nidec_fail(err, NIDEC_EINPUT, "mask '%s' has too many voxels (%zu)", mask->path, count);
		goto done;
	}
	list = nidec_malloc_e(count, 3 * sizeof(int32_t), "the mask voxel list", err);
	if (!list) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	/* C order over (i, j, k): k fastest */
	w = 0;
	for (i = 0; i < dims[0]; i++)
		for (j = 0; j < dims[1]; j++)
			for (k = 0; k < dims[2]; k++)
				if (in[(size_t)i + (size_t)dims[0] * ((size_t)j + (size_t)dims[1] * (size_t)k)]) {
					list[3 * w] = (int32_t)i;
					list[3 * w + 1] = (int32_t)j;
					list[3 * w + 2] = (int32_t)k;
					w++;
				}
	if (!same)
		nidec_warn("mask '%s' (%lldx%lldx%lld) is not on the BOLD grid (%lldx%lldx%lld): resampled by nearest neighbour, %zu voxels inside",
			   mask->path, (long long)mask->dims[0], (long long)mask->dims[1],
			   (long long)mask->dims[2], (long long)dims[0], (long long)dims[1],
			   (long long)dims[2], count);
	*ijk = list;
	*n = count;
	if (resampled)
		*resampled = !same;
	list = NULL;
done:
	nidec_free(in);
	nidec_free(list);
	return rc;
}
