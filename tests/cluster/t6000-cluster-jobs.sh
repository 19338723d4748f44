#!/bin/sh
# t6000: the jobs/ templates on a three-node Slurm cluster (network
# namespaces on this machine, tests/cluster/cluster.sh), every one with
# its ranks on two nodes talking over TCP, and mpirun across nodes without
# Slurm.  Every output is byte-identical to a one-rank run:
#  - nidec-run.sbatch -N 2: --timing shows the ranks on node1 and node2;
#  - nidec-sweep.sbatch -N 2 (the whole sweep in one allocation);
#  - nidec-sweep-array.sbatch, each array task on two nodes, then
#    nidec-sweep-gather.sbatch after it (afterok);
#  - the pair `nidec sweep --emit-slurm` writes, submitted with -N 2;
#  - mpirun --host node1:2,node2:2 (ssh replaced by tests/cluster/rsh-agent.sh);
#  - mpirun inside a two-node allocation (Open MPI starts its daemons with srun).
# nidec-permutations.sbatch runs on two nodes in t6100 (node failures).
. "$(dirname "$0")/lib.sh"

SYN="--dims 10x12x8 --runs 4 --volumes 30 --classes 2 --signal 0.15"
OMPI="OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"

# on_two_nodes LOG: the --timing table of LOG has ranks on node1 and node2
on_two_nodes() {
	grep "^timing: *[0-9]" "$1" >hosts &&
	grep -q " node1$" hosts && grep -q " node2$" hosts
}

test_expect_success 'setup: 3 synthetic subjects, a sweep, one-rank references' '
	for s in 1 2 3; do
		"$NIDEC" synth -q -o bids/sub-0$s/func --subject 0$s $SYN --seed $s || exit 1
	done &&
	printf "[data]\nconditions = face, cat\n[output]\ndir = out\nreport = false\n" >analysis.ini &&
	printf "[sweep]\nanalysis = analysis.ini\nbids_root = bids\ntask = synth\n" >sweep.ini &&
	printf "mask = bids/sub-{subject}/func/mask.nii.gz\n" >>sweep.ini &&
	"$NIDEC" run bids/sub-01/func/synth.ini -q --progress 0 --set output.dir=ref-run \
		--set output.report=false --set cv.permutations=10 >/dev/null &&
	"$NIDEC" sweep sweep.ini -q --progress 0 --set output.dir=ref-sweep >/dev/null &&
	test -s ref-sweep/group_summary.json &&
	on_head sinfo -h -N -o "%N %T" >nodes && cat nodes && test $(grep -c idle nodes) = 3
'

test_expect_success 'jobs/nidec-run.sbatch -N 2: ranks on node1 and node2, files of one rank' '
	j=$(on_head sbatch --parsable -N 2 -n 4 --ntasks-per-node=2 -o run-%j.out \
		"$JOBS/nidec-run.sbatch" bids/sub-01/func/synth.ini --set output.dir=run-slurm \
		--set output.report=false --set cv.permutations=10 --timing) &&
	cluster_wait $j && cat run-$j.out &&
	grep -q "^nidec-run: .* on 4 ranks, nodes node\[1-2\]" run-$j.out &&
	on_two_nodes run-$j.out &&
	test $(grep -c " node1$" hosts) = 2 && test $(grep -c " node2$" hosts) = 2 &&
	same_files ref-run run-slurm
'

# The three sweeps go in at once: the cluster has room for all of them.
test_expect_success 'submit nidec-sweep.sbatch, the array + gather and the emitted pair, all on two nodes' '
	on_head sbatch --parsable -N 2 -n 4 --ntasks-per-node=2 -o sweep-%j.out \
		"$JOBS/nidec-sweep.sbatch" sweep.ini --set output.dir=sweep-slurm --timing >id.sweep &&
	j=$(on_head sbatch --parsable --array=0-2 -N 2 -n 2 --ntasks-per-node=1 -o arr-%A_%a.out \
		"$JOBS/nidec-sweep-array.sbatch" sweep.ini --set output.dir=array-slurm --timing) &&
	echo $j >id.array &&
	on_head sbatch --parsable --dependency=afterok:$j -o gather-%j.out \
		"$JOBS/nidec-sweep-gather.sbatch" sweep.ini --set output.dir=array-slurm >id.gather &&
	"$NIDEC" sweep sweep.ini --set output.dir=emit-slurm --emit-slurm emit --ntasks 2 \
		--time 00:10:00 --mem-per-cpu 1G >stdout &&
	cat stdout &&
	j=$(on_head sbatch --parsable -N 2 --ntasks-per-node=1 emit/sweep-array.sbatch) && echo $j >id.emit &&
	on_head sbatch --parsable --dependency=afterok:$j emit/sweep-gather.sbatch >id.emitgather &&
	test -s id.sweep && test -s id.gather && test -s id.emitgather
