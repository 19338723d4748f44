#!/bin/sh
# t1740: `nidec searchlight` of a continuous target (estimator = svr)
# against scikit-learn (tests/oracle/searchlight_svr_sklearn.py), on a
# synthetic subject with a planted target (`nidec synth --target`: 4 runs,
# 112 face and cat volumes, 240 spheres of 12-27 voxels at 5.6 mm,
# leave-one-run-out):
#  - compat = nilearn: nilearn's SearchLight(estimator='svr'), i.e.
#    cross_val_score(SVR(), ...) per sphere on the images z-scored per voxel
#    (RBF kernel, gamma 'scale', C = 1, no iteration cap), scored by r2;
#  - default mode: StandardScaler + SVR(kernel='linear', C = 10,
#    max_iter=10000) per sphere (standardize = zscore, fitted on each
#    training fold), the decoder's svr; at C = 10 every one of the 960
#    fits stops at max_iter, where only the same path gives the same r2.
# Every fold's r2 of every sphere must agree within 1e-4 (the solver's
# tolerance); nidec's SMO takes libsvm's steps, so the measured maxima are
# 0 (nilearn: no fit capped) and 1.5e-12 (default).  The target is the one
# the oracle reads from
# labels.txt; 1 and 2 ranks write byte-identical maps; permutations of the
# target give p maps and leave the observed map as it was; another
# regressor is refused.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"

ORA=$TESTS_DIR/oracle/searchlight_svr_sklearn.py
SL="$NIDEC searchlight syn/synth.ini --set model.estimator=svr --progress 0 --set output.report=false"

# same DIR ORACLE_JSON: the target, the spheres and every fold's r2
same() {
	"$PYTHON" - "$1" "$2" <<-\EOPY
	import csv, json, sys
	import h5py, numpy as np
	d, ora = sys.argv[1], sys.argv[2]
	o = json.load(open(ora))
	with h5py.File(d + "/dataset.h5") as f:
	    assert np.array_equal(f["target"][()], o["target"]), "target"
	with h5py.File(d + "/results.h5") as f:
	    cent = list(f["searchlight/centre"][()])
	    ptr, vox = f["searchlight/sphere_ptr"][()], f["searchlight/sphere_voxels"][()]
	assert cent == o["centres"], "centres"
	assert [list(map(int, vox[ptr[i]:ptr[i + 1]])) for i in range(len(cent))] == o["spheres"], "spheres"
	s = json.load(open(d + "/summary.json"))
	assert s["task"] == "regression" and s["target"] == "modulation" and s["scoring"] == "r2", s
	rows = list(csv.DictReader(open(d + "/searchlight.tsv"), delimiter="\t"))
	F = len(o["folds"][0])
	got = np.array([[float(r[f"score_fold_{f}"]) for f in range(F)] for r in rows])
	want = np.array(o["folds"])
	diff = np.abs(got - want)
	print(f"{d}: {len(rows)} spheres x {F} folds, r2 from {want.min():.3f} to {want.max():.3f}, "
	      f"max |r2 - sklearn| = {diff.max():.3g}")
	assert diff.max() <= 1e-4, diff.max()
	EOPY
}

test_expect_success 'a synthetic subject with a planted target' '
	$NIDEC synth -q -o syn --dims 10x12x8 --runs 4 --volumes 40 --classes 2 --signal 0.5 \
		--target --seed 3 &&
	grep -q "^target_column = modulation$" syn/synth.ini
'

test_expect_success 'compat = nilearn = SearchLight(estimator='\''svr'\''): SVR() per sphere' '
	$MPIRUN -n 2 $SL --set cv.compat=nilearn --set output.dir=nil >out &&
	grep -q "^searchlight: 240 spheres" out &&
	"$PYTHON" "$ORA" syn face,cat 5.6 nilearn 1 >oracle-nilearn.json &&
	same nil oracle-nilearn.json
'

test_expect_success 'default mode = StandardScaler + linear SVR(C, max_iter=10000) per sphere' '
	$MPIRUN -n 2 $SL --set preprocess.standardize=zscore --set model.C=10 --set output.dir=def >/dev/null &&
	"$PYTHON" "$ORA" syn face,cat 5.6 default 10 >oracle-default.json &&
	same def oracle-default.json
'

test_expect_success '1 and 2 ranks: byte-identical maps' '
	$MPIRUN -n 1 $SL --set cv.compat=nilearn --set output.dir=nil1 >/dev/null &&
	$MPIRUN -n 1 $SL --set preprocess.standardize=zscore --set model.C=10 --set output.dir=def1 >/dev/null &&
	for d in nil def; do
		for f in searchlight_r2.nii.gz searchlight_folds_r2.nii.gz searchlight.tsv; do
			cmp $d/$f ${d}1/$f || exit 1
		done
	done
'

test_expect_success 'permutations shuffle the target: p maps, the observed map unchanged' '
	$MPIRUN -n 2 $SL --set cv.compat=nilearn --set cv.permutations=3 --set output.dir=perm >out &&
	grep -q "^permutations: 3;" out &&
	test -f perm/searchlight_p.nii.gz && test -f perm/searchlight_p_fwe.nii.gz &&
	cmp perm/searchlight_r2.nii.gz nil/searchlight_r2.nii.gz &&
	"$PYTHON" -c "
import nibabel as nib, numpy as np
p = np.asanyarray(nib.load(\"perm/searchlight_p.nii.gz\").dataobj)
m = np.asanyarray(nib.load(\"syn/mask.nii.gz\").dataobj) != 0
v = p[m]
assert set(np.round(v * 4).astype(int)) <= {1, 2, 3, 4}, sorted(set(v))
print(\"p\")" >p.out && grep -q "^p$" p.out
'

test_expect_success 'a continuous target takes svr only' '
	test_expect_code 1 $NIDEC searchlight syn/synth.ini --set model.estimator=ridge \
		--set output.dir=ridge --progress 0 2>err &&
	grep -q "a searchlight of a continuous target fits svr" err
'

test_done
