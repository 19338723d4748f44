#!/bin/sh
# bench/clean.sh - what signal cleaning costs (issue 17): `nidec convert` of a
# full-size synthetic fMRIPrep subject (40x64x64 voxels, ~30,000 in the
# mask, 12 runs x 121 volumes, int16 .nii.gz, `nidec synth --layout
# fmriprep`) without cleaning and with detrend + high_pass 0.01 Hz + 24
# confounds (confounds_strategy = motion:full) + 6 mm smoothing, measured
# side by side (alternating, --force each time), REPEATS times each.
#
#   NIDEC=build/nidec sh bench/clean.sh [WORKDIR] [REPEATS]
#
# Measure on a quiet machine: it prints the load average first and warns
# when it is 1.5 or more.  Prints each run, then:
#   convert: P s, with cleaning: C s (medians, wall); cleaning costs C - P s
#   = X of the convert time; CPU (user + sys): p s and c s
# The budget (issue 17): cleaning costs at most 1.5x the convert time.
set -eu
: "${NIDEC:=build/nidec}"
NIDEC=$(cd "$(dirname "$NIDEC")" && pwd)/$(basename "$NIDEC")
work=${1:-}
repeats=${2:-5}
cleanup=0
if [ -z "$work" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/nidec-bench-clean.XXXXXX")
	cleanup=1
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none

load=$(cut -d ' ' -f 1 /proc/loadavg)
echo "load average: $load"
if awk "BEGIN { exit !($load >= 1.5) }"; then
	echo "warning: the machine is busy (load $load >= 1.5): the figures are not trustworthy" >&2
fi

sub=$work/fmriprep
if [ ! -f "$sub/synth.ini" ]; then
	echo "synth: writing the full-size subject to $sub" >&2
	"$NIDEC" synth -o "$sub" --layout fmriprep --dims 40x64x64 --runs 12 --volumes 121 \
		--classes 8 --mask-fraction 0.18 -q
fi
CLEAN="--set clean.detrend=true --set clean.high_pass=0.01 --set clean.confounds_strategy=motion:full --set clean.smoothing_fwhm=6"

# run NAME ARGS...: wall and CPU seconds of one conversion
run() {
	name=$1
	shift
	/usr/bin/time -f "%e %U %S" -o "$work/time" "$NIDEC" convert "$sub/synth.ini" -o "$work/$name.h5" --force -q "$@"
	read -r wall user sys <"$work/time"
	cpu=$(echo "$user $sys" | awk '{ printf "%.2f", $1 + $2 }')
	echo "$name: ${wall} s wall, ${cpu} s CPU"
	echo "$wall $cpu" >>"$work/$name.times"
}
rm -f "$work/plain.times" "$work/clean.times"
i=0
while [ $i -lt "$repeats" ]; do
	run plain
	# shellcheck disable=SC2086
	run clean $CLEAN
	i=$((i + 1))
done
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
pw=$(cut -d ' ' -f 1 "$work/plain.times" | median)
cw=$(cut -d ' ' -f 1 "$work/clean.times" | median)
pc=$(cut -d ' ' -f 2 "$work/plain.times" | median)
cc=$(cut -d ' ' -f 2 "$work/clean.times" | median)
voxels=$("$NIDEC" info "$work/clean.h5" | awk '$1 == "voxels" { print $2 }')
confounds=$(/usr/bin/python3 -c "import h5py; print(len(h5py.File('$work/clean.h5').attrs['confound_columns']))" 2>/dev/null || echo "?")
echo "subject: 12 runs x 121 volumes, $voxels voxels, $confounds confounds"
echo "$pw $cw $pc $cc" | awk '{
	printf "convert: %.2f s, with cleaning: %.2f s (medians, wall); cleaning costs %.2f s = %.2fx the convert time (total %.2fx)\n", $1, $2, $2 - $1, ($2 - $1) / $1, $2 / $1
	printf "CPU (user + sys): %.2f s and %.2f s; cleaning costs %.2fx the convert time\n", $3, $4, ($4 - $3) / $3 }'
if [ "$cleanup" = 1 ]; then
	rm -rf "$work"
fi
