#!/usr/bin/python3
"""outputs_equal.py A B [--except FILE...] - are two trees of nidec outputs
the same, file for file?  Used by tests/compare/revisions.sh to compare an
old and a new build on the same inputs.

 - every file of A exists in B and every file of B in A (sub-directories too);
 - *.h5: the same groups, datasets (values bit for bit, dtype, shape) and
   attributes, except the attribute `created` (the conversion's clock time)
   and results.h5's /ledger: the checkpoint records carry each task's wall
   time and arrive in schedule order, so no two runs share them;
 - results.ledger (an unfinished run's checkpoint): skipped, as /ledger;
 - report.html: byte for byte once the conversion time and the size and
   SHA-256 of dataset.h5 and results.h5 (which hold that time or the
   ledger) are masked, and a row for results.ledger dropped (the old sweep
   listed the checkpoint it removed right after; the job driver draws the
   report once the checkpoint is gone, as `nidec run` always did);
 - every other file (TSV, JSON, NIfTI, text): byte for byte.
Both builds must carry the same version string (revisions.sh builds both
with GIT_VERSION=compare), so provenance compares too.
--except NAME: a file name (basename) deliberately changed; reported, not
compared.  Exit status 0 when the same, 1 with each difference on stderr.
"""
import argparse
import os
import re
import sys

import h5py
import numpy as np


def files(root):
    out = set()
    for d, _, names in os.walk(root):
        for n in names:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def mask_report(text):
    text = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"<time>", text)
    text = re.sub(rb"<tr>\s*<td>results\.ledger</td>.*?</tr>\s*", b"", text, flags=re.S)
    return re.sub(rb"(<td>(?:dataset|results)\.h5</td>\s*<td>)\d+(</td>\s*<td class=\"hash\">)[0-9a-f]{64}",
                  rb"\1<size>\2<sha256>", text)


def h5_items(path):
    items = {}

    def attrs(name, obj):
        for k, v in obj.attrs.items():
            if k != "created":
                items[f"{name}@{k}"] = v

    def visit(name, obj):
        if name.startswith("ledger"):
            return
        attrs(name, obj)
        if isinstance(obj, h5py.Dataset):
            items[name] = obj[()]
        else:
            items[name + "/"] = "group"

    with h5py.File(path, "r") as f:
        attrs("", f)
        f.visititems(visit)
    return items


def same(a, b):
    if isinstance(a, str) or isinstance(b, str) or isinstance(a, bytes):
        return a == b
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return a.tobytes() == b.tobytes()
    return bool(np.array_equal(a, b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--except", dest="excepts", nargs="*", default=[])
    o = ap.parse_args()
    bad = []
    fa, fb = files(o.a), files(o.b)
    for n in sorted(fa ^ fb):
        bad.append(f"{n}: only in {o.a if n in fa else o.b}")
    compared = 0
    for n in sorted(fa & fb):
        pa, pb = os.path.join(o.a, n), os.path.join(o.b, n)
        base = os.path.basename(n)
        if base in o.excepts:
            print(f"outputs_equal: {n}: deliberately changed, not compared", file=sys.stderr)
            continue
        if base == "results.ledger":
            continue
        compared += 1
        if n.endswith(".h5"):
            ia, ib = h5_items(pa), h5_items(pb)
            for k in sorted(set(ia) ^ set(ib)):
                bad.append(f"{n}: /{k} in one only")
            for k in sorted(set(ia) & set(ib)):
                if not same(ia[k], ib[k]):
                    bad.append(f"{n}: /{k} differs")
        else:
            with open(pa, "rb") as x, open(pb, "rb") as y:
                ta, tb = x.read(), y.read()
            if base == "report.html":
                ta, tb = mask_report(ta), mask_report(tb)
            if ta != tb:
                bad.append(f"{n}: differs")
    if not compared:
        bad.append(f"{o.a}: nothing to compare")
    for line in bad:
        print(f"outputs_equal: {line}", file=sys.stderr)
    print(f"outputs_equal: {o.a} vs {o.b}: {compared} files compared, "
          f"{len(bad)} difference{'s' if len(bad) != 1 else ''}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
