#!/usr/bin/python3
"""Independent scikit-learn oracle for nidec's default (nested) mode.

    /usr/bin/python3 tests/oracle/sklearn_nested.py DATA_DIR [CONDITIONS [SCREENING]] > out.tsv

DATA_DIR holds bold.nii.gz, mask.nii.gz and labels.txt (the bundled
data/haxby-slice); CONDITIONS is a comma-separated list (default face,cat);
SCREENING, a percentile below 100, puts SelectPercentile(f_classif,
SCREENING) between the scaler and the SVC (nidec's screening_percentile in
the default mode, which does not rescale it as nilearn does).

What it computes, with Debian's python3-sklearn 1.2.1 and python3-nibabel:
  X = the in-mask voxels of the selected volumes (numpy boolean indexing of
      the 3D mask, C order: nidec's and nilearn's voxel order), float64
  outer = LeaveOneGroupOut over runs (sorted run ids)
  model = GridSearchCV(Pipeline(StandardScaler(), LinearSVC(dual=True,
          tol=1e-4, max_iter=10000)), {C: [1, 10, 100]},
          cv=LeaveOneGroupOut() over the training runs, scoring='roc_auc',
          refit=True)   -- ties go to the first C (GridSearchCV's rank)
  per outer fold: the chosen C, the mean inner ROC AUC of that C
  (best_score_), the outer ROC AUC of the refitted model (its
  decision_function on the held-out run) and its accuracy.
The scaler is fitted on each (inner or outer) training part only, with
ddof 0: nidec is compared with `standardize = zscore`.

Output: TSV, header `fold C score inner_score accuracy`, one row per outer
fold, doubles as repr() (17 significant digits, exact round trip).
LinearSVC's random_state is fixed (0) so the oracle itself is reproducible;
liblinear's coordinate order therefore differs from nidec's (seeded per
task), which is why the test allows a margin sample to flip (see
tests/e2e/t1200-cv-nested-sklearn.sh).
"""
import sys
import warnings

import nibabel
import numpy as np
from sklearn.feature_selection import SelectPercentile, f_classif
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.metrics import roc_auc_score, accuracy_score


def load(data_dir, conditions):
    bold = np.asanyarray(nibabel.load(f"{data_dir}/bold.nii.gz").dataobj)
    mask = np.asanyarray(nibabel.load(f"{data_dir}/mask.nii.gz").dataobj) != 0
    rows = [line.split() for line in open(f"{data_dir}/labels.txt")][1:]
    labels = np.array([r[0] for r in rows])
    runs = np.array([int(r[1]) for r in rows])
    keep = np.isin(labels, conditions)
    X = bold[mask][:, keep].T.astype(np.float64)  # samples x voxels, C order
    return X, labels[keep], runs[keep]


def main():
    data_dir = sys.argv[1]
    conditions = (sys.argv[2] if len(sys.argv) > 2 else "face,cat").split(",")
    screening = float(sys.argv[3]) if len(sys.argv) > 3 else 100.0
    X, y, runs = load(data_dir, conditions)
    classes = np.unique(y)
    assert len(classes) == 2, "the oracle covers the binary case"
    y01 = (y == classes[1]).astype(int)  # +1 = classes[1], as nilearn/nidec
    steps = [("scale", StandardScaler())]
    if screening < 100:
        steps.append(("screen", SelectPercentile(f_classif, percentile=screening)))
    steps.append(("svc", LinearSVC(dual=True, tol=1e-4, max_iter=10000, random_state=0)))
    pipe = Pipeline(steps)
    print("fold\tC\tscore\tinner_score\taccuracy")
    for f, (tr, te) in enumerate(LeaveOneGroupOut().split(X, y01, runs)):
        gs = GridSearchCV(pipe, {"svc__C": [1.0, 10.0, 100.0]},
                          cv=LeaveOneGroupOut(), scoring="roc_auc", refit=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gs.fit(X[tr], y01[tr], groups=runs[tr])
        d = gs.decision_function(X[te])
        auc = roc_auc_score(y01[te], d)
        acc = accuracy_score(y01[te], (d > 0).astype(int))
        print(f"{f}\t{gs.best_params_['svc__C']!r}\t{auc!r}\t{gs.best_score_!r}\t{acc!r}")


if __name__ == "__main__":
    main()
