#!/usr/bin/python3
"""clean_nilearn.py DATASET [options] - is nidec's cleaned matrix nilearn's?

nilearn is not installable here (Debian has no package), so this script
re-implements, with numpy and scipy only (nibabel reads the files), what
nilearn 0.13's maskers do with these parameters, step by step as its source
reads (docs/NILEARN.md "Signal cleaning"):

  smoothing  nilearn.image._smooth_array: the image array as nibabel's
             dataobj gives it, integers (not int64) made float32, non-finite
             set to 0, scipy.ndimage.gaussian_filter1d in place on axes 0,
             1, 2 with sigma = fwhm / (sqrt(8 ln 2) * |affine[:3, axis]|);
  masking    data[mask].T (C order over i, j, k);
  clean      nilearn.signal.clean per run (runs=) or on the selected
             volumes as one series (compat: nilearn's Decoder): the column
             means m0; detrend (mean and the normalised time index removed)
             of signals and confounds; scipy.signal.butter(5, ...,
             output='sos') + sosfiltfilt (default padding) of both;
             confounds z-scored (ddof 0; std < eps -> 1) or divided by their
             largest |value|; scipy.linalg.qr(pivoting=True), columns with
             |R_jj| > 100 eps; signals -= Q Q^T signals; standardize
             (zscore ddof 0, zscore_sample ddof 1, psc) of signals (+ m0
             when filtered, or detrended under psc);
  confounds  nilearn.interfaces.fmriprep.load_confounds: the presets'
             columns, n/a of the first row <- the second row, demeaned;
  masks      nilearn.masking.compute_epi_mask / compute_background_mask
             (defaults) from the mean image of every volume (--check-mask).

Every step here is float64 (nilearn runs the detrend of float32 data in
float32: a difference at float32 rounding, below the tolerance).  The
dataset's rows (/X) are compared with the reference's selected rows: the
largest |difference| beyond float32 storage (half a float32 spacing of the
value: the dataset stores float32, so a voxel of mean 2000 and standard
deviation 5 cannot agree better than 6e-5 / 5 = 1.2e-5 of its std) divided
by the voxel's standard deviation over those rows must be <= --tol (1e-5);
the raw largest difference is printed too.  Prints "ok: ..." and exits 0, or the worst
voxel and 1.
"""
import argparse
import fnmatch
import glob
import json
import os
import re
import sys

import h5py
import nibabel as nib
import numpy as np
import scipy.linalg
import scipy.ndimage as nd
import scipy.signal as sg

EPS = np.finfo(np.float64).eps


def natural(s):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def files(pattern):
    out = sorted(glob.glob(pattern), key=natural) if any(c in pattern for c in "*?[") else [pattern]
    if not out:
        sys.exit(f"no file matches {pattern}")
    return out


def image_array(img):
    """nilearn: np.asanyarray(img.dataobj), then _smooth_array's dtype rule."""
    a = img.raw if hasattr(img, "raw") else np.asanyarray(img.dataobj)
    if a.dtype.kind == "i":
        a = a.astype(np.float64 if a.dtype == np.int64 else np.float32)
    elif a.dtype.kind == "u":
        a = a.astype(np.float32)
    return np.array(a, copy=True)


def smooth(a, affine, fwhm):
    a[~np.isfinite(a)] = 0
    if not fwhm:
        return a
    vox = np.sqrt(np.sum(affine[:3, :3] ** 2, axis=0))
    sigma = fwhm / (np.sqrt(8 * np.log(2)) * vox)
    for n, s in enumerate(sigma):
        if s > 0:
            nd.gaussian_filter1d(a, s, output=a, axis=n)
    return a


def detrend(s):
    s = s - s.mean(axis=0)
    r = np.arange(s.shape[0], dtype=np.float64)
    r -= r.mean()
    norm = np.sqrt((r ** 2).sum())
    if not norm < EPS:
        r /= norm
    return s - np.outer(r, r @ s)


