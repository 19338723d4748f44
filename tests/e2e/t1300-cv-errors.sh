#!/bin/sh
# t1300: bad config values and bad input give one clear error (printed once,
# by rank 0, under mpirun -n 2), a non-zero exit, and no output at all:
# everything the config and the labels can tell is checked before any work
# and before the output directory is created.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"

test_expect_success 'convert the face/cat dataset' '
	nidec_n 1 convert $DATA_OPTS --conditions face,cat -o ds.h5 >/dev/null
'

# cv_fails MESSAGE ARGS...: nidec cv on 2 ranks fails with status 1,
# prints MESSAGE exactly once and leaves no output directory.
cv_fails() {
	msg=$1
	shift
	rm -rf out
	rc=0
	nidec_n 2 cv ds.h5 "$@" -o out >stdout 2>stderr || rc=$?
	cat stderr >&2
	test "$rc" -ne 0 &&
	test "$(grep -c "error:" stderr)" = 1 &&
	grep -qF -- "$msg" stderr &&
	test ! -e out
}

# cv_usage MESSAGE ARGS...: a bad --set value is a bad command line: status
# 2, MESSAGE printed once as "nidec cv: ...", no output directory.
cv_usage() {
	msg=$1
	shift
	rm -rf out
	rc=0
	nidec_n 2 cv ds.h5 "$@" -o out >stdout 2>stderr || rc=$?
	cat stderr >&2
	test "$rc" = 2 &&
	test "$(grep -c "^nidec cv: " stderr)" = 1 &&
	grep "^nidec cv: " stderr | grep -qF -- "$msg" &&
	test ! -e out
}

test_expect_success 'unknown estimator: error with a suggestion, no output' '
	cv_usage "[model] estimator = '\''svm'\'' is unknown; did you mean '\''svc'\''?" --set model.estimator=svm
'

test_expect_success 'C <= 0' '
	cv_usage "[model] C: '\''0'\'' is not a number > 0" --set model.C=0,1,10 &&
	cv_usage "[model] C: '\''-1'\'' is not a number > 0" --set model.C=-1
'

test_expect_success 'screening percentile outside (0, 100]' '
	cv_usage "screening_percentile = '\''150'\'' is invalid; give a number in (0, 100]" \
		--set preprocess.screening_percentile=150 &&
	cv_usage "screening_percentile = '\''0'\'' is invalid" --set preprocess.screening_percentile=0 &&
	cv_usage "screening_percentile = '\''-5'\'' is invalid" --set preprocess.screening_percentile=-5
'

test_expect_success 'the same values in a config file are errors of the file (status 1)' '
	printf "[model]\nestimator = svm\n" >bad.ini &&
	cv_fails "config '\''bad.ini'\'': [model] estimator = '\''svm'\'' is unknown" bad.ini
'

test_expect_success 'more folds than samples' '
	cv_fails "500 folds but only 216 samples" --set cv.scheme=kfold --set cv.n_folds=500 &&
	cv_fails "200 folds but no class has that many samples" \
		--set cv.scheme=stratified-kfold --set cv.n_folds=200
'

test_expect_success 'a training fold with one class' '
	awk "BEGIN { print \"sample\tfold\"; i = 0 }
	     NR > 1 && (\$1 == \"face\" || \$1 == \"cat\") { print i \"\t\" (\$1 == \"face\" ? 0 : 1); i++ }" \
		"$NIDEC_TEST_DATA/labels.txt" >folds.tsv &&
	test $(wc -l <folds.tsv) = 217 &&
	cv_fails "the training part has no sample of class '\''face'\''" \
		--set cv.scheme=folds-file --set cv.folds_file=folds.tsv
'

test_expect_success 'a misspelt key, a condition the dataset lacks, a missing folds file' '
	cv_usage "unknown key '\''schem'\'' in [cv]; did you mean '\''scheme'\''" --set cv.schem=kfold &&
	cv_fails "'\''dog'\'' is not a condition of dataset" --set data.conditions=face,dog &&
	cv_fails "cannot open [cv] folds_file '\''nofile.tsv'\''" \
		--set cv.scheme=folds-file --set cv.folds_file=nofile.tsv
'

test_expect_success 'a missing dataset names the file' '
	rm -rf out &&
	test_must_fail nidec_n 2 cv nope.h5 -o out 2>stderr &&
	grep -q "cannot open '\''nope.h5'\''" stderr &&
	test ! -e out
'

test_expect_error 'no dataset: usage error (exit 2)' 2 'usage: nidec cv DATASET.h5' \
	'$NIDEC cv'
test_expect_error 'unknown option: usage error (exit 2)' 2 "unknown option '--bogus'" \
	'$NIDEC cv ds.h5 --bogus'
test_expect_error 'an output directory that cannot be created' 1 "cannot create directory '/proc/nidec-test'" \
	'$NIDEC cv ds.h5 -o /proc/nidec-test/out'

test_expect_success 'nidec run with a bad value writes nothing, not even the dataset' '
	rm -rf runout &&
	test_must_fail nidec_run $CONFIGS/haxby-slice.ini --set output.dir=runout --set model.C=0 2>stderr &&
	grep -q "is not a number > 0" stderr &&
	test ! -e runout
'

test_expect_success 'nidec run, an error found with the labels: no result file' '
	rm -rf runout &&
	test_must_fail nidec_run $CONFIGS/haxby-slice.ini --set output.dir=runout --set cv.scheme=kfold \
		--set cv.n_folds=999 2>stderr &&
	grep -q "999 folds but only 216 samples" stderr &&
	test ! -e runout/scores.tsv && test ! -e runout/summary.json && test ! -e runout/model.h5
'

test_expect_success 'an allocation failing on any rank, at any point: one error, exit 1, no hang' '
	# NIDEC_FAIL_ALLOC=N fails the Nth allocation of every rank (mem.h); the
	# N below land in reading, planning and inside tasks on rank 0 and on
	# the worker (inside the solver of a task at N = 1500 to 5500 with the
	# current core).  Each run must end (timeout), fail with status 1 and
	# print one error line per failing rank, or succeed when N is past the end of the job.
	# (The bound is for hangs: a whole run takes about 100 s under ASan.)
	n_failed=0 &&
	for n in 500 1500 2500 3500 4500 5500 6500; do
		rc=0
		timeout 600 $MPIRUN -n 2 -x NIDEC_FAIL_ALLOC=$n "$NIDEC" cv ds.h5 \
			$CONFIGS/haxby-slice.ini -o fa-$n --progress 0 --set output.report=false \
			>/dev/null 2>err-$n || rc=$?
		case $rc in
		0) ;;
		# every rank fails at its own Nth allocation: one line per
		# distinct error (comm.h), so one or two lines, all out of memory
		1) lines=$(grep -c "error:" err-$n) &&
		   test "$lines" -ge 1 && test "$lines" -le 2 &&
		   test "$(grep "error:" err-$n | grep -vc "out of memory")" = 0 ||
			{ cat err-$n; return 1; } ;;
		*) echo "N=$n: exit $rc"; cat err-$n; return 1 ;;
		esac
		test $rc = 0 || n_failed=$((n_failed + 1))
	done &&
	test $n_failed -ge 3
'

test_expect_success '--help lists every option with its default' '
	$NIDEC cv --help >help &&
	for o in -o --timing --set --progress -q -v; do grep -q -- "$o" help || return 1; done &&
	grep -q "default: 10" help &&
	$NIDEC run --help >help && grep -q -- --force help && grep -q -- --timing help &&
	$NIDEC predict --help >help && grep -q -- --labels help && grep -q "default: predictions.tsv" help
'

test_done
