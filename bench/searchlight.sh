#!/bin/sh
# bench/searchlight.sh - `nidec searchlight` on a full-size synthetic
# subject against nilearn's SearchLight (bench/README.md "searchlight";
# figures in bench/RESULTS.md and the README):
#
#   subject   nidec synth: 40x64x64, 12 runs x 121 volumes, 8 classes, 18 %
#             of the grid in the mask (29,496 voxels), a class signal of 0.5
#             noise SDs within 20 mm of the grid's centre; face vs cat: 240
#             samples; radius 5.6 mm (spheres of up to 27 voxels),
#             leave-one-run-out
#   peer      bench/sklearn_searchlight.py: nilearn's SearchLight
#             re-implemented on scikit-learn (n_jobs = 2: one joblib worker
#             per core), estimator 'svc' = LinearSVC(), accuracy, on images
#             z-scored per voxel (compat = nilearn's recipe); timed on a
#             process mask of BENCH_SL_CENTRES (1,000) centres drawn at
#             random from the mask and scaled by 29,496 / 1,000 (the
#             whole brain would take it over half an hour)
#   nidec     mpirun -n 2 nidec searchlight, compat = nilearn, accuracy:
#             on the same 1,000 centres, and on the whole brain end to end
#             (conversion of the NIfTI runs included); also default mode
#             (standardisation fitted per training fold, ROC AUC)
#   empty     mpirun -n 2 of an empty MPI program: the launch alone
#   memory    peak RSS of each rank of the whole-brain run (/usr/bin/time
#             around each rank) above nidec's own footprint (a rank of
#             `nidec info` on the dataset: libraries, MPI, HDF5), against the
#             dataset (the float32 matrix a rank holds: 240 x 29,496 x 4
#             bytes); an empty MPI rank for reference
#   perms     the whole brain with 1 permutation and --timing, then
#             bench/simulate.py --perms 100 --costs cpu: the predicted
#             efficiency of 100 permutations on 2 ... 1,024 ranks
#
# Goals (issue 16): >= 50x the peer's speed for the same spheres; the
# whole-brain map in <= 60 s on 2 ranks end to end; peak memory per rank
# <= 1.5x the dataset (above nidec's footprint); >= 80 % predicted
# efficiency at 256 ranks for 100 permutations.
#
# Usage: sh bench/searchlight.sh     (NIDEC=path/to/nidec, default build/nidec)
#        BENCH_WORK=DIR keeps the subject between runs.
# Runs one thing at a time: do not run another CPU-heavy job meanwhile.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$here/lib.sh"
bench_init searchlight
CENTRES=${BENCH_SL_CENTRES:-1000}

syn=$work/syn
if [ ! -f "$syn/synth.ini" ]; then
	log "writing the synthetic subject"
	"$NIDEC" synth -o "$syn" --mask-fraction 0.18 --signal 0.5 --signal-radius 20 -q
fi
bench_hello

SL="$NIDEC searchlight $syn/synth.ini --set data.conditions=face,cat --set output.report=false -q --progress 0"
NL="--set cv.compat=nilearn --set cv.scoring=accuracy"


# the dataset once, then the centres of the process mask
"$NIDEC" convert "$syn/synth.ini" --conditions face,cat -o "$work/ds.h5" -q
"$PY" - "$syn/mask.nii.gz" "$CENTRES" "$work/pm.nii.gz" <<-\EOF
import sys
import nibabel, numpy as np
m = nibabel.load(sys.argv[1])
a = np.asanyarray(m.dataobj) != 0
idx = np.argwhere(a)
pick = idx[np.random.default_rng(0).choice(len(idx), int(sys.argv[2]), replace=False)]
pm = np.zeros(a.shape, np.uint8)
pm[tuple(pick.T)] = 1
nibabel.save(nibabel.Nifti1Image(pm, m.affine), sys.argv[3])
EOF

bench_run empty $MPIRUN -n 2 /usr/bin/time -f "rss_kb %M" "$work/hello"
# nidec's own footprint: a rank with its libraries and MPI, the dataset open
bench_run base $MPIRUN -n 2 /usr/bin/time -f "rss_kb %M" $NIDEC info "$work/ds.h5"
# the same 1,000 spheres: nidec (dataset converted in the first run), then the peer
rm -rf "$work/pm-nl"
$MPIRUN -n 2 $SL $NL --set output.dir="$work/pm-nl" --set searchlight.process_mask="$work/pm.nii.gz"
bench_run pm_nl $MPIRUN -n 2 $SL $NL --set output.dir="$work/pm-nl" --set searchlight.process_mask="$work/pm.nii.gz"
bench_run peer "$PY" "$here/sklearn_searchlight.py" "$work/ds.h5" "$work/pm.nii.gz" 5.6 nilearn 2
# the whole brain, end to end (a fresh output directory: conversion included)
rm -rf "$work/wb-nl" "$work/wb-def"
bench_run wb_nl $MPIRUN -n 2 /usr/bin/time -f "rss_kb %M" $SL $NL --set output.dir="$work/wb-nl"
bench_run wb_def $MPIRUN -n 2 /usr/bin/time -f "rss_kb %M" $SL --set output.dir="$work/wb-def"
# one permutation with the task timings, for the simulator
rm -rf "$work/wb-perm"
bench_run wb_perm $MPIRUN -n 2 $SL $NL --set output.dir="$work/wb-perm" --set cv.permutations=1 --timing

"$PY" "$here/simulate.py" "$work/wb-perm/results.h5" --perms 100 --costs cpu \
	--ranks 2,4,8,16,32,64,128,256,512,1024 --markdown >"$work/simulate.md"
"$PY" "$here/searchlight_table.py" "$work" "$CENTRES"
