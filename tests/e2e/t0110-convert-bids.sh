#!/bin/sh
# nidec convert: per-run BOLD files + BIDS events -> dataset; the labels the
# events give reproduce labels.txt exactly; natural run order; hrf_shift.
. "$(dirname "$0")/../lib.sh"
D=$NIDEC_TEST_DATA
R=$D/runs
ORACLE="$PYTHON $TESTS_DIR/oracle/convert_nibabel.py"

test_expect_success 'convert the per-run BIDS layout (all conditions)' '
	$NIDEC convert --bold "$R/*_bold.nii.gz" --events "$R/*_events.tsv" \
		--mask $D/mask.nii.gz -o bids.h5 >stdout &&
	grep -q "1452 samples x 530 voxels, 12 runs, 9 conditions" stdout
'
test_expect_success '/X equals nibabel; events labels equal labels.txt row for row' '
	$ORACLE bids.h5 --bold "$R/*_bold.nii.gz" --events "$R/*_events.tsv" \
		--mask $D/mask.nii.gz --expect-labels $D/labels.txt >out && grep -q "^ok: 1452 x 530" out
'
test_expect_success 'face,cat from events = face,cat from the 4D file + labels.txt' '
	$NIDEC convert --bold "$R/*_bold.nii.gz" --events "$R/*_events.tsv" \
		--mask $D/mask.nii.gz --conditions face,cat -o bids_fc.h5 -q &&
	$NIDEC convert --bold $D/bold.nii.gz --labels $D/labels.txt \
		--mask $D/mask.nii.gz --conditions face,cat -o single_fc.h5 -q &&
	$PYTHON -c "
import h5py, numpy as np, sys
a, b = h5py.File(\"bids_fc.h5\"), h5py.File(\"single_fc.h5\")
for k in (\"X\", \"labels\", \"runs\", \"conditions\", \"mask/ijk\"):
    assert np.array_equal(a[k][()], b[k][()]), k
print(\"same\")" >out && grep -q same out
'
test_expect_success 'runs are sorted naturally (run-2 before run-10)' '
	mkdir nat && for f in $R/*; do
		b=$(basename $f | sed "s/run-0*\([0-9]\)/run-\1/") && ln -s $f nat/$b || exit 1; done &&
	ls nat | sort | head -3 >lexical && grep -q "run-10_bold" lexical &&
	$NIDEC convert --bold "nat/*_bold.nii.gz" --events "nat/*_events.tsv" \
		--mask $D/mask.nii.gz -o nat.h5 -q &&
	$PYTHON $TESTS_DIR/oracle/compare_datasets.py \
		--ignore created,command_line,input_paths,inputs_sha256,config bids.h5 nat.h5
'
test_expect_success 'hrf_shift moves the events (checked by the oracle)' '
	$NIDEC convert --bold "$R/*_bold.nii.gz" --events "$R/*_events.tsv" \
		--mask $D/mask.nii.gz --hrf-shift 5 --conditions face,cat -o shift.h5 -q &&
	$ORACLE shift.h5 --bold "$R/*_bold.nii.gz" --events "$R/*_events.tsv" \
		--mask $D/mask.nii.gz --hrf-shift 5 --conditions face,cat >out && grep -q "^ok: 216 x 530" out &&
	$PYTHON -c "
import h5py, numpy as np
a, b = h5py.File(\"shift.h5\"), h5py.File(\"bids_fc.h5\")
assert list(a[\"volumes\"][:9]) == [x + 2 for x in b[\"volumes\"][:9]], (a[\"volumes\"][:9], b[\"volumes\"][:9])
print(\"shifted\")" >out && grep -q shifted out
'
test_expect_success 'a changed hrf_shift is a new reuse key' '
	cp shift.h5 keep.h5 &&
	$NIDEC convert --bold "$R/*_bold.nii.gz" --events "$R/*_events.tsv" \
		--mask $D/mask.nii.gz --hrf-shift 2.5 --conditions face,cat -o shift.h5 >stdout &&
	grep -q "^wrote" stdout
'
test_done
