#!/bin/sh
# bench/regression.sh - nidec's regression job (issue 18) against the
# scikit-learn pipeline nilearn's DecoderRegressor(estimator='svr') runs,
# side by side (bench/README.md "regression"; figures in bench/RESULTS.md
# and the README):
#
#   subject   nidec synth --target: 40x64x64, 12 runs x 121 volumes, 8
#             classes, 18 % of the grid in the mask (29,496 voxels); the
#             planted target plus Gaussian noise of its own SD (seed 18, so
#             that r2 is about 0.5, not 1), 960 samples
#   job       svr, C in 1, 10, 100, screening 20 % (f_regression), nested
#             leave-one-run-out (12 outer x 11 inner folds), r2
#   nidec     mpirun -n 2 nidec cv on the converted dataset (the CPU of
#             mpirun and both ranks), and nidec run end to end (conversion
#             of the NIfTI runs included) for its wall time
#   peer      bench/sklearn_regression.py: GridSearchCV(StandardScaler +
#             SelectPercentile(f_regression, 20) + SVR(kernel='linear',
#             max_iter=10000)), one process; BENCH_REG_OUTER (1) outer folds
#             timed and scaled to 12 (the folds cost about the same)
#   empty     mpirun -n 2 of an empty MPI program: the launch alone
#
# Goal (issue 18): >= 20x less CPU than the peer for the same job.
#
# Usage: sh bench/regression.sh     (NIDEC=path/to/nidec, default build/nidec)
#        BENCH_WORK=DIR keeps the subject between runs.
# Runs one thing at a time: do not run another CPU-heavy job meanwhile.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$here/lib.sh"
bench_init regression
OUTER=${BENCH_REG_OUTER:-1}

syn=$work/syn
if [ ! -f "$syn/synth.ini" ]; then
	log "writing the synthetic subject"
	"$NIDEC" synth -o "$syn" --mask-fraction 0.18 --signal 0.5 --signal-radius 20 --target -q
fi
# the planted target plus noise of its own SD: a study's r2, not a perfect fit
"$PY" - "$syn/labels.txt" "$work/rating.txt" <<-\EOF
import sys
import numpy as np
rows = [l.split() for l in open(sys.argv[1])][1:]
m = np.array([float(r[2]) for r in rows])
sd = m[np.array([r[0] != "rest" for r in rows])].std()
noisy = m + np.random.default_rng(18).normal(0, sd, len(m))
with open(sys.argv[2], "w") as f:
    f.write("labels chunks rating\n")
    for r, v in zip(rows, noisy):
        f.write(f"{r[0]} {r[1]} {v:.17g}\n")
EOF
bench_hello

JOB="--set data.events= --set data.labels=$work/rating.txt --set data.target_column=rating
	--set model.estimator=svr --set model.C=1,10,100 --set preprocess.screening_percentile=20
	--set cv.scheme=leave-one-run-out --set cv.scoring=r2 --set output.report=false"
"$NIDEC" convert "$syn/synth.ini" $JOB -o "$work/ds.h5" -q


bench_run empty $MPIRUN -n 2 "$work/hello"
rm -rf "$work/cv" "$work/run"
bench_run cv $MPIRUN -n 2 "$NIDEC" cv "$work/ds.h5" -o "$work/cv" $JOB -q --progress 0
bench_run run $MPIRUN -n 2 "$NIDEC" run "$syn/synth.ini" $JOB --set output.dir="$work/run" -q --progress 0
bench_run peer "$PY" "$here/sklearn_regression.py" "$work/ds.h5" "$OUTER"
"$PY" "$here/regression_table.py" "$work"
