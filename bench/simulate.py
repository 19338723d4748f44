#!/usr/bin/python3
"""bench/simulate.py - replay measured task costs through nidec's scheduler
policy (src/par/sched.c) for other rank counts, and say where it stops
scaling and why.

    /usr/bin/python3 bench/simulate.py RESULTS.h5 [--ranks 2,4,...,1024]
        [--perms N] [--costs wall|cpu] [--keep auto|on|off] [--latency S]
        [--bandwidth B] [--messages auto|all|remote] [--markdown]

Input: the results.h5 of a `nidec run/cv/searchlight ... --timing` run, whose /timing
group holds one row per task (id, rank, wall and CPU seconds, cost guess,
result bytes, keep flag) and one per result message rank 0 handled
(sender, results, bytes, rank 0's seconds); docs/FORMAT.md "Timing".

The policy replayed (constants read from include/nidec/sched.h,
src/par/sched.c and src/job/job.c when the repository is at hand):
 - tasks in permutation order (nidec_plan_task_group), and within a
   permutation in costliest-first order of the cost guess (ties by task id);
 - up to RANK0_WORKS_MAX ranks rank 0 works: it keeps the tasks flagged
   `keep` (results carrying weights), costliest first, up to half its
   share of the guessed cost, runs those first, then the cheapest task
   left (from the back of the order); above that it only hands out work;
 - rank 0 hands out chunks from the front: tasks left / (CHUNK_DIV x
   ranks), at least 1, at most MAX_CHUNK; CHUNKS_HELD chunks per worker at
   the start, one more each time a worker's chunk-ending message is seen;
 - a worker runs its chunk's tasks one after another and posts what it
   holds when its last post is PART_SECONDS old and at the end of each
   chunk; a message of SYNC_BYTES or more goes with a blocking send: the
   worker waits until rank 0 has handled it;
 - rank 0 handles messages only between its own tasks: it takes every
   message that arrived (dispatching the next chunk for each chunk-ending
   one), then handles them one by one, each costing it
   a + b x results + c x bytes seconds, fitted (least squares, >= 0) to the
   run's /timing/messages (c only when the run had messages of 1 MiB or
   more; else 4 ns/byte, what 5.4 MiB results cost rank 0 when measured);
 - a message travels in LATENCY + bytes / BANDWIDTH seconds (options;
   bench/cluster.sh measures them between two nodes with bench/pingpong.c);
   when the run spanned several hosts (/timing/hosts), rank 0's cost per
   message is fitted on the messages from other hosts than its own, which
   are nearly all of them at scale (--messages).

Each task costs what it cost in the measured run: its wall `seconds`, on
the machine and under the load of that run (the default; the check
against the measured makespan uses it), or with --costs cpu its CPU
seconds: what it costs when every rank has a core of its own (on a shared
machine the wall seconds include the time a rank waited for a core).
With --perms N the permutation tasks are replicated (permutation p >= 1
reuses the costs of measured permutation 1 + (p - 1) mod K) to model N
permutations from a run with K.  Not modelled: contention between ranks
for memory bandwidth beyond what the measured costs contain; the launch,
reading and writing stages (only the cv stage is replayed).

Output, per rank count: predicted makespan of the cv stage, efficiency
(sum of task seconds / (ranks x makespan)), the share of rank 0's time
spent handling messages, and where the lost efficiency goes: "rank 0 not
computing" (above RANK0_WORKS_MAX ranks: 1/ranks), "rank 0 handling
messages" (time rank 0 could have computed; near 100 % of its time the
gather is the bottleneck), "workers waiting in large sends", "imbalance at
the end" (the last chunks do not even out: the largest task against a
rank's share of the work, too few tasks per rank).
"""
import argparse
import heapq
import os
import re
import sys
from collections import deque

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def policy():
    """The scheduler's constants, from the sources when present."""
    p = {"MAX_CHUNK": 256, "CHUNK_DIV": 4, "CHUNKS_HELD": 2, "PART_SECONDS": 2.0,
         "RANK0_WORKS_MAX": 8, "SYNC_BYTES": 1 << 20}

    def grab(path, pat, key, conv):
        try:
            with open(os.path.join(REPO, path)) as f:
                m = re.search(pat, f.read())
            if m:
                p[key] = conv(m.group(1))
        except OSError:
            pass

    h = "include/nidec/sched.h"
    grab(h, r"#define NIDEC_SCHED_MAX_CHUNK (\d+)", "MAX_CHUNK", int)
    grab(h, r"#define NIDEC_SCHED_CHUNK_DIV (\d+)", "CHUNK_DIV", int)
    grab(h, r"#define NIDEC_SCHED_CHUNKS_HELD (\d+)", "CHUNKS_HELD", int)
    grab(h, r"#define NIDEC_SCHED_PART_SECONDS ([0-9.]+)", "PART_SECONDS", float)
    grab("src/job/job.c", r"rank0_works = size <= (\d+)", "RANK0_WORKS_MAX", int)
    grab("src/par/sched.c", r"#define SYNC_BYTES \(\(size_t\)1 << (\d+)\)", "SYNC_BYTES", lambda v: 1 << int(v))
    return p


