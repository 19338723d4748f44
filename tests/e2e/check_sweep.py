#!/usr/bin/python3
"""tests/e2e/check_sweep.py - independent checks of `nidec sweep`'s group files.

    check_sweep.py group OUT            group_summary.json vs scipy.stats.ttest_1samp on
                                        the scores of group_scores.tsv, and the group
                                        permutation p-value recomputed from every
                                        subject's null_scores.tsv
    check_sweep.py tdist DRIVER         the Student-t / incomplete beta code (compiled
                                        into DRIVER from src/core/stats.c) vs
                                        scipy.special.betainc and scipy.stats.t

Prints "ok: ..." and exits 0, or prints what differs and exits 1.
Tolerances: 1e-10 relative (the C code is accurate to ~1e-13).
"""
import csv
import json
import math
import os
import subprocess
import sys

import numpy as np
from scipy import special, stats

RTOL = 1e-10


def close(a, b, rtol=RTOL):
    if a is None or b is None:
        return a is None and b is None
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= rtol * max(abs(a), abs(b), 1e-300)


def check_group(out):
    summ = json.load(open(os.path.join(out, "group_summary.json")))
    rows = list(csv.DictReader(open(os.path.join(out, "group_scores.tsv")), delimiter="\t"))
    bad = []
    chance = summ["chance"]
    classes = sorted({r["class"] for r in rows})
    if sorted(summ["classes"]) != classes:
        bad.append("classes %s vs %s" % (sorted(summ["classes"]), classes))
    ok_subjects = [s["subject"] for s in summ["subjects"] if s["status"] == "ok"]
    for c in classes:
        sc = [float(r["mean_score"]) for r in rows if r["class"] == c]
        subs = [r["subject"] for r in rows if r["class"] == c]
        g = summ["classes"][c]
        if subs != g["subjects"] or subs != [s for s in ok_subjects if s in subs]:
            bad.append("%s: subjects %s vs %s" % (c, subs, g["subjects"]))
        x = np.array(sc)
        if not close(g["mean"], float(x.mean())):
            bad.append("%s: mean %r vs numpy %r" % (c, g["mean"], x.mean()))
        if len(x) >= 2:
            if not close(g["std"], float(x.std(ddof=1))):
                bad.append("%s: std %r vs %r" % (c, g["std"], x.std(ddof=1)))
            t2 = stats.ttest_1samp(x, chance)
            tg = stats.ttest_1samp(x, chance, alternative="greater")
            tt = g["t_test"]
            for name, mine, ref in (("t", tt["t"], float(t2.statistic)),
                                    ("p (greater)", tt["p"], float(tg.pvalue)),
                                    ("p_two_sided", tt["p_two_sided"], float(t2.pvalue))):
                if not close(mine, ref):
                    bad.append("%s: %s = %r, scipy %r" % (c, name, mine, ref))
            if tt["df"] != len(x) - 1:
                bad.append("%s: df %r, want %d" % (c, tt["df"], len(x) - 1))
        # group permutation p-value from the subjects' nulls
        nulls = []
        for s in subs:
            f = os.path.join(out, "sub-" + s, "null_scores.tsv")
            if os.path.exists(f):
                nr = list(csv.DictReader(open(f), delimiter="\t"))
                nulls.append([float(r[c]) for r in nr])
        if nulls and len(nulls) == len(subs):
            n = min(len(v) for v in nulls)
            null = np.array([v[:n] for v in nulls]).mean(axis=0)
            obs = x.mean()
            p = (1 + int((null >= obs).sum())) / (n + 1)
            pj = g.get("permutation")
            if not pj or pj["n"] != n or not close(pj["p_value"], p, 1e-12):
                bad.append("%s: permutation %r, want n=%d p=%r" % (c, pj, n, p))
        elif "permutation" in g:
            bad.append("%s: a permutation p-value without null_scores.tsv" % c)
    if bad:
        print("\n".join(bad))
        return 1
    print("ok: %d classes, %d subjects, t-tests and permutation p-values match scipy/numpy"
          % (len(classes), len(ok_subjects)))
    return 0


def check_tdist(driver):
    lines, want = [], []
    for a in (0.5, 1, 1.5, 2, 3.5, 10, 50, 200):
        for b in (0.5, 1, 2.5, 7, 40):
            for x in (1e-8, 1e-3, 0.1, 0.3, 0.5, 0.77, 0.9, 0.999):
                lines.append("b %r %r %r" % (a, b, x))
                want.append([special.betainc(a, b, x)])
    for df in (1, 2, 3, 4, 7, 19, 100, 1000):
        for t in (-40, -5, -2.5, -1, -0.1, 0, 1e-6, 0.3, 1, 2.1, 3, 8, 60):
            lines.append("t %r %r" % (t, df))
            want.append([stats.t.cdf(t, df), stats.t.sf(t, df)])
    got = subprocess.run([driver], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, check=True).stdout.split("\n")
    bad = []
    for line, w, g in zip(lines, want, got):
        vals = [float(v) for v in g.split()]
        for gv, wv in zip(vals, w):
            if not close(gv, float(wv)) and abs(gv - wv) > 1e-300:
                bad.append("%s: %r, scipy %r" % (line, gv, wv))
    if len(got) < len(lines) or bad:
        print("\n".join(bad[:20]) or "driver printed %d lines for %d" % (len(got), len(lines)))
        return 1
    print("ok: %d values of betainc and the t cdf/sf match scipy to %g" % (len(lines), RTOL))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("group", "tdist"):
        sys.exit(__doc__)
    sys.exit(check_group(sys.argv[2]) if sys.argv[1] == "group" else check_tdist(sys.argv[2]))
