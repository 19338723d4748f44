#!/bin/sh
# tests/check-deps.sh [ROOT] - the layering of docs/ARCHITECTURE.md, checked
# on every #include of src/ and include/ (ROOT: a source tree, default the
# one this script is in; tests/e2e/t0010-check-deps.sh runs it on broken
# copies).
#
# Layers, lowest first; a file may include headers of its own layer and of
# lower ones, never of a higher one, nor of another layer of the same rank:
#     0 base     libc only (and libinih in keyfile.c)
#     1 core     the numerics: no MPI, HDF5, NIfTI, files
#     2 io       NIfTI, HDF5, tables, result files (no MPI)
#     3 par      MPI: the communicator, the scheduler
#     3 report   figures and the HTML report (from files)
#     4 job      the job driver, analyses, sweeps
#     5 cli      argument handling and command wiring
# A header include/nidec/X.h belongs to the layer of src/<layer>/X.c (or
# to the one named in the table below when it has no .c of its own).
# Besides the layers:
#   - no cycle among the headers of include/nidec (a module never
#     includes one that includes it, directly or not);
#   - mpi.h only in src/par/*.c and src/cli/main.c; hdf5.h only in
#     src/io/*.c (never in a header); linear.h only in src/core/svm.c,
#     libsvm/svm.h only in src/core/svr.c, lapacke.h only in src/core/ridge.c;
#   - src/base includes no library but libc (ini.h in keyfile.c), src/core
#     none but libc, liblinear, libsvm and LAPACK;
#   - a private header (src/<layer>/x.h) is included only from its layer.
# Prints one line per violation; exit status 0 when there is none.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2

# header -> layer for the headers without a .c of the same name
exceptions="outcome:core regress:core"

layer_rank() {
	case $1 in
	base) echo 0 ;; core) echo 1 ;; io) echo 2 ;; par | report) echo 3 ;;
	job) echo 4 ;; cli) echo 5 ;; *) echo 9 ;;
	esac
}

# the layer of include/nidec/$1.h
header_layer() {
	for e in $exceptions; do
		[ "${e%%:*}" = "$1" ] && { echo "${e#*:}"; return; }
	done
	for d in base core io par report job cli; do
		[ -f "src/$d/$1.c" ] && { echo "$d"; return; }
	done
	echo unknown
}

bad=0
fail() { echo "check-deps: $*" >&2; bad=1; }

# every header's layer, once
hl=$(mktemp)
trap 'rm -f "$hl"' EXIT
for h in include/nidec/*.h; do
	n=${h##*/}
	n=${n%.h}
	l=$(header_layer "$n")
	[ "$l" = unknown ] && fail "$h belongs to no layer: name it after its src/<layer>/$n.c or add it to the table in tests/check-deps.sh"
	echo "$n $l"
done >"$hl"

