#!/bin/sh
# t1700: `nidec searchlight` under compat = nilearn against nilearn 0.10.3's
# SearchLight maps on the bundled slice (../shared/reference/
# nilearn-searchlight-slice.json, copied to tests/oracle/).  nidec solves
# each sphere's LinearSVC problem to its minimiser (src/core/searchlight.c);
# nilearn's LinearSVC stops at max_iter = 1000, unconverged on some
# spheres, where its weights depend on a coordinate order drawn from
# numpy's unseeded global generator (nilearn 0.13.1 itself differs from the
# reference in 3 and 25 spheres of the KFold and face vs cat cases).
# Measured: face vs house at 5.6 mm equal in all 530 spheres with
# leave-one-run-out and with KFold(4); face vs cat at 8 mm in 511 of 530
# (96.4 %; liblinear's own dual iterates stopped at 1000 epochs matched
# 498).  The test requires every sphere equal for the first two, at least
# 96 % for the third, and every other sphere within two test samples of
# the reference's mean (2/216).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"

REF=$TESTS_DIR/oracle/nilearn-searchlight-slice.json

# compare DIR CASE MIN_EQUAL MAX_DIFF: searchlight.tsv's scores vs the reference
compare() {
	"$PYTHON" - "$1" "$REF" "$2" "$3" "$4" <<-\EOPY
	import csv, json, sys
	import numpy as np
	d, ref, case, min_eq, max_diff = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
	want = np.array(json.load(open(ref))[case]["scores_mask_order"])
	rows = list(csv.DictReader(open(d + "/searchlight.tsv"), delimiter="\t"))
	assert [int(r["centre"]) for r in rows] == list(range(len(want))), "centres in mask order"
	got = np.array([float(r["score"]) for r in rows])
	diff = np.abs(got - want)
	eq = np.mean(diff < 1e-12)
	print(f"{case}: {int(np.sum(diff < 1e-12))}/{len(want)} equal, largest difference {diff.max():.6f}")
	assert eq >= min_eq, (eq, min_eq)
	assert diff.max() <= max_diff + 1e-12, diff.max()
	EOPY
}

SL="$MPIRUN -n $RANKS $NIDEC searchlight $CONFIGS/searchlight-slice.ini $DATA_OPTS --progress 0 --set output.report=false"

test_expect_success 'face vs house, 5.6 mm, leave-one-run-out: every sphere equal' '
	$SL --set output.dir=loro >stdout &&
	cat stdout &&
	grep -q "^searchlight: 530 spheres" stdout &&
	compare loro slice_face_house_r5.6_loro 1 0
'

test_expect_success 'face vs house, 5.6 mm, KFold(4): every sphere equal' '
	$SL --set output.dir=kfold --set cv.scheme=kfold --set cv.n_folds=4 >/dev/null &&
	compare kfold slice_face_house_r5.6_kfold4 1 0
'

test_expect_success 'face vs cat, 8 mm, leave-one-run-out: >= 96 % equal, the rest within two samples' '
	$SL --set output.dir=r8 --set data.conditions=face,cat --set searchlight.radius=8 >/dev/null &&
	compare r8 slice_face_cat_r8_loro 0.96 0.00926
'

test_done
