#!/usr/bin/python3
"""Independent oracle for `nidec searchlight` of a continuous target:
nilearn's SearchLight(estimator='svr'), re-implemented on scikit-learn.

    /usr/bin/python3 tests/oracle/searchlight_svr_sklearn.py SYNTH_DIR CONDITIONS RADIUS MODE C \\
        > out.json

SYNTH_DIR is what `nidec synth --target` writes: the runs'
*_bold.nii.gz (in name order), mask.nii.gz and labels.txt (`labels chunks
modulation`, one row per volume of the runs in that order); the samples
are the volumes whose label is one of CONDITIONS (e.g. face,cat), the
target their modulation, the folds LeaveOneGroupOut over the runs; RADIUS
in mm; MODE:

  nilearn  SearchLight(mask_img, radius, cv, estimator='svr'): per sphere
           cross_val_score(SVR(C=C), X[:, sphere], y, cv, groups), scored
           by SVR's r2, scikit-learn's SVR() otherwise (RBF kernel, gamma
           'scale' = 1 / (n_features X_train.var()), epsilon 0.1, tol 1e-3,
           no max_iter), on float32 images z-scored per voxel over the
           samples (searchlight_sklearn.nilearn_zscore);
  default  nidec's default mode: Pipeline(StandardScaler(), SVR(kernel=
           'linear', C=C, max_iter=10000)) per sphere on the raw values (the
           scaler fitted on each training fold, ddof 0: nidec runs with
           standardize = zscore).

Spheres as searchlight_sklearn.py (nilearn's rule), centres every mask
voxel.  Output JSON: {"centres", "spheres", "folds": [[r2 per fold]],
"target": [the selected samples' targets]} in centre order.
"""
import glob
import json
import os
import sys
import warnings

import nibabel
import numpy as np
from sklearn.model_selection import LeaveOneGroupOut, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from searchlight_sklearn import nilearn_zscore, spheres  # noqa: E402


def main():
    data, conditions, radius, mode, C = sys.argv[1:6]
    conditions, radius, C = conditions.split(","), float(radius), float(C)
    runs = sorted(glob.glob(f"{data}/*_bold.nii.gz"))
    imgs = [nibabel.load(r) for r in runs]
    mask = np.asanyarray(nibabel.load(f"{data}/mask.nii.gz").dataobj) != 0
    bold = np.concatenate([np.asanyarray(i.dataobj)[mask].T for i in imgs])
    rows = [line.split() for line in open(f"{data}/labels.txt")][1:]
    assert len(rows) == len(bold), (len(rows), len(bold))
    labels = np.array([r[0] for r in rows])
    groups = np.array([int(r[1]) for r in rows])
    target = np.array([float(r[2]) for r in rows])
    keep = np.isin(labels, conditions)
    X, y, groups = bold[keep].astype(np.float32), target[keep], groups[keep]
    sph, centres = spheres(mask, imgs[0].affine, np.array(np.nonzero(mask)).T, radius)
    if mode == "nilearn":
        Xs, est = nilearn_zscore(X), SVR(C=C)
    else:
        Xs = X.astype(np.float64)
        est = make_pipeline(StandardScaler(), SVR(kernel="linear", C=C, max_iter=10000))
    folds = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter's ConvergenceWarning
        for s in sph:
            sc = cross_val_score(est, Xs[:, s], y, cv=LeaveOneGroupOut(), groups=groups)
            folds.append([float(v) for v in sc])
    json.dump({"centres": centres, "spheres": sph, "folds": folds, "target": [float(v) for v in y]},
              sys.stdout)


if __name__ == "__main__":
    main()
