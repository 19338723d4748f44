# tests/e2e/permlib.sh - helpers of the permutation and checkpoint scripts
# (t15xx), sourced after lib.sh and cvlib.sh.  Not a test script itself.
#
#   make_synth DIR SEED SIGNAL   a small synthetic subject (8x8x8 grid, half
#                                of it in the mask, 4 runs x 40 volumes, 2
#                                classes: 112 samples x 256 voxels)
#   perm_run N DIR [ARGS...]     nidec run syn/synth.ini with N ranks into DIR
#                                (nidec $PERM_CMD when set, e.g. searchlight)
#   perm_bg N DIR [ARGS...]      the same in the background; $bg_pid = mpirun's pid
#   same_outputs A B             the same outputs (tests/e2e/same_outputs.py)
#   rank_pid MPIRUN_PID RANK     the pid of one rank (from its environment)
#   wait_bytes FILE BYTES [SEC]  wait until FILE holds at least BYTES bytes
#   wait_gone PID [SEC]          wait until PID has exited
#   for_seeds N K                one_subject SEED (the script's) for seeds
#                                1..N, K at a time; fails if any fails
# The jobs are small enough to take about a second of CPU; tests that must
# kill a run in the middle slow the tasks down with NIDEC_TEST_TASK_DELAY
# (sched.h), which sleeps and so costs no CPU.

make_synth() {
	"$NIDEC" synth -o "$1" --dims 8x8x8 --runs 4 --volumes 40 --classes 2 \
		--mask-fraction 0.5 --seed "$2" --signal "$3" -q
}

perm_run() {
	n=$1 dir=$2
	shift 2
	$MPIRUN -n "$n" "$NIDEC" ${PERM_CMD:-run} syn/synth.ini --set output.dir="$dir" \
		--set output.report=false --progress 0 "$@"
}

perm_bg() {
	n=$1 dir=$2
	shift 2
	$MPIRUN -n "$n" "$NIDEC" ${PERM_CMD:-run} syn/synth.ini --set output.dir="$dir" \
		--set output.report=false --progress 0 "$@" >bg.out 2>&1 &
	bg_pid=$!
}

same_outputs() {
	"$PYTHON" "$TESTS_DIR/e2e/same_outputs.py" "$1" "$2"
}

rank_pid() {
	for p in $(pgrep -P "$1"); do
		if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

wait_bytes() {
	t=0
	while [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -lt "$2" ]; do
		sleep 0.1
		t=$((t + 1))
		[ "$t" -lt "$((${3:-30} * 10))" ] || { say "timeout waiting for $1 to reach $2 bytes"; return 1; }
	done
}

wait_gone() {
	t=0
	while kill -0 "$1" 2>/dev/null; do
		sleep 0.1
		t=$((t + 1))
		[ "$t" -lt "$((${2:-30} * 10))" ] || { say "timeout waiting for pid $1 to exit"; return 1; }
	done
}

for_seeds() {
	seed=1
	while [ $seed -le "$1" ]; do
		pids=
		k=0
		while [ $k -lt "$2" ] && [ $seed -le "$1" ]; do
			one_subject $seed &
			pids="$pids $!"
			seed=$((seed + 1))
			k=$((k + 1))
		done
		for p in $pids; do wait $p || return 1; done
	done
}
