#!/bin/sh
# t0050: every option of every command, tested from the command's own
# table (src/base/opts.c; `nidec CMD --list-options` prints it: long name,
# short name, type, range or choices, config key).  For each command:
#   - --help lists every option of the table, and nothing else;
#   - an unknown option is exit status 2 and one line naming it;
#   - every option that takes a value, given without one (last on the
#     line, long and short name), is exit status 2 and one line naming it
#     (`nidec run CONFIG --checkpoint-interval` was a segfault);
#   - every typed option given a bad value (not a number, a fraction for a
#     whole number, below or above its range, not one of its choices, a
#     malformed or unknown --set) is exit status 2 and one line naming it.
# A new option is tested here without writing a line.  The commands are
# those `nidec --help` lists.
. "$(dirname "$0")/../lib.sh"

# one MPI singleton per run of nidec (a few hundred runs): keep it cheap
# (isolated as in t5200; one process needs no shared-memory transport)
export OMPI_MCA_ess_singleton_isolated=1
nidec1() {
	OMPI_MCA_btl=self OMPI_MCA_pml=ob1 "$NIDEC" "$@"
}

# usage_error WHAT ARGS...: `nidec ARGS` exits 2 with nothing on stdout and
# exactly one line on stderr, which contains WHAT.
usage_error() {
	what=$1
	shift
	rc=0
	nidec1 "$@" >out 2>err || rc=$?
	if [ "$rc" != 2 ] || [ "$(wc -l <err)" != 1 ] || ! grep -qF -- "$what" err || [ -s out ]; then
		echo "nidec $*: exit $rc (wanted 2), stdout $(wc -c <out) bytes, stderr (wanted one line naming $what):"
		cat err
		return 1
	fi
}

# bad_values TYPE RANGE: values an option of that type and range refuses,
# one per line: "[1,9999]", "(0,1000]", "[0,inf)", "int16|float32".
bad_values() {
	case $1 in
	int)
		printf '%s\n' x 1.5 1,5 ;;
	double)
		printf '%s\n' x 1,5 nan ;;
	choice|custom)
		printf '%s\n' @@ ;;
	set)
		printf '%s\n' x nosuch.key=1 cv.nosuchkey=1 cv.n_folds=x ;;
	esac
	case $1 in
	int|double)
		echo "$2" | awk -F, '{
			lo = substr($1, 2) + 0; hi = substr($2, 1, length($2) - 1);
			if (substr($1, 1, 1) == "(") printf "%.17g\n", lo; else printf "%.17g\n", lo - 1;
			if (hi != "inf") {
				hi += 0;
				if (substr($2, length($2)) == ")") printf "%.17g\n", hi; else printf "%.17g\n", hi + 1;
			}
		}' ;;
	esac
}

# check_command CMD: the checks above for `nidec CMD` ("" = nidec itself).
check_command() {
	cmd=$1
	name=${cmd:-top}
	# shellcheck disable=SC2086
	nidec1 $cmd --list-options >"opts.$name" &&
	# shellcheck disable=SC2086
	nidec1 $cmd --help >"help.$name" &&
	test -s "opts.$name" || { echo "nidec $cmd: no --list-options or --help"; return 1; }
	# --help shows every option of the table, and only those
	n_help=$(grep -c '^  -' "help.$name")
	n_opts=$(wc -l <"opts.$name")
	test "$n_help" = "$n_opts" || { echo "nidec $cmd: $n_help options in --help, $n_opts in the table"; return 1; }
	# shellcheck disable=SC2086
	usage_error "unknown option '--no-such-option'" $cmd --no-such-option || return 1
	tab=$(printf '\t')
	while IFS=$tab read -r long short type range key; do
		left="$long"
		[ "$short" = - ] || left="$short, $long"
		grep -qE -- "^  $left( |\$)" "help.$name" || { echo "nidec $cmd --help: no line for $left"; return 1; }
		case $type in flag|count|help) continue ;; esac
		# shellcheck disable=SC2086
		usage_error "'$long' needs a value" $cmd "$long" || return 1
		if [ "$short" != - ]; then
			# shellcheck disable=SC2086
			usage_error "'$short' needs a value" $cmd "$short" || return 1
		fi
		form=separate
		for v in $(bad_values "$type" "$range"); do
			# shellcheck disable=SC2086
			if [ $form = separate ]; then
				usage_error "$long" $cmd "$long" "$v" || return 1
				form=inline
			else
				usage_error "$long" $cmd "$long=$v" || return 1
				form=separate
			fi
		done
		echo "$name $long ($type $range): ok"
	done <"opts.$name"
}

