#!/usr/bin/python3
"""bench/workloads_table.py WORKDIR - the table of ratios of
bench/workloads.sh (Markdown, for bench/RESULTS.md), from WORKDIR's
results.tsv, summary.json / results.h5 of the timed runs and the
simulator's tables.  Missing measurements print as "-".
"""
import json
import math
import os
import sys

import h5py


def main():
    work = sys.argv[1]
    r = {}
    with open(os.path.join(work, "results.tsv")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            r[k] = v

    def num(k):
        try:
            v = float(r[k])
            return v if math.isfinite(v) else None
        except (KeyError, ValueError):
            return None

    def fmt(v, spec=".2f", suffix=""):
        return "-" if v is None else f"{v:{spec}}{suffix}"

    def ratio(a, b):
        return None if a is None or b is None or b == 0 else a / b

    def timing(d):
        """busy efficiency, largest message, rank 0 message seconds of a run dir."""
        out = {}
        try:
            with open(os.path.join(work, d, "summary.json")) as f:
                out["eff"] = json.load(f)["timing"]["parallel_efficiency"]
            with h5py.File(os.path.join(work, d, "results.h5"), "r") as f:
                g = f["timing"]
                out["max_msg"] = int(g.attrs["max_message_bytes"])
                out["cv_wall"] = float(g.attrs["wall_seconds"])
                t = g["tasks"][()]
                out["max_result"] = int(t["bytes"].max())
                out["task_seconds"] = float(t["seconds"].sum())
        except (OSError, KeyError, ValueError):
            pass
        return out

    def eff12(w):
        t1, t2 = num(f"{w}.nidec1.wall"), num(f"{w}.nidec2.wall")
        return None if t1 is None or t2 is None else t1 / (2 * t2)

    def load(k):
        return r.get(f"{k}.load", "-")

    def sim(name, ranks):
        """(makespan, efficiency) of `ranks` in a simulate.py Markdown table."""
        try:
            with open(os.path.join(work, name)) as f:
                for line in f:
                    c = [x.strip() for x in line.strip().strip("|").split("|")]
                    if c and c[0] == str(ranks):
                        return float(c[1]), float(c[2].rstrip(" %")) / 100
        except (OSError, ValueError, IndexError):
            pass
        return None, None

    def check(name):
        try:
            with open(os.path.join(work, name)) as f:
                for line in f:
                    if line.startswith("simulate: check"):
                        return line.split(": ", 2)[2].strip()
        except OSError:
            pass
        return None

    rows = []
    goals = []
    mem = []

    # W1
    if "w1.nidec2.wall" in r:
        w2, e = num("w1.nidec2.wall"), num("w1.empty.wall")
        cpu = num("w1.nidec2.cpu")
        rows.append([
            "W1 tutorial job (face/cat LORO, 36 fits), 2 ranks end to end",
            f"{fmt(w2)} (launch alone {fmt(e)})", fmt(cpu),
            "-",
            f"{fmt(ratio(cpu, num('w1.floor')), '.1f')}x (core {fmt(num('w1.core'), '.3f')} s, "
            f"liblinear {fmt(num('w1.floor'), '.3f')} s)",
            f"{fmt(ratio(num('w1.sklearn.cpu'), cpu), '.1f')}x",
            fmt(eff12("w1") and 100 * eff12("w1"), ".0f", " %"),
            "-", f"{load('w1.nidec2')}"])
        goals.append(f"- W1: {fmt(w2 - e if w2 and e else None, '.2f')} s over the empty launch; its "
                     f"fits are {fmt(num('w1.core'), '.3f')} s of CPU, the rest of the "
                     f"{fmt(cpu)} s CPU is starting MPI, HDF5 and NIfTI in 2 processes "
                     f"(the empty launch alone: {fmt(num('w1.empty.cpu'))} s CPU)")

    # W2
    t2 = timing("w2-2")
    shape = r.get("w2.shape", "")
    if "w2.nidec2.wall" in r:
        cpu2 = num("w2.nidec2.cpu")
        floor = num("w2.floor_fold") and 12 * num("w2.floor_fold")
        rows.append([
            "W2 full-size subject, nested, 3,456 fits, 2 ranks",
            fmt(num("w2.nidec2.wall"), ".1f"), fmt(cpu2, ".1f"),
            f"{fmt(ratio(num('w2.convert.wall'), num('w2.gzip.wall')))}x wall, "
            f"{fmt(ratio(num('w2.convert.cpu'), num('w2.gzip.cpu')))}x CPU",
            f"{fmt(ratio(cpu2, floor), '.2f')}x (liblinear {fmt(floor, '.0f')} s)",
            f"{fmt(ratio(num('w2.sklearn.cpu'), cpu2), '.0f')}x",
            f"{fmt(eff12('w2') and 100 * eff12('w2'), '.0f', ' %')} measured; busy "
            f"{fmt(t2.get('eff') and 100 * t2['eff'], '.0f', ' %')} / CPU2/CPU1 "
            f"{fmt(ratio(cpu2, num('w2.nidec1.cpu')))} = "
            f"{fmt(t2.get('eff') and ratio(100 * t2['eff'], ratio(cpu2, num('w2.nidec1.cpu'))), '.0f', ' %')}; "
            f"simulated from task CPU {fmt(sim('sim_w2.md', 2)[1] and 100 * sim('sim_w2.md', 2)[1], '.0f', ' %')}",
            f"{r.get('w2.nidec2.rss_max', '-')} / {r.get('w2.nidec2.rss_min', '-')}",
            load("w2.nidec2")])
        goals.append(f"- W2 wall on 2 ranks: {fmt(num('w2.nidec2.wall'), '.1f')} s (goal <= 12 s); "
                     f"peak RSS per rank {r.get('w2.nidec2.rss_max', '-')} MiB (goal <= 400 MiB); "
                     f"largest MPI message {fmt(t2.get('max_msg') and t2['max_msg'] / 2**10, '.1f')} KiB, "
                     f"largest task result {fmt(t2.get('max_result') and t2['max_result'] / 2**20, '.2f')} MiB "
                     f"(limit 1 GiB per message)")
        if shape:
            n, p = (int(v) for v in shape.split())
            n_train = n - n // 12            # leave one of 12 equal runs out
            feats = math.ceil(p * 0.20)
            x_mib = n * p * 4 / 2**20
            prob_mib = (n_train * (feats + 2) * 16 + n_train * 16) / 2**20
            budget = 1.5 * (x_mib + prob_mib)
            mem.append(f"- W2 memory budget: X is {n} x {p} float32 = {x_mib:.0f} MiB on every rank "
                       f"(every rank reads the whole matrix: its share is all of it); one fold's "
                       f"liblinear problem = {n_train} samples x ({feats} screened voxels + bias) x 16-byte "
                       f"feature_node = {prob_mib:.0f} MiB; budget 1.5 x ({x_mib:.0f} + {prob_mib:.0f}) = "
                       f"{budget:.0f} MiB; measured {r.get('w2.nidec2.rss_max', '-')} MiB (rank 0) and "
                       f"{r.get('w2.nidec2.rss_min', '-')} MiB (rank 1) on 2 ranks, "
                       f"{r.get('w2.nidec1.rss_max', '-')} MiB on 1 rank")

    # W3
    t3 = timing("w3-2")
    if "w3.nidec2.wall" in r:
        k = int(r.get("w3.perms", "1"))
        cpu2, cpu_w2 = num("w3.nidec2.cpu"), num("w2.nidec2.cpu")
        # 100 permutations = W2 + 100 x one measured permutation
        per = cpu2 is not None and cpu_w2 is not None and (cpu2 - cpu_w2) / k
        cpu_ext = per and cpu_w2 + 100 * per
        f2, f3 = num("w2.floor_fold"), num("w3.floor_fold")
        floor = f3 and 12 * f3
        floor_ext = f2 and f3 and 12 * (f2 + 100 * (f3 - f2) / k)
        sk = num("w2.sklearn.cpu") and num("w2.sklearn.cpu") * 101
        rows.append([
            f"W3 = W2 + {k} permutation(s) measured, 2 ranks ({(k + 1) * 144} tasks)",
            fmt(num("w3.nidec2.wall"), ".1f"), fmt(cpu2, ".1f"), "-",
            f"{fmt(ratio(cpu2, floor), '.2f')}x (liblinear {fmt(floor, '.0f')} s)",
            f">= {fmt(ratio(sk and sk * (k + 1) / 101, cpu2), '.0f')}x",
            f"{fmt(eff12('w3') and 100 * eff12('w3'), '.0f', ' %')} measured; busy "
            f"{fmt(t3.get('eff') and 100 * t3['eff'], '.0f', ' %')} / CPU2/CPU1 "
            f"{fmt(ratio(cpu2, num('w3.nidec1.cpu')))} = "
            f"{fmt(t3.get('eff') and ratio(100 * t3['eff'], ratio(cpu2, num('w3.nidec1.cpu'))), '.0f', ' %')}",
            f"{r.get('w3.nidec2.rss_max', '-')} / {r.get('w3.nidec2.rss_min', '-')}",
            load("w3.nidec2")])
        rows.append([
            "W3, 100 permutations (14,544 tasks), extrapolated: W2 + 100 x one permutation",
            f"{fmt(sim('sim_w3.md', 2)[0], '.0f')} (simulated, 2 ranks with a core each)",
            fmt(cpu_ext, ".0f"), "-",
            f"{fmt(ratio(cpu_ext, floor_ext), '.2f')}x (liblinear {fmt(floor_ext, '.0f')} s)",
            f">= {fmt(ratio(sk, cpu_ext), '.0f')}x (scikit-learn >= {fmt(sk, '.0f')} s)",
            f"{fmt(sim('sim_w3.md', 2)[1] and 100 * sim('sim_w3.md', 2)[1], '.0f', ' %')} at 2 ranks, "
            f"{fmt(sim('sim_w3.md', 256)[1] and 100 * sim('sim_w3.md', 256)[1], '.0f', ' %')} at 256 "
            f"(simulated from task CPU; goal >= 80 % at 256)", "-", "-"])
        mem.append(f"- W3 memory: {(k + 1) * 144} tasks: {r.get('w3.nidec2.rss_max', '-')} / "
                   f"{r.get('w3.nidec2.rss_min', '-')} MiB (rank 0 / rank 1) against W2's "
                   f"{r.get('w2.nidec2.rss_max', '-')} / {r.get('w2.nidec2.rss_min', '-')} MiB with 144 tasks")
        goals.append(f"- W3's largest MPI message: "
                     f"{fmt(t3.get('max_msg') and t3['max_msg'] / 2**10, '.1f')} KiB")

    # W4
    t4 = r.get("w4.shape", "")
    if "w4.nidec2.wall" in r:
        cpu2 = num("w4.nidec2.cpu")
        folds = int(t4.split()[2]) if t4 else 6
        floor = num("w4.floor_fold") and num("w4.floor_fold") * folds * 8
        sk = num("w4.sklearn.cpu") and num("w4.sklearn.cpu") * 8
        rows.append([
            "W4 sweep, 8 subjects (" + (f"{t4.split()[0]} samples x {t4.split()[1]} voxels, "
                                         f"{folds} runs" if t4 else "reduced") + " each), 2 ranks",
            fmt(num("w4.nidec2.wall"), ".1f"), fmt(cpu2, ".1f"), "-",
            f"{fmt(ratio(cpu2, floor), '.2f')}x (liblinear {fmt(floor, '.0f')} s)",
            f"{fmt(ratio(sk, cpu2), '.0f')}x",
            f"{fmt(eff12('w4') and 100 * eff12('w4'), '.0f', ' %')} measured; CPU2/CPU1 "
            f"{fmt(ratio(cpu2, num('w4.nidec1.cpu')))}",
            f"{r.get('w4.nidec2.rss_max', '-')} / {r.get('w4.nidec2.rss_min', '-')}",
            load("w4.nidec2")])

    print(f"<!-- bench/workloads.sh: {r.get('machine', '?')}; {r.get('date', '?')}; "
          f"{r.get('nidec', '?')} -->")
    print("| workload | wall, 2 ranks (s) | CPU, all ranks (s) | reading: convert / gzip -dc "
          "| compute: nidec CPU / liblinear train() | peer: scikit-learn CPU / nidec CPU "
          "| parallel: T1 / (2 T2) (busy / CPU ratio = estimate) | peak RSS rank 0 / 1 (MiB) | load (1 min, before-after) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    for name, w in (("sim_w2.check", "W2"), ("sim_w3.check", "W3")):
        c = check(name)
        if c:
            goals.append(f"- {w}, the simulator against the measured run: {c}")
    for g in goals + mem:
        print(g)
    for name, title in (("sim_w2.md", "W2's task CPU seconds replayed for other rank counts "
                                      "(bench/simulate.py --costs cpu)"),
                        ("sim_w3.md", "W3 with 100 permutations, replayed from the measured "
                                      "permutation's task CPU seconds (bench/simulate.py --costs cpu "
                                      "--perms 100)")):
        p = os.path.join(work, name)
        if os.path.exists(p):
            print()
            print(f"{title}:")
            print()
            with open(p) as f:
                print(f.read().rstrip())


if __name__ == "__main__":
    main()
