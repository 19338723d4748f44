#!/usr/bin/python3
"""The scikit-learn oracle of nidec's regression (issue 18), on the bundled
Haxby slice with a synthetic target (tests/e2e/t1900-regression-sklearn.sh).

    check_regression.py make DATA LABELS.tsv
        a labels table: the slice's labels and runs, plus a column `rating`
        = 0.4 x (z-scored voxels . w) + N(0, 1) with w sparse on 25
        voxels (seed 18), one row per volume.
    check_regression.py check DATA LABELS.tsv ESTIMATOR OUTDIR [C,C,...]
        runs, fold by fold (outer LeaveOneGroupOut over the runs of the face
        and cat volumes), scikit-learn 1.2.1's pipeline StandardScaler +
        SelectPercentile(f_regression, 20) + the estimator (ridge: RidgeCV
        on nilearn's grid; lasso: LassoCV(n_alphas=30, cv=5); svr:
        SVR(kernel='linear', max_iter=10000) as nilearn's, in a
        GridSearchCV over the C grid (default 1, 10, 100) with inner
        LeaveOneGroupOut and r2; svr-testfold: nilearn's selection of C on
        the outer test fold (the best r2, the last C on ties);
        dummy_regressor) and compares with OUTDIR/scores.tsv, predictions.tsv
        and weights_rating.nii.gz.  Prints the measured agreement.

Tolerances (issue 18): r2 within 1e-6 for ridge and dummy_regressor, 1e-4
for svr and lasso; the chosen C / alpha the same in at least 95 % of the
folds; the fold-averaged weight map r >= 0.999.
"""
import csv
import sys
import warnings

import nibabel as nib
import numpy as np
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectPercentile, f_regression
from sklearn.linear_model import LassoCV, RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR


# nilearn's SVR stops at max_iter = 10000 with this warning (nidec does too)
warnings.filterwarnings("ignore", category=ConvergenceWarning)


def fail(msg):
    print(f"check_regression: {msg}", file=sys.stderr)
    sys.exit(1)


def load(data):
    img = nib.load(f"{data}/bold.nii.gz")
    mask = nib.load(f"{data}/mask.nii.gz").get_fdata() > 0
    X = img.get_fdata(dtype=np.float32)[mask].T.astype(np.float64)
    rows = [l.split() for l in open(f"{data}/labels.txt")][1:]
    return X, mask, img.affine, [r[0] for r in rows], np.array([int(r[1]) for r in rows])


def make(data, out):
    X, _, _, labels, runs = load(data)
    rng = np.random.RandomState(18)
    w = np.zeros(X.shape[1])
    w[rng.choice(X.shape[1], 25, replace=False)] = rng.randn(25)
    Z = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1)
    t = 0.4 * (Z @ w) + rng.randn(X.shape[0])
    with open(out, "w") as f:
        f.write("labels chunks rating\n")
        for lab, run, v in zip(labels, runs, t):
            f.write(f"{lab} {run} {v:.17g}\n")


