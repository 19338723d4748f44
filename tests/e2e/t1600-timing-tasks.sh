#!/bin/sh
# t1600: --timing records one row per task in results.h5 (/timing/tasks:
# task id, rank, seconds, cost guess, arrival, result bytes, keep, CPU
# seconds) and one
# per result message (/timing/messages); without --timing there is no
# /timing group, so results.h5 stays the same for any rank count; the
# scheduler simulator (bench/simulate.py) replays the recorded costs.
# docs/FORMAT.md "Timing", include/nidec/sched.h "Timing".
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"

test_expect_success 'convert face/cat' '
	nidec_n 1 convert $DATA_OPTS --conditions face,cat -o ds.h5 >/dev/null
'

test_expect_success '--timing, 2 ranks: /timing/tasks and /timing/messages' '
	nidec_n 2 cv ds.h5 $CONFIGS/tutorial-e-loro.ini -o out --timing --progress 0 \
		--set output.report=false --set cv.permutations=3 >/dev/null 2>&1 &&
	mv out t2 &&
	"$PYTHON" - t2/results.h5 <<-\EOF
	import sys, h5py, numpy as np
	with h5py.File(sys.argv[1], "r") as f:
	    g = f["timing"]
	    t = g["tasks"][()]
	    m = g["messages"][()]
	    a = dict(g.attrs)
	    n = 12 * 4  # 12 folds x (1 + 3 permutations)
	    assert t.dtype.names == ("task", "rank", "seconds", "cost", "done", "bytes", "keep", "cpu"), t.dtype
	    assert m.dtype.names == ("from", "results", "bytes", "seconds", "at"), m.dtype
	    assert len(t) == n and (t["task"] == np.arange(n)).all(), t["task"]
	    assert set(t["rank"]) <= {0, 1} and (t["seconds"] > 0).all() and (t["cost"] > 0).all()
	    assert (t["bytes"] > 0).all() and np.isfinite(t["done"]).all()
	    assert (t["cpu"] >= 0).all() and (t["cpu"] <= t["seconds"] + 0.05).all(), t["cpu"]
	    # the fold fits on the true labels carry the weights: rank 0 may keep them
	    assert list(np.nonzero(t["keep"])[0]) == list(range(12)), t["keep"]
	    assert a["ranks"] == 2 and a["messages"] == len(m) and a["rank0_works"] == 1
	    assert m["results"].sum() == (t["rank"] == 1).sum(), (m["results"].sum(), t["rank"])
	    assert a["max_message_bytes"] == m["bytes"].max() < 2**31
	    assert len(g["busy"]) == 2 and g["ran"][()].sum() == n
	print("timing tables: ok")
	EOF
'

test_expect_success 'without --timing: no /timing, the same outputs for 1 and 2 ranks' '
	for n in 1 2; do
		nidec_n $n cv ds.h5 $CONFIGS/tutorial-e-loro.ini -o out --progress 0 \
			--set output.report=false --set cv.permutations=3 >/dev/null 2>&1 &&
		mv out n$n || return 1
	done &&
	"$PYTHON" -c "
import h5py
for d in (\"n1\", \"n2\"):
    assert \"timing\" not in h5py.File(d + \"/results.h5\", \"r\"), d
" &&
	"$PYTHON" "$TESTS_DIR/e2e/same_outputs.py" n1 n2 &&
	for f in scores.tsv grid_scores.tsv predictions.tsv null_scores.tsv; do
		cmp n1/$f t2/$f || return 1
	done
'

test_expect_success 'bench/simulate.py replays the recorded tasks' '
	"$PYTHON" "$REPO_DIR/bench/simulate.py" t2/results.h5 --ranks 1,2,4,64 >sim &&
	grep -q "^simulate: check against the measured run: 2 ranks" sim &&
	grep -q "^ *64 " sim &&
	"$PYTHON" "$REPO_DIR/bench/simulate.py" t2/results.h5 --perms 30 --ranks 2,16 --markdown \
		--costs cpu >sim30 &&
	grep -q "372 tasks (30 permutations modelled from 3 measured), cpu seconds" sim30 &&
	grep -q "^| 16 | " sim30
'

test_done
