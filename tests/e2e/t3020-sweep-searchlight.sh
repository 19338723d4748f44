#!/bin/sh
# t3020: `nidec sweep` with [sweep] kind = searchlight - each subject's
# searchlight, then the group level (docs/SWEEP.md "Searchlight group
# level"):
#  - a planted effect: 5 synthetic subjects (10x10x10, a class signal of
#    0.8 noise SDs only within 4.5 mm of the grid's centre), 49
#    permutations each: the group files equal an independent
#    re-implementation (tests/e2e/check_slgroup.py: scipy's t-test,
#    scipy.ndimage.label with 26-connectivity, nidec's random stream copied
#    in Python), exactly; the largest cluster holds the centre and has
#    p_fwe < 0.05; fewer than 100 permutations are warned about; 1 and 2
#    ranks write the same group files;
#  - no effect: 10 null subjects (8x8x8, 100 permutations); 20 group
#    levels over subsets of 5 of them (--gather, each with its own seed):
#    family-wise false positives (some cluster with p_fwe <= 0.05) in at
#    most 4 of 20 (5 % expected; the subsets share subjects, so this is a
#    sanity bound - tests/unit/test_core_cluster.c checks the rate on
#    independent simulations);
#  - subjects on different grids: one error naming the subject, its file
#    and both grids, exit 1, before anything runs (no subject output).
. "$(dirname "$0")/../lib.sh"

sweep_file() {
	cat >"$1" <<-EOF
	[sweep]
	analysis = analysis.ini
	kind = searchlight
	subjects = $2
	bold = data/sub-{subject}/sub-{subject}_task-synth_run-*_bold.nii.gz
	events = data/sub-{subject}/sub-{subject}_task-synth_run-*_events.tsv
	mask = data/sub-{subject}/mask.nii.gz
	cluster_draws = 1000
	cluster_threshold = 0.01
	EOF
}

analysis() {
	cat >analysis.ini <<-EOF
	[data]
	conditions = face, cat
	[searchlight]
	radius = 4
	[cv]
	permutations = $1
	[output]
	dir = $2
	report = false
	EOF
}

test_expect_success 'planted effect: 5 subjects, the group maps and the cluster test' '
	for s in 1 2 3 4 5; do
		"$NIDEC" synth -o data/sub-0$s --dims 10x10x10 --runs 4 --volumes 40 --classes 2 \
			--mask-fraction 0.6 --seed $s --signal 0.8 --signal-radius 4.5 --subject 0$s -q || return 1
	done &&
	analysis 49 out &&
	sweep_file sweep.ini "01, 02, 03, 04, 05" &&
	$MPIRUN -n 2 "$NIDEC" sweep sweep.ini --progress 0 >stdout 2>stderr &&
	cat stdout &&
	grep -q "warning: the cluster test draws from 49 permutations per subject; with fewer than 100" stderr &&
	grep -q "^searchlight group: 5 subjects, [0-9]* voxels in common" stdout &&
	"$PYTHON" "$TESTS_DIR/e2e/check_slgroup.py" out >res && cat res && grep -q "^ok: 5 subjects" res &&
	"$PYTHON" - <<-\EOF
	import csv, json
	import nibabel as nib, numpy as np
	rows = list(csv.DictReader(open("out/group_searchlight_clusters.tsv"), delimiter="\t"))
	top = rows[0]
	print("largest cluster:", dict(top))
	assert float(top["p_fwe"]) < 0.05
	lab = np.asarray(nib.load("out/group_searchlight_clusters.nii.gz").dataobj)
	assert lab[4, 4, 4] == 1 or lab[5, 5, 5] == 1, "the planted centre is in cluster 1"
	assert all(float(r["p_fwe"]) > 0.05 for r in rows[1:]), "only the planted cluster"
	js = json.load(open("out/group_summary.json"))
	assert js["kind"] == "searchlight" and js["searchlight"]["cluster_test"]["n_significant"] == 1
	EOF
'

test_expect_success 'the group files are the same from 1 rank' '
	sed -i "s|^dir = out|dir = out1|" analysis.ini &&
	"$NIDEC" sweep sweep.ini --progress 0 >/dev/null 2>&1 &&
	for f in out/group_searchlight_*.nii.gz out/group_searchlight_clusters.tsv out/group_scores.tsv; do
		cmp "$f" "out1/${f#out/}" || return 1
	done
'

test_expect_success 'no effect: 20 group levels over null subjects, family-wise false positives <= 4' '
	for s in 1 2 3 4 5 6 7 8 9 10; do
		"$NIDEC" synth -o data/sub-n$s --dims 8x8x8 --runs 4 --volumes 40 --classes 2 \
			--mask-fraction 0.5 --seed $((100 + s)) --signal 0 --subject n$s -q || return 1
	done &&
	analysis 100 null &&
	sweep_file null.ini "n1, n2, n3, n4, n5, n6, n7, n8, n9, n10" &&
	$MPIRUN -n 2 "$NIDEC" sweep null.ini --progress 0 >/dev/null 2>&1 &&
	"$PYTHON" - >subsets <<-\EOF &&
	import numpy as np
	rng = np.random.default_rng(0)
	for i in range(20):
	    print(i, ",".join("n%d" % s for s in sorted(rng.choice(np.arange(1, 11), 5, replace=False))))
	EOF
	fp=0 &&
	while read -r i subs; do
		"$NIDEC" sweep null.ini --gather --set sweep.subjects="$subs" --set sweep.seed=$i \
			>/dev/null 2>&1 || exit 1
		p=$("$PYTHON" -c "import json; c = json.load(open(\"null/group_summary.json\"))[\"searchlight\"][\"cluster_test\"]; print(c[\"n_significant\"])") || exit 1
		[ "$p" = 0 ] || fp=$((fp + 1))
	done <subsets &&
	say "family-wise false positives: $fp of 20" &&
	test $fp -le 4 &&
	"$PYTHON" "$TESTS_DIR/e2e/check_slgroup.py" null >res && cat res && grep -q "^ok: 5 subjects" res
'

test_expect_success 'subjects on different grids: one error before anything runs' '
	"$NIDEC" synth -o data/sub-06 --dims 10x10x11 --runs 4 --volumes 40 --classes 2 \
		--mask-fraction 0.6 --seed 6 --subject 06 -q &&
	analysis 0 grids &&
	sweep_file grids.ini "01, 06" &&
	test_expect_code 1 $MPIRUN -n 2 "$NIDEC" sweep grids.ini --progress 0 >stdout 2>stderr &&
	cat stderr &&
	test "$(grep -c "error:" stderr)" = 1 &&
	grep -q "error: sub-06: '\''data/sub-06/sub-06_task-synth_run-01_bold.nii.gz'\'' is on grid 10x10x11, affine .*, sub-01 on 10x10x10, .*a searchlight group level needs every subject on one grid" stderr &&
	! test -e grids/sub-01/summary.json &&
	! test -e grids/group_summary.json
'

test_done
