#!/usr/bin/python3
"""make_clean_reference.py - the scipy values embedded in
tests/unit/test_core_clean.c (run once; paste the output into the test).

Butterworth sections (scipy.signal.butter(5, ..., output='sos', fs)),
sosfiltfilt with its default padding, scipy.ndimage.gaussian_filter1d on a
float32 volume, and nilearn.signal.clean's steps (detrend, confound
projection with scipy.linalg.qr(pivoting=True)) re-implemented in numpy.
"""
import numpy as np
import scipy
import scipy.linalg
import scipy.ndimage as nd
import scipy.signal as sg


def arr(name, a, fmt="%.17g"):
    a = np.asarray(a, dtype=np.float64).ravel()
    body = ", ".join(fmt % v for v in a)
    print(f"static const double {name}[{a.size}] = {{ {body} }};")


print(f"/* made by tests/unit/make_clean_reference.py with scipy {scipy.__version__}, "
      f"numpy {np.__version__} */")
fs = 1 / 2.5
for name, kw in (("hp", dict(N=5, Wn=0.01, btype="highpass")),
                 ("lp", dict(N=5, Wn=0.1, btype="lowpass")),
                 ("bp", dict(N=5, Wn=[0.01, 0.1], btype="bandpass"))):
    sos = sg.butter(output="sos", fs=fs, **kw)
    arr(f"sos_{name}", sos)
n = 40
t = np.arange(n, dtype=np.float64)
x = np.sin(0.3 * t) + 0.01 * t * t - 0.5 * np.cos(1.7 * t)
arr("sig_x", x)
for name, kw in (("hp", dict(N=5, Wn=0.01, btype="highpass")),
                 ("bp", dict(N=5, Wn=[0.01, 0.1], btype="bandpass"))):
    sos = sg.butter(output="sos", fs=fs, **kw)
    arr(f"filt_{name}", sg.sosfiltfilt(sos, x))
# the shortest series the high-pass accepts (padlen 18: 19 samples)
arr("filt_hp19", sg.sosfiltfilt(sg.butter(5, 0.01, "highpass", output="sos", fs=fs), x[:19]))

# nilearn.signal.clean(x, detrend, high_pass, confounds, standardize) on 3 columns
rng = np.random.RandomState(0)
X = np.column_stack([x, 2 * x[::-1] + 3, rng.randn(n) + 0.05 * t])
C = np.column_stack([np.cos(0.2 * t), t % 5, rng.randn(n)])
arr("clean_X", X)
arr("clean_C", C)


def detrend(s):
    s = s - s.mean(axis=0)
    r = np.arange(s.shape[0], dtype=np.float64)
    r -= r.mean()
    r /= np.sqrt((r ** 2).sum())
    return s - np.outer(r, r @ s)


def zscore(s, ddof):
    s = s - s.mean(axis=0)
    sd = s.std(axis=0, ddof=ddof)
    sd[sd < np.finfo(np.float64).eps] = 1
    return s / sd


def clean(X, C, det, hp, std):
    m0 = X.mean(axis=0)
    s = X.copy()
    c = C.copy()
    if det:
        s, c = detrend(s), detrend(c)
    filt = hp is not None
    if filt:
        sos = sg.butter(5, hp, "highpass", output="sos", fs=fs)
        s, c = sg.sosfiltfilt(sos, s, axis=0), sg.sosfiltfilt(sos, c, axis=0)
    c = zscore(c, 0)
    Q, R, _ = scipy.linalg.qr(c, mode="economic", pivoting=True)
    Q = Q[:, np.abs(np.diag(R)) > np.finfo(np.float64).eps * 100.0]
    s = s - Q @ (Q.T @ s)
    if filt:
        s = s + m0
    return zscore(s, 1) if std else s


arr("clean_det_hp_std", clean(X, C, True, 0.01, True))
arr("clean_proj", clean(X, C, False, None, False))

# gaussian_filter1d on a float32 volume, axes 0, 1, 2 in turn (nilearn's
# _smooth_array); sigma from a 6 mm FWHM on 3 x 3.5 x 4 mm voxels
vol = (rng.rand(7, 5, 3) * 1000).astype(np.float32)
sig = 6.0 / (np.sqrt(8 * np.log(2)) * np.array([3.0, 3.5, 4.0]))
out = vol.copy()
for a, s in enumerate(sig):
    nd.gaussian_filter1d(out, s, output=out, axis=a)
# C order [x][y][z] -> NIfTI order (x fastest)
arr("vol_in", vol.transpose(2, 1, 0))
arr("vol_out", out.transpose(2, 1, 0))
arr("kernel_w", nd._filters._gaussian_kernel1d(sig[0], 0, int(4 * sig[0] + 0.5))[int(4 * sig[0] + 0.5):])
