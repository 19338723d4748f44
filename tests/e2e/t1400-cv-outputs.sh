#!/bin/sh
# t1400: the files of an output directory, read back by independent tools
# (python3 csv/json, h5py, nibabel): names, columns, shapes, the mask grid
# and affine of the weight maps, summary.json's content and provenance,
# model.h5's layout, no temporary file left behind; plus the result table,
# --timing, progress lines and configs/default.ini.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"

test_expect_success 'convert face/cat and three classes' '
	nidec_n 1 convert $DATA_OPTS --conditions face,cat -o ds.h5 >/dev/null &&
	nidec_n 1 convert $DATA_OPTS --conditions face,cat,house -o ds3.h5 >/dev/null
'

test_expect_success 'nested face vs cat: files, table on stdout, --timing on stderr' '
	nidec_n 2 cv ds.h5 $CONFIGS/haxby-slice.ini -o nested --timing --progress 0 \
		--set output.report=false >stdout 2>stderr &&
	for f in scores.tsv grid_scores.tsv predictions.tsv summary.json model.h5 results.h5 \
		weights_face.nii.gz weights_std_face.nii.gz; do
		test -s nested/$f && grep -q "wrote nested/$f" stdout || return 1
	done &&
	! test -e nested/weights_cat.nii.gz &&
	test -z "$(ls -A nested | grep -v "^[a-z_]*\.\(tsv\|json\|h5\|nii\.gz\)$")" &&
	head -n 1 stdout | grep -q "^class *roc_auc *std *C chosen" &&
	grep -q "^face  *0\.9" stdout &&
	grep -q "parallel efficiency" stderr &&
	grep -q "^timing: *0 " stderr && grep -q "^timing: *1 " stderr
'

test_expect_success 'scores.tsv, grid_scores.tsv, predictions.tsv: columns and rows' '
	printf "class\tfold\tC\tscore\tinner_score\n" >expect &&
	head -n 1 nested/scores.tsv >actual && test_cmp expect actual &&
	test $(wc -l <nested/scores.tsv) = 13 &&
	printf "class\tfold\tC\tscore\tinner_score\n" >expect &&
	head -n 1 nested/grid_scores.tsv >actual && test_cmp expect actual &&
	test $(wc -l <nested/grid_scores.tsv) = 37 &&
	printf "sample\trun\tfold\ttrue\tpredicted\tdecision\n" >expect &&
	head -n 1 nested/predictions.tsv >actual && test_cmp expect actual &&
	test $(wc -l <nested/predictions.tsv) = 217 &&
	awk -F "\t" "NR > 1 && \$2 != \$3 { bad = 1 } END { exit bad }" nested/predictions.tsv
'

test_expect_success 'summary.json, model.h5, results.h5 and the weight maps, read back' '
	"$PYTHON" - nested "$NIDEC_TEST_DATA" <<-\EOF
	import json, sys
	import h5py, nibabel, numpy as np
	out, data = sys.argv[1], sys.argv[2]
	s = json.load(open(f"{out}/summary.json"))
	assert s["classes"] == ["cat", "face"], s["classes"]
	assert s["selection"] == "nested" and s["scheme"] == "leave-one-run-out"
	assert len(s["scores"]["face"]["folds"]) == 12
	assert 0.85 < s["scores"]["face"]["mean"] < 1
	assert len(s["scores"]["face"]["inner_folds"]) == 12
	assert sum(map(sum, s["confusion_matrix"]["counts"])) == 216
	p = s["provenance"]
	for k in ("nidec_version", "command_line", "dataset", "dataset_inputs_sha256", "seed",
	          "ranks", "mpi", "hdf5", "nifti", "jansson"):
	    assert k in p, k
	assert p["ranks"] == 2 and "Open MPI" in p["mpi"] and len(p["dataset_inputs_sha256"]) == 64
	assert "[cv]" in s["config"] and "scheme = leave-one-run-out" in s["config"]
	assert s["timing"]["parallel_efficiency"] > 0 and len(s["timing"]["ranks"]) == 2
	m = h5py.File(f"{out}/model.h5", "r")
	assert m["coef"].shape == (1, 530) and m["intercept"].shape == (1,)
	assert [c.decode() for c in m["classes"][:]] == ["cat", "face"]
	assert m["mask/ijk"].shape == (530, 3) and list(m["mask/dims"][:]) == [40, 20, 1]
	assert m["preprocess/mean"].shape == (530,) and np.all(m["preprocess/scale"][:] > 0)
	assert m.attrs["standardize"] == b"zscore_sample" and m.attrs["compat"] == b"none"
	r = h5py.File(f"{out}/results.h5", "r")
	assert [k.decode() for k in r["keys"][:]] == ["face"]
	assert r["scores/score"].shape == (1, 12) and r["scores/grid_score"].shape == (1, 12, 3)
	assert r["predictions/decision"].shape == (216, 1) and "ledger" in r
	bold = nibabel.load(f"{data}/bold.nii.gz")
	mask = np.asanyarray(nibabel.load(f"{data}/mask.nii.gz").dataobj) != 0
	for k in ("face",):
	    w = nibabel.load(f"{out}/weights_{k}.nii.gz")
	    assert w.get_data_dtype() == np.float32 and w.shape == (40, 20, 1)
	    assert np.allclose(w.affine, bold.affine, atol=1e-5)
	    a = np.asanyarray(w.dataobj)
	    assert np.all(a[~mask] == 0) and np.count_nonzero(a[mask]) > 500
	    sd = np.asanyarray(nibabel.load(f"{out}/weights_std_{k}.nii.gz").dataobj)
	    assert np.all(sd >= 0) and np.all(sd[~mask] == 0)
	# outside compat mode a binary problem is one key, its positive class,
	# and its weights are those of the model, pointing towards face
	assert np.allclose(m["coef"][0], r["weights/mean"][0], atol=1e-12)
	print("summary.json, model.h5, results.h5, weight maps: ok")
	EOF