def standardize(s, how):
    if how == "none" or s.shape[0] == 1:
        return s
    if how == "psc":
        m = s.mean(axis=0)
        bad = np.abs(m) < EPS
        out = (s - m) / np.abs(np.where(bad, 1, m)) * 100
        out[:, bad] = 0
        return out
    s = s - s.mean(axis=0)
    sd = s.std(axis=0, ddof=1 if how == "zscore_sample" else 0)
    sd[sd < EPS] = 1
    return s / sd


def clean(s, c, a):
    """nilearn.signal.clean on one series (runs=None)."""
    s = s.astype(np.float64)
    m0 = s.mean(axis=0)
    filt = a.high_pass is not None or a.low_pass is not None
    if a.detrend:
        s = detrend(s)
        if c is not None:
            c = detrend(c)
    if filt:
        fs = 1.0 / a.t_r
        if a.high_pass is not None and a.low_pass is not None:
            sos = sg.butter(5, [a.high_pass, a.low_pass], "bandpass", output="sos", fs=fs)
        elif a.high_pass is not None:
            sos = sg.butter(5, a.high_pass, "highpass", output="sos", fs=fs)
        else:
            sos = sg.butter(5, a.low_pass, "lowpass", output="sos", fs=fs)
        s = sg.sosfiltfilt(sos, s, axis=0)
        if c is not None:
            c = sg.sosfiltfilt(sos, c, axis=0)
    if c is not None:
        if a.standardize_confounds:
            c = standardize(c, "zscore")
        else:
            mx = np.max(np.abs(c), axis=0)
            mx[mx == 0] = 1
            c = c / mx
        Q, R, _ = scipy.linalg.qr(c, mode="economic", pivoting=True)
        Q = Q[:, np.abs(np.diag(R)) > EPS * 100.0]
        s = s - Q @ (Q.T @ s)
    if (a.detrend and a.standardize == "psc") or filt:
        s = s + m0
    return standardize(s, a.standardize)


SUFFIXES = {"basic": [], "derivatives": ["derivative1"], "power2": ["power2"],
            "full": ["derivative1", "power2", "derivative1_power2"]}


def load_confounds(tsv, cols, strategy):
    with open(tsv) as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    table = {h: np.array([np.nan if r[i] in ("n/a", "", "NaN", "nan") else float(r[i]) for r in rows])
             for i, h in enumerate(header)}
    chosen = []

    def add(name):
        if name not in chosen:
            chosen.append(name)

    for item in strategy:
        parts = item.split(":")
        name = parts[0]
        if name in ("motion", "wm_csf", "global_signal"):
            base = {"motion": ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"],
                    "wm_csf": ["csf", "white_matter"], "global_signal": ["global_signal"]}[name]
            level = parts[1] if len(parts) > 1 else ("full" if name == "motion" else "basic")
            for b in base:
                add(b)
            for b in base:
                for suf in SUFFIXES[level]:
                    add(f"{b}_{suf}")
        elif name == "high_pass":
            for h in header:
                if "cosine" in h:
                    add(h)
        elif name == "compcor":
            method = parts[1] if len(parts) > 1 else "anat_combined"
            n = parts[2] if len(parts) > 2 else "all"
            meta = json.load(open(tsv[:-4] + ".json"))
            kind, _, mask = method.rpartition("_") if "_" in method else (method, "", None)
            prefixes = {"temporal_anat": "ta", "temporal": "t", "anat": "a"}[kind]
            for p in prefixes:
                count = sum(1 for k in meta if f"{p}_comp_cor" in k)
                names = [f"{p}_comp_cor_{i:02d}" for i in range(count)]
                if p == "a" and mask:
                    for m in (["combined"] if mask == "combined" else ["WM", "CSF"]):
                        sel = [x for x in names if meta.get(x, {}).get("Mask") == m]
                        for x in (sel if n == "all" else sel[:int(n)]):
                            add(x)
                else:
                    for x in (names if n == "all" else names[:int(n)]):
                        add(x)
    for pat in cols:
        for h in header:
            if fnmatch.fnmatchcase(h, pat) if any(ch in pat for ch in "*?[") else h == pat:
                add(h)
    c = np.column_stack([table[h] for h in chosen])
    nan0 = np.isnan(c[0])
    c[0, nan0] = c[1, nan0]
    return c - c.mean(axis=0), chosen


