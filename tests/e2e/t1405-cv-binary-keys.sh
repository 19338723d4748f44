#!/bin/sh
# t1405: a binary problem is reported once, under its positive class (the
# second in sorted order, as nilearn's LabelBinarizer), in every output of
# default mode: scores.tsv, grid_scores.tsv, null_scores.tsv,
# summary.json, weights_<class>.nii.gz, the printed table; its weights
# point towards that class.  compat = nilearn keeps nilearn's two rows
# (the second class gets the same scores and the negated weights), and
# more than two classes give one row per class in both modes.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"

test_expect_success 'default mode, face vs cat: one key, face' '
	nidec_run "$CONFIGS/haxby-slice.ini" --set output.dir=out --set cv.permutations=3 >stdout &&
	cat stdout &&
	test "$(cut -f1 out/scores.tsv | sort -u | tr "\n" " ")" = "class face " &&
	test "$(cut -f1 out/grid_scores.tsv | sort -u | tr "\n" " ")" = "class face " &&
	test "$(head -n 1 out/null_scores.tsv)" = "$(printf "permutation\tface")" &&
	test -f out/weights_face.nii.gz && test -f out/weights_std_face.nii.gz &&
	! test -e out/weights_cat.nii.gz &&
	grep -q "^face " stdout && ! grep -q "^cat " stdout &&
	"$PYTHON" - out <<-\EOPY
	import json, sys
	import h5py, nibabel, numpy as np
	d = sys.argv[1]
	s = json.load(open(d + "/summary.json"))
	assert s["keys"] == ["face"], s["keys"]
	assert s["classes"] == ["cat", "face"], s["classes"]
	assert list(s["scores"]) == ["face"], list(s["scores"])
	# the map points towards face: it is the fold-averaged model (+1 = face)
	w = np.asarray(nibabel.load(d + "/weights_face.nii.gz").dataobj)
	with h5py.File(d + "/model.h5") as m:
	    coef = m["coef"][0]
	    ijk = m["mask/ijk"][()]
	got = w[ijk[:, 0], ijk[:, 1], ijk[:, 2]]
	assert np.allclose(got, coef, rtol=1e-6, atol=1e-7), np.abs(got - coef).max()
	EOPY
'

test_expect_success 'compat = nilearn, face vs cat: both keys, the same scores, negated weights' '
	nidec_run "$CONFIGS/tutorial-e-loro.ini" --set output.dir=nl >/dev/null &&
	test "$(cut -f1 nl/scores.tsv | sort -u | tr "\n" " ")" = "cat class face " &&
	test -f nl/weights_cat.nii.gz && test -f nl/weights_face.nii.gz &&
	"$PYTHON" - nl <<-\EOPY
	import csv, sys
	import nibabel, numpy as np
	d = sys.argv[1]
	rows = list(csv.DictReader(open(d + "/scores.tsv"), delimiter="\t"))
	cat = [r["score"] for r in rows if r["class"] == "cat"]
	face = [r["score"] for r in rows if r["class"] == "face"]
	assert len(cat) == 12 and cat == face
	wc = np.asarray(nibabel.load(d + "/weights_cat.nii.gz").dataobj)
	wf = np.asarray(nibabel.load(d + "/weights_face.nii.gz").dataobj)
	assert np.array_equal(wc, -wf)
	EOPY
'

test_expect_success 'three classes: one key per class in default mode' '
	nidec_run "$CONFIGS/haxby-slice.ini" --set output.dir=three \
		--set data.conditions=face,cat,house >/dev/null &&
	test "$(cut -f1 three/scores.tsv | sort -u | tr "\n" " ")" = "cat class face house " &&
	test -f three/weights_cat.nii.gz && test -f three/weights_house.nii.gz
'

test_done
