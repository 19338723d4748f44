#!/bin/sh
# tests/run.sh [unit|e2e|all|cluster] - run the suite and end with one
# summary line "N passed, N failed" (cmocka unit binaries + tests/e2e/t*.sh
# scripts; `cluster`: the multi-node scripts tests/cluster/t*.sh, which
# `make check-cluster` runs on their own).
# Called by `make check`; NIDEC and UNIT_BINS come from the Makefile.
# A single script: sh tests/run.sh e2e t1000   (prefix match)
set -u
what=${1:-all}
only=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
log=${TMPDIR:-/tmp}/nidec-tests.$$
mkdir -p "$log"
passed=0 failed=0 skipped=0
# sanitizer builds: the same settings as tests/lib.sh (for the unit tests)
export ASAN_OPTIONS=${ASAN_OPTIONS:-fast_unwind_on_malloc=0:malloc_context_size=30:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [ "$what" = all ] || [ "$what" = unit ]; then
	for t in ${UNIT_BINS:-}; do
		name=$(basename "$t")
		if "$t" >"$log/$name.out" 2>&1; then ok=1; else ok=0; fi
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log/$name.out" | tail -n 1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log/$name.out" | tail -n 1)
		p=${p:-0} f=${f:-0}
		if [ "$ok" = 0 ] && [ "$f" = 0 ]; then f=1; fi
		passed=$((passed + p)); failed=$((failed + f))
		echo "unit $name: $p passed, $f failed" >&2
		[ "$f" = 0 ] || sed 's/^/#   /' "$log/$name.out" | tail -n 30 >&2
	done
fi

family=e2e
[ "$what" = cluster ] && family=cluster
if [ "$what" = all ] || [ "$what" = e2e ] || [ "$what" = cluster ]; then
	for s in "$here/$family"/t*.sh; do
		[ -e "$s" ] || continue
		case $(basename "$s") in "$only"*) ;; *) continue ;; esac
		start=$(date +%s)
		sh "$s" >"$log/$(basename "$s").out" 2>&1
		line=$(grep '^# .*passed, .*failed' "$log/$(basename "$s").out" | tail -n 1)
		p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
		f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
		k=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
		p=${p:-0} f=${f:-1} k=${k:-0}
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
		echo "$family $(basename "$s"): $p passed, $f failed, $k skipped ($(($(date +%s) - start)) s)" >&2
		if [ "$f" != 0 ]; then grep -v '^ok ' "$log/$(basename "$s").out" | tail -n 60 >&2; fi
		grep '^skip ' "$log/$(basename "$s").out" >&2 || true
	done
fi
rm -rf "$log"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
