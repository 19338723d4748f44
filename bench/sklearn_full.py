#!/usr/bin/python3
"""The scikit-learn pipeline doing the work of issue 9's workload 2 (the
full-size subject, nested selection), for bench/perf.sh's ratio.  Not a
test oracle.

    /usr/bin/python3 bench/sklearn_full.py DATASET.bin [N_OUTER [N_CLASSES]]

DATASET.bin is bench/dump_dataset.py's export of the converted dataset
(HDF5 reading is not timed).  For each of the first N_OUTER outer folds
(leave-one-run-out; default 1, "all" for every fold) and each class (one
vs rest): GridSearchCV(Pipeline(StandardScaler, SelectPercentile(f_classif,
20), LinearSVC(dual=True, tol=1e-4, max_iter=10000)), C in {1, 10, 100},
inner leave-one-run-out, roc_auc), refit on the outer training part, score
on the outer test run: what nidec's default nested mode computes with
screening 20 %.  Prints the seconds per outer fold and the extrapolation to
all folds (the folds cost about the same), one process (n_jobs=1),
OPENBLAS_NUM_THREADS=1 recommended.  N_CLASSES (default all) times only
the first N_CLASSES one-vs-rest problems of each fold and extrapolates to
every class (the classes of a balanced design cost about the same).
"""
import struct
import sys
import time
import warnings

import numpy as np
from sklearn.feature_selection import SelectPercentile, f_classif
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC


def load(path):
    with open(path, "rb") as f:
        magic, n, p, k, _vol = struct.unpack("<4sIIId", f.read(24))
        assert magic == b"NIDX", "not a bench/dump_dataset.py file"
        names = []
        for _ in range(k):
            (ln,) = struct.unpack("<I", f.read(4))
            names.append(f.read(ln).decode())
        X = np.frombuffer(f.read(4 * n * p), np.float32).reshape(n, p)
        y = np.frombuffer(f.read(4 * n), np.int32)
        runs = np.frombuffer(f.read(4 * n), np.int32)
    return X.astype(np.float64), y, runs, names


def main():
    X, y, runs, names = load(sys.argv[1])
    n_outer = sys.argv[2] if len(sys.argv) > 2 else "1"
    n_cls = int(sys.argv[3]) if len(sys.argv) > 3 else len(names)
    n_cls = max(1, min(n_cls, len(names)))
    folds = list(LeaveOneGroupOut().split(X, y, runs))
    todo = folds if n_outer == "all" else folds[: int(n_outer)]
    t0 = time.perf_counter()
    c0 = time.process_time()
    aucs = []
    for tr, te in todo:
        for c in range(n_cls):
            ypm = np.where(y == c, 1, -1)
            pipe = Pipeline([("scale", StandardScaler()),
                             ("screen", SelectPercentile(f_classif, percentile=20)),
                             ("svc", LinearSVC(dual=True, tol=1e-4, max_iter=10000))])
            gs = GridSearchCV(pipe, {"svc__C": [1.0, 10.0, 100.0]}, scoring="roc_auc",
                              cv=LeaveOneGroupOut(), n_jobs=1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gs.fit(X[tr], ypm[tr], groups=runs[tr])
            aucs.append(roc_auc_score(ypm[te], gs.decision_function(X[te])))
    dt = (time.perf_counter() - t0) * len(names) / n_cls
    cpu = (time.process_time() - c0) * len(names) / n_cls * len(folds) / len(todo)
    per = dt / len(todo)
    print(f"sklearn nested: {len(todo)} outer fold(s) x {len(names)} classes in {dt:.1f} s"
          f"{'' if n_cls == len(names) else f' ({n_cls} class(es) timed, x {len(names) / n_cls:g})'}, "
          f"{per:.1f} s per fold, {per * len(folds):.0f} s for all {len(folds)} folds "
          f"(mean AUC of the folds done {np.mean(aucs):.4f}); CPU {cpu:.0f} s for all folds")


if __name__ == "__main__":
    main()
