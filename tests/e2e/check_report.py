#!/usr/bin/python3
"""tests/e2e/check_report.py - independent checks of report.html pages
(the searchlight's and a sweep's group page), from the page and the result
files only (HTMLParser, PIL, nibabel, numpy).

    check_report.py page PAGE [N_IMAGES] [SECTIONS] [LINKS]
        an HTML5 page with a Content-Security-Policy, no script, no
        external reference (every src/href a data: URI or #anchor; LINKS, a
        regular expression, allows relative links that match it and name an
        existing file), every <img> a PNG data: URI that decodes to the
        width and height the tag declares, with alt text; N_IMAGES images
        (- for any number); the sections SECTIONS (comma-separated ids)
    check_report.py thresh PAGE ALT MAP CHANCE
        every image whose alt contains ALT: each pixel of each panel (the
        geometry the PNG declares in its nidec:panel tEXt chunks, plot.h)
        is coloured exactly where the voxel of MAP under it (nearest
        neighbour, nibabel's affine) holds a value > CHANCE, at the map's
        precision (float32 > float32(CHANCE)); the other pixels are grey
        (the mean EPI) or black
    check_report.py fwe PAGE ALT PFWE
        the same, coloured exactly where 0 < p_fwe <= 0.05 (float32)
    check_report.py slnumbers PAGE DIR
        the numbers of the searchlight page equal summary.json's and
        searchlight.tsv's: the cards, the analysis table, the best spheres,
        the histogram's bars and legend, the permutation table, the
        coloured voxels of the map's caption
    check_report.py group PAGE ROOT
        the numbers of the group page equal group_summary.json's and the
        subjects' summary.json: the statistics table, each subject's row
        (status, scores, error, link), each bar and fold dot of the chart

Several checks in one run (one Python start): separate them with "+",
    check_report.py page PAGE 7 + thresh PAGE ALT MAP 0.5
Prints "ok: ..." per check and exits 0, or fails with an AssertionError.
"""
import base64
import html
import html.parser
import io
import json
import math
import os
import re
import sys

