#!/bin/sh
# t4000-plot: `nidec plot epi|roi|stat` on the bundled Haxby slice, the PNGs
# checked by an independent reader (Python PIL + nibabel, and pngcheck when
# installed): valid, the expected aspect ratio, not blank, and every pixel
# of a panel showing what the voxel under it holds (mask fill where the
# mask is 1 and nowhere else; map colours by sign; the subject's left on
# the left).  Then bad input: clear error, exit 1, no output file.
. "$(dirname "$0")/../lib.sh"

D=$NIDEC_TEST_DATA

if ! "$PYTHON" -c 'import PIL, nibabel, numpy' 2>/dev/null; then
	test_skip 'plot checks' 'needs python3-pil, python3-nibabel and python3-numpy (apt-get install python3-pil python3-nibabel)'
	test_done
	exit
fi

# The independent checker: maps each pixel of each panel back to a voxel
# with nibabel's affine and the panel geometry the PNG declares in its tEXt
# chunks (plot.h), and compares colours with voxel values.
cat >"$TRASH/check.py" <<'EOF'
import sys, numpy as np, nibabel as nb
from PIL import Image

def load(path):
    im = Image.open(path)
    im.verify()                       # CRC and structure
    im = Image.open(path)
    text = dict(im.text)
    return np.asarray(im.convert('RGBA')).astype(int), text

def panels(text):
    out = []
    for k in sorted(t for t in text if t.startswith('nidec:panel')):
        f = text[k].split()
        out.append(dict(x0=int(f[0]), y0=int(f[1]), w=int(f[2]), h=int(f[3]), u0=float(f[4]),
                        v1=float(f[5]), s=float(f[6]), view=f[7], cut=float(f[8])))
    return out

AX = {'axial': (0, 1, 2), 'coronal': (0, 2, 1), 'sagittal': (1, 2, 0)}

def world(p, c, r):
    u = p['u0'] + (c + 0.5) / p['s']; v = p['v1'] - (r + 0.5) / p['s']
    iu, iv, inn = AX[p['view']]
    w = np.zeros(c.shape + (3,)); w[..., iu] = u; w[..., iv] = v; w[..., inn] = p['cut']
    return w

def sample(img, data, w):
    """nearest-neighbour voxel value at world points (NaN outside)."""
    inv = np.linalg.inv(img.affine)
    ijk = np.rint(w @ inv[:3, :3].T + inv[:3, 3]).astype(int)
    ok = np.all((ijk >= 0) & (ijk < np.array(data.shape[:3])), axis=-1)
    out = np.full(w.shape[:-1], np.nan)
    q = ijk[ok]
    out[ok] = data[q[:, 0], q[:, 1], q[:, 2]]
    return out

def grid(p):
    r, c = np.mgrid[0:p['h'], 0:p['w']]
    return c, r

def common(path, want_view, n_panels=None):
    px, text = load(path)
    ps = panels(text)
    assert ps, 'no nidec:panel text chunks'
    assert text.get('Description', '').startswith('neurological'), 'convention not declared'
    for p in ps:
        assert p['view'] == want_view, p
        assert p['x0'] + p['w'] <= px.shape[1] and p['y0'] + p['h'] <= px.shape[0], 'panel outside the image'
    if n_panels is not None:
        assert len(ps) == n_panels, (len(ps), n_panels)
    # not blank: many colours, some bright and some dark pixels
    flat = px[..., :3].reshape(-1, 3)
    assert len(np.unique(flat, axis=0)) > 8, 'image has almost no colours'
    assert flat.max() > 150 and flat.min() < 30, 'image is blank'
    assert (px[..., 3] == 255).all(), 'figure is not opaque'
    return px, ps

def crop(px, p):
    return px[p['y0']:p['y0'] + p['h'], p['x0']:p['x0'] + p['w'], :3]

