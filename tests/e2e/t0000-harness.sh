#!/bin/sh
# t0000: the test harness itself (tests/lib.sh).  Each test writes a small
# test script on lib.sh, runs it in a child shell and checks what it
# reported: a failing step fails its test wherever it stands (the last
# step, a middle one, inside a helper function), test_must_fail and
# test_expect_code accept only the failures they should (not a success,
# not a crash), test_expect_error and test_expect_failure report as
# documented, and test_done's summary line and exit status are right.
#
# Every body here is one && chain and checks the child's output with plain
# commands (no lib.sh helper): so this script still fails, and says where,
# if lib.sh went back to ignoring a failing step (run the body inside `if`,
# where set -e has no effect).
. "$(dirname "$0")/../lib.sh"

# write_script NAME: NAME.sh = lib.sh + the script read from stdin
write_script() {
	mkdir -p tmp &&
	printf '. "%s/lib.sh"\n' "$TESTS_DIR" >"$1.sh" &&
	cat >>"$1.sh"
}

# run_script NAME: run NAME.sh (its scratch directory under ./tmp, a
# line on its stdin); its stdout and stderr in NAME.out, its exit status in
# NAME.rc; returns 0
run_script() {
	run_rc=0
	echo "the stdin of the script" >stdin.txt &&
	TMPDIR=$PWD/tmp sh "$1.sh" >"$1.out" 2>&1 <stdin.txt || run_rc=$?
	echo "$run_rc" >"$1.rc"
}

# reported NAME RC LINE...: NAME exited RC and printed each LINE (a whole
# line; basic regular expression)
reported() {
	name=$1 want=$2
	shift 2
	test "$(cat "$name.rc")" = "$want" || {
		echo "$name exited $(cat "$name.rc"), wanted $want:"; cat "$name.out"; return 1
	}
	for line in "$@"; do
		grep -q "^$line\$" "$name.out" || {
			echo "$name did not print '$line':"; cat "$name.out"; return 1
		}
	done
}

test_expect_success 'a body that succeeds passes' '
	write_script pass <<-\EOF &&
	test_expect_success "true" "true"
	test_expect_success "a chain" "true && echo hi >hi.txt && test -s hi.txt"
	test_done
	EOF
	run_script pass &&
	reported pass 0 "ok 1 - true" "ok 2 - a chain" "# pass: 2 passed, 0 failed, 0 skipped"
'

test_expect_success 'a body "false; true" fails: a failing middle step fails the test' '
	write_script middle <<-\EOF &&
	test_expect_success "semicolon" "false; true"
	test_expect_success "newline" "
		echo step 1
		false
		echo step 3
	"
	test_done
	EOF
	run_script middle &&
	reported middle 1 "not ok 1 - semicolon (exit 1)" "not ok 2 - newline (exit 1)" \
		"#   step 1" "# middle: 0 passed, 2 failed, 0 skipped" &&
	! grep -q "step 3" middle.out
'

test_expect_success 'a failing step in the middle of a helper function fails the test' '
	write_script helper <<-\EOF &&
	helper() {
		echo in helper
		false
		echo helper went on
	}
	test_expect_success "helper as the last step" "helper"
	test_expect_success "helper as a middle step" "
		helper
		true
	"
	test_expect_success "helper at the end of a chain" "true && helper"
	test_done
	EOF
	run_script helper &&
	reported helper 1 "not ok 1 - helper as the last step (exit 1)" \
		"not ok 2 - helper as a middle step (exit 1)" \
		"not ok 3 - helper at the end of a chain (exit 1)" \
		"# helper: 0 passed, 3 failed, 0 skipped" &&
	! grep -q "helper went on" helper.out
'

test_expect_success 'exit and return in a body (loops: || return 1) fail the test' '
	write_script loops <<-\EOF &&
	test_expect_success "return in a loop" "for i in 1 2; do test \$i = 1 || return 1; done"
	test_expect_success "exit in a loop" "for i in 1 2; do test \$i = 1 || exit 1; done"
	test_expect_success "a loop that passes" "for i in 1 2; do test \$i -le 2 || return 1; done"
	test_done
	EOF
	run_script loops &&
	reported loops 1 "not ok 1 - return in a loop (exit 1)" "not ok 2 - exit in a loop (exit 1)" \
		"ok 3 - a loop that passes" "# loops: 1 passed, 2 failed, 0 skipped"
