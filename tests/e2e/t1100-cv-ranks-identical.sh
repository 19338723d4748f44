#!/bin/sh
# t1100: the same job under mpirun -n 1, 2 and 3 writes byte-identical
# scores.tsv, grid_scores.tsv, predictions.tsv, weight maps and model.h5
# (STYLE.md "Determinism": results stored by task id, reduced in id order,
# liblinear seeded per task).  Each run writes into the same directory with
# the same command line, so even model.h5's provenance attributes agree;
# results.h5 and summary.json record the rank count and are left out.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"

FILES="scores.tsv grid_scores.tsv predictions.tsv model.h5"

# run_keep N NAME ARGS...: nidec cv with N ranks into out/, copy to NAME-N/
run_keep() {
	n=$1 name=$2
	shift 2
	rm -rf out &&
	nidec_n "$n" cv ds.h5 "$@" -o out --progress 0 --set output.report=false >/dev/null &&
	mkdir -p "$name-$n" &&
	cp out/*.tsv out/*.nii.gz out/model.h5 "$name-$n/"
}

same_as_1() {
	name=$1 n=$2
	for f in $FILES $(cd "$name-1" && ls weights_*.nii.gz); do
		cmp "$name-1/$f" "$name-$n/$f" || return 1
	done
}

test_expect_success 'convert the face/cat and 3-class datasets' '
	nidec_n 1 convert $DATA_OPTS --conditions face,cat -o ds.h5 >/dev/null &&
	nidec_n 1 convert $DATA_OPTS --conditions face,cat,house -o ds3.h5 >/dev/null
'

test_expect_success 'nested face vs cat: -n 1, 2, 3 byte-identical' '
	run_keep 1 nested $CONFIGS/haxby-slice.ini &&
	run_keep 2 nested $CONFIGS/haxby-slice.ini &&
	run_keep 3 nested $CONFIGS/haxby-slice.ini &&
	same_as_1 nested 2 && same_as_1 nested 3
'

test_expect_success 'nilearn mode, 3 classes one-vs-rest: -n 1, 2, 3 byte-identical' '
	cp ds3.h5 ds.h5 &&
	run_keep 1 ovr $CONFIGS/tutorial-e-loro.ini --set data.conditions=face,cat,house &&
	run_keep 2 ovr $CONFIGS/tutorial-e-loro.ini --set data.conditions=face,cat,house &&
	run_keep 3 ovr $CONFIGS/tutorial-e-loro.ini --set data.conditions=face,cat,house &&
	same_as_1 ovr 2 && same_as_1 ovr 3 &&
	test $(ls ovr-1/weights_*.nii.gz | wc -l) = 6
'

# Screening: the outer fits carry only the kept voxels' weights (sparse
# results, sent between ranks and reduced on rank 0).
test_expect_success 'nested, 3 classes, screening 25 %: -n 1, 2, 3 byte-identical' '
	run_keep 1 scr $CONFIGS/haxby-slice.ini --set data.conditions=face,cat,house \
		--set preprocess.screening_percentile=25 &&
	run_keep 2 scr $CONFIGS/haxby-slice.ini --set data.conditions=face,cat,house \
		--set preprocess.screening_percentile=25 &&
	run_keep 3 scr $CONFIGS/haxby-slice.ini --set data.conditions=face,cat,house \
		--set preprocess.screening_percentile=25 &&
	same_as_1 scr 2 && same_as_1 scr 3
'

test_expect_success '-n 4 (more ranks than cores): still identical' '
	run_keep 4 ovr $CONFIGS/tutorial-e-loro.ini --set data.conditions=face,cat,house &&
	same_as_1 ovr 4
'

test_done
