#!/usr/bin/python3
"""The scikit-learn oracle of nidec's regression (issue 18): within a
subject on the bundled Haxby slice (t1900) and across subjects on a set of
`nidec synth --across-subjects` (t1940).

    check_regression.py make DATA LABELS.tsv
        a labels table: the slice's labels and runs, plus a column `rating`
        = 0.4 x (z-scored voxels . w) + N(0, 1) with w sparse on 25
        voxels (seed 18), one row per volume.
    check_regression.py check DATA LABELS.tsv ESTIMATOR OUTDIR [C,C,... [--nilearn]]
        the slice's face and cat volumes, outer and inner LeaveOneGroupOut
        over the runs, StandardScaler and 20 % screening (t1900).
    check_regression.py across TABLE ESTIMATOR OUTDIR [options]
        a sample table of one 3D image per subject (path, subject, the
        target column `score`) and its DIR/mask.nii.gz; outer KFold
        (--folds, default 5) in table order; nidec's config must say
        label_column, run_column = subject, target_column = score and
        screening_percentile = --percentile.  Options: --grid C,C,...;
        --nilearn (compat = nilearn, below; else standardize = zscore,
        nested selection); --inner-folds K (svr's inner KFold, default 5:
        with one image per subject nidec's inner_scheme = auto is KFold).

Per outer fold it runs scikit-learn 1.2.1's pipeline: StandardScaler on
the training part + SelectPercentile(f_regression, percentile) + the
estimator (ridge: RidgeCV on nilearn's grid; lasso: LassoCV(n_alphas=30,
cv=5); svr: GridSearchCV(SVR(kernel='linear', epsilon=0.1, max_iter=
10000), nilearn's, stopped at the cap as nidec's are) over the C grid
(default 1, 10, 100) with the inner folds and r2;
svr-testfold: nilearn's selection of C on the outer test fold, the best
r2, the last C on ties; dummy_regressor), and compares with OUTDIR/
scores.tsv, predictions.tsv and weights_<target>.nii.gz.  --nilearn
re-implements nilearn's Decoder instead: every sample z-scored together in
float32 (ddof 1, std < eps -> 1, as nilearn.signal.clean), the screening
percentile rescaled by the mask volume (x 1882989 mm3 / volume, at most
100, truncated; no screening at 100 or with <= 100 voxels), svr's C chosen
on the outer test fold; ridge and svr see the float32 values as doubles
(scikit-learn converts them), lasso fits them in float32 as LassoCV does
under nilearn (its alpha compared to 1e-5, relative; the same in double,
as nidec computes, is printed too).

Tolerances (issue 18): r2 within 1e-6 for ridge and dummy_regressor, 1e-4
for svr and lasso; the chosen C / alpha the same in at least 95 % of the
folds; the fold-averaged weight map r >= 0.999.  Prints the measured
agreement.
"""
import csv
import json
import math
import os
import sys
import warnings

import nibabel as nib
import numpy as np
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectPercentile, f_regression
from sklearn.linear_model import LassoCV, RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold, LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVR

ALPHAS = np.geomspace(1e-3, 1e4, 8)
MNI152_BRAIN_VOLUME_MM3 = 1882989.0


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


def nilearn_zscore(X):
    """nilearn.signal.clean(standardize='zscore_sample') on float32 samples."""
    s = X.astype(np.float32)
    s = s - s.mean(axis=0)
    sd = s.std(axis=0, ddof=1)
    sd[sd < np.finfo(np.float64).eps] = 1
    return s / sd


def nilearn_percentile(pct, p, voxel_mm3):
    """nilearn's adjust_screening_percentile then int(); 100 = none."""
    if pct >= 100 or p <= 100:
        return 100
    return math.floor(min(pct * MNI152_BRAIN_VOLUME_MM3 / (voxel_mm3 * p), 100.0))


