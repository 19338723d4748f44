#!/bin/sh
# t0170: HDF5 files on a file system without working file locks (NFS
# without lockd, some Lustre mounts, Cray DVS: flock fails with errno 37 or
# 524, h5py#1082, hdf5#3311).  A preloaded flock() that always fails
# ENOLCK stands in for such a file system.  nidec opens and creates its
# HDF5 files without a lock (src/io/h5w.h "File locks"), so convert, run,
# info and report work there; HDF5_USE_FILE_LOCKING, read by HDF5, still
# decides when set: TRUE makes the same commands fail on the lock, FALSE
# and BEST_EFFORT let them work (README "Shared file systems").
. "$(dirname "$0")/../lib.sh"

CC_PLAIN=${PLAIN_CC:-cc}
# under ASan (make SANITIZE=...) its runtime must come first in the preload
ASAN_RT=$(ldd "$NIDEC" 2>/dev/null | awk '/libasan/ { print $3; exit }')
PRELOAD="${ASAN_RT:+$ASAN_RT }$TRASH/noflock.so"

test_expect_success 'setup: a flock() that fails like NFS without lockd, a subject' '
	cat >noflock.c <<-\EOF &&
	#include <errno.h>
	#include <sys/file.h>
	int flock(int fd, int op)
	{
		(void)fd;
		(void)op;
		errno = ENOLCK;
		return -1;
	}
	EOF
	$CC_PLAIN -shared -fPIC -o noflock.so noflock.c &&
	"$NIDEC" synth -q -o sub --dims 8x8x8 --runs 3 --volumes 30 --classes 2 --seed 3 &&
	test_must_fail env LD_PRELOAD=$PWD/noflock.so flock -n noflock.c true
'

test_expect_success 'without locks: convert, run (one process), info and report work' '
	LD_PRELOAD="$PRELOAD" "$NIDEC" run sub/synth.ini -q --progress 0 --set output.dir=out >/dev/null &&
	test -s out/results.h5 && test -s out/model.h5 && test -s out/report.html &&
	LD_PRELOAD="$PRELOAD" "$NIDEC" info out/dataset.h5 >info &&
	grep -q "samples" info &&
	LD_PRELOAD="$PRELOAD" "$NIDEC" report out >/dev/null
'

test_expect_success 'without locks: two ranks read the dataset' '
	$MPIRUN -n 2 -x "LD_PRELOAD=$PRELOAD" "$NIDEC" run sub/synth.ini -q --progress 0 \
		--set output.dir=out2 --set output.report=false >/dev/null &&
	cmp out/scores.tsv out2/scores.tsv
'

test_expect_success 'HDF5_USE_FILE_LOCKING=TRUE is respected: the lock is taken, and fails here' '
	test_must_fail env "LD_PRELOAD=$PRELOAD" HDF5_USE_FILE_LOCKING=TRUE "$NIDEC" info out/dataset.h5 2>err &&
	cat err && grep -q "out/dataset.h5" err
'

test_expect_success 'HDF5_USE_FILE_LOCKING=FALSE and BEST_EFFORT work' '
	LD_PRELOAD="$PRELOAD" HDF5_USE_FILE_LOCKING=FALSE "$NIDEC" info out/dataset.h5 >/dev/null &&
	HDF5_USE_FILE_LOCKING=BEST_EFFORT "$NIDEC" info out/dataset.h5 >/dev/null
'

test_done
