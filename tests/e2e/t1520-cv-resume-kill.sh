#!/bin/sh
# t1520: a permutation run killed with SIGKILL in the middle - one worker
# rank, rank 0 (which holds the checkpoint ledger), or the whole job
# (mpirun and every rank, as a node failure) - is finished by
# `nidec run --resume`, with any number of ranks, into outputs identical
# byte for byte to those of an uninterrupted run (README "Checkpoint and
# resume").  The tasks are slowed down by NIDEC_TEST_TASK_DELAY (a sleep:
# no CPU) so that the kill lands in the middle; the ledger is known to hold
# finished results when it has grown past 20 kB (its header is < 1 kB, a
# result record a few hundred bytes).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"
. "$TESTS_DIR/e2e/permlib.sh"

PERM="--set cv.permutations=20"   # 21 x 16 = 336 tasks
DELAY=0.03                         # ~5 s on 2 ranks

test_expect_success 'the uninterrupted reference run' '
	make_synth syn 3 0.5 &&
	perm_run 2 out $PERM >/dev/null &&
	mv out ref
'

# killed_run WHAT: start a slow run into out/, kill WHAT once the ledger
# holds results, wait for every process of the job to be gone.
killed_run() {
	rm -rf out &&
	NIDEC_TEST_TASK_DELAY=$DELAY &&
	export NIDEC_TEST_TASK_DELAY &&
	perm_bg 2 out $PERM &&
	unset NIDEC_TEST_TASK_DELAY &&
	wait_bytes out/results.ledger 20000 &&
	ranks="$(rank_pid $bg_pid 0) $(rank_pid $bg_pid 1)" &&
	case $1 in
	rank1) kill -9 $(rank_pid $bg_pid 1) ;;
	rank0) kill -9 $(rank_pid $bg_pid 0) ;;
	job) kill -9 $bg_pid $ranks ;;
	esac &&
	rc=0 && { wait $bg_pid || rc=$?; } &&
	for p in $ranks; do wait_gone $p 10 || return 1; done &&
	say "killed $1: mpirun exit $rc, ledger $(stat -c %s out/results.ledger) bytes" &&
	test $rc != 0 &&
	! test -e out/summary.json
}

# resumed N: finish out/ with N ranks; the checkpoint held some but not all tasks
resumed() {
	perm_run $1 out $PERM --resume >stdout 2>stderr &&
	cat stderr &&
	grep -q "resume: [1-9][0-9]* of 336 tasks already done" stderr &&
	! grep -q "resume: 336 of 336" stderr &&
	! test -e out/results.ledger &&
	same_outputs ref out
}

test_expect_success 'SIGKILL of a worker rank, then --resume on 3 ranks: identical outputs' '
	killed_run rank1 &&
	resumed 3
'

test_expect_success 'SIGKILL of rank 0, then --resume on 1 rank: identical outputs' '
	killed_run rank0 &&
	resumed 1
'

test_expect_success 'SIGKILL of the whole job (mpirun and every rank), then --resume: identical outputs' '
	killed_run job &&
	resumed 2
'

test_expect_success '--resume of a completed run reruns nothing and rewrites the same outputs' '
	perm_run 2 out $PERM --resume >stdout 2>stderr &&
	grep -q "resume: 336 of 336 tasks already done (ledger kept in .*results.h5" stderr &&
	same_outputs ref out
'

test_done
