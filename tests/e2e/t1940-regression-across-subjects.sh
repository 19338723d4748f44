#!/bin/sh
# t1940: continuous targets across subjects (issue 18).  `nidec synth
# --across-subjects 48` writes one 3D map per subject (12x12x10 grid, 728
# voxels in the mask) with a planted linear relation to its score; 40
# subjects are fitted (a sample table, the subject column as the group, 8
# folds of 5 subjects), 8 are new.  For ridge, dummy_regressor, svr and
# lasso, nested (standardize = zscore, screening 20 %) and compat = nilearn
# (nilearn's Decoder: float32 z-scoring of all samples, screening rescaled
# by the mask volume - 29 % with 12 mm voxels -, svr's C on the test fold),
# nidec's per-fold r2, chosen C / alpha and weight map equal scikit-learn's
# (tests/e2e/check_regression.py across: r2 within 1e-6 for ridge and
# dummy, 1e-4 for svr and lasso, the same C/alpha in >= 95 % of the folds,
# weights r >= 0.999).  Measured (the largest over the configs, printed by
# the last test): r2 within 7.4e-14 wherever scikit-learn computes in
# double (ridge 3.3e-15, svr 2.2e-16, lasso 7.4e-14, dummy 0), 4.0e-5 for
# lasso under nilearn (LassoCV fits nilearn's float32 values in float32,
# nidec in double: in double 7.4e-14); every fold the same C/alpha (svr
# under nilearn: 0.003 in 2 of 8 folds, else 0.01); weights 1 - r <= 3e-10.
# Also: grey-matter-like maps (voxels constant in every map, or non-zero in
# one subject only), 1, 2 and 3 ranks byte-identical, permutations across
# subjects (permute_within = all; within runs is refused), leave-one-
# subject-out refused for r2, and nidec predict on the new subjects.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"
CHECK="$PYTHON -W ignore $TESTS_DIR/e2e/check_regression.py across"
# svr's C: every value changes the fit (from C = 0.01 up no dual
# coefficient reaches C on this set: the same fit, and exact ties), and
# libsvm converges in under 200 iterations (scikit-learn's and nilearn's
# cap is 10000)
GRID=0.0003,0.001,0.003,0.01

test_expect_success 'nidec synth --across-subjects: 48 subjects, 40 fitted, 8 new' '
	$NIDEC synth -q -o set --across-subjects 48 --dims 12x12x10 --mask-fraction 0.5 --signal 0.25 \
		--voxel-size 12 --datatype float32 &&
	head -41 set/subjects.tsv >set/train.tsv &&
	{ head -1 set/subjects.tsv && tail -8 set/subjects.tsv; } >set/new.tsv &&
	test $(wc -l <set/new.tsv) = 9 &&
	printf "[data]\nsamples = %s/set/train.tsv\nmask = %s/set/mask.nii.gz\nlabel_column = contrast\nrun_column = subject\nconditions = effect\ntarget_column = score\n[preprocess]\nscreening_percentile = 20\n[cv]\nscheme = kfold\nn_folds = 8\npermute_within = all\n[output]\nreport = false\nprogress = 0\n" \
		"$PWD" "$PWD" >across.ini
'

test_expect_success 'synth.ini runs as written: ridge recovers the planted score' '
	nidec_n 2 run set/synth.ini --set output.dir=$PWD/syn --set output.report=false --progress 0 >out &&
	grep -q "^score " out &&
	test $(wc -l <syn/scores.tsv) = 6 &&
	"$PYTHON" -c "
