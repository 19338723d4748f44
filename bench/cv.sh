#!/bin/sh
# bench/cv.sh - speed of `nidec run` on the tutorial steps, side by side in
# one run (README "Speed", bench/README.md "cv"):
#
#   empty    mpirun -n 2 of a trivial MPI program (MPI_Init + MPI_Finalize,
#            compiled here): the cost of the launch alone
#   loro     mpirun -n 2 nidec run configs/tutorial-e-loro.ini: face vs cat,
#            leave-one-run-out, end to end (dataset reuse check, read, 36
#            fits, outputs)         goal: at most 0.15 s more than `empty`
#   loro8    mpirun -n 2 nidec run configs/tutorial-g-8class.ini: 8 classes,
#            leave-one-run-out, screening 20 %, 288 fits     goal: < 2 s
#   sklearn  /usr/bin/python3 bench/sklearn_cv.py: scikit-learn doing the
#            same fits (nilearn's semantics), as a ratio to nidec
#
# The dataset is converted once before timing (the timed runs reuse it, as a
# second `nidec run` does); the HTML report is off in the timed runs
# (output.report = false) and timed separately (loro+report).
#
# Usage: sh bench/cv.sh            (NIDEC=path/to/nidec, default build/nidec)
#        BENCH_RUNS=20 sh bench/cv.sh
# Uses hyperfine when installed (apt-get install hyperfine), else repeated
# runs and medians.  Prints a Markdown table for bench/RESULTS.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
NIDEC=${NIDEC:-$repo/build/nidec}
DATA=${NIDEC_BENCH_DATA:-$repo/data/haxby-slice}
RUNS=${BENCH_RUNS:-10}
SK_RUNS=${BENCH_SKLEARN_RUNS:-3}
WARMUP=${BENCH_WARMUP:-2}
PY=${PYTHON:-/usr/bin/python3}
MPIRUN=${MPIRUN:-mpirun}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none

[ -x "$NIDEC" ] || { echo "bench/cv.sh: no nidec at '$NIDEC'; run make first" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/nidec-bench-cv.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

cat >"$work/hello.c" <<'EOF'
#include <mpi.h>
int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	MPI_Finalize();
	return 0;
}
EOF
mpicc -O2 -o "$work/hello" "$work/hello.c"

data="--set data.bold=$DATA/bold.nii.gz --set data.mask=$DATA/mask.nii.gz --set data.labels=$DATA/labels.txt"
e_cmd="$MPIRUN -n 2 $NIDEC run $repo/configs/tutorial-e-loro.ini $data --set output.dir=$work/e --set output.report=false -q --progress 0"
er_cmd="$MPIRUN -n 2 $NIDEC run $repo/configs/tutorial-e-loro.ini $data --set output.dir=$work/er --set output.report=true -q --progress 0"
g_cmd="$MPIRUN -n 2 $NIDEC run $repo/configs/tutorial-g-8class.ini $data --set output.dir=$work/g --set output.report=false -q --progress 0"
sk_e="$PY $here/sklearn_cv.py $DATA loro"
sk_g="$PY $here/sklearn_cv.py $DATA loro8"

# convert once (and check that every command works) before timing
for c in "$e_cmd" "$er_cmd" "$g_cmd"; do
	sh -c "$c" >/dev/null
done

echo "# bench/cv.sh on $(uname -n), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), nidec: $($NIDEC --version)" >&2
if command -v hyperfine >/dev/null 2>&1; then
	hyperfine -N -w "$WARMUP" -r "$RUNS" --export-json "$work/nidec.json" \
		-n empty "$MPIRUN -n 2 $work/hello" -n loro "$e_cmd" -n loro+report "$er_cmd" \
		-n loro8 "$g_cmd" >&2
	hyperfine -N -w "$((WARMUP > 0 ? 1 : 0))" -r "$SK_RUNS" --export-json "$work/sk.json" \
		-n sklearn-loro "$sk_e" -n sklearn-loro8 "$sk_g" >&2
	how="hyperfine $(hyperfine --version | cut -d' ' -f2), $RUNS runs (scikit-learn: $SK_RUNS)"
else
	# repeated runs, interleaved, medians (same JSON shape as hyperfine's)
	"$PY" - "$work" "$RUNS" "$SK_RUNS" <<EOF >&2
import json, subprocess, sys, time
work, runs, sk_runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def bench(cmds, n, out):
    t = {k: [] for k, _ in cmds}
    for _ in range(n):
        for k, c in cmds:
            t0 = time.perf_counter()
            subprocess.run(c, shell=True, check=True, stdout=subprocess.DEVNULL)
            t[k].append(time.perf_counter() - t0)
    json.dump({"results": [{"command": k, "times": v} for k, v in t.items()]}, open(out, "w"))
bench([("empty", "$MPIRUN -n 2 $work/hello"), ("loro", """$e_cmd"""), ("loro+report", """$er_cmd"""),
       ("loro8", """$g_cmd""")], runs, f"{work}/nidec.json")
bench([("sklearn-loro", "$sk_e"), ("sklearn-loro8", "$sk_g")], sk_runs, f"{work}/sk.json")
EOF
	how="repeated runs, interleaved, $RUNS runs (scikit-learn: $SK_RUNS), medians"
fi

"$PY" - "$work/nidec.json" "$work/sk.json" "$how" <<'EOF'
import json, statistics, sys
r = {}
for f in sys.argv[1:3]:
    for e in json.load(open(f))["results"]:
        r[e["command"]] = sorted(e["times"])
med = {k: statistics.median(v) for k, v in r.items()}
mn = {k: v[0] for k, v in r.items()}
over = med["loro"] - med["empty"]
print(f"measured with {sys.argv[3]}; seconds, wall clock of the whole command")
print()
print("| what | median (s) | min (s) | goal | verdict |")
print("| --- | --- | --- | --- | --- |")
print(f"| `mpirun -n 2` empty MPI program | {med['empty']:.3f} | {mn['empty']:.3f} | | |")
print(f"| `mpirun -n 2 nidec run tutorial-e-loro.ini` | {med['loro']:.3f} | {mn['loro']:.3f} | "
      f"<= empty + 0.15 | +{over:.3f} s: {'met' if over <= 0.15 else 'MISSED'} |")
print(f"| same, with report.html | {med['loro+report']:.3f} | {mn['loro+report']:.3f} | | "
      f"+{med['loro+report'] - med['empty']:.3f} s |")
print(f"| `mpirun -n 2 nidec run tutorial-g-8class.ini` | {med['loro8']:.3f} | {mn['loro8']:.3f} | < 2 s | "
      f"{'met' if med['loro8'] < 2 else 'MISSED'} |")
print(f"| scikit-learn, face vs cat LORO (36 fits) | {med['sklearn-loro']:.3f} | {mn['sklearn-loro']:.3f} | | "
      f"{med['sklearn-loro'] / med['loro']:.1f}x nidec's time |")
print(f"| scikit-learn, 8-class LORO (288 fits) | {med['sklearn-loro8']:.3f} | {mn['sklearn-loro8']:.3f} | | "
      f"{med['sklearn-loro8'] / med['loro8']:.1f}x nidec's time |")
EOF
