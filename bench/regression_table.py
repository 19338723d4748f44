#!/usr/bin/python3
"""The table of bench/regression.sh: wall and CPU of nidec's regression
job next to scikit-learn's for the same work, as ratios.

    /usr/bin/python3 bench/regression_table.py WORK

WORK holds KEY.time ("wall user sys") for empty, cv, run and peer, the
peer's output (peer.out) and nidec cv's summary.json (cv/).
"""
import json
import sys


def main():
    w = sys.argv[1]
    t = {k: [float(v) for v in open(f"{w}/{k}.time").read().split()]
         for k in ("empty", "cv", "run", "peer")}
    cpu = {k: v[1] + v[2] for k, v in t.items()}
    peer = open(f"{w}/peer.out").read().strip()
    peer_cpu = float(peer.split("all folds: cpu ")[1].split()[0])
    s = json.load(open(f"{w}/cv/summary.json"))
    sc = s["scores"][s["target"]]
    print("| | wall (s) | CPU (s) | peer CPU / CPU |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| empty `mpirun -n 2` | {t['empty'][0]:.2f} | {cpu['empty']:.2f} | |")
    print(f"| nidec cv, 2 ranks, 12 outer folds | {t['cv'][0]:.1f} | {cpu['cv']:.1f} "
          f"| {peer_cpu / cpu['cv']:.0f}x |")
    print(f"| nidec run, 2 ranks, end to end | {t['run'][0]:.1f} | {cpu['run']:.1f} "
          f"| {peer_cpu / cpu['run']:.0f}x |")
    print(f"| scikit-learn, 12 outer folds (extrapolated) | | {peer_cpu:.0f} | 1x |")
    print()
    print(f"nidec: r2 mean {sc['mean']:.4f}, fold 0 r2 {sc['folds'][0]:.4f} with C "
          f"{sc['chosen_C'][0]:g}")
    print(f"peer:  {peer}")


if __name__ == "__main__":
    main()