def check(data, table, est, out, grid="1,10,100"):
    X, mask, _, labels, runs = load(data)
    y = np.array([float(l.split()[2]) for l in list(open(table))[1:]])
    keep = np.array([lab in ("face", "cat") for lab in labels])
    X, y, runs = X[keep], y[keep], runs[keep]
    alphas = np.geomspace(1e-3, 1e4, 8)
    ours = {int(r["fold"]): r for r in csv.DictReader(open(f"{out}/scores.tsv"), delimiter="\t")}
    pred = list(csv.DictReader(open(f"{out}/predictions.tsv"), delimiter="\t"))
    coefs, same, n_folds, d_max, d_inner = [], 0, 0, 0.0, 0.0
    for f, (tr, te) in enumerate(LeaveOneGroupOut().split(X, y, runs)):
        steps = [StandardScaler(), SelectPercentile(f_regression, percentile=20)]
        inner = np.nan
        if est == "ridge":
            pipe = make_pipeline(*steps, RidgeCV(alphas=alphas)).fit(X[tr], y[tr])
            par = pipe[-1].alpha_
        elif est == "lasso":
            pipe = make_pipeline(*steps, LassoCV(n_alphas=30, cv=5)).fit(X[tr], y[tr])
            par = pipe[-1].alpha_
        elif est == "svr-testfold":
            # nilearn's selection: every C fitted on the training part and
            # scored on the test fold, the best kept (ties: the last C)
            best = None
            for c in [float(c) for c in grid.split(",")]:
                pc = make_pipeline(*steps, SVR(kernel="linear", epsilon=0.1, C=c, max_iter=10000)).fit(X[tr], y[tr])
                sc = r2_score(y[te], pc.predict(X[te]))
                if best is None or sc >= best[0]:
                    best = (sc, c, pc)
            pipe, par = best[2], best[1]
        elif est == "svr":
            gs = GridSearchCV(make_pipeline(*steps, SVR(kernel="linear", epsilon=0.1, max_iter=10000)),
                              {"svr__C": [float(c) for c in grid.split(",")]}, cv=LeaveOneGroupOut(), scoring="r2")
            gs.fit(X[tr], y[tr], groups=runs[tr])
            pipe, par, inner = gs.best_estimator_, gs.best_params_["svr__C"], gs.best_score_
        else:
            pipe = make_pipeline(*steps, DummyRegressor()).fit(X[tr], y[tr])
            par = np.nan
        yhat = pipe.predict(X[te])
        r2 = r2_score(y[te], yhat)
        o = ours.get(f)
        if o is None:
            fail(f"fold {f} missing from {out}/scores.tsv")
        d = abs(float(o["score"]) - r2)
        d_max = max(d_max, d)
        n_folds += 1
        ours_par = float(o["C"])
        same += (np.isnan(par) and np.isnan(ours_par)) or abs(ours_par - par) <= 1e-12 * abs(par)
        if not np.isnan(inner):
            d_inner = max(d_inner, abs(float(o["inner_score"]) - inner))
        # predictions of this fold, in sample order
        p = np.array([float(r["predicted"]) for r in pred if int(r["fold"]) == f])
        t = np.array([float(r["true"]) for r in pred if int(r["fold"]) == f])
        if len(p) != len(te) or np.max(np.abs(t - y[te])) > 1e-12:
            fail(f"fold {f}: predictions.tsv holds other samples or targets")
        w = np.zeros(X.shape[1])
        if est != "dummy_regressor":
            w[pipe[1].get_support()] = np.ravel(pipe[-1].coef_)
        coefs.append(w)
    tol = 1e-6 if est in ("ridge", "dummy_regressor") else 1e-4
    est = "svr" if est == "svr-testfold" else est
    ref = np.mean(coefs, axis=0)
    ours_w = nib.load(f"{out}/weights_rating.nii.gz").get_fdata()[mask]
    r = np.corrcoef(ours_w, ref)[0, 1] if est != "dummy_regressor" else 1.0
    print(f"{est}: {n_folds} folds, max |r2 - sklearn| = {d_max:.3g}, same C/alpha in {same}/{n_folds}, "
          f"max |inner - sklearn| = {d_inner:.3g}, weight map r = {r:.6f}")
    if d_max > tol:
        fail(f"{est}: r2 differs from scikit-learn by {d_max:.3g} > {tol:g}")
    if d_inner > tol:
        fail(f"{est}: inner score differs from scikit-learn by {d_inner:.3g} > {tol:g}")
    if same < 0.95 * n_folds:
        fail(f"{est}: the same C/alpha in only {same} of {n_folds} folds")
    if not r >= 0.999:
        fail(f"{est}: weight map r = {r} < 0.999")


if sys.argv[1] == "make":
    make(sys.argv[2], sys.argv[3])
else:
    check(*sys.argv[2:7])
