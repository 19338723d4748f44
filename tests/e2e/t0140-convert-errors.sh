#!/bin/sh
# nidec convert: every kind of bad input fails with one line naming the
# file, the field and the fix, a non-zero exit status, and no output file
# (nor a temporary one) left behind.
. "$(dirname "$0")/../lib.sh"
D=$NIDEC_TEST_DATA
R=$D/runs

# fails OUT ARGS...: run convert into OUT and return its status; fail (99)
# if anything named OUT* exists after.  (rc=0 ... || rc=$?: a plain failing
# step would end the test's body here, before the check.)
fails() {
	out=$1
	shift
	rc=0
	"$NIDEC" convert "$@" -o "$out" || rc=$?
	if ls "$out"* >/dev/null 2>&1; then echo "left behind: $(ls "$out"*)"; return 99; fi
	return $rc
}
ok_inputs="--mask $D/mask.nii.gz --labels $D/labels.txt"

test_expect_success 'set up broken inputs' '
	$PYTHON $TESTS_DIR/oracle/make_bad_inputs.py $D bad &&
	head -c 600000 $D/bold.nii.gz >truncated.nii.gz &&
	cp $D/bold.nii.gz corrupt.nii.gz &&
	printf "garbage garbage garbage garbage" | dd of=corrupt.nii.gz bs=1 seek=400000 conv=notrunc 2>/dev/null &&
	echo "labels chunks" | gzip >notnifti.nii.gz &&
	head -n 1452 $D/labels.txt >labels_short.txt &&
	sed "1s/.*/label chunk/" $D/labels.txt >labels_nocol.txt &&
	mkdir ev && for f in $R/*; do ln -s $f ev/ || exit 1; done &&
	rm ev/sub-1_task-objectviewing_run-03_events.tsv &&
	sed "3s/^52.5/12,5/" $R/sub-1_task-objectviewing_run-03_events.tsv \
		>ev/sub-1_task-objectviewing_run-03_events.tsv &&
	mkdir late && for f in $R/*; do ln -s $f late/ || exit 1; done &&
	rm late/sub-1_task-objectviewing_run-01_events.tsv &&
	{ cat $R/sub-1_task-objectviewing_run-01_events.tsv && printf "9000\t10\tlate\n"; } \
		>late/sub-1_task-objectviewing_run-01_events.tsv &&
	echo x >afile
'
test_expect_error 'missing BOLD file' 1 "[data] bold: cannot open 'nope.nii.gz': No such file or directory" '
	fails o1.h5 --bold nope.nii.gz $ok_inputs
'
test_expect_error 'missing mask' 1 "[data] mask: cannot open 'nomask.nii.gz'" '
	fails o2.h5 --bold $D/bold.nii.gz --mask nomask.nii.gz --labels $D/labels.txt
'
test_expect_error 'a glob that matches nothing' 1 "[data] bold = 'runs/*_bold.nii' matches no file" '
	fails o3.h5 --bold "runs/*_bold.nii" $ok_inputs
'
test_expect_error 'not a NIfTI file' 1 "'notnifti.nii.gz' is not a NIfTI file" '
	fails o4.h5 --bold notnifti.nii.gz $ok_inputs
'
test_expect_error 'truncated gzip' 1 "'truncated.nii.gz' is corrupt or truncated (gzip: unexpected end of file" '
	fails o5.h5 --bold truncated.nii.gz $ok_inputs
'
test_expect_error 'corrupt gzip' 1 "'corrupt.nii.gz' is corrupt or truncated (gzip:" '
	fails o6.h5 --bold corrupt.nii.gz $ok_inputs
'
test_expect_error '3D image where 4D is needed' 1 "'$D/mask.nii.gz' is 3D (40x20x1); nidec needs 4D images" '
	fails o7.h5 --bold $D/mask.nii.gz $ok_inputs
'
test_expect_error 'runs on different grids' 1 "is on a 40x19x1 grid other than" '
	fails o8.h5 --bold "bad/grid/*_bold.nii.gz" --events "bad/grid/*_events.tsv" --mask $D/mask.nii.gz
'
test_expect_error 'mask grid that cannot be resampled (singular affine)' 1 "mask 'bad/mask_singular.nii': the mask's affine is singular" '
	fails o9.h5 --bold $D/bold.nii.gz --mask bad/mask_singular.nii --labels $D/labels.txt
'
test_expect_error 'mask that lands outside the BOLD grid' 1 "does not overlap the BOLD grid" '
	fails o10.h5 --bold $D/bold.nii.gz --mask bad/mask_far.nii.gz --labels $D/labels.txt
'
test_expect_error 'empty mask' 1 "mask 'bad/mask_empty.nii.gz' is empty (every voxel is 0)" '
	fails o11.h5 --bold $D/bold.nii.gz --mask bad/mask_empty.nii.gz --labels $D/labels.txt
'
test_expect_error '4D mask' 1 "is 4D (40x20x1x2); give a 3D mask" '
	fails o12.h5 --bold $D/bold.nii.gz --mask bad/mask_4d.nii.gz --labels $D/labels.txt
'
test_expect_error 'label rows != volumes' 1 "labels table 'labels_short.txt' has 1451 rows but the BOLD series has 1452 volumes" '
	fails o13.h5 --bold $D/bold.nii.gz --mask $D/mask.nii.gz --labels labels_short.txt
'
test_expect_error 'labels file without the named columns' 1 "labels table 'labels_nocol.txt' line 1: no column 'labels' (the header has: label, chunk); set [data] label_column" '
	fails o14.h5 --bold $D/bold.nii.gz --mask $D/mask.nii.gz --labels labels_nocol.txt
'
test_expect_error 'events with a non-numeric onset' 1 "'ev/sub-1_task-objectviewing_run-03_events.tsv' line 3: onset '12,5' is not a number; use '.' as decimal separator" '
	fails o15.h5 --bold "ev/*_bold.nii.gz" --events "ev/*_events.tsv" --mask $D/mask.nii.gz
'
test_expect_error 'events and runs do not pair up' 1 "gives 1 file but [data] bold gives 12 runs" '
	fails o16.h5 --bold "$R/*_bold.nii.gz" --events "$R/*run-01_events.tsv" --mask $D/mask.nii.gz
'
test_expect_error 'a condition that does not exist' 1 "[data] conditions: 'dog' is not a condition of '$D/labels.txt' (it has: bottle, cat, chair, face, house, rest, scissors, scrambledpix, shoe)" '
	fails o17.h5 --bold $D/bold.nii.gz $ok_inputs --conditions face,dog
'
test_expect_error 'no volume left after the selection' 1 "[data] conditions = late: no volume is left after the selection" '
	fails o18.h5 --bold "late/*_bold.nii.gz" --events "late/*_events.tsv" --mask $D/mask.nii.gz --conditions late
'
test_expect_error 'header dims whose product overflows' 1 "'bad/overflow.nii': header dims 1099511627776x1099511627776x1048576x100 (INT16) are too large: their product overflows" '
	fails o19.h5 --bold bad/overflow.nii $ok_inputs
'
test_expect_error 'output under a regular file' 1 "'afile' is not a directory; choose another output" '
	fails afile/o20.h5 --bold $D/bold.nii.gz $ok_inputs
'
test_expect_error 'unwritable output directory' 1 "cannot create directory '/proc/nidec-test'" '
	fails /proc/nidec-test/o21.h5 --bold $D/bold.nii.gz $ok_inputs
'
if [ "$(id -u)" != 0 ]; then
	test_expect_error 'read-only output directory' 1 "Permission denied; choose a writable location" '
		mkdir ro && chmod 555 ro && fails ro/o22.h5 --bold $D/bold.nii.gz $ok_inputs
	'
else
	test_skip 'read-only output directory' 'root ignores permissions; /proc covers it'
fi
test_expect_error 'labels and events together' 1 "give either [data] labels or [data] events, not both" '
	fails o23.h5 --bold $D/bold.nii.gz $ok_inputs --events "$R/*_events.tsv"
'
test_expect_error 'no mask given' 1 "[data] mask is not set" '
	fails o24.h5 --bold $D/bold.nii.gz --labels $D/labels.txt
'
test_expect_success 'a failed convert leaves an existing output as it was' '
	$NIDEC convert --bold $D/bold.nii.gz $ok_inputs --conditions face -o keep.h5 -q &&
	cp keep.h5 keep0.h5 &&
	test_must_fail $NIDEC convert --bold truncated.nii.gz $ok_inputs -o keep.h5 2>/dev/null &&
	cmp keep.h5 keep0.h5 && ! ls .keep.h5.tmp-* 2>/dev/null
'
test_expect_success 'every error is one line' '
	test_expect_code 1 $NIDEC convert --bold corrupt.nii.gz $ok_inputs -o x.h5 2>err &&
	test $(wc -l <err) = 1
'
test_done
