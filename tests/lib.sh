# tests/lib.sh - a tiny git-style test library for the end-to-end scripts
# (git's t/test-lib.sh is the model).
#
#   . "$(dirname "$0")/../lib.sh"
#   test_expect_success 'convert writes a dataset' '
#       $NIDEC convert cfg.ini -o out.h5 &&
#       test -f out.h5
#   '
#   test_expect_success 'a missing mask is refused' '
#       test_must_fail $NIDEC convert cfg.ini --mask nope.nii -o bad.h5 2>err &&
#       grep -q "cannot open .nope.nii." err && ! test -e bad.h5
#   '
#   test_done
#
# How a test runs.  Each BODY is eval'ed in a subshell, in the script's
# scratch directory ($TRASH, removed at the end unless a test failed or
# NIDEC_KEEP=1), with stdin from /dev/null, its stdout and stderr in
# $TRASH/.out.N (shown when the test fails), and `set -e` in force: the
# first failing step fails the test with that step's exit status.
#
# Where POSIX sh ignores `set -e`.  errexit does not act on a command that
# is an if/while/until condition, any command of an && or || list but the
# last, or a `! CMD` - nor on anything inside the functions and compound
# commands run from those places.  So, as in git:
#   - chain the steps with && (the body's status is then the chain's); a
#     failing step in the middle of a chain fails the test only because the
#     chain does: do not follow a chain with more steps on another line
#     without &&;
#   - a helper function chains its own steps, or ends each with
#     `|| return 1`; a loop in a body ends each pass with `|| exit 1`
#     (or `|| return 1`), since only its last command's status counts;
#   - a step that must fail says so: `test_must_fail CMD` (or
#     `test_expect_code N CMD`) for nidec, mpirun and the test's helpers;
#     `! CMD` only for test/grep/cmp-like checks that cannot crash, and only
#     as the last step or inside an && chain (a `! CMD` line followed by
#     another step is never checked).
# test_expect_* refuse to run (the test fails) when called from a place
# where errexit is ignored (inside an if condition, && or ||).
#
# Helpers:
#   test_expect_success DESC BODY   BODY must succeed
#   test_expect_failure DESC BODY   a known bug: BODY states the wanted
#                                   behaviour; reported as "skip ... (known
#                                   bug, still broken)" while it fails, and
#                                   as "ok ... (known bug fixed: remove its
#                                   mark)" once it passes
#   test_expect_error DESC RC MSG BODY
#                                   BODY (its last step: the command under
#                                   test) must exit with status RC (1..125)
#                                   and print MSG (a fixed string)
#   test_skip DESC WHY              a test that cannot run here
#   test_must_fail CMD [ARGS...]    (in a body) CMD must fail normally:
#                                   not succeed, not die of a signal (status
#                                   > 128), not be missing (126, 127)
#   test_expect_code N CMD [ARGS...]
#                                   (in a body) CMD must exit with status N
#   test_cmp EXPECTED ACTUAL        (in a body) the files are equal (diff -u)
#   test_input FILE...              (in a body) FILE is an input: it must
#                                   keep its bytes until the script ends
#                                   (see "Inputs are read-only" below)
#   test_done                       prints "# <script>: N passed, N failed,
#                                   N skipped" (read by tests/run.sh); exits
#                                   non-zero if a test failed
# NIDEC_TEST_TRACE=1 runs the bodies under `set -x` (the trace is in the
# output shown for a failing test).  tests/e2e/t0000-harness.sh tests the
# harness itself: the rules and helpers above.
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
# nidec exit non-zero and the test fail.  abort_on_error=1 (as git's
# test-lib): a report ends the process with SIGABRT (status 134), not
# status 1, so that test_must_fail and an expected status of 1 do not take
# a memory error on an error path for the failure wanted.  Harmless for
# other builds.
export ASAN_OPTIONS=${ASAN_OPTIONS:-fast_unwind_on_malloc=0:malloc_context_size=30:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$TESTS_DIR/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
case $ASAN_OPTIONS in *abort_on_error=*) ;; *) ASAN_OPTIONS=$ASAN_OPTIONS:abort_on_error=1 ;; esac
case $UBSAN_OPTIONS in *abort_on_error=*) ;; *) UBSAN_OPTIONS=$UBSAN_OPTIONS:abort_on_error=1 ;; esac
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
# the test's output file while a body runs (test_run_), stderr otherwise.
exec 4>&2