'

test_expect_success 'three classes: one decision column per class, one map per class' '
	nidec_n 2 cv ds3.h5 $CONFIGS/tutorial-e-loro.ini -o three --progress 0 -q \
		--set data.conditions=cat,face,house --set output.report=false &&
	printf "sample\trun\tfold\ttrue\tpredicted\tdecision_cat\tdecision_face\tdecision_house\n" >expect &&
	head -n 1 three/predictions.tsv >actual && test_cmp expect actual &&
	test $(wc -l <three/scores.tsv) = 37 &&
	test $(ls three/weights_*.nii.gz | wc -l) = 6 &&
	"$PYTHON" -c "
import csv
rows = list(csv.DictReader(open(\"three/predictions.tsv\"), delimiter=\"\t\"))
for r in rows:
    d = {c: float(r[\"decision_\" + c]) for c in (\"cat\", \"face\", \"house\")}
    assert r[\"predicted\"] == max(d, key=d.get), r
"
'

test_expect_success '-q prints nothing; progress lines are whole lines on stderr' '
	nidec_n 2 cv ds.h5 $CONFIGS/tutorial-e-loro.ini -o quiet -q --set output.report=false >stdout 2>stderr &&
	test ! -s stdout && test ! -s stderr &&
	nidec_n 2 cv ds.h5 $CONFIGS/haxby-slice.ini -o prog --progress 0.001 --set output.report=false \
		>/dev/null 2>stderr &&
	grep -q "^nidec: cv: [0-9]*/[0-9]* tasks ([0-9]*%), .* elapsed" stderr &&
	! grep -q "$(printf "\r")" stderr
'

test_expect_success 'configs/default.ini names every key of the schema and loads' '
	nidec_n 1 cv ds.h5 $CONFIGS/default.ini -o dflt -q --set cv.selection=test-fold \
		--set cv.inner_scheme=none --set output.report=false &&
	test -s dflt/scores.tsv &&
	# every key of the schema: the canonical dump recorded in summary.json
	$PYTHON -c "import json, sys; sys.stdout.write(json.load(open(\"dflt/summary.json\"))[\"config\"])" |
		awk "/^\[/ { sec = substr(\$0, 2, length(\$0) - 2) } / = / { print sec, \$1 }" >keys &&
	test $(wc -l <keys) -ge 31 &&
	while read sec key; do
		sed -n "/^\[$sec\]/,/^\[/p" $CONFIGS/default.ini | grep -q "^$key =" ||
			{ echo "default.ini lacks [$sec] $key"; return 1; }
	done <keys
'

test_expect_success 'every tutorial config loads and validates' '
	# a config is read and checked before the dataset is opened (a bad
	# --set would now be refused before the config is even read)
	for c in $CONFIGS/*.ini; do
		test_must_fail nidec_n 1 cv nosuch.h5 $c -o cfgchk -q 2>err &&
		grep -q "cannot open .nosuch.h5." err || { echo "$c:"; cat err; return 1; }
	done
'

test_done
