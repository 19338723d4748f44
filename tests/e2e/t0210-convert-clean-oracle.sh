#!/bin/sh
# [clean] against nilearn's semantics, re-implemented with numpy and scipy
# in tests/oracle/clean_nilearn.py: every parameter alone and all together,
# per run and as one series (compat = nilearn), on the bundled slice (its
# per-run files, confounds TSVs made here) and on a synthetic subject with
# planted drift and confounds (nidec synth --layout fmriprep); the cleaned
# matrix within 1e-5 of each voxel's standard deviation beyond float32
# storage; nilearn's compute_epi_mask / compute_background_mask voxel for
# voxel.
. "$(dirname "$0")/../lib.sh"
D=$NIDEC_TEST_DATA
R=$D/runs
ORACLE="$PYTHON $TESTS_DIR/oracle/clean_nilearn.py"

# slice NAME "SETS" "ORACLE OPTIONS": convert the slice's runs with the
# --set options; the case for the oracle goes to cases.txt (checked in one
# run of the oracle below, which reads the images once)
slice() {
	$NIDEC convert --bold "$R/*_bold.nii.gz" --events "$R/*_events.tsv" --mask $D/mask.nii.gz \
		--conditions face,cat,house --set data.confounds_files="conf/*.tsv" $2 -o "$1.h5" -q &&
	echo "$1.h5 --bold '$R/*_bold.nii.gz' --mask $D/mask.nii.gz --confounds 'conf/*.tsv' $3" >>cases.txt
}
S=synth/derivatives/fmriprep/sub-01/func
synth() {
	$NIDEC convert synth/synth.ini $2 -o "$1.h5" -q &&
	echo "$1.h5 --bold '$S/*preproc_bold.nii.gz' --mask $(echo $S/*brain_mask.nii.gz) --confounds '$S/*timeseries.tsv' $3" >>cases.txt
}

test_expect_success 'inputs: confounds for the slice, a synthetic fMRIPrep subject' '
	$PYTHON $TESTS_DIR/e2e/make_confounds.py conf 121 12 5 &&
	$NIDEC synth -o synth --layout fmriprep --dims 16x16x12 --runs 3 --volumes 60 \
		--classes 2 --signal 1 --seed 4 -q &&
	test -f $S/sub-01_task-synth_run-3_desc-confounds_timeseries.tsv
'
for case in \
	"smooth|--set clean.smoothing_fwhm=6|--smoothing 6" \
	"detrend|--set clean.detrend=true|--detrend" \
	"highpass|--set clean.high_pass=0.01|--high-pass 0.01" \
	"lowpass|--set clean.low_pass=0.08|--low-pass 0.08" \
	"t_r|--set clean.high_pass=0.01 --set clean.t_r=2|--high-pass 0.01 --t-r 2" \
	"confounds|--set clean.confounds=trans_*,rot_x,csf|--confound-cols trans_*,rot_x,csf" \
	"strategy|--set clean.confounds_strategy=motion:full,wm_csf:derivatives,global_signal,high_pass|--strategy motion:full,wm_csf:derivatives,global_signal,high_pass" \
	"noconfstd|--set clean.confounds=trans_x,csf --set clean.standardize_confounds=false|--confound-cols trans_x,csf --no-standardize-confounds" \
	"psc|--set clean.detrend=true --set clean.standardize=psc|--detrend --standardize psc" \
	"zscore|--set clean.standardize=zscore|--standardize zscore" \
	"all|--set clean.smoothing_fwhm=5 --set clean.detrend=true --set clean.high_pass=0.01 --set clean.low_pass=0.1 --set clean.confounds_strategy=motion:full,wm_csf --set clean.standardize=zscore_sample|--smoothing 5 --detrend --high-pass 0.01 --low-pass 0.1 --strategy motion:full,wm_csf --standardize zscore_sample" \
	"compat|--set cv.compat=nilearn --set clean.smoothing_fwhm=6 --set clean.high_pass=0.01 --set clean.confounds=trans_*|--compat --smoothing 6 --high-pass 0.01 --confound-cols trans_* --standardize zscore_sample"
