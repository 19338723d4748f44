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
 *                                        and their maxima, the grid (dims,
 *                                        affine, the BOLD header); /ledger,
 *                                        /timing
 *                                        (docs/FORMAT.md "Searchlight")
 * Files of an earlier searchlight run that this one does not write (maps
 * of other classes, p maps) are removed.  Not collective; no MPI.
 */
#ifndef NIDEC_SLMAPS_H
#define NIDEC_SLMAPS_H

#include <stddef.h>
#include <stdint.h>

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

/* A searchlight's results.h5 read back (the group level of a sweep). */
typedef struct nidec_sl_file {
	int64_t dims[3];       /* the data grid */
	double affine[16];     /* row-major voxel -> world */
	size_t n_centres;
	int32_t *ijk;          /* [n_centres * 3] each centre's voxel */
	double *map;           /* [n_centres] the map (NaN: skipped sphere) */
	double chance;         /* the map's chance level (NaN: none) */
	char scoring[32];
	long n_perm;           /* null maps in the file (0: none) */
	float *null_map;       /* [n_perm * n_centres] if asked for, else NULL */
	unsigned char *nifti_header;  /* the BOLD header (as the dataset's), or NULL */
	size_t nifti_header_len;
} nidec_sl_file;

#define NIDEC_SL_FILE_INIT { { 0, 0, 0 }, { 0 }, 0, NULL, NULL, 0, { 0 }, 0, NULL, NULL, 0 }

/* Read `path` (a searchlight's results.h5) into *out, the null maps too
 * when `with_nulls`.  NIDEC_EFORMAT (naming the file and the object) for a
 * file that is not a searchlight's, centres off its grid; *out untouched
 * on error. */
int nidec_sl_read(const char *path, int with_nulls, nidec_sl_file *out, nidec_err *err);
void nidec_sl_file_release(nidec_sl_file *f);

#endif