kind = sys.argv[1]
if kind == 'aspect':
    # axial panel of the Haxby slice: 40 x 3.1 mm wide, 20 x 3.75 mm high
    path, img = sys.argv[2], nb.load(sys.argv[3])
    px, ps = common(path, 'axial', 1)
    p = ps[0]
    zooms = img.header.get_zooms()[:3]
    want = img.shape[0] * zooms[0] / (img.shape[1] * zooms[1])
    got = p['w'] / p['h']
    assert abs(got - want) < 0.02 * want, 'aspect %.4f, want %.4f' % (got, want)
    assert abs(p['w'] - img.shape[0] * zooms[0] * p['s']) <= 1.01, (p, zooms)
    print('aspect ok: %dx%d px for %.1fx%.1f mm' % (p['w'], p['h'], img.shape[0] * zooms[0], img.shape[1] * zooms[1]))
elif kind == 'epi':
    path, img = sys.argv[2], nb.load(sys.argv[3])
    data = np.asarray(img.dataobj, dtype=float)
    mean = data.mean(axis=3) if data.ndim == 4 else data
    px, ps = common(path, sys.argv[4])
    for p in ps:
        a = crop(px, p)
        assert (a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all(), 'epi panel is not grey'
        c, r = grid(p)
        val = sample(img, mean, world(p, c, r))
        inside = np.isfinite(val) & (val != 0)
        if inside.sum() > 20:
            cc = np.corrcoef(val[inside], a[..., 0][inside])[0, 1]
            assert cc > 0.9, 'grey levels do not follow the mean EPI (r=%.3f)' % cc
        assert (a[..., 0][~np.isfinite(val)] == 0).all(), 'pixels outside the image are not black'
    print('epi ok: %d panels' % len(ps))
elif kind == 'roi':
    # pixels with the ROI colour (red dominant) exactly where the mask is;
    # optional 4th argument: the background grid the mask is resampled onto
    path, mimg = sys.argv[2], nb.load(sys.argv[3])
    mask = np.asarray(mimg.dataobj) != 0
    bimg = nb.load(sys.argv[4]) if len(sys.argv) > 4 else None
    px, ps = common(path, 'axial')
    total = bad = n_in = 0
    for p in ps:
        a = crop(px, p)
        c, r = grid(p)
        w = world(p, c, r)
        if bimg is not None:
            # nearest neighbour onto the background grid first (plot.h)
            binv = np.linalg.inv(bimg.affine)
            ijk = np.rint(w @ binv[:3, :3].T + binv[:3, 3])
            okb = np.all((ijk >= 0) & (ijk < np.array(bimg.shape[:3])), axis=-1)
            wc = ijk @ bimg.affine[:3, :3].T + bimg.affine[:3, 3]
            m = sample(mimg, mask.astype(float), wc)
            m[~okb] = np.nan
        else:
            m = sample(mimg, mask.astype(float), w)
        want = np.nan_to_num(m) > 0
        red = (a[..., 0] > a[..., 1] + 40) & (a[..., 0] > a[..., 2] + 40)
        total += want.size; bad += (red != want).sum(); n_in += want.sum()
    assert n_in > 100, 'the mask covers almost no pixel'
    assert bad <= 0.002 * total, '%d of %d pixels disagree with the mask' % (bad, total)
    print('roi ok: %d mask pixels, %d disagreeing' % (n_in, bad))
elif kind == 'stat':
    # positive values warm (red > blue), negative cold (blue > red), zero
    # transparent (grey background shows); the left hemisphere on the left
    path, simg = sys.argv[2], nb.load(sys.argv[3])
    st = np.asarray(simg.get_fdata())
    px, ps = common(path, 'axial')
    for p in ps:
        a = crop(px, p)
        c, r = grid(p)
        v = sample(simg, st, world(p, c, r))
        pos, neg = np.nan_to_num(v) > 1e-6, np.nan_to_num(v) < -1e-6
        R, G, B = a[..., 0], a[..., 1], a[..., 2]
        grey = (R == G) & (G == B)
        white = (R == 255) & (G == 255) & (B == 255)   # both ends of cold_hot
        assert (R[pos] > B[pos]) [~white[pos]].mean() > 0.995, 'positive voxels not warm'
        assert (B[neg] > R[neg]) [~white[neg]].mean() > 0.995, 'negative voxels not cold'
        off = ~pos & ~neg
        assert grey[off].mean() > 0.995, 'zero voxels are not transparent'
        if len(sys.argv) > 4 and sys.argv[4] == 'left-positive':
            half = p['w'] // 2
            assert pos[:, :half].sum() > 0 and pos[:, half:].sum() == 0, \
                'the positive (left-hemisphere) voxels are not on the left of the picture'
            assert neg[:, half:].sum() > 0 and neg[:, :half].sum() == 0
    # colorbar: the column right of the panels holds the colour ramp
    print('stat ok: %d panels' % len(ps))
elif kind == 'views':
    path, view, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
    px, ps = common(path, view, n)
    cuts = [p['cut'] for p in ps]
    assert cuts == sorted(cuts), 'cuts not in ascending order: %s' % cuts
    print('%s ok: cuts %s' % (view, cuts))
EOF

# A map for the stat plots (until a run's weights exist): on the mask,
# +w in the subject's left hemisphere (world x < 0), -w in the right.
# A background on a finer grid (2x in x and y, same extent), and one far
# away in world space.
cat >"$TRASH/make.py" <<'EOF'
import sys, numpy as np, nibabel as nb
d = sys.argv[1]
m = nb.load(d + '/mask.nii.gz'); mask = np.asarray(m.dataobj) != 0
ijk = np.indices(mask.shape).reshape(3, -1).T
x = (ijk @ m.affine[:3, :3].T + m.affine[:3, 3])[:, 0].reshape(mask.shape)
rng = np.random.default_rng(1)
w = np.where(mask, np.where(x < 0, 1, -1) * (0.02 + rng.random(mask.shape) * 0.1), 0).astype(np.float32)
nb.save(nb.Nifti1Image(w, m.affine), 'lr.nii.gz')
b = nb.load(d + '/bold.nii.gz')
mean = np.asarray(b.dataobj, dtype=np.float32).mean(axis=3)
nb.save(nb.Nifti1Image(mean, b.affine), 'mean.nii.gz')
fine = np.repeat(np.repeat(mean, 2, axis=0), 2, axis=1)
A = b.affine.copy(); A[:3, 0] /= 2; A[:3, 1] /= 2
A[:3, 3] = b.affine[:3, 3] - 0.25 * b.affine[:3, 0] - 0.25 * b.affine[:3, 1]
nb.save(nb.Nifti1Image(fine, A), 'fine.nii.gz')
far = b.affine.copy(); far[:3, 3] += 1000
nb.save(nb.Nifti1Image(mean, far), 'far.nii.gz')
nb.save(nb.Nifti1Image(np.stack([w, w], axis=3), m.affine), 'w4d.nii.gz')
EOF

test_expect_success 'setup: maps and backgrounds made with nibabel' '
	"$PYTHON" make.py "$D" &&
	test -f lr.nii.gz && test -f fine.nii.gz && test -f far.nii.gz
'

test_expect_success 'plot epi: mean of the 4D series, grey, right aspect ratio' '
	$NIDEC plot epi "$D/bold.nii.gz" -o epi.png --title "mean EPI" >out &&
	grep -q "epi.png" out &&
	"$PYTHON" check.py epi epi.png "$D/bold.nii.gz" axial &&
	"$PYTHON" check.py aspect epi.png "$D/bold.nii.gz"
'

test_expect_success 'plot epi: one volume (--volume) and a 3D image' '
	$NIDEC plot epi "$D/bold.nii.gz" --volume 7 -o vol7.png &&
	$NIDEC plot epi mean.nii.gz -o mean.png &&
	"$PYTHON" check.py epi mean.png mean.nii.gz axial
'

test_expect_success 'plot epi: default output name' '
	$NIDEC plot epi mean.nii.gz && test -f mean_epi.png
'

test_expect_success 'plot roi: mask fill exactly on the mask voxels' '
	$NIDEC plot roi "$D/mask.nii.gz" --bg "$D/bold.nii.gz" -o roi.png &&
	"$PYTHON" check.py roi roi.png "$D/mask.nii.gz"
'

test_expect_success 'plot roi: outline only still lies inside the mask' '
	$NIDEC plot roi "$D/mask.nii.gz" --bg mean.nii.gz --outline -o outline.png &&
	"$PYTHON" -c "
from PIL import Image; import numpy as np
a = np.asarray(Image.open(\"outline.png\").convert(\"RGB\")).astype(int)
red = (a[...,0] > a[...,1] + 40) & (a[...,0] > a[...,2] + 40)
b = np.asarray(Image.open(\"roi.png\").convert(\"RGB\")).astype(int)
full = (b[...,0] > b[...,1] + 40) & (b[...,0] > b[...,2] + 40)
assert 100 < red.sum() < 0.6 * full.sum(), (red.sum(), full.sum())
assert not (red & ~full).any()
"
'

test_expect_success 'plot roi: mask resampled onto a finer background grid' '
	$NIDEC plot roi "$D/mask.nii.gz" --bg fine.nii.gz -o roi-fine.png &&
	"$PYTHON" check.py roi roi-fine.png "$D/mask.nii.gz" fine.nii.gz
'

test_expect_success 'plot stat: colours by sign, zero transparent, left on the left' '
	$NIDEC plot stat lr.nii.gz --bg "$D/bold.nii.gz" -o stat.png --title "left +, right -" &&
	"$PYTHON" check.py stat stat.png lr.nii.gz left-positive
'

test_expect_success 'plot stat: --threshold hides small values' '
	$NIDEC plot stat lr.nii.gz --bg mean.nii.gz --threshold 0.07 -o thr.png &&
	"$PYTHON" -c "
import numpy as np, nibabel as nb
w = nb.load(\"lr.nii.gz\").get_fdata()
t = np.where(np.abs(w) > 0.07, w, 0).astype(np.float32)
nb.save(nb.Nifti1Image(t, nb.load(\"lr.nii.gz\").affine), \"lr-thr.nii.gz\")
" &&
	"$PYTHON" check.py stat thr.png lr-thr.nii.gz
'

test_expect_success 'plot stat: without background, and the reference weights' '
	$NIDEC plot stat lr.nii.gz -o nobg.png &&
	"$PYTHON" check.py stat nobg.png lr.nii.gz left-positive &&
	if test -f "$REPO_DIR/../shared/reference/nilearn-haxby-slice-face-vs-cat-weights.nii.gz"; then
		$NIDEC plot stat "$REPO_DIR/../shared/reference/nilearn-haxby-slice-face-vs-cat-weights.nii.gz" \
			--bg mean.nii.gz -o ref.png &&
		"$PYTHON" check.py stat ref.png "$REPO_DIR/../shared/reference/nilearn-haxby-slice-face-vs-cat-weights.nii.gz"
	fi
'

test_expect_success 'plot: sagittal and coronal mosaics, cuts ascending' '
	$NIDEC plot epi mean.nii.gz --orientation sagittal -o sag.png &&
	"$PYTHON" check.py views sag.png sagittal 7 &&
	$NIDEC plot epi mean.nii.gz --orientation coronal --cuts 3 -o cor.png &&
	"$PYTHON" check.py views cor.png coronal 3 &&
	$NIDEC plot stat lr.nii.gz --orientation sagittal --cuts=-40,-10,20,45 -o sagmm.png &&
	"$PYTHON" check.py views sagmm.png sagittal 4
'

test_expect_success 'plot: PNGs pass pngcheck (when installed)' '
	if command -v pngcheck >/dev/null; then
		pngcheck -q epi.png roi.png stat.png sag.png cor.png roi-fine.png
	fi
'

test_expect_error 'plot stat: a 4D map is refused' 1 "is 4D (40x20x1x2) but a 3D image is needed" '
	$NIDEC plot stat w4d.nii.gz -o bad1.png'
test_expect_success 'plot stat: no file left after the 4D error' '! test -e bad1.png'

test_expect_error 'plot roi: a 4D mask is refused' 1 "mask '$D/bold.nii.gz' is 4D" '
	$NIDEC plot roi "$D/bold.nii.gz" -o bad2.png'

test_expect_error 'plot epi: --volume of a 3D image is refused' 1 "is 3D (40x20x1), so it has no volume 3" '
	$NIDEC plot epi mean.nii.gz --volume 3 -o bad3.png'
test_expect_success 'plot epi: no file left after the 3D error' '! test -e bad3.png'

test_expect_error 'plot stat: a background that does not overlap' 1 "do not overlap in world space" '
	$NIDEC plot stat lr.nii.gz --bg far.nii.gz -o bad4.png'
test_expect_success 'plot stat: no file left after the overlap error' '! test -e bad4.png'

test_expect_error 'plot: an output path that cannot be written' 1 "cannot write 'no-such-dir/x.png'" '
	$NIDEC plot epi mean.nii.gz -o no-such-dir/x.png'
test_expect_success 'plot: nothing written next to the bad path' '! test -e no-such-dir'

test_expect_error 'plot: a cut outside the image' 1 "is outside 'mean.nii.gz'" '
	$NIDEC plot epi mean.nii.gz --cuts 50.0 -o bad5.png'

test_expect_error 'plot: a missing image names the file' 1 "nope.nii.gz" '
	$NIDEC plot epi nope.nii.gz -o bad6.png'

test_expect_error 'plot: an unknown kind is a usage error' 2 "'anat' is not a kind of plot" '
	$NIDEC plot anat mean.nii.gz'

test_expect_error 'plot: a bad --orientation is a usage error' 2 "use axial, coronal or sagittal" '
	$NIDEC plot epi mean.nii.gz --orientation oblique'

test_expect_success 'plot --help lists every option' '
	$NIDEC plot --help >help &&
	for o in -o --bg --threshold --cuts --orientation --title --volume --outline --vmax; do
		grep -q -- "$o" help || { echo "missing $o"; exit 1; }
	done
'

test_expect_success 'plot: failing allocations (NIDEC_FAIL_ALLOC=1,3,..,45) fail cleanly' '
	n=1 &&
	while [ $n -le 45 ]; do
		rm -f fa.png &&
		rc=0 && NIDEC_FAIL_ALLOC=$n $NIDEC plot roi "$D/mask.nii.gz" --bg "$D/bold.nii.gz" -o fa.png \
			>/dev/null 2>fa.err || rc=$? &&
		case $rc in
		0) test -f fa.png ;;
		1) ! test -e fa.png && grep -q "nidec: error: " fa.err ;;
		*) echo "NIDEC_FAIL_ALLOC=$n: exit $rc"; cat fa.err; exit 1 ;;
		esac || { echo "NIDEC_FAIL_ALLOC=$n: exit $rc, file state wrong"; exit 1; }
		n=$((n + 2))
	done
'

test_expect_success 'plot under mpirun: rank 0 works, every rank exits 0' '
	if command -v $MPIRUN >/dev/null; then
		$MPIRUN -n 2 $NIDEC plot epi mean.nii.gz -o mpi.png >out 2>&1 &&
		test -f mpi.png && test "$(grep -c "mpi.png" out)" = 1
	fi
'

test_done
