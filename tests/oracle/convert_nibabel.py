#!/usr/bin/python3
"""Independent oracle for `nidec convert`: recompute a dataset with nibabel
and numpy and compare it with the HDF5 file nidec wrote (read with h5py).

    convert_nibabel.py DATASET.h5 --bold GLOB --mask FILE
        (--labels FILE | --events GLOB) [--conditions a,b] [--hrf-shift S]
        [--label-column labels] [--run-column chunks] [--expect-labels FILE]

Checks, exactly: /X (float32, value for value, what img.get_fdata(dtype=
float32) gives, masked with mask != 0 in C order, the mask resampled by
nearest neighbour when its grid differs), /labels, /runs, /volumes,
/conditions, /mask/ijk, /mask/dims; /mask/affine within 1e-6; /mean_epi,
the mean over time of each BOLD file then over the files (numpy's sums
run in another order: within 1e-6 relative, float32 rounding).
--expect-labels checks that the labels derived from events equal a labels
table row for row (the Haxby labels.txt).  Exit 0 and "ok" when all match.
Tools: Debian 12 python3-nibabel 5.0, python3-h5py 3.7, python3-numpy 1.24.
"""
import argparse
import glob
import re
import sys

import h5py
import nibabel as nib
import numpy as np


def natural_key(s):
    return [(0, int(t), len(t)) if t.isdigit() else (1, t, 0)
            for t in re.split(r'(\d+)', s) if t != '']


def expand(pattern):
    if any(c in pattern for c in '*?['):
        files = glob.glob(pattern)
        return sorted(files, key=natural_key)
    return [pattern]


def read_table(path, label_col, run_col):
    with open(path) as f:
        rows = [line.split() for line in f if line.strip()]
    head = rows[0]
    li, ri = head.index(label_col), head.index(run_col)
    labels = [r[li] for r in rows[1:]]
    runs_raw = [r[ri] for r in rows[1:]]
    try:
        vals = [int(x) for x in runs_raw]
        uniq = sorted(set(vals))
        runs = [uniq.index(v) for v in vals]
    except ValueError:
        uniq = sorted(set(runs_raw))
        runs = [uniq.index(v) for v in runs_raw]
    return labels, runs


def events_labels(path, n_vols, tr, shift):
    with open(path) as f:
        lines = [l.rstrip('\n').rstrip('\r') for l in f if l.strip()]
    head = lines[0].split('\t')
    io, idur, itt = head.index('onset'), head.index('duration'), head.index('trial_type')
    ev = []
    for l in lines[1:]:
        p = l.split('\t')
        tt = p[itt].strip()
        if tt in ('', 'n/a'):
            continue
        ev.append((float(p[io]), float(p[idur]), tt))
    out = []
    eps = 1e-4
    for i in range(n_vols):
        t = i * tr
        lab = 'rest'
        for on, dur, tt in ev:
            s = on + shift
            if s - eps <= t < s + dur - eps:
                lab = tt
                break
        out.append(lab)
    return out


