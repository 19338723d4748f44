#!/bin/sh
# bench/run.sh - every benchmark, one after the other (make bench-all;
# make bench runs bench/workloads.sh alone).
# Each script prints its own table and says where it records figures
# (bench/RESULTS.md holds the figures of the last recorded run).
set -eu
: "${NIDEC:?NIDEC must point at build/nidec}"
here=$(cd "$(dirname "$0")" && pwd)
for b in convert clean cv perf permutations workloads searchlight regression cluster; do
	if [ -f "$here/$b.sh" ]; then
		echo "== bench/$b.sh"
		NIDEC=$NIDEC sh "$here/$b.sh"
	fi
done
