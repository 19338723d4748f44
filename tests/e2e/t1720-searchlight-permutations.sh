#!/bin/sh
# t1720: the searchlight's permutation test (README "Searchlight").
#  - Under the null its per-sphere p-values are uniform and its
#    family-wise p-values control the family-wise error: 40 synthetic
#    subjects without a planted signal (`nidec synth --signal 0`, seeds
#    1..40; 8x8x8 grid, 280 spheres of 4-7 voxels at radius 4 mm), 19
#    permutations within runs each.  The p-values of one subject's spheres
#    are correlated, so the test takes one sphere per subject (drawn with a
#    fixed numpy seed): 40 independent p-values on the grid k/20, made
#    continuous by subtracting U/20 (U uniform on [0, 1): exactly uniform
#    under the null), must pass a Kolmogorov-Smirnov test at the 1 % level.
#    The family-wise p-value of a subject's best sphere is the rank of its
#    score among the 19 null maxima, so under the null it is uniform on
#    k/20 too: the same KS test, and the number of subjects with a
#    family-wise false positive (best p_fwe <= 0.05, probability exactly
#    0.05) must stay within its Monte-Carlo error: at most 7 of 40 (the
#    binomial(40, 0.05) tail above 7 is 0.0003).
#  - The null maps of results.h5 are the permutations' maps: p and p_fwe
#    recomputed from them by the documented rule equal the files.
#  - 1, 2 and 3 ranks give identical bytes; a run killed with SIGKILL or
#    stopped with SIGTERM is finished by --resume into the same outputs.
# Everything is seeded: the test cannot flake, it can only break.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"
. "$TESTS_DIR/e2e/permlib.sh"

SEEDS=40
PERMS=19
PERM_CMD=searchlight
SL="--set searchlight.radius=4 --set cv.permutations=$PERMS"

one_subject() {
	make_synth s$1 $1 0 &&
	"$NIDEC" searchlight s$1/synth.ini --set output.dir=o$1 --set output.report=false \
		$SL --progress 0 -q >/dev/null
}

test_expect_success "$SEEDS null subjects, $PERMS permutations each" '
	for_seeds $SEEDS 8
'

test_expect_success 'per-sphere p uniform, family-wise p controls the error (KS tests, 1 % level)' '
	"$PYTHON" - $SEEDS $PERMS <<-\EOF
	import csv, sys
	import numpy as np
	from scipy import stats
	seeds, perms = int(sys.argv[1]), int(sys.argv[2])
	rng = np.random.default_rng(0)
	one, best = [], []
	for s in range(1, seeds + 1):
	    rows = list(csv.DictReader(open(f"o{s}/searchlight.tsv"), delimiter="\t"))
	    p = np.array([float(r["p"]) for r in rows])
	    pf = np.array([float(r["p_fwe"]) for r in rows])
	    assert len(rows) == 280, len(rows)
	    for v in (p, pf):
	        k = np.round(v * (perms + 1))
	        assert np.allclose(k, v * (perms + 1)) and k.min() >= 1 and k.max() <= perms + 1
	    assert np.all(pf >= p), "p_fwe >= p"
	    one.append(p[rng.integers(len(p))])
	    best.append(pf.min())
	for name, v in (("one sphere p", one), ("best sphere p_fwe", best)):
	    v = np.array(v)
	    ks = stats.kstest(v - rng.random(len(v)) / (perms + 1), "uniform")
	    print(f"{name}: KS D = {ks.statistic:.3f}, p = {ks.pvalue:.3f}")
	    assert ks.pvalue > 0.01, name + " not uniform under the null"
	fp = int(np.sum(np.array(best) <= 0.05 + 1e-12))
	print(f"family-wise false positives: {fp} of {seeds}")
	assert fp <= 7, fp
	EOF
'

test_expect_success 'p and p_fwe follow from the stored null maps' '
	"$PYTHON" - o1 o2 o3 <<-\EOF
	import sys
	import h5py, numpy as np
	for d in sys.argv[1:]:
	    with h5py.File(d + "/results.h5") as f:
	        g = f["searchlight"]
	        obs, null = g["map"][()], g["null_map"][()]
	        nmax, p, pf = g["null_max"][()], g["p"][()], g["p_fwe"][()]
	    assert null.dtype == np.float32 and null.shape == (19, 280), null.shape
	    assert np.array_equal(nmax, null.max(axis=1))
	    o = obs.astype(np.float32)
	    assert np.array_equal(p, (1 + (null >= o).sum(axis=0)) / 20.0)
	    assert np.array_equal(pf, (1 + (nmax[:, None] >= o).sum(axis=0)) / 20.0)
	EOF
'

# (into out/ each time: summary.json records the config, output.dir too)
test_expect_success '1, 2 and 3 ranks: identical outputs' '
	make_synth syn 5 0.5 &&
	for n in 1 2 3; do
		rm -rf out &&
		perm_run $n out $SL >/dev/null &&
		mv out r$n || return 1
	done &&
	same_outputs r1 r2 &&
	same_outputs r1 r3
'

# (19 + 1) x 18 blocks = 360 tasks of ~2.4 kB in the ledger
DELAY=0.03

slow_bg() {
	rm -rf out &&
	NIDEC_TEST_TASK_DELAY=$DELAY &&
	export NIDEC_TEST_TASK_DELAY &&
	perm_bg 2 out $SL &&
	unset NIDEC_TEST_TASK_DELAY &&
	wait_bytes out/results.ledger 40000
}

resumed() {
	perm_run $1 out $SL --resume >stdout 2>stderr &&
	cat stderr &&
	grep -q "resume: [1-9][0-9]* of 360 tasks already done" stderr &&
	! grep -q "resume: 360 of 360" stderr &&
	same_outputs r1 out
}

test_expect_success 'SIGKILL of a worker rank, then --resume on 3 ranks: identical outputs' '
	slow_bg &&
	kill -9 $(rank_pid $bg_pid 1) &&
	rc=0 && { wait $bg_pid || rc=$?; } &&
	test $rc != 0 &&
	! test -e out/summary.json &&
	resumed 3
'

test_expect_success 'SIGTERM to every rank: exit 3, one message, resumable to identical outputs' '
	slow_bg &&
	kill -TERM $(rank_pid $bg_pid 0) $(rank_pid $bg_pid 1) &&
	rc=0 && { wait $bg_pid || rc=$?; } &&
	cat bg.out &&
	test $rc = 3 &&
	test $(grep -c "^nidec: error: interrupted by SIGTERM: [0-9]*/360 tasks saved in .out/results.ledger.; run again with --resume" bg.out) = 1 &&
	! test -e out/summary.json &&
	! ls out/searchlight_*.nii.gz 2>/dev/null &&
	resumed 2
'

test_done
