#!/usr/bin/python3
"""make_confounds.py OUT_DIR N_VOLUMES RUNS SEED - fMRIPrep-like confounds TSVs
for the bundled slice's per-run files (t0210): one
OUT_DIR/run-NN_desc-confounds_timeseries.tsv per run, with motion random
walks and their derivative1 / power2 / derivative1_power2 columns (n/a in
the first row of derivatives, as fMRIPrep writes them), csf, white_matter,
global_signal and two cosine regressors."""
import os
import sys

import numpy as np

out, n, runs, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
os.makedirs(out, exist_ok=True)
rng = np.random.RandomState(seed)
base = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z", "csf", "white_matter", "global_signal"]
for r in range(runs):
    cols, names = [], []
    for b in base:
        x = np.cumsum(rng.randn(n) * 0.05) if b.startswith(("trans", "rot")) else 500 + np.cumsum(rng.randn(n))
        d = np.concatenate([[np.nan], np.diff(x)])
        for suf, v in (("", x), ("_derivative1", d), ("_power2", x * x), ("_derivative1_power2", d * d)):
            names.append(b + suf)
            cols.append(v)
    t = np.arange(n)
    for k in (1, 2):
        names.append(f"cosine{k - 1:02d}")
        cols.append(np.sqrt(2.0 / n) * np.cos(np.pi * (2 * t + 1) * k / (2 * n)))
    with open(f"{out}/run-{r + 1:02d}_desc-confounds_timeseries.tsv", "w") as f:
        f.write("\t".join(names) + "\n")
        for i in range(n):
            f.write("\t".join("n/a" if np.isnan(c[i]) else repr(float(c[i])) for c in cols) + "\n")
