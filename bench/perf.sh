#!/bin/sh
# bench/perf.sh - issue 9's workloads 1 and 2, with side-by-side baselines,
# printed as a Markdown table for bench/RESULTS.md ("Performance").
#
# Workload 1 (bundled Haxby slice, mpirun -n 2, end to end, datasets
# converted once beforehand):
#   empty     mpirun -n 2 of MPI_Init + MPI_Finalize (the launch alone)
#   step e    configs/tutorial-e-loro.ini     face/cat LORO, 36 fits
#   nested    configs/haxby-slice.ini         default nested mode, 432 fits
#   step g    configs/tutorial-g-8class.ini   8 classes LORO, 288 fits
# Workload 2 (full-size synthetic subject: 40x64x64, 12 runs x 121 volumes,
# ~29,500-voxel mask, 8 classes, LORO, C {1,10,100}, screening 20 %,
# nested: 12 x 12 fit units x 8 classes x 3 C = 3,456 fits), mpirun -n 2,
# end to end, wall time and peak RSS of each rank.
#
# Baselines, same data, same fits:
#   core      bench/corebench: nidec's numerical core in one process, no
#             MPI, HDF5 or NIfTI (CPU seconds)
#   dcd floor the same fits with the liblinear algorithm as liblinear runs
#             it: primal form, every C from zero (corebench --form 1
#             --warm 0); nidec's preprocessing included
#   liblinear Debian's liblinear 2.3 train() on the same fits (problem
#             building included; note its hard limit of 1000 iterations)
#   sklearn   /usr/bin/python3 bench/sklearn_cv.py (workload 1) and
#             bench/sklearn_full.py (workload 2, one outer fold timed and
#             multiplied by 12; BENCH_SKLEARN_FULL=1, it takes minutes)
#
# Usage:  make && NIDEC=build/nidec sh bench/perf.sh
#   NIDEC=DIR/nidec   the nidec to time; corebench links DIR's core objects
#   BENCH_RUNS=5      repetitions of workload 1 (median)
#   BENCH_WORK=DIR    keep the synthetic subject and datasets there
#   BENCH_W2=0        skip workload 2;  BENCH_FLOOR=1  also time the
#                     workload-2 floors on one outer fold (x 12)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$here/lib.sh"
bench_init perf
bdir=$(cd "$(dirname "$NIDEC")" && pwd)
RUNS=${BENCH_RUNS:-5}
DATA=${NIDEC_BENCH_DATA:-$repo/data/haxby-slice}

