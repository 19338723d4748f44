#!/bin/sh
# t4050-report-sections: `nidec report` on a results directory made here
# with Python (files in the format src/io/results.c and model.c write), so the report
# is tested on its own: every section present, images inlined as valid
# PNG data: URIs, nothing loaded from the network, no script; each missing
# file turns its section into "not available" and the page is still
# written; bad directories and paths fail clearly and leave no file.
. "$(dirname "$0")/../lib.sh"

D=$NIDEC_TEST_DATA

if ! "$PYTHON" -c 'import PIL, nibabel, numpy' 2>/dev/null; then
	test_skip 'report checks' 'needs python3-pil, python3-nibabel and python3-numpy'
	test_done
	exit
fi

cat >"$TRASH/fixture.py" <<'EOF'
# A results directory as `nidec run` writes it (include/nidec/results.h),
# with made-up numbers: 12 leave-one-run-out folds of face vs cat.
import json, sys, os, numpy as np, nibabel as nb
out, data = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)
mask = nb.load(os.path.join(data, 'mask.nii.gz'))
m = np.asarray(mask.dataobj) != 0
w = np.where(m, rng.normal(0, 0.05, m.shape), 0).astype(np.float32)
sd = np.where(m, np.abs(rng.normal(0.02, 0.01, m.shape)), 0).astype(np.float32)
for k, sign in (('cat', -1), ('face', 1)):
    nb.save(nb.Nifti1Image(sign * w, mask.affine), os.path.join(out, 'weights_%s.nii.gz' % k))
    nb.save(nb.Nifti1Image(sd, mask.affine), os.path.join(out, 'weights_std_%s.nii.gz' % k))
lab = [l.split() for l in open(os.path.join(data, 'labels.txt')).read().split('\n')[1:] if l.strip()]
sel = [(i, l, int(c)) for i, (l, c) in enumerate(lab) if l in ('face', 'cat')]
folds, C = 12, [1, 10, 100]
score = np.clip(rng.normal(0.85, 0.08, folds), 0, 1)
with open(os.path.join(out, 'scores.tsv'), 'w') as f:
    f.write('class\tfold\tC\tscore\tinner_score\n')
    for k in ('cat', 'face'):
        for fo in range(folds):
            f.write('%s\t%d\t%g\t%.17g\t%.17g\n' % (k, fo, C[fo % 3], score[fo], score[fo] - 0.02))
with open(os.path.join(out, 'grid_scores.tsv'), 'w') as f:
    f.write('class\tfold\tC\tscore\tinner_score\n')
    for k in ('cat', 'face'):
        for fo in range(folds):
            for c in C:
                f.write('%s\t%d\t%g\t%.17g\t%.17g\n' % (k, fo, c, score[fo] - 0.01 * C.index(c), score[fo] - 0.02))
conf = [[0, 0], [0, 0]]
with open(os.path.join(out, 'predictions.tsv'), 'w') as f:
    f.write('sample\trun\tfold\ttrue\tpredicted\tdecision\n')
    for s, (i, l, c) in enumerate(sel):
        d = rng.normal(1 if l == 'face' else -1, 1)
        p = 'face' if d > 0 else 'cat'
        conf[l == 'face'][p == 'face'] += 1
        f.write('%d\t%d\t%d\t%s\t%s\t%.17g\n' % (s, c, c, l, p, d))
json.dump(conf, open(os.path.join(out, '..', 'expected_confusion.json'), 'w'))
summary = {
  "nidec_version": "0.1.0 (fixture)", "classes": ["cat", "face"], "keys": ["cat", "face"],
  "n_samples": len(sel), "n_voxels": int(m.sum()), "n_folds": folds, "scheme": "leave-one-run-out",
  "inner_scheme": "leave-one-run-out", "selection": "nested", "scoring": "roc_auc", "estimator": "svc",
  "compat": "none", "C_grid": C,
  "scores": {k: {"mean": float(score.mean()), "std": float(score.std()), "folds": score.tolist(),
                 "chosen_C": [C[fo % 3] for fo in range(folds)], "inner_mean": float(score.mean() - 0.02),
                 "inner_folds": (score - 0.02).tolist(), "p_value": 0.004975} for k in ("cat", "face")},
  "mean_score": float(score.mean()), "n_predictions": len(sel), "multiclass_accuracy": 0.8,
  "confusion_matrix": {"classes": ["cat", "face"], "rows": "true class", "columns": "predicted class", "counts": conf},
  "permutations": {"n": 200, "p_value_mean": 0.004975,
                   "null_scores": [[float(x), float(x)] for x in rng.normal(0.5, 0.05, 200)]},
  "config": "[data]\nbold = %s/bold.nii.gz\nmask = %s/mask.nii.gz\nlabels = %s/labels.txt\nconditions = face, cat\n[cv]\nscheme = leave-one-run-out\n" % (data, data, data),
  "provenance": {"nidec_version": "0.1.0 (fixture)", "command_line": "nidec run configs/haxby-slice.ini <&>",
                 "dataset": "", "dataset_inputs_sha256": "0" * 64, "seed": 0, "ranks": 2, "mpi": "Open MPI",
                 "hdf5": "HDF5 1.10.8", "jansson": "2.14", "liblinear": "230"},
  "timing": {"wall_seconds": 1.25, "parallel_efficiency": 0.91,
             "ranks": [{"rank": 0, "busy_seconds": 0.6, "tasks": 200}, {"rank": 1, "busy_seconds": 0.62, "tasks": 196}],
             "stages": {"read": {"min": 0.01, "max": 0.012, "mean": 0.011}, "cv": {"min": 1.1, "max": 1.2, "mean": 1.15}}},
}
json.dump(summary, open(os.path.join(out, 'summary.json'), 'w'), indent=1)
EOF

