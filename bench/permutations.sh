#!/bin/sh
# bench/permutations.sh - a permutation test of the nested leave-one-run-out
# face-vs-cat job (configs/haxby-slice.ini) on the bundled data, nidec
# against scikit-learn, side by side (bench/README.md "permutations"):
#
#   nidec-2   mpirun -n 2 nidec run configs/haxby-slice.ini
#             --set cv.permutations=$BENCH_PERMS (default 1000) --timing:
#             wall and CPU time, per-rank busy time, parallel efficiency,
#             peak RSS of each rank
#   nidec-1   the same with 1 rank and $BENCH_EFF_PERMS permutations
#             (default 100), and nidec-2 again on that many: the 1-vs-2-rank
#             parallel efficiency T1 / (2 T2)
#   sklearn   /usr/bin/python3 bench/sklearn_perm.py: permutation_test_score
#             around the same nested GridSearchCV pipeline (same folds, C
#             grid, scoring), n_jobs=1, on $BENCH_SKLEARN_PERMS permutations
#             (default 5: at ~30 s of CPU per permutation, 1,000 would take
#             about 8 hours); its time is extrapolated linearly to
#             $BENCH_PERMS (each permutation is the same amount of work),
#             and the table says so
#
# The dataset is converted once before timing.  Prints a Markdown table for
# bench/RESULTS.md.  CPU time (user + sys, all processes) is given next to
# wall time: on a shared machine it is the steadier figure.
#
# Usage: sh bench/permutations.sh   (NIDEC=path/to/nidec, default build/nidec)
#        BENCH_PERMS=200 BENCH_EFF_PERMS=50 BENCH_SKLEARN_PERMS=2 sh bench/permutations.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
NIDEC=${NIDEC:-$repo/build/nidec}
DATA=${NIDEC_BENCH_DATA:-$repo/data/haxby-slice}
N=${BENCH_PERMS:-1000}
EFF_N=${BENCH_EFF_PERMS:-100}
SK_N=${BENCH_SKLEARN_PERMS:-5}
PY=${PYTHON:-/usr/bin/python3}
MPIRUN=${MPIRUN:-mpirun}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none

