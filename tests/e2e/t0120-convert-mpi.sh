#!/bin/sh
# nidec convert under mpirun: rank 0 converts, the others wait; 1, 2 and 3
# ranks give the same dataset (apart from the creation time); a failure
# exits every rank with status 1 and prints the error once.
. "$(dirname "$0")/../lib.sh"
D=$NIDEC_TEST_DATA
R=$D/runs
B="$R/*_bold.nii.gz"
E="$R/*_events.tsv"
args="--mask $D/mask.nii.gz --conditions face,cat,house"

for n in 1 2 3; do
	test_expect_success "mpirun -n $n convert" '
		mkdir np'$n' && cd np'$n' &&
		$MPIRUN -n '$n' $NIDEC convert --bold "$B" --events "$E" $args -o ds.h5 >stdout 2>stderr &&
		test $(grep -c "^wrote" stdout) = 1
	'
done
test_expect_success 'the three datasets are identical apart from the creation time' '
	$PYTHON $TESTS_DIR/oracle/compare_datasets.py np1/ds.h5 np2/ds.h5 &&
	$PYTHON $TESTS_DIR/oracle/compare_datasets.py np1/ds.h5 np3/ds.h5
'
test_expect_success 'and so says h5dump, without the created attribute' '
	for n in 1 3; do (cd np$n && h5dump ds.h5) | grep -v "(0): \"20[0-9-]*T[0-9:]*Z\"" >dump$n || exit 1; done &&
	test_cmp dump1 dump3 && grep -q "ATTRIBUTE \"created\"" dump1
'
test_expect_success 'mpirun -n 3 reuses an up-to-date dataset' '
	$MPIRUN -n 3 $NIDEC convert --bold "$B" --events "$E" $args -o np1/ds.h5 >stdout 2>stderr &&
	test $(grep -c "^reused" stdout) = 1 && test $(grep -c "reusing" stderr) = 1
'
test_expect_success 'a failure under mpirun -n 3: exit 1 on every rank, one message' '
	test_expect_code 1 $MPIRUN -n 3 $NIDEC convert --bold "$B" --events "$E" $args --mask nope.nii.gz -o bad.h5 >stdout 2>stderr &&
	test $(grep -c "cannot open .nope.nii.gz." stderr) = 1 &&
	! test -e bad.h5
'
test_expect_success 'a usage error under mpirun -n 2 is printed once' '
	test_expect_code 2 $MPIRUN -n 2 $NIDEC convert --bogus >stdout 2>stderr &&
	test $(grep -c "unknown option" stderr) = 1
'
test_done
