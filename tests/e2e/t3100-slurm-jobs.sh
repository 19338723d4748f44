#!/bin/sh
# t3100: every script in jobs/ (and the pair `nidec sweep --emit-slurm`
# writes) under a real Slurm: a single-node cluster started here by
# tests/slurm/slurm-local.sh, in its own directory and ports, stopped at the
# end if this script started it.  Checks:
#  - nidec-run.sbatch gives the same scores and maps as mpirun;
#  - nidec-sweep.sbatch (one allocation), nidec-sweep-array.sbatch +
#    nidec-sweep-gather.sbatch (afterok), and the emitted array + gather give
#    the same group files;
#  - a sweep job stopped as at its time limit (TERM to the batch shell, as
#    --signal=B:TERM@120 does) exits 3, requeues itself and finishes with
#    --resume to files identical to an uninterrupted run;
#  - the same for nidec-permutations.sbatch (nidec run --resume), skipped
#    with a message while `nidec run` has no --resume.
# Skipped with a message where Slurm cannot start (not root, no packages and
# no apt, ports taken) or when NIDEC_SLURM=0.
# lane: waits
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"

SLURM_SH="$TESTS_DIR/slurm/slurm-local.sh"
JOBS="$REPO_DIR/jobs"
export SLURM_LOCAL_DIR=${NIDEC_SLURM_DIR:-${TMPDIR:-/tmp}/nidec-slurm-test}
export SLURM_LOCAL_CTLD_PORT=${NIDEC_SLURM_CTLD_PORT:-6917}
export SLURM_LOCAL_SLURMD_PORT=${NIDEC_SLURM_SLURMD_PORT:-6918}
export SLURM_LOCAL_CPUS=${NIDEC_SLURM_CPUS:-12}
export SLURM_LOCAL_LINK_ETC=0
export SLURM_CONF="$SLURM_LOCAL_DIR/etc/slurm.conf"
export NIDEC
SYN="--dims 10x12x8 --runs 4 --volumes 30 --classes 2 --signal 0.15"
FILES="scores.tsv grid_scores.tsv predictions.tsv weights_face.nii.gz weights_std_face.nii.gz"

slurm_wait() {
	bash "$SLURM_SH" wait "$@"
}

# requeued JOB: wait (1 s polling) until the job was requeued, then let it
# start 2 s later instead of after Slurm's requeue delay.  Not at once:
# slurmd refuses a credential created in the same second as the revocation
# of the job's previous run ("Job credential revoked": the job then FAILS),
# which is what the delay guards against.
requeued() {
	i=0
	while [ $i -lt 120 ]; do
		case $(scontrol -o show job "$1" 2>/dev/null) in
		*JobState=PENDING*Restarts=[1-9]*)
			scontrol update JobId="$1" StartTime=now+2
			return 0 ;;
		esac
		sleep 1
		i=$((i + 1))
	done
	return 1
}

