/*
 * slmaps.h - the files of a searchlight (src/io/slmaps.c), written on rank
 * 0 from its outcome (searchlight.h), all or nothing (file.h's file set),
 * summary.json last:
 *
 *   searchlight_<scoring>.nii.gz         the map: each centre's score, the
 *                                        mean over outer folds (over the
 *                                        classes too for K > 2); 0 outside
 *                                        the centres, NaN for skipped spheres
 *   searchlight_<scoring>_<class>.nii.gz K > 2: each class's map
 *   searchlight_folds_<scoring>.nii.gz   4D: one volume per outer fold
 *   searchlight_nvoxels.nii.gz           the voxels of each sphere
 *   searchlight_p.nii.gz, searchlight_p_fwe.nii.gz
 *                                        with permutations: the voxel-wise
 *                                        and family-wise p-values
 *   searchlight.tsv                      one row per centre: centre, i, j,
 *                                        k, x, y, z, n_voxels, score_fold_<f>,
 *                                        score, [score_<class>], [p, p_fwe]
 *   summary.json                         the map's statistics, the sphere
 *                                        sizes, the best spheres, the
 *                                        permutation test, config,
 *                                        provenance, warnings
 *   results.h5                           /searchlight: every array above,
 *                                        the spheres (CSR), the null maps
 *                                        (permutations x centres, float32)
 *                                        and their maxima; /ledger, /timing
 *                                        (docs/FORMAT.md "Searchlight")
 * Files of an earlier searchlight run that this one does not write (maps
 * of other classes, p maps) are removed.  Not collective; no MPI.
 */
#ifndef NIDEC_SLMAPS_H
#define NIDEC_SLMAPS_H

#include <stddef.h>

#include "nidec/err.h"
#include "nidec/results.h"
#include "nidec/searchlight.h"
#include "nidec/sphere.h"

/* What the searchlight's files say besides the outcome and the run. */
typedef struct nidec_sl_extra {
	const nidec_spheres *sp;   /* the spheres (centres: indices into the mask) */
	double radius;             /* mm */
	size_t min_voxels;
	double chance;             /* the map's chance level (NaN: none) */
	int process_mask_resampled;
} nidec_sl_extra;

/* Write every file above into `dir` (info: the run and the dataset, as
 * the decoder's writers take it). */
int nidec_sl_write(const char *dir, const nidec_sl_outcome *o, const nidec_results_info *info,
		   const nidec_sl_extra *x, nidec_err *err);

#endif