# test_start_ FUNCTION NARGS_WANTED NARGS DESC: count a test; test_go_=0
# (and the test counted as failed) when FUNCTION got the wrong number of
# arguments or was called where errexit is ignored, so that its body would
# not be checked.  Called as a plain command: the probe below must see the
# caller's context, not one of its own making.
test_start_() {
	test_count=$((test_count + 1))
	test_go_=0
	if [ "$2" != "$3" ]; then
		test_failed=$((test_failed + 1))
		say "not ok $test_count - BUG in the test script: $1 needs $2 arguments, got $3: ${4:-}"
		return
	fi
	# everything run from an if/while condition or an && / || list
	# ignores errexit, subshells included: this one then goes on to exit 0
	(set -e; false; exit 0) 2>/dev/null
	if [ $? = 0 ]; then
		test_failed=$((test_failed + 1))
		say "not ok $test_count - BUG in the test script: $1 called inside if, && or ||, where set -e is ignored: $4"
		return
	fi
	test_go_=1
}

# Inputs are read-only (docs/ERRORS.md, "What nidec promises about your
# files").  The bundled data (data/, $NIDEC_TEST_DATA) and configs/ are
# checksummed (sha256sum) when the script starts and again at test_done;
# after every test a cheap check (find -newer) names the test that touched
# one, and the files a test declared with test_input (inputs it made: a
# synthetic subject, a copied labels table) are checksummed again.  A
# changed input fails that test, and the script.
TEST_INPUTS_="$REPO_DIR/data $REPO_DIR/configs"
[ -d "$NIDEC_TEST_DATA" ] && TEST_INPUTS_="$TEST_INPUTS_ $NIDEC_TEST_DATA"
test_inputs_sum_() {
	# shellcheck disable=SC2086
	find $TEST_INPUTS_ -type f 2>/dev/null | sort -u | xargs -r -d '\n' sha256sum
}
test_inputs_sum_ >"$TRASH/.inputs.before"
: >"$TRASH/.inputs.sums"
touch "$TRASH/.inputs.stamp"

test_input() {
	for test_input_f_ in "$@"; do
		case $test_input_f_ in /*) ;; *) test_input_f_=$PWD/$test_input_f_ ;; esac
		sha256sum "$test_input_f_" >>"$TRASH/.inputs.sums" || return 1
	done
}

# test_inputs_check_: after a test; appends what changed to its output and
# returns 1 when an input changed
test_inputs_check_() {
	# shellcheck disable=SC2086
	test_inputs_new_=$(find $TEST_INPUTS_ -newer "$TRASH/.inputs.stamp" -type f 2>/dev/null | head -n 5)
	test_inputs_bad_=
	if [ -s "$TRASH/.inputs.sums" ]; then
		test_inputs_bad_=$(sha256sum -c --quiet "$TRASH/.inputs.sums" 2>&1)
	fi
	if [ -z "$test_inputs_new_" ] && [ -z "$test_inputs_bad_" ]; then
		return 0
	fi
	{
		echo "INPUT FILES CHANGED by this test (nidec never writes over its inputs):"
		[ -z "$test_inputs_new_" ] || echo "$test_inputs_new_"
		[ -z "$test_inputs_bad_" ] || echo "$test_inputs_bad_"
	} >>"$TRASH/.out.$test_count"
	# once reported, the next tests are judged on their own; test_done
	# still fails the script
	echo "$test_count" >>"$TRASH/.inputs.changed"
	touch "$TRASH/.inputs.stamp"
	if [ -n "$test_inputs_bad_" ]; then
		awk '{ print $2 }' "$TRASH/.inputs.sums" | sed 's/^\*//' | xargs -r -d '\n' sha256sum \
			>"$TRASH/.inputs.sums.new" 2>/dev/null
		mv "$TRASH/.inputs.sums.new" "$TRASH/.inputs.sums"
	fi
	return 1
}

