#!/bin/sh
# t6200: the exit-status contract under a real Slurm, ranks on two nodes
# (README "Exit status", the table of launchers and signals):
#  - TERM, INT or USR1 to the batch shell of jobs/nidec-run.sbatch
#    (scancel --batch --signal=...): the trap passes USR1 to srun, which
#    forwards it; the job's exit code is 3 and the checkpoint is saved;
#  - USR1 or INT to srun (--disable-status: INT goes to the ranks): 3;
#  - TERM to srun: srun SIGKILLs every rank (Slurm's "forcing job
#    termination"), the job ends 137; the checkpoint holds every result rank
#    0 had received, and --resume goes on from there;
#  - the batch shell at a real time limit: the array script that
#    `nidec sweep --emit-slurm` writes, submitted with --time=2 and
#    --signal=B:TERM@100, gets TERM from Slurm, stops with 3, requeues
#    itself and finishes with --resume;
# and every interrupted run, resumed, gives the files of an uninterrupted
# one-rank run.  The mpirun paths (no Slurm) are in tests/e2e/t1530.
. "$(dirname "$0")/lib.sh"

PERMS=60    # 61 x 16 = 976 tasks
PATHS="batch-TERM batch-INT batch-USR1 srun-USR1 srun-INT srun-TERM"

# srun_pid JOB: the pid of the job step's srun (not its shepherd child)
srun_pid() {
	h=$(on_head scontrol -o show job "$1" | grep -o "BatchHost=[^ ]*" | cut -d= -f2) &&
	for p in $(node_pids "$h" srun); do
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "SLURM_JOB_ID=$1" || continue
		[ "$(cat "/proc/$(awk '{print $4}' "/proc/$p/stat")/comm" 2>/dev/null)" = srun ] && continue
		echo "$p"
		return 0
	done
	echo "srun_pid: no srun of job $1 on $h" >&2
	return 1
}

test_expect_success 'setup: a subject, its uninterrupted one-rank run' '
	"$NIDEC" synth -q -o sub --subject 07 --dims 10x12x8 --runs 4 --volumes 30 \
		--classes 2 --signal 0.15 --seed 7 &&
	"$NIDEC" run sub/synth.ini -q --progress 0 --set output.dir=ref --set output.report=false \
		--set cv.permutations=$PERMS >/dev/null
'

# Six slowed runs (about 25 s each; sleeping tasks, no CPU) go in at once,
# one per path, each on two nodes.
test_expect_success 'submit one jobs/nidec-run.sbatch job per signal path, each on two nodes' '
	for p in $PATHS; do
		on_head env NIDEC_TEST_TASK_DELAY=0.05 sbatch --parsable -N 2 -n 2 --ntasks-per-node=1 \
			-o $p-%j.out "$JOBS/nidec-run.sbatch" sub/synth.ini --set output.dir=$p \
			--set output.report=false --set cv.permutations=$PERMS --progress 1 >$p.id || exit 1
	done
'

# signal PATH: send the path's signal, then the job's exit code must be WANT
signal() {
	j=$(cat $1.id) &&
	case $1 in
	batch-*) on_head scancel --batch --signal=${1#batch-} $j ;;
	srun-*) kill -${1#srun-} $(srun_pid $j) ;;
	esac
}

# stopped PATH CODE SIGNAL: the job ended with CODE, nidec said so, the
# checkpoint is there and no result file
stopped() {
	j=$(cat $1.id) &&
	test_expect_code $2 cluster_wait $j &&
	cat $1-$j.out &&
	test -s $1/results.ledger && ! test -e $1/summary.json &&
	if [ $2 = 3 ]; then
		grep -q "^nidec: error: interrupted by $3: [0-9]*/976 tasks saved in .$1/results.ledger.; run again with --resume" $1-$j.out &&
		grep -q "^nidec-run: interrupted, checkpoint saved" $1-$j.out
	fi
}

test_expect_success 'send the six signals, each once its run has results' '
	for p in $PATHS; do
		log_has $p-$(cat $p.id).out "cv: [0-9]*/976 tasks" && signal $p || exit 1
	done
'

