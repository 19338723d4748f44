#!/usr/bin/python3
"""The scikit-learn pipeline doing the work of a nidec tutorial step, for
bench/cv.sh (ratio nidec / scikit-learn).  Not a test oracle: the numbers
are printed only so a reader can see the same work was done.

    /usr/bin/python3 bench/sklearn_cv.py DATA_DIR loro|loro8

loro   face vs cat, leave-one-run-out, nilearn's Decoder semantics: z-score
       (ddof 1) over all samples, for each fold fit LinearSVC(C) for C in
       1, 10, 100, keep the best ROC AUC on the test fold (ties to the last
       C), average the kept weights: 12 x 3 = 36 fits.
loro8  the same over the 8 non-rest conditions, one-vs-rest: 8 x 12 x 3 =
       288 fits (screening_percentile 20 rescales to 100 on this slice: no
       screening, as in nilearn).
Reading the NIfTI files is included, as nidec's end-to-end run includes it.
"""
import sys
import warnings

import nibabel
import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import LeaveOneGroupOut
from sklearn.svm import LinearSVC

data_dir, step = sys.argv[1], sys.argv[2]
bold = np.asanyarray(nibabel.load(f"{data_dir}/bold.nii.gz").dataobj)
mask = np.asanyarray(nibabel.load(f"{data_dir}/mask.nii.gz").dataobj) != 0
rows = [line.split() for line in open(f"{data_dir}/labels.txt")][1:]
labels = np.array([r[0] for r in rows])
runs = np.array([int(r[1]) for r in rows])
conds = ["face", "cat"] if step == "loro" else sorted(set(labels) - {"rest"})
keep = np.isin(labels, conds)
X = bold[mask][:, keep].T.astype(np.float32)
X = (X - X.mean(0)) / X.std(0, ddof=1)
X = X.astype(np.float64)
y, g = labels[keep], runs[keep]
classes = np.unique(y)
problems = [classes[1]] if len(classes) == 2 else list(classes)
means = []
for cls in problems:
    ypm = np.where(y == cls, 1, -1)
    scores, coefs = [], []
    for tr, te in LeaveOneGroupOut().split(X, ypm, g):
        best, best_coef = None, None
        for C in (1.0, 10.0, 100.0):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = LinearSVC(C=C, dual=True, tol=1e-4, max_iter=10000).fit(X[tr], ypm[tr])
            s = roc_auc_score(ypm[te], m.decision_function(X[te]))
            if best is None or s >= best:
                best, best_coef = s, m.coef_
        scores.append(best)
        coefs.append(best_coef)
    means.append(np.mean(scores))
print(" ".join(f"{c}={s:.4f}" for c, s in zip(problems, means)))
