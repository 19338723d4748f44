#!/bin/sh
# t3000: nidec sweep - four synthetic subjects (nidec synth) and the bundled
# Haxby subject in a BIDS layout, in one launch:
#  - each subject's scores, grid scores, predictions and weight maps are
#    byte-identical to `nidec run` on that subject alone, for 1, 2, 3 ranks;
#  - a subject with a corrupt run, and one with a run without events, fail
#    alone: exit 4, their errors in group_summary.json, the others complete;
#  - the group t-tests match scipy.stats.ttest_1samp, the Student t code
#    matches scipy, the group permutation p-value matches a numpy recount;
#  - --only-index per subject + --gather gives the same group files as the
#    sweep in one launch (what the Slurm job array does);
#  - --resume keeps current subjects; SIGTERM stops with exit 3 and the
#    finished subjects written, and --resume completes to identical files;
#  - [sweep] errors name the key, --emit-slurm writes valid scripts.
. "$(dirname "$0")/../lib.sh"

SYN="--dims 10x12x8 --runs 4 --volumes 30 --classes 2 --signal 0.15"
SUBJECTS="01 02 03 04 h1"
FILES="scores.tsv grid_scores.tsv predictions.tsv weights_face.nii.gz weights_std_face.nii.gz"

# same_subject A B: the result files of two subject directories are identical
same_subject() {
	for f in $FILES; do
		cmp "$1/$f" "$2/$f" || return 1
	done
}

