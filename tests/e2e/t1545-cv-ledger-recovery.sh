#!/bin/sh
# t1545: what --resume accepts besides an intact ledger of the same run
# (ledger.h, docs/FORMAT.md "Checkpoint ledger"): a torn last record or a
# tail of zero bytes (a kill during a write, a crashed node) is dropped
# with a warning and the outputs are still those of an uninterrupted run;
# keys that change no result may differ; without a checkpoint --resume
# starts from the beginning; a run without --resume replaces a checkpoint,
# with a warning.  (What is refused: t1540.)
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"
. "$TESTS_DIR/e2e/permlib.sh"

PERM="--set cv.permutations=20"

# start: out/ holds the partial checkpoint saved.ledger and the dataset
start() {
	rm -rf out && mkdir out && cp dataset.h5 out/ && cp saved.ledger out/results.ledger
}

test_expect_success 'a reference run and an interrupted one' '
	make_synth syn 6 0.5 &&
	perm_run 2 out $PERM >/dev/null && mv out ref &&
	NIDEC_TEST_TASK_DELAY=0.03 && export NIDEC_TEST_TASK_DELAY &&
	perm_bg 2 out $PERM && unset NIDEC_TEST_TASK_DELAY &&
	wait_bytes out/results.ledger 20000 &&
	kill -TERM $(rank_pid $bg_pid 0) &&
	test_expect_code 3 wait $bg_pid &&
	cp out/results.ledger saved.ledger && cp out/dataset.h5 dataset.h5
'

test_expect_success 'a torn last record is dropped with a warning; the outputs are still identical' '
	start &&
	size=$(stat -c %s out/results.ledger) &&
	truncate -s $((size - 7)) out/results.ledger &&
	perm_run 2 out $PERM --resume >/dev/null 2>stderr &&
	grep -q "warning: checkpoint .out/results.ledger.: dropped a torn last record" stderr &&
	same_outputs ref out
'

test_expect_success 'a tail of zero bytes (a crash of the node) is dropped too' '
	start &&
	head -c 3000 /dev/zero >>out/results.ledger &&
	perm_run 2 out $PERM --resume >/dev/null 2>stderr &&
	grep -q "dropped a torn last record (3000 bytes)" stderr &&
	same_outputs ref out
'

test_expect_success 'keys that change no result may differ: [output] progress, report' '
	start && perm_run 1 out $PERM --set output.report=true --progress 5 --resume 2>stderr >/dev/null &&
	grep -q "resume: [1-9][0-9]* of 336" stderr &&
	for f in scores.tsv grid_scores.tsv predictions.tsv null_scores.tsv weights_face.nii.gz; do
		cmp ref/$f out/$f || return 1
	done &&
	test -s out/report.html
'

test_expect_success '--resume without a checkpoint starts from the beginning' '
	rm -rf out &&
	perm_run 2 out $PERM --resume >/dev/null 2>stderr &&
	grep -q "resume: no checkpoint in .out.; starting from the beginning" stderr &&
	same_outputs ref out
'

test_expect_success 'a run without --resume replaces an unfinished checkpoint, with a warning' '
	start &&
	perm_run 2 out $PERM >/dev/null 2>stderr &&
	grep -q "warning: replacing the checkpoint of an unfinished run .out/results.ledger. (to continue that run instead, add --resume)" stderr &&
	same_outputs ref out
'

test_done
