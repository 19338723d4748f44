#!/bin/sh
# nidec convert reads what nibabel reads: NIfTI-1 and -2, .nii and .nii.gz,
# uint8/int16/int32/float32/float64, scl_slope/scl_inter, big-endian,
# sform / qform / no xform; a mask on another grid is resampled by nearest
# neighbour.  Every /X is compared value for value with nibabel.
. "$(dirname "$0")/../lib.sh"
D=$NIDEC_TEST_DATA
ORACLE="$PYTHON $TESTS_DIR/oracle/convert_nibabel.py"

test_expect_success 'write the variants with nibabel' '
	mkdir var && $PYTHON $TESTS_DIR/oracle/make_nifti_variants.py $D var >list &&
	test $(wc -l <list) -ge 12
'
while read -r name file; do
	test_expect_success "variant $name equals nibabel" '
		$NIDEC convert -q --bold '$file' --mask var/'$name'_mask.nii.gz --labels var/'$name'.tsv \
			-o '$name'.h5 &&
		$ORACLE '$name'.h5 --bold '$file' --mask var/'$name'_mask.nii.gz \
			--labels var/'$name'.tsv >out && grep -q "^ok: 24 x 530" out
	'
done <"$TRASH/list"
test_expect_success 'mask on a finer, shifted grid: resampled (warning), equals the oracle' '
	$NIDEC convert --bold $D/bold.nii.gz --mask var/mask_fine.nii.gz --labels $D/labels.txt \
		--conditions face -o fine.h5 2>stderr >/dev/null &&
	grep -q "warning: mask .var/mask_fine.nii.gz. (80x40x2) is not on the BOLD grid (40x20x1): resampled by nearest neighbour" stderr &&
	$ORACLE fine.h5 --bold $D/bold.nii.gz --mask var/mask_fine.nii.gz --labels $D/labels.txt \
		--conditions face >out && grep -q "^ok: 108 x 530" out
'
test_expect_success 'TR in milliseconds: events still label the right volumes' '
	$PYTHON -c "
import nibabel as nib
img = nib.load(\"$D/runs/sub-1_task-objectviewing_run-01_bold.nii.gz\")
img.header.set_xyzt_units(\"mm\", \"msec\")
img.header[\"pixdim\"][4] = 2500.0
img.to_filename(\"ms_bold.nii.gz\")" &&
	cp $D/runs/sub-1_task-objectviewing_run-01_events.tsv ms_events.tsv &&
	$NIDEC convert -q --bold ms_bold.nii.gz --events ms_events.tsv --mask $D/mask.nii.gz -o ms.h5 &&
	$ORACLE ms.h5 --bold ms_bold.nii.gz --events ms_events.tsv --mask $D/mask.nii.gz >out &&
	grep -q "^ok: 121 x 530" out &&
	$PYTHON -c "
import h5py
f = h5py.File(\"ms.h5\")
want = [l.split()[0] for l in open(\"$D/labels.txt\").read().splitlines()[1:122]]
got = [s.decode() for s in f[\"labels\"][()]]
assert got == want
assert abs(f[\"mask/pixdim\"][3] - 2.5) < 1e-9
print(\"ms ok\")" | grep -q "ms ok"
'
test_done
