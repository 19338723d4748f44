#!/usr/bin/python3
"""decoder_clean_reference.py OUTDIR DATA FWHM HIGH_PASS T_R - nilearn's
Decoder with smoothing_fwhm, high_pass, t_r and standardize, on the bundled
slice, against `nidec run` with compat = nilearn (t1010).

nilearn cannot be installed here (not in Debian), so this is nilearn
0.13.1's Decoder as its source reads (docs/NILEARN.md, the semantics doc
sections 1-9) written with numpy, scipy and scikit-learn:

    Decoder(mask=MASK, smoothing_fwhm=FWHM, high_pass=HIGH_PASS, t_r=T_R,
            standardize="zscore_sample", screening_percentile=100,
            cv=LeaveOneGroupOut(), scoring="roc_auc").fit(face_cat_images, y, groups=runs)

  - masker.fit_transform(the face/cat images): nilearn.image._smooth_array
    on the int16 data made float32 (gaussian_filter1d per axis, in place),
    masked, then nilearn.signal.clean(runs=None, detrend=False,
    high_pass, t_r, standardize='zscore_sample'): the float32 means, the
    Butterworth order-5 sections with sosfiltfilt (float64 out), the means
    added back, z-scored with ddof 1 (std < eps -> 1) - one series, all
    selected volumes together (the Decoder gives its masker no runs);
  - LeaveOneGroupOut over the runs; per fold LinearSVC(penalty='l2',
    dual=True, max_iter=10000, tol=1e-4, C) for C in 1, 10, 100 on the +-1
    labels (+1 = face, the second class in sorted order), ROC AUC on the
    test fold, the last C among ties kept (>=); coef_ = the mean of the
    fold models.

Checks OUTDIR's scores.tsv (class face), chosen C (exact, scores to 1e-12:
AUC values are ratios of small integers) and weights_cat.nii.gz (= coef_,
nilearn's two-class bookkeeping): Pearson r >= 0.99999 and max |diff| <=
1e-4 of max |coef_| (liblinear stops at tol 1e-4).  Prints what matched.
"""
import csv
import sys

import nibabel as nib
import numpy as np
import scipy.ndimage as nd
import scipy.signal as sg
from sklearn.metrics import roc_auc_score
from sklearn.svm import LinearSVC

out, data, fwhm, hp, tr = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
img = nib.load(f"{data}/bold.nii.gz")
mask = np.asanyarray(nib.load(f"{data}/mask.nii.gz").dataobj) != 0
rows = [line.split() for line in open(f"{data}/labels.txt")][1:]
keep = np.array([r[0] in ("face", "cat") for r in rows])
y = np.array([1 if r[0] == "face" else -1 for r in rows])[keep]
runs = np.array([int(r[1]) for r in rows])[keep]

a = np.asanyarray(img.dataobj)[..., keep].astype(np.float32)
vox = np.sqrt(np.sum(img.affine[:3, :3] ** 2, axis=0))
for n, s in enumerate(fwhm / (np.sqrt(8 * np.log(2)) * vox)):
    if s > 0:
        nd.gaussian_filter1d(a, s, output=a, axis=n)
signals = a[mask].T                                   # float32, t x p
mean = signals.mean(axis=0)
sos = sg.butter(5, hp, "highpass", output="sos", fs=1.0 / tr)
s = sg.sosfiltfilt(sos, signals, axis=0) + mean
s = s - s.mean(axis=0)
sd = s.std(axis=0, ddof=1)
sd[sd < np.finfo(np.float64).eps] = 1
X = s / sd

np.random.seed(0)
scores, chosen, coefs = [], [], []
for r in np.unique(runs):
    tr_, te = runs != r, runs == r
    best = None
    for C in (1.0, 10.0, 100.0):
        m = LinearSVC(C=C, penalty="l2", loss="squared_hinge", dual=True, tol=1e-4, max_iter=10000)
        m.fit(X[tr_], y[tr_])
        sc = roc_auc_score(y[te], m.decision_function(X[te]))
        if best is None or sc >= best[0]:
            best = (sc, C, m.coef_.ravel().copy())
    scores.append(best[0])
    chosen.append(best[1])
    coefs.append(best[2])
coef = np.mean(coefs, axis=0)

got = [r for r in csv.DictReader(open(f"{out}/scores.tsv"), delimiter="\t") if r["class"] == "face"]
got.sort(key=lambda r: int(r["fold"]))
if len(got) != len(scores):
    sys.exit(f"FAIL: {len(got)} folds, reference {len(scores)}")
for f, (g, sc, C) in enumerate(zip(got, scores, chosen)):
    if abs(float(g["score"]) - sc) > 1e-12 or float(g["C"]) != C:
        sys.exit(f"FAIL: fold {f}: score {g['score']} C {g['C']}, reference {sc!r} C {C}")
w = np.asanyarray(nib.load(f"{out}/weights_cat.nii.gz").dataobj)[mask]
r = np.corrcoef(w, coef)[0, 1]
diff = np.max(np.abs(w - coef)) / np.max(np.abs(coef))
if r < 0.99999 or diff > 1e-4:
    sys.exit(f"FAIL: weights r = {r:.7f}, max |diff| = {diff:.2e} of max |coef|")
print(f"ok: {len(scores)} folds, scores and C identical (mean AUC {np.mean(scores):.5f}, "
      f"C {sorted(set(chosen))}); weights r = {r:.7f}, max |diff| {diff:.2e} of max |coef_|")
