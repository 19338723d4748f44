#!/bin/sh
# t1500: permutation tests end to end (README "Permutation test"): the
# null distribution in null_scores.tsv and summary.json, p-values that
# follow from it, p = 1/(N+1) for a strong planted signal, byte-identical
# outputs for 1, 2 and 3 ranks, permute_within = all, and --timing's
# per-rank busy time and parallel efficiency.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"
. "$TESTS_DIR/e2e/permlib.sh"

test_expect_success 'a strong signal and a null subject' '
	make_synth syn 1 3 && mv syn strong &&
	make_synth syn 2 0 && mv syn null
'

test_expect_success 'strong signal, 19 permutations: p = 1/20 for the class and the mean' '
	ln -sfn strong syn &&
	perm_run 2 out --set cv.permutations=19 >stdout &&
	grep -q "^p-value face  *0.05 (19 permutations)" stdout &&
	grep -q "^p-value mean score  *0.05 (19 permutations)" stdout &&
	grep -q "wrote out/null_scores.tsv" stdout &&
	"$PYTHON" - <<-EOF
	import json
	s = json.load(open("out/summary.json"))
	p = s["permutations"]
	assert p["n"] == 19 and p["permute_within"] == "run", p
	assert p["p_value"] == {"face": 0.05}, p["p_value"]
	assert p["p_value_mean"] == 0.05
	assert s["scores"]["face"]["p_value"] == 0.05
	assert len(p["null_scores"]) == 19 and all(len(r) == 1 for r in p["null_scores"])
	assert max(max(r) for r in p["null_scores"]) < p["observed"]["face"]
	EOF
'

test_expect_success 'the report of that run shows the null histogram with the observed score' '
	$NIDEC report out -o report.html -q &&
	"$PYTHON" - <<-EOF
	import json, re
	page = open("report.html").read()
	sec = re.search(r"<section id=\"permutations\">(.*?)</section>", page, re.S).group(1)
	assert "19 permutations of the labels; p-value of the mean score: <b>0.05</b>" in sec, sec[:300]
	svgs = re.findall(r"<svg.*?</svg>", sec, re.S)
	assert len(svgs) == 1, len(svgs)          # one histogram per key (face)
	obs = json.load(open("out/summary.json"))["permutations"]["observed"]
	for k, svg in zip(("face",), svgs):
	    assert "null (19)" in svg and "p = 0.05" in svg, svg[:300]
	    assert "observed %.3f" % obs[k] in svg, (k, obs[k])
	    assert len(re.findall(r"<rect", svg)) > 3, "no bars"
	EOF
'

test_expect_success 'null_scores.tsv, summary.json and results.h5 agree; p-values follow the rule' '
	ln -sfn null syn &&
	perm_run 2 out --set cv.permutations=30 >stdout &&
	head -n 1 out/null_scores.tsv >header &&
	printf "permutation\tface\n" >expect &&
	test_cmp expect header &&
	test $(wc -l <out/null_scores.tsv) = 31 &&
	"$PYTHON" - <<-EOF
	import json, h5py, numpy as np
	s = json.load(open("out/summary.json"))
	p = s["permutations"]
	tsv = np.loadtxt("out/null_scores.tsv", skiprows=1)
	assert (tsv[:, 0] == np.arange(1, 31)).all()
	null = np.array(p["null_scores"])
	assert np.array_equal(null, tsv[:, 1:]), "summary.json and null_scores.tsv differ"
	with h5py.File("out/results.h5") as f:
	    assert np.array_equal(f["permutations/null_scores"][()], null)
	    assert "records" in f["ledger"]
	for k, key in enumerate(s["keys"]):
	    obs = s["scores"][key]["mean"]
	    want = (1 + np.sum(null[:, k] >= obs - 1e-12)) / 31
	    assert abs(p["p_value"][key] - want) < 1e-12, (key, p["p_value"][key], want)
	obs = s["mean_score"]
	want = (1 + np.sum(null.mean(axis=1) >= obs - 1e-12)) / 31
	assert abs(p["p_value_mean"] - want) < 1e-12
	EOF
'

test_expect_success 'no results.ledger is left once a run completes' '
	! test -e out/results.ledger
'

test_expect_success 'permutations: -n 1, 2 and 3 write byte-identical outputs' '
	ln -sfn null syn &&
	for n in 1 2 3; do
		rm -rf out && perm_run $n out --set cv.permutations=10 >/dev/null && mv out out-$n || return 1
	done &&
	for n in 2 3; do
		for f in scores.tsv grid_scores.tsv predictions.tsv null_scores.tsv model.h5 \
			 weights_face.nii.gz weights_std_face.nii.gz; do
			cmp out-1/$f out-$n/$f || return 1
		done
	done &&
	mv out-1 out && same_outputs out out-2 && same_outputs out out-3
'

test_expect_success 'permute_within = all: a different null, same observed scores' '
	ln -sfn null syn &&
	rm -rf out && perm_run 2 out --set cv.permutations=10 >/dev/null && mv out within-run &&
	perm_run 2 out --set cv.permutations=10 --set cv.permute_within=all >/dev/null &&
	cmp within-run/scores.tsv out/scores.tsv &&
	! cmp -s within-run/null_scores.tsv out/null_scores.tsv &&
	grep -q "\"permute_within\": \"all\"" out/summary.json
'

test_expect_success '--timing: per-rank busy time and parallel efficiency' '
	ln -sfn null syn &&
	perm_run 2 out --set cv.permutations=5 --timing >stdout 2>stderr &&
	grep -q "^timing: cv ran [0-9]* tasks in .* on 2 ranks, parallel efficiency [0-9]*%" stderr &&
	grep -q "^timing:    0 " stderr && grep -q "^timing:    1 " stderr &&
	"$PYTHON" -c "
import json
t = json.load(open(\"out/summary.json\"))[\"timing\"]
assert len(t[\"ranks\"]) == 2 and 0 < t[\"parallel_efficiency\"] <= 1.05, t
assert sum(r[\"tasks\"] for r in t[\"ranks\"]) == 16 * 6
"
'

test_done
