#!/bin/sh
# tests/check-deps.sh - the layering rules of STYLE.md, checked by grep:
#   mpi.h only in src/par/*.c and src/cli/main.c;
#   hdf5.h only in src/io/*.c (never in a header);
#   linear.h only in src/core/svm.c;
#   src/core includes no MPI, HDF5 or NIfTI header; src/base only libc, C11 and
#   POSIX headers (+ ini.h in cfg.c).
set -u
cd "$(dirname "$0")/.."
bad=0
fail() { echo "check-deps: $*" >&2; bad=1; }
for f in $(grep -rl '#include <mpi.h>' src include 2>/dev/null); do
	case $f in src/par/*.c|src/cli/main.c) ;; *) fail "$f includes mpi.h (only src/par and src/cli/main.c may)";; esac
done
for f in $(grep -rl '#include <hdf5.h>\|#include "hdf5.h"' src include 2>/dev/null); do
	case $f in src/io/*.c) ;; *) fail "$f includes hdf5.h (only src/io/*.c may)";; esac
done
for f in $(grep -rl '#include <linear.h>' src include 2>/dev/null); do
	case $f in src/core/svm.c) ;; *) fail "$f includes linear.h (only src/core/svm.c may)";; esac
done
for f in $(grep -l 'nifti\|hdf5\|mpi.h\|nidec/comm.h\|nidec/dataset.h\|nidec/nii.h' src/core/*.c 2>/dev/null); do
	grep -q '#include.*\(nifti\|hdf5\|mpi.h\|nidec/comm.h\|nidec/dataset.h\|nidec/nii.h\)' "$f" && fail "$f (core) includes an MPI, HDF5 or NIfTI header"
done
for f in src/base/*.c; do
	grep -h '#include' "$f" | grep -v '#include <\(ctype\|errno\|math\|stdarg\|stddef\|stdint\|stdio\|stdlib\|string\|time\|limits\|stdatomic\|signal\|fcntl\|unistd\|sys/stat\|sys/types\|ini\)\.h>' | grep -v '#include "nidec/' | grep -q . && fail "$f (base) includes something other than libc, inih and nidec/"
done
[ "$bad" = 0 ] && echo "check-deps: ok"
exit "$bad"