# test_run_ BODY: eval BODY in a subshell in $TRASH under set -e, stdin
# from /dev/null, output (and fd 4) in $TRASH/.out.$test_count; the exit
# status in test_rc.  Must itself be called as a plain command (not from an
# if condition, && or ||), else set -e would be ignored in BODY.
test_run_() {
	(
		cd "$TRASH" || exit 125
		if [ "${NIDEC_TEST_TRACE:-0}" = 1 ]; then set -x; fi
		set -e
		eval "$1"
	) >"$TRASH/.out.$test_count" 2>&1 4>&1 </dev/null
	test_rc=$?
	if ! test_inputs_check_ && [ "$test_rc" = 0 ]; then
		test_rc=1
	fi
}

# test_show_ N: the last N lines of the test's output, indented
test_show_() {
	sed 's/^/#   /' "$TRASH/.out.$test_count" | tail -n "$1" >&2
}

# test_status_ RC: an exit status in words
test_status_() {
	if [ "$1" -gt 128 ] && [ "$1" -le 192 ]; then
		echo "exit $1: killed by signal $(($1 - 128))"
	else
		echo "exit $1"
	fi
}

test_expect_success() {
	test_start_ test_expect_success 2 $# "${1:-}"
	[ "$test_go_" = 1 ] || return 0
	test_run_ "$2"
	if [ "$test_rc" = 0 ]; then
		say "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		say "not ok $test_count - $1 ($(test_status_ $test_rc))"
		test_show_ 40
	fi
}

# A test expected to fail with a given exit status and message:
#   test_expect_error 'missing mask' 1 "cannot open 'nope.nii.gz'" '$NIDEC convert ...'
# BODY runs under set -e as for test_expect_success, so a setup step that
# fails ends it there, with that step's status (and most likely not the
# message wanted).  RC must be a normal failure, 1 to 125.
test_expect_error() {
	test_start_ test_expect_error 4 $# "${1:-}"
	[ "$test_go_" = 1 ] || return 0
	case $2 in
	[1-9] | [1-9][0-9] | 1[01][0-9] | 12[0-5]) ;;
	*)
		test_failed=$((test_failed + 1))
		say "not ok $test_count - BUG in the test script: test_expect_error wants a status in 1..125, not '$2': $1"
		return 0 ;;
	esac
	test_run_ "$4"
	if [ "$test_rc" = "$2" ] && grep -qF -- "$3" "$TRASH/.out.$test_count"; then
		say "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		say "not ok $test_count - $1 ($(test_status_ $test_rc), wanted exit $2 and '$3')"
		test_show_ 20
	fi
}

# A test of a known bug (git's test_expect_failure): BODY states the wanted
# behaviour.  While it fails it is reported as "skip ... (known bug ...)" and
# does not fail the run; once it passes it says so: drop the mark.
#   test_expect_failure 'BUG-3: NaN voxels are refused' '...'
test_expect_failure() {
	test_start_ test_expect_failure 2 $# "${1:-}"
	[ "$test_go_" = 1 ] || return 0
	test_run_ "$2"
	if [ "$test_rc" = 0 ]; then
		say "ok $test_count - $1 (known bug fixed: remove its mark)"
	else
		test_skipped=$((test_skipped + 1))
		say "skip $test_count - $1 (known bug, still broken: $(test_status_ $test_rc))"
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
	test_inputs_sum_ >"$TRASH/.inputs.after"
	if ! cmp -s "$TRASH/.inputs.before" "$TRASH/.inputs.after" || [ -e "$TRASH/.inputs.changed" ] ||
		{ [ -s "$TRASH/.inputs.sums" ] && ! sha256sum -c --quiet "$TRASH/.inputs.sums" >/dev/null 2>&1; }; then
		test_count=$((test_count + 1))
		test_failed=$((test_failed + 1))
		say "not ok $test_count - the inputs (data/, configs/, test_input files) are unchanged"
		diff "$TRASH/.inputs.before" "$TRASH/.inputs.after" | sed 's/^/#   /' >&2
		[ ! -s "$TRASH/.inputs.sums" ] || sha256sum -c --quiet "$TRASH/.inputs.sums" 2>&1 | sed 's/^/#   /' >&2
	fi
	passed=$((test_count - test_failed - test_skipped))
	printf '# %s: %d passed, %d failed, %d skipped\n' "$SCRIPT" "$passed" "$test_failed" "$test_skipped"
	if [ "$test_failed" = 0 ] && [ "${NIDEC_KEEP:-0}" != 1 ]; then
		rm -rf "$TRASH"
	else
		say "# scratch kept in $TRASH"
	fi
	[ "$test_failed" = 0 ]
}
