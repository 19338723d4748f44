#!/bin/sh
# t1920: a sweep of regressions (issue 18): three copies of the bundled
# subject in a BIDS layout whose events carry a numeric `modulation`
# column; ridge on each.  Every subject's files equal `nidec run` on it
# alone; the group test is the mean r2 against 0 (scipy's ttest_1samp).
. "$(dirname "$0")/../lib.sh"
D=$NIDEC_TEST_DATA
SUBJECTS="a1 a2 a3"

test_expect_success 'setup: three subjects with a target column in their events' '
	for s in $SUBJECTS; do
		mkdir -p bids/sub-$s/func &&
		for f in $D/runs/*_bold.nii.gz; do
			ln -s $f bids/sub-$s/func/$(basename $f | sed "s/^sub-1_task-objectviewing/sub-${s}_task-synth/") || exit 1
		done &&
		for f in $D/runs/*_events.tsv; do
			awk -F "\\t" -v OFS="\\t" -v s=$s "NR == 1 { print \$0, \"modulation\"; next }
				{ print \$0, (NR * 0.37 + length(s) + (s == \"a2\")) % 5 }" $f \
				>bids/sub-$s/func/$(basename $f | sed "s/^sub-1_task-objectviewing/sub-${s}_task-synth/") || exit 1
		done &&
		ln -s $D/mask.nii.gz bids/sub-$s/func/mask.nii.gz || exit 1
	done &&
	printf "[data]\nconditions = face, cat\ntarget_column = modulation\n[model]\nestimator = ridge\n[output]\ndir = out\nreport = false\n" >analysis.ini &&
	printf "[sweep]\nanalysis = analysis.ini\nbids_root = bids\ntask = synth\nmask = bids/sub-{subject}/func/mask.nii.gz\n" >sweep.ini
'

test_expect_success 'the sweep on 2 ranks; each subject equals nidec run alone' '
	$MPIRUN -n 2 $NIDEC sweep sweep.ini --progress 0 >stdout 2>stderr &&
	grep -q "^group      modulation" stdout &&
	for s in $SUBJECTS; do
		$NIDEC run analysis.ini -q --progress 0 --set output.dir=alone/sub-$s \
			--set "data.bold=bids/sub-$s/func/sub-${s}_*task-synth_*run-*_bold.nii*" \
			--set "data.events=bids/sub-$s/func/sub-${s}_*task-synth_*run-*_events.tsv" \
			--set data.mask=bids/sub-$s/func/mask.nii.gz >/dev/null &&
		for f in scores.tsv predictions.tsv weights_modulation.nii.gz; do
			cmp alone/sub-$s/$f out/sub-$s/$f || exit 1
		done || exit 1
	done
'

test_expect_success 'the group test: mean r2 against 0, as scipy.stats.ttest_1samp' '
	"$PYTHON" -c "
import csv, json
import numpy as np
from scipy import stats
g = json.load(open(\"out/group_summary.json\"))
assert g[\"scoring\"] == \"r2\" and g[\"chance\"] == 0.0, (g[\"scoring\"], g[\"chance\"])
c = g[\"classes\"][\"modulation\"]
m = [np.mean([float(r[\"score\"]) for r in csv.DictReader(open(f\"out/sub-{s}/scores.tsv\"), delimiter=\"\\t\")])
     for s in (\"a1\", \"a2\", \"a3\")]
assert np.allclose(c[\"scores\"], m, rtol=1e-12, atol=0), (c[\"scores\"], m)
t = stats.ttest_1samp(m, 0.0, alternative=\"greater\")
assert abs(c[\"t_test\"][\"t\"] - t.statistic) < 1e-9 and abs(c[\"t_test\"][\"p\"] - t.pvalue) < 1e-9
print(\"group\")" >out.txt && grep -q group out.txt
'

test_done