def oracle(X, y, mask, splits, inner, est, out, grid, percentile, nilearn=False, max_iter=10000):
    """Fold by fold against OUTDIR; returns the printed line."""
    grid = [float(c) for c in grid.split(",")]
    target = json.load(open(f"{out}/summary.json"))["target"]
    ours = {int(r["fold"]): r for r in csv.DictReader(open(f"{out}/scores.tsv"), delimiter="\t")}
    pred = list(csv.DictReader(open(f"{out}/predictions.tsv"), delimiter="\t"))
    coefs, same, n_folds, d_max, d_inner, d_double = [], 0, 0, 0.0, 0.0, np.nan
    if nilearn:
        # standardised once, before the split; the pipeline only screens
        X = nilearn_zscore(X)
        steps = [FunctionTransformer()]
        if percentile < 100:
            steps.append(SelectPercentile(f_regression, percentile=percentile))
    else:
        steps = [StandardScaler(), SelectPercentile(f_regression, percentile=percentile)]
    if est == "svr" and nilearn:
        est = "svr-testfold"
    # nilearn's lasso fits the float32 values as they are (LassoCV keeps
    # float32): its path's alphas agree to float32 rounding
    rel = 1e-5 if nilearn and est == "lasso" else 1e-12
    if nilearn and est == "lasso":
        d_double = 0.0
    for f, (tr, te) in enumerate(splits):
        inner_score = np.nan
        if est == "ridge":
            pipe = make_pipeline(*steps, RidgeCV(alphas=ALPHAS)).fit(X[tr], y[tr])
            par = pipe[-1].alpha_
        elif est == "lasso":
            pipe = make_pipeline(*steps, LassoCV(n_alphas=30, cv=5)).fit(X[tr], y[tr])
            par = pipe[-1].alpha_
            if nilearn:
                # the same in double, as nidec computes: how much is float32's
                X64 = X.astype(np.float64)
                p64 = make_pipeline(*steps, LassoCV(n_alphas=30, cv=5)).fit(X64[tr], y[tr])
                d_double = max(d_double, abs(float(ours[f]["score"]) - r2_score(y[te], p64.predict(X64[te]))))
        elif est == "svr-testfold":
            # nilearn's selection: every C fitted on the training part and
            # scored on the test fold, the best kept (ties: the last C)
            best = None
            for c in grid:
                pc = make_pipeline(*steps, SVR(kernel="linear", epsilon=0.1, C=c, max_iter=max_iter))
                pc.fit(X[tr], y[tr])
                sc = r2_score(y[te], pc.predict(X[te]))
                if best is None or sc >= best[0]:
                    best = (sc, c, pc)
            pipe, par = best[2], best[1]
        elif est == "svr":
            gs = GridSearchCV(make_pipeline(*steps, SVR(kernel="linear", epsilon=0.1, max_iter=max_iter)),
                              {"svr__C": grid}, cv=inner[0], scoring="r2")
            gs.fit(X[tr], y[tr], groups=inner[1][tr] if inner[1] is not None else None)
            pipe, par, inner_score = gs.best_estimator_, gs.best_params_["svr__C"], gs.best_score_
        else:
            pipe = make_pipeline(*steps, DummyRegressor()).fit(X[tr], y[tr])
            par = np.nan
        r2 = r2_score(y[te], pipe.predict(X[te]))
        o = ours.get(f)
        if o is None:
            fail(f"fold {f} missing from {out}/scores.tsv")
        d_max = max(d_max, abs(float(o["score"]) - r2))
        n_folds += 1
        ours_par = float(o["C"])
        same += (np.isnan(par) and np.isnan(ours_par)) or abs(ours_par - par) <= rel * abs(par)
        if not np.isnan(inner_score):
            d_inner = max(d_inner, abs(float(o["inner_score"]) - inner_score))
        # this fold's predictions: the same samples and targets
        t = np.array([float(r["true"]) for r in pred if int(r["fold"]) == f])
        if len(t) != len(te) or np.max(np.abs(t - y[te])) > 1e-12:
            fail(f"fold {f}: predictions.tsv holds other samples or targets")
        w = np.zeros(X.shape[1])
        if est != "dummy_regressor":
            keep = pipe[1].get_support() if len(pipe) > 2 else np.ones(X.shape[1], bool)
            w[keep] = np.ravel(pipe[-1].coef_)
        coefs.append(w)
    tol = 1e-6 if est in ("ridge", "dummy_regressor") else 1e-4
    est = "svr" if est == "svr-testfold" else est
    ref = np.mean(coefs, axis=0)
    ours_w = nib.load(f"{out}/weights_{target}.nii.gz").get_fdata()[mask]
    r = np.corrcoef(ours_w, ref)[0, 1] if est != "dummy_regressor" else 1.0
    line = (f"{est}{' (nilearn)' if nilearn else ''}: {n_folds} folds, max |r2 - sklearn| = {d_max:.3g}, "
            f"same C/alpha in {same}/{n_folds}, max |inner - sklearn| = {d_inner:.3g}, weight map r = {r:.7f} "
            f"(1 - r = {1 - r:.2g})")
    if not np.isnan(d_double):
        line += f" (max |r2 - LassoCV in double| = {d_double:.3g})"
    print(line)
    if d_max > tol:
        fail(f"{est}: r2 differs from scikit-learn by {d_max:.3g} > {tol:g}")
    if d_inner > tol:
        fail(f"{est}: inner score differs from scikit-learn by {d_inner:.3g} > {tol:g}")
    if same < 0.95 * n_folds:
        fail(f"{est}: the same C/alpha in only {same} of {n_folds} folds")
    if not r >= 0.999:
        fail(f"{est}: weight map r = {r} < 0.999")