[ -x "$NIDEC" ] || { echo "bench/permutations.sh: no nidec at '$NIDEC'; run make first" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/nidec-bench-perm.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

data="--set data.bold=$DATA/bold.nii.gz --set data.mask=$DATA/mask.nii.gz --set data.labels=$DATA/labels.txt"
common="$repo/configs/haxby-slice.ini $data --set output.report=false --progress 0"

# convert once; every timed run reuses the dataset
$NIDEC convert $repo/configs/haxby-slice.ini $data -o "$work/dataset.h5" -q >/dev/null

# nidec_timed NAME RANKS PERMS: one timed run; writes $work/NAME.{time,err,out}
nidec_timed() {
	name=$1 ranks=$2 perms=$3
	printf '%s ' "$(cut -d' ' -f1 /proc/loadavg)" >>"$work/load"
	/usr/bin/time -f "%e %U %S" -o "$work/$name.time" \
		$MPIRUN -n "$ranks" /usr/bin/time -f "rss_kb %M" \
		$NIDEC run $common --set data.dataset="$work/dataset.h5" --set output.dir="$work/$name" \
		--set cv.permutations="$perms" --timing >"$work/$name.out" 2>"$work/$name.err"
}
wall() { cut -d' ' -f1 "$work/$1.time"; }
cpu() { awk '{ printf "%.1f", $2 + $3 }' "$work/$1.time"; }
eff() { sed -n 's/.*parallel efficiency \([0-9]*\)%.*/\1/p' "$work/$1.err"; }
rss() { sed -n 's/^rss_kb //p' "$work/$1.err" | sort -n | tail -n 1 | awk '{ printf "%.0f", $1 / 1024 }'; }

echo "nidec, 2 ranks, $N permutations ..." >&2
nidec_timed big2 2 "$N"
echo "nidec, 1 and 2 ranks, $EFF_N permutations ..." >&2
nidec_timed eff1 1 "$EFF_N"
nidec_timed eff2 2 "$EFF_N"
echo "scikit-learn, n_jobs=1, $SK_N permutations ..." >&2
printf '%s ' "$(cut -d' ' -f1 /proc/loadavg)" >>"$work/load"
/usr/bin/time -f "%e %U %S" -o "$work/sk.time" $PY "$here/sklearn_perm.py" "$DATA" "$SK_N" 1 >"$work/sk.out"

grep -h '^p-value mean' "$work/big2.out" >&2 || true
# the recorded task costs replayed for other rank counts (bench/simulate.py)
"$PY" "$here/simulate.py" "$work/big2/results.h5" --ranks 1,2,4,8,16,32,64,128,256,512,1024 \
	--markdown >"$work/sim.md" || true
cat "$work/sk.out" >&2
grep -h '^timing: ' "$work/big2.err" >&2 || true

# per permutation: (time of N + 1 cross-validations) / (N + 1)
"$PY" - "$N" "$EFF_N" "$SK_N" "$(wall big2) $(cpu big2)" "$(wall eff1) $(cpu eff1)" \
	"$(wall eff2) $(cpu eff2)" "$(wall sk) $(cpu sk)" "$(eff big2)" "$(rss big2)" "$(rss eff1)" \
	"$(rss eff2)" "$(cat "$work/load")" <<'EOF'
import sys
n, en, sn = (int(v) for v in sys.argv[1:4])
big2, eff1, eff2, sk = ([float(x) for x in a.split()] for a in sys.argv[4:8])
timing_eff, rss2, rss1, rss2e, loads = sys.argv[8], sys.argv[9], sys.argv[10], sys.argv[11], sys.argv[12]
per = lambda t, k: t / (k + 1)
sk_n = [per(v, sn) * (n + 1) for v in sk]          # extrapolated to n
n1 = [per(v, en) * (n + 1) for v in eff1]          # nidec 1 rank, scaled to n
print(f"| what | permutations run | wall (s) | CPU (s) | wall per permutation (s) | {n} permutations, wall (s) |")
print("| --- | --- | --- | --- | --- | --- |")
print(f"| nidec, 2 ranks | {n} | {big2[0]:.1f} | {big2[1]:.1f} | {per(big2[0], n):.3f} | {big2[0]:.1f} |")
print(f"| nidec, 1 rank | {en} | {eff1[0]:.1f} | {eff1[1]:.1f} | {per(eff1[0], en):.3f} | {n1[0]:.0f} (x{(n + 1) / (en + 1):.1f}) |")
print(f"| nidec, 2 ranks | {en} | {eff2[0]:.1f} | {eff2[1]:.1f} | {per(eff2[0], en):.3f} | |")
print(f"| scikit-learn, n_jobs=1 | {sn} | {sk[0]:.1f} | {sk[1]:.1f} | {per(sk[0], sn):.1f} | {sk_n[0]:.0f} (extrapolated x{(n + 1) / (sn + 1):.0f}) |")
print()
print(f"- scikit-learn / nidec, one core each, per permutation: wall {per(sk[0], sn) / per(eff1[0], en):.0f}x, "
      f"CPU {per(sk[1], sn) / per(eff1[1], en):.0f}x")
print(f"- scikit-learn on one core / nidec on 2 ranks, {n} permutations: wall {sk_n[0] / big2[0]:.0f}x")
print(f"- parallel efficiency 1 -> 2 ranks ({en} permutations): T1 / (2 T2) = {eff1[0] / (2 * eff2[0]) * 100:.0f} % "
      f"(CPU of the 2-rank run / CPU of the 1-rank run: {eff2[1] / eff1[1]:.2f})")
print(f"- `--timing` of the {n}-permutation run: parallel efficiency {timing_eff} % (busy / (ranks x wall))")
print(f"- peak RSS of a rank: {rss2} MiB with {n} permutations on 2 ranks, {rss2e} MiB with {en} on 2 ranks, "
      f"{rss1} MiB with {en} on 1 rank")
print(f"- 1-minute load average before each run (big2, eff1, eff2, sklearn): {loads}")
EOF
if [ -s "$work/sim.md" ]; then
	echo
	echo "The $N-permutation run's task costs replayed for other rank counts (bench/simulate.py):"
	echo
	cat "$work/sim.md"
fi