test_expect_success 'TERM to the batch shell: USR1 to the ranks, exit 3, checkpoint saved' '
	stopped batch-TERM 3 SIGUSR1 && grep -q "^nidec-run: stop signal" batch-TERM-*.out
'
test_expect_success 'INT to the batch shell: exit 3, checkpoint saved' '
	stopped batch-INT 3 SIGUSR1
'
test_expect_success 'USR1 to the batch shell: exit 3, checkpoint saved' '
	stopped batch-USR1 3 SIGUSR1
'
test_expect_success 'USR1 to srun (forwarded): exit 3, checkpoint saved' '
	stopped srun-USR1 3 SIGUSR1
'
test_expect_success 'INT to srun (--disable-status: forwarded at once): exit 3, checkpoint saved' '
	stopped srun-INT 3 SIGINT
'
test_expect_success 'TERM to srun: Slurm SIGKILLs the ranks (exit 137); the checkpoint keeps what rank 0 had' '
	stopped srun-TERM 137 &&
	grep -q "srun: forcing job termination" srun-TERM-*.out &&
	! grep -q "^nidec: error: interrupted" srun-TERM-*.out
'

test_expect_success 'each of them resumed (--resume, one rank): the files of the uninterrupted run' '
	for p in $PATHS; do
		"$NIDEC" run sub/synth.ini --progress 0 --set output.dir=$p --set output.report=false \
			--set cv.permutations=$PERMS --resume >$p.resume 2>&1 &&
		grep -q "resume: [1-9][0-9]* of 976 tasks already done" $p.resume &&
		same_files ref $p || { cat $p.resume; exit 1; }
	done
'

# A real time limit: Slurm checks its limits every 30 s and sends a
# --signal up to that much early, so the TERM (B:TERM@30 of a 1-minute
# limit) comes 0 to 30 s after the start; the run needs about 35 s (2
# ranks, 70 ms per task), so each start is stopped and requeued until one
# finishes.
test_expect_success 'the --emit-slurm array at a real time limit (--signal=B:TERM@N): exit 3, requeued, resumed' '
	printf "[data]\nconditions = face, cat\n[output]\ndir = out\nreport = false\n[cv]\npermutations = $PERMS\n" >analysis.ini &&
	printf "[sweep]\nanalysis = analysis.ini\nsubjects = 07\n" >sweep.ini &&
	printf "bold = sub/sub-{subject}_task-synth_run-*_bold.nii.gz\n" >>sweep.ini &&
	printf "events = sub/sub-{subject}_task-synth_run-*_events.tsv\nmask = sub/mask.nii.gz\n" >>sweep.ini &&
	"$NIDEC" sweep sweep.ini --emit-slurm emit --ntasks 2 --time 00:01:00 --mem-per-cpu 1G >stdout &&
	grep -q "^#SBATCH --signal=B:TERM@120$" emit/sweep-array.sbatch &&
	j=$(on_head env NIDEC_TEST_TASK_DELAY=0.07 sbatch --parsable -N 2 --ntasks-per-node=1 \
		--signal=B:TERM@30 emit/sweep-array.sbatch) &&
	log=emit/logs/sweep-${j}_0.out &&
	log_has $log "interrupted; requeueing sub-07" &&
	k=0 seen=0 &&
	while :; do
		st=$(job_state $j) &&
		case $st in
		*COMPLETED* | *FAILED* | *CANCELLED* | *TIMEOUT*) break ;;
		*PENDING*Restarts=*)
			# once per restart: a later StartTime would only delay it
			r=${st##*Restarts=} && r=${r%% *} &&
			if [ "$r" != "$seen" ]; then requeued $j && seen=$r; fi ;;
		esac
		sleep 1
		k=$((k + 1))
		test $k -le 400 || { echo "job $j still not done"; exit 1; }
	done &&
	cluster_wait $j && cat $log &&
	grep -q "^nidec: error: interrupted: 0 subjects written, 1 unfinished" $log &&
	grep -q "sub-07: resume: [1-9][0-9]* of 976 tasks already done" $log &&
	grep -q "sub-07: written" $log &&
	same_files ref out/sub-07
'

test_expect_success 'no job left in the queue' '
	test -z "$(on_head squeue -h -o %i)"
'

cluster_done
