#!/usr/bin/python3
"""scikit-learn's permutation test of the nested face-vs-cat job, for
bench/permutations.sh (ratio nidec / scikit-learn).  Not a test oracle.

    /usr/bin/python3 bench/sklearn_perm.py DATA_DIR N_PERMUTATIONS [N_JOBS]

The same work as `nidec run configs/haxby-slice.ini --set cv.permutations=N`:
  permutation_test_score(
      GridSearchCV(Pipeline(StandardScaler(), LinearSVC(dual=True, tol=1e-4,
                   max_iter=10000)), {C: [1, 10, 100]},
                   cv=LeaveOneGroupOut() over the training runs,
                   scoring='roc_auc', refit=True),
      X, y, groups=runs, cv=LeaveOneGroupOut(), scoring='roc_auc',
      n_permutations=N, n_jobs=N_JOBS)
i.e. per permutation 12 outer folds x (11 inner folds x 3 C + 1 refit) =
408 fits, labels shuffled within runs (permutation_test_score's groups),
the unpermuted score computed once more.
The inner LeaveOneGroupOut needs the runs of each outer training part.
scikit-learn 1.2's permutation_test_score slices fit_params for the first
outer fold only (it reassigns them), so the run ids travel as an extra last
column of X instead: the inner splitter reads them from there and the
pipeline's first step drops that column before scaling.  The folds are
therefore exactly nidec's.  Prints the score, the p-value and the seconds.
"""
import os
import sys
import time
import warnings

# LinearSVC's ConvergenceWarning, also in joblib's worker processes
os.environ.setdefault("PYTHONWARNINGS", "ignore")

import nibabel
import numpy as np
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, permutation_test_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import LinearSVC


class RunColumnLOGO:
    """LeaveOneGroupOut with the groups in the last column of X."""

    def split(self, X, y=None, groups=None):
        return LeaveOneGroupOut().split(X, y, X[:, -1])

    def get_n_splits(self, X=None, y=None, groups=None):
        return LeaveOneGroupOut().get_n_splits(X, y, X[:, -1])


def drop_last(X):
    return X[:, :-1]


def main():
    data_dir, n_perm = sys.argv[1], int(sys.argv[2])
    n_jobs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    bold = np.asanyarray(nibabel.load(f"{data_dir}/bold.nii.gz").dataobj)
    mask = np.asanyarray(nibabel.load(f"{data_dir}/mask.nii.gz").dataobj) != 0
    rows = [line.split() for line in open(f"{data_dir}/labels.txt")][1:]
    labels = np.array([r[0] for r in rows])
    runs = np.array([int(r[1]) for r in rows])
    keep = np.isin(labels, ["face", "cat"])
    X = bold[mask][:, keep].T.astype(np.float64)
    y = (labels[keep] == "face").astype(int)   # classes sorted: cat, face
    g = runs[keep]
    Xg = np.hstack([X, g[:, None].astype(np.float64)])
    pipe = Pipeline([("runs", FunctionTransformer(drop_last)),
                     ("scale", StandardScaler()),
                     ("svc", LinearSVC(dual=True, tol=1e-4, max_iter=10000))])
    gs = GridSearchCV(pipe, {"svc__C": [1.0, 10.0, 100.0]}, cv=RunColumnLOGO(),
                      scoring="roc_auc", refit=True)
    t0 = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score, null, p = permutation_test_score(gs, Xg, y, groups=g, cv=LeaveOneGroupOut(),
                                                n_permutations=n_perm, scoring="roc_auc",
                                                n_jobs=n_jobs, random_state=0)
    dt = time.time() - t0
    print(f"score={score:.4f} p={p:.4g} permutations={n_perm} n_jobs={n_jobs} seconds={dt:.2f}")


if __name__ == "__main__":
    main()
