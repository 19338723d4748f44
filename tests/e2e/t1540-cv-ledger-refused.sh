#!/bin/sh
# t1540: a checkpoint ledger is only continued by the run that wrote it
# (ledger.h, docs/FORMAT.md "Checkpoint ledger").  Another configuration,
# another dataset, another nidec build, a damaged or foreign file: each is
# refused with a message naming the file, what differs and the fix; the
# ledger is left as it was and no output is written.  (What is accepted
# instead: t1545.)
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"
. "$TESTS_DIR/e2e/permlib.sh"

PERM="--set cv.permutations=20"

# start: out/ holds the partial checkpoint saved.ledger and the dataset
start() {
	rm -rf out && mkdir out && cp dataset.h5 out/ && cp saved.ledger out/results.ledger
}

test_expect_success 'an interrupted run' '
	make_synth syn 6 0.5 &&
	NIDEC_TEST_TASK_DELAY=0.03 && export NIDEC_TEST_TASK_DELAY &&
	perm_bg 2 out $PERM && unset NIDEC_TEST_TASK_DELAY &&
	wait_bytes out/results.ledger 20000 &&
	kill -TERM $(rank_pid $bg_pid 0) &&
	test_expect_code 3 wait $bg_pid &&
	cp out/results.ledger saved.ledger && cp out/dataset.h5 dataset.h5
'

test_expect_error 'another configuration is refused, naming the key' 1 \
	"checkpoint 'out/results.ledger' was made with another configuration ('[cv] permutations = 20' then, '[cv] permutations = 21' now); run with the same configuration" '
	start && perm_run 2 out --set cv.permutations=21 --resume
'

test_expect_error 'another C grid is refused' 1 \
	"('[model] C = 1, 10, 100' then, '[model] C = 1,10' now)" '
	start && perm_run 1 out $PERM --set model.C=1,10 --resume
'

test_expect_success 'the refused ledger is untouched, no output was written' '
	cmp saved.ledger out/results.ledger &&
	! test -e out/scores.tsv
'

test_expect_error 'a checkpoint of another nidec build is refused' 1 \
	"checkpoint 'out/results.ledger' was written by nidec 0.0.0-other, this is nidec" '
	start &&
	"$PYTHON" - out/results.ledger <<-EOF &&
	import re, struct, sys, zlib
	path = sys.argv[1]
	b = open(path, "rb").read()
	magic, kind, n = struct.unpack_from("<IIQ", b, 0)
	head = b[16:16 + n].decode()
	head = re.sub("nidec_version = .*", "nidec_version = 0.0.0-other", head).encode()
	rec = struct.pack("<IQ", kind, len(head)) + head
	new = struct.pack("<I", magic) + rec + struct.pack("<I", zlib.crc32(rec))
	open(path, "wb").write(new + b[16 + n + 4:])
	EOF
	perm_run 1 out $PERM --resume
'

test_expect_error 'a checkpoint of another dataset is refused' 1 \
	"checkpoint 'out/results.ledger' was made from another dataset (inputs_sha256 " '
	start && rm -rf syn && make_synth syn 7 0.5 &&
	perm_run 1 out $PERM --resume
'

test_expect_success '(the original subject back)' '
	rm -rf syn && make_synth syn 6 0.5
'

# flip(RECORD, FIELD): damage one byte of a record of out/results.ledger
# (FIELD: payload, or len: the high byte of its length)
flip() {
	"$PYTHON" - out/results.ledger $1 $2 <<-EOF
	import struct, sys
	path, want, field = sys.argv[1], int(sys.argv[2]), sys.argv[3]
	b = bytearray(open(path, "rb").read())
	off = rec = 0
	while rec < want:
	    off += 16 + struct.unpack_from("<Q", b, off + 8)[0] + 4
	    rec += 1
	b[off + (16 + 10 if field == "payload" else 14)] ^= 0x5a
	open(path, "wb").write(b)
	EOF
}

test_expect_error 'a damaged record is refused' 1 \
	"checkpoint 'out/results.ledger' is corrupt (bad checksum in record 5 at byte " '
	start && flip 5 payload &&
	perm_run 1 out $PERM --resume
'

test_expect_error 'a damaged length is refused, not taken for a torn end' 1 \
	"checkpoint 'out/results.ledger' is corrupt (record 7 at byte " '
	start && flip 7 len &&
	perm_run 1 out $PERM --resume
'

test_expect_error 'a damaged header is refused' 1 \
	"checkpoint 'out/results.ledger' is corrupt (bad checksum in record 0 at byte 0)" '
	start && flip 0 payload &&
	perm_run 1 out $PERM --resume
'

test_expect_error 'a file that is no ledger is refused' 1 \
	"'out/results.ledger' is not a nidec checkpoint ledger" '
	start && echo "not a ledger" >out/results.ledger &&
	perm_run 1 out $PERM --resume
'

test_expect_error 'a bad checkpoint interval is refused before any output' 2 \
	"[output] checkpoint_interval = '-1' is invalid; give a number in [0, 1e+09]" '
	rm -rf out && perm_run 1 out $PERM --checkpoint-interval -1 ||
	{ rc=$?; test -e out && exit 9; exit $rc; }
'

test_expect_success 'checkpoint_interval changes no result (synced after every one)' '
	rm -rf out && perm_run 1 out $PERM --set output.checkpoint_interval=0 >/dev/null &&
	perm_run 1 out2 $PERM >/dev/null &&
	for f in scores.tsv grid_scores.tsv predictions.tsv null_scores.tsv; do
		cmp out/$f out2/$f || exit 1
	done
'

test_done