do
	name=${case%%|*}
	rest=${case#*|}
	sets=${rest%%|*}
	ora=${rest#*|}
	test_expect_success "slice: $name" "slice s-$name \"$sets\" \"$ora\""
	test_expect_success "synthetic: $name" "synth y-$name \"$sets\" \"$ora\""
done
test_expect_success 'synthetic: CompCor from the JSON sidecar' '
	synth y-compcor "--set clean.confounds_strategy=compcor:anat_combined:3,compcor:temporal" \
		"--strategy compcor:anat_combined:3,compcor:temporal"
'
test_expect_success 'the oracle: every case within 1e-5 of each voxel'\''s std' '
	$ORACLE --batch cases.txt >out &&
	cat out && test $(grep -c ": ok:" out) = $(wc -l <cases.txt) &&
	grep -q "y-compcor.h5: ok.*6 confounds" out
'
test_expect_success 'the planted drift and confounds: there before, gone after' '
	$NIDEC convert synth/synth.ini --set data.conditions= -o before.h5 -q &&
	$NIDEC convert synth/synth.ini --set data.conditions= --set clean.detrend=true \
		--set clean.confounds_strategy=motion:basic,wm_csf -o after.h5 -q &&
	$PYTHON - "$S" <<-\PY >out && cat out && grep -q "^ok" out
	import sys, h5py, numpy as np
	tsv = sys.argv[1] + "/sub-01_task-synth_run-1_desc-confounds_timeseries.tsv"
	hdr = open(tsv).readline().rstrip("\n").split("\t")
	tx = np.loadtxt(tsv, skiprows=1, usecols=[hdr.index("trans_x")])
	t = np.arange(60.0)
	def mean_abs_r(path, ref):
	    X = h5py.File(path)["X"][:60].astype(float)
	    return np.mean([abs(np.corrcoef(ref, X[:, v])[0, 1]) for v in range(X.shape[1])])
	b, a = mean_abs_r("before.h5", tx), mean_abs_r("after.h5", tx)
	bt, at = mean_abs_r("before.h5", t), mean_abs_r("after.h5", t)
	print(f"|r| with trans_x {b:.3f} -> {a:.2e}, with time {bt:.3f} -> {at:.2e}")
	assert b > 0.2 and bt > 0.2 and a < 1e-3 and at < 1e-3
	print("ok")
	PY
'
test_expect_success 'compute_epi_mask: nidec'\''s voxels are nilearn'\''s (synthetic)' '
	$NIDEC convert --bold "$S/*preproc_bold.nii.gz" --events "synth/sub-01/func/*_events.tsv" \
		--mask-strategy epi -o epi.h5 >out &&
	test -f epi.mask.nii.gz &&
	$ORACLE epi.h5 --bold "$S/*preproc_bold.nii.gz" --mask-strategy epi --check-mask epi.mask.nii.gz >out &&
	grep -q "^ok" out &&
	$PYTHON -c "
import h5py; f = h5py.File(\"epi.h5\"); print(f.attrs[\"preprocessing\"])" >pre &&
	grep -q "compute_epi_mask from the mean of 180 volumes" pre
'
test_expect_success 'compute_epi_mask on the slice: empty for nilearn too, refused' '
	test_expect_code 1 $NIDEC convert --bold $D/bold.nii.gz --labels $D/labels.txt \
		--mask-strategy epi -o e.h5 2>err &&
	grep -q "compute_epi_mask gives an empty mask here" err && ! test -e e.h5 && ! test -e e.mask.nii.gz &&
	$PYTHON -c "
import sys, nibabel as nib, numpy as np
sys.path.insert(0, \"$TESTS_DIR/oracle\")
import clean_nilearn as c
m = np.asanyarray(nib.load(\"$D/bold.nii.gz\").dataobj).astype(float).mean(-1)
assert c.compute_epi_mask(m).sum() == 0
print(\"empty\")" >out && grep -q empty out
'
test_expect_success 'compute_background_mask: the slice and the synthetic subject' '
	$NIDEC convert --bold $D/bold.nii.gz --labels $D/labels.txt --mask-strategy background -o bg.h5 -q &&
	$ORACLE bg.h5 --bold $D/bold.nii.gz --labels $D/labels.txt --mask-strategy background \
		--check-mask bg.mask.nii.gz >out && grep -q "^ok" out &&
	$NIDEC convert --bold "$S/*preproc_bold.nii.gz" --events "synth/sub-01/func/*_events.tsv" \
		--mask-strategy background -o bg2.h5 -q &&
	$ORACLE bg2.h5 --bold "$S/*preproc_bold.nii.gz" --mask-strategy background \
		--check-mask bg2.mask.nii.gz >out && grep -q "^ok" out
'
test_expect_success 'provenance: every cleaning parameter and the confound columns; reuse' '
	$PYTHON -c "
import h5py
f = h5py.File(\"s-all.h5\")
cfg = f.attrs[\"config\"]
for k in (\"smoothing_fwhm = 5\", \"detrend = true\", \"high_pass = 0.01\", \"low_pass = 0.1\",
          \"confounds_strategy = motion:full,wm_csf\", \"standardize = zscore_sample\", \"t_r = auto\"):
    assert k in cfg, k
cols = list(f.attrs[\"confound_columns\"])
assert len(cols) == 26 and cols[0] == \"trans_x\" and cols[-1] == \"white_matter\", cols
print(\"ok\")" >out && grep -q ok out &&
	$NIDEC convert --bold "$R/*_bold.nii.gz" --events "$R/*_events.tsv" --mask $D/mask.nii.gz \
		--conditions face,cat,house --set data.confounds_files="conf/*.tsv" \
		--set clean.high_pass=0.01 -o s-highpass.h5 >out && grep -q "^reused" out &&
	cp s-highpass.h5 again.h5 &&
	$NIDEC convert --bold "$R/*_bold.nii.gz" --events "$R/*_events.tsv" --mask $D/mask.nii.gz \
		--conditions face,cat,house --set data.confounds_files="conf/*.tsv" \
		--set clean.high_pass=0.02 -o again.h5 >out && grep -q "^wrote" out
'
test_done
