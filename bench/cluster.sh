#!/bin/sh
# bench/cluster.sh - scaling evidence across nodes: what a message costs
# over TCP between two nodes, the permutation workload measured on two
# nodes with --timing, and bench/simulate.py's prediction for 64, 256 and
# 1,024 ranks with that network.  Runs on the test cluster of
# tests/cluster/cluster.sh (two nodes in network namespaces, as root),
# stopped at the end.
#
#     make && NIDEC=$PWD/build/nidec sh bench/cluster.sh
#     BENCH_PERMS=20 BENCH_WORK=/var/tmp/bench-cluster sh bench/cluster.sh
#
# Measured:
#  - bench/pingpong.c, two ranks on two nodes (Open MPI's TCP transport over
#    the veth pairs and bridge) and on one node (shared memory): one-way
#    time per message size, the latency (8 bytes) and bandwidth (4 MiB);
#  - `nidec run configs/haxby-slice.ini --set cv.permutations=BENCH_PERMS
#    --timing` under srun on 2 nodes x 2 ranks: every task's CPU seconds and
#    every result message rank 0 handled (results.h5 /timing), with the
#    host of each rank, so that rank 0's cost per message from the other
#    node is fitted apart from its own node's.
# Modelled (bench/simulate.py --costs cpu --perms 1000): 1,000
# permutations (144,144 tasks) on 1 ... 1,024 ranks with a core each, the
# scheduler's policy, the measured task costs, the fitted cost per message
# on rank 0 (--trim 0.1: without the tenth of the messages that waited
# longest, for a core of the shared machine) and the measured TCP latency
# and bandwidth for every message
# (hand-out and results), a flat network without contention; and the same
# with a latency of 1 ms, to show how much the network's latency matters.
set -eu
: "${NIDEC:?NIDEC must point at build/nidec}"
REPO=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
PERMS=${BENCH_PERMS:-20}
W=${BENCH_WORK:-$(mktemp -d /var/tmp/nidec-bench-cluster.XXXXXX)}
mkdir -p "$W"
chmod 0755 "$W"
export NIDEC_CLUSTER_DIR="$W/cluster" NIDEC_CLUSTER_NODES=2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
C="bash $REPO/tests/cluster/cluster.sh"

stop() { $C stop >"$W/cluster-stop.log" 2>&1 || echo "bench/cluster.sh: cluster stop failed: $W/cluster-stop.log" >&2; }
trap stop EXIT
$C start
cd "$W"
mpicc -O2 -o pingpong "$REPO/bench/pingpong.c"

echo "== $(date -u +%FT%TZ), $(uname -n), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $("$NIDEC" --version | tr '\n' ';')"
echo "== pingpong, 2 nodes (TCP):"
$C head srun -N 2 -n 2 --ntasks-per-node=1 ./pingpong | tee pp-tcp.txt
echo "== pingpong, 1 node (shared memory):"
$C head srun -N 1 -n 2 ./pingpong | tee pp-shm.txt
lat=$(sed -n 's/^latency_us=\([0-9.]*\) .*/\1/p' pp-tcp.txt)
bw=$(sed -n 's/.*bandwidth_MBps=\([0-9.]*\)$/\1/p' pp-tcp.txt)

ln -sfn "$REPO/data" data
echo "== nidec run configs/haxby-slice.ini, $PERMS permutations, 2 nodes x 2 ranks, --timing"
rm -rf perm
/usr/bin/time -f "wall %e s" $C head srun -N 2 -n 4 --ntasks-per-node=2 "$NIDEC" run \
	"$REPO/configs/haxby-slice.ini" --set output.dir=perm --set output.report=false \
	--set cv.permutations="$PERMS" --timing --progress 0 -q 2>&1 | tail -n 1
"$PYTHON" - perm/results.h5 <<'EOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    g = f["timing"]
    hosts = [h.decode() if isinstance(h, bytes) else h for h in g["hosts"][()]]
    m = g["messages"][()]
    t = g["tasks"][()]
    print(f"hosts by rank: {hosts}; cv stage {g.attrs['wall_seconds']:.2f} s, "
          f"efficiency {100 * g.attrs['parallel_efficiency']:.0f} %")
    for remote in (False, True):
        sel = np.array([(hosts[r] != hosts[0]) == remote for r in m["from"]])
        if sel.sum():
            s = m["seconds"][sel]
            print(f"{'other node' if remote else 'own node  '}: {sel.sum()} messages, "
                  f"{m['results'][sel].mean():.1f} results and {m['bytes'][sel].mean():.0f} bytes each; "
                  f"rank 0 handles one in {1e6 * np.median(s):.1f} us (median), {1e6 * s.mean():.1f} us (mean)")
    print(f"tasks: {len(t)}, CPU {t['cpu'].sum():.1f} s, {1e3 * t['cpu'].mean():.2f} ms each")
EOF

for L in "$lat" 1000; do
	echo "== simulate.py --perms 1000 --costs cpu, network latency $L us, bandwidth $bw MB/s"
	"$PYTHON" "$REPO/bench/simulate.py" perm/results.h5 --perms 1000 --costs cpu --trim 0.1 \
		--latency "$(echo "$L" | awk '{print $1 / 1e6}')" --bandwidth "$(echo "$bw" | awk '{print $1 * 1e6}')" \
		--ranks 1,2,4,16,64,256,1024 --markdown
done
echo "== work directory: $W"
