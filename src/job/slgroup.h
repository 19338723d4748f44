/*
 * slgroup.h - the group level of a searchlight sweep (slgroup.c), private
 * to src/job: group.c calls it after the subjects' scores.
 *
 * Files, in the sweep's root (docs/SWEEP.md "Searchlight group level"),
 * written all or nothing:
 *   group_searchlight_mean.nii.gz         the mean of the subjects' maps
 *   group_searchlight_t.nii.gz            one-sample t against chance
 *   group_searchlight_p.nii.gz            its one-sided p (uncorrected)
 * and when every subject has null maps, the Stelzer cluster test
 * (cluster.h):
 *   group_searchlight_clusters.nii.gz     each voxel's cluster (1 = largest)
 *   group_searchlight_thresholded.nii.gz  the mean map inside the clusters
 *                                         with p <= [sweep] cluster_alpha
 *   group_searchlight_clusters.tsv        cluster, size, p_fwe, peak
 * over the voxels that are a centre of every subject's map (NaN-free).
 */
#ifndef NIDEC_JOB_SLGROUP_H
#define NIDEC_JOB_SLGROUP_H

#include <stddef.h>

#include <jansson.h>

#include "nidec/cfg.h"
#include "nidec/err.h"
#include "nidec/sweep.h"

/*
 * The group maps of the subjects sw->subject[ok[0..n_ok)] (their
 * <root>/sub-<label>/results.h5), against `chance`.  *out: the
 * "searchlight" block of group_summary.json (new reference).  Errors: a
 * subject's results that cannot be read, subjects on different grids, no
 * voxel common to all, bad cluster options, a write that fails.
 */
int nidec_sl_group(const nidec_sweep *sw, const char *root, const size_t *ok, size_t n_ok,
		   double chance, json_t **out, nidec_err *err);

#endif