test_expect_success 'setup: 4 synthetic subjects + the bundled one as BIDS, an analysis, a sweep' '
	for s in 1 2 3 4; do
		$NIDEC synth -q -o bids/sub-0$s/func --subject 0$s $SYN --seed $s || exit 1
	done &&
	mkdir -p bids/sub-h1/func &&
	for f in "$NIDEC_TEST_DATA"/runs/*; do
		b=$(basename "$f" | sed "s/^sub-1_task-objectviewing/sub-h1_task-synth/") &&
		ln -s "$f" "bids/sub-h1/func/$b" || exit 1
	done &&
	ln -s "$NIDEC_TEST_DATA/mask.nii.gz" bids/sub-h1/func/mask.nii.gz &&
	cat >analysis.ini <<-\EOF &&
	[data]
	conditions = face, cat
	[cv]
	scheme = leave-one-run-out
	[output]
	dir = out
	report = false
	EOF
	cat >sweep.ini <<-\EOF &&
	[sweep]
	analysis = analysis.ini
	bids_root = bids
	task = synth
	mask = bids/sub-{subject}/func/mask.nii.gz
	EOF
	$NIDEC sweep sweep.ini --list >list &&
	test $(wc -l <list) = 5 &&
	for s in $SUBJECTS; do grep -q "sub-$s	bids/sub-$s/func/sub-${s}_\*task-synth_\*run-\*_bold" list || exit 1; done
'

test_expect_success 'nidec run on each subject alone' '
	for s in $SUBJECTS; do
		$NIDEC run analysis.ini -q --progress 0 --set output.dir=alone/sub-$s \
			--set "data.bold=bids/sub-$s/func/sub-${s}_*task-synth_*run-*_bold.nii*" \
			--set "data.events=bids/sub-$s/func/sub-${s}_*task-synth_*run-*_events.tsv" \
			--set data.mask=bids/sub-$s/func/mask.nii.gz >/dev/null || exit 1
	done
'

for n in 1 2 3; do
	test_expect_success "sweep on $n rank(s): every subject byte-identical to nidec run alone" "
		\$MPIRUN -n $n \$NIDEC sweep sweep.ini --progress 0 --set output.dir=out-$n >stdout 2>stderr &&
		grep -q 'sweep: 5 subjects, .* tasks on $n rank' stderr &&
		for s in \$SUBJECTS; do same_subject alone/sub-\$s out-$n/sub-\$s || exit 1; done &&
		test -f out-$n/sub-h1/dataset.h5 && test -f out-$n/sub-h1/summary.json &&
		test -z \"\$(find out-$n -name results.ledger)\" &&
		grep -q '^wrote out-$n/group_summary.json' stdout
	"
done

test_expect_success 'group files: BIDS description, one row per subject and class, stats = scipy' '
	cmp out-1/group_scores.tsv out-2/group_scores.tsv &&
	cmp out-1/group_scores.tsv out-3/group_scores.tsv &&
	head -n 1 out-1/group_scores.tsv >header &&
	printf "subject\tclass\tmean_score\tstd\tchosen_C\n" >expect && test_cmp expect header &&
	test $(wc -l <out-1/group_scores.tsv) = 6 &&
	$PYTHON -c "
import json
d = json.load(open(\"out-1/dataset_description.json\"))
assert d[\"DatasetType\"] == \"derivative\" and d[\"BIDSVersion\"], d
assert d[\"GeneratedBy\"][0][\"Name\"] == \"nidec\" and d[\"GeneratedBy\"][0][\"Version\"], d
assert d[\"SourceDatasets\"][0][\"URL\"].startswith(\"file:///\"), d
g = json.load(open(\"out-1/group_summary.json\"))
assert g[\"n_subjects\"] == 5 and g[\"n_ok\"] == 5 and g[\"n_failed\"] == 0, g
assert g[\"scoring\"] == \"roc_auc\" and g[\"chance\"] == 0.5, g
assert [s[\"subject\"] for s in g[\"subjects\"]] == \"01 02 03 04 h1\".split(), g[\"subjects\"]
" &&
	$PYTHON "$TESTS_DIR/e2e/check_sweep.py" group out-1 >res && cat res && grep -q "^ok:" res
'

test_expect_success 'the Student t distribution (regularized incomplete beta) matches scipy' '
	${PLAIN_CC:-cc} -std=c11 -O2 -I"$REPO_DIR/include" -o tdist \
		"$TESTS_DIR/e2e/sweep_tdist.c" "$REPO_DIR/src/core/stats.c" -lm &&
	$PYTHON "$TESTS_DIR/e2e/check_sweep.py" tdist ./tdist >res && cat res && grep -q "^ok:" res
'

test_expect_success 'a corrupt run and a run without events fail their subjects alone (exit 4)' '
	cp -r bids bad && rm -rf bad/sub-h1 &&
	mkdir -p bad/sub-05/func bad/sub-06/func &&
	for f in bids/sub-02/func/*; do
		cp "$f" bad/sub-05/func/$(basename "$f" | sed s/sub-02_/sub-05_/) &&
		cp "$f" bad/sub-06/func/$(basename "$f" | sed s/sub-02_/sub-06_/) || exit 1
	done &&
	head -c 400 bids/sub-02/func/sub-02_task-synth_run-03_bold.nii.gz >bad/sub-05/func/sub-05_task-synth_run-03_bold.nii.gz &&
	rm bad/sub-06/func/sub-06_task-synth_run-02_events.tsv &&
	sed "s/^bids_root = bids/bids_root = bad/; s|^mask = bids|mask = bad|" sweep.ini >badsweep.ini &&
	test_expect_code 4 $MPIRUN -n 2 $NIDEC sweep badsweep.ini --progress 0 --set output.dir=outbad \
		>stdout 2>stderr &&
	grep -q "sub-05.*run-03_bold.nii.gz.* corrupt or truncated" outbad/sub-05/error.txt &&
	grep -q "sub-06.*run-02_bold.nii.gz. has no events file" outbad/sub-06/error.txt &&
	grep -q "2 of 6 subjects failed" stderr &&
	for s in 01 02 03 04; do same_subject out-1/sub-$s outbad/sub-$s || exit 1; done &&
	$PYTHON -c "
import json
g = json.load(open(\"outbad/group_summary.json\"))
assert g[\"n_ok\"] == 4 and g[\"n_failed\"] == 2, g
st = {s[\"subject\"]: s for s in g[\"subjects\"]}
assert st[\"05\"][\"status\"] == \"failed\" and \"corrupt or truncated\" in st[\"05\"][\"error\"], st[\"05\"]
assert st[\"06\"][\"status\"] == \"failed\" and \"no events file\" in st[\"06\"][\"error\"], st[\"06\"]
assert g[\"classes\"][\"face\"][\"n_subjects\"] == 4, g[\"classes\"][\"face\"]
" &&
	$PYTHON "$TESTS_DIR/e2e/check_sweep.py" group outbad | grep -q "^ok:"
'

test_expect_success 'explicit subject list with permutations: group permutation p-value' '
	cat >perm.ini <<-\EOF &&
	[sweep]
	analysis = analysis.ini
	subjects = 01, 02, sub-03, 04
	bold = bids/sub-{subject}/func/sub-{subject}_task-synth_run-*_bold.nii.gz
	events = bids/sub-{subject}/func/sub-{subject}_task-synth_run-*_events.tsv
	mask = bids/sub-{subject}/func/mask.nii.gz
	name = synthetic permutations
	EOF
	$MPIRUN -n 2 $NIDEC sweep perm.ini -q --set output.dir=outperm --set cv.permutations=20 \
		--set output.report=true >/dev/null &&
	test -f outperm/sub-01/report.html &&
	test $(wc -l <outperm/sub-03/null_scores.tsv) = 21 &&
	grep -q "\"Name\": \"synthetic permutations\"" outperm/dataset_description.json &&
	$PYTHON "$TESTS_DIR/e2e/check_sweep.py" group outperm >res && cat res && grep -q "^ok:" res &&
	grep -q "\"p_value\"" outperm/group_summary.json
'

test_expect_success '--only-index per subject, then --gather: the group files of one launch' '
	for i in 0 1 2 3 4; do
		$NIDEC sweep sweep.ini -q --set output.dir=outarr --only-index $i || exit 1
	done &&
	test ! -e outarr/group_scores.tsv &&
	for s in $SUBJECTS; do same_subject out-1/sub-$s outarr/sub-$s || exit 1; done &&
	$NIDEC sweep sweep.ini -q --set output.dir=outarr --gather &&
	cmp out-1/group_scores.tsv outarr/group_scores.tsv &&
	cmp out-1/group_summary.json outarr/group_summary.json &&
	test_expect_code 1 $NIDEC sweep sweep.ini -q --set output.dir=outarr --gather --set cv.scheme=kfold 2>err &&
	cat err &&
	grep -q "made with another config than the sweep.s (\[cv\] scheme = kfold in the sweep.s config, leave-one-run-out in the subject.s)" err &&
	grep -q "the group files were not written" err &&
	cmp out-1/group_scores.tsv outarr/group_scores.tsv &&
	cmp out-1/group_summary.json outarr/group_summary.json
'

test_expect_success '--resume keeps current subjects and redoes a missing one' '
	cp -r out-2 outres && rm outres/sub-02/summary.json outres/sub-02/scores.tsv &&
	$MPIRUN -n 2 $NIDEC sweep sweep.ini --progress 0 --set output.dir=outres --resume >stdout 2>stderr &&
	test $(grep -c "are current, kept (--resume)" stderr) = 4 &&
	grep -q "sub-02: written" stderr &&
	for s in $SUBJECTS; do same_subject out-1/sub-$s outres/sub-$s || exit 1; done &&
	cmp out-1/group_scores.tsv outres/group_scores.tsv
'

test_expect_success 'SIGTERM: exit 3, finished subjects written; --resume completes them identically' '
	$NIDEC synth -q -o big/sub-09/func --subject 09 --dims 16x20x10 --runs 6 --volumes 60 \
		--classes 2 --signal 0.15 --seed 9 &&
	ln -s ../bids/sub-01 big/sub-01 && ln -s ../bids/sub-02 big/sub-02 &&
	sed "s/^subjects = .*/subjects = 01, 02, 09/; s/bids\//big\//g" perm.ini >term.ini &&
	$NIDEC sweep term.ini -q --set output.dir=outref --set cv.permutations=25 >/dev/null &&
	{ $NIDEC sweep term.ini --progress 0 --set output.dir=outterm --set cv.permutations=25 \
		>term.out 2>term.err & pid=$!; } &&
	i=0 && while [ $i -lt 300 ] && ! grep -q "sub-0[12]: written" term.err; do sleep 0.05; i=$((i + 1)); done &&
	rc=0 &&
	kill -TERM $pid &&
	{ wait $pid || rc=$?; } &&
	cat term.err && test "$rc" = 3 &&
	grep -q "interrupted: [12] subjects\{0,1\} written, [12] unfinished ([0-9]* of their tasks saved in sub-\*/results.ledger); run the same command with --resume" term.err &&
	test -f outterm/sub-09/results.ledger &&
	test -f outterm/sub-01/summary.json -o -f outterm/sub-02/summary.json &&
	test ! -f outterm/sub-09/summary.json &&
	$NIDEC sweep term.ini --progress 0 --set output.dir=outterm --set cv.permutations=25 --resume >/dev/null 2>stderr &&
	grep -q "kept (--resume)" stderr &&
	grep -q "sub-09: resume: [0-9]* of [0-9]* tasks already done" stderr &&
	test ! -e outterm/sub-09/results.ledger &&
	for s in 01 02 09; do
		same_subject outref/sub-$s outterm/sub-$s && cmp outref/sub-$s/null_scores.tsv outterm/sub-$s/null_scores.tsv || exit 1
	done &&
	cmp outref/group_scores.tsv outterm/group_scores.tsv &&
	cmp outref/group_summary.json outterm/group_summary.json
