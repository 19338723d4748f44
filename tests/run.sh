#!/bin/sh
# tests/run.sh [unit|e2e|all|cluster] - run the suite and end with one
# summary line "N passed, N failed" (cmocka unit binaries + tests/e2e/t*.sh
# scripts; `cluster`: the multi-node scripts tests/cluster/t*.sh, which
# `make check-cluster` runs on their own, one at a time).
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
		# a hung test fails (after 10 minutes), it never holds the suite
		if timeout 600 "$t" >"$log/$name.out" 2>&1; then ok=1; else ok=0; fi
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log/$name.out" | tail -n 1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log/$name.out" | tail -n 1)
		p=${p:-0} f=${f:-0}
		if [ "$ok" = 0 ] && [ "$f" = 0 ]; then f=1; fi
		passed=$((passed + p)); failed=$((failed + f))
		echo "unit $name: $p passed, $f failed" >&2
		[ "$f" = 0 ] || sed 's/^/#   /' "$log/$name.out" | tail -n 30 >&2
	done
fi

# The end-to-end scripts run NIDEC_TEST_SCRIPTS (2) at a time, the longest
# first (the seconds each took last time on this machine, kept in
# $TMPDIR/nidec-test-times; unknown ones first): most of a script's time is
# process start-up, MPI launch and sleeps, not CPU.  Each script has its
# own scratch directory; the ones that measure time bound it loosely.
# Scripts that mostly wait (a header line "# lane: waits": a real Slurm's
# scheduling, tasks slowed by sleeps) run one at a time in a lane of their
# own beside those.  The cluster scripts each start a cluster of their own:
# one at a time.
family=e2e scripts=${NIDEC_TEST_SCRIPTS:-2}
[ "$what" = cluster ] && family=cluster scripts=1
if [ "$what" = all ] || [ "$what" = e2e ] || [ "$what" = cluster ]; then
	times=${TMPDIR:-/tmp}/nidec-test-times
	: >"$log/list"
	: >"$log/waits"
	for s in "$here/$family"/t*.sh; do
		[ -e "$s" ] || continue
		name=$(basename "$s")
		case $name in "$only"*) ;; *) continue ;; esac
		t=$(sed -n "s/^$name //p" "$times" 2>/dev/null | tail -n 1)
		lane=list
		[ "$family" = e2e ] && grep -q '^# lane: waits$' "$s" && lane=waits
		echo "${t:-100000} $s" >>"$log/$lane"
	done
	# run_lane LIST N: the scripts of LIST, longest first, N at a time
	run_lane() {
		sort -rn "$1" | cut -d' ' -f2- |
			xargs -P "$2" -I '{}' sh -c '
				name=$(basename "$1")
				start=$(date +%s)
				timeout 1800 sh "$1" >"$2/$name.out" 2>&1
				echo $(($(date +%s) - start)) >"$2/$name.time"
				line=$(grep "^# .*passed, .*failed" "$2/$name.out" | tail -n 1)
				echo "$3 $name: ${line#*: } ($(cat "$2/$name.time") s)" >&2' sh '{}' "$log" "$family"
	}
	run_lane "$log/waits" 1 &
	waits_pid=$!
	run_lane "$log/list" "$scripts"
	wait $waits_pid
	for s in "$here/$family"/t*.sh; do
		name=$(basename "$s")
		[ -e "$log/$name.out" ] || continue
		line=$(grep '^# .*passed, .*failed' "$log/$name.out" | tail -n 1)
		p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
		f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
		k=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
		p=${p:-0} f=${f:-1} k=${k:-0}
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
		if [ "$f" != 0 ]; then
			echo "$family $name: FAILED" >&2
			grep -v '^ok ' "$log/$name.out" | tail -n 60 >&2
		fi
		grep '^skip ' "$log/$name.out" >&2 || true
		[ -e "$log/$name.time" ] && echo "$name $(cat "$log/$name.time")" >>"$log/times.new"
	done
	# keep the latest time of each script (others' lines stay)
	if [ -e "$log/times.new" ]; then
		[ -e "$times" ] || : >"$times" 2>/dev/null || true
		awk 'NF == 2 { t[$1] = $2 } END { for (n in t) print n, t[n] }' "$times" "$log/times.new" \
			>"$log/times.all" 2>/dev/null && cp "$log/times.all" "$times" 2>/dev/null || true
	fi
fi
rm -rf "$log"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
