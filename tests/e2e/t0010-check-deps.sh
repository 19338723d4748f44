#!/bin/sh
# t0010: `make check-deps` (tests/check-deps.sh) passes on the tree and
# fails, naming the file and the rule, on a copy with a deliberately wrong
# include: a core file including a par header (up a layer), report and par
# including each other (same rank), an include cycle between two headers,
# a private header of another directory, mpi.h outside src/par, a library
# header in src/base.
. "$(dirname "$0")/../lib.sh"

# broken WHAT: a copy of src/ and include/ in $WHAT/ (then edited)
broken() {
	rm -rf "$1" && mkdir "$1" &&
	cp -r "$REPO_DIR/src" "$REPO_DIR/include" "$1/"
}

# fails_with DIR TEXT: check-deps fails on DIR and says TEXT
fails_with() {
	if sh "$TESTS_DIR/check-deps.sh" "$1" >out 2>err; then
		say "check-deps passed on $1"; return 1
	fi
	cat err && grep -q -- "$2" err
}

test_expect_success 'the tree itself passes' '
	sh "$TESTS_DIR/check-deps.sh" "$REPO_DIR" >out 2>&1 &&
	grep -q "check-deps: ok" out
'

test_expect_success 'core including a par header fails (up a layer)' '
	broken up &&
	sed -i "0,/#include \"nidec\\/mem.h\"/s//#include \"nidec\\/mem.h\"\\n#include \"nidec\\/sched.h\"/" up/src/core/plan.c &&
	fails_with up "src/core/plan.c (core) includes nidec/sched.h of a higher layer (par)"
'

test_expect_success 'report including a par header fails (same rank, other layer)' '
	broken side &&
	sed -i "0,/#include \"nidec\\/mem.h\"/s//#include \"nidec\\/mem.h\"\\n#include \"nidec\\/comm.h\"/" side/src/report/report.c &&
	fails_with side "src/report/report.c (report) includes nidec/comm.h of the layer par"
'

test_expect_success 'two headers including each other fail (a cycle)' '
	broken cycle &&
	sed -i "0,/#include \"nidec\\/err.h\"/s//#include \"nidec\\/err.h\"\\n#include \"nidec\\/plan.h\"/" cycle/include/nidec/result.h &&
	fails_with cycle "include cycle: .*plan.*result\\|include cycle: .*result.*plan"
'

test_expect_success 'a private header of another directory fails' '
	broken private &&
	sed -i "0,/#include \"nidec\\/mem.h\"/s//#include \"nidec\\/mem.h\"\\n#include \"..\\/core\\/plan_int.h\"/" private/src/io/results.c &&
	fails_with private "a private header of another directory"
'

test_expect_success 'mpi.h outside src/par fails' '
	broken mpi &&
	sed -i "0,/#include <string.h>/s//#include <string.h>\\n#include <mpi.h>/" mpi/src/job/job.c &&
	fails_with mpi "src/job/job.c includes mpi.h"
'

test_expect_success 'a library header in src/base fails' '
	broken lib &&
	sed -i "0,/#include <string.h>/s//#include <string.h>\\n#include <jansson.h>/" lib/src/base/sbuf.c &&
	fails_with lib "src/base/sbuf.c (base or core) includes a library header"
'

test_done