test_expect_success 'the commands, from nidec --help' '
	$NIDEC --help >top &&
	sed -n "/^commands:/,/^\$/p" top | sed -n "s/^  \([a-z]*\) .*/\1/p" >commands &&
	test "$(wc -l <commands)" -ge 9 &&
	grep -qx run commands && grep -qx sweep commands
'

test_expect_success 'nidec itself: every option, an unknown option, an unknown command' '
	check_command "" &&
	usage_error "'\''frobnicate'\'' is not a nidec command" frobnicate &&
	usage_error "did you mean '\''convert'\''" conver
'

COMMANDS="run searchlight convert info cv predict synth plot report sweep"
for cmd in $COMMANDS; do
	test_expect_success "nidec $cmd: --help, unknown option, missing and bad values" "
		grep -qx $cmd commands && check_command $cmd
	"
done

test_expect_success 'every command of nidec --help was tested' '
	for c in $(cat commands); do
		case " $COMMANDS " in
		*" $c "*) ;;
		*) echo "command $c is not tested here: add it to the loop"; exit 1 ;;
		esac
	done
'

# The manual pages come from the same tables (`nidec help --man [CMD]`,
# `make man`): every option of --list-options has its entry, and man(1)
# renders each page without a warning.
test_expect_success 'every command: nidec help CMD is its --help, its manual page has every option' '
	for c in $(cat commands); do
		$NIDEC help $c >h1 && $NIDEC $c --help >h2 && test_cmp h2 h1 &&
		$NIDEC help --man $c >page.$c &&
		grep -q "^\.TH NIDEC-$(echo $c | tr a-z A-Z) 1 " page.$c &&
		grep -q "^\.SH OPTIONS" page.$c &&
		cut -f1 opts.$c | sed "s/^--//; s/-/\\\\-/g" >names &&
		while read -r n; do
			grep -qF -- "\\fB\\-\\-$n\\fR" page.$c || { echo "nidec-$c(1): no --$n"; exit 1; }
		done <names || exit 1
	done &&
	$NIDEC help --man >page.nidec &&
	grep -q "^\.TH NIDEC 1 " page.nidec &&
	for c in $(cat commands); do grep -q "^\.BR nidec\\\\-$c (1)" page.nidec || exit 1; done
'

if command -v man >/dev/null 2>&1; then
	test_expect_success 'man renders every page without a warning' '
		for p in page.*; do
			MANWIDTH=80 man --warnings -E UTF-8 -l $p >out 2>warn &&
			test -s out && ! test -s warn || { cat warn; echo "$p"; exit 1; }
		done
	'
else
	test_skip 'man renders every page without a warning' 'no man(1) here'
fi

test_expect_success 'the missing value of issue 15, and a bad --set: one line, status 2' '
	usage_error "nidec run: option '\''--checkpoint-interval'\'' needs a value (seconds" \
		run nosuch.ini --checkpoint-interval &&
	usage_error "nidec cv: --set cv.scoring: [cv] scoring = '\''auc'\'' is unknown; did you mean '\''roc_auc'\''?" \
		cv nosuch.h5 --set cv.scoring=auc &&
	usage_error "nidec run: unknown option '\''--resum'\''; did you mean '\''--resume'\''?" run x.ini --resum
'

test_expect_success 'under mpirun -n 2 only rank 0 prints help and errors' '
	$MPIRUN -n 2 $NIDEC cv --help >out 2>err &&
	test "$(grep -c "^usage: nidec cv" out)" = 1 &&
	rc=0 && $MPIRUN -n 2 $NIDEC run x.ini --checkpoint-interval >out 2>err || rc=$? &&
	test "$rc" = 2 && test "$(grep -c "needs a value" err)" = 1
'

test_done
