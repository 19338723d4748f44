#!/bin/sh
# bench/workloads.sh - issue 9's four workloads, each measured side by side
# with its floors and baselines in the same run, printed as one table of
# ratios (make bench; bench/README.md "workloads", bench/RESULTS.md).
#
#   W1  the tutorial job on the bundled data: face vs cat, leave-one-run-
#       out, C {1,10,100} (configs/tutorial-e-loro.ini), end to end,
#       mpirun -n 2, median of BENCH_RUNS; against the empty launch
#   W2  a full-size subject from `nidec synth` (40x64x64, 12 runs x 121
#       volumes, 18 % mask = 29,496 voxels, 8 classes), nested LORO, C
#       {1,10,100}, screening 20 %: 144 tasks, 3,456 fits; 1 and 2 ranks
#   W3  W2 with permutations: BENCH_W3_PERMS (default 1) measured on 1 and
#       2 ranks with --timing, 100 extrapolated by bench/simulate.py from
#       the measured task costs (the full 101 x W2 takes hours here)
#   W4  `nidec sweep` of 8 synthetic subjects (BENCH_W4_SYN: 40x64x64,
#       6 runs x 121 volumes, 4 classes, 18 % mask; reduced from W2's size
#       so that 1 and 2 ranks fit in minutes), 1 and 2 ranks
#
# Floors and baselines (same data, same fits):
#   reading   W2's `nidec convert --force` against `gzip -dc` of the same
#             .nii.gz files (best of 2 each; goal <= 1.2x)
#   compute   nidec's total CPU (every rank, launch, reading, writing)
#             against the sum of Debian liblinear 2.3 train() calls for the
#             same fits (bench/corebench --set model.solver=liblinear:
#             problem building included, one process; goal <= 1.2x); for
#             W2-W4 one outer fold is timed and multiplied by the folds
#   peer      scikit-learn 1.2 (/usr/bin/python3) doing the same work, CPU
#             seconds: sklearn_cv.py (W1), sklearn_full.py on one class of
#             one outer fold, extrapolated to every class and fold (W2),
#             x 101 for W3 (permutation_test_score repeats the whole CV;
#             taken at W2's cost per CV, a lower bound: permuted labels
#             take more solver epochs, as nidec's and liblinear's CPU
#             show), x 8 subjects of W4's size (W4)
#   W3's 100  nidec's CPU and the liblinear floor for 100 permutations are
#             W2's plus 100 x the measured cost of one permutation ((W3 -
#             W2) / BENCH_W3_PERMS; the floor on permuted labels is timed
#             on one outer fold too)
#   parallel  T1 / (2 T2) from the wall times of 1 and 2 ranks (goal >= 90 %
#             on W2-W4), next to the scheduler's busy efficiency (--timing),
#             CPU(2 ranks) / CPU(1 rank), and for W2 and W3 the efficiency
#             bench/simulate.py predicts from the tasks' CPU seconds (what
#             2 ranks with a core each give: on a shared machine the wall
#             times measure the other jobs as much as nidec)
#   memory    peak RSS of each rank (/usr/bin/time around each rank)
#             against 1.5 x (the float32 matrix a rank holds + one fold's
#             liblinear problem), and W3 against W2 (no growth with tasks)
#
# The machine is shared: every measurement records the 1-minute load
# average before and after it; CPU seconds are the steadier figures.
#
# Usage:  make bench    (or: NIDEC=build/nidec sh bench/workloads.sh)
#   BENCH_WORK=DIR        keep the synthetic subjects and outputs (default: temporary)
#   BENCH_RUNS=5          repetitions of W1 (median)
#   BENCH_W3_PERMS=1      permutations measured for W3
#   BENCH_ONLY="1 2 3 4"  the workloads to run
#   BENCH_SKLEARN=0       skip scikit-learn;  BENCH_FLOOR=0  skip the liblinear floor
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$here/lib.sh"
bench_init workloads
NIDEC=$(cd "$(dirname "$NIDEC")" && pwd)/$(basename "$NIDEC")
bdir=$(dirname "$NIDEC")
DATA=${NIDEC_BENCH_DATA:-$repo/data/haxby-slice}
RUNS=${BENCH_RUNS:-5}
W3_PERMS=${BENCH_W3_PERMS:-1}
ONLY=${BENCH_ONLY:-1 2 3 4}
SKLEARN=${BENCH_SKLEARN:-1}
FLOOR=${BENCH_FLOOR:-1}
W4_SYN=${BENCH_W4_SYN:---dims 40x64x64 --runs 6 --volumes 121 --classes 4 --mask-fraction 0.18}
res=$work/results.tsv
: >"$res"
put() { printf '%s\t%s\n' "$1" "$2" >>"$res"; }
has() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