# every #include "..." of src/ and include/, as "file header" lines, in
# one awk pass with the layer table
grep -H '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' $(find src include -name '*.[ch]' | sort) |
	sed 's/^\([^:]*\):[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1 \2/' |
	awk -v table="$hl" '
	function rank(l) {
		return l == "base" ? 0 : l == "core" ? 1 : l == "io" ? 2 : l == "par" || l == "report" ? 3 : l == "job" ? 4 : l == "cli" ? 5 : 9
	}
	function dir(path,    k) { k = path; sub(/\/[^\/]*$/, "", k); return k }
	BEGIN { while ((getline line < table) > 0) { split(line, a, " "); layer[a[1]] = a[2] } }
	{
		f = $1; inc = $2
		if (f ~ /^include\/nidec\//) { n = f; sub(/^include\/nidec\//, "", n); sub(/\.h$/, "", n); fl = layer[n] }
		else { split(f, parts, "/"); fl = parts[2] }
		if (inc ~ /^nidec\//) {
			n = inc; sub(/^nidec\//, "", n); sub(/\.h$/, "", n)
			if (!(n in layer)) { printf "check-deps: %s includes %s, which does not exist\n", f, inc > "/dev/stderr"; bad = 1; next }
			il = layer[n]
			if (rank(il) > rank(fl)) { printf "check-deps: %s (%s) includes %s of a higher layer (%s)\n", f, fl, inc, il > "/dev/stderr"; bad = 1 }
			else if (rank(il) == rank(fl) && il != fl) { printf "check-deps: %s (%s) includes %s of the layer %s (neither may include the other)\n", f, fl, inc, il > "/dev/stderr"; bad = 1 }
		} else if (inc ~ /\//) {
			printf "check-deps: %s includes \"%s\": a private header of another directory\n", f, inc > "/dev/stderr"; bad = 1
		} else if (system("test -f " dir(f) "/" inc) != 0) {
			printf "check-deps: %s includes \"%s\", which is not beside it\n", f, inc > "/dev/stderr"; bad = 1
		}
	}
	END { exit bad }' || bad=1

# no cycle among the public headers (depth-first search in awk)
grep -H '^[[:space:]]*#[[:space:]]*include[[:space:]]*"nidec/' include/nidec/*.h |
	sed 's/^include\/nidec\/\([a-z0-9_]*\)\.h:.*"nidec\/\([a-z0-9_]*\)\.h".*/\1 \2/' | awk '
	{ adj[$1] = adj[$1] " " $2; nodes[$1] = 1; nodes[$2] = 1 }
	function visit(v,    k, m, w, list) {
		state[v] = 1; stack[++depth] = v
		m = split(adj[v], list, " ")
		for (k = 1; k <= m; k++) {
			w = list[k]
			if (state[w] == 1) { cyc = w; for (i = depth; i >= 1 && stack[i] != w; i--) cyc = stack[i] " -> " cyc; cyc = w " -> " cyc; print "check-deps: include cycle: " cyc > "/dev/stderr"; found = 1 }
			else if (state[w] == 0) visit(w)
		}
		depth--; state[v] = 2
	}
	END { for (v in nodes) if (!state[v]) visit(v); exit found }' || bad=1

# libraries confined to their modules
for f in $(grep -rl '#include <mpi.h>' src include 2>/dev/null); do
	case $f in src/par/*.c | src/cli/main.c) ;; *) fail "$f includes mpi.h (only src/par and src/cli/main.c may)" ;; esac
done
for f in $(grep -rl '#include <hdf5.h>\|#include "hdf5.h"' src include 2>/dev/null); do
	case $f in src/io/*.c) ;; *) fail "$f includes hdf5.h (only src/io/*.c may)" ;; esac
done
for f in $(grep -rl '#include <linear.h>' src include 2>/dev/null); do
	case $f in src/core/svm.c) ;; *) fail "$f includes linear.h (only src/core/svm.c may)" ;; esac
done
for f in $(grep -rl '#include <libsvm/svm.h>' src include 2>/dev/null); do
	case $f in src/core/svr.c) ;; *) fail "$f includes libsvm/svm.h (only src/core/svr.c may)" ;; esac
done
for f in $(grep -rl '#include <lapacke.h>' src include 2>/dev/null); do
	case $f in src/core/ridge.c) ;; *) fail "$f includes lapacke.h (only src/core/ridge.c may)" ;; esac
done
# no library but libc in base and core (libinih in keyfile.c, liblinear in
# svm.c, libsvm in svr.c, LAPACK in ridge.c)
libs='<\(hdf5\|mpi\|nifti[a-z0-9_]*\|znzlib\|linear\|svm\|libsvm/svm\|jansson\|png\|zlib\|cmocka\|ini\)\.h>\|<openssl/\|<lapacke\?\.h>\|<cblas\.h>'
low=$(awk '$2 == "base" || $2 == "core" { printf "include/nidec/%s.h ", $1 }' "$hl")
# shellcheck disable=SC2086
grep -Hn "^[[:space:]]*#[[:space:]]*include[[:space:]]*$libs" src/base/*.[ch] src/core/*.[ch] $low |
	grep -v '^src/base/keyfile\.c:[0-9]*:#include <ini\.h>$' |
	grep -v '^src/core/svm\.c:[0-9]*:#include <linear\.h>$' |
	grep -v '^src/core/svr\.c:[0-9]*:#include <libsvm/svm\.h>$' |
	grep -v '^src/core/ridge\.c:[0-9]*:#include <lapacke\.h>$' >"$hl.lib"
if [ -s "$hl.lib" ]; then
	sed 's/^\([^:]*\):\([0-9]*\):\(.*\)/check-deps: \1 (base or core) includes a library header: line \2: \3/' "$hl.lib" >&2
	bad=1
fi
rm -f "$hl.lib"
[ "$bad" = 0 ] && echo "check-deps: ok"
exit "$bad"
