#!/usr/bin/python3
"""config_lines_only.py LOG OLD_WORK NEW_WORK - after tests/compare/revisions.sh
reported differences (its stderr in LOG), check that each differing file
differs only by the lines issue 17 added to the canonical config dump (the
new [data] keys and the [clean] section): in the HDF5 `config` attributes,
summary.json's "config", report.html's appendix and its size/hash rows of
the files that hold the config.  Exit 0 when nothing else differs.

    COMPARE_DIR=/tmp/cmp sh tests/compare/revisions.sh 1dca365 2>log
    python3 tests/compare/config_lines_only.py log /tmp/cmp/old/work /tmp/cmp/new/work
"""
import h5py, json, os, re, sys, numpy as np
NEW_DATA = ["samples", "confounds_files", "bids_root", "derivatives", "subject", "session", "task", "space", "desc", "mask_strategy"]
def strip(cfg):
    if isinstance(cfg, bytes): cfg = cfg.decode()
    cfg = re.sub(r"\n\n\[clean\]\n(?:[^\n]*\n)*$", "\n", cfg)
    lines = [l for l in cfg.split("\n") if l.split(" = ")[0] not in NEW_DATA]
    return "\n".join(lines)
def h5items(p):
    out = {}
    with h5py.File(p) as f:
        def v(name, o):
            if name.startswith("ledger"): return
            for k, a in o.attrs.items():
                if k in ("created",): continue
                out[f"{name}@{k}"] = strip(a) if k == "config" else a
            if isinstance(o, h5py.Dataset): out[name] = o[()]
        for k, a in f.attrs.items():
            if k != "created": out[f"@{k}"] = strip(a) if k == "config" else a
        f.visititems(v)
    return out
def same(a, b):
    if set(a) != set(b): return False
    for k in a:
        x, y = a[k], b[k]
        xa, ya = np.asarray(x), np.asarray(y)
        if xa.dtype.kind == "f":
            if not np.array_equal(xa, ya, equal_nan=True): return False
        elif not np.array_equal(xa, ya): return False
    return True
def mask_report(t):
    t = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<t>", t)
    t = re.sub(r"<tr>\s*<td>results\.ledger</td>.*?</tr>\s*", "", t, flags=re.S)
    t = re.sub(r"(<td>(?:dataset\.h5|results\.h5|model\.h5|summary\.json)</td>\s*<td>)\d+(</td>\s*<td class=\"hash\">)[0-9a-f]{64}", r"\1<s>\2<h>", t)
    t = re.sub(r"\n(?:%s) = [^\n]*" % "|".join(NEW_DATA), "", t)
    t = re.sub(r"\n\n\[clean\]\n(?:[a-z_]+ = [^\n]*\n)+", "\n", t)
    return t
bad = 0; n = 0
for line in open(sys.argv[1]):
    m = re.match(r"outputs_equal: (\S+): ", line)
    if not m or "files compared" in line: continue
    rel = m.group(1)
    for base in ("out", "out-n2"):
        o, w = f"{sys.argv[2]}/{base}/{rel}", f"{sys.argv[3]}/{base}/{rel}"
        if os.path.exists(o): break
    n += 1
    if rel.endswith(".h5"): ok = same(h5items(o), h5items(w))
    elif rel.endswith(".json"):
        a, b = json.load(open(o)), json.load(open(w))
        a["config"], b["config"] = strip(a["config"]), strip(b["config"])
        ok = a == b
    elif rel.endswith(".html"): ok = mask_report(open(o).read()) == mask_report(open(w).read())
    else: ok = False
    if not ok: print("REAL difference:", rel); bad += 1
print(f"{n} differing files checked; {bad} differ beyond the new config lines")
sys.exit(1 if bad else 0)
