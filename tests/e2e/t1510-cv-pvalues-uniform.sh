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
	seed=1 &&
	while [ $seed -le $SEEDS ]; do
		pids= &&
		for k in 1 2 3 4 5 6 7 8; do
			[ $seed -le $SEEDS ] || break
			one_subject $seed &
			pids="$pids $!"
			seed=$((seed + 1))
		done &&
		for p in $pids; do wait $p || exit 1; done
	done
'

test_expect_success 'the p-values are uniform (KS test, 1 % level)' '
	"$PYTHON" - $SEEDS $PERMS <<-EOF
	import json, sys
	import numpy as np
	from scipy import stats
	seeds, perms = int(sys.argv[1]), int(sys.argv[2])
	p = np.array([json.load(open(f"o{s}/summary.json"))["permutations"]["p_value_mean"]
	              for s in range(1, seeds + 1)])
	grid = np.round(p * (perms + 1))
	assert np.allclose(grid, p * (perms + 1)) and grid.min() >= 1 and grid.max() <= perms + 1, p
	u = np.random.default_rng(0).random(seeds)
	pc = p - u / (perms + 1)
	ks = stats.kstest(pc, "uniform")
	print("p-values:", " ".join("%.2f" % v for v in sorted(p)))
	print("KS D = %.3f, p = %.3f" % (ks.statistic, ks.pvalue))
	assert ks.pvalue > 0.01, "p-values under the null are not uniform"
	EOF
'

test_done
