#!/bin/sh
# t5200: allocation fault injection.  NIDEC_FAIL_ALLOC=N makes nidec's Nth
# allocation fail (src/base/mem.c); for each loader command on the tiny
# subject of tests/bad/make_cases.py (convert from a labels table and from
# events, from a sample table, with cleaning, from a BIDS tree; info, cv,
# predict) and N = 1, 1+STEP, ... up to the command's
# allocation count, nidec must exit 1 with one "out of memory" error line,
# leave no output and not crash (or, where an allocation is optional,
# succeed with the same output as without fault injection).  Under
# `make SANITIZE=address,undefined check` LeakSanitizer also fails any run
# whose error path leaks.
# NIDEC_FAIL_ALLOC_STEP=1 tries every N (slow); the default stride keeps the
# script under a minute.
. "$(dirname "$0")/../lib.sh"

B=$TRASH/corpus
G=$B/good
W=$TRASH/w
STEP=${NIDEC_FAIL_ALLOC_STEP:-0}
JOBS=${NIDEC_TEST_JOBS:-4}
export OMPI_MCA_ess_singleton_isolated=1

test_expect_success 'make the tiny subject, its dataset and model' '
	$PYTHON $TESTS_DIR/bad/make_cases.py inputs $B >/dev/null &&
	$NIDEC convert $G/good.ini -o $G/dataset.h5 -q &&
	$NIDEC cv $G/dataset.h5 -o $G/cv --progress 0 --set output.report=false -q
'

# name|stride|command (run in an empty directory; output under out*)
cat >"$TRASH/commands" <<EOF
convert-labels|5|$NIDEC convert $G/good.ini -o out.h5 -q
convert-events|8|$NIDEC convert --bold "$G/run-*_bold.nii" --events "$G/run-*_events.tsv" --mask $G/mask.nii --conditions face,cat -o out.h5 -q
info|5|$NIDEC info $G/dataset.h5
predict|2|$NIDEC predict $G/cv/model.h5 $G/bold.nii -o out.tsv -q
cv|10|$NIDEC cv $G/dataset.h5 -o out --progress 0 --set output.report=false --set model.C=1 --set cv.selection=test-fold -q
convert-samples|6|$NIDEC convert --samples $B/st/good.tsv --mask $G/mask.nii -o out.h5 -q
convert-clean|16|$NIDEC convert --bold "$G/run-*_bold.nii" --events "$G/run-*_events.tsv" --mask $G/mask.nii --set data.confounds_files="$B/cf/run-*_conf.tsv" --set clean.confounds=trans_x,trans_y --set clean.smoothing_fwhm=4 --set clean.detrend=true -o out.h5 -q
convert-bids|16|$NIDEC convert --set data.bids_root=$B/bids --set data.derivatives=$B/bids/derivatives --set data.subject=01 --set data.task=t --mask-strategy background -o out.h5 -q
EOF

# reference NAME CMD: the outputs without fault injection, in W/ref-NAME/
reference() {
	mkdir -p "$W/ref-$1" "$W/ref-$1.ompi" &&
	(cd "$W/ref-$1" && OMPI_MCA_orte_tmpdir_base=$W/ref-$1.ompi sh -c "$2") >"$W/ref-$1.out" 2>&1
}

# allocations NAME CMD: the smallest N at which CMD succeeds (= its number of
# allocations + 1), by bisection.  An optional allocation (one whose failure
# is not an error) can make it stop early: then fewer N are tried, never a
# false failure.
allocations() {
	lo=1 hi=4096
	mkdir -p "$W/count-$1" "$W/count-$1.ompi"
	while [ $lo -lt $hi ]; do
		mid=$(((lo + hi) / 2))
		if (cd "$W/count-$1" && rm -rf out* && OMPI_MCA_orte_tmpdir_base=$W/count-$1.ompi \
			NIDEC_FAIL_ALLOC=$mid sh -c "$2") >/dev/null 2>&1; then
			hi=$mid
		else
			lo=$((mid + 1))
		fi
	done
	echo $lo
}

