/*
 * cluster.h - voxel clusters and the cluster-level group test of a
 * searchlight sweep (src/core/cluster.c), after Stelzer, Chen and Turner
 * (2013), "Statistical inference and multiple testing correction in
 * classification-based multi-voxel pattern analysis (MVPA): random
 * permutations and cluster size control", NeuroImage 65:69-82.
 *
 * The test (docs/SWEEP.md "Searchlight group level"), over V voxels common
 * to S subjects, each subject s with P_s null maps (its searchlight re-run
 * on labels permuted within runs):
 *  1. M group null maps: draw m picks one null map of every subject,
 *     k_s ~ uniform{0 .. P_s - 1} (one seeded xoshiro256** stream, rng.h,
 *     seeded with `seed`; subjects in order within a draw), and averages
 *     them: null_m[v] = (sum over s of (double)null_s[k_s][v]) / S.
 *  2. A voxel-wise cluster-forming threshold from that null: with
 *     K = floor(threshold x M), t[v] is the (K + 1)-th largest of the M
 *     values null_m[v]; a value x at voxel v is above threshold when
 *     x > t[v], which at most K of the M null maps are (a voxel-wise
 *     p < threshold).
 *  3. Clusters: the 26-connected components of the above-threshold voxels
 *     (voxels sharing a face, an edge or a corner on the grid).  Each null
 *     map's largest cluster size gives the null distribution of the
 *     maximum cluster size (0 when no voxel is above threshold).
 *  4. The observed group map (the mean of the subjects' maps, each taken
 *     as float32 as the null maps are, summed in double) is thresholded
 *     the same way; a cluster of n voxels has the family-wise p-value
 *     (1 + #{m : max_m >= n}) / (M + 1).
 * The draws are made twice (thresholds, then clusters) from the same
 * stream, so memory is O(V x (K + 1)) rather than O(V x M).  Time:
 * 2 x M x S x V additions.  Everything is sequential and seeded: the same
 * inputs give the same bits.  libc only; not collective.
 */
#ifndef NIDEC_CLUSTER_H
#define NIDEC_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/err.h"

/* The 26-neighbourhood of n voxels of a grid, compressed rows. */
typedef struct nidec_cluster_grid {
	size_t n;
	size_t *ptr;     /* [n + 1] */
	uint32_t *nbr;   /* neighbours of voxel v: nbr[ptr[v] .. ptr[v+1]) */
} nidec_cluster_grid;

#define NIDEC_CLUSTER_GRID_INIT { 0, NULL, NULL }

/* The neighbourhood of voxels ijk[n * 3] (distinct, inside `dims`).
 * Memory: one int32 per grid voxel while building. */
int nidec_cluster_grid_build(const int32_t *ijk, size_t n, const int64_t dims[3],
			     nidec_cluster_grid *g, nidec_err *err);
void nidec_cluster_grid_release(nidec_cluster_grid *g);

/*
 * The 26-connected components of the voxels with on[v] != 0: label[v] =
 * 1 + the component's rank by decreasing size (ties: by the smallest voxel
 * index), 0 where off; size[c] the size of component c + 1 (size holds
 * up to n entries).  `work` holds 3n uint32.  Returns the number of
 * components.
 */
size_t nidec_cluster_label(const nidec_cluster_grid *g, const unsigned char *on, uint32_t *label,
			   size_t *size, uint32_t *work);

typedef struct nidec_stelzer_opts {
	size_t draws;       /* M >= 1 / threshold */
	double threshold;   /* cluster-forming voxel-wise p, in (0, 1) */
	uint64_t seed;
} nidec_stelzer_opts;

typedef struct nidec_stelzer {
	size_t n_voxels, draws;
	double *observed;   /* [n_voxels] the observed group map */
	double *threshold;  /* [n_voxels] t[v] */
	uint32_t *label;    /* [n_voxels] 0, or the voxel's cluster (1 = largest) */
	size_t n_clusters;
	size_t *size;       /* [n_clusters] voxels, decreasing */
	size_t *peak;       /* [n_clusters] voxel of the largest observed value */
	double *p;          /* [n_clusters] family-wise p-value */
	size_t *null_max;   /* [draws] each group null map's largest cluster */
} nidec_stelzer;

#define NIDEC_STELZER_INIT { 0, 0, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL }

/*
 * The test over g->n voxels of n_subjects subjects: maps[s][v] the
 * subject's map, nulls[s][k * n_voxels + v] its n_null[s] >= 1 null maps.
 * Errors: bad options (NIDEC_EINPUT naming [sweep] cluster_draws or
 * cluster_threshold), out of memory.
 */
int nidec_stelzer_run(const nidec_cluster_grid *g, size_t n_subjects, const float *const *maps,
		      const float *const *nulls, const size_t *n_null, const nidec_stelzer_opts *o,
		      nidec_stelzer *out, nidec_err *err);
void nidec_stelzer_release(nidec_stelzer *s);

#endif