import numpy as np


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.ids, self.refs, self.scripts = [], [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'img':
            self.imgs.append(a)
        if tag == 'script':
            self.scripts += 1
        if tag == 'section':
            self.ids.append(a.get('id'))
        for k in ('src', 'href', 'srcset', 'data', 'action', 'poster', 'xlink:href'):
            if k in a:
                self.refs.append((tag, k, a[k]))


def parse(path):
    text = open(path, encoding='utf-8').read()
    p = Page()
    p.feed(text)
    return text, p


def png(src):
    from PIL import Image
    assert src.startswith('data:image/png;base64,'), src[:40]
    raw = base64.b64decode(src.split(',', 1)[1], validate=True)
    im = Image.open(io.BytesIO(raw))
    im.verify()
    im = Image.open(io.BytesIO(raw))
    return im


def cmd_page(path, n_images='-', sections='', links=''):
    text, p = parse(path)
    assert text.startswith('<!DOCTYPE html>'), 'not an HTML5 page'
    assert p.scripts == 0 and 'javascript:' not in text.lower(), 'the page has a script'
    assert "default-src 'none'" in text, 'no Content-Security-Policy'
    assert not re.search(r'url\((?!data:)', text), 'CSS loads a URL'
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', text), 'an external URL'
    base = os.path.dirname(path)
    n_links = 0
    for tag, k, v in p.refs:
        if v.startswith('data:') or v.startswith('#'):
            continue
        assert links and re.fullmatch(links, v), 'external reference %s %s=%s' % (tag, k, v[:60])
        assert '://' not in v and not v.startswith('/'), 'not a relative link: %s' % v
        assert os.path.isfile(os.path.join(base, v)), 'link to a missing file: %s' % v
        n_links += 1
    if n_images != '-':
        assert len(p.imgs) == int(n_images), 'found %d images, want %s' % (len(p.imgs), n_images)
    for a in p.imgs:
        im = png(a['src'])
        assert im.format == 'PNG'
        assert (im.width, im.height) == (int(a['width']), int(a['height'])), \
            (im.size, a['width'], a['height'])
        assert a.get('alt'), 'image without alt text'
    for s in [x for x in sections.split(',') if x]:
        assert s in p.ids, 'section %s missing (have %s)' % (s, p.ids)
    print('ok: %d images, %d relative links, sections %s' % (len(p.imgs), n_links, ','.join(p.ids)))


# ---- pixels against voxels -------------------------------------------------

AX = {'axial': (0, 1, 2), 'coronal': (0, 2, 1), 'sagittal': (1, 2, 0)}


def panels(text):
    out = []
    for k in sorted(t for t in text if t.startswith('nidec:panel')):
        f = text[k].split()
        out.append(dict(x0=int(f[0]), y0=int(f[1]), w=int(f[2]), h=int(f[3]), u0=float(f[4]),
                        v1=float(f[5]), s=float(f[6]), view=f[7], cut=float(f[8])))
    return out


def voxels(img, p):
    """voxel index (i, j, k) under each pixel of panel p (plot.c: floor(f +
    .5)), with a flag for pixels within 1e-6 of a voxel boundary, where a
    rounding difference between two affine inverses may pick either voxel."""
    r, c = np.mgrid[0:p['h'], 0:p['w']]
    u = p['u0'] + (c + 0.5) / p['s']
    v = p['v1'] - (r + 0.5) / p['s']
    iu, iv, inn = AX[p['view']]
    w = np.zeros(c.shape + (3,))
    w[..., iu], w[..., iv], w[..., inn] = u, v, p['cut']
    inv = np.linalg.inv(img.affine)
    f = w @ inv[:3, :3].T + inv[:3, 3]
    frac = f - np.floor(f)
    ambiguous = np.any(np.abs(frac - 0.5) < 1e-6, axis=-1)
    return np.floor(f + 0.5).astype(int), ambiguous


def check_coloured(path, alt, img, want_fn, what):
    """every image of PAGE whose alt holds `alt`: pixels coloured exactly
    where want_fn(values) holds (values: the voxel under each pixel, NaN
    outside the grid)."""
    _, p = parse(path)
    data = np.asarray(img.dataobj).astype(np.float64)
    if data.ndim == 4:
        data = data[..., 0]
    figs = [a for a in p.imgs if alt in a.get('alt', '')]
    assert figs, 'no image with alt %r' % alt
    n_col = n_px = n_amb = 0
    for a in figs:
        im = png(a['src'])
        ps = panels(im.text)
        assert ps, 'no nidec:panel text chunks'
        px = np.asarray(im.convert('RGB')).astype(int)
        # the shown values: the largest is drawn white (cold_hot(1))
        shown = data[want_fn(data)]
        vmax = np.nanmax(shown) if shown.size else np.inf
        for q in ps:
            ijk, amb = voxels(img, q)
            ok = np.all((ijk >= 0) & (ijk < np.array(data.shape[:3])), axis=-1)
            val = np.full(ok.shape, np.nan)
            val[ok] = data[ijk[ok][:, 0], ijk[ok][:, 1], ijk[ok][:, 2]]
            want = want_fn(val)
            a3 = px[q['y0']:q['y0'] + q['h'], q['x0']:q['x0'] + q['w']]
            R, G, B = a3[..., 0], a3[..., 1], a3[..., 2]
            grey = (R == G) & (G == B)
            white = grey & (R == 255)
            # coloured: not grey, or white on one of the highest values
            got = ~grey | (white & want & (val >= vmax - 1e-3 * abs(vmax)))
            bad = (got != want) & ~amb
            assert not bad.any(), '%s: %d pixels of %r disagree with %s, e.g. pixel (%d, %d) ' \
                'value %r, colour %r' % (path, bad.sum(), a['alt'], what, *np.argwhere(bad)[0][::-1],
                                         val[tuple(np.argwhere(bad)[0])],
                                         tuple(a3[tuple(np.argwhere(bad)[0])]))
            n_col += int((want & ~amb).sum())
            n_px += int((~amb).sum())
            n_amb += int(amb.sum())
    assert n_col > 0, 'no coloured pixel expected: the check would be empty'
    assert n_col < n_px, 'every pixel coloured: the check would be empty'
    print('ok: %d images, %d of %d pixels coloured exactly where %s (%d on voxel edges skipped)'
          % (len(figs), n_col, n_px, what, n_amb))


def cmd_thresh(path, alt, map_path, chance):
    import nibabel as nb
    chance = float(np.float32(float(chance)))
    with np.errstate(invalid='ignore'):
        check_coloured(path, alt, nb.load(map_path), lambda v: v > chance, 'value > %r' % chance)


def cmd_fwe(path, alt, p_path):
    import nibabel as nb
    lim = float(np.float32(0.05))
    with np.errstate(invalid='ignore'):
        check_coloured(path, alt, nb.load(p_path), lambda v: (v > 0) & (v <= lim), '0 < p_fwe <= 0.05')


# ---- numbers ---------------------------------------------------------------

def section(text, sid):
    m = re.search(r'<section id="%s">(.*?)</section>' % re.escape(sid), text, re.S)
    assert m, 'no section %s' % sid
    return m.group(1)


def cells(row):
    return [html.unescape(re.sub(r'<[^>]*>', '', c)) for c in re.findall(r'<t[dh][^>]*>(.*?)</t[dh]>', row, re.S)]


def rows(table_html):
    return [cells(r) for r in re.findall(r'<tr[^>]*>(.*?)</tr>', table_html, re.S)]


def kv(text, table_id):
    m = re.search(r'<table class="kv" id="%s">(.*?)</table>' % re.escape(table_id), text, re.S)
    assert m, 'no table %s' % table_id
    return {r[0]: r[1] for r in rows(m.group(1))}


def tsv(path):
    lines = open(path).read().splitlines()
    head = lines[0].split('\t')
    return [dict(zip(head, l.split('\t'))) for l in lines[1:] if l]


def cmd_slnumbers(path, d):
    import nibabel as nb
    text, _ = parse(path)
    s = json.load(open(os.path.join(d, 'summary.json')))
    sc, ch, mp, best = s['scoring'], s['chance'], s['map'], s['best']
    plain = html.unescape(text)
    # the cards
    assert '%.4f</div><div>mean %s over %d spheres' % (mp['mean'], sc, mp['n']) in plain, 'mean card'
    b = best[0]
    where = 'at voxel (%d, %d, %d) = (%.1f, %.1f, %.1f) mm' % (*b['ijk'], *b['xyz'])
    assert '%.4f</div><div>best %s, %s' % (b['score'], sc, where) in plain, 'best card: ' + where
    assert '%d</div><div>of %d spheres above chance (%.4g)' % (s['above_chance'], s['n_spheres'], ch) in plain
    t = kv(text, 'analysis')
    assert t['scoring'] == sc and t['chance level'] == '%.4g' % ch, t
    assert t['spheres'].startswith('%d (%d skipped' % (s['n_spheres'], s['n_skipped'])), t
    assert t['radius'].startswith('%.4g mm; %d to %d voxels' % (s['radius_mm'], s['sphere_voxels']['min'],
                                                               s['sphere_voxels']['max'])), t
    # the best spheres, in order
    tb = rows(re.search(r'<table id="best-table">(.*?)</table>', text, re.S).group(1))[1:]
    assert len(tb) == len(best), (len(tb), len(best))
    for i, (r, b) in enumerate(zip(tb, best)):
        want = [str(i + 1), '%.4f' % b['score']] + ['%d' % x for x in b['ijk']] + \
            ['%.1f' % x for x in b['xyz']] + ['%d' % b['n_voxels']]
        if 'p_fwe' in b:
            want += ['%.4g' % b['p'], '%.4g' % b['p_fwe']]
        assert r == want, (r, want)
    # the histogram: every finite score of searchlight.tsv, split at chance
    scores = np.array([float(r['score']) for r in tsv(os.path.join(d, 'searchlight.tsv'))])
    fin = scores[np.isfinite(scores)]
    dist = section(text, 'distribution')
    bars = [int(x) for x in re.findall(r'<title>(\d+) spheres</title>', dist)]
    assert sum(bars) == len(fin), (sum(bars), len(fin))
    # at the map's precision (float32), as summary.json counts them
    above = int((fin.astype(np.float32) > np.float32(ch)).sum())
    assert above == s['above_chance'], (above, s['above_chance'])
    assert 'above chance (%d)' % above in dist and 'at or below chance (%d)' % (len(fin) - above) in dist
    coloured = [c for c in re.findall(r'<rect [^>]*fill="([^"]*)"[^>]*><title>(\d+) spheres', dist)]
    assert sum(int(n) for f, n in coloured if f == '#e6550d') == above, 'coloured bars != spheres above chance'
    # the map's caption counts the coloured voxels of the float32 map
    m = np.asarray(nb.load(os.path.join(d, 'searchlight_%s.nii.gz' % sc)).dataobj).astype(np.float64)
    ch32 = float(np.float32(ch))
    n_map = int((m > ch32).sum())
    assert re.search(r'coloured where above chance \(%s\): %d voxels' % (re.escape('%.4g' % ch), n_map),
                     section(text, 'map')), 'map caption count %d' % n_map
    # spheres above chance only by their last bits (double vs float32):
    # counted at chance everywhere (summary.json, histogram, map), no note
    flips = int(((fin > ch) != (fin.astype(np.float32).astype(np.float64) > ch32)).sum())
    assert 'on the other side of chance' not in section(text, 'map')
    assert n_map == int((fin.astype(np.float32).astype(np.float64) > ch32).sum()), 'map and tsv differ'
    # the permutation test
    if 'permutations' in s:
        pr = s['permutations']
        t = kv(text, 'permutation-table')
        assert t['permutations'].startswith('%d ' % pr['n']), t
        assert t['spheres with p <= 0.05'] == '%d' % pr['p_le_0.05'], t
        assert t['spheres with FWE p <= 0.05'] == '%d' % pr['p_fwe_le_0.05'], t
        assert '%d</div><div>spheres with FWE p <= 0.05 (%d with p <= 0.05 uncorrected; %d permutations)' % (
            pr['p_fwe_le_0.05'], pr['p_le_0.05'], pr['n']) in plain, 'permutation card'
        perm = section(text, 'permutations')
        if pr['p_fwe_le_0.05']:
            assert 'is at most 0.05: %d spheres' % pr['p_fwe_le_0.05'] in perm, 'FWE figure count'
        else:
            assert 'No sphere has a family-wise p-value of 0.05 or less' in perm
    print('ok: cards, analysis, %d best spheres, %d bars (%d above chance), map %d voxels (%d float32 flips)'
          % (len(best), len(bars), above, n_map, flips))


def fmt(x, f):
    return '-' if x is None or (isinstance(x, float) and not math.isfinite(x)) else f % x


def cmd_group(path, root):
    text, _ = parse(path)
    g = json.load(open(os.path.join(root, 'group_summary.json')))
    plain = html.unescape(text)
    # the statistics table: one row per class
    st = rows(re.search(r'<table id="group-stats">(.*?)</table>', text, re.S).group(1))
    head, body = st[0], st[1:]
    assert len(body) == len(g['classes']), (body, list(g['classes']))
    for r, (k, c) in zip(body, sorted(g['classes'].items())):
        row = dict(zip(head, r))
        tt, pm = c['t_test'], c.get('permutation', {})
        want = {'class': k, 'subjects': '%d' % c['n_subjects'], 'mean': fmt(c['mean'], '%.4f'),
                'std': fmt(c['std'], '%.4f'), 'sem': fmt(c['sem'], '%.4f'),
                'chance': fmt(c['chance'], '%.4g'), 't': fmt(tt['t'], '%.3f'), 'df': fmt(tt['df'], '%.0f'),
                'p (one-sided)': fmt(tt['p'], '%.4g'), 'p (two-sided)': fmt(tt['p_two_sided'], '%.4g'),
                'permutations': '%d' % pm['n'] if pm else '-',
                'permutation p': fmt(pm.get('p_value'), '%.4g')}
        assert row == want, (row, want)
    # the subjects: status, scores, error, link
    sub = rows(re.search(r'<table id="subjects-table">(.*?)</table>', text, re.S).group(1))
    head, body = sub[0], sub[1:]
    assert len(body) == len(g['subjects']), (len(body), len(g['subjects']))
    keys = sorted(g['classes'])
    for r, e in zip(body, g['subjects']):
        row = dict(zip(head, r))
        assert row['subject'] == 'sub-' + e['subject'], (row, e)
        assert row['status'] == e['status'], (row, e)
        for k in keys:
            v = e.get('mean_score', {}).get(k)
            assert row[k] == fmt(v, '%.4f'), (row, k, v)
        if e['status'] == 'ok':
            link = '<a href="%s/report.html">' % e['dir']
            has = os.path.isfile(os.path.join(root, e['dir'], 'report.html'))
            assert (link in section(text, 'subjects')) == has, 'link of sub-%s' % e['subject']
        else:
            assert html.unescape(e['error']) in row['report or error'], (row, e['error'])
            assert '<a href="%s/report.html">' % e['dir'] not in text, 'a failed subject is linked'
    # the chart: one bar per complete subject and class, one dot per fold
    chart = section(text, 'scores')
    n_bars = n_dots = 0
    for e in g['subjects']:
        if e['status'] != 'ok':
            assert re.search(r'fill="#c0392b">sub-%s' % re.escape(e['subject']), chart), 'failed mark'
            continue
        try:
            ss = json.load(open(os.path.join(root, e['dir'], 'summary.json')))
        except OSError:
            ss = None
        for k in keys:
            m = e['mean_score'].get(k)
            if m is None:
                continue
            folds = [] if ss is None else [x for x in ss.get('scores', {}).get(k, {}).get('folds', [])
                                           if x is not None]
            t = 'sub-%s, %s: mean %.4f (%d fold%s)' % (e['subject'], k, m, len(folds),
                                                      '' if len(folds) == 1 else 's')
            assert '<title>%s</title>' % t in chart, 'no bar ' + t
            n_bars += 1
            n_dots += len(folds)
    assert len(re.findall(r'<rect class="subject"', chart)) == n_bars, 'bars'
    assert len(re.findall(r'<circle class="fold"', chart)) == n_dots, 'fold dots'
    if g.get('chance') is not None:
        assert 'chance (%.3g)' % g['chance'] in chart, 'chance line'
    print('ok: %d classes, %d subjects, %d bars, %d fold dots' % (len(keys), len(body), n_bars, n_dots))


if __name__ == '__main__':
    cmds = {'page': cmd_page, 'thresh': cmd_thresh, 'fwe': cmd_fwe, 'slnumbers': cmd_slnumbers,
            'group': cmd_group}
    args, runs = sys.argv[1:], [[]]
    for a in args:
        if a == '+':
            runs.append([])
        else:
            runs[-1].append(a)
    for r in runs:
        if not r or r[0] not in cmds:
            sys.exit(__doc__)
    for r in runs:
        cmds[r[0]](*r[1:])
