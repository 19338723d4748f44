#!/bin/sh
# t1950: checkpoint and resume of a regression (issue 18: "everything else
# works unchanged for regression"): a permutation run of svr (nested C,
# targets shuffled within runs) killed with SIGKILL in the middle is
# finished by `nidec run --resume` on another number of ranks into outputs
# identical byte for byte to an uninterrupted run's, as t1520 checks for
# classification.  NIDEC_TEST_TASK_DELAY (a sleep) makes the kill land in
# the middle; the ledger holds finished results once past 20 kB.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"
. "$TESTS_DIR/e2e/permlib.sh"

JOB="--set model.estimator=svr --set cv.permutations=10"

test_expect_success 'the uninterrupted reference run' '
	"$NIDEC" synth -o syn --dims 8x8x8 --runs 4 --volumes 40 --classes 2 --mask-fraction 0.5 \
		--seed 5 --signal 0.5 --target -q &&
	perm_run 2 out $JOB >/dev/null &&
	mv out ref &&
	grep -q "\"task\": \"regression\"" ref/summary.json &&
	test $(wc -l <ref/null_scores.tsv) = 11
'

test_expect_success 'SIGKILL of a worker rank, then --resume on 3 ranks: identical outputs' '
	NIDEC_TEST_TASK_DELAY=0.03 &&
	export NIDEC_TEST_TASK_DELAY &&
	perm_bg 2 out $JOB &&
	unset NIDEC_TEST_TASK_DELAY &&
	wait_bytes out/results.ledger 20000 &&
	r1=$(rank_pid $bg_pid 1) &&
	kill -9 $r1 &&
	rc=0 && { wait $bg_pid || rc=$?; } &&
	wait_gone $r1 10 &&
	test $rc != 0 &&
	! test -e out/summary.json &&
	perm_run 3 out $JOB --resume >stdout 2>stderr &&
	grep "resume: " stderr >resume.txt &&
	cat resume.txt &&
	grep -q "resume: [1-9][0-9]* of [0-9]* tasks already done" resume.txt &&
	! grep -q "resume: \([0-9]*\) of \1 tasks" resume.txt &&
	! test -e out/results.ledger &&
	same_outputs ref out
'

test_done