# measure KEY N CMD: median wall and CPU of N runs -> KEY.wall, KEY.cpu, KEY.load
measure() {
	key=$1 n=$2
	shift 2
	m=$("$PY" "$here/measure.py" "$n" "$*")
	put "$key.wall" "$(echo "$m" | cut -d' ' -f2)"
	put "$key.cpu" "$(echo "$m" | cut -d' ' -f4)"
	put "$key.load" "$(echo "$m" | cut -d' ' -f6-7 | tr ' ' -)"
	log "$key: $m"
}

# mpi_run KEY RANKS ARGS...: one `mpirun -n RANKS nidec ARGS` with the peak
# RSS of every rank -> KEY.wall, .cpu, .load, .rss_max, .rss_min (MiB)
mpi_run() {
	key=$1 ranks=$2
	shift 2
	l0=$(load1)
	/usr/bin/time -f "%e %U %S" -o "$work/$key.time" \
		$MPIRUN -n "$ranks" /usr/bin/time -f "rss_kb %M" "$NIDEC" "$@" \
		>"$work/$key.out" 2>"$work/$key.err" ||
		{ tail -n 20 "$work/$key.err" >&2; exit 1; }
	put "$key.wall" "$(cut -d' ' -f1 "$work/$key.time")"
	put "$key.cpu" "$(awk '{ printf "%.2f", $2 + $3 }' "$work/$key.time")"
	put "$key.load" "$l0-$(load1)"
	put "$key.rss_max" "$(sed -n 's/^rss_kb //p' "$work/$key.err" | sort -n | tail -n 1 | awk '{ printf "%.0f", $1 / 1024 }')"
	put "$key.rss_min" "$(sed -n 's/^rss_kb //p' "$work/$key.err" | sort -n | head -n 1 | awk '{ printf "%.0f", $1 / 1024 }')"
	log "$key ($ranks ranks): $(cat "$work/$key.time") (wall user sys), load $l0 -> $(load1)"
}

# corebench KEY DATA.bin ARGS...: CPU seconds of nidec's core in one process
corebench() {
	key=$1 bin=$2
	shift 2
	c=$("$work/corebench" "$bin" "$@" 2>/dev/null | awk '/^wall/ { print $4 }')
	put "$key" "$c"
	log "$key: corebench $* -> $c s CPU"
}

