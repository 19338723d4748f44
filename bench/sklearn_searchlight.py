#!/usr/bin/python3
"""bench/sklearn_searchlight.py DATASET_H5 PROCESS_MASK RADIUS MODE N_JOBS - the
baseline of bench/searchlight.sh: nilearn's SearchLight, as nilearn 0.10-0.13
runs it (nilearn/decoding/searchlight.py), on scikit-learn - nilearn itself
is not packaged in Debian.

  spheres  nilearn's: NearestNeighbors(radius).radius_neighbors_graph of the
           centres' world coordinates over the mask voxels', plus each
           centre's own voxel (apply_mask_and_get_affinity);
  fits     search_light(): the centres split into N_JOBS contiguous chunks
           (GroupIterator), one joblib worker per chunk (Parallel(n_jobs)),
           and per sphere cross_val_score(estimator, X[:, sphere], y,
           cv=LeaveOneGroupOut(), groups=runs), accuracy (scoring=None);
  MODE     nilearn: estimator 'svc' = LinearSVC() with its defaults (dual,
           C=1, tol 1e-4, max_iter 1000) on images z-scored per voxel over
           the selected volumes first (nilearn's clean_img(standardize=
           'zscore_sample'), the recipe of nidec's reference maps; what
           nidec computes under compat = nilearn);
           default: Pipeline(StandardScaler(), LinearSVC(dual=False)) per
           sphere, the scaler fitted on each training fold (what nidec's
           default mode computes).

X, labels, runs and the mask come from nidec's dataset.h5 (the same masked
samples nidec reads), so image loading and masking are not timed here -
that favours the baseline.  Prints one JSON line: the seconds spent on the
spheres and on the fits, the number of centres, the mean score.
"""
import json
import sys
import time
import warnings

import h5py
import nibabel
import numpy as np
from joblib import Parallel, delayed
from nibabel.affines import apply_affine
from sklearn.model_selection import LeaveOneGroupOut, cross_val_score
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC


def chunk_scores(rows, X, y, groups, mode):
    warnings.simplefilter("ignore")  # LinearSVC's ConvergenceWarning, in the worker
    if mode == "nilearn":
        est = LinearSVC()
    else:
        est = make_pipeline(StandardScaler(), LinearSVC(dual=False))
    cv = LeaveOneGroupOut()
    return [float(np.mean(cross_val_score(est, X[:, r], y, cv=cv, groups=groups))) for r in rows]


def main():
    path, pm_path, radius, mode, n_jobs = sys.argv[1:6]
    radius, n_jobs = float(radius), int(n_jobs)
    with h5py.File(path, "r") as f:
        X = f["X"][()]
        y = np.array([v.decode() if isinstance(v, bytes) else v for v in f["labels"][()]])
        groups = f["runs"][()]
        ijk = f["mask/ijk"][()]
        affine = f["mask/affine"][()]
    pm = np.asanyarray(nibabel.load(pm_path).dataobj) != 0
    t0 = time.perf_counter()
    if mode == "nilearn":
        X = X - X.mean(axis=0)
        sd = X.std(axis=0, ddof=1)
        sd[sd < np.finfo(np.float64).eps] = 1.0
        X = X / sd
    world = apply_affine(affine, ijk)
    index = {tuple(v): i for i, v in enumerate(ijk)}
    centres = np.array([v for v in ijk if pm[tuple(v)]])
    A = NearestNeighbors(radius=radius).fit(world).radius_neighbors_graph(
        apply_affine(affine, centres)).tolil()
    for i, c in enumerate(centres):
        A[i, index[tuple(c)]] = True
    rows = A.rows
    t1 = time.perf_counter()
    chunks = np.array_split(np.arange(len(rows)), n_jobs)
    out = Parallel(n_jobs=n_jobs)(delayed(chunk_scores)([rows[i] for i in ch], X, y, groups, mode)
                                  for ch in chunks)
    t2 = time.perf_counter()
    scores = [s for part in out for s in part]
    print(json.dumps({"spheres_s": t1 - t0, "fits_s": t2 - t1, "n_centres": len(rows),
                      "mean_score": float(np.mean(scores)), "mode": mode, "n_jobs": n_jobs}))


if __name__ == "__main__":
    main()
