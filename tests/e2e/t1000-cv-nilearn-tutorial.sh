#!/bin/sh
# t1000: every step of nilearn's decoding tutorial on the bundled Haxby slice,
# `nidec run configs/tutorial-*.ini` under mpirun -n 2, against nilearn
# 0.13.1's numbers (tests/oracle/nilearn-haxby-slice.json, trimmed from
# ../shared/reference): per-fold scores to 1e-12 (ratios of small integers),
# chosen C exactly, predicted labels exactly, decision values to 1e-4, and
# the face weight map at r >= 0.999 with nilearn's (tests/e2e/check_nilearn.py
# explains each tolerance).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"

# the face/cat steps share one dataset: converted once, then reused
FACECAT="--set data.dataset=$TRASH/facecat.h5"

test_expect_success 'step (a): fit on all, predict the same: accuracy 1.0, inner C = 100' '
	nidec_run $CONFIGS/tutorial-a-fit-all.ini $FACECAT --set output.dir=a >out &&
	check_nilearn a a &&
	grep -q "^face " out
'

test_expect_success 'the dataset is reused when the inputs did not change' '
	nidec_run $CONFIGS/tutorial-a-fit-all.ini $FACECAT --set output.dir=a2 -v 2>err >/dev/null &&
	grep -q "reusing" err
'

test_expect_success 'step (b): hold out the last 30: accuracy 25/30, same 30 predictions' '
	nidec_run $CONFIGS/tutorial-b-holdout.ini $FACECAT --set output.dir=b >/dev/null &&
	check_nilearn b b
'

test_expect_success 'step (c): KFold(5) around a Decoder: fold accuracies and predictions' '
	nidec_run $CONFIGS/tutorial-c-kfold.ini $FACECAT --set output.dir=c >/dev/null &&
	check_nilearn c c
'

test_expect_success 'step (d): StratifiedKFold(5), accuracy: fold scores and C = 100' '
	nidec_run $CONFIGS/tutorial-d-stratified-accuracy.ini $FACECAT --set output.dir=d >/dev/null &&
	check_nilearn d d
'

test_expect_success 'step (e)+(f): leave-one-run-out AUCs, C, and the face weight map' '
	nidec_run $CONFIGS/tutorial-e-loro.ini $FACECAT --set output.dir=e >/dev/null &&
	check_nilearn e e "$ORACLE/nilearn-haxby-slice-face-vs-cat-weights.nii.gz" \
		"$NIDEC_TEST_DATA/mask.nii.gz"
'

test_expect_success 'step (g): 8 classes, leave-one-run-out, screening 20: 96 AUCs and C' '
	nidec_run $CONFIGS/tutorial-g-8class.ini --set output.dir=g >/dev/null &&
	check_nilearn g g
'

test_done
