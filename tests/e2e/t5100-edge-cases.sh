#!/bin/sh
# t5100: numeric edge cases get a defined result - finite scores, decisions
# and weight maps - or one clear error: a voxel constant within a training
# fold (or everywhere), a class present in one run only, duplicated volumes,
# all-zero volumes, an all-zero subject; and predict on all-zero images or a
# single 3D volume.  The subjects come from tests/bad/make_cases.py edge
# (6x5x2 voxels, 4 runs of 8 volumes); behaviour documented in
# tests/bad/README.md "Numeric edge cases".
. "$(dirname "$0")/../lib.sh"

E=$TRASH/edge
G=$E/good
export OMPI_MCA_ess_singleton_isolated=1
finite() {
	"$PYTHON" "$TESTS_DIR/bad/make_cases.py" finite "$@"
}
# decode NAME OUT [--set ...]: convert NAME (face vs cat) once, then cv into OUT
decode() {
	name=$1 out=$2
	shift 2
	if [ ! -f "$E/$name/ds.h5" ]; then
		"$NIDEC" convert --bold "$E/$name/bold.nii" --mask "$G/mask.nii" \
			--labels "$E/$name/labels.txt" --conditions face,cat -o "$E/$name/ds.h5" -q ||
			return 1
	fi
	rm -rf "$out"
	"$NIDEC" cv "$E/$name/ds.h5" -o "$out" --progress 0 --set output.report=false -q "$@"
}
# all_finite DIR: every score, decision and weight is a finite number
all_finite() {
	finite "$1"/scores.tsv "$1"/predictions.tsv "$1"/summary.json "$1"/weights_*.nii.gz
}

test_expect_success 'make the edge-case subjects' '
	$PYTHON $TESTS_DIR/bad/make_cases.py edge $E &&
	test -f $E/constant_voxels/bold.nii && test -f $E/all_zero/labels.txt
'

# A voxel constant over the training part has standard deviation 0: it is
# scaled by 1 (as scikit-learn/nilearn do), so it is 0 after centring and
# gets weight 0; its ANOVA F is NaN and it ranks last in screening.
test_expect_success 'constant voxels (everywhere, in one run, per run): finite results' '
	decode constant_voxels o1 &&
	all_finite o1 && finite o1/grid_scores.tsv &&
	decode constant_voxels o2 --set preprocess.screening_percentile=50 &&
	all_finite o2 &&
	decode constant_voxels o3 --set preprocess.standardize=zscore --set cv.scheme=stratified-kfold \
		--set cv.n_folds=3 &&
	all_finite o3
'
# compat = nilearn chooses C on the test fold: there is no inner score, so
# grid_scores.tsv has no inner_score column (as scores.tsv; README B13)
test_expect_success 'constant voxels under compat = nilearn: finite results' '
	decode constant_voxels o4 --set cv.compat=nilearn &&
	all_finite o4 && finite o4/grid_scores.tsv &&
	printf "class\tfold\tC\tscore\n" >expect &&
	head -n 1 o4/grid_scores.tsv >actual && test_cmp expect actual &&
	head -n 1 o4/scores.tsv >actual && test_cmp expect actual
'

test_expect_success 'a class present in only one run: leave-one-run-out says why it cannot train' '
	test_must_fail decode class_one_run o5 2>err &&
	cat err &&
	grep -q "fold 0 (run 0): the training part has no sample of class '\''cat'\''" err &&
	test "$(grep -c error: err)" = 1 && test ! -e o5/scores.tsv
'
test_expect_success 'a class present in only one run: stratified k-fold decodes it' '
	decode class_one_run o6 --set cv.scheme=stratified-kfold --set cv.n_folds=3 \
		--set cv.inner_scheme=stratified-kfold --set cv.inner_folds=2 --set cv.scoring=accuracy &&
	all_finite o6
'

test_expect_success 'duplicated volumes: finite results, one prediction per sample' '
	decode duplicated_volumes o7 &&
	all_finite o7 &&
	test "$(wc -l <o7/predictions.tsv)" = 49
'

test_expect_success 'all-zero volumes among the samples: finite results' '
	decode zero_volumes o8 && all_finite o8 &&
	decode zero_volumes o9 --set cv.scoring=accuracy && all_finite o9
'

# Every voxel constant: after standardization every sample is 0, every
# decision is the intercept, ROC AUC is 0.5 and the weights are 0.
test_expect_success 'an all-zero subject: chance scores, zero weights, no NaN' '
	decode all_zero o10 && all_finite o10 &&
	awk -F "\t" "NR > 1 && \$4 != 0.5 { bad = 1 } END { exit bad }" o10/scores.tsv &&
	$PYTHON -c "
import nibabel as nib, numpy as np, sys
w = np.asarray(nib.load(sys.argv[1]).dataobj)
sys.exit(0 if np.all(w == 0) else 1)" o10/weights_face.nii.gz
'

test_expect_success 'predict on all-zero images and on one 3D volume: finite decisions' '
	decode constant_voxels m1 &&
	decode constant_voxels m2 --set cv.compat=nilearn &&
	$PYTHON -c "
import nibabel as nib, numpy as np, sys
i = nib.load(sys.argv[1])
nib.Nifti1Image(np.asarray(i.dataobj)[..., 3], i.affine).to_filename(sys.argv[2])" \
		$G/bold.nii one3d.nii &&
	for m in m1 m2; do
		"$NIDEC" predict $m/model.h5 $E/all_zero/bold.nii -o $m-zero.tsv -q &&
		"$NIDEC" predict $m/model.h5 one3d.nii -o $m-3d.tsv -q &&
		finite $m-zero.tsv $m-3d.tsv &&
		test "$(wc -l <$m-zero.tsv)" = 33 && test "$(wc -l <$m-3d.tsv)" = 2 || return 1
	done
'

test_done
