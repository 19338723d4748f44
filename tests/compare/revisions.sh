#!/bin/sh
# tests/compare/revisions.sh OLD [NEW] - run two builds of nidec on the same
# inputs and compare every output, file for file (outputs_equal.py).  The
# redesign of issue 15 must leave every output byte-identical; this is its
# check, and the check of any later refactor.
#
#   sh tests/compare/revisions.sh 6d73d63            # OLD revision vs the work tree
#   sh tests/compare/revisions.sh 6d73d63 HEAD       # two revisions
#   COMPARE_EXCEPT="scores.tsv" sh tests/compare/revisions.sh ...   # files
#                                     deliberately changed: listed, not compared
#
# Both builds get the same version string (GIT_VERSION=compare), so the
# provenance compares too.  Both sides run with the OLD revision's configs
# and inputs, from directories with the same relative layout, so recorded
# paths and command lines agree.  The cases:
#   - every configs/*.ini but default.ini, `nidec run`, 1 rank, and its stdout;
#   - `nidec convert`, `nidec cv` on that dataset, `nidec predict`, `nidec report`;
#   - a permutation run (30 permutations) on 2 ranks;
#   - a permutation run stopped by SIGUSR1 and resumed on 2 ranks, and the
#     `--resume` of a completed run;
#   - `nidec synth`, and a 3-subject sweep on 2 ranks, then `--gather`.
# Prints one line per case; exit status 0 when every case is equal.
set -u
old=${1:?usage: revisions.sh OLD [NEW]}
new=${2:-}
repo=$(cd "$(dirname "$0")/../.." && pwd)
W=${COMPARE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/nidec-compare.XXXXXX")}
PYTHON=${PYTHON:-/usr/bin/python3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none

say() { printf '%s\n' "$*" >&2; }

# build REV DIR: the nidec of REV (empty = the work tree) into DIR/nidec
build() {
	mkdir -p "$2"
	if [ -z "$1" ]; then
		make -C "$repo" -s BUILD="$2/build" GIT_VERSION=compare "$2/build/nidec" >"$2/build.log" 2>&1 ||
			{ tail -20 "$2/build.log"; return 1; }
	else
		mkdir -p "$2/src" &&
		git -C "$repo" archive "$1" | tar -x -C "$2/src" &&
		make -C "$2/src" -s BUILD=build GIT_VERSION=compare build/nidec >"$2/build.log" 2>&1 ||
			{ tail -20 "$2/build.log"; return 1; }
		mv "$2/src/build" "$2/build"
	fi
	cp "$2/build/nidec" "$2/nidec"
}

# inputs DIR: the OLD revision's configs and the bundled data
inputs() {
	mkdir -p "$1" &&
	git -C "$repo" archive "$old" configs | tar -x -C "$1" &&
	ln -s "$repo/data" "$1/data"
}

# cases SIDE: every case, run by SIDE/nidec in SIDE/work
cases() {
	N="$1/nidec"
	cd "$1/work" || return 1
	for c in configs/*.ini; do
		name=$(basename "$c" .ini)
		[ "$name" = default ] && continue
		"$N" run "$c" --set output.dir="out/run-$name" --progress 0 >"out-run-$name.stdout" 2>/dev/null ||
			say "$1: run $name failed"
		mv "out-run-$name.stdout" "out/run-$name/stdout.txt"
	done
	mkdir -p out/tools
	"$N" convert configs/haxby-slice.ini -o out/tools/converted.h5 -q &&
	"$N" cv out/tools/converted.h5 configs/tutorial-e-loro.ini -o out/cv --progress 0 >out/tools/cv.stdout 2>/dev/null &&
	"$N" predict out/run-haxby-slice/model.h5 data/haxby-slice/bold.nii.gz \
		--labels data/haxby-slice/labels.txt -o out/tools/predict.tsv >out/tools/predict.stdout 2>/dev/null &&
	cp -r out/run-tutorial-g-8class out/report &&
	rm -f out/report/report.html &&
	"$N" report out/report -q >/dev/null || say "$1: convert/cv/predict/report failed"

	mpirun -n 2 "$N" run configs/haxby-slice.ini --set output.dir=out-n2/perm \
		--set cv.permutations=30 --progress 0 >/dev/null 2>&1 || say "$1: permutations failed"

	# synth records absolute paths: write into the same place on both sides
	rm -rf "$W/synth-out" &&
	"$N" synth -o "$W/synth-out" --dims 8x8x8 --runs 4 --volumes 40 --classes 2 \
		--mask-fraction 0.5 --seed 3 --signal 0.5 -q &&
	mv "$W/synth-out" out/synth || say "$1: synth failed"
	# the resumed run: slowed down (a sleep per task), stopped by SIGUSR1
	# once its ledger holds results, finished with --resume
	NIDEC_TEST_TASK_DELAY=0.03 mpirun -n 2 "$N" run $W/synth/sub-01/synth.ini --set output.dir=out-n2/resumed \
		--set cv.permutations=20 --progress 0 >resumed.log 2>&1 &
	pid=$!
	t=0
	while [ "$(stat -c %s out-n2/resumed/results.ledger 2>/dev/null || echo 0)" -lt 20000 ] && [ $t -lt 300 ]; do
		sleep 0.1
		t=$((t + 1))
	done
	kill -USR1 $pid
	wait $pid
	mpirun -n 2 "$N" run $W/synth/sub-01/synth.ini --set output.dir=out-n2/resumed \
		--set cv.permutations=20 --progress 0 --resume >/dev/null 2>&1 || say "$1: resume failed"
	"$N" run "$W/synth/sub-01/synth.ini" --set output.dir=out-n2/resumed --set cv.permutations=20 \
		--progress 0 --resume -q >/dev/null 2>&1 || say "$1: resume of a complete run failed"

	cat >sweep.ini <<-EOF
	[sweep]
	analysis = sweep-analysis.ini
	subjects = 01, 02, 03
	bold = $W/synth/sub-{subject}/sub-{subject}_task-synth_run-*_bold.nii.gz
	mask = $W/synth/sub-{subject}/mask.nii.gz
	events = $W/synth/sub-{subject}/sub-{subject}_task-synth_run-*_events.tsv
	EOF
	cat >sweep-analysis.ini <<-EOF
	[data]
	conditions = face, cat
	[model]
	C = 1, 10
	[cv]
	permutations = 5
	[output]
	dir = out-n2/sweep
	EOF
	mpirun -n 2 "$N" sweep sweep.ini --progress 0 >out-sweep.stdout 2>/dev/null || say "$1: sweep failed"
	"$N" sweep sweep.ini --gather -q >out-gather.stdout 2>/dev/null || say "$1: sweep --gather failed"
	mv out-sweep.stdout out-gather.stdout out-n2/sweep/
	cd - >/dev/null
}

# synthetic subjects for the resumed run and the sweep (the old build's
# files, the same inputs for both sides)
synth_inputs() {
	for s in 01 02 03; do
		"$W/old/nidec" synth -o "$1/sub-$s" --dims 8x8x8 --runs 4 --volumes 40 --classes 2 \
			--mask-fraction 0.5 --seed "$s" --signal 0.6 --subject "$s" -q || return 1
	done
}

say "compare: building $old and ${new:-the work tree} in $W"
build "$old" "$W/old" || exit 1
build "$new" "$W/new" || exit 1
mkdir -p "$W/synth"
synth_inputs "$W/synth" || { say "compare: synth failed"; exit 1; }
rc=0
for side in old new; do
	inputs "$W/$side/work" || exit 1
	say "compare: running the $side build"
	(cases "$W/$side") || rc=1
done
ex=""
for f in ${COMPARE_EXCEPT:-}; do ex="$ex $f"; done
# shellcheck disable=SC2086
"$PYTHON" "$repo/tests/compare/outputs_equal.py" "$W/old/work/out" "$W/new/work/out" \
	${ex:+--except $ex} || rc=1
# shellcheck disable=SC2086
"$PYTHON" "$repo/tests/compare/outputs_equal.py" "$W/old/work/out-n2" "$W/new/work/out-n2" \
	${ex:+--except $ex} || rc=1
if [ "$rc" = 0 ]; then
	say "compare: $old and ${new:-the work tree}: every output identical"
	[ -n "${COMPARE_DIR:-}" ] || rm -rf "$W"
else
	say "compare: differences (kept in $W)"
fi
exit "$rc"
