#!/usr/bin/python3
"""same_outputs.py A B - are two output directories of `nidec run` or
`nidec searchlight` the same result?  Used by the permutation, checkpoint
and resume tests (t15xx, t1720).

 - every *.tsv and *.nii.gz of A exists in B and is byte-identical;
 - model.h5 (when A has one: a searchlight writes none) and results.h5:
   every dataset equal bit for bit (h5py), except results.h5's /ledger (the ledger records results in arrival order, which
   depends on the schedule);
 - summary.json: equal once "provenance" and "timing" are removed (they
   record the command line, e.g. --resume, and the rank count).
Exit status 0 when the same, 1 with the differences on stderr.
"""
import glob
import json
import os
import sys

import h5py
import numpy as np


def h5_datasets(path, skip=()):
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and not any(name.startswith(s) for s in skip):
            out[name] = obj[()]

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return out


def same_arrays(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "f":
        return a.tobytes() == b.tobytes()
    return np.array_equal(a, b)


def main():
    a, b = sys.argv[1], sys.argv[2]
    bad = []
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(a, "*.tsv")) +
                   glob.glob(os.path.join(a, "*.nii.gz")))
    if not names:
        bad.append(f"{a}: no outputs")
    for n in names:
        pb = os.path.join(b, n)
        if not os.path.exists(pb):
            bad.append(f"{n}: missing in {b}")
            continue
        with open(os.path.join(a, n), "rb") as fa, open(pb, "rb") as fb:
            if fa.read() != fb.read():
                bad.append(f"{n}: differs")
    for n, skip in (("model.h5", ()), ("results.h5", ("ledger",))):
        if not os.path.exists(os.path.join(a, n)):
            # a searchlight writes no model.h5
            if os.path.exists(os.path.join(b, n)):
                bad.append(f"{n}: in {b} only")
            continue
        da = h5_datasets(os.path.join(a, n), skip)
        db = h5_datasets(os.path.join(b, n), skip)
        if sorted(da) != sorted(db):
            bad.append(f"{n}: datasets {sorted(set(da) ^ set(db))} in one only")
        for k in sorted(set(da) & set(db)):
            if not same_arrays(da[k], db[k]):
                bad.append(f"{n}: /{k} differs")
    sa = json.load(open(os.path.join(a, "summary.json")))
    sb = json.load(open(os.path.join(b, "summary.json")))
    for s in (sa, sb):
        s.pop("provenance", None)
        s.pop("timing", None)
    if sa != sb:
        keys = sorted(k for k in set(sa) | set(sb) if sa.get(k) != sb.get(k))
        bad.append(f"summary.json: {keys} differ")
    for line in bad:
        print(f"same_outputs: {line}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