cat >"$TRASH/check_html.py" <<'EOF'
# Independent checks of report.html: structure, inlined PNGs, no network.
import base64, io, re, sys, html.parser
from PIL import Image
page = open(sys.argv[1], encoding='utf-8').read()
want_imgs = int(sys.argv[2])
want_sections = sys.argv[3].split(',') if len(sys.argv) > 3 and sys.argv[3] else []

class P(html.parser.HTMLParser):
    def __init__(s):
        super().__init__(); s.imgs = []; s.ids = []; s.refs = []; s.scripts = 0; s.stack = []
    def handle_starttag(s, tag, attrs):
        a = dict(attrs)
        if tag == 'img': s.imgs.append(a)
        if tag == 'script': s.scripts += 1
        if tag == 'section': s.ids.append(a.get('id'))
        for k in ('src', 'href', 'srcset', 'data', 'action', 'poster'):
            if k in a: s.refs.append((tag, k, a[k]))
p = P(); p.feed(page)
assert page.startswith('<!DOCTYPE html>'), 'not an HTML5 page'
assert p.scripts == 0 and 'javascript:' not in page.lower(), 'the page has a script'
assert "default-src 'none'" in page, 'no Content-Security-Policy'
for tag, k, v in p.refs:
    assert v.startswith('data:') or v.startswith('#'), 'external reference %s %s=%s' % (tag, k, v[:60])
assert not re.search(r'url\((?!data:)', page), 'CSS loads a URL'
assert len(p.imgs) == want_imgs, 'found %d images, want %d' % (len(p.imgs), want_imgs)
for a in p.imgs:
    src = a['src']
    assert src.startswith('data:image/png;base64,'), src[:40]
    raw = base64.b64decode(src.split(',', 1)[1], validate=True)
    im = Image.open(io.BytesIO(raw)); im.verify()
    im = Image.open(io.BytesIO(raw))
    assert (im.width, im.height) == (int(a['width']), int(a['height'])), (im.size, a['width'], a['height'])
    assert a.get('alt'), 'image without alt text'
for s in want_sections:
    assert s in p.ids, 'section %s missing (have %s)' % (s, p.ids)
print('html ok: %d images, sections %s' % (len(p.imgs), ','.join(p.ids)))
EOF

ALL=provenance,dataset,images,weights,scores,confusion,permutations,timing

test_expect_success 'setup: a results directory made with Python' '
	"$PYTHON" fixture.py res "$D" && test -f res/summary.json
'

test_expect_success 'report: every section, 6 inlined PNGs, nothing external' '
	$NIDEC report res >out &&
	test "$(cat out)" = "res/report.html" &&
	"$PYTHON" check_html.py res/report.html 6 $ALL &&
	! ls res/.*.tmp-* 2>/dev/null
'

test_expect_success 'report: numbers from the files (scores, C, confusion, p-value)' '
	grep -q "cat vs face" res/report.html &&
	grep -q "roc_auc" res/report.html &&
	grep -q "p-value of the mean score: <b>0.004975</b>" res/report.html &&
	grep -q "chance (0.5)" res/report.html &&
	grep -q "test runs" res/report.html &&
	"$PYTHON" -c "
