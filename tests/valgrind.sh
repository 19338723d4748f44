#!/bin/sh
# tests/valgrind.sh - memcheck over the unit tests and end-to-end runs of
# build/nidec (single process: MPI singleton), on success and on error
# paths.  Zero reports wanted; tests/valgrind.supp hides Open MPI's and
# HDF5's own start-up allocations (each suppression is explained there).
# Called by `make valgrind`.
#
# The runs use the tiny subject of tests/bad/make_cases.py (6x5x2 voxels,
# 4 runs of 8 volumes: seconds under memcheck) plus one conversion of the
# bundled Haxby slice, then a few bad inputs of the corpus (tests/bad/), so
# that the error paths are checked for leaks too.
set -u
: "${NIDEC:?}"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/nidec-valgrind.XXXXXX")
# --num-callers=40: Open MPI's allocations are reached through a dozen
# frames of dlopen'ed components; the suppressions need the frame of
# MPI_Init (fewer frames and they do not match)
vg="valgrind -q --error-exitcode=99 --num-callers=40 --leak-check=full --errors-for-leak-kinds=definite --suppressions=$here/valgrind.supp"
passed=0 failed=0
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
# hwloc's x86 backend does not work under valgrind (and says so): quiet it
export HWLOC_COMPONENTS=-x86
# unit tests with long statistical simulations run them short (memory is
# what is checked here)
export NIDEC_TEST_MEMCHECK=1
PYTHON=${PYTHON:-/usr/bin/python3}

# run NAME WANT_STATUS CMD...: CMD under memcheck must exit WANT_STATUS (0,
# or 1 for a bad input) with no memcheck report (status 99)
run() {
	name=$1 want=$2
	shift 2
	$vg "$@" >"$out/$name.log" 2>&1
	rc=$?
	if [ "$rc" = "$want" ] && ! grep -q '^==[0-9]*== ' "$out/$name.log"; then
		passed=$((passed + 1)); echo "valgrind ok: $name" >&2
	else
		failed=$((failed + 1)); echo "valgrind FAILED: $name (exit $rc, wanted $want)" >&2
		tail -n 40 "$out/$name.log" >&2
	fi
}

# NIDEC_UNIT_QUICK: the unit tests leave out their slowest problem sizes
# (the same code on smaller inputs; test_core_regress.c says which)
export NIDEC_UNIT_QUICK=1
for t in ${UNIT_BINS:-}; do
	run "$(basename "$t")" 0 "$t"
