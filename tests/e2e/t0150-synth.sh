#!/bin/sh
# nidec synth: a synthetic subject that converts as is, whose events give
# back the planted design, the same for a seed and any number of ranks,
# with a signal that decodes when planted and not when absent; the
# across-subject set (--across-subjects): maps, sample table, config.
. "$(dirname "$0")/../lib.sh"
ORACLE="$PYTHON $TESTS_DIR/oracle/convert_nibabel.py"
small="--dims 12x14x6 --runs 4 --volumes 30 --classes 3"

test_expect_success 'synth writes runs, events, mask, labels and a config' '
	$NIDEC synth -o s1 $small --signal 2 >stdout &&
	grep -q "^wrote .s1.: 4 runs x 30 volumes of 12x14x6" stdout &&
	for r in 01 02 03 04; do test -f s1/sub-01_task-synth_run-${r}_bold.nii.gz &&
		test -f s1/sub-01_task-synth_run-${r}_events.tsv || exit 1; done &&
	test -f s1/mask.nii.gz && test -f s1/labels.txt && test -f s1/synth.ini &&
	! ls s1/.*.tmp-* 2>/dev/null
'
test_expect_success 'the config converts; /X equals nibabel; events give labels.txt' '
	$NIDEC convert s1/synth.ini -o s1.h5 >stdout &&
	grep -q "84 samples x 256 voxels, 4 runs, 3 conditions" stdout &&
	$ORACLE s1.h5 --bold "s1/sub-01_task-synth_run-*_bold.nii.gz" \
		--events "s1/sub-01_task-synth_run-*_events.tsv" --mask s1/mask.nii.gz \
		--conditions face,cat,house --expect-labels s1/labels.txt >out && grep -q "^ok: 84 x 256" out
'
test_expect_success 'the labels table route gives the same dataset' '
	$NIDEC convert --bold "s1/sub-01_task-synth_run-*_bold.nii.gz" --labels s1/labels.txt \
		--mask s1/mask.nii.gz --conditions face,cat,house -o s1t.h5 -q &&
	$PYTHON -c "
