#!/bin/sh
# nidec convert: one 4D series + labels.txt -> dataset, checked against
# nibabel; reuse, --force, default output path, options without a config.
. "$(dirname "$0")/../lib.sh"
D=$NIDEC_TEST_DATA
ORACLE="$PYTHON $TESTS_DIR/oracle/convert_nibabel.py"

cat >"$TRASH/haxby.ini" <<EOT
[data]
bold = $D/bold.nii.gz
mask = $D/mask.nii.gz
labels = $D/labels.txt
conditions = face, cat
[output]
dir = results_dir
EOT

test_expect_success 'convert face,cat from a config' '
	$NIDEC convert haxby.ini -o ds.h5 >stdout &&
	grep -q "^wrote .ds.h5.: 216 samples x 530 voxels, 12 runs, 2 conditions" stdout &&
	test -f ds.h5 && ! ls .ds.h5.tmp-* 2>/dev/null
'
test_expect_success '/X, labels, runs equal what nibabel computes (216 x 530)' '
	$ORACLE ds.h5 --bold $D/bold.nii.gz --mask $D/mask.nii.gz --labels $D/labels.txt \
		--conditions face,cat >out && grep -q "^ok: 216 x 530" out
'
test_expect_success 'info shows samples per condition and run' '
	$NIDEC info ds.h5 >info &&
	grep -q "^samples     216" info && grep -q "^voxels      530" info &&
	grep -q "^grid        40 x 20 x 1" info && grep -q "^TR          2.5 s" info &&
	grep -q "^conditions  2: cat, face" info &&
	grep -Eq "^ +0 +9 +9 +18$" info && grep -Eq "^total +108 +108 +216$" info &&
	grep -q "command_line  *nidec convert haxby.ini -o ds.h5" info &&
	grep -Eq "^  bold .*bold.nii.gz  1311329 bytes  sha256 [0-9a-f]{64}$" info
'
test_expect_success 'input hashes are the files SHA-256' '
	sha=$(sha256sum $D/labels.txt | cut -d" " -f1) &&
	grep -q "labels .* sha256 $sha" info
'
test_expect_success 'same inputs: the dataset is reused, not rewritten' '
	cp ds.h5 before.h5 &&
	$NIDEC convert haxby.ini -o ds.h5 >stdout 2>stderr &&
	grep -q "^reused .ds.h5." stdout && grep -q "reusing .ds.h5." stderr &&
	cmp ds.h5 before.h5
'
test_expect_success 'condition order does not change the reuse key' '
	$NIDEC convert haxby.ini -o ds.h5 --conditions "cat, face" >stdout &&
	grep -q "^reused" stdout
'
test_expect_success '--force converts again' '
	$NIDEC convert haxby.ini -o ds.h5 --force >stdout && grep -q "^wrote" stdout &&
	$PYTHON $TESTS_DIR/oracle/compare_datasets.py --ignore created,command_line before.h5 ds.h5
'
test_expect_success 'other conditions: converted again' '
	$NIDEC convert haxby.ini -o ds.h5 --conditions house >stdout 2>stderr &&
	grep -q "^wrote .ds.h5.: 108 samples" stdout && grep -q "changed: converting again" stderr
'
test_expect_success 'default output is <[output] dir>/dataset.h5 (directory created)' '
	$NIDEC convert haxby.ini -q && test -f results_dir/dataset.h5 &&
	$PYTHON $TESTS_DIR/oracle/compare_datasets.py --ignore created,command_line before.h5 results_dir/dataset.h5
'
test_expect_success '[data] dataset sets the output' '
	$NIDEC convert haxby.ini --set data.dataset=sub/x.h5 -q && test -f sub/x.h5
'
test_expect_success 'options alone, without a config; all conditions by default' '
	$NIDEC convert --bold $D/bold.nii.gz --mask $D/mask.nii.gz --labels $D/labels.txt \
		-o all.h5 >stdout &&
	grep -q "1452 samples x 530 voxels, 12 runs, 9 conditions" stdout &&
	$ORACLE all.h5 --bold $D/bold.nii.gz --mask $D/mask.nii.gz --labels $D/labels.txt >out &&
	grep -q "^ok: 1452 x 530" out
'
test_expect_success 'renamed columns with --label-column / --run-column' '
	sed "1s/.*/cond run/" $D/labels.txt >renamed.txt &&
	$NIDEC convert --bold $D/bold.nii.gz --mask $D/mask.nii.gz --labels renamed.txt \
		--label-column cond --run-column run --conditions face -o renamed.h5 -q &&
	$ORACLE renamed.h5 --bold $D/bold.nii.gz --mask $D/mask.nii.gz --labels renamed.txt \
		--label-column cond --run-column run --conditions face >out && grep -q "^ok: 108 x 530" out
'
test_expect_success '--help lists every option with its default' '
	$NIDEC convert --help >help &&
	for o in -o --bold --mask --labels --events --conditions --label-column --run-column \
		--hrf-shift --force --set -q -v; do grep -q -- "^  .*$o" help || { echo "missing $o"; exit 1; }; done &&
	grep -q "default: labels" help && grep -q "default: chunks" help && grep -q "default: 0" help
'
test_expect_error 'unknown option is a usage error' 2 "unknown option '--bald'" '
	$NIDEC convert haxby.ini --bald x.nii.gz
'
test_expect_error 'a missing CONFIG is named' 1 "cannot open config 'nope.ini'" '
	$NIDEC convert nope.ini
'
test_done