# the numerical core alone (no MPI, HDF5, NIfTI), for the floors
cc -O2 -std=c11 -D_GNU_SOURCE -I"$repo/include" -I"$repo/src" "$here/corebench.c" \
	"$bdir"/core/*.o "$bdir"/base/*.o -llinear -lsvm -llapacke -llapack -linih -lm -o "$work/corebench"
bench_hello
put machine "$(uname -n), $(getconf _NPROCESSORS_ONLN) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
put date "$(date -u +%Y-%m-%dT%H:%MZ)"
put nidec "$("$NIDEC" --version 2>/dev/null | head -n 1)"

# ---- W1: the tutorial job ------------------------------------------------
if has 1; then
	data="--set data.bold=$DATA/bold.nii.gz --set data.mask=$DATA/mask.nii.gz --set data.labels=$DATA/labels.txt"
	e="$MPIRUN -n 2 $NIDEC run $repo/configs/tutorial-e-loro.ini $data --set data.dataset=$work/w1.h5 --set output.dir=$work/w1 --set output.report=false -q --progress 0"
	sh -c "$e" >/dev/null # converts once; the timed runs reuse the dataset
	"$PY" "$here/dump_dataset.py" "$work/w1.h5" "$work/w1.bin" >/dev/null
	measure w1.empty "$RUNS" "$MPIRUN -n 2 $work/hello"
	measure w1.nidec2 "$RUNS" "$e"
	measure w1.nidec1 "$RUNS" "$(echo "$e" | sed 's/-n 2/-n 1/')"
	nil="--set cv.compat=nilearn --set cv.selection=test-fold --set cv.inner_scheme=none --set preprocess.standardize=zscore_sample"
	corebench w1.core "$work/w1.bin" $nil --repeat 3
	[ "$FLOOR" = 1 ] && corebench w1.floor "$work/w1.bin" $nil --set model.solver=liblinear
	[ "$SKLEARN" = 1 ] && measure w1.sklearn 1 "$PY $here/sklearn_cv.py $DATA loro"
fi

# ---- W2 and W3: the full-size subject -------------------------------------
syn=$work/synth
if has 2 || has 3; then
	if [ ! -f "$syn/synth.ini" ]; then
		log "W2: writing the full-size synthetic subject"
		"$NIDEC" synth -o "$syn" --dims 40x64x64 --runs 12 --volumes 121 --classes 8 \
			--mask-fraction 0.18 -q
	fi
	"$NIDEC" convert "$syn/synth.ini" -q >/dev/null
	w2="--set preprocess.screening_percentile=20 --set output.report=false --progress 0 --timing"
fi
if has 2; then
	bold=$(ls "$syn"/*_bold.nii.gz | tr '\n' ' ')
	measure w2.gzip 2 "for f in $bold; do gzip -dc \$f; done >/dev/null"
	measure w2.convert 2 "$NIDEC convert $syn/synth.ini --force -q"
	mpi_run w2.nidec2 2 run "$syn/synth.ini" $w2 --set output.dir="$work/w2-2"
	mpi_run w2.nidec1 1 run "$syn/synth.ini" $w2 --set output.dir="$work/w2-1"
	"$PY" "$here/simulate.py" "$work/w2-2/results.h5" --ranks 2 >"$work/sim_w2.check"
	"$PY" "$here/simulate.py" "$work/w2-2/results.h5" --costs cpu --ranks 1,2,4,8,16,32,64,128 \
		--markdown >"$work/sim_w2.md"
	if [ "$FLOOR" = 1 ] || [ "$SKLEARN" = 1 ]; then
		"$PY" "$here/dump_dataset.py" "$syn/results/dataset.h5" "$work/w2.bin" >/dev/null
	fi
	if [ "$FLOOR" = 1 ]; then
		corebench w2.core_fold "$work/w2.bin" --set preprocess.screening_percentile=20 --outer 0
		corebench w2.floor_fold "$work/w2.bin" --set preprocess.screening_percentile=20 --outer 0 \
			--set model.solver=liblinear
	fi
	if [ "$SKLEARN" = 1 ]; then
		log "W2: scikit-learn, one class of one outer fold"
		"$PY" "$here/sklearn_full.py" "$work/w2.bin" 1 1 >"$work/w2.sklearn" 2>/dev/null
		put w2.sklearn.cpu "$(sed -n 's/.*; CPU \([0-9]*\) s for all folds.*/\1/p' "$work/w2.sklearn")"
		log "W2 sklearn: $(cat "$work/w2.sklearn")"
	fi
	put w2.shape "$("$PY" -c "
import h5py, sys
with h5py.File(sys.argv[1], 'r') as f:
    print(f['X'].shape[0], f['X'].shape[1])
