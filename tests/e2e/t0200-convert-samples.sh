#!/bin/sh
# Sample tables ([data] samples): a beta series of 3D images gives the same
# results, byte for byte, as the same samples in one 4D file; a 4D image
# with a volume column too; the table's other columns reach predictions.tsv
# and `nidec predict --samples`; smoothing is the same either way.
. "$(dirname "$0")/../lib.sh"
D=$NIDEC_TEST_DATA

test_expect_success 'a beta series of the face and cat volumes' '
	$PYTHON $TESTS_DIR/e2e/make_betas.py $D &&
	test -f betas/beta_0215.nii.gz &&
	printf "[data]\nmask = %s\nconditions = face, cat\n[model]\nC = 1, 10\n[cv]\nselection = test-fold\ninner_scheme = none\n[output]\nreport = false\n" \
		"$D/mask.nii.gz" >cfg.ini
'
test_expect_success 'the table of 3D images, the 4D file and the 4D table run' '
	$NIDEC run cfg.ini --set data.samples=betas/trials.tsv --set output.dir=tab --progress 0 >tab.out &&
	$NIDEC run cfg.ini --set data.bold=bold4d.nii.gz --set data.labels=labels4d.txt \
		--set output.dir=four --progress 0 >four.out &&
	$NIDEC run cfg.ini --set data.samples=vol.tsv --set output.dir=vol --progress 0 >vol.out &&
	grep -q "^face" tab/scores.tsv
'
test_expect_success 'scores, grid, weights and model: byte-identical' '
	for f in scores.tsv grid_scores.tsv weights_face.nii.gz weights_std_face.nii.gz; do
		cmp tab/$f four/$f && cmp vol/$f four/$f || exit 1
	done &&
	$PYTHON -c "
import h5py, numpy as np
for d in (\"tab\", \"vol\"):
    a, b = h5py.File(d + \"/model.h5\"), h5py.File(\"four/model.h5\")
    for k in (\"coef\", \"intercept\", \"mask/ijk\", \"preprocess/mean\", \"preprocess/scale\"):
        assert np.array_equal(a[k][()], b[k][()]), (d, k)
    x, y = h5py.File(d + \"/dataset.h5\"), h5py.File(\"four/dataset.h5\")
    for k in (\"X\", \"labels\", \"runs\"):
        assert np.array_equal(x[k][()], y[k][()]), (d, k)
print(\"same\")" >out && grep -q same out
'
test_expect_success 'predictions: the same, then the table'\''s extra column' '
	cut -f1-6 tab/predictions.tsv >a && cut -f1-6 four/predictions.tsv >b && test_cmp b a &&
	cmp vol/predictions.tsv four/predictions.tsv &&
	head -1 tab/predictions.tsv | grep -q "decision	trial$" &&
	sed -n 2p tab/predictions.tsv | grep -q "	trial-[0-9]*$"
'
test_expect_success 'nidec convert --samples; the dataset keeps the attributes' '
	$NIDEC convert --samples betas/trials.tsv --mask $D/mask.nii.gz -o s.h5 >out &&
	grep -q "216 samples x 530 voxels, 12 runs, 2 conditions" out &&
	$PYTHON -c "
import h5py
f = h5py.File(\"s.h5\")
assert list(f[\"sample_attrs\"].attrs[\"columns\"]) == [\"trial\"]
assert f[\"sample_attrs/trial\"][3] == b\"trial-3\"
assert \"samples\" in list(f.attrs[\"input_roles\"])
print(\"attrs\")" >out && grep -q attrs out
'
test_expect_success 'predict --samples: the table'\''s images, labels and columns' '
	$NIDEC predict four/model.h5 --samples betas/trials.tsv -o p.tsv >out &&
	grep -q "^accuracy" out &&
	head -1 p.tsv | grep -q "^sample	run	true	predicted	decision	trial$" &&
	test $(wc -l <p.tsv) = 217 &&
	$NIDEC predict four/model.h5 bold4d.nii.gz -o q.tsv -q &&
	cut -f5 p.tsv | tail -n +2 >d1 && cut -f3 q.tsv | tail -n +2 >d2 && test_cmp d2 d1
'
test_expect_success 'sweep: a sample table per subject ({subject})' '
	mkdir -p study && ln -s ../betas study/sub-01 && ln -s ../betas study/sub-02 &&
	printf "[data]\nconditions = face, cat\n[model]\nC = 1\n[cv]\nselection = test-fold\ninner_scheme = none\n[output]\ndir = swout\nreport = false\n" >an.ini &&
	printf "[sweep]\nanalysis = an.ini\nsubjects = 01, 02\nsamples = study/sub-{subject}/trials.tsv\nmask = %s\n" \
		"$D/mask.nii.gz" >sw.ini &&
	$NIDEC sweep sw.ini --list >list && grep -q "^1	sub-02	study/sub-02/trials.tsv$" list &&
	$NIDEC sweep sw.ini --progress 0 >sw.out &&
	cmp swout/sub-01/scores.tsv swout/sub-02/scores.tsv &&
	head -1 swout/sub-02/predictions.tsv | grep -q "decision	trial$"
'
test_expect_success 'smoothing a sample table: each image as nilearn smooths it' '
	$NIDEC convert --samples betas/trials.tsv --mask $D/mask.nii.gz \
		--set clean.smoothing_fwhm=5 -o sm.h5 -q &&
	$NIDEC convert --bold bold4d.nii.gz --labels labels4d.txt --mask $D/mask.nii.gz \
		--set clean.smoothing_fwhm=5 -o sm4.h5 -q &&
	$PYTHON -c "
import h5py, numpy as np
assert np.array_equal(h5py.File(\"sm.h5\")[\"X\"][()], h5py.File(\"sm4.h5\")[\"X\"][()])
print(\"ok\")" >out && grep -q ok out &&
	$PYTHON $TESTS_DIR/oracle/clean_nilearn.py sm4.h5 --bold bold4d.nii.gz --mask $D/mask.nii.gz \
		--smoothing 5 >out && grep -q "^ok" out
'
test_done