# the core alone, linked from the build's objects (no MPI, HDF5, NIfTI)
cc -O2 -std=c11 -D_GNU_SOURCE -I"$repo/include" "$here/corebench.c" \
	"$bdir"/core/*.o "$bdir"/base/*.o -llinear -lsvm -llapacke -llapack -linih -lm -o "$work/corebench"
bench_hello

# median wall seconds of RUNS runs of a shell command
median() {
	"$PY" - "$RUNS" "$1" <<'EOF'
import subprocess, sys, time
n, cmd = int(sys.argv[1]), sys.argv[2]
t = []
for _ in range(n):
    t0 = time.perf_counter()
    subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t.append(time.perf_counter() - t0)
t.sort()
print(f"{t[len(t) // 2]:.3f}")
EOF
}
# "wall cpu" of corebench, best of $REP runs
core() {
	"$work/corebench" "$@" --repeat "${REP:-3}" 2>/dev/null | awk '/^wall/ { print $2, $4 }'
}

data="--set data.bold=$DATA/bold.nii.gz --set data.mask=$DATA/mask.nii.gz --set data.labels=$DATA/labels.txt"
nil="--set cv.compat=nilearn --set cv.selection=test-fold --set cv.inner_scheme=none"
rows=""
row() { rows="$rows$1
"; }

# ---- workload 1 -------------------------------------------------------
log "workload 1: converting the slice datasets"
for step in e:tutorial-e-loro h:haxby-slice g:tutorial-g-8class; do
	n=${step%%:*} cfg=${step#*:}
	$MPIRUN -n 2 "$NIDEC" run "$repo/configs/$cfg.ini" $data --set data.dataset="$work/$n.h5" \
		--set output.dir="$work/o-$n" --set output.report=false -q --progress 0 >/dev/null
	"$PY" "$here/dump_dataset.py" "$work/$n.h5" "$work/$n.bin" >/dev/null
done
log "workload 1: timing ($RUNS runs each)"
t_empty=$(median "$MPIRUN -n 2 $work/hello")
row "| launch | \`mpirun -n 2\` of an empty MPI program | $t_empty s | | | | |"
for step in "e:tutorial-e-loro:step e (face/cat LORO, 36 fits)" \
	"h:haxby-slice:nested default (face/cat, 432 fits)" \
	"g:tutorial-g-8class:step g (8 classes LORO, 288 fits)"; do
	n=$(echo "$step" | cut -d: -f1) cfg=$(echo "$step" | cut -d: -f2) what=$(echo "$step" | cut -d: -f3)
	run="$MPIRUN -n 2 $NIDEC run $repo/configs/$cfg.ini $data --set data.dataset=$work/$n.h5 --set output.dir=$work/o-$n --set output.report=false -q --progress 0"
	t=$(median "$run")
	extra=""
	[ "$n" = h ] || extra=$nil
	[ "$n" = g ] && extra="$extra --set preprocess.screening_percentile=20"
	c_now=$(core "$work/$n.bin" $extra | cut -d' ' -f2)
	c_dcd=$(REP=1 core "$work/$n.bin" $extra --form 1 --warm 0 | cut -d' ' -f2)
	c_lib=$(REP=1 core "$work/$n.bin" $extra --set model.solver=liblinear | cut -d' ' -f2)
	sk="-"
	case $n in
	e) sk=$(RUNS=1 median "$PY $here/sklearn_cv.py $DATA loro") ;;
	g) sk=$(RUNS=1 median "$PY $here/sklearn_cv.py $DATA loro8") ;;
	esac
	row "| $what | end to end, 2 ranks | $t s | core $c_now s | dcd floor $c_dcd s | liblinear $c_lib s | sklearn $sk s |"
	log "$what: $t s (launch $t_empty s)"
done

# ---- workload 2 -------------------------------------------------------
if [ "${BENCH_W2:-1}" != 0 ]; then
	syn=$work/synth
	if [ ! -f "$syn/synth.ini" ]; then
		log "workload 2: writing the synthetic subject"
		"$NIDEC" synth -o "$syn" --dims 40x64x64 --runs 12 --volumes 121 --classes 8 \
			--mask-fraction 0.18 -q
	fi
	w2="--set preprocess.screening_percentile=20 --set output.report=false --progress 0"
	"$NIDEC" convert "$syn/synth.ini" -q >/dev/null
	log "workload 2: nidec run, 2 ranks"
	t0=$(date +%s.%N)
	$MPIRUN -n 2 /usr/bin/time -f "rank: %e s wall, %U s user, %S s sys, %M KB peak RSS" \
		"$NIDEC" run "$syn/synth.ini" $w2 --set output.dir="$work/o-w2" --timing -q \
		>"$work/w2.out" 2>"$work/w2.err"
	t1=$(date +%s.%N)
	t_w2=$(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }')
	rss=$(grep '^rank:' "$work/w2.err" | sed 's/.*, \([0-9]*\) KB peak RSS/\1/' | sort -n | tail -1)
	cpu=$(grep '^rank:' "$work/w2.err" | awk '{ s += $5 + $8 } END { printf "%.1f", s }')
	row "| workload 2 (full size, nested, 3,456 fits) | end to end, 2 ranks | $t_w2 s | CPU $cpu s (both ranks) | peak RSS $((rss / 1024)) MiB per rank | | |"
	log "workload 2: $t_w2 s, peak RSS $((rss / 1024)) MiB"
	grep '^timing' "$work/w2.err" >&2 || true
	if [ "${BENCH_FLOOR:-0}" = 1 ] || [ "${BENCH_SKLEARN_FULL:-0}" = 1 ]; then
		"$PY" "$here/dump_dataset.py" "$syn/results/dataset.h5" "$work/w2.bin" >/dev/null
	fi
	if [ "${BENCH_FLOOR:-0}" = 1 ]; then
		sc="--set preprocess.screening_percentile=20 --outer 0"
		f_now=$("$work/corebench" "$work/w2.bin" $sc 2>/dev/null | awk '/^wall/ { print $4 * 12 }')
		f_dcd=$("$work/corebench" "$work/w2.bin" $sc --form 1 --warm 0 2>/dev/null | awk '/^wall/ { print $4 * 12 }')
		f_lib=$("$work/corebench" "$work/w2.bin" $sc --set model.solver=liblinear 2>/dev/null | awk '/^wall/ { print $4 * 12 }')
		row "| workload 2, one outer fold x 12 | one process | | core $f_now s | dcd floor $f_dcd s | liblinear $f_lib s | |"
	fi
	if [ "${BENCH_SKLEARN_FULL:-0}" = 1 ]; then
		sk=$("$PY" "$here/sklearn_full.py" "$work/w2.bin" 1 | sed 's/.*, \([0-9]*\) s for all.*/\1/')
		row "| workload 2, scikit-learn | one process, one outer fold x 12 | $sk s | | | | |"
	fi
fi

echo "<!-- bench/perf.sh on $(uname -n), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), nidec $($NIDEC --version 2>/dev/null | head -1) -->"
echo "| workload | how | wall (median) | nidec core, 1 process (CPU) | floor | liblinear | scikit-learn |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
printf '%s' "$rows"