" "$syn/results/dataset.h5")"
fi
if has 3; then
	mpi_run w3.nidec2 2 run "$syn/synth.ini" $w2 --set cv.permutations="$W3_PERMS" \
		--set output.dir="$work/w3-2"
	mpi_run w3.nidec1 1 run "$syn/synth.ini" $w2 --set cv.permutations="$W3_PERMS" \
		--set output.dir="$work/w3-1"
	put w3.perms "$W3_PERMS"
	# the floor on permuted labels (they take more epochs than the true ones)
	[ "$FLOOR" = 1 ] && [ -f "$work/w2.bin" ] && corebench w3.floor_fold "$work/w2.bin" \
		--set preprocess.screening_percentile=20 --set cv.permutations="$W3_PERMS" --outer 0 \
		--set model.solver=liblinear
	"$PY" "$here/simulate.py" "$work/w3-2/results.h5" --ranks 2 >"$work/sim_w3.check"
	"$PY" "$here/simulate.py" "$work/w3-2/results.h5" --costs cpu --perms 100 \
		--ranks 1,2,4,8,16,32,64,128,256,512,1024 --markdown >"$work/sim_w3.md"
fi

# ---- W4: a sweep of 8 synthetic subjects ----------------------------------
if has 4; then
	bids=$work/w4-bids
	for s in 1 2 3 4 5 6 7 8; do
		[ -f "$bids/sub-0$s/func/mask.nii.gz" ] ||
			"$NIDEC" synth -q -o "$bids/sub-0$s/func" --subject 0$s $W4_SYN --seed $s
	done
	cat >"$work/w4-analysis.ini" <<EOF
[data]
conditions = face, cat, house, chair
[preprocess]
screening_percentile = 20
[cv]
scheme = leave-one-run-out
[output]
dir = $work/w4-out
report = false
EOF
	cat >"$work/w4-sweep.ini" <<EOF
[sweep]
analysis = $work/w4-analysis.ini
bids_root = $bids
task = synth
mask = $bids/sub-{subject}/func/mask.nii.gz
EOF
	# converts every subject once; the timed sweeps reuse the datasets
	$MPIRUN -n 2 "$NIDEC" sweep "$work/w4-sweep.ini" -q --progress 0 >/dev/null
	mpi_run w4.nidec2 2 sweep "$work/w4-sweep.ini" --progress 0
	mpi_run w4.nidec1 1 sweep "$work/w4-sweep.ini" --progress 0
	if [ "$FLOOR" = 1 ] || [ "$SKLEARN" = 1 ]; then
		"$PY" "$here/dump_dataset.py" "$work/w4-out/sub-01/dataset.h5" "$work/w4.bin" \
			face cat house chair >/dev/null
	fi
	[ "$FLOOR" = 1 ] && corebench w4.floor_fold "$work/w4.bin" \
		--set preprocess.screening_percentile=20 --outer 0 --set model.solver=liblinear
	if [ "$SKLEARN" = 1 ]; then
		"$PY" "$here/sklearn_full.py" "$work/w4.bin" 1 1 >"$work/w4.sklearn" 2>/dev/null
		put w4.sklearn.cpu "$(sed -n 's/.*; CPU \([0-9]*\) s for all folds.*/\1/p' "$work/w4.sklearn")"
		log "W4 sklearn (one subject): $(cat "$work/w4.sklearn")"
	fi
	put w4.shape "$("$PY" -c "
import h5py, sys
import numpy as np
with h5py.File(sys.argv[1], 'r') as f:
    keep = np.isin(f['labels'][()].astype(str), ['face', 'cat', 'house', 'chair'])
    print(int(keep.sum()), f['X'].shape[1], len(set(f['runs'][()][keep])))
" "$work/w4-out/sub-01/dataset.h5")"
fi

"$PY" "$here/workloads_table.py" "$work"