def check(data, table, est, out, grid="1,10,100", nilearn=None):
    X, mask, affine, labels, runs = load(data)
    y = np.array([float(l.split()[2]) for l in list(open(table))[1:]])
    keep = np.array([lab in ("face", "cat") for lab in labels])
    X, y, runs = X[keep], y[keep], runs[keep]
    splits = list(LeaveOneGroupOut().split(X, y, runs))
    pct = 20
    if nilearn:
        pct = nilearn_percentile(pct, X.shape[1], abs(np.linalg.det(affine[:3, :3])))
    oracle(X, y, mask, splits, (LeaveOneGroupOut(), runs), est, out, grid, pct, nilearn == "--nilearn")


def across(table, est, out, *opts):
    o = {"--grid": "1,10,100", "--folds": "5", "--inner-folds": "5", "--percentile": "20"}
    args = list(opts)
    nilearn = "--nilearn" in args
    if nilearn:
        args.remove("--nilearn")
    for k, v in zip(args[::2], args[1::2]):
        if k not in o:
            fail(f"unknown option {k}")
        o[k] = v
    d = os.path.dirname(os.path.abspath(table))
    m_img = nib.load(f"{d}/mask.nii.gz")
    mask = np.asanyarray(m_img.dataobj) != 0
    rows = list(csv.DictReader(open(table), delimiter="\t"))
    X = np.array([nib.load(os.path.join(d, r["path"])).get_fdata(dtype=np.float32)[mask]
                  for r in rows]).astype(np.float64)
    y = np.array([float(r["score"]) for r in rows])
    splits = list(KFold(int(o["--folds"])).split(X))
    pct = float(o["--percentile"])
    if nilearn:
        pct = nilearn_percentile(pct, X.shape[1], abs(np.linalg.det(m_img.affine[:3, :3])))
    oracle(X, y, mask, splits, (KFold(int(o["--inner-folds"])), None), est, out, o["--grid"], pct, nilearn)


if sys.argv[1] == "make":
    make(sys.argv[2], sys.argv[3])
elif sys.argv[1] == "across":
    across(*sys.argv[2:])
else:
    check(*sys.argv[2:8])
