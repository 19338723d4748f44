#!/bin/sh
# t1910: bad input of a regression (issue 18): one-line errors naming the
# key or file and the fix, exit status 1, no result written.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"
D=$NIDEC_TEST_DATA

test_expect_success 'a labels table with a target, and variants' '
	"$PYTHON" "$TESTS_DIR/e2e/check_regression.py" make $D rating.txt &&
	awk "NR == 1 { print; next } { if (NR == 40) \$3 = \"n/a\"; print }" rating.txt >na.txt &&
	awk "NR == 1 { print; next } { \$3 = 5; print }" rating.txt >const.txt &&
	awk "NR == 1 { print \"labels chunks\"; next } { print \$3, \$2 }" rating.txt >numeric.txt &&
	printf "[data]\nbold = %s\nmask = %s\nconditions = face, cat\n[output]\nreport = false\nprogress = 0\n" \
		"$D/bold.nii.gz" "$D/mask.nii.gz" >base.ini
'

# one line on stderr, the wanted words, exit 1, no scores.tsv
expect_error() {
	dir=$1
	want=$2
	shift 2
	test_expect_code 1 $NIDEC run base.ini -q --set output.dir=$dir "$@" 2>err &&
	test $(wc -l <err) = 1 &&
	grep -qF -- "$want" err &&
	! test -f $dir/scores.tsv
}

test_expect_success 'a target that is not a number: the file, the line and the fix' '
	expect_error e1 "na.txt'\'' line 40: target '\''n/a'\'' (column '\''rating'\'') is not a number" \
		--set data.labels=$PWD/na.txt --set data.target_column=rating --set model.estimator=ridge
'

test_expect_success 'a constant target' '
	expect_error e2 "the target is 5 for every selected sample" \
		--set data.labels=$PWD/const.txt --set data.target_column=rating --set model.estimator=ridge
'

test_expect_success 'a column that does not exist, with a suggestion' '
	expect_error e3 "no column '\''ratng'\'' (the header has: labels, chunks, rating); did you mean '\''rating'\''" \
		--set data.labels=$PWD/rating.txt --set data.target_column=ratng --set model.estimator=ridge
'

test_expect_success 'fewer samples than folds: at most half as many folds as samples (r2 needs two)' '
	expect_error e4 "300 folds of 216 samples test one sample (or none), and r2 is undefined on one sample; lower [cv] n_folds to at most 108" \
		--set data.labels=$PWD/rating.txt --set data.target_column=rating --set model.estimator=ridge \
		--set cv.scheme=kfold --set cv.n_folds=300
'

test_expect_success 'roc_auc with a regressor, r2 with a classifier, a classifier for regression' '
	test_expect_code 1 $NIDEC run base.ini --set data.labels=$PWD/rating.txt \
		--set data.target_column=rating --set model.estimator=svr --set cv.scoring=roc_auc 2>err &&
	grep -q "scoring = roc_auc scores a classifier; with \[model\] task = regression use r2" err &&
	test_expect_code 1 $NIDEC run base.ini --set data.labels=$D/labels.txt --set cv.scoring=r2 2>err &&
	grep -q "scoring = r2 scores continuous predictions" err &&
	test_expect_code 1 $NIDEC run base.ini --set data.labels=$PWD/rating.txt \
		--set data.target_column=rating --set model.task=regression 2>err &&
	grep -q "estimator = svc is a classifier; with \[model\] task = regression use svr, ridge, lasso or dummy_regressor" err
'

test_expect_success 'a numeric label column decoded as classes: says to use task = regression' '
	expect_error e5 "distinct numbers (e.g." \
		--set data.labels=$PWD/numeric.txt --set data.conditions= &&
	grep -q "set \[model\] task = regression, \[data\] target_column = labels" err
'

test_expect_success 'nidec cv on a dataset without the target, or with another column'\''s' '
	$NIDEC convert --bold $D/bold.nii.gz --mask $D/mask.nii.gz --labels rating.txt \
		--conditions face,cat -o plain.h5 -q &&
	test_expect_code 1 $NIDEC cv plain.h5 -o cv1 -q --set model.estimator=ridge \
		--set data.target_column=rating 2>err &&
	grep -q "dataset .plain.h5. holds no target; convert it again with \[data\] target_column = rating" err &&
	$NIDEC convert --bold $D/bold.nii.gz --mask $D/mask.nii.gz --labels rating.txt \
		--conditions face,cat --set model.estimator=ridge --set data.target_column=rating -o t.h5 -q &&
	test_expect_code 1 $NIDEC cv t.h5 -o cv2 -q --set model.estimator=ridge \
		--set data.target_column=chunks 2>err &&
	grep -q "holds the target of column .rating., not of \[data\] target_column = chunks" err &&
	$NIDEC cv t.h5 -o cv3 -q --progress 0 --set model.estimator=ridge --set data.target_column=rating \
		--set output.report=false &&
	test $(wc -l <cv3/scores.tsv) = 13
'

test_expect_success 'a target altered after conversion: its checksum sees it (issue 20)' '
	cp t.h5 t-altered.h5 &&
	"$PYTHON" -c "import h5py, sys; f = h5py.File(sys.argv[1], \"r+\"); f[\"target\"][0] += 0.5" t-altered.h5 &&
	test_expect_code 1 $NIDEC cv t-altered.h5 -o cv4 -q --set model.estimator=ridge \
		--set data.target_column=rating 2>err &&
	test $(wc -l <err) = 1 &&
	grep -q "t-altered.h5.: /target does not match the checksum recorded when it was converted" err &&
	! test -e cv4/scores.tsv &&
	"$PYTHON" -c "import h5py, sys; assert \"target\" in h5py.File(sys.argv[1])[\"crc32\"]" t.h5
'

test_done
