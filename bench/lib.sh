# bench/lib.sh - what the benchmark scripts share; sourced, after
# `here` and `repo` are set, with `bench_init NAME` first.
#
#   bench_init NAME   NIDEC (default build/nidec, must exist), PY, MPIRUN,
#                     Open MPI's settings for this machine, one BLAS thread;
#                     work = $BENCH_WORK (kept) or a temporary directory
#                     (removed at exit); log() prefixes "bench/NAME: "
#   load1             the 1-minute load average
#   bench_hello       $work/hello: an MPI program that only starts and ends
#   bench_run KEY CMD...
#                     runs CMD: $work/KEY.time (wall user sys of every
#                     process), KEY.out, KEY.err, KEY.load (load before and
#                     after); a failure prints the end of KEY.err and exits

bench_init() {
	bench_name=$1
	NIDEC=${NIDEC:-$repo/build/nidec}
	PY=${PYTHON:-/usr/bin/python3}
	MPIRUN=${MPIRUN:-mpirun}
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
	export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
	export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
	[ -x "$NIDEC" ] || { echo "bench/$bench_name.sh: no nidec at '$NIDEC'; run make first" >&2; exit 1; }
	if [ -n "${BENCH_WORK:-}" ]; then
		work=$BENCH_WORK
		mkdir -p "$work"
	else
		work=$(mktemp -d "${TMPDIR:-/tmp}/nidec-bench-$bench_name.XXXXXX")
		trap 'rm -rf "$work"' EXIT INT TERM
	fi
}

log() { echo "bench/$bench_name: $*" >&2; }
load1() { cut -d' ' -f1 /proc/loadavg; }

bench_hello() {
	printf '#include <mpi.h>\nint main(int c, char **v) { MPI_Init(&c, &v); MPI_Finalize(); return 0; }\n' \
		>"$work/hello.c"
	mpicc -O2 -o "$work/hello" "$work/hello.c"
}

bench_run() {
	key=$1
	shift
	l0=$(load1)
	/usr/bin/time -f "%e %U %S" -o "$work/$key.time" "$@" >"$work/$key.out" 2>"$work/$key.err" ||
		{ tail -n 20 "$work/$key.err" >&2; exit 1; }
	echo "$l0 $(load1)" >"$work/$key.load"
	log "$key: $(cat "$work/$key.time") (wall user sys), load $(cat "$work/$key.load")"
}