import csv
s = [float(r[\"score\"]) for r in csv.DictReader(open(\"syn/scores.tsv\"), delimiter=\"\t\")]
assert sum(s) / len(s) > 0.4, s
print(\"planted\")" >p.out && grep -q planted p.out
'

# nidec run on across.ini ($1 = estimator, $2 = output dir, then --set ...),
# then the oracle (its line appended to maxima.txt)
reg() {
	e=$1 out=$2
	shift 2
	C=
	test $e != svr || C="--set model.C=$GRID"
	nidec_n 2 run across.ini --set model.estimator=$e $C --set output.dir=$out -q "$@" &&
	$CHECK set/train.tsv $e $out --grid $GRID --folds 8 $(test $out = ${out#c-} || echo --nilearn) >m &&
	cat m >&2 && cat m >>maxima.txt
}

for e in ridge dummy_regressor svr lasso; do
	test_expect_success "$e, nested: scikit-learn's pipeline fold for fold" "
		reg $e n-$e --set preprocess.standardize=zscore
	"
	test_expect_success "$e, compat = nilearn: nilearn's Decoder fold for fold" "
		reg $e c-$e --set cv.compat=nilearn
	"
done

test_expect_success 'svr nested: inner 5-fold on the training subjects (one image each), inner scores as GridSearchCV' '
	head -1 n-svr/scores.tsv | grep -q "inner_score$" &&
	grep -q "^svr: 8 folds, .* same C/alpha in 8/8, max |inner - sklearn| = [0-9.e-]*, weight map r = 1.0000000 " maxima.txt
'

test_expect_success 'grey-matter-like maps: voxels constant in every map or non-zero in one subject' '
	mkdir gm && cp set/mask.nii.gz set/train.tsv gm/ &&
	"$PYTHON" -c "
import csv, nibabel as nib, numpy as np
rows = list(csv.DictReader(open(\"set/train.tsv\"), delimiter=\"\t\"))
idx = np.argwhere(np.asanyarray(nib.load(\"set/mask.nii.gz\").dataobj) != 0)
for i, r in enumerate(rows):
    img = nib.load(\"set/\" + r[\"path\"])
    a = np.asanyarray(img.dataobj).copy()
    a[tuple(idx[::37].T)] = 0
    if i != 3:
        a[tuple(idx[5::41].T)] = 0
    nib.save(nib.Nifti1Image(a, img.affine, img.header), \"gm/\" + r[\"path\"])
" &&
	sed "s#/set/#/gm/#" across.ini >gm.ini &&
	nidec_n 2 run gm.ini --set model.estimator=ridge --set preprocess.standardize=zscore --set output.dir=gm-ridge -q &&
	$CHECK gm/train.tsv ridge gm-ridge --folds 8 >m && cat m >&2 && cat m >>maxima.txt &&
	nidec_n 2 run gm.ini --set model.estimator=svr --set model.C=$GRID --set cv.compat=nilearn --set output.dir=gm-svr -q &&
	$CHECK gm/train.tsv svr gm-svr --grid $GRID --folds 8 --nilearn >m && cat m >&2 && cat m >>maxima.txt
'

test_expect_success '1, 2 and 3 ranks: byte-identical outputs (svr, nested)' '
	mkdir r1 r3 &&
	(cd r1 && nidec_n 1 run ../across.ini --set model.estimator=svr --set model.C=$GRID \
		--set preprocess.standardize=zscore --set output.dir=n-svr -q) &&
	(cd r3 && nidec_n 3 run ../across.ini --set model.estimator=svr --set model.C=$GRID \
		--set preprocess.standardize=zscore --set output.dir=n-svr -q) &&
	"$PYTHON" "$TESTS_DIR/e2e/same_outputs.py" r1/n-svr n-svr &&
	"$PYTHON" "$TESTS_DIR/e2e/same_outputs.py" r3/n-svr n-svr
'

test_expect_success 'permutations across subjects (permute_within = all): null scores and a p-value' '
	nidec_n 2 run across.ini --set model.estimator=ridge --set preprocess.standardize=zscore \
		--set cv.permutations=19 --set output.dir=perm -q &&
	test $(wc -l <perm/null_scores.tsv) = 20 &&
	cmp perm/scores.tsv n-ridge/scores.tsv &&
	"$PYTHON" -c "
import json
s = json.load(open(\"perm/summary.json\"))
assert s[\"permutations\"][\"permute_within\"] == \"all\", s[\"permutations\"]
p = s[\"scores\"][\"score\"][\"p_value\"]
assert p == 0.05, p  # the planted score beats all 19 shuffles
print(\"perm\")" >p.out && grep -q perm p.out
'

test_expect_error 'permutations within runs of one subject each are refused, naming permute_within = all' 1 \
	"[cv] permutations = 3: no run holds two different targets, so shuffling them within runs changes nothing; set [cv] permute_within = all (or 0 permutations)" '
	$NIDEC run across.ini --set model.estimator=ridge --set cv.permutations=3 \
		--set cv.permute_within=run --set output.dir=bad -q
'

test_expect_error 'leave-one-subject-out is refused for r2: one test image' 1 \
	"[cv] scheme = leave-one-run-out: fold 0 (run 0) tests 1 sample, and r2 is undefined on one sample; with one sample per run (e.g. one image per subject) use [cv] scheme = kfold, or scoring = neg_mean_absolute_error" '
	$NIDEC run across.ini --set model.estimator=ridge --set cv.scheme=leave-one-run-out --set output.dir=bad -q
'

test_expect_success 'leave-one-subject-out with the absolute error runs' '
	$NIDEC run across.ini --set model.estimator=ridge --set cv.scheme=leave-one-run-out \
		--set cv.scoring=neg_mean_absolute_error --set output.dir=loso -q &&
	test $(wc -l <loso/scores.tsv) = 41
'

test_expect_success 'nidec predict: the new subjects from a sample table, x . coef + intercept, and r2' '
	$NIDEC predict n-ridge/model.h5 --samples set/new.tsv --label-column contrast --run-column subject \
		-o new.tsv >out &&
	grep -q "^predicted 8 samples: score (regression)$" out &&
	head -1 new.tsv | grep -q "^sample	run	true	predicted	residual	score	age$" &&
	"$PYTHON" -c "
import csv, h5py, nibabel as nib, numpy as np
from sklearn.metrics import r2_score
m = h5py.File(\"n-ridge/model.h5\")
mask = np.asanyarray(nib.load(\"set/mask.nii.gz\").dataobj) != 0
rows = list(csv.DictReader(open(\"set/new.tsv\"), delimiter=\"\t\"))
X = np.array([nib.load(\"set/\" + r[\"path\"]).get_fdata(dtype=np.float32)[mask] for r in rows]).astype(np.float64)
Z = (X - m[\"preprocess/mean\"][()]) / m[\"preprocess/scale\"][()]
want = Z @ m[\"coef\"][0] + m[\"intercept\"][0]
got = list(csv.DictReader(open(\"new.tsv\"), delimiter=\"\t\"))
p = np.array([float(r[\"predicted\"]) for r in got])
assert np.max(np.abs(p - want)) < 1e-9 * max(1, np.max(np.abs(want))), np.max(np.abs(p - want))
y = np.array([float(r[\"score\"]) for r in rows])
assert [r[\"run\"] for r in got] == [r[\"subject\"] for r in rows]
assert np.array_equal([float(r[\"true\"]) for r in got], y)
r2 = r2_score(y, p)
assert r2 > 0.3, r2  # the planted relation holds for new subjects
print(\"r2 %.4f\" % r2)" >p.out &&
	grep -q "^$(sed -n "s/^r2 \([0-9.]*\) .*/r2 \1/p" out)$" p.out
'

test_expect_success 'the oracle can fail: another target, another standardization' '
	awk -F "\t" -v OFS="\t" "NR > 1 { \$4 = \$4 * 2 + NR % 3 } 1" set/train.tsv >set/other.tsv &&
	test_must_fail $CHECK set/other.tsv ridge n-ridge --folds 8 2>err &&
	grep -q "predictions.tsv holds other samples or targets" err &&
	test_must_fail $CHECK set/train.tsv svr n-svr --grid $GRID --folds 8 --nilearn >/dev/null 2>err &&
	grep -q "r2 differs from scikit-learn" err
'

test_expect_success 'the measured agreement (largest over the configs)' '
	cat maxima.txt >&2 &&
	"$PYTHON" -c "
import re
d = {}
for l in open(\"maxima.txt\"):
    e = l.split(\":\")[0]
    r2 = float(re.search(r\"max \|r2 - sklearn\| = ([^,]+),\", l).group(1))
    d[e] = max(d.get(e, 0.0), r2)
print(\"; \".join(\"%s %.3g\" % kv for kv in sorted(d.items())))" >&2 &&
	test $(wc -l <maxima.txt) = 10
'

test_done