def compute_epi_mask(mean):
    """nilearn.masking.compute_epi_mask(defaults) on the mean image [x, y, z]."""
    nan = np.isnan(mean)
    m = mean.copy()
    m[~np.isfinite(m)] = 0
    sigma = 1.0 / np.sqrt(8 * np.log(2))
    for n in range(3):
        nd.gaussian_filter1d(m, sigma, output=m, axis=n)
    m[nan] = np.nan
    m[~np.isfinite(m)] = 0
    s = np.sort(m.ravel())
    lo = int(np.floor(0.2 * len(s)))
    hi = min(int(np.floor(0.85 * len(s))), len(s) - 1)
    delta = s[lo + 1:hi + 1] - s[lo:hi]
    ia = delta.argmax()
    thr = 0.5 * (s[ia + lo] + s[ia + lo + 1])
    mask = m >= thr
    mask = nd.binary_erosion(mask, iterations=2)
    if not mask.any():
        return mask
    labels, n = nd.label(mask)
    if n > 1:
        count = np.bincount(labels.ravel())
        count[0] = 0
        mask = labels == count.argmax()
    mask = nd.binary_dilation(mask, iterations=4)
    return nd.binary_erosion(mask, iterations=2)


def compute_background_mask(mean):
    b = 2
    border = np.concatenate([mean[:b].ravel(), mean[-b:].ravel(), mean[:, :b].ravel(),
                             mean[:, -b:].ravel(), mean[:, :, :b].ravel(), mean[:, :, -b:].ravel()])
    if np.isnan(border).any():
        return ~np.isnan(mean)
    return mean != np.median(border)


def parser():
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("--bold", help="one 4D file or a glob of per-run files")
    ap.add_argument("--labels", help="labels table: its chunks are the runs of a single 4D file")
    ap.add_argument("--mask", nargs="*", default=[], help="mask(s); several are intersected")
    ap.add_argument("--mask-strategy", choices=["epi", "background"])
    ap.add_argument("--check-mask", help="nidec's computed mask file: must equal the reference")
    ap.add_argument("--confounds", help="glob of per-run confounds TSVs")
    ap.add_argument("--confound-cols", default="")
    ap.add_argument("--strategy", default="")
    ap.add_argument("--smoothing", type=float)
    ap.add_argument("--detrend", action="store_true")
    ap.add_argument("--high-pass", type=float)
    ap.add_argument("--low-pass", type=float)
    ap.add_argument("--t-r", type=float)
    ap.add_argument("--standardize", default="none")
    ap.add_argument("--no-standardize-confounds", dest="standardize_confounds", action="store_false")
    ap.add_argument("--compat", action="store_true", help="the selected volumes as one series")
    ap.add_argument("--tol", type=float, default=1e-5)
    ap.add_argument("--batch", action="store_true",
                    help="DATASET is a file of cases, one a line: DATASET OPTIONS... (the images read once)")
    return ap


CACHE = {}


def load(path):
    if path not in CACHE:
        img = nib.load(path)
        img.raw = np.asanyarray(img.dataobj)  # read once for every case
        CACHE[path] = img
    return CACHE[path]


class Fail(Exception):
    pass


