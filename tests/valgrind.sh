#!/bin/sh
# tests/valgrind.sh - memcheck over the unit tests and a few end-to-end runs
# of build/nidec (single process: MPI singleton).  Zero reports wanted;
# tests/valgrind.supp hides Open MPI's and HDF5's own start-up allocations
# (each suppression is explained there).  Called by `make valgrind`.
set -u
: "${NIDEC:?}"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/nidec-valgrind.XXXXXX")
vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=$here/valgrind.supp"
passed=0 failed=0
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none

run() {
	name=$1; shift
	if $vg "$@" >"$out/$name.log" 2>&1; then
		passed=$((passed + 1)); echo "valgrind ok: $name" >&2
	else
		failed=$((failed + 1)); echo "valgrind FAILED: $name" >&2; tail -n 40 "$out/$name.log" >&2
	fi
}

for t in ${UNIT_BINS:-}; do
	run "$(basename "$t")" "$t"
done
data=$repo/data/haxby-slice
if [ -x "$NIDEC" ]; then
	run convert "$NIDEC" convert --bold "$data/bold.nii.gz" --mask "$data/mask.nii.gz" \
		--labels "$data/labels.txt" --conditions face,cat -o "$out/ds.h5" -q
	if [ -f "$out/ds.h5" ]; then
		run cv "$NIDEC" cv "$out/ds.h5" --set output.dir="$out/cv" --set output.report=false -q
		run info "$NIDEC" info "$out/ds.h5"
	fi
fi
rm -rf "$out"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