'

test_expect_error 'an unknown [sweep] key: did you mean' 1 "unknown key 'subject' in [sweep]; did you mean 'subjects'?" '
	printf "[sweep]\nanalysis = analysis.ini\nsubject = 01\n" >typo.ini && $NIDEC sweep typo.ini
'
test_expect_error 'an unknown subject for --only' 1 "--only 07: no such subject in sweep 'sweep.ini'" '
	$NIDEC sweep sweep.ini --only 07
'
test_expect_error 'an explicit list without {subject} in bold' 1 "has no {subject}; every subject would get the same data" '
	printf "[sweep]\nanalysis = analysis.ini\nsubjects = 01, 02\nbold = a.nii.gz\nmask = m.nii.gz\n" >nosub.ini &&
	$NIDEC sweep nosub.ini
'
test_expect_error '--only-index past the end names the range' 1 "--only-index 5: sweep 'sweep.ini' has 5 subjects (indices 0..4)" '
	$NIDEC sweep sweep.ini --only-index 5
'

test_expect_success '--emit-slurm writes an array (one subject per task) and a gather job' '
	$NIDEC sweep sweep.ini --set output.dir=outslurm --emit-slurm slurm --ntasks 3 --time 00:30:00 >stdout &&
	grep -q "^wrote slurm/sweep-array.sbatch (5 subjects: array 0-4, 3 ranks each)" stdout &&
	grep -q "sbatch --dependency=afterok:\$jid slurm/sweep-gather.sbatch" stdout &&
	bash -n slurm/sweep-array.sbatch && bash -n slurm/sweep-gather.sbatch &&
	grep -q "^#SBATCH --array=0-4$" slurm/sweep-array.sbatch &&
	grep -q "^#SBATCH --ntasks=3$" slurm/sweep-array.sbatch &&
	grep -q "^#SBATCH --time=00:30:00$" slurm/sweep-array.sbatch &&
	grep -q "^SUBJECTS=(01 02 03 04 h1)$" slurm/sweep-array.sbatch &&
	grep -q "srun --mpi=pmix --disable-status \"\$NIDEC\" sweep .*/sweep.ini. --only \"\$subject\" --resume .* --set .output.dir=outslurm." slurm/sweep-array.sbatch &&
	grep -q "^trap .*kill -USR1 \$pid.* TERM INT USR1$" slurm/sweep-array.sbatch &&
	! grep -q "kill -TERM" slurm/sweep-array.sbatch &&
	grep -q "sweep .*/sweep.ini. --gather --set .output.dir=outslurm." slurm/sweep-gather.sbatch &&
	test -d slurm/logs
'

test_done
