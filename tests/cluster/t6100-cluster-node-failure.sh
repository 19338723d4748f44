#!/bin/sh
# t6100: a node dies in the middle of a permutation run on two of three
# nodes (jobs/nidec-permutations.sbatch -N 2, --requeue): its link goes
# down, then every process in its namespace is killed (slurmd, the ranks,
# and for node1 the batch shell and srun too), as when a node loses power.
# The job must end in bounded time: slurmctld sets the node DOWN after
# SlurmdTimeout (10 s here; pings wait MessageTimeout, 5 s), kills the job
# on its other node (KillWait, 5 s) and requeues it (tests/cluster/cluster.sh
# has the settings, README "Running on a cluster" the defaults).  The
# requeued job runs on the two nodes left, --resume continues from the
# checkpoint rank 0 kept on the shared file system, and the outputs are
# byte-identical to an uninterrupted one-rank run.  Twice: a node without
# rank 0 (node2), then the node with rank 0 and the batch shell (node1).
# Then without Slurm: mpirun --host over two nodes, one of which dies.
. "$(dirname "$0")/lib.sh"

PERMS=60    # 61 x 36 = 2196 tasks
BOUND=90    # seconds from the failure to the requeue (measured: about 20)

test_expect_success 'setup: a subject, its uninterrupted one-rank run' '
	"$NIDEC" synth -q -o sub --subject 09 --dims 16x20x10 --runs 6 --volumes 60 \
		--classes 2 --signal 0.15 --seed 9 &&
	"$NIDEC" run sub/synth.ini -q --progress 0 --set output.dir=ref --set output.report=false \
		--set cv.permutations=$PERMS >/dev/null
'

# fail NODE DIR: submit the permutation job into DIR, kill NODE once the
# checkpoint holds results, check the bound, let the requeued job finish
fail() {
	j=$(on_head env NIDEC_TEST_TASK_DELAY=0.02 PERMUTATIONS=$PERMS sbatch --parsable -N 2 -n 4 \
		--ntasks-per-node=2 -o $2-%j.out "$JOBS/nidec-permutations.sbatch" sub/synth.ini \
		--set output.dir=$2 --set output.report=false --progress 1 --timing) &&
	echo $j >$2.id &&
	log_has $2-$j.out "cv: [0-9]*/2196 tasks" &&
	on_head squeue -h -o "%i %T %N" -j $j | grep -q "RUNNING node\[1-2\]" &&
	t0=$(date +%s) &&
	bash "$CLUSTER_SH" kill-node $1 &&
	i=0 &&
	until job_state $j | grep -q "Restarts=1"; do
		sleep 1
		i=$((i + 1))
		test $i -le $BOUND || { echo "job $j not requeued $BOUND s after $1 died"; return 1; }
	done &&
	echo "$1 died; job $j requeued $(($(date +%s) - t0)) s later" &&
	on_head sinfo -h -N -n $1 -o %T | grep -q "^down" &&
	requeued $j &&
	cluster_wait $j &&
	echo "$1 died; job $j completed $(($(date +%s) - t0)) s later" &&
	cat $2-$j.out
}

# resumed DIR DEAD: the second start resumed, ran on the other two nodes
resumed() {
	j=$(cat $1.id) &&
	grep -q "nidec-permutations: .* (job $j, start 1," $1-$j.out &&
	grep -q "resume: [1-9][0-9]* of 2196 tasks already done" $1-$j.out &&
	grep -q "nidec-permutations: done" $1-$j.out &&
	grep "^timing: *[0-9]" $1-$j.out | tail -n 4 >hosts &&
	cat hosts && test $(wc -l <hosts) = 4 && ! grep -q " $2$" hosts &&
	same_files ref $1
}

test_expect_success 'node2 (ranks 2-3) dies: requeued within the bound, resumed on node1 + node3, identical' '
	fail node2 fail2 &&
	resumed fail2 node2
'

test_expect_success 'node2 comes back' '
	bash "$CLUSTER_SH" revive-node node2 &&
	on_head sinfo -h -N -o "%N %T" >nodes && cat nodes && test $(grep -c idle nodes) = 3
'

test_expect_success 'node1 (rank 0, the batch shell, srun) dies: requeued, resumed on node2 + node3, identical' '
	fail node1 fail1 &&
	resumed fail1 node1
'

test_expect_success 'node1 comes back' '
	bash "$CLUSTER_SH" revive-node node1 &&
	on_head sinfo -h -N -o "%N %T" >nodes && cat nodes && test $(grep -c idle nodes) = 3
'

# Without Slurm, mpirun learns of a dead node from its daemon's TCP
# connection: silent once the link is down, so it takes Open MPI's
# keepalive (oob_tcp_keepalive_time + _intvl x _probes: 300 + 20 x 9 s by
# default, 5 + 2 x 3 s here).  mpirun then ends the job; the same command
# with --resume on the nodes left finishes it.
test_expect_success 'mpirun --host without Slurm: node2 dies, mpirun ends within its keepalive, --resume elsewhere' '
	rm -rf fail3 &&
	{ rc=0 && on_node node1 env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 NIDEC_TEST_TASK_DELAY=0.02 \
		mpirun --mca plm_rsh_agent "$RSH_AGENT" --mca oob_tcp_keepalive_time 5 \
		--mca oob_tcp_keepalive_intvl 2 --mca oob_tcp_keepalive_probes 3 -x NIDEC_TEST_TASK_DELAY \
		--host node1:2,node2:2 -n 4 "$NIDEC" run sub/synth.ini --set output.dir=fail3 \
		--set output.report=false --set cv.permutations=$PERMS --progress 1 >fail3.out 2>&1 || rc=$?
		echo $rc >fail3.rc; } &
	log_has fail3.out "cv: [0-9]*/2196 tasks" &&
	t0=$(date +%s) &&
	bash "$CLUSTER_SH" kill-node node2 &&
	i=0 &&
	until test -s fail3.rc; do
		sleep 1
		i=$((i + 1))
		test $i -le 60 || { echo "mpirun still running 60 s after node2 died"; return 1; }
	done &&
	echo "mpirun ended $(($(date +%s) - t0)) s after node2 died, status $(cat fail3.rc)" &&
	cat fail3.out && test "$(cat fail3.rc)" != 0 &&
	grep -q "ORTE has lost communication with a remote daemon" fail3.out &&
	test -s fail3/results.ledger &&
	on_node node1 env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
		mpirun --mca plm_rsh_agent "$RSH_AGENT" --host node1:2,node3:2 -n 4 "$NIDEC" run sub/synth.ini \
		--set output.dir=fail3 --set output.report=false --set cv.permutations=$PERMS --progress 0 \
		--resume --timing >resume3.out 2>&1 &&
	cat resume3.out &&
	grep -q "resume: [1-9][0-9]* of 2196 tasks already done" resume3.out &&
	grep "^timing: *[0-9]" resume3.out >hosts && grep -q " node3$" hosts && ! grep -q " node2$" hosts &&
	same_files ref fail3
'

test_expect_success 'no job left in the queue' '
	test -z "$(on_head squeue -h -o %i)"
'

cluster_done