def load(path):
    with h5py.File(path, "r") as f:
        if "timing" not in f or "tasks" not in f["timing"]:
            sys.exit(f"simulate.py: '{path}' has no /timing/tasks; rerun nidec with --timing")
        g = f["timing"]
        t = g["tasks"][()]
        m = g["messages"][()] if "messages" in g else None
        hosts = [h.decode() if isinstance(h, bytes) else str(h) for h in g["hosts"][()]] \
            if "hosts" in g else None
        attrs = dict(g.attrs)
        n_perm = int(f["permutations"].attrs.get("n", 0)) if "permutations" in f else 0
        if "searchlight/null_map" in f:  # a searchlight's: one null map per permutation
            n_perm = f["searchlight/null_map"].shape[0]
    return t, m, attrs, n_perm, hosts


# rank 0's seconds per byte of a large result (unpacking it, CRC-32 and
# writing it to the checkpoint ledger) when the run had no large message to
# fit it on: measured 4-20 ns/byte for 5.4 MiB results under load 5-9.
BYTE_COST = 4e-9


def fit_message_cost(m, byte_cost=None, trim=0.0):
    """The fit below; with trim > 0, fitted again without the messages
    whose residual is in the top `trim` fraction (on a shared machine some
    messages wait for a core while rank 0 handles them)."""
    fit = fit_message_cost_(m, byte_cost)
    if trim <= 0 or m is None or len(m) < 10:
        return fit
    a, b, c = fit
    r = m["seconds"].astype(float) - (a + b * m["results"].astype(float) + c * m["bytes"].astype(float))
    keep = r <= np.quantile(r, 1 - trim)
    return fit_message_cost_(m[keep], byte_cost)


def fit_message_cost_(m, byte_cost=None):
    """rank 0's seconds per message = a + b * results + c * bytes, fitted by
    least squares with every coefficient >= 0 (a coefficient that comes
    out negative is dropped and the rest refitted).  c is only fitted when
    the run had a message of 1 MiB or more (else BYTE_COST, or byte_cost
    when given)."""
    if m is None or len(m) < 3:
        return 20e-6, 5e-6, BYTE_COST if byte_cost is None else byte_cost
    big = m["bytes"].max() >= (1 << 20) and byte_cost is None
    cols = {"a": np.ones(len(m)), "b": m["results"].astype(float), "c": m["bytes"].astype(float)}
    s = m["seconds"].astype(float)
    c_fixed = 0.0 if big else (BYTE_COST if byte_cost is None else byte_cost)
    if not big:
        s = np.maximum(s - c_fixed * cols["c"], 0.0)
    use = ["a", "b", "c"] if big else ["a", "b"]
    while use:
        A = np.vstack([cols[u] for u in use]).T
        x, *_ = np.linalg.lstsq(A, s, rcond=None)
        if (x >= 0).all():
            got = dict(zip(use, x))
            return (float(got.get("a", 0.0)), float(got.get("b", 0.0)),
                    float(got.get("c", c_fixed)))
        use.pop(int(np.argmin(x)))
    return float(s.mean()), 0.0, c_fixed


def replicate(cols, n_perm, n_target):
    """Task columns of n_target permutations from a run of n_perm (task ids
    are permutation-major: block = tasks per permutation)."""
    n = len(cols[0])
    block = n // (n_perm + 1)
    if n_perm < 1 or block * (n_perm + 1) != n:
        sys.exit("simulate.py: --perms needs a run with permutations (task ids perm-major)")
    out = []
    for col in cols:
        parts = [col[:block]]
        for p in range(1, n_target + 1):
            src = 1 + (p - 1) % n_perm
            parts.append(col[src * block:(src + 1) * block])
        out.append(np.concatenate(parts))
    return out