done
unset NIDEC_UNIT_QUICK
data=$repo/data/haxby-slice
if [ -x "$NIDEC" ]; then
	B=$out/corpus G=$out/corpus/good
	run convert-haxby 0 "$NIDEC" convert --bold "$data/bold.nii.gz" --mask "$data/mask.nii.gz" \
		--labels "$data/labels.txt" --conditions face,cat -o "$out/haxby.h5" -q
	if "$PYTHON" "$here/bad/make_cases.py" inputs "$B" >/dev/null; then
		run convert 0 "$NIDEC" convert "$G/good.ini" -o "$G/dataset.h5" -q
		run convert-events 0 "$NIDEC" convert --bold "$G/run-*_bold.nii" \
			--events "$G/run-*_events.tsv" --mask "$G/mask.nii" --conditions face,cat \
			-o "$out/events.h5" -q
		run info 0 "$NIDEC" info "$G/dataset.h5"
		run cv 0 "$NIDEC" cv "$G/dataset.h5" -o "$G/cv" --progress 0 -q
		run cv-nilearn 0 "$NIDEC" cv "$G/dataset.h5" -o "$out/cv-nilearn" --progress 0 -q \
			--set cv.compat=nilearn --set preprocess.screening_percentile=50
		# per-run statistics, sparse weights of screened fits, the
		# incremental reduce of permutations; then the same run resumed
		# from its ledger (every permutation reduced while it is read)
		run cv-screened-perms 0 "$NIDEC" cv "$G/dataset.h5" -o "$out/cv-perm" --progress 0 -q \
			--set preprocess.screening_percentile=50 --set cv.permutations=3 --set output.report=false
		run cv-resume 0 "$NIDEC" cv "$G/dataset.h5" -o "$out/cv-perm" --progress 0 -q \
			--set preprocess.screening_percentile=50 --set cv.permutations=3 --set output.report=false \
			--resume
		run predict 0 "$NIDEC" predict "$G/cv/model.h5" "$G/bold.nii" -o "$out/pred.tsv" \
			--labels "$G/labels.txt" -q
		run report 0 "$NIDEC" report "$G/cv" -o "$out/report.html" -q
		# error paths
		run bad-gzip 1 "$NIDEC" convert --bold "$B/gz_truncated.nii.gz" --mask "$G/mask.nii" \
			--labels "$G/labels.txt" -o "$out/bad1.h5" -q
		run bad-header 1 "$NIDEC" convert --bold "$B/nii_dims_huge.nii" --mask "$G/mask.nii" \
			--labels "$G/labels.txt" -o "$out/bad2.h5" -q
		run bad-labels 1 "$NIDEC" convert --bold "$G/bold.nii" --mask "$G/mask.nii" \
			--labels "$B/labels_ragged.txt" -o "$out/bad3.h5" -q
		run bad-events 1 "$NIDEC" convert --bold "$G/run-*_bold.nii" \
			--events "$B/ev_onset_text/run-*_events.tsv" --mask "$G/mask.nii" -o "$out/bad4.h5" -q
		run bad-mask 1 "$NIDEC" convert --bold "$G/bold.nii" --mask "$B/mask_far.nii" \
			--labels "$G/labels.txt" -o "$out/bad5.h5" -q
		run bad-config 1 "$NIDEC" cv "$G/dataset.h5" "$B/cfg_duplicate_key.ini" -o "$out/bad6" -q
		run bad-dataset 1 "$NIDEC" cv "$B/nii_5d.nii" -o "$out/bad7" -q
		run bad-model 1 "$NIDEC" predict "$G/dataset.h5" "$G/bold.nii" -o "$out/bad8.tsv" -q
		run bad-image 1 "$NIDEC" predict "$G/cv/model.h5" "$B/nii_truncated_data.nii" \
			-o "$out/bad9.tsv" -q
		# the paths of the fixed bugs (tests/bad/README.md): NaN voxels
		# replaced, damaged datasets and models refused
		run nan-voxels 0 "$NIDEC" convert --bold "$B/nii_nan_voxel.nii" --mask "$G/mask.nii" \
			--labels "$G/labels.txt" --conditions face,cat -o "$out/nan.h5" -q
		if "$PYTHON" "$here/bad/make_cases.py" h5 "$B" >/dev/null; then
			run bad-model-ijk 1 "$NIDEC" predict "$B/model_ijk_outside.h5" "$G/bold.nii" \
				-o "$out/bad10.tsv" -q
			run bad-dataset-runs 1 "$NIDEC" info "$B/ds_runs_huge.h5"
			run bad-dataset-nan 1 "$NIDEC" cv "$B/ds_X_nan.h5" -o "$out/bad11" -q
			# issue 20: checksums, read-only inputs, tables, the lock
			run verify 0 "$NIDEC" info --verify "$G/dataset.h5"
			run bad-dataset-crc 1 "$NIDEC" cv "$B/ds_X_altered.h5" -o "$out/bad12" -q
			run bad-model-crc 1 "$NIDEC" predict "$B/model_coef_altered.h5" "$G/bold.nii" \
				-o "$out/bad13.tsv" -q
			cp "$B/ds_X_altered.h5" "$out/damaged.h5"
			run run-damaged 0 "$NIDEC" run "$G/good.ini" --set data.dataset="$out/damaged.h5" \
				--set output.dir="$out/run-damaged" --progress 0 -q --set output.report=false
			run out-is-input 1 "$NIDEC" convert --bold "$G/bold.nii" --mask "$G/mask.nii" \
				--labels "$G/labels.txt" -o "$G/labels.txt" -q
			run bad-row 1 "$NIDEC" convert --bold "$G/bold.nii" --mask "$G/mask.nii" \
				--labels "$B/labels_extra_field.txt" -o "$out/bad14.h5" -q
			run long-config-line 0 "$NIDEC" cv "$G/dataset.h5" "$B/cfg_long_line.ini" \
				-o "$out/long" --progress 0 -q --set output.report=false
			run config-nul 1 "$NIDEC" cv "$G/dataset.h5" "$B/cfg_nul.ini" -o "$out/bad15" -q
			mkdir -p "$out/locked" "$out/stale"
			printf "host %s\npid %s\nstarted now\ncommand sh\n" "$(hostname)" $$ >"$out/locked/.nidec.lock"
			export NIDEC_LOCK_FCNTL=0
			run locked 1 "$NIDEC" cv "$G/dataset.h5" -o "$out/locked" -q
			printf "host %s\npid 4194999\nstarted then\ncommand sh\n" "$(hostname)" >"$out/stale/.nidec.lock"
			run stale-lock 0 "$NIDEC" cv "$G/dataset.h5" -o "$out/stale" -q \
				--progress 0 --set output.report=false
			unset NIDEC_LOCK_FCNTL
		else
			failed=$((failed + 1)); echo "valgrind FAILED: cannot make the HDF5 cases" >&2
		fi
		# a full disk while cv writes (HDF5 cannot flush model.h5): the
		# file is rescued into memory and closed (src/io/dataset.c)
		full=$out/full
		mkdir -p "$full"
		if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=60k nidec-valgrind "$full" 2>/dev/null; then
			run disk-full 1 "$NIDEC" cv "$G/dataset.h5" -o "$full/cv" --progress 0 -q \
				--set output.report=false
			umount "$full"
		fi
	else
		failed=$((failed + 1)); echo "valgrind FAILED: cannot make the tiny subject" >&2
	fi
fi
rm -rf "$out"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
