#!/bin/sh
# t3010: the warnings of a sweep's subject converted on another rank than
# rank 0 are shown (by rank 0, naming the subject and the rank) and stored
# in that subject's summary.json; a subject without warnings stores an
# empty list.  The warning: sub-02's mask is on a grid twice as fine as
# its BOLD runs (resampled by nearest neighbour).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"

test_expect_success 'two synthetic subjects, sub-02 with a finer mask' '
	for s in 01 02; do
		"$NIDEC" synth -o syn/sub-$s --dims 8x8x8 --runs 3 --volumes 30 --classes 2 \
			--mask-fraction 0.5 --seed $s --subject $s -q || return 1
	done &&
	"$PYTHON" - <<-\EOPY &&
	import nibabel as nib, numpy as np
	m = nib.load("syn/sub-02/mask.nii.gz")
	d = np.asarray(m.dataobj)
	fine = np.repeat(np.repeat(np.repeat(d, 2, 0), 2, 1), 2, 2).astype(np.uint8)
	a = m.affine.copy()
	a[:3, :3] /= 2
	nib.save(nib.Nifti1Image(fine, a), "syn/sub-02/mask.nii.gz")
	EOPY
	printf "[data]\nconditions = face, cat\n[output]\ndir = out\nreport = false\n" >an.ini &&
	printf "[sweep]\nanalysis = an.ini\nsubjects = 01, 02\n" >sw.ini &&
	printf "bold = syn/sub-{subject}/sub-{subject}_task-synth_run-*_bold.nii.gz\n" >>sw.ini &&
	printf "mask = syn/sub-{subject}/mask.nii.gz\n" >>sw.ini &&
	printf "events = syn/sub-{subject}/sub-{subject}_task-synth_run-*_events.tsv\n" >>sw.ini
'

test_expect_success 'on 2 ranks: rank 1 converts sub-02, rank 0 shows its warning' '
	nidec_n 2 sweep sw.ini --progress 0 >stdout 2>err &&
	cat err &&
	grep -q "warning: sub-02: mask .* is not on the BOLD grid .*(on rank 1)" err &&
	"$PYTHON" -c "
import json
w2 = json.load(open(\"out/sub-02/summary.json\"))[\"warnings\"]
w1 = json.load(open(\"out/sub-01/summary.json\"))[\"warnings\"]
assert len(w2) == 1 and \"not on the BOLD grid\" in w2[0], w2
assert w1 == [], w1
"
'

test_done