'

test_expect_success 'jobs/nidec-sweep.sbatch -N 2: group and subject files of one rank' '
	j=$(cat id.sweep) && cluster_wait $j && cat sweep-$j.out &&
	grep -q "sweep: 3 subjects, .* tasks on 4 ranks" sweep-$j.out &&
	on_two_nodes sweep-$j.out &&
	for s in 01 02 03; do same_files ref-sweep/sub-$s sweep-slurm/sub-$s || exit 1; done &&
	cmp ref-sweep/group_scores.tsv sweep-slurm/group_scores.tsv &&
	grep -v "\"sweep\":" ref-sweep/group_summary.json >expect &&
	grep -v "\"sweep\":" sweep-slurm/group_summary.json >actual &&
	test_cmp expect actual
'

test_expect_success 'jobs/nidec-sweep-array.sbatch on two nodes per task + the gather (afterok)' '
	j=$(cat id.array) g=$(cat id.gather) && cluster_wait $j $g && cat gather-$g.out &&
	for a in 0 1 2; do on_two_nodes arr-${j}_$a.out || exit 1; done &&
	for s in 01 02 03; do same_files ref-sweep/sub-$s array-slurm/sub-$s || exit 1; done &&
	cmp ref-sweep/group_scores.tsv array-slurm/group_scores.tsv &&
	grep -v "\"sweep\":" array-slurm/group_summary.json >actual &&
	test_cmp expect actual
'

test_expect_success 'the pair --emit-slurm writes, on two nodes per array task' '
	j=$(cat id.emit) g=$(cat id.emitgather) && cluster_wait $j $g &&
	cat emit/logs/sweep-gather-$g.out &&
	on_head scontrol -o show job $j | grep -o " NodeList=node[^ ]*" | sort -u >nodelists &&
	cat nodelists && test $(grep -c "node\[" nodelists) -ge 1 &&
	for s in 01 02 03; do same_files ref-sweep/sub-$s emit-slurm/sub-$s || exit 1; done &&
	cmp ref-sweep/group_scores.tsv emit-slurm/group_scores.tsv &&
	grep -v "\"sweep\":" emit-slurm/group_summary.json >actual &&
	test_cmp expect actual
'

test_expect_success 'mpirun --host node1:2,node2:2 without Slurm: files of one rank' '
	on_node node1 env $OMPI mpirun --mca plm_rsh_agent "$RSH_AGENT" --host node1:2,node2:2 -n 4 \
		"$NIDEC" run bids/sub-01/func/synth.ini --progress 0 --set output.dir=run-mpirun \
		--set output.report=false --set cv.permutations=10 --timing >mpirun.out 2>&1 &&
	cat mpirun.out &&
	on_two_nodes mpirun.out &&
	same_files ref-run run-mpirun
'

test_expect_success 'mpirun inside a two-node allocation: files of one rank' '
	j=$(on_head sbatch --parsable -N 2 -n 4 --ntasks-per-node=2 -o alloc-%j.out \
		--wrap "env $OMPI mpirun -n 4 $NIDEC run bids/sub-01/func/synth.ini --progress 0 --set output.dir=run-alloc --set output.report=false --set cv.permutations=10 --timing") &&
	cluster_wait $j && cat alloc-$j.out &&
	on_two_nodes alloc-$j.out &&
	same_files ref-run run-alloc
'

test_expect_success 'no job left in the queue' '
	test -z "$(on_head squeue -h -o %i)"
'

cluster_done