import h5py, numpy as np
a, b = h5py.File(\"s1.h5\"), h5py.File(\"s1t.h5\")
for k in (\"X\", \"labels\", \"runs\", \"volumes\"):
    assert np.array_equal(a[k][()], b[k][()]), k
print(\"same\")" | grep -q same
'
test_expect_success 'mask holds about --mask-fraction of the grid' '
	$PYTHON -c "
import nibabel as nib, numpy as np
m = np.asarray(nib.load(\"s1/mask.nii.gz\").dataobj)
f = (m != 0).mean()
assert 0.2 < f < 0.3, f
print(\"fraction ok\")" | grep -q "fraction ok"
'
test_expect_success 'same seed: the same files; another seed: other data' '
	$NIDEC synth -o s2 $small --signal 2 -q &&
	for f in s1/*.nii.gz s1/*.tsv s1/labels.txt; do cmp $f s2/$(basename $f) || exit 1; done &&
	$NIDEC synth -o s3 $small --signal 2 --seed 7 -q &&
	! cmp -s s1/sub-01_task-synth_run-01_bold.nii.gz s3/sub-01_task-synth_run-01_bold.nii.gz
'
test_expect_success 'mpirun -n 3 writes the same files as one rank' '
	$MPIRUN -n 3 $NIDEC synth -o s4 $small --signal 2 >stdout &&
	test $(grep -c "^wrote" stdout) = 1 &&
	for f in s1/*.nii.gz s1/*.tsv s1/labels.txt; do cmp $f s4/$(basename $f) || exit 1; done
'
test_expect_success 'float32 voxels' '
	$NIDEC synth -o s5 $small --datatype float32 -q &&
	$PYTHON -c "
import nibabel as nib
assert nib.load(\"s5/sub-01_task-synth_run-01_bold.nii.gz\").get_data_dtype() == \"float32\"
print(\"f32\")" | grep -q f32
'
test_expect_success 'the planted signal decodes across runs; without signal it does not' '
	$NIDEC synth -o s0 $small --signal 0 -q && $NIDEC convert s0/synth.ini -o s0.h5 -q &&
	cat >nc.py <<-\EOT &&
	import sys, h5py, numpy as np
	f = h5py.File(sys.argv[1]); X = f["X"][()]; y = f["labels"][()]; r = f["runs"][()]
	ok = n = 0
	for run in np.unique(r):
	    tr, te = r != run, r == run
	    cls = np.unique(y[tr])
	    cen = np.array([X[tr & (y == c)].mean(0) for c in cls])
	    d = ((X[te][:, None, :] - cen[None]) ** 2).sum(-1)
	    ok += (cls[d.argmin(1)] == y[te]).sum(); n += te.sum()
	print("%.3f" % (ok / n))
	EOT
	acc=$($PYTHON nc.py s1.h5) && acc0=$($PYTHON nc.py s0.h5) && echo "$acc $acc0" &&
	$PYTHON -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not (a > 0.9 and b < 0.7))" $acc $acc0
'
test_expect_error 'too few volumes for the classes' 1 "synth: --volumes 5: give at least 2 per class (6)" '
	$NIDEC synth -o bad --volumes 5 --classes 3
'
test_expect_error 'no output directory' 2 "missing -o DIR" '
	$NIDEC synth --runs 2
'
test_expect_error 'bad --dims' 2 "--dims '40x64': give XxYxZ" '
	$NIDEC synth -o bad --dims 40x64
'
test_expect_success '--across-subjects: a map per subject, a sample table, a config' '
	$NIDEC synth -o ac $small --across-subjects 12 --datatype float32 --signal 1 >stdout &&
	grep -q "^wrote .ac.: 12 subject maps of 12x14x6" stdout &&
	test -f ac/sub-01_map.nii.gz && test -f ac/sub-12_map.nii.gz && ! test -f ac/sub-13_map.nii.gz &&
	test -f ac/mask.nii.gz && ! ls ac/*_bold.nii.gz ac/.*.tmp-* 2>/dev/null &&
	head -1 ac/subjects.tsv | grep -q "^path	subject	contrast	score	age$" &&
	test $(wc -l <ac/subjects.tsv) = 13 &&
	grep -q "^sub-03_map.nii.gz	03	effect	" ac/subjects.tsv &&
	grep -q "^run_column = subject$" ac/synth.ini && grep -q "^target_column = score$" ac/synth.ini &&
	grep -q "^permute_within = all$" ac/synth.ini && grep -q "^scheme = kfold$" ac/synth.ini
'
test_expect_success '--across-subjects: the maps carry the score; the same files for 3 ranks' '
	$PYTHON -c "
import csv, nibabel as nib, numpy as np
rows = list(csv.DictReader(open(\"ac/subjects.tsv\"), delimiter=\"\t\"))
m = np.asarray(nib.load(\"ac/mask.nii.gz\").dataobj) != 0
X = np.array([nib.load(\"ac/\" + r[\"path\"]).get_fdata()[m] for r in rows])
z = np.array([float(r[\"score\"]) for r in rows])
age = np.array([int(r[\"age\"]) for r in rows])
assert nib.load(\"ac/sub-01_map.nii.gz\").get_data_dtype() == np.float32
assert np.all(nib.load(\"ac/sub-01_map.nii.gz\").get_fdata()[~m] == 0)
assert 18 <= age.min() and age.max() <= 80
# the planted map, as the slope of each voxel on the score in half the
# subjects, predicts the score of the other half
Q = np.polyfit(z[:6], X[:6], 1)[0]
r = np.corrcoef(X[6:] @ Q, z[6:])[0, 1]
assert r > 0.9, r
print(\"planted\")" >out && grep -q planted out &&
	$MPIRUN -n 3 $NIDEC synth -o ac3 $small --across-subjects 12 --datatype float32 --signal 1 -q &&
	for f in ac/*.nii.gz ac/subjects.tsv; do cmp $f ac3/$(basename $f) || exit 1; done
'
test_expect_error '--across-subjects refuses --target' 1 "synth: --across-subjects writes one map per subject with its own target; drop --target" '
	$NIDEC synth -o bad --across-subjects 5 --target
'
test_expect_error '--across-subjects needs 3 subjects' 1 "synth: --across-subjects 2: give 3..9999 subjects" '
	$NIDEC synth -o bad --across-subjects 2
'
test_expect_success '--help lists every option with its default' '
	$NIDEC synth --help >help &&
	for o in -o --dims --runs --volumes --classes --tr --signal --mask-fraction --voxel-size \
		--seed --subject --datatype --compress --across-subjects; do
		grep -q -- "^  .*$o .*default" help || grep -q -- "^  -o, --output DIR" help || { echo "missing $o"; exit 1; }; done
'
test_done
