#!/bin/sh
# t1250: the fast path reaches liblinear's solutions.  `solver = dcd` (the
# default: nidec's own dual coordinate descent, kernel or primal form by a
# documented rule, warm-started along the C grid) and `solver = liblinear`
# (Debian's liblinear train(), the reference path) fit the same problems:
# the bundled data in nested mode and in nilearn's mode (step e), and a
# near-chance synthetic 4-class subject with screening.  Wanted: the same
# fold scores, grid scores, chosen C and predicted labels, byte for byte;
# decision values within 1e-3 and weight maps within 1e-4 of their largest
# value.  Why those tolerances: both solvers stop on liblinear's rule (the
# spread of the projected gradient below eps = 0.1), from different starting
# points and in a different form, so their solutions agree only to that
# rule; measured differences are ~3e-5 (decisions) and ~1e-5 (weights).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"

# both DIR CONFIG [ARGS...]: run CONFIG with each solver into DIR-dcd and
# DIR-liblinear (2 ranks, no report; cvlib.sh's nidec_run on the bundled
# data, or the given config's own data for the synthetic subject)
both() {
	dir=$1 cfg=$2
	shift 2
	for s in dcd liblinear; do
		$MPIRUN -n 2 "$NIDEC" run "$cfg" --set output.dir="$dir-$s" --set model.solver=$s \
			--set output.report=false --progress 0 -q "$@" >/dev/null || return 1
	done
}

cat >"$TRASH/agree.py" <<'EOF'
import csv, glob, sys
import nibabel as nb, numpy as np
a, b = sys.argv[1], sys.argv[2]
def rows(p):
    return list(csv.DictReader(open(p), delimiter='\t'))
for f in ('scores.tsv', 'grid_scores.tsv'):
    assert open(a + '/' + f).read() == open(b + '/' + f).read(), f + ' differ'
pa, pb = rows(a + '/predictions.tsv'), rows(b + '/predictions.tsv')
assert [r['predicted'] for r in pa] == [r['predicted'] for r in pb], 'predicted labels differ'
dec = [c for c in pa[0] if c.startswith('decision')]
d = max(abs(float(x[c]) - float(y[c])) for x, y in zip(pa, pb) for c in dec)
assert d < 1e-3, 'decisions differ by %g' % d
maps = sorted(glob.glob(a + '/weights_*.nii.gz'))
assert maps
for f in maps:
    u = np.asarray(nb.load(f).dataobj, dtype=float)
    v = np.asarray(nb.load(f.replace(a, b, 1)).dataobj, dtype=float)
    if 'weights_std_' in f:
        continue
    rel = np.abs(u - v).max() / max(np.abs(u).max(), 1e-30)
    assert rel < 1e-4, '%s differs by %g of its largest weight' % (f, rel)
print('agree: max decision difference %.2g, %d maps' % (d, len(maps)))
EOF

test_expect_success 'bundled data, nested (the default mode): same scores, C, labels' '
	both nested $CONFIGS/haxby-slice.ini $DATA_OPTS --set data.dataset=ds.h5 &&
	"$PYTHON" agree.py nested-dcd nested-liblinear
'

test_expect_success 'bundled data, step e (compat = nilearn): same scores, C, labels' '
	both e $CONFIGS/tutorial-e-loro.ini $DATA_OPTS --set data.dataset=ds.h5 &&
	"$PYTHON" agree.py e-dcd e-liblinear
'

test_expect_success 'near-chance synthetic, 4 classes, screening 30 %: same scores, C, labels' '
	"$NIDEC" synth -o syn --dims 12x14x10 --runs 4 --volumes 40 --classes 4 \
		--signal 0.05 --seed 5 -q &&
	both syn syn/synth.ini --set preprocess.screening_percentile=30 &&
	"$PYTHON" agree.py syn-dcd syn-liblinear &&
	"$PYTHON" -c "
import csv
s = [float(r[\"score\"]) for r in csv.DictReader(open(\"syn-dcd/scores.tsv\"), delimiter=\"\t\")]
m = sum(s) / len(s)
assert 0.45 < m < 0.65, \"not near chance: %g\" % m
"
'

test_done
