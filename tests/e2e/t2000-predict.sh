#!/bin/sh
# t2000: `nidec predict` (nilearn's decoder.predict).
#  - Tutorial step (b) through predict: the model that `nidec run
#    configs/tutorial-b-holdout.ini` fits on the first 186 face/cat samples
#    (model.h5, compat = nilearn) predicts the last 30 volumes of bold.nii.gz
#    exactly as nilearn did (same 30 labels, accuracy 25/30, decision values
#    within 1e-4; the 30 volumes are standardized on their own statistics).
#  - Default mode: the training statistics stored in model.h5 are used; the
#    decision values equal an independent numpy computation from model.h5's
#    arrays and the images read with nibabel.
#  - Errors: images on another grid, a labels table of the wrong length.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"

test_expect_success 'fit step (b): the Decoder on the first 186 face/cat samples' '
	nidec_run $CONFIGS/tutorial-b-holdout.ini --set output.dir=b >/dev/null &&
	test -s b/model.h5
'

test_expect_success 'predict the last 30 face/cat volumes: nilearn'\''s 30 labels, 25/30' '
	awk "NR == 1 { print; next }
	     (\$1 == \"face\" || \$1 == \"cat\") && ++n > 186 { print; next }
	     { print \"rest\", \$2 }" "$NIDEC_TEST_DATA/labels.txt" >last30.txt &&
	test $(grep -c -v rest last30.txt) = 31 &&
	$NIDEC predict b/model.h5 "$NIDEC_TEST_DATA/bold.nii.gz" --labels last30.txt \
		-o pred.tsv >stdout &&
	grep -q "accuracy 0.8333 (25/30)" stdout &&
	grep -q "wrote pred.tsv" stdout &&
	"$PYTHON" - pred.tsv "$ORACLE/nilearn-haxby-slice.json" <<-\EOF
	import csv, json, sys
	rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
	ref = json.load(open(sys.argv[2]))["b_holdout_last30"]
	assert [r["predicted"] for r in rows] == ref["predictions"], "labels differ from nilearn"
	assert [r["true"] for r in rows] == ref["truth"]
	worst = max(abs(float(r["decision"]) - d) for r, d in zip(rows, ref["decision_function"]))
	assert worst <= 1e-4, worst
	print(f"30 predictions equal those of nilearn, decision values within {worst:.2g}")
	EOF
'

test_expect_success 'predict under mpirun -n 2 writes the same table' '
	$MPIRUN -n 2 $NIDEC predict b/model.h5 "$NIDEC_TEST_DATA/bold.nii.gz" --labels last30.txt \
		-o pred2.tsv >/dev/null &&
	cmp pred.tsv pred2.tsv
'

test_expect_success 'default mode: training statistics from model.h5, checked with numpy' '
	nidec_run $CONFIGS/haxby-slice.ini --set output.dir=nested >/dev/null &&
	$NIDEC predict nested/model.h5 "$NIDEC_TEST_DATA/bold.nii.gz" -o all.tsv -q &&
	test $(wc -l <all.tsv) = 1453 &&
	"$PYTHON" - nested/model.h5 "$NIDEC_TEST_DATA" all.tsv <<-\EOF
	import csv, sys
	import h5py, nibabel, numpy as np
	m = h5py.File(sys.argv[1], "r")
	bold = np.asanyarray(nibabel.load(sys.argv[2] + "/bold.nii.gz").dataobj).astype(np.float64)
	ijk = m["mask/ijk"][:]
	X = bold[ijk[:, 0], ijk[:, 1], ijk[:, 2], :].T
	Z = (X - m["preprocess/mean"][:]) / m["preprocess/scale"][:]
	d = Z @ m["coef"][0] + m["intercept"][0]
	rows = list(csv.DictReader(open(sys.argv[3]), delimiter="\t"))
	got = np.array([float(r["decision"]) for r in rows])
	assert np.max(np.abs(got - d)) < 1e-9, np.max(np.abs(got - d))
	classes = [c.decode() for c in m["classes"][:]]
	assert [r["predicted"] for r in rows] == [classes[1] if v > 0 else classes[0] for v in d]
	print("1452 decision values equal numpy within 1e-9")
	EOF
'

test_expect_success 'a single 3D image is predicted as in the 4D series (default mode)' '
	"$PYTHON" -c "
import nibabel, sys
img = nibabel.load(sys.argv[1] + \"/bold.nii.gz\")
nibabel.save(img.slicer[..., 100], \"vol100.nii.gz\")
" "$NIDEC_TEST_DATA" &&
	$NIDEC predict nested/model.h5 vol100.nii.gz -o one.tsv -q &&
	test "$(sed -n 2p one.tsv | cut -f2-)" = "$(awk -F "\t" "\$1 == 100" all.tsv | cut -f2-)"
'

test_expect_success 'images on another grid: a clear error, no output' '
	"$PYTHON" -c "
import nibabel, numpy as np
nibabel.save(nibabel.Nifti1Image(np.zeros((10, 10, 1, 3), np.int16), np.eye(4)), \"small.nii.gz\")
" &&
	test_must_fail $NIDEC predict nested/model.h5 small.nii.gz -o bad.tsv 2>err &&
	grep -q "small.nii.gz" err &&
	test ! -e bad.tsv
'

test_expect_success 'a labels table of the wrong length: a clear error' '
	head -n 11 "$NIDEC_TEST_DATA/labels.txt" >short.txt &&
	test_must_fail $NIDEC predict nested/model.h5 "$NIDEC_TEST_DATA/bold.nii.gz" --labels short.txt -o bad.tsv 2>err &&
	grep -q "has 10 rows but the images have 1452 volumes" err &&
	test ! -e bad.tsv
'

test_expect_error 'no image: usage error' 2 'give MODEL.h5 and at least one IMAGE' \
	'$NIDEC predict nested/model.h5'
test_expect_error 'not a model' 1 "cannot open model 'last30.txt': not an HDF5 file" \
	'$NIDEC predict last30.txt "$NIDEC_TEST_DATA/bold.nii.gz"'

test_done