# log_has FILE PATTERN: wait (0.1 s polling, 60 s at most) for a line
log_has() {
	i=0
	while [ $i -lt 600 ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

same_dir() {
	for f in $FILES; do
		cmp "$1/$f" "$2/$f" || return 1
	done
}

if [ "${NIDEC_SLURM:-1}" = 0 ]; then
	test_skip 'Slurm jobs' 'NIDEC_SLURM=0'
	test_done
	exit
fi
why=$(bash "$SLURM_SH" check 2>&1)
if [ $? != 0 ]; then
	test_skip 'Slurm jobs: every script in jobs/ under a local Slurm' "Slurm cannot start here: $why"
	test_done
	exit
fi
started=0
if ! bash "$SLURM_SH" status >/dev/null 2>&1; then
	if bash "$SLURM_SH" start >"$TRASH/slurm-start.log" 2>&1; then
		started=1
	else
		test_skip 'Slurm jobs: every script in jobs/ under a local Slurm' \
			"Slurm did not start: $(grep ERROR "$TRASH/slurm-start.log" | tail -n 1)"
		test_done
		exit
	fi
fi

test_expect_success 'setup: 3 synthetic subjects + the bundled one, a sweep' '
	for s in 1 2 3; do
		$NIDEC synth -q -o bids/sub-0$s/func --subject 0$s $SYN --seed $s || exit 1
	done &&
	mkdir -p bids/sub-h1/func &&
	for f in "$NIDEC_TEST_DATA"/runs/*; do
		b=$(basename "$f" | sed "s/^sub-1_task-objectviewing/sub-h1_task-synth/") &&
		ln -s "$f" "bids/sub-h1/func/$b" || exit 1
	done &&
	ln -s "$NIDEC_TEST_DATA/mask.nii.gz" bids/sub-h1/func/mask.nii.gz &&
	printf "[data]\nconditions = face, cat\n[output]\ndir = out\nreport = false\n" >analysis.ini &&
	printf "[sweep]\nanalysis = analysis.ini\nbids_root = bids\ntask = synth\nmask = bids/sub-{subject}/func/mask.nii.gz\n" >sweep.ini &&
	$NIDEC sweep sweep.ini --list >list && test $(wc -l <list) = 4 &&
	sinfo -h -o "%c" | grep -q "^$SLURM_LOCAL_CPUS$"
'

test_expect_success 'jobs/nidec-run.sbatch: the bundled subject, same files as mpirun' '
	j=$(sbatch --parsable -n 2 -o run-%j.out "$JOBS/nidec-run.sbatch" "$CONFIGS/haxby-slice.ini" \
		$DATA_OPTS --set output.dir=run-slurm --set output.report=false) &&
	nidec_run "$CONFIGS/haxby-slice.ini" --set output.dir=run-local >/dev/null &&
	slurm_wait $j && cat run-$j.out &&
	grep -q "^nidec-run: .* on 2 ranks" run-$j.out &&
	same_dir run-local run-slurm && test -f run-slurm/summary.json
'

# The three ways to run the sweep go in at once (the cluster has room for
# them): job ids are kept in files, each test runs in its own subshell.
test_expect_success 'submit nidec-sweep.sbatch, the array + gather templates and the emitted pair' '
	sbatch --parsable -n 2 -o sweep-%j.out "$JOBS/nidec-sweep.sbatch" sweep.ini \
		--set output.dir=sweep-slurm >id.sweep &&
	j=$(sbatch --parsable --array=0-3 -n 1 -o arr-%A_%a.out "$JOBS/nidec-sweep-array.sbatch" sweep.ini \
		--set output.dir=array-slurm) && echo $j >id.array &&
	sbatch --parsable --dependency=afterok:$j -o gather-%j.out "$JOBS/nidec-sweep-gather.sbatch" \
		sweep.ini --set output.dir=array-slurm >id.gather &&
	$NIDEC sweep sweep.ini --set output.dir=emit-slurm --emit-slurm emit --ntasks 1 --time 00:10:00 >stdout &&
	cat stdout &&
	eval "$(sed -n "s/^  jid=/jid=/p" stdout)" && echo $jid >id.emit &&
	eval "$(sed -n "s/^  sbatch --dependency/sbatch --parsable --dependency/p" stdout)" >id.emitgather &&
	test -s id.sweep && test -s id.array && test -s id.gather && test -s id.emit && test -s id.emitgather
'

test_expect_success 'jobs/nidec-sweep.sbatch: the whole sweep in one allocation' '
	j=$(cat id.sweep) && slurm_wait $j && cat sweep-$j.out &&
	grep -q "sweep: 4 subjects, .* tasks on 2 ranks" sweep-$j.out &&
	grep -q "\"n_ok\": 4" sweep-slurm/group_summary.json &&
	test $(wc -l <sweep-slurm/group_scores.tsv) = 5
'

test_expect_success 'jobs/nidec-sweep-array.sbatch + nidec-sweep-gather.sbatch (afterok): same group files' '
	j=$(cat id.array) g=$(cat id.gather) && slurm_wait $j $g && cat gather-$g.out &&
	test $(ls arr-${j}_*.out | wc -l) = 4 &&
	for s in 01 02 03 h1; do same_dir sweep-slurm/sub-$s array-slurm/sub-$s || exit 1; done &&
	cmp sweep-slurm/group_scores.tsv array-slurm/group_scores.tsv &&
	cmp sweep-slurm/group_summary.json array-slurm/group_summary.json
'

test_expect_success 'nidec sweep --emit-slurm: the printed sbatch commands run the array + gather' '
	j=$(cat id.emit) g=$(cat id.emitgather) && slurm_wait $j $g &&
	cat emit/logs/sweep-gather-$g.out &&
	grep -q "^#SBATCH --ntasks=1$" emit/sweep-array.sbatch &&
	cmp sweep-slurm/group_scores.tsv emit-slurm/group_scores.tsv &&
	grep -v "\"sweep\":" sweep-slurm/group_summary.json >expect &&
	grep -v "\"sweep\":" emit-slurm/group_summary.json >actual &&
	test_cmp expect actual
'

test_expect_success 'setup: a bigger subject, a sweep with permutations, reference runs' '
	$NIDEC synth -q -o big/sub-09/func --subject 09 --dims 16x20x10 --runs 6 --volumes 60 \
		--classes 2 --signal 0.15 --seed 9 &&
	ln -s ../bids/sub-01 big/sub-01 &&
	printf "[sweep]\nanalysis = analysis.ini\nsubjects = 01, 09\nbold = big/sub-{subject}/func/sub-{subject}_task-synth_run-*_bold.nii.gz\nevents = big/sub-{subject}/func/sub-{subject}_task-synth_run-*_events.tsv\nmask = big/sub-{subject}/func/mask.nii.gz\n" >term.ini &&
	$MPIRUN -n 2 $NIDEC sweep term.ini -q --set output.dir=term-ref --set cv.permutations=60 >/dev/null
'

# Unslowed, sub-09 completes about a second after sub-01: the tasks sleep
# 10 ms each (NIDEC_TEST_TASK_DELAY), so that the TERM sent once sub-01 is
# written always finds sub-09 unfinished.
test_expect_success 'a sweep job stopped as at its time limit exits 3, requeues, resumes to identical files' '
	j=$(NIDEC_TEST_TASK_DELAY=0.01 sbatch --parsable -n 2 -o term-%j.out "$JOBS/nidec-sweep.sbatch" term.ini \
		--set output.dir=term-slurm --set cv.permutations=60 --progress 1) &&
	log_has term-$j.out "sub-01: written" &&
	scancel --signal=TERM --batch $j &&
	requeued $j &&
	slurm_wait $j && cat term-$j.out &&
	grep -q "interrupted: 1 subject written, 1 unfinished" term-$j.out &&
	grep -q "nidec-sweep: interrupted; requeueing" term-$j.out &&
	grep -q "sub-01: outputs in .term-slurm/sub-01. are current, kept (--resume)" term-$j.out &&
	grep -q "sub-09: written" term-$j.out &&
	for s in 01 09; do
		same_dir term-ref/sub-$s term-slurm/sub-$s &&
		cmp term-ref/sub-$s/null_scores.tsv term-slurm/sub-$s/null_scores.tsv || exit 1
	done &&
	cmp term-ref/group_summary.json term-slurm/group_summary.json
'

# The job's 2,196 tasks take about 1.5 s on two ranks: slowed to about 11 s
# (NIDEC_TEST_TASK_DELAY, a sleep per task, exported through sbatch and
# srun), so that the TERM always arrives before the run could complete.
test_expect_success 'jobs/nidec-permutations.sbatch: stopped as at its time limit, requeued, resumed identically' '
	$NIDEC run big/sub-09/func/synth.ini -q --progress 0 --set output.dir=perm-ref \
		--set output.report=false --set cv.permutations=60 >/dev/null &&
	j=$(NIDEC_TEST_TASK_DELAY=0.01 PERMUTATIONS=60 sbatch --parsable -n 2 -o perm-%j.out \
		"$JOBS/nidec-permutations.sbatch" \
		big/sub-09/func/synth.ini --set output.dir=perm-slurm --set output.report=false --progress 1) &&
	log_has perm-$j.out "tasks (" &&
	scancel --signal=TERM --batch $j &&
	requeued $j &&
	slurm_wait $j && cat perm-$j.out &&
	grep -q "nidec-permutations: interrupted, checkpoint saved; requeueing" perm-$j.out &&
	grep -q "nidec-permutations: done" perm-$j.out &&
	same_dir perm-ref perm-slurm &&
	$PYTHON -c "
import json
a, b = json.load(open(\"perm-ref/summary.json\")), json.load(open(\"perm-slurm/summary.json\"))
for k in a[\"scores\"]:
    assert a[\"scores\"][k][\"p_value\"] == b[\"scores\"][k][\"p_value\"], k
assert a[\"permutations\"] == b[\"permutations\"]
"
'

# A real time limit, not a simulated one: Slurm itself ends the job at
# --time=1 (its tasks get TERM from slurmstepd; rank 0 saves the checkpoint
# and every rank exits 3, or KILL comes first: the ledger holds every result
# received), the job ends TIMEOUT, and the same command with --resume
# completes it to the reference files.  Tasks are slowed (sleeping, no CPU)
# so that the run cannot finish in a minute; about 1.5 min of the suite.
test_expect_success 'jobs/nidec-run.sbatch past its real time limit (--time=1): --resume completes it identically' '
	j=$(NIDEC_TEST_TASK_DELAY=0.5 sbatch --parsable -n 2 --time=1 -o tl-%j.out \
		"$JOBS/nidec-run.sbatch" big/sub-09/func/synth.ini --set output.dir=perm-tl \
		--set output.report=false --set cv.permutations=60 --progress 5) &&
	{ slurm_wait $j >tl-wait.out; cat tl-wait.out tl-$j.out; } &&
	grep -q "JobId=$j TIMEOUT" tl-wait.out &&
	test -s perm-tl/results.ledger && ! test -e perm-tl/summary.json &&
	j=$(sbatch --parsable -n 2 -o tl2-%j.out "$JOBS/nidec-run.sbatch" big/sub-09/func/synth.ini \
		--set output.dir=perm-tl --set output.report=false --set cv.permutations=60 --resume) &&
	slurm_wait $j && cat tl2-$j.out &&
	grep -q "resume: [1-9][0-9]* of [0-9]* tasks already done" tl2-$j.out &&
	same_dir perm-ref perm-tl &&
	cmp perm-ref/null_scores.tsv perm-tl/null_scores.tsv
'

test_expect_success 'no job left in the queue' '
	test -z "$(squeue -h -o %i)"
'

if [ "$started" = 1 ] && [ "${NIDEC_SLURM_KEEP:-0}" != 1 ]; then
	bash "$SLURM_SH" stop >"$TRASH/slurm-stop.log" 2>&1 || say "# slurm-local.sh stop failed: see $TRASH/slurm-stop.log"
fi
test_done
