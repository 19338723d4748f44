#!/bin/sh
# t1550: one run per output directory (issue 20).  Two and three runs
# started into one directory at once, in every order of `run`, `run
# --resume` and `cv`: exactly one proceeds, the others fail at once with
# one error line naming the running one (host, pid, start time) and leave
# no trace, and the survivor's outputs equal an undisturbed run's
# (same_outputs.py).  The first run is held with SIGSTOP once it holds the
# lock, so the others certainly start while it runs; a last test starts
# three at the same instant, unheld.  Also: a lock file left by a killed
# run does not block the next one, in both lock modes (fcntl, and the
# O_EXCL file of file systems without fcntl locks).
. "$(dirname "$0")/../lib.sh"

SYN="--dims 10x12x8 --runs 4 --volumes 30 --classes 2 --signal 0.15"
CFG="--progress 0 -q --set output.report=false --set cv.permutations=20"

# start_held DIR CMD...: run CMD in the background, stopped by itself as
# soon as it holds DIR's lock (NIDEC_TEST_STOP_HOLDING_LOCK, src/base/lock.c:
# no race with a run that would finish before a poll could stop it); its
# pid in held.pid, its status later in held.rc
start_held() {
	dir=$1
	shift
	rm -f held.rc
	# (set -e is on in a body: the status is caught, not fatal)
	{ r=0; NIDEC_TEST_STOP_HOLDING_LOCK=1 "$@" >held.out 2>&1 || r=$?; echo $r >held.rc; } &
	i=0
	while :; do
		held=$(sed -n "s/^pid //p" "$dir/.nidec.lock" 2>/dev/null)
		[ -n "$held" ] && [ "$(ps -o stat= -p "$held" | cut -c1)" = T ] && break
		i=$((i + 1))
		test "$i" -lt 600 || { echo "never took the lock"; cat held.out; return 1; }
		sleep 0.05
	done
	echo "$held" >held.pid
}

# release_held: let the held run go on and wait for it; it must succeed
release_held() {
	kill -CONT "$(cat held.pid)" &&
	while [ ! -e held.rc ]; do sleep 0.05; done &&
	cat held.out &&
	test "$(cat held.rc)" = 0
}

# refused NAME CMD...: CMD fails at once, with one error line naming the
# held run's pid
refused() {
	name=$1
	shift
	test_expect_code 1 "$@" >"$name.out" 2>&1 &&
	cat "$name.out" &&
	test "$(grep -c "error:" "$name.out")" = 1 &&
	grep -q "is in use by another nidec run (host [^,]*, pid $(cat held.pid), started .* UTC: nidec " "$name.out"
}

# same_as_ref DIR [KILLED]: DIR holds what an undisturbed run wrote, and
# nothing else (after a SIGKILL, but the killed run's temporaries: file.h)
same_as_ref() {
	$PYTHON "$TESTS_DIR/e2e/same_outputs.py" ref "$1" &&
	(cd ref && ls -A) >ref.ls && (cd "$1" && ls -A) >dir.ls &&
	if [ -n "${2:-}" ]; then
		grep -v "^\..*\.tmp-[0-9]*-[0-9]*\$" dir.ls >dir.ls.new; mv dir.ls.new dir.ls
	fi &&
	test_cmp ref.ls dir.ls
}

# the reference is written into "out" too: summary.json records the dir
test_expect_success 'setup: a synthetic subject, an undisturbed run' '
	$NIDEC synth -q -o sub $SYN &&
	test_input sub/*.nii.gz sub/*.tsv sub/synth.ini &&
	$NIDEC run sub/synth.ini --set output.dir=out $CFG &&
	test -f out/summary.json && ! test -e out/.nidec.lock &&
	mv out ref &&
	$NIDEC run sub/synth.ini --set output.dir=out $CFG --set cv.permutations=60 &&
	mv out ref60
'

for order in "run:run" "run:resume" "resume:run" "resume:resume" "run:cv" "cv:run" "cv:resume"; do
	first=${order%%:*} second=${order#*:}
	test_expect_success "two at once ($first, then $second): one proceeds, the other fails naming it" '
		rm -rf out &&
		cmd() {
			case $1 in
			run) echo "$NIDEC run sub/synth.ini --set output.dir=out $CFG" ;;
			resume) echo "$NIDEC run sub/synth.ini --set output.dir=out $CFG --resume" ;;
			cv) echo "$NIDEC cv out/dataset.h5 sub/synth.ini -o out $CFG" ;;
			esac
		} &&
		if [ '"$first"' = cv ]; then
			$NIDEC convert sub/synth.ini -o out/dataset.h5 -q
		fi &&
		start_held out $(cmd '"$first"') &&
		refused second $(cmd '"$second"') &&
		release_held &&
		same_as_ref out
	'
done

test_expect_success 'three at once (run held, then run --resume and cv): one proceeds' '
	rm -rf out &&
	start_held out $NIDEC run sub/synth.ini --set output.dir=out $CFG &&
	refused b $NIDEC run sub/synth.ini --set output.dir=out $CFG --resume &&
	refused c $NIDEC run sub/synth.ini --set output.dir=out $CFG &&
	release_held &&
	same_as_ref out
'

test_expect_success 'an interrupted run, then two --resume at once: one finishes it' '
	rm -rf out &&
	start_held out $NIDEC run sub/synth.ini --set output.dir=out $CFG &&
	kill -TERM "$(cat held.pid)" && kill -CONT "$(cat held.pid)" &&
	while [ ! -e held.rc ]; do sleep 0.05; done &&
	test "$(cat held.rc)" = 3 && test -f out/results.ledger && ! test -e out/.nidec.lock &&
	start_held out $NIDEC run sub/synth.ini --set output.dir=out $CFG --resume &&
	refused b $NIDEC run sub/synth.ini --set output.dir=out $CFG --resume &&
	release_held &&
	same_as_ref out
'

test_expect_success 'three started at the same instant: exactly one proceeds' '
	rm -rf out rc.* &&
	for k in 1 2 3; do
		{ r=0; $NIDEC run sub/synth.ini --set output.dir=out $CFG --set cv.permutations=60 \
			>run.$k.out 2>&1 || r=$?; echo $r >rc.$k; } &
	done &&
	wait &&
	cat run.*.out &&
	test "$(cat rc.1 rc.2 rc.3 | sort | tr "\n" " ")" = "0 1 1 " &&
	test "$(grep -l "is in use by another nidec run" run.*.out | wc -l)" = 2 &&
	$PYTHON "$TESTS_DIR/e2e/same_outputs.py" ref60 out &&
	! test -e out/.nidec.lock
'

for mode in 1 0; do
	test_expect_success "a lock left by a killed run does not block the next (NIDEC_LOCK_FCNTL=$mode)" '
		rm -rf out &&
		export NIDEC_LOCK_FCNTL='$mode' &&
		start_held out $NIDEC run sub/synth.ini --set output.dir=out $CFG &&
		kill -KILL "$(cat held.pid)" &&
		while [ ! -e held.rc ]; do sleep 0.05; done &&
		test -f out/.nidec.lock &&
		$NIDEC run sub/synth.ini --set output.dir=out --progress 0 --set output.report=false \
			--set cv.permutations=20 2>err >/dev/null &&
		cat err &&
		if [ '$mode' = 0 ]; then grep -q "removing the stale lock file" err; fi &&
		same_as_ref out killed
	'
done

test_done