def check(a):
    """One case; returns the "ok: ..." line or raises Fail."""
    bolds = files(a.bold)
    imgs = [load(f) for f in bolds]
    affine = imgs[0].affine
    if a.t_r is None:
        a.t_r = float(imgs[0].header.get_zooms()[3])
    f = h5py.File(a.dataset, "r")
    X = f["X"][()].astype(np.float64)
    runs_ds, vols_ds = f["runs"][()], f["volumes"][()]
    # the global index (in the concatenated series) of each dataset row
    sizes = [im.shape[3] for im in imgs]
    offs = np.concatenate([[0], np.cumsum(sizes)])
    if len(bolds) == 1:
        rows = vols_ds.astype(int)
    else:
        rows = np.array([offs[r] + v for r, v in zip(runs_ds, vols_ds)])
    # runs of the series: the labels table's chunks, else one per file
    if a.labels:
        with open(a.labels) as fh:
            hdr = fh.readline().split()
            chunks = [line.split()[hdr.index("chunks")] for line in fh if line.strip()]
        uniq = {c: i for i, c in enumerate(dict.fromkeys(chunks))}
        series_run = np.array([uniq[c] for c in chunks])
    else:
        series_run = np.concatenate([np.full(n, i) for i, n in enumerate(sizes)])
    # mask
    if a.mask_strategy:
        allv = np.concatenate([im.raw.astype(np.float64) for im in imgs], axis=3)
        sel = rows if a.compat else np.arange(allv.shape[3])
        mean = allv[..., sel].mean(axis=-1)
        mask = compute_epi_mask(mean) if a.mask_strategy == "epi" else compute_background_mask(mean)
        if a.check_mask:
            got = np.asanyarray(nib.load(a.check_mask).dataobj) != 0
            if not np.array_equal(got, mask):
                raise Fail(f"FAIL: computed mask differs in {np.sum(got != mask)} voxels "
                         f"(nidec {got.sum()}, reference {mask.sum()})")
        del allv
    else:
        mask = np.ones(imgs[0].shape[:3], bool)
        for m in a.mask:
            mask &= np.asanyarray(nib.load(m).dataobj) != 0
    ijk = np.argwhere(mask)
    if not np.array_equal(ijk, f["mask/ijk"][()]):
        raise Fail(f"FAIL: mask voxels differ ({len(ijk)} reference, {len(f['mask/ijk'])} nidec)")
    # smoothing, masking: the whole series (t x p)
    series = np.concatenate([smooth(image_array(im), affine, a.smoothing)[mask].T for im in imgs])
    conf = None
    names = []
    if a.confound_cols or a.strategy:
        cols = [c for c in a.confound_cols.split(",") if c]
        strat = [s for s in a.strategy.split(",") if s]
        parts = [load_confounds(t, cols, strat) for t in files(a.confounds)]
        conf = np.concatenate([p[0] for p in parts])
        names = parts[0][1]
    if a.compat:
        ref = clean(series[rows], None if conf is None else conf[rows], a)
    else:
        out = np.empty_like(series, dtype=np.float64)
        for r in np.unique(series_run):
            idx = np.flatnonzero(series_run == r)
            out[idx] = clean(series[idx], None if conf is None else conf[idx], a)
        ref = out[rows]
    if ref.shape != X.shape:
        raise Fail(f"FAIL: shape {X.shape}, reference {ref.shape}")
    sd = ref.std(axis=0)
    sd[sd == 0] = 1
    raw = np.abs(X - ref) / sd
    # the dataset stores float32: half a float32 spacing of the value is
    # storage rounding, not disagreement; the test is on what is beyond it
    half_ulp = 0.5 * np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    err = np.maximum(np.abs(X - ref) - half_ulp, 0) / sd
    worst = np.unravel_index(np.argmax(err), err.shape)
    if "confound_columns" in f.attrs:
        got_names = [x.decode() if isinstance(x, bytes) else x for x in f.attrs["confound_columns"]]
        if got_names != names:
            raise Fail(f"FAIL: confound columns {got_names}, reference {names}")
    if err.max() > a.tol:
        raise Fail(f"FAIL: max error {err.max():.3g} of the voxel's std at row {worst[0]}, voxel {worst[1]} "
                 f"(nidec {X[worst]:.9g}, reference {ref[worst]:.9g})")
    return (f"ok: {X.shape[0]} x {X.shape[1]}, max error {raw.max():.3g} of a voxel's std "
            f"({err.max():.3g} beyond float32 storage rounding)"
            f"{', ' + str(len(names)) + ' confounds' if names else ''}")


def main():
    import shlex
    a = parser().parse_args()
    cases = [a] if not a.batch else \
        [parser().parse_args(shlex.split(line)) for line in open(a.dataset) if line.strip()]
    bad = 0
    for c in cases:
        try:
            print(f"{c.dataset}: {check(c)}" if a.batch else check(c))
        except Fail as e:
            print(f"{c.dataset}: {e}", file=sys.stderr)
            bad += 1
    if bad:
        sys.exit(1)



if __name__ == "__main__":
    main()
