#!/bin/sh
# t1530: SIGTERM (what Slurm sends at a time limit or preemption, to every
# task of an srun step) and SIGUSR1 (what mpirun forwards to every rank)
# stop a permutation run cleanly: no new tasks, the running ones finish,
# the checkpoint is saved, every rank exits with status 3 and one message
# says how to go on; `--resume` then gives outputs identical to an
# uninterrupted run (README "Checkpoint and resume").  A signal that only
# a worker gets changes nothing: rank 0 decides.  TERM and INT to mpirun
# save the checkpoint too, but mpirun's own status is 1 (below).  The same
# signals under Slurm: tests/cluster/t6200.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"
. "$TESTS_DIR/e2e/permlib.sh"

PERM="--set cv.permutations=20"   # 21 x 16 = 336 tasks
DELAY=0.03                         # ~5 s on 2 ranks

test_expect_success 'the uninterrupted reference run' '
	make_synth syn 4 0.5 &&
	perm_run 2 out $PERM >/dev/null &&
	mv out ref
'

# slow_bg N: a slow run into out/ with N ranks, running once the ledger
# holds results
slow_bg() {
	rm -rf out &&
	NIDEC_TEST_TASK_DELAY=$DELAY &&
	export NIDEC_TEST_TASK_DELAY &&
	perm_bg $1 out $PERM &&
	unset NIDEC_TEST_TASK_DELAY &&
	wait_bytes out/results.ledger 20000
}

# stopped SIGNAL: the run stopped with status 3, one message, a checkpoint
stopped() {
	rc=0 && { wait $bg_pid || rc=$?; } &&
	cat bg.out &&
	test $rc = 3 &&
	test $(grep -c "^nidec: error: interrupted by $1: [0-9]*/336 tasks saved in .out/results.ledger.; run again with --resume" bg.out) = 1 &&
	test -s out/results.ledger &&
	! test -e out/summary.json
}

resumed() {
	perm_run 2 out $PERM --resume >stdout 2>stderr &&
	grep -q "resume: [1-9][0-9]* of 336 tasks already done" stderr &&
	same_outputs ref out
}

test_expect_success 'SIGTERM to every rank: exit 3 within 5 s, resumable to identical outputs' '
	slow_bg 2 &&
	t0=$(date +%s) &&
	kill -TERM $(rank_pid $bg_pid 0) $(rank_pid $bg_pid 1) &&
	stopped SIGTERM &&
	test $(($(date +%s) - t0)) -le 5 &&
	resumed
'

test_expect_success 'SIGUSR1 to mpirun (forwarded to the ranks): exit 3, resumable' '
	slow_bg 3 &&
	kill -USR1 $bg_pid &&
	stopped SIGUSR1 &&
	resumed
'

# mpirun (Open MPI 4.1) takes its own TERM or INT as "abort the job": it
# sends SIGTERM to every rank, SIGKILL odls_base_sigkill_timeout (1 s)
# later, and exits 1 whatever the ranks do.  The ranks stop as on SIGTERM
# and save the checkpoint in that second (the running tasks here take
# 30 ms); the status is mpirun's (README "Exit status": send USR1 to get 3).
test_expect_success 'SIGTERM to mpirun: the checkpoint is saved, mpirun exits 1, resumable' '
	slow_bg 2 &&
	kill -TERM $bg_pid &&
	rc=0 && { wait $bg_pid || rc=$?; } &&
	cat bg.out &&
	test $rc = 1 &&
	grep -q "^nidec: error: interrupted by SIGTERM: [0-9]*/336 tasks saved in .out/results.ledger.; run again with --resume" bg.out &&
	test -s out/results.ledger && ! test -e out/summary.json &&
	resumed
'

test_expect_success 'SIGINT to mpirun (Ctrl-C): the same (mpirun sends the ranks SIGTERM), resumable' '
	slow_bg 2 &&
	kill -INT $bg_pid &&
	rc=0 && { wait $bg_pid || rc=$?; } &&
	cat bg.out &&
	test $rc = 1 &&
	grep -q "^nidec: error: interrupted by SIGTERM: [0-9]*/336 tasks saved" bg.out &&
	resumed
'

test_expect_success 'SIGTERM to a worker only: rank 0 decides, the run completes' '
	slow_bg 2 &&
	kill -TERM $(rank_pid $bg_pid 1) &&
	wait $bg_pid &&
	same_outputs ref out
'

test_expect_success 'SIGTERM to a run without mpirun: exit 3, resumable' '
	rm -rf out &&
	NIDEC_TEST_TASK_DELAY=0.01 "$NIDEC" run syn/synth.ini --set output.dir=out \
		--set output.report=false --progress 0 $PERM >bg.out 2>&1 &
	bg_pid=$! &&
	wait_bytes out/results.ledger 20000 &&
	kill -TERM $bg_pid &&
	stopped SIGTERM &&
	resumed
'

test_done
