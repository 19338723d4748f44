/*
 * sphere.h - the spheres of a searchlight (src/core/sphere.c): for every
 * centre, the mask voxels within `radius` millimetres of it.
 *
 * The rule is nilearn's (maskers/nifti_spheres_masker.py,
 * apply_mask_and_get_affinity, as SearchLight uses it):
 *  - every voxel's centre in world coordinates is affine . (i, j, k, 1);
 *  - a mask voxel belongs to a centre's sphere when the distance between
 *    their world coordinates is <= radius (boundary included), compared as
 *    the squared distance dx^2 + dy^2 + dz^2 <= radius^2 summed in that
 *    order, as scikit-learn's KD-tree radius query (what
 *    NearestNeighbors(radius).radius_neighbors_graph uses on three
 *    coordinates) does;
 *  - the centre's own voxel always belongs to its sphere (nilearn adds the
 *    nearest voxel of each seed; a centre here is a voxel of the mask);
 *  - a sphere's voxels are in ascending mask order (the columns of
 *    X[:, A.rows[i]] in nilearn).
 * Centres are mask voxels (the process mask, on the data grid, inside the
 * mask), given as indices into the mask's voxel list.
 *
 * Storage: compressed rows, ptr[n_centres + 1] and vox[ptr[n_centres]],
 * 32-bit voxel indices (a mask of 4 billion voxels is not a brain).
 * Release with nidec_spheres_release (leaves an empty, reusable value).
 * Not collective; libc only.
 */
#ifndef NIDEC_SPHERE_H
#define NIDEC_SPHERE_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/err.h"

typedef struct nidec_spheres {
	size_t n_centres;
	uint32_t *centre;  /* [n_centres] mask voxel index of each centre */
	size_t *ptr;       /* [n_centres + 1] sphere c is vox[ptr[c] .. ptr[c+1]) */
	uint32_t *vox;     /* mask voxel indices, ascending within a sphere */
	size_t min_size, max_size;
} nidec_spheres;

#define NIDEC_SPHERES_INIT { 0, NULL, NULL, NULL, 0, 0 }

/*
 * Build the spheres of `n_centres` centres (mask voxel indices, any order)
 * over a mask of `p` voxels (ijk[p * 3], C order, on a grid of `dims`,
 * row-major 4x4 `affine`).  radius > 0.  Errors: a singular affine, a
 * centre index out of range, out of memory.  Time O(n_centres x the
 * voxels of the radius' bounding box); memory: the spheres and one int32
 * per grid voxel while building.
 */
int nidec_spheres_build(const int32_t *ijk, size_t p, const int64_t dims[3],
			const double affine[16], const uint32_t *centres, size_t n_centres,
			double radius, nidec_spheres *out, nidec_err *err);

void nidec_spheres_release(nidec_spheres *s);

#endif
