#!/usr/bin/python3
"""Compare two corebench --dump files: scores and chosen C must be equal,
predictions equal, weights within a relative tolerance.

usage: compare_dumps.py BASE.txt NEW.txt [WEIGHT_RTOL]   (default 1e-5)
Prints one summary line; exit status 1 if something differs.
"""
import sys


def load(path):
    out = {"score": {}, "grid": {}, "w": {}, "pred": {}, "intercept": {}, "null": {}}
    with open(path) as f:
        for line in f:
            t = line.split()
            if t[0] == "score":
                out["score"][(t[1], t[2])] = (float(t[3]), t[5], t[7])
            elif t[0] == "grid":
                out["grid"][(t[1], t[2], t[3])] = (t[4], t[5])
            elif t[0] == "w":
                out["w"][(t[1], t[2])] = float(t[3])
            elif t[0] == "intercept":
                out["intercept"][t[1]] = float(t[2])
            elif t[0] == "pred":
                out["pred"][t[1]] = (t[2], float(t[3]))
            elif t[0] == "null":
                out["null"][t[1]] = t[2]
    return out


def main():
    a, b = load(sys.argv[1]), load(sys.argv[2])
    rtol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-5
    bad = []
    for k, v in a["score"].items():
        w = b["score"].get(k)
        if w is None or v[0] != w[0] or v[1] != w[1]:
            bad.append(f"score/C {k}: {v} vs {w}")
        elif v[2] != w[2]:
            bad.append(f"inner score {k}: {v[2]} vs {w[2]}")
    for k, v in a["grid"].items():
        if b["grid"].get(k) != v:
            bad.append(f"grid {k}: {v} vs {b['grid'].get(k)}")
    for k, v in a["null"].items():
        if b["null"].get(k) != v:
            bad.append(f"null score {k}: {v} vs {b['null'].get(k)}")
    labels = sum(1 for k, v in a["pred"].items() if b["pred"].get(k, (None,))[0] != v[0])
    if labels:
        bad.append(f"{labels} predicted labels differ")
    wmax = max((abs(v) for v in a["w"].values()), default=0.0) or 1.0
    dw = max((abs(v - b["w"].get(k, float("inf"))) for k, v in a["w"].items()), default=0.0)
    di = max((abs(v - b["intercept"].get(k, float("inf"))) for k, v in a["intercept"].items()), default=0.0)
    dd = max((abs(v[1] - b["pred"].get(k, (0, float("inf")))[1]) for k, v in a["pred"].items()), default=0.0)
    if dw / wmax > rtol:
        bad.append(f"weights differ by {dw:.3g} (max |w| {wmax:.3g}, relative {dw / wmax:.3g} > {rtol})")
    print(f"{len(a['score'])} fold scores, {len(a['grid'])} grid scores: "
          f"{'SAME' if not [x for x in bad if 'weights' not in x] else 'DIFFERENT'}; "
          f"max weight diff {dw:.3g} (relative {dw / wmax:.3g}), intercept {di:.3g}, decision {dd:.3g}")
    for x in bad[:10]:
        print("  " + x)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