'

test_expect_success 'test_must_fail: false passes; true, a crash, a missing command fail' '
	write_script must_fail <<-\EOF &&
	test_expect_success "test_must_fail false" "test_must_fail false"
	test_expect_success "test_must_fail exit 2" "test_must_fail sh -c \"exit 2\""
	test_expect_success "test_must_fail true" "test_must_fail true"
	test_expect_success "test_must_fail a segfault" "test_must_fail sh -c \"kill -SEGV \\\$\\\$\""
	test_expect_success "test_must_fail an abort" "test_must_fail sh -c \"kill -ABRT \\\$\\\$\""
	test_expect_success "test_must_fail a missing command" "test_must_fail no-such-command-here"
	test_expect_success "test_must_fail true, mid-body" "
		test_must_fail true
		true
	"
	fails_in_middle() { false; true; }
	test_expect_success "test_must_fail a function" "test_must_fail fails_in_middle"
	test_expect_success "test_must_fail a function that fails" "test_must_fail eval false"
	test_done
	EOF
	run_script must_fail &&
	reported must_fail 1 "ok 1 - test_must_fail false" "ok 2 - test_must_fail exit 2" \
		"not ok 3 - test_must_fail true (exit 1)" "#   test_must_fail: command succeeded: true" \
		"not ok 4 - test_must_fail a segfault (exit 1)" \
		"#   test_must_fail: died of signal 11 (exit 139): sh -c kill -SEGV \$\$" \
		"not ok 5 - test_must_fail an abort (exit 1)" \
		"not ok 6 - test_must_fail a missing command (exit 1)" \
		"not ok 7 - test_must_fail true, mid-body (exit 1)" \
		"not ok 8 - test_must_fail a function (exit 1)" \
		"ok 9 - test_must_fail a function that fails" \
		"# must_fail: 3 passed, 6 failed, 0 skipped"
'

test_expect_success 'test_must_fail: the command'\''s stderr goes where the step sends it' '
	write_script stderr <<-\EOF &&
	test_expect_success "2>err" "
		test_must_fail sh -c \"echo oops >&2; exit 1\" 2>err &&
		test \"\$(cat err)\" = oops
	"
	test_expect_success "diagnostics stay out of 2>err" "
		test_must_fail true 2>err
	"
	test_done
	EOF
	run_script stderr &&
	reported stderr 1 "ok 1 - 2>err" "not ok 2 - diagnostics stay out of 2>err (exit 1)" \
		"#   test_must_fail: command succeeded: true"
'

test_expect_success 'test_expect_code checks the exact status' '
	write_script code <<-\EOF &&
	test_expect_success "3 = 3" "test_expect_code 3 sh -c \"exit 3\""
	test_expect_success "0 = 0" "test_expect_code 0 true"
	test_expect_success "2 != 3" "test_expect_code 2 sh -c \"exit 3\""
	test_expect_success "1 != 0" "test_expect_code 1 true"
	test_expect_success "1 != SIGSEGV" "test_expect_code 1 sh -c \"kill -SEGV \\\$\\\$\""
	test_done
	EOF
	run_script code &&
	reported code 1 "ok 1 - 3 = 3" "ok 2 - 0 = 0" "not ok 3 - 2 != 3 (exit 1)" \
		"#   test_expect_code: exit 3, wanted 2: sh -c exit 3" \
		"not ok 4 - 1 != 0 (exit 1)" "not ok 5 - 1 != SIGSEGV (exit 1)" \
		"#   test_expect_code: exit 139: killed by signal 11, wanted 1: sh -c kill -SEGV \$\$" \
		"# code: 2 passed, 3 failed, 0 skipped"
'

