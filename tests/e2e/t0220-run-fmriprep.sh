#!/bin/sh
# BIDS + fMRIPrep derivatives: a tree written by `nidec synth --layout
# fmriprep` (raw events, derivatives bold, brain masks, confounds) runs
# through `nidec run` (runs matched by entities, masks intersected, the BIDS
# run label, volume and onset in predictions.tsv and the report) and through
# `nidec sweep` discovery (two subjects, one with a session; --list).
. "$(dirname "$0")/../lib.sh"

SYN="--layout fmriprep --dims 10x10x8 --runs 3 --volumes 40 --classes 2 --signal 1.5"
test_expect_success 'two subjects in one tree, the second with a session' '
	$NIDEC synth -o bids $SYN --subject 01 --seed 1 -q &&
	$NIDEC synth -o bids $SYN --subject 02 --session a --seed 2 -q &&
	test -f bids/sub-02/ses-a/func/sub-02_ses-a_task-synth_run-3_events.tsv &&
	test -f bids/derivatives/fmriprep/sub-02/ses-a/func/sub-02_ses-a_task-synth_run-3_desc-confounds_timeseries.json &&
	printf "[data]\nconditions = face, cat\n[clean]\nconfounds_strategy = motion:basic, wm_csf\nhigh_pass = 0.01\n[output]\ndir = out\n" >an.ini &&
	printf "[sweep]\nanalysis = an.ini\nbids_root = bids\nderivatives = bids/derivatives/fmriprep\ntask = synth\nspace = MNI152NLin2009cAsym\n" >sweep.ini
'
test_expect_success 'nidec run: runs found by entities, masks intersected' '
	$NIDEC run an.ini --set data.bids_root=bids --set data.derivatives=bids/derivatives/fmriprep \
		--set data.subject=01 --set data.task=synth --set output.dir=run1 --progress 0 >run.out &&
	grep -q "wrote run1/predictions.tsv" run.out &&
	$PYTHON -c "
import glob, h5py, nibabel as nib, numpy as np
m = np.logical_and.reduce([np.asanyarray(nib.load(f).dataobj) != 0 for f in
    sorted(glob.glob(\"bids/derivatives/fmriprep/sub-01/func/*brain_mask.nii.gz\"))])
ijk = h5py.File(\"run1/dataset.h5\")[\"mask/ijk\"][()]
assert np.array_equal(np.argwhere(m), ijk), (m.sum(), len(ijk))
assert m.sum() < (np.asanyarray(nib.load(glob.glob(\"bids/derivatives/fmriprep/sub-01/func/*run-1_*mask*\")[0]).dataobj) != 0).sum()
print(\"intersection\")" >o && grep -q intersection o
'
test_expect_success 'predictions.tsv: the BIDS run label, volume, time and onset of each sample' '
	head -1 run1/predictions.tsv | grep -q "	run_label	volume	time	onset$" &&
	awk -F"\t" "NR > 1 && \$7 != \$2 + 1 { bad = 1 } END { exit bad }" run1/predictions.tsv &&
	awk -F"\t" "NR > 1 && \$9 != \$8 * 2.5 { bad = 1 } END { exit bad }" run1/predictions.tsv &&
	grep -q "<td>0 (run-1)</td>" run1/report.html &&
	grep -q "intersection of the 3 runs" run1/report.html &&
	grep -q "motion:basic, wm_csf\|6 confounds\|8 confounds" run1/report.html
'
test_expect_success 'sweep --list: what was found per subject' '
	$NIDEC sweep sweep.ini --list >list &&
	grep -q "^0	sub-01$" list && grep -q "^1	sub-02$" list &&
	grep -q "^  ses-a run-2: .*sub-02_ses-a_task-synth_run-2_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz; events .*sub-02_ses-a_task-synth_run-2_events.tsv; mask .*; confounds .*desc-confounds_timeseries.tsv$" list &&
	test $(grep -c "^  " list) = 6
'
test_expect_success 'sweep on 2 ranks: both subjects, the same files as nidec run' '
	$MPIRUN -n 2 $NIDEC sweep sweep.ini --progress 0 >sw.out 2>err &&
	grep -q "^group" sw.out && test -f out/group_scores.tsv &&
	head -1 out/sub-02/predictions.tsv | grep -q "	run_label	session	volume	time	onset$" &&
	sed -n 2p out/sub-02/predictions.tsv | grep -q "	1	a	" &&
	cmp out/sub-01/scores.tsv run1/scores.tsv && cmp out/sub-01/predictions.tsv run1/predictions.tsv
'
test_expect_success 'another space than the derivatives hold: refused, naming it' '
	test_expect_code 1 $NIDEC run an.ini --set data.bids_root=bids --set data.derivatives=bids/derivatives/fmriprep \
		--set data.subject=01 --set data.task=synth --set data.space=T1w --set output.dir=bad >o 2>err &&
	grep -q "has no BOLD of space .T1w.*it has space .MNI152NLin2009cAsym.: set \[data\] space" err &&
	! test -e bad
'
test_expect_success 'a run with bold but no events, and events without bold: refused' '
	cp -r bids b2 && rm b2/sub-01/func/sub-01_task-synth_run-2_events.tsv &&
	test_expect_code 1 $NIDEC convert an.ini --set data.bids_root=b2 --set data.derivatives=b2/derivatives/fmriprep \
		--set data.subject=01 --set data.task=synth -o x.h5 2>err &&
	grep -q "run-2_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz. (sub-01 task-synth run-2) has no events: looked for sub-01_task-synth_run-2_events.tsv" err &&
	cp -r bids b3 && rm b3/derivatives/fmriprep/sub-01/func/sub-01_task-synth_run-3_space-*_bold.nii.gz &&
	test_expect_code 1 $NIDEC convert an.ini --set data.bids_root=b3 --set data.derivatives=b3/derivatives/fmriprep \
		--set data.subject=01 --set data.task=synth -o x.h5 2>err &&
	grep -q "events .*run-3_events.tsv. (sub-01 task-synth run-3) have no BOLD" err && ! test -e x.h5
'
test_done
