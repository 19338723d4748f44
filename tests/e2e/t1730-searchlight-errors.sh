#!/bin/sh
# t1730: bad searchlight input gives one clear error line naming the key or
# file and the fix, exit 1 (exit 2 for a bad value on the command line),
# and no result: no map, no table, no summary.json, no results.h5 (the
# converted dataset.h5 may stay: it is the inputs' cache, which the next
# run reuses).  Each case runs on 2 ranks: the message is printed once.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"

SL="$MPIRUN -n 2 $NIDEC searchlight $CONFIGS/searchlight-slice.ini $DATA_OPTS --progress 0 --set output.report=false"

# sl_fails STATUS MESSAGE ARGS...
sl_fails() {
	want=$1 msg=$2
	shift 2
	rm -rf out
	rc=0
	$SL --set output.dir=out "$@" >stdout 2>stderr || rc=$?
	cat stderr
	test "$rc" = "$want" &&
	test "$(grep -c "error:\|^nidec searchlight: " stderr)" = 1 &&
	grep -qF -- "$msg" stderr &&
	test -z "$(ls out 2>/dev/null | grep -v '^dataset\.h5$')"
}

test_expect_success 'process masks: outside the mask, empty, off the grid' '
	"$PYTHON" - "$NIDEC_TEST_DATA/mask.nii.gz" <<-\EOF &&
	import sys
	import nibabel as nib, numpy as np
	m = nib.load(sys.argv[1])
	d = np.asarray(m.dataobj) > 0
	nib.save(nib.Nifti1Image((~d).astype(np.uint8), m.affine), "outside.nii.gz")
	nib.save(nib.Nifti1Image(np.zeros(m.shape, np.uint8), m.affine), "empty.nii.gz")
	far = m.affine.copy()
	far[:3, 3] += 1000
	nib.save(nib.Nifti1Image(d.astype(np.uint8), far), "far.nii.gz")
	EOF
	cp "$NIDEC_TEST_DATA/mask.nii.gz" mask_copy.nii.gz &&
	sum0=$(md5sum outside.nii.gz empty.nii.gz far.nii.gz) &&
	sl_fails 1 "process_mask '\''outside.nii.gz'\'': 270 of its 270 voxels are outside the mask (sphere centres must be mask voxels); intersect it with the mask" \
		--set searchlight.process_mask=outside.nii.gz &&
	sl_fails 1 "mask '\''empty.nii.gz'\'' is empty" --set searchlight.process_mask=empty.nii.gz &&
	sl_fails 1 "does not overlap the BOLD grid" --set searchlight.process_mask=far.nii.gz &&
	sl_fails 1 "[searchlight] process_mask: cannot open '\''nope.nii.gz'\''" \
		--set searchlight.process_mask=nope.nii.gz &&
	test "$(md5sum outside.nii.gz empty.nii.gz far.nii.gz)" = "$sum0"
'

test_expect_success 'radius: <= 0, not a number, or so small that every sphere is one voxel' '
	sl_fails 2 "[searchlight] radius = '\''0'\'' is invalid; give a number in (0, 10000]" --set searchlight.radius=0 &&
	sl_fails 2 "[searchlight] radius = '\''-2'\'' is invalid" --set searchlight.radius=-2 &&
	sl_fails 2 "[searchlight] radius = '\''5mm'\'' is invalid" --set searchlight.radius=5mm &&
	printf "[searchlight]\nradius = 0\n" >r0.ini &&
	rc=0 && $MPIRUN -n 2 $NIDEC searchlight r0.ini $DATA_OPTS --set output.dir=out 2>stderr || rc=$? &&
	test $rc = 1 && grep -qF "config '\''r0.ini'\'': [searchlight] radius = '\''0'\'' is invalid" stderr &&
	! test -e out &&
	sl_fails 1 "[searchlight] radius = 3 mm: every sphere holds one voxel (the voxels are 3.1 x 3.75 x 3.75 mm); raise the radius" \
		--set searchlight.radius=3
'

test_expect_success 'min_voxels above every sphere, or 0' '
	sl_fails 1 "[searchlight] min_voxels = 40: no sphere has that many voxels (the largest has 9); lower min_voxels or raise radius" \
		--set searchlight.min_voxels=40 &&
	sl_fails 2 "[searchlight] min_voxels = '\''0'\'' is invalid" --set searchlight.min_voxels=0
'

test_expect_success 'permutations with nothing to shuffle within runs' '
	awk "NR == 1 { print; next } { print \$1, (\$1 == \"face\") ? 1 : 2 }" \
		"$NIDEC_TEST_DATA/labels.txt" >onerun.txt &&
	sl_fails 1 "[cv] permutations = 10: no run holds two different labels, so shuffling them within runs changes nothing; set [cv] permute_within = all (or 0 permutations)" \
		--set data.labels=onerun.txt --set cv.scheme=kfold --set cv.permutations=10
'

test_done
