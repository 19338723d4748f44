#!/usr/bin/python3
"""bench/searchlight_table.py WORK CENTRES - the Markdown table of
bench/searchlight.sh from the files it left in WORK (KEY.time, KEY.load,
KEY.err, peer.out, wb-nl/summary.json, simulate.md), with the issue's goals.
"""
import json
import re
import sys


def main():
    work, centres = sys.argv[1], int(sys.argv[2])

    def t(key):
        wall, user, sys_ = map(float, open(f"{work}/{key}.time").read().split()[-3:])
        return wall, user + sys_

    def load(key):
        return " -> ".join(open(f"{work}/{key}.load").read().split())

    def rss(key):
        v = [int(l.split()[1]) for l in open(f"{work}/{key}.err") if l.startswith("rss_kb ")]
        return max(v) / 1024 if v else None

    peer = json.loads(open(f"{work}/peer.out").read().strip().splitlines()[-1])
    summ = json.load(open(f"{work}/wb-nl/summary.json"))
    n = summ["n_spheres"]
    peer_1k = peer["fits_s"] + peer["spheres_s"]
    peer_all = peer_1k * n / centres
    ds_mib = summ["n_samples"] * summ["n_voxels"] * 4 / 2**20
    sv = summ["sphere_voxels"]
    print(f"Subject: {n:,} spheres (radius 5.6 mm, {sv['min']:.0f}-{sv['max']:.0f} voxels, "
          f"median {sv['median']:.0f}), {summ['n_samples']} samples, {summ['n_folds']} folds; "
          f"the dataset {ds_mib:.1f} MiB (float32)\n")
    rows = [("empty `mpirun -n 2`", "empty", ""),
            ("`nidec info` on the dataset (nidec's footprint)", "base", ""),
            (f"nidec, compat = nilearn, {centres:,} centres", "pm_nl", ""),
            (f"peer (scikit-learn, n_jobs = 2), {centres:,} centres", "peer",
             f"spheres {peer['spheres_s']:.1f} s + fits {peer['fits_s']:.1f} s"),
            ("nidec, compat = nilearn, whole brain, end to end", "wb_nl", ""),
            ("nidec, default mode, whole brain, end to end", "wb_def", ""),
            ("nidec, compat = nilearn, whole brain + 1 permutation, --timing", "wb_perm", "")]
    print("| run | wall (s) | CPU (s) | load | peak RSS per rank (MiB) | note |")
    print("| --- | ---: | ---: | --- | ---: | --- |")
    for name, key, note in rows:
        w, c = t(key)
        r = rss(key)
        print(f"| {name} | {w:.2f} | {c:.1f} | {load(key)} | {'' if r is None else f'{r:.0f}'} | {note} |")
    print(f"| peer, scaled to {n:,} spheres | {peer_all:.0f} | | | | x {n / centres:.2f} |")
    wb, wb_def = t("wb_nl")[0], t("wb_def")[0]
    print()
    print(f"- speed on the same {centres:,} spheres (each side's wall; nidec's includes its launch and "
          f"reading): {peer_1k / t('pm_nl')[0]:.0f}x; the whole brain, the peer scaled over nidec end to "
          f"end: {peer_all / wb:.0f}x (goal >= 50x)")
    print(f"- the whole-brain map on 2 ranks end to end: {wb:.1f} s compat = nilearn, {wb_def:.1f} s "
          f"default mode (goal <= 60 s)")
    def ranks(key):
        return sorted(int(l.split()[1]) / 1024 for l in open(f"{work}/{key}.err") if l.startswith("rss_kb "))
    base = max(ranks("base"))
    wb_r = ranks("wb_nl")
    print(f"- memory: peak RSS {', '.join(f'{r:.0f}' for r in wb_r)} MiB per rank (the largest is rank 0, "
          f"which also holds the maps); nidec's footprint {base:.0f} MiB: "
          f"{', '.join(f'{(r - base) / ds_mib:.2f}' for r in wb_r)}x the dataset above it (goal <= 1.5x)")
    sim = open(f"{work}/simulate.md").read()
    m = re.search(r"^\|\s*256\s*\|[^|]*\|\s*([0-9.]+)\s*%", sim, re.M)
    print(f"- 100 permutations, predicted efficiency at 256 ranks: {m.group(1) if m else '?'} % "
          f"(goal >= 80 %)")
    print()
    print(sim)


if __name__ == "__main__":
    main()