test_expect_success 'test_expect_error: the status and the message; a failing setup step fails it' '
	write_script error <<-\EOF &&
	test_expect_error "right" 2 "boom" "echo boom >&2; exit 2"
	test_expect_error "wrong status" 1 "boom" "echo boom >&2; exit 2"
	test_expect_error "no message" 2 "boom" "echo bang >&2; exit 2"
	test_expect_error "a crash" 1 "boom" "echo boom; sh -c \"kill -SEGV \\\$\\\$\""
	test_expect_error "setup fails" 1 "boom" "
		false
		echo boom >&2
		exit 1
	"
	test_expect_error "status 0 is no error" 0 "boom" "echo boom"
	test_done
	EOF
	run_script error &&
	reported error 1 "ok 1 - right" \
		"not ok 2 - wrong status (exit 2, wanted exit 1 and .boom.)" \
		"not ok 3 - no message (exit 2, wanted exit 2 and .boom.)" \
		"not ok 4 - a crash (exit 139: killed by signal 11, wanted exit 1 and .boom.)" \
		"not ok 5 - setup fails (exit 1, wanted exit 1 and .boom.)" \
		"not ok 6 - BUG in the test script: test_expect_error wants a status in 1..125, not .0.: status 0 is no error" \
		"# error: 1 passed, 5 failed, 0 skipped"
'

test_expect_success 'test_expect_failure reports a known bug, and when it is fixed' '
	write_script known <<-\EOF &&
	test_expect_failure "BUG-1: still broken" "false"
	test_expect_failure "BUG-2: broken in a middle step" "
		false
		true
	"
	test_expect_failure "BUG-3: fixed" "true"
	test_done
	EOF
	run_script known &&
	reported known 0 "skip 1 - BUG-1: still broken (known bug, still broken: exit 1)" \
		"skip 2 - BUG-2: broken in a middle step (known bug, still broken: exit 1)" \
		"ok 3 - BUG-3: fixed (known bug fixed: remove its mark)" \
		"# known: 1 passed, 0 failed, 2 skipped"
'

test_expect_success 'test_done: the summary line, the exit status, the scratch directory' '
	write_script summary <<-\EOF &&
	test_expect_success "one" "echo one >one.txt"
	test_expect_success "the scratch directory is shared and is cwd" "
		test -s one.txt && test \"\$(pwd)\" = \"\$TRASH\"
	"
	test_expect_success "stdin is /dev/null" "test -z \"\$(cat)\""
	test_expect_success "fails" "false"
	test_skip "skipped" "no reason"
	test_expect_failure "known" "false"
	test_done
	EOF
	run_script summary &&
	reported summary 1 "ok 1 - one" "ok 2 - the scratch directory is shared and is cwd" \
		"ok 3 - stdin is /dev/null" "not ok 4 - fails (exit 1)" "skip 5 - skipped (no reason)" \
		"# summary: 3 passed, 1 failed, 2 skipped" "# scratch kept in .*/tmp/nidec-summary\..*" &&
	test -d tmp/nidec-summary.* &&
	write_script clean <<-\EOF &&
	test_expect_success "one" "true"
	test_done
	EOF
	run_script clean &&
	reported clean 0 "# clean: 1 passed, 0 failed, 0 skipped" &&
	! ls -d tmp/nidec-clean.* 2>/dev/null
'

test_expect_success 'misuse is reported: inside if or ||, wrong number of arguments' '
	write_script misuse <<-\EOF &&
	if test_expect_success "inside if" "false; true"; then :; fi
	test_expect_success "after ||" "false; true" || :
	test_expect_success "no body"
	test_expect_success "good" "true"
	test_done
	EOF
	run_script misuse &&
	reported misuse 1 \
		"not ok 1 - BUG in the test script: test_expect_success called inside if, && or ||, where set -e is ignored: inside if" \
		"not ok 2 - BUG in the test script: test_expect_success called inside if, && or ||, where set -e is ignored: after ||" \
		"not ok 3 - BUG in the test script: test_expect_success needs 2 arguments, got 1: no body" \
		"ok 4 - good" "# misuse: 1 passed, 3 failed, 0 skipped"
'

test_expect_success 'a test that changes an input (test_input) fails, naming it' '
	write_script inputs <<-\EOF &&
	test_expect_success "make an input" "echo a >in.txt && test_input in.txt"
	test_expect_success "read it" "cat in.txt"
	test_expect_success "overwrite it" "echo b >in.txt"
	test_expect_success "after" "true"
	test_done
	EOF
	run_script inputs &&
	reported inputs 1 "ok 1 - make an input" "ok 2 - read it" \
		"not ok 3 - overwrite it (exit 1)" "ok 4 - after" \
		"not ok 5 - the inputs (data/, configs/, test_input files) are unchanged" &&
	grep -q "INPUT FILES CHANGED by this test" inputs.out
'

test_done
