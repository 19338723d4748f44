#!/usr/bin/python3
"""The scikit-learn pipeline doing the work of bench/regression.sh's job
(issue 18: nilearn's DecoderRegressor with estimator='svr', nested), for
its CPU ratio.  Not a test oracle (tests/e2e/check_regression.py is).

    /usr/bin/python3 bench/sklearn_regression.py DATASET.h5 [N_OUTER]

DATASET.h5 is a nidec dataset with a /target (reading it is not timed).
For each of the first N_OUTER outer folds (leave-one-run-out; default 1,
"all" for every fold): GridSearchCV(Pipeline(StandardScaler,
SelectPercentile(f_regression, 20), SVR(kernel='linear', max_iter=10000)),
C in {1, 10, 100}, inner leave-one-run-out, r2), refit on the outer
training part, r2 on the outer test run: what nidec's default nested mode
computes with svr and screening 20 %.  One process (n_jobs=1; run it with
OPENBLAS_NUM_THREADS=1).  Prints the CPU seconds of the folds timed and
their extrapolation to every fold (the folds cost about the same), and
the mean r2 of the folds timed.
"""
import sys
import time
import warnings

import h5py
import numpy as np
from sklearn.feature_selection import SelectPercentile, f_regression
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR


def main():
    with h5py.File(sys.argv[1], "r") as f:
        X = f["X"][()].astype(np.float64)
        y = f["target"][()]
        runs = f["runs"][()]
    n_outer = sys.argv[2] if len(sys.argv) > 2 else "1"
    folds = list(LeaveOneGroupOut().split(X, y, runs))
    todo = folds if n_outer == "all" else folds[: int(n_outer)]
    t0, c0 = time.perf_counter(), time.process_time()
    r2, cs = [], []
    for tr, te in todo:
        pipe = Pipeline([("scale", StandardScaler()),
                         ("screen", SelectPercentile(f_regression, percentile=20)),
                         ("svr", SVR(kernel="linear", max_iter=10000))])
        gs = GridSearchCV(pipe, {"svr__C": [1.0, 10.0, 100.0]}, scoring="r2",
                          cv=LeaveOneGroupOut(), n_jobs=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gs.fit(X[tr], y[tr], groups=runs[tr])
        r2.append(r2_score(y[te], gs.predict(X[te])))
        cs.append(gs.best_params_["svr__C"])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    scale = len(folds) / len(todo)
    print(f"sklearn svr nested: {len(todo)} of {len(folds)} outer folds in {wall:.1f} s wall, "
          f"{cpu:.1f} s CPU; all folds: cpu {cpu * scale:.1f} (x {scale:g}); "
          f"r2 of the folds timed {' '.join(f'{v:.4f}' for v in r2)}, C {cs}")


if __name__ == "__main__":
    main()
