# tests/lib.sh - a tiny git-style test library for the end-to-end scripts.
#
#   . "$(dirname "$0")/../lib.sh"
#   test_expect_success 'convert writes a dataset' '
#       $NIDEC convert cfg.ini -o out.h5 &&
#       test -f out.h5
#   '
#   test_done
#
# Each test runs in a subshell inside the script's scratch directory
# ($TRASH, removed at the end unless a test failed or NIDEC_KEEP=1).
# Steps are chained with && so the first failing step fails the test.
# A step that must fail says so: test_must_fail CMD (CMD must fail, not
# crash) or test_expect_code N CMD (CMD must exit N), as in git.
# test_done prints "# <script>: N passed, N failed" for tests/run.sh.
set -u

: "${NIDEC:?NIDEC must point at build/nidec (run through make check)}"
TESTS_DIR=$(cd "$(dirname "$0")/.." && pwd)
REPO_DIR=$(cd "$TESTS_DIR/.." && pwd)
NIDEC_TEST_DATA=${NIDEC_TEST_DATA:-$REPO_DIR/data/haxby-slice}
PYTHON=${PYTHON:-/usr/bin/python3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
MPIRUN=${MPIRUN:-mpirun}
# Sanitizer builds (make SANITIZE=address,undefined check): full stacks, so
# that tests/lsan.supp can name Open MPI's own leaks; any other report makes
# nidec exit non-zero and the test fail.  Harmless for other builds.
export ASAN_OPTIONS=${ASAN_OPTIONS:-fast_unwind_on_malloc=0:malloc_context_size=30:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$TESTS_DIR/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
SCRIPT=$(basename "$0" .sh)
# NIDEC_LSAN_SCRIPTS="t5 ...": in a sanitizer build, LeakSanitizer only in
# the scripts whose names start with one of these prefixes (.ci/run: the
# error paths, fault injection and edge cases of t5xxx); the others run
# under ASan and UBSan alone.  LeakSanitizer's exit-time scan costs about
# 0.7 s per process, over half of a sanitizer run, and valgrind's leak
# check (make valgrind) covers the main commands' success paths.
# Unset (the default): every script checks leaks.
if [ -n "${NIDEC_LSAN_SCRIPTS:-}" ]; then
	lsan=0
	for p in $NIDEC_LSAN_SCRIPTS; do
		case $SCRIPT in "$p"*) lsan=1 ;; esac
	done
	export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=$lsan"
	unset lsan p
fi
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/nidec-$SCRIPT.XXXXXX")
test_count=0
test_failed=0
test_skipped=0

say() { printf '%s\n' "$*" >&2; }

# fd 4: where the helpers of a body (test_must_fail, test_expect_code) write
# their own diagnostics, so that a step's `2>err` does not catch them; it is
# the test's output file while a body runs, stderr otherwise.
exec 4>&2

test_expect_success() {
	test_count=$((test_count + 1))
	desc=$1
	body=$2
	if (cd "$TRASH" && set -e && eval "$body") >"$TRASH/.out.$test_count" 2>&1 4>&1; then
		say "ok $test_count - $desc"
	else
		test_failed=$((test_failed + 1))
		say "not ok $test_count - $desc"
		sed 's/^/#   /' "$TRASH/.out.$test_count" | tail -n 40 >&2
	fi
}

# A test expected to fail with a given exit status and message:
#   test_expect_error 'missing mask' 1 "cannot open 'nope.nii.gz'" '$NIDEC convert ...'
test_expect_error() {
	test_count=$((test_count + 1))
	desc=$1 want_rc=$2 want_msg=$3 body=$4
	(cd "$TRASH" && eval "$body") >"$TRASH/.out.$test_count" 2>&1 4>&1
	rc=$?
	if [ "$rc" = "$want_rc" ] && grep -qF -- "$want_msg" "$TRASH/.out.$test_count"; then
		say "ok $test_count - $desc"
	else
		test_failed=$((test_failed + 1))
		say "not ok $test_count - $desc (exit $rc, wanted $want_rc and '$want_msg')"
		sed 's/^/#   /' "$TRASH/.out.$test_count" | tail -n 20 >&2
	fi
}

# A test of a known bug (git's test_expect_failure): BODY states the wanted
# behaviour.  While it fails it is reported as "skip ... (known bug ...)" and
# does not fail the run; once it passes it says so: drop the mark.
#   test_expect_failure 'BUG-3: NaN voxels are refused' '...'
test_expect_failure() {
	test_count=$((test_count + 1))
	desc=$1
	body=$2
	if (cd "$TRASH" && set -e && eval "$body") >"$TRASH/.out.$test_count" 2>&1 4>&1; then
		say "ok $test_count - $desc (known bug fixed: remove its mark)"
	else
		test_skipped=$((test_skipped + 1))
		say "skip $test_count - $desc (known bug, still broken)"
	fi
}

# test_status_ RC: an exit status in words
test_status_() {
	if [ "$1" -gt 128 ] && [ "$1" -le 192 ]; then
		echo "exit $1: killed by signal $(($1 - 128))"
	else
		echo "exit $1"
	fi
}

# test_must_fail CMD [ARGS...]: run CMD (a program or a shell function);
# succeed if it failed "normally" (git's test_must_fail): status 1..125.
# Fails when CMD succeeded, died of a signal (status 129..192: a crash, an
# abort, a sanitizer's SIGABRT), or could not run (126, 127).  CMD's own
# stderr goes where the caller sent it; the diagnostics go to fd 4.
test_must_fail() {
	if [ $# = 0 ]; then
		echo "test_must_fail: BUG: no command" >&4
		return 1
	fi
	test_must_fail_rc_=0
	"$@" 2>&7 || test_must_fail_rc_=$?
	if [ "$test_must_fail_rc_" = 0 ]; then
		echo "test_must_fail: command succeeded: $*" >&4
		return 1
	elif [ "$test_must_fail_rc_" -gt 128 ] && [ "$test_must_fail_rc_" -le 192 ]; then
		echo "test_must_fail: died of signal $((test_must_fail_rc_ - 128)) (exit $test_must_fail_rc_): $*" >&4
		return 1
	elif [ "$test_must_fail_rc_" -gt 125 ]; then
		echo "test_must_fail: command not found or not run (exit $test_must_fail_rc_): $*" >&4
		return 1
	fi
	return 0
} 7>&2 2>&4

# test_expect_code N CMD [ARGS...]: CMD must exit with status N.
test_expect_code() {
	if [ $# -lt 2 ]; then
		echo "test_expect_code: BUG: give a status and a command" >&4
		return 1
	fi
	test_expect_code_want_=$1
	shift
	test_expect_code_rc_=0
	"$@" 2>&7 || test_expect_code_rc_=$?
	if [ "$test_expect_code_rc_" = "$test_expect_code_want_" ]; then
		return 0
	fi
	echo "test_expect_code: $(test_status_ $test_expect_code_rc_), wanted $test_expect_code_want_: $*" >&4
	return 1
} 7>&2 2>&4

test_skip() {
	test_count=$((test_count + 1))
	test_skipped=$((test_skipped + 1))
	say "skip $test_count - $1 ($2)"
}

# test_cmp EXPECTED ACTUAL: diff, shown on failure.
test_cmp() {
	diff -u "$1" "$2"
}

test_done() {
	passed=$((test_count - test_failed - test_skipped))
	printf '# %s: %d passed, %d failed, %d skipped\n' "$SCRIPT" "$passed" "$test_failed" "$test_skipped"
	if [ "$test_failed" = 0 ] && [ "${NIDEC_KEEP:-0}" != 1 ]; then
		rm -rf "$TRASH"
	else
		say "# scratch kept in $TRASH"
	fi
	[ "$test_failed" = 0 ]
}
