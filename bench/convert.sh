#!/bin/sh
# bench/convert.sh - how fast `nidec convert` turns a full-size synthetic
# subject (40x64x64 voxels, 12 runs x 121 volumes, int16 .nii.gz) into a
# dataset, against the floor of just decompressing the same inputs
# (`gzip -dc ... >/dev/null`), and its peak memory (/usr/bin/time -v).
#
#   NIDEC=build/nidec sh bench/convert.sh [WORKDIR] [REPEATS]
#
# Prints one line per measurement and a summary:
#   convert: N s (best of R), gzip -dc: G s, ratio N/G, peak RSS M MiB
# WORKDIR (default: a new temporary directory, removed at the end) keeps
# the synthetic subject between runs when given.
set -eu
: "${NIDEC:=build/nidec}"
NIDEC=$(cd "$(dirname "$NIDEC")" && pwd)/$(basename "$NIDEC")
work=${1:-}
repeats=${2:-3}
cleanup=0
if [ -z "$work" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/nidec-bench-convert.XXXXXX")
	cleanup=1
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none

# wall seconds of a command (stdout/stderr discarded)
wall() {
	s=$(date +%s.%N)
	"$@" >/dev/null 2>&1
	e=$(date +%s.%N)
	echo "$s $e" | awk '{ printf "%.3f", $2 - $1 }'
}
best() { tr ' ' '\n' | grep . | sort -g | head -n 1; }

sub=$work/sub-01
if [ ! -f "$sub/synth.ini" ]; then
	echo "synth: writing the full-size subject to $sub" >&2
	t=$(wall "$NIDEC" synth -o "$sub" --dims 40x64x64 --runs 12 --volumes 121 --classes 8)
	echo "synth: ${t}s" >&2
fi
bold=$(ls "$sub"/*_bold.nii.gz)
in_bytes=$(cat $bold | wc -c)
raw_bytes=$(for f in $bold; do gzip -dc "$f"; done | wc -c)

g_all=""
c_all=""
rss_max=0
for r in $(seq "$repeats"); do
	g=$(wall sh -c "for f in $(echo $bold); do gzip -dc \"\$f\"; done >/dev/null")
	g_all="$g_all $g"
	/usr/bin/time -v "$NIDEC" convert "$sub/synth.ini" -o "$work/ds.h5" --force -q \
		2>"$work/time.txt" >/dev/null
	c=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
		for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.3f", s }' "$work/time.txt")
	rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
	[ "$rss" -gt "$rss_max" ] && rss_max=$rss
	c_all="$c_all $c"
	echo "run $r: gzip -dc ${g}s, convert ${c}s, peak RSS $((rss / 1024)) MiB" >&2
done
reuse=$(wall "$NIDEC" convert "$sub/synth.ini" -o "$work/ds.h5")
ds_bytes=$(wc -c <"$work/ds.h5")
g=$(echo "$g_all" | best)
c=$(echo "$c_all" | best)
"$NIDEC" info "$work/ds.h5" | awk '/^samples +[0-9]/ { s = $2 } /^voxels +[0-9]/ { v = $2 }
	END { printf "%s samples x %s voxels", s, v }' >"$work/shape"
echo "inputs: 12 runs x 121 volumes of 40x64x64 int16, $((in_bytes / 1048576)) MiB gzip, $((raw_bytes / 1048576)) MiB raw; dataset $((ds_bytes / 1048576)) MiB ($(cat "$work/shape"))"
echo "$c $g $rss_max $reuse" | awk '{ printf "convert: %.2f s (best of '"$repeats"'), gzip -dc: %.2f s, ratio %.2f, peak RSS %.0f MiB; reuse check (hash only): %.2f s\n", $1, $2, $1 / $2, $3 / 1024, $4 }'
[ "$cleanup" = 1 ] && rm -rf "$work"
exit 0