import json, re
c = json.load(open(\"expected_confusion.json\"))
page = open(\"res/report.html\").read()
cells = re.findall(r\"<td style=\\\"background:[^\\\"]*\\\">(\d+)</td>\", page)
assert [int(x) for x in cells] == c[0] + c[1], (cells, c)
"
'

test_expect_success 'report: HTML special characters are escaped' '
	grep -q "configs/haxby-slice.ini &lt;&amp;&gt;" res/report.html
'

test_expect_success 'report: -o writes elsewhere, same page' '
	$NIDEC report res -o other.html &&
	cmp res/report.html other.html
'

test_expect_success 'report: the dataset section falls back to predictions.tsv' '
	grep -q "counts below are those of the test samples in predictions.tsv" res/report.html
'

test_expect_success 'report: without summary.json, sections degrade' '
	cp -r res nosum && rm nosum/summary.json nosum/report.html &&
	$NIDEC report nosum 2>err &&
	"$PYTHON" check_html.py nosum/report.html 4 $ALL &&
	grep -q "not available: &#39;summary.json&#39; is not in the results directory" nosum/report.html &&
	grep -q "Scores per fold" nosum/report.html && grep -q "<svg" nosum/report.html
'

test_expect_success 'report: without weight maps, the weights section says so' '
	cp -r res now && rm now/weights_*.nii.gz now/report.html &&
	$NIDEC report now &&
	"$PYTHON" check_html.py now/report.html 2 $ALL &&
	grep -q "not available: &#39;weights_face.nii.gz&#39; is not in the results directory" now/report.html
'

test_expect_success 'report: without predictions.tsv, confusion from summary.json' '
	cp -r res nopred && rm nopred/predictions.tsv nopred/report.html &&
	$NIDEC report nopred &&
	grep -q "From summary.json" nopred/report.html
'

test_expect_success 'report: a broken summary.json is a warning, not a failure' '
	cp -r res badjson && echo "{ nope" >badjson/summary.json &&
	$NIDEC report badjson 2>err &&
	grep -q "summary.json" err &&
	grep -q "not available" badjson/report.html
'

test_expect_success 'report: only weight maps is enough for a page' '
	mkdir onlyw && cp res/weights_face.nii.gz onlyw/ &&
	$NIDEC report onlyw &&
	"$PYTHON" check_html.py onlyw/report.html 1 $ALL
'

test_expect_error 'report: an empty directory is refused' 1 "holds no nidec results" '
	mkdir -p empty && $NIDEC report empty'
test_expect_success 'report: nothing written into the empty directory' '! test -e empty/report.html'

# A real run: convert stores the mean EPI in dataset.h5 (its values are
# checked against nibabel by tests/oracle/convert_nibabel.py, t0100), and
# the report draws it from there: it does not read the 4D series again,
# and still has its pictures when the BOLD input is gone (scratch purged).
test_expect_success 'report: the mean EPI comes from the dataset, also with the BOLD file gone' '
	mkdir moved && cp "$D/bold.nii.gz" "$D/mask.nii.gz" "$D/labels.txt" moved/ &&
	$NIDEC run "$REPO_DIR/configs/haxby-slice.ini" -q --progress 0 --set data.bold=moved/bold.nii.gz \
		--set data.mask=moved/mask.nii.gz --set data.labels=moved/labels.txt \
		--set output.dir=real >/dev/null &&
	grep -q "stored in &#39;real/dataset.h5&#39; when it was converted" real/report.html &&
	rm moved/bold.nii.gz &&
	$NIDEC report real >out 2>err &&
	! grep -q "warning" err &&
	grep -q "stored in &#39;real/dataset.h5&#39; when it was converted" real/report.html &&
	"$PYTHON" check_html.py real/report.html 4 provenance,dataset,images,weights,scores,confusion
'

# The stored image is the mean the report computes from the BOLD files itself
# (an older dataset has none): the pictures must be the same bytes.
test_expect_success 'report: the stored mean EPI draws the same pictures as the BOLD files' '
	cp "$D/bold.nii.gz" moved/ && cp real/report.html stored.html &&
	"$PYTHON" -c "import h5py, sys; f = h5py.File(sys.argv[1], \"r+\"); del f[\"mean_epi\"]; f.close()" \
		real/dataset.h5 &&
	$NIDEC report real -o computed.html >/dev/null &&
	grep -q "mean over time of .*moved/bold.nii.gz" computed.html &&
	! grep -q "when it was converted" computed.html &&
	grep -o "data:image/png;base64,[A-Za-z0-9+/=]*" stored.html >a &&
	grep -o "data:image/png;base64,[A-Za-z0-9+/=]*" computed.html >b &&
	test -s a && cmp a b
'

test_expect_error 'report: a missing directory is refused' 1 "cannot read results directory 'nope'" '
	$NIDEC report nope'

test_expect_error 'report: an unwritable output path' 1 "cannot write 'no-such-dir/r.html'" '
	$NIDEC report res -o no-such-dir/r.html'

test_expect_error 'report: a --dataset that cannot be opened' 1 "missing.h5" '
	$NIDEC report res --dataset missing.h5 -o ds.html'
test_expect_success 'report: no page after the dataset error' '! test -e ds.html'

test_expect_success 'report: failing allocations (NIDEC_FAIL_ALLOC=1,3,..,45) fail cleanly' '
	n=1 &&
	while [ $n -le 45 ]; do
		rm -f fa.html &&
		rc=0 && NIDEC_FAIL_ALLOC=$n $NIDEC report res -o fa.html >/dev/null 2>fa.err || rc=$? &&
		case $rc in
		0) test -f fa.html ;;
		1) ! test -e fa.html && grep -q "nidec: error: " fa.err ;;
		*) echo "NIDEC_FAIL_ALLOC=$n: exit $rc"; cat fa.err; exit 1 ;;
		esac || { echo "NIDEC_FAIL_ALLOC=$n: exit $rc, file state wrong"; exit 1; }
		n=$((n + 2))
	done
'

test_expect_error 'report: no directory is a usage error' 2 "needs a results directory" '
	$NIDEC report'

test_done
