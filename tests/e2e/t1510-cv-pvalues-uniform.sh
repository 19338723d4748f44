#!/bin/sh
# t1510: under the null, permutation p-values are uniform (README
# "Permutation test").  32 synthetic subjects without a planted signal
# (`nidec synth --signal 0`, seeds 1..32), each decoded with the default
# nested leave-one-run-out pipeline and 19 permutations within runs, give
# 32 p-values on the grid k/20.  Made continuous by subtracting U/20 (U
# uniform on [0, 1), a fixed numpy seed: under the null the result is
# exactly uniform on [0, 1]), they must pass a two-sided Kolmogorov-Smirnov
# test against U(0, 1) at the 1 % level (scipy).  Everything is seeded,
# so the test is deterministic: it cannot flake, it can only break.
# Runs 8 subjects at a time: each takes ~0.1 s of CPU, the rest is process
# start-up.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"
. "$TESTS_DIR/e2e/permlib.sh"

SEEDS=${NIDEC_KS_SEEDS:-32}
PERMS=19

one_subject() {
	make_synth s$1 $1 0 &&
	"$NIDEC" run s$1/synth.ini --set output.dir=o$1 --set output.report=false \
		--set cv.permutations=$PERMS --progress 0 -q >/dev/null
}

test_expect_success "$SEEDS null subjects, $PERMS permutations each" '
	for_seeds $SEEDS 8
'

test_expect_success 'the p-values are uniform (KS test, 1 % level)' '
	"$PYTHON" "$TESTS_DIR/e2e/pvalues_uniform.py" $SEEDS $PERMS
'

test_done