# bisections run side by side (one per command); W/NAME.k gets the result
test_expect_success 'count the allocations of each command and plan the runs' '
	mkdir -p $W &&
	while IFS="|" read -r name stride cmd; do
		{ reference $name "$cmd"; allocations $name "$cmd" >$W/$name.k; } &
	done <"$TRASH/commands" &&
	wait &&
	: >$W/runs &&
	while IFS="|" read -r name stride cmd; do
		k=$(cat $W/$name.k) &&
		echo "$name: $((k - 1)) allocations" &&
		test $k -gt 1 && test $k -lt 4096 &&
		s=$stride && { [ "$STEP" = 0 ] || s=$STEP; } &&
		n=1 &&
		while [ $n -lt $k ]; do
			echo "$name $n" >>$W/runs
			n=$((n + s))
		done || return 1
	done <"$TRASH/commands" &&
	wc -l <$W/runs
'

# one run: W/NAME-N/ is its directory, W/NAME-N.out and .rc its result
awk -F "|" "{ print \$1 \"|\" \$3 }" "$TRASH/commands" >"$W/cmds"
export W
xargs -P "$JOBS" -L 1 sh -c '
	cmd=$(grep "^$1|" "$W/cmds" | cut -d "|" -f 2-)
	mkdir -p "$W/$1-$2" "$W/$1-$2.ompi" && cd "$W/$1-$2" &&
	OMPI_MCA_orte_tmpdir_base=$W/$1-$2.ompi NIDEC_FAIL_ALLOC=$2 \
		timeout -k 5 120 sh -c "$cmd" >"../$1-$2.out" 2>&1
	echo $? >"$W/$1-$2.rc"' sh <"$W/runs"

# check_runs NAME: every run of NAME failed cleanly (an empty output
# directory may stay: cv creates it before the work; so may cv's
# checkpoint, results.ledger, kept on failure so that the run can be
# resumed with --resume: README "Checkpoint")
check_runs() {
	bad=0 runs=0
	while read -r name n; do
		[ "$name" = "$1" ] || continue
		runs=$((runs + 1))
		r=$W/$name-$n
		rc=$(cat $r.rc)
		why=
		if grep -qE "Segmentation fault|received signal|AddressSanitizer|LeakSanitizer|runtime error:" $r.out; then
			why="crash or sanitizer report"
		elif [ "$rc" = 0 ]; then
			# only an optional allocation may fail unnoticed: same result
			case $name in
			info) cmp -s $r.out $W/ref-info.out || why="exit 0 with another output" ;;
			predict) cmp -s $r/out.tsv $W/ref-predict/out.tsv || why="exit 0 with another out.tsv" ;;
			*) [ -e $r/out.h5 ] || [ -e $r/out/summary.json ] || why="exit 0 without output" ;;
			esac
			[ -n "$why" ] || continue
		elif [ "$rc" != 1 ]; then
			why="exit $rc"
		elif [ "$(grep -c "error:" $r.out)" != 1 ]; then
			why="not one error line"
		elif ! grep -q "out of memory\|size of .* overflows" $r.out; then
			why="the error does not say out of memory"
		elif [ -n "$(find $r -type f ! -name results.ledger)" ]; then
			why="left $(cd $r && find . -type f ! -name results.ledger | tr "\n" " ")"
		fi
		if [ -n "$why" ]; then
			echo "NIDEC_FAIL_ALLOC=$n $name: $why"
			sed "s/^/  | /" $r.out | head -n 12
			bad=$((bad + 1))
		fi
	done <$W/runs
	echo "$1: $bad of $runs runs wrong"
	test $runs -gt 0 && test $bad = 0
}

# info: every line of its listing or an error (B12); cv: all of its
# outputs or none (B11)
for name in convert-labels convert-events predict info cv; do
	test_expect_success "$name: every failing allocation gives one clean out-of-memory error" \
		"check_runs $name"
done

test_done
