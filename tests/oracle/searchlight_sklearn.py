#!/usr/bin/python3
"""Independent oracle for `nidec searchlight`: nilearn's SearchLight,
re-implemented on scikit-learn (nilearn itself is not packaged in Debian).

    /usr/bin/python3 tests/oracle/searchlight_sklearn.py DATA_DIR CONDITIONS RADIUS CV MODE \
        [PROCESS_MASK] > out.json

DATA_DIR holds bold.nii.gz, mask.nii.gz and labels.txt (the bundled
data/haxby-slice); CONDITIONS e.g. face,house; RADIUS in mm; CV is loro
(LeaveOneGroupOut over the runs) or kfoldK (KFold(K), no shuffle); MODE:

  nilearn  what nilearn 0.10-0.13 computes for SearchLight(mask_img, radius,
           cv, estimator='svc') on images z-scored per voxel over the selected
           volumes (the reference file's recipe): X = the in-mask values in
           float32, standardised with numpy float32 arithmetic (mean, then
           std with ddof 1), then per sphere cross_val_score(LinearSVC(),
           X[:, sphere], y, cv, groups) -- accuracy, LinearSVC's defaults
           (C=1, squared hinge, intercept, tol 1e-4, max_iter 1000);
  default  nidec's default mode: per sphere cross_val_score(Pipeline(
           StandardScaler(), LinearSVC(dual=False, tol=1e-8)), ...) on the
           raw values (the scaler fitted on each training fold; ddof 0, so
           nidec runs with standardize = zscore).  The primal solver, run
           to a tight tolerance, gives the problem's unique minimiser, as
           nidec's Newton solver does for spheres in default mode.

The spheres are nilearn's (maskers/nifti_spheres_masker.py,
apply_mask_and_get_affinity): world coordinates of the mask voxels
(nibabel.affines.apply_affine), NearestNeighbors(radius=RADIUS)
.radius_neighbors_graph of the centres' world coordinates, plus the
centre's own voxel.  Centres: the mask voxels, or those of PROCESS_MASK
(on the same grid).  LinearSVC gets random_state=0 so that the oracle is
reproducible (nilearn passes none).

Output JSON: {"centres": [mask index], "spheres": [[mask indices]],
"folds": [[score per fold]], "mean": [mean score]} in centre order (C order
over i, j, k).
"""
import json
import sys
import warnings

import nibabel
import numpy as np
from nibabel.affines import apply_affine
from sklearn.model_selection import KFold, LeaveOneGroupOut, cross_val_score
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC


def spheres(mask, affine, centres_ijk, radius):
    ijk = np.array(np.nonzero(mask)).T
    world = apply_affine(affine, ijk)
    seeds = apply_affine(affine, centres_ijk)
    A = NearestNeighbors(radius=radius).fit(world).radius_neighbors_graph(seeds).tolil()
    index = {tuple(v): i for i, v in enumerate(ijk)}
    for i, c in enumerate(centres_ijk):
        A[i, index[tuple(c)]] = True  # the centre's own voxel
    return [sorted(r) for r in A.rows], [index[tuple(c)] for c in centres_ijk]


def nilearn_zscore(X):
    """The images nilearn's SearchLight is given in the reference recipe:
    float32 X z-scored per voxel over the samples (numpy float32: the mean,
    then the std with ddof 1; constant voxels divided by 1)."""
    Xs = X - X.mean(axis=0)
    sd = Xs.std(axis=0, ddof=1)
    sd[sd < np.finfo(np.float64).eps] = 1.0
    return Xs / sd


def main():
    data, conditions, radius, cv, mode = sys.argv[1:6]
    pm_path = sys.argv[6] if len(sys.argv) > 6 else None
    conditions = conditions.split(",")
    radius = float(radius)
    img = nibabel.load(f"{data}/bold.nii.gz")
    bold = np.asanyarray(img.dataobj)
    mask = np.asanyarray(nibabel.load(f"{data}/mask.nii.gz").dataobj) != 0
    rows = [line.split() for line in open(f"{data}/labels.txt")][1:]
    labels = np.array([r[0] for r in rows])
    runs = np.array([int(r[1]) for r in rows])
    keep = np.isin(labels, conditions)
    X = bold[mask][:, keep].T.astype(np.float32)
    y, groups = labels[keep], runs[keep]
    if pm_path:
        pm = np.asanyarray(nibabel.load(pm_path).dataobj) != 0
        centres_ijk = np.array(np.nonzero(pm & mask)).T
    else:
        centres_ijk = np.array(np.nonzero(mask)).T
    sph, centres = spheres(mask, img.affine, centres_ijk, radius)
    if cv == "loro":
        splitter = LeaveOneGroupOut()
    else:
        splitter = KFold(int(cv[len("kfold"):]))
    if mode == "nilearn":
        Xs = nilearn_zscore(X)
        est = LinearSVC(random_state=0)
    else:
        Xs = X.astype(np.float64)
        est = make_pipeline(StandardScaler(), LinearSVC(dual=False, tol=1e-8, max_iter=100000,
                                                        random_state=0))
    folds = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in sph:
            sc = cross_val_score(est, Xs[:, s], y, cv=splitter, groups=groups, scoring="accuracy")
            folds.append([float(v) for v in sc])
    json.dump({"centres": centres, "spheres": sph, "folds": folds,
               "mean": [float(np.mean(f)) for f in folds]}, sys.stdout)


if __name__ == "__main__":
    main()