def resample_nearest(mask_img, shape, affine):
    m = np.asarray(mask_img.get_fdata(dtype=np.float32))
    if m.ndim == 4:
        m = m[..., 0]
    M = np.linalg.inv(mask_img.affine).dot(affine)
    ii, jj, kk = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), np.arange(shape[2]),
                             indexing='ij')
    pts = np.stack([ii.ravel(), jj.ravel(), kk.ravel(), np.ones(ii.size)])
    q = M.dot(pts)[:3]
    q = np.floor(q + 0.5 + 1e-9).astype(np.int64)
    inside = np.all((q >= 0) & (q < np.array(m.shape)[:, None]), axis=0)
    out = np.zeros(ii.size, dtype=bool)
    out[inside] = m[q[0, inside], q[1, inside], q[2, inside]] != 0
    return out.reshape(shape)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('dataset')
    ap.add_argument('--bold', required=True)
    ap.add_argument('--mask', required=True)
    ap.add_argument('--labels')
    ap.add_argument('--events')
    ap.add_argument('--conditions', default='')
    ap.add_argument('--hrf-shift', type=float, default=0.0)
    ap.add_argument('--label-column', default='labels')
    ap.add_argument('--run-column', default='chunks')
    ap.add_argument('--expect-labels')
    a = ap.parse_args()

    bolds = expand(a.bold)
    imgs = [nib.load(b) for b in bolds]
    shape = imgs[0].shape[:3]
    affine = imgs[0].affine
    mask_img = nib.load(a.mask)
    if mask_img.shape[:3] == shape and np.allclose(mask_img.affine, affine, atol=1e-4, rtol=0):
        m = np.asarray(mask_img.get_fdata(dtype=np.float32))
        mask = (m[..., 0] if m.ndim == 4 else m) != 0
    else:
        mask = resample_nearest(mask_img, shape, affine)

    labels, runs, vols = [], [], []
    if a.labels:
        labels, runs = read_table(a.labels, a.label_column, a.run_column)
        for img in imgs:
            vols += list(range(img.shape[3]))
    else:
        evs = expand(a.events)
        assert len(evs) == len(bolds), (len(evs), len(bolds))
        for r, (img, e) in enumerate(zip(imgs, evs)):
            tr = float(img.header.get_zooms()[3])
            units = img.header.get_xyzt_units()[1]
            tr = tr / 1000.0 if units == 'msec' else tr / 1e6 if units == 'usec' else tr
            labels += events_labels(e, img.shape[3], tr, a.hrf_shift)
            runs += [r] * img.shape[3]
            vols += list(range(img.shape[3]))
    if a.expect_labels:
        want, want_runs = read_table(a.expect_labels, 'labels', 'chunks')
        assert labels == want, 'labels from events differ from %s' % a.expect_labels
        assert runs == want_runs, 'runs from events differ from %s' % a.expect_labels

    conds = [c.strip() for c in a.conditions.split(',') if c.strip()]
    keep = [i for i, l in enumerate(labels) if not conds or l in conds]
    rows = []
    run_means = []
    for img in imgs:
        data = img.get_fdata(dtype=np.float32)
        for t in range(img.shape[3]):
            rows.append(data[..., t][mask])
        run_means.append(data.astype(np.float64).mean(axis=3).astype(np.float32))
    X = np.array([rows[i] for i in keep], dtype=np.float32)
    mean_epi = np.mean(np.array(run_means, dtype=np.float64), axis=0).astype(np.float32)

    with h5py.File(a.dataset, 'r') as f:
        got = f['X'][()]
        assert got.dtype == np.float32, got.dtype
        assert got.shape == X.shape, (got.shape, X.shape)
        diff = np.flatnonzero(got.view(np.uint32) != X.view(np.uint32))
        assert diff.size == 0, 'X differs at %d cells, first %s: %r vs %r' % (
            diff.size, np.unravel_index(diff[0], X.shape), got.ravel()[diff[0]], X.ravel()[diff[0]])
        glabels = [s.decode() if isinstance(s, bytes) else s for s in f['labels'][()]]
        assert glabels == [labels[i] for i in keep], 'labels differ'
        assert list(f['runs'][()]) == [runs[i] for i in keep], 'runs differ'
        assert list(f['volumes'][()]) == [vols[i] for i in keep], 'volumes differ'
        gconds = [s.decode() if isinstance(s, bytes) else s for s in f['conditions'][()]]
        assert gconds == sorted(set(labels[i] for i in keep)), ('conditions', gconds)
        ijk = np.argwhere(mask)  # C order over (i, j, k)
        assert np.array_equal(f['mask/ijk'][()], ijk), 'mask/ijk differs'
        assert list(f['mask/dims'][()]) == list(shape), 'mask/dims differs'
        assert np.allclose(f['mask/affine'][()], affine, atol=1e-6, rtol=0), \
            ('affine', f['mask/affine'][()], affine)
        hdr = bytes(f['mask/nifti_header'][()])
        assert len(hdr) in (348, 540), len(hdr)
        got = f['mean_epi'][()]  # [z][y][x]: NIfTI order
        assert got.dtype == np.float32 and got.shape == tuple(shape[::-1]), (got.dtype, got.shape)
        assert np.allclose(got.T, mean_epi, rtol=1e-6, atol=1e-6 * np.abs(mean_epi).max()), \
            'mean_epi differs by up to %g' % np.abs(got.T - mean_epi).max()
    print('ok: %d x %d' % X.shape)
    return 0


if __name__ == '__main__':
    sys.exit(main())