def simulate(sec, cost, nbytes, R, pol, msg_cost, latency, bandwidth, keep=None, group=None):
    """Replay the tasks on R ranks.  Returns (makespan, rank 0's seconds
    handling messages, messages, worker seconds blocked in large sends).
    keep: optional boolean array, tasks rank 0 reserves for itself (what
    the scheduler does with nidec_task_source.keep, see sched.h); group:
    the tasks' permutations (nidec_task_source.group), None = one group."""
    n = len(sec)
    a, b, c = msg_cost
    if group is None:
        group = np.zeros(n, dtype=np.int64)
    # by group, then costliest first, ties by id
    order = np.lexsort((np.arange(n), -cost, group))
    sec_l = sec.tolist()
    bytes_l = nbytes.tolist()
    if R == 1:
        return float(sum(sec_l)), 0.0, 0, 0.0
    works = R <= pol["RANK0_WORKS_MAX"]
    mine = []
    if works and keep is not None:
        # reserved tasks, costliest first, up to half of rank 0's share of the guessed cost
        cap = cost.sum() / (2 * R)
        took = 0.0
        for i in order.tolist():
            if keep[i] and took + cost[i] <= cap:
                mine.append(i)
                took += cost[i]
        if mine:
            ms = set(mine)
            order = np.array([i for i in order.tolist() if i not in ms], dtype=np.int64)
    mine.reverse()  # pop() from the end = costliest first
    order_l = order.tolist()
    st = {"front": 0, "back": len(order_l)}
    chunks_out = [0] * R
    stopped = [False] * R
    ev = []  # (time, prio, seq, kind, data); arrivals and deliveries before the master's step
    seq = [0]

    def push(t, prio, kind, data):
        seq[0] += 1
        heapq.heappush(ev, (t, prio, seq[0], kind, data))

    def dispatch(w, t):
        if stopped[w]:
            return
        left = st["back"] - st["front"]
        if left == 0:
            stopped[w] = True
            return
        k = max(1, min(pol["MAX_CHUNK"], left // (pol["CHUNK_DIV"] * R)))
        ids = order_l[st["front"]:st["front"] + k]
        st["front"] += k
        chunks_out[w] += 1
        push(t + latency, 0, "deliver", (w, ids))

    queue = [deque() for _ in range(R)]
    cur = [None] * R          # ids left in the running chunk
    busy = [False] * R
    posted = [0.0] * R
    out_k = [0] * R           # results held, not posted yet
    out_b = [0] * R           # their bytes
    blocked = [0.0]

    def start(w, t):
        if not cur[w]:
            if not queue[w]:
                busy[w] = False
                return
            cur[w] = deque(queue[w].popleft())
        busy[w] = True
        i = cur[w].popleft()
        push(t + sec_l[i], 1, "done", (w, i))

    inbox = []
    master = {"free": 0.0, "waiting": False, "handling": 0.0, "msgs": 0, "end": None}

    def post(w, t, last):
        """Post what worker w holds; True if it waits (a large, blocking send)."""
        k, nb = out_k[w], out_b[w]
        out_k[w] = out_b[w] = 0
        posted[w] = t
        sync = nb >= pol["SYNC_BYTES"]
        push(t + latency + nb / bandwidth, 0, "arrive", (w, k, nb, last, sync, t))
        master["msgs"] += 1
        return sync

    def master_step(t):
        T = t
        msgs = inbox[:]
        inbox.clear()
        for m in msgs:
            if m[3]:
                chunks_out[m[0]] -= 1
                dispatch(m[0], T)
        for (w, k, nb, last, sync, t_post) in msgs:
            h = a + b * k + c * nb
            T += h
            master["handling"] += h
            if sync:  # the sender waited in its blocking send until now
                blocked[0] += T - t_post
                push(T, 0, "release", w)
        if works and mine:
            i = mine.pop()
            T += sec_l[i]
            master["free"] = T
            push(T, 2, "master", None)
            return
        if works and st["front"] < st["back"]:
            st["back"] -= 1
            T += sec_l[order_l[st["back"]]]
            master["free"] = T
            push(T, 2, "master", None)
            return
        master["free"] = T
        if any(chunks_out[1:]) or inbox:
            master["waiting"] = True
            return
        if st["front"] < st["back"]:
            raise RuntimeError("tasks left but no rank to run them")
        master["end"] = T

    for _ in range(pol["CHUNKS_HELD"]):
        for w in range(1, R):
            dispatch(w, 0.0)
    push(0.0, 2, "master", None)
    while ev and master["end"] is None:
        t, _, _, kind, data = heapq.heappop(ev)
        if kind == "master":
            master_step(t)
        elif kind == "arrive":
            inbox.append(data)
            if master["waiting"]:
                master["waiting"] = False
                push(max(t, master["free"]), 2, "master", None)
        elif kind == "deliver":
            w, ids = data
            queue[w].append(ids)
            if not busy[w]:
                start(w, t)
        elif kind == "release":
            start(data, t)
        elif kind == "done":
            w, i = data
            out_k[w] += 1
            out_b[w] += 8 + bytes_l[i]
            if cur[w]:
                if t - posted[w] >= pol["PART_SECONDS"] and post(w, t, False):
                    continue  # resumes on "release"
                start(w, t)
            else:
                cur[w] = None
                if post(w, t, True):
                    continue
                start(w, t)
    if master["end"] is None:
        raise RuntimeError("simulation ended without finishing")
    return master["end"], master["handling"], master["msgs"], blocked[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", help="results.h5 of a run with --timing")
    ap.add_argument("--ranks", default="1,2,4,8,16,32,64,128,256,512,1024")
    ap.add_argument("--perms", type=int, default=None,
                    help="model this many permutations (replicating the measured ones)")
    ap.add_argument("--latency", type=float, default=5e-6, help="seconds per message (default 5e-6)")
    ap.add_argument("--bandwidth", type=float, default=5e9, help="bytes/s of a transfer (default 5e9)")
    ap.add_argument("--keep", choices=("auto", "on", "off"), default="auto",
                    help="rank 0 keeps the tasks with large results for itself (sched.h); "
                         "auto: as the scheduler does for a plan")
    ap.add_argument("--costs", choices=("wall", "cpu"), default="wall",
                    help="task costs: wall seconds as measured (default), or the CPU seconds "
                         "of each task (what ranks with a core each would take; needs a run "
                         "whose /timing/tasks has a cpu column)")
    ap.add_argument("--byte-cost", type=float, default=None,
                    help="rank 0's seconds per byte of a received result (default: fitted when "
                         "the run had messages of 1 MiB or more, else %g)" % BYTE_COST)
    ap.add_argument("--messages", choices=("auto", "all", "remote"), default="auto",
                    help="the messages rank 0's handling cost is fitted on: all, or only those "
                         "from ranks on other hosts than rank 0 (/timing/hosts: what most "
                         "messages are at scale); auto: remote when the run spanned hosts")
    ap.add_argument("--trim", type=float, default=0.0,
                    help="fit rank 0's cost per message again without the messages whose "
                         "residual is in this top fraction (a shared machine's preemptions; "
                         "default 0)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args()

    pol = policy()
    t, m, attrs, n_perm, hosts = load(args.results)
    names = t.dtype.names
    if args.costs == "cpu" and "cpu" not in names:
        sys.exit("simulate.py: this results.h5 records no CPU seconds per task; use --costs wall")
    sec = t["cpu" if args.costs == "cpu" else "seconds"].astype(float)
    cost = t["cost"].astype(float)
    nbytes = t["bytes"].astype(float) if "bytes" in names else np.zeros(len(t))
    keep = t["keep"].astype(bool) if "keep" in names else None
    if np.isnan(sec).any():
        sys.exit("simulate.py: some tasks have no time (a failed or partial run)")
    if args.keep == "off":
        keep = None
    elif args.keep == "on":
        keep = nbytes >= pol["SYNC_BYTES"]
    measured_R = int(attrs.get("ranks", 0))
    measured_wall = float(attrs.get("wall_seconds", float("nan")))
    msg_cost = fit_message_cost(m, args.byte_cost, args.trim)
    msg_from = f"{0 if m is None else len(m)} messages"
    if hosts and m is not None and len(set(hosts)) > 1 and args.messages != "all":
        remote = np.array([hosts[r] != hosts[0] for r in m["from"]])
        if remote.sum() >= 3:
            local_cost = fit_message_cost(m[~remote], args.byte_cost, args.trim) \
                if (~remote).sum() >= 3 else None
            msg_cost = fit_message_cost(m[remote], args.byte_cost, args.trim)
            msg_from = f"the {int(remote.sum())} messages from other hosts than rank 0's ({hosts[0]})"
            if local_cost is not None:
                print(f"simulate: rank 0 per message from its own host: {local_cost[0] * 1e6:.1f} us + "
                      f"{local_cost[1] * 1e6:.2f} us x results + {local_cost[2] * 1e9:.2f} ns x bytes "
                      f"(fitted on {int((~remote).sum())} messages)")
    elif args.messages == "remote":
        sys.exit("simulate.py: --messages remote needs a run whose /timing/hosts has several hosts")
    label = f"{len(sec)} tasks, {args.costs} seconds"
    cols = [sec, cost, nbytes] + ([keep] if keep is not None else [])
    if args.perms is not None:
        cols = replicate(cols, n_perm, args.perms)
        label = (f"{len(cols[0])} tasks ({args.perms} permutations modelled from {n_perm} measured), "
                 f"{args.costs} seconds")
    sec, cost, nbytes = cols[:3]
    keep = cols[3] if keep is not None else None
    # task ids are permutation-major: block tasks per permutation
    block = len(sec) // ((args.perms if args.perms is not None else n_perm) + 1)
    group = np.arange(len(sec)) // block
    W = float(sec.sum())
    big = float(sec.max())
    a, b, c = msg_cost

    print(f"simulate: {args.results}: {label}, {W:.1f} s of tasks, largest {big:.3f} s, "
          f"mean {W / len(sec):.4f} s; largest result {nbytes.max() / 2**20:.2f} MiB")
    print(f"simulate: rank 0 per message: {a * 1e6:.1f} us + {b * 1e6:.2f} us x results + "
          f"{c * 1e9:.2f} ns x bytes (fitted on {msg_from}); "
          f"network: {args.latency * 1e6:.1f} us + bytes / {args.bandwidth / 1e6:.0f} MB/s per message; "
          f"rank 0 keeps {0 if keep is None else int(keep.sum())} tasks; policy {pol}")
    if measured_R > 1 and args.perms is None and args.costs == "wall":
        mk, _, _, bl = simulate(sec, cost, nbytes, measured_R, pol, msg_cost, args.latency,
                                args.bandwidth, keep, group)
        print(f"simulate: check against the measured run: {measured_R} ranks, cv stage "
              f"{measured_wall:.2f} s measured, {mk:.2f} s predicted")
    rows = []
    for R in (int(x) for x in args.ranks.split(",")):
        mk, handling, msgs, bl = simulate(sec, cost, nbytes, R, pol, msg_cost, args.latency,
                                          args.bandwidth, keep, group)
        eff = W / (R * mk)
        computing = R if (R == 1 or R <= pol["RANK0_WORKS_MAX"]) else R - 1
        share = W / computing
        # where the lost efficiency goes: rank 0 not computing, rank 0's
        # message handling (when it computes), workers blocked in large
        # sends, the rest is imbalance at the end (chunks, the largest
        # task, too few tasks per rank)
        l_idle = (R - computing) / R
        l_msg = handling / (R * mk) if computing == R and R > 1 else 0.0
        l_block = bl / (R * mk)
        l_tail = max(0.0, 1 - eff - l_idle - l_msg - l_block)
        why = []
        if l_idle >= 0.02:
            why.append(f"rank 0 not computing {100 * l_idle:.0f} %")
        if l_msg >= 0.02 or handling > 0.5 * mk:
            why.append(f"rank 0 handling messages {100 * handling / mk:.0f} % of its time")
        if l_block >= 0.02:
            why.append(f"workers waiting in large sends {100 * l_block:.0f} %")
        if l_tail >= 0.02:
            t = f"imbalance at the end {100 * l_tail:.0f} %"
            if big > 0.25 * share:
                t += f" (largest task {big:.2f} s vs a rank's share {share:.2f} s)"
            if len(sec) < 8 * computing:
                t += f" ({len(sec) / computing:.1f} tasks per rank)"
            why.append(t)
        rows.append((R, mk, eff, handling / mk if mk > 0 else 0, msgs, "; ".join(why) or "-"))
    if args.markdown:
        print("| ranks | predicted cv makespan (s) | efficiency | rank 0 handling messages | messages | losses |")
        print("| --- | --- | --- | --- | --- | --- |")
        for R, mk, eff, hf, msgs, why in rows:
            print(f"| {R} | {mk:.2f} | {100 * eff:.0f} % | {100 * hf:.1f} % | {msgs} | {why} |")
    else:
        print(f"{'ranks':>6} {'makespan_s':>11} {'eff_%':>6} {'rank0_msg_%':>11} {'msgs':>7}  losses")
        for R, mk, eff, hf, msgs, why in rows:
            print(f"{R:>6} {mk:>11.2f} {100 * eff:>6.1f} {100 * hf:>11.2f} {msgs:>7}  {why}")

if __name__ == "__main__":
    main()
