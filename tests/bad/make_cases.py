#!/usr/bin/python3
"""Write the bad-input corpus of tests/bad/cases.tsv into OUT_DIR.

    make_cases.py inputs OUT_DIR    NIfTI, gzip, mask, labels, events, config files
    make_cases.py h5 OUT_DIR        HDF5 cases, from OUT_DIR/good/dataset.h5 and
                                    OUT_DIR/good/cv/model.h5 (made by nidec in between)
    make_cases.py edge OUT_DIR      numeric edge cases for tests/e2e/t5100-edge-cases.sh
    make_cases.py finite FILE...    exit 1 if a NIfTI, TSV or JSON output holds NaN/Inf

Everything is derived from one tiny, valid subject written first
(OUT_DIR/good/: 4 runs x 8 volumes on a 6x5x2 grid, int16, uncompressed,
a mask, a labels table, per-run BIDS events and a config), so that each bad
file differs from a good one in exactly one field and nidec fails fast.
Header offsets are those of the NIfTI-1 standard (nifti1.h).
Tools: Debian 12 python3-nibabel 5.0, python3-numpy 1.24, python3-h5py 3.7.
Deterministic: the same files on every run.
"""
import gzip
import os
import shutil
import struct
import sys

import numpy as np

SHAPE = (6, 5, 2)
RUNS, VOLS, TR = 4, 8, 2.5
# per run: rest, face, face, face, rest, cat, cat, cat  (3 + 3 per run)
PATTERN = ['rest', 'face', 'face', 'face', 'rest', 'cat', 'cat', 'cat']
AFFINE = np.array([[-3.0, 0, 0, 9.0], [0, 3.0, 0, -6.0], [0, 0, 4.0, 0], [0, 0, 0, 1]])

# NIfTI-1 header field offsets
OFF = {'sizeof_hdr': 0, 'dim': 40, 'datatype': 70, 'bitpix': 72, 'pixdim': 76,
       'vox_offset': 108, 'scl_slope': 112, 'scl_inter': 116, 'xyzt_units': 123,
       'qform_code': 252, 'sform_code': 254, 'srow_x': 280, 'magic': 344}


def w(path, data, mode='wb'):
    with open(path, mode) as f:
        f.write(data)


def patch(src, dst, edits):
    """Copy src to dst and overwrite (offset, bytes) pairs."""
    b = bytearray(open(src, 'rb').read())
    for off, val in edits:
        b[off:off + len(val)] = val
    w(dst, bytes(b))


def good_subject(g):
    import nibabel as nib
    os.makedirs(g, exist_ok=True)
    rng = np.random.default_rng(0)
    mask = np.zeros(SHAPE, np.uint8)
    mask[1:5, 1:4, :] = 1
    pattern = rng.normal(size=SHAPE)
    runs = []
    for r in range(RUNS):
        vol = rng.normal(1000, 20, size=SHAPE + (VOLS,))
        for t, lab in enumerate(PATTERN):
            vol[..., t] += {'face': 30, 'cat': -30, 'rest': 0}[lab] * pattern
        vol = np.round(vol).astype(np.int16)
        runs.append(vol)
        img = nib.Nifti1Image(vol, AFFINE)
        img.header.set_xyzt_units('mm', 'sec')
        img.header['pixdim'][4] = TR
        img.to_filename(os.path.join(g, 'run-%d_bold.nii' % (r + 1)))
        with open(os.path.join(g, 'run-%d_events.tsv' % (r + 1)), 'w') as f:
            f.write('onset\tduration\ttrial_type\n')
            f.write('%g\t%g\tface\n' % (1 * TR, 3 * TR))
            f.write('%g\t%g\tcat\n' % (5 * TR, 3 * TR))
    bold = np.concatenate(runs, axis=3)
    img = nib.Nifti1Image(bold, AFFINE)
    img.header.set_xyzt_units('mm', 'sec')
    img.header['pixdim'][4] = TR
    img.to_filename(os.path.join(g, 'bold.nii'))
    img.to_filename(os.path.join(g, 'bold.nii.gz'))
    nib.Nifti1Image(mask, AFFINE).to_filename(os.path.join(g, 'mask.nii'))
    with open(os.path.join(g, 'labels.txt'), 'w') as f:
        f.write('labels chunks\n')
        for r in range(RUNS):
            for lab in PATTERN:
                f.write('%s %d\n' % (lab, r))
    with open(os.path.join(g, 'good.ini'), 'w') as f:
        f.write('[data]\nbold = %s/bold.nii\nmask = %s/mask.nii\nlabels = %s/labels.txt\n'
                'conditions = face, cat\n' % (g, g, g))
    return bold, mask


def nifti_cases(g, b):
    import nibabel as nib
    src = os.path.join(g, 'bold.nii')
    raw = open(src, 'rb').read()
    n = len(raw)

    def i16(*v):
        return struct.pack('<%dh' % len(v), *v)

    def f32(*v):
        return struct.pack('<%df' % len(v), *v)

    w(os.path.join(b, 'nii_empty.nii'), b'')
    w(os.path.join(b, 'nii_short_header.nii'), raw[:200])
    w(os.path.join(b, 'nii_truncated_data.nii'), raw[:352 + (n - 352) // 2])
    patch(src, os.path.join(b, 'nii_bad_magic.nii'), [(OFF['magic'], b'abc\0')])
    patch(src, os.path.join(b, 'nii_pair_magic.nii'), [(OFF['magic'], b'ni1\0')])
    patch(src, os.path.join(b, 'nii_bad_sizeof_hdr.nii'), [(0, struct.pack('<i', 1234))])
    patch(src, os.path.join(b, 'nii_dim0_zero.nii'), [(OFF['dim'], i16(0))])
    patch(src, os.path.join(b, 'nii_dim0_eight.nii'), [(OFF['dim'], i16(8))])
    patch(src, os.path.join(b, 'nii_dim_zero.nii'), [(OFF['dim'] + 4, i16(0))])
    patch(src, os.path.join(b, 'nii_dim_negative.nii'), [(OFF['dim'] + 2, i16(-6))])
    patch(src, os.path.join(b, 'nii_5d.nii'), [(OFF['dim'], i16(5, 6, 5, 2, 16, 2))])
    # NIfTI-1: 32767^3 voxels per volume does not fit the per-volume limit
    patch(src, os.path.join(b, 'nii_dims_huge.nii'),
          [(OFF['dim'], i16(4, 32767, 32767, 32767, 32767))])
    # NIfTI-2: dims whose product overflows 64 bits
    small = nib.Nifti2Image(np.zeros((2, 2, 2, 2), np.int16), np.eye(4))
    p = os.path.join(b, 'nii2_dims_overflow.nii')
    small.to_filename(p)
    with open(p, 'r+b') as f:
        f.seek(16)
        f.write(struct.pack('<8q', 4, 2**40, 2**40, 2**20, 100, 1, 1, 1))
    patch(src, os.path.join(b, 'nii_dtype_complex.nii'), [(OFF['datatype'], i16(32, 64))])
    patch(src, os.path.join(b, 'nii_dtype_rgb.nii'), [(OFF['datatype'], i16(128, 24))])
    patch(src, os.path.join(b, 'nii_dtype_unknown.nii'), [(OFF['datatype'], i16(999, 16))])
    patch(src, os.path.join(b, 'nii_voxoffset_past_end.nii'), [(OFF['vox_offset'], f32(1e6))])
    patch(src, os.path.join(b, 'nii_voxoffset_negative.nii'), [(OFF['vox_offset'], f32(-352))])
    patch(src, os.path.join(b, 'nii_voxoffset_fraction.nii'), [(OFF['vox_offset'], f32(352.5))])
    patch(src, os.path.join(b, 'nii_voxoffset_nan.nii'), [(OFF['vox_offset'], f32(float('nan')))])
    patch(src, os.path.join(b, 'nii_scl_inter_nan.nii'),
          [(OFF['scl_slope'], f32(2.0, float('nan')))])
    # pixdim: TR 0 or negative (events need a TR), voxel sizes 0 / negative
    patch(src, os.path.join(b, 'nii_tr_zero.nii'), [(OFF['pixdim'] + 16, f32(0.0))])
    patch(src, os.path.join(b, 'nii_tr_negative.nii'), [(OFF['pixdim'] + 16, f32(-2.5))])
    patch(src, os.path.join(b, 'nii_tr_nan.nii'), [(OFF['pixdim'] + 16, f32(float('nan')))])
    patch(src, os.path.join(b, 'nii_pixdim_zero.nii'), [(OFF['pixdim'] + 4, f32(0, 0, 0))])
    patch(src, os.path.join(b, 'nii_pixdim_negative.nii'), [(OFF['pixdim'] + 4, f32(-3, 3, 4))])
    # a zero sform that nibabel would still use (sform_code 1): singular grid
    patch(src, os.path.join(b, 'nii_sform_zero.nii'), [(OFF['srow_x'], f32(*[0.0] * 12))])
    # NaN / Inf voxels (float32 image, one voxel of the mask in one volume)
    vol = nib.load(src)
    data = np.asarray(vol.dataobj).astype(np.float32)
    for name, val in (('nii_nan_voxel', np.nan), ('nii_inf_voxel', np.inf)):
        d = data.copy()
        d[2, 2, 0, 3] = val
        img = nib.Nifti1Image(d, AFFINE)
        img.header.set_xyzt_units('mm', 'sec')
        img.header['pixdim'][4] = TR
        img.to_filename(os.path.join(b, name + '.nii'))
    # a NaN voxel outside the mask: harmless, nothing of it is kept
    d = data.copy()
    d[0, 0, 0, :] = np.nan
    img = nib.Nifti1Image(d, AFFINE)
    img.to_filename(os.path.join(b, 'nii_nan_outside_mask.nii'))
    # a 3D image where 4D is needed
    shutil.copy(os.path.join(g, 'mask.nii'), os.path.join(b, 'nii_3d.nii'))
    # a directory named like an image
    os.makedirs(os.path.join(b, 'nii_dir.nii'), exist_ok=True)
    # runs whose first file has a TR of 0, < 0 or NaN (for events)
    for name, tr in (('tr_zero', 0.0), ('tr_negative', -2.5), ('tr_nan', float('nan'))):
        d = os.path.join(b, name)
        os.makedirs(d, exist_ok=True)
        for r in range(RUNS):
            dst = os.path.join(d, 'run-%d_bold.nii' % (r + 1))
            run = os.path.join(g, 'run-%d_bold.nii' % (r + 1))
            if r == 0:
                patch(run, dst, [(OFF['pixdim'] + 16, f32(tr))])
            else:
                shutil.copy(run, dst)

    # issue 20: runs of different TRs (the third run 2 s instead of 2.5 s)
    d = os.path.join(b, 'tr_mixed')
    os.makedirs(d, exist_ok=True)
    for r in range(RUNS):
        run = os.path.join(g, 'run-%d_bold.nii' % (r + 1))
        dst = os.path.join(d, 'run-%d_bold.nii' % (r + 1))
        if r == 2:
            patch(run, dst, [(OFF['pixdim'] + 16, f32(2.0))])
        else:
            shutil.copy(run, dst)

    # gzip: truncated, corrupt deflate data, bad CRC in the trailer, not gzip
    gz = open(os.path.join(g, 'bold.nii.gz'), 'rb').read()
    w(os.path.join(b, 'gz_truncated.nii.gz'), gz[:len(gz) // 2])
    c = bytearray(gz)
    for i in range(len(c) // 2, len(c) // 2 + 64):
        c[i] ^= 0x5A
    w(os.path.join(b, 'gz_corrupt.nii.gz'), bytes(c))
    c = bytearray(gz)
    c[-8] ^= 0xFF  # CRC32 of the trailer
    w(os.path.join(b, 'gz_bad_crc.nii.gz'), bytes(c))
    w(os.path.join(b, 'gz_header_only.nii.gz'), gz[:10])
    w(os.path.join(b, 'gz_text.nii.gz'), gzip.compress(b'labels chunks\nface 0\n'))


def mask_cases(g, b, mask):
    import nibabel as nib
    nib.Nifti1Image(np.zeros_like(mask), AFFINE).to_filename(os.path.join(b, 'mask_empty.nii'))
    nib.Nifti1Image(np.ones_like(mask), AFFINE).to_filename(os.path.join(b, 'mask_all_ones.nii'))
    nib.Nifti1Image(mask[..., None].repeat(2, 3), AFFINE).to_filename(
        os.path.join(b, 'mask_4d.nii'))
    far = AFFINE.copy()
    far[:3, 3] += 1000.0
    nib.Nifti1Image(mask, far).to_filename(os.path.join(b, 'mask_far.nii'))
    # another grid (2x finer, same space): resampled with a warning
    fine = AFFINE.copy()
    fine[:3, :3] /= 2
    big = mask.repeat(2, 0).repeat(2, 1).repeat(2, 2)
    nib.Nifti1Image(big, fine).to_filename(os.path.join(b, 'mask_other_grid.nii'))
    # singular affine (zero third column) patched into the bytes
    p = os.path.join(b, 'mask_singular.nii')
    nib.Nifti1Image(mask, AFFINE).to_filename(p)
    with open(p, 'r+b') as f:
        for off in (288, 304, 320):
            f.seek(off)
            f.write(struct.pack('<f', 0.0))
    # NaN in a float mask (outside the brain box)
    m = mask.astype(np.float32)
    m[0, 0, 0] = np.nan
    nib.Nifti1Image(m, AFFINE).to_filename(os.path.join(b, 'mask_nan.nii'))


LABELS_HEADER = 'labels chunks\n'


def labels_rows(sep=' '):
    return ['%s%s%d' % (lab, sep, r) for r in range(RUNS) for lab in PATTERN]


def text_cases(g, b):
    rows = labels_rows()
    w(os.path.join(b, 'labels_empty.txt'), b'')
    w(os.path.join(b, 'labels_blank_lines.txt'), b'\n\n  \n')
    w(os.path.join(b, 'labels_header_only.txt'), LABELS_HEADER.encode())
    w(os.path.join(b, 'labels_missing_column.txt'), ('labels run\n' + '\n'.join(rows) + '\n').encode())
    ragged = list(rows)
    ragged[10] = 'face'
    w(os.path.join(b, 'labels_ragged.txt'), (LABELS_HEADER + '\n'.join(ragged) + '\n').encode())
    w(os.path.join(b, 'labels_short.txt'), (LABELS_HEADER + '\n'.join(rows[:-1]) + '\n').encode())
    w(os.path.join(b, 'labels_long.txt'), (LABELS_HEADER + '\n'.join(rows + rows[:1]) + '\n').encode())
    w(os.path.join(b, 'labels_crlf.txt'), (LABELS_HEADER + '\n'.join(rows) + '\n').replace('\n', '\r\n').encode())
    w(os.path.join(b, 'labels_bom.txt'), b'\xef\xbb\xbf' + (LABELS_HEADER + '\n'.join(rows) + '\n').encode())
    w(os.path.join(b, 'labels_nul.txt'), (LABELS_HEADER + '\n'.join(rows) + '\n').encode() + b'\0\0')
    w(os.path.join(b, 'labels_no_final_newline.txt'), (LABELS_HEADER + '\n'.join(rows)).encode())
    w(os.path.join(b, 'labels_tabs.txt'), ('labels\tchunks\n' + '\n'.join(labels_rows('\t')) + '\n').encode())
    # one class only among the selected conditions (no cat at all)
    one = [r.replace('cat', 'rest') for r in rows]
    w(os.path.join(b, 'labels_one_class.txt'), (LABELS_HEADER + '\n'.join(one) + '\n').encode())
    # run 2 has no face or cat volume: only rest
    norun = ['rest %d' % (i // VOLS) if i // VOLS == 2 else r for i, r in enumerate(rows)]
    w(os.path.join(b, 'labels_run_without_selected.txt'),
      (LABELS_HEADER + '\n'.join(norun) + '\n').encode())
    # runs named by strings (sorted in byte order)
    named = ['%s run%s' % (lab, 'abcd'[r]) for r in range(RUNS) for lab in PATTERN]
    w(os.path.join(b, 'labels_run_names.txt'), (LABELS_HEADER + '\n'.join(named) + '\n').encode())
    # a very long line (no fixed buffer may overflow)
    w(os.path.join(b, 'labels_long_line.txt'),
      (LABELS_HEADER + 'x' * 100000 + ' 0\n' + '\n'.join(rows[1:]) + '\n').encode())

    # issue 20: a row with more fields than the header (the run was read
    # from the wrong field), a quoted label with a blank (parsed), a quote
    # left open
    extra = list(rows)
    extra[5] = 'face 1 0'
    w(os.path.join(b, 'labels_extra_field.txt'), (LABELS_HEADER + '\n'.join(extra) + '\n').encode())
    quoted = ['"%s" %s' % (r.split()[0] if r.split()[0] != 'rest' else 'rest state', r.split()[1])
              for r in rows]
    w(os.path.join(b, 'labels_quoted.txt'), (LABELS_HEADER + '\n'.join(quoted) + '\n').encode())
    opened = list(rows)
    opened[3] = '"face 0'
    w(os.path.join(b, 'labels_open_quote.txt'), (LABELS_HEADER + '\n'.join(opened) + '\n').encode())
    # an input where nidec writes: a link to the mask named like a dataset,
    # a directory holding a labels table named like an output
    if not os.path.lexists(os.path.join(b, 'link_to_mask.h5')):
        os.symlink(os.path.join(g, 'mask.nii'), os.path.join(b, 'link_to_mask.h5'))
    os.makedirs(os.path.join(b, 'outdir_input'), exist_ok=True)
    shutil.copy(os.path.join(g, 'labels.txt'), os.path.join(b, 'outdir_input', 'scores.tsv'))
    w(os.path.join(b, 'cfg_outdir_input.ini'),
      ('[data]\nbold = %s/bold.nii\nmask = %s/mask.nii\nlabels = %s/outdir_input/scores.tsv\n'
       'conditions = face, cat\n[output]\ndir = %s/outdir_input\nreport = false\n' % (g, g, b, b)).encode())
    # a folds file with a ragged row
    w(os.path.join(b, 'folds_extra_field.tsv'), b'sample\tfold\n0\t0\n1\t1\t7\n')

    ev0 = open(os.path.join(g, 'run-1_events.tsv')).read()
    lines = ev0.splitlines()

    def ev_set(name, text, binary=None):
        d = os.path.join(b, name)
        os.makedirs(d, exist_ok=True)
        for r in range(RUNS):
            src = os.path.join(g, 'run-%d_events.tsv' % (r + 1))
            dst = os.path.join(d, 'run-%d_events.tsv' % (r + 1))
            if r == 0:
                w(dst, binary if binary is not None else text.encode())
            else:
                shutil.copy(src, dst)
    ev_set('ev_empty', '')
    ev_set('ev_missing_column', 'onset\tduration\tcondition\n' + '\n'.join(lines[1:]) + '\n')
    ev_set('ev_ragged', lines[0] + '\n' + lines[1] + '\n2.5\t7.5\n')
    ev_set('ev_onset_text', lines[0] + '\n' + 'abc\t7.5\tface\n' + lines[2] + '\n')
    ev_set('ev_onset_comma', lines[0] + '\n' + '2,5\t7.5\tface\n' + lines[2] + '\n')
    ev_set('ev_onset_nan', lines[0] + '\n' + 'nan\t7.5\tface\n' + lines[2] + '\n')
    ev_set('ev_duration_negative', lines[0] + '\n' + '2.5\t-7.5\tface\n' + lines[2] + '\n')
    ev_set('ev_duration_inf', lines[0] + '\n' + '2.5\tinf\tface\n' + lines[2] + '\n')
    ev_set('ev_crlf', ev0.replace('\n', '\r\n'))
    ev_set('ev_bom', '', b'\xef\xbb\xbf' + ev0.encode())
    ev_set('ev_spaces', ev0.replace('\t', ' '))
    ev_set('ev_na_trial', ev0 + '10\t2.5\tn/a\n')
    ev_set('ev_extra_field', lines[0] + '\n' + lines[1] + '\tx\n')
    # issue 20: overlapping events of different trial types; events shorter
    # than a TR between two volumes (TR 2.5 s)
    ev_set('ev_overlap', lines[0] + '\n' + '2.5\t7.5\tface\n5\t5\tcat\n12.5\t5\tcat\n')
    ev_set('ev_between', lines[0] + '\n' + '2.5\t7.5\tface\n13\t1\tcat\n13\t1\tface\n12.5\t5\tcat\n')
    # too few events files for the runs
    d = os.path.join(b, 'ev_too_few')
    os.makedirs(d, exist_ok=True)
    for r in range(RUNS - 1):
        shutil.copy(os.path.join(g, 'run-%d_events.tsv' % (r + 1)), d)

    def ini(name, text):
        w(os.path.join(b, name), text.encode())
    data = '[data]\nbold = %s/bold.nii\nmask = %s/mask.nii\nlabels = %s/labels.txt\nconditions = face, cat\n' % (g, g, g)
    ini('cfg_empty.ini', '')
    ini('cfg_unknown_key.ini', data + '[cv]\nschem = kfold\n')
    ini('cfg_unknown_section.ini', data + '[modle]\nC = 1\n')
    ini('cfg_no_section.ini', 'bold = %s/bold.nii\n' % g + data)
    ini('cfg_duplicate_key.ini', data + '[cv]\nscheme = kfold\nscheme = leave-one-run-out\n')
    ini('cfg_bad_enum.ini', data + '[cv]\nscheme = loro\n')
    ini('cfg_bad_number.ini', data + '[cv]\nn_folds = five\n')
    ini('cfg_bad_C.ini', data + '[model]\nC = 1, ten, 100\n')
    ini('cfg_negative_seed.ini', data + '[cv]\nseed = -1\n')
    ini('cfg_syntax.ini', data + '[cv]\nthis line has no equals sign\n')
    ini('cfg_no_bold.ini', '[data]\nmask = %s/mask.nii\nlabels = %s/labels.txt\n' % (g, g))
    ini('cfg_no_labels.ini', '[data]\nbold = %s/bold.nii\nmask = %s/mask.nii\n' % (g, g))
    ini('cfg_labels_and_events.ini', data + 'events = %s/run-*_events.tsv\n' % g)
    ini('cfg_crlf.ini', data.replace('\n', '\r\n'))
    w(os.path.join(b, 'cfg_bom.ini'), b'\xef\xbb\xbf' + data.encode())
    ini('cfg_nul.ini', data + '[cv]\nscheme = kfold\0\n')
    # issue 20: lines of any length (libinih cut them at 200 bytes)
    grid = ', '.join('%g' % (0.001 * 1.5 ** i) for i in range(40))
    ini('cfg_long_line.ini', data + '[model]\nC = %s\n' % grid)
    ini('cfg_continuation.ini', data + '[model]\nC = 1, 10,\n    100\n')


def h5_cases(b):
    import h5py
    # a results directory with a truncated summary.json and an empty weight map
    rep = os.path.join(b, 'rep_bad')
    shutil.rmtree(rep, ignore_errors=True)
    shutil.copytree(os.path.join(b, 'good', 'cv'), rep)
    s = open(os.path.join(rep, 'summary.json'), 'rb').read()
    w(os.path.join(rep, 'summary.json'), s[:len(s) // 2])
    w(os.path.join(rep, 'weights_face.nii.gz'), b'')
    os.makedirs(os.path.join(b, 'good', 'empty'), exist_ok=True)
    good = os.path.join(b, 'good', 'dataset.h5')
    model = os.path.join(b, 'good', 'cv', 'model.h5')
    raw = open(good, 'rb').read()
    w(os.path.join(b, 'ds_truncated.h5'), raw[:len(raw) // 2])
    w(os.path.join(b, 'ds_superblock_only.h5'), raw[:64])
    w(os.path.join(b, 'ds_text.h5'), b'labels chunks\nface 0\n')

    def variant(src, name, fn):
        p = os.path.join(b, name)
        shutil.copy(src, p)
        with h5py.File(p, 'r+') as f:
            fn(f)
        return p

    def set_attr(f, key, val):
        f.attrs[key] = val
    variant(good, 'ds_version_99.h5', lambda f: set_attr(f, 'format_version', np.int32(99)))
    variant(good, 'ds_no_format.h5', lambda f: f.attrs.__delitem__('format'))
    variant(good, 'ds_no_X.h5', lambda f: f.__delitem__('X'))

    def labels_short(f):
        lab = f['labels'][:-1]
        del f['labels']
        f.create_dataset('labels', data=lab)
    variant(good, 'ds_labels_short.h5', labels_short)

    def ijk_outside(f):
        ijk = f['mask/ijk'][...]
        ijk[0] = (100, 0, 0)
        f['mask/ijk'][...] = ijk
    variant(good, 'ds_ijk_outside.h5', ijk_outside)

    def runs_negative(f):
        r = f['runs'][...]
        r[0] = -3
        f['runs'][...] = r
    variant(good, 'ds_runs_negative.h5', runs_negative)

    def runs_huge(f):
        r = f['runs'][...]
        r[0] = 2**31 - 1
        f['runs'][...] = r
    variant(good, 'ds_runs_huge.h5', runs_huge)

    def label_unknown(f):
        lab = f['labels'][...]
        lab[0] = b'dog'
        del f['labels']
        f.create_dataset('labels', data=lab)
    variant(good, 'ds_label_not_a_condition.h5', label_unknown)

    def x_nan(f):
        x = f['X'][...]
        x[3, 5] = np.nan
        f['X'][...] = x
    variant(good, 'ds_X_nan.h5', x_nan)

    def x_inf(f):
        x = f['X'][...]
        x[3, 5] = np.inf
        f['X'][...] = x
    variant(good, 'ds_X_inf.h5', x_inf)

    with h5py.File(os.path.join(b, 'h5_foreign.h5'), 'w') as f:
        f['X'] = np.zeros((4, 3), np.float32)
        f['labels'] = np.array([b'a', b'b', b'a', b'b'])
        f.attrs['creator'] = 'someone else'

    # models for nidec predict
    mraw = open(model, 'rb').read()
    w(os.path.join(b, 'model_truncated.h5'), mraw[:len(mraw) // 2])
    variant(model, 'model_version_99.h5', lambda f: set_attr(f, 'format_version', np.int64(99)))
    variant(model, 'model_no_classes.h5', lambda f: f.__delitem__('classes'))

    def model_ijk_outside(f):
        ijk = f['mask/ijk'][...]
        ijk[0] = (1000000, 0, 0)
        f['mask/ijk'][...] = ijk
    variant(model, 'model_ijk_outside.h5', model_ijk_outside)

    def model_ijk_negative(f):
        ijk = f['mask/ijk'][...]
        ijk[0] = (-1000000, 0, 0)
        f['mask/ijk'][...] = ijk
    variant(model, 'model_ijk_negative.h5', model_ijk_negative)

    def model_dims_negative(f):
        f['mask/dims'][...] = np.array([-6, 5, 2], np.int64)
    variant(model, 'model_dims_negative.h5', model_dims_negative)

    def model_coef_nan(f):
        c = f['coef'][...]
        c[0, 0] = np.nan
        f['coef'][...] = c
    variant(model, 'model_coef_nan.h5', model_coef_nan)

    # issue 20: damage that only the checksums see (finite, plausible)
    def bump(name, i, j=None):
        def fn(f):
            a = f[name][...]
            if j is None:
                a[i] = a[i] + 1
            else:
                a[i, j] = a[i, j] + 0.5
            f[name][...] = a
        return fn

    def swap_labels(f):
        a = f['labels'][...]
        a[0] = b'cat' if a[0] in (b'face', 'face') else b'face'
        f['labels'][...] = a

    def swap_runs(f):
        a = f['runs'][...]
        a[0], a[-1] = a[-1], a[0]
        f['runs'][...] = a
    variant(good, 'ds_X_altered.h5', bump('X', 3, 5))
    variant(good, 'ds_labels_altered.h5', swap_labels)
    variant(good, 'ds_runs_altered.h5', swap_runs)
    variant(good, 'ds_no_checksums.h5', lambda f: f.__delitem__('crc32'))
    variant(model, 'model_coef_altered.h5', bump('coef', 0, 1))

    def drop_crc(f):
        for name in ('coef', 'intercept', 'mask/ijk', 'mask/dims', 'mask/affine',
                     'preprocess/mean', 'preprocess/scale'):
            if name in f and 'crc32' in f[name].attrs:
                del f[name].attrs['crc32']
    variant(model, 'model_no_checksums.h5', drop_crc)


def edge_cases(out):
    """Subjects with numeric edge cases, each a 4D bold.nii + labels.txt
    (+ the good mask): constant voxels, a class in one run only, duplicated
    volumes, all-zero volumes, all-zero data."""
    import nibabel as nib
    g = os.path.join(out, 'good')
    bold, mask = good_subject(g)
    labels = [(lab, r) for r in range(RUNS) for lab in PATTERN]

    def save(name, data, labs):
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        img = nib.Nifti1Image(data, AFFINE)
        img.header.set_xyzt_units('mm', 'sec')
        img.header['pixdim'][4] = TR
        img.to_filename(os.path.join(d, 'bold.nii'))
        with open(os.path.join(d, 'labels.txt'), 'w') as f:
            f.write('labels chunks\n')
            for lab, r in labs:
                f.write('%s %d\n' % (lab, r))
    # a voxel constant everywhere, one constant within run 0 (so within the
    # training part of every fold but one), one constant within each run
    d = bold.copy()
    d[2, 2, 0, :] = 1000
    d[3, 2, 0, :VOLS] = 990
    for r in range(RUNS):
        d[1, 1, 1, r * VOLS:(r + 1) * VOLS] = 1000 + 10 * r
    save('constant_voxels', d, labels)
    # 'cat' only in run 0 (the other runs' cat volumes become 'rest')
    save('class_one_run', bold, [(('rest' if lab == 'cat' and r > 0 else lab), r)
                                 for lab, r in labels])
    # every volume twice in a row (same run)
    save('duplicated_volumes', np.repeat(bold, 2, axis=3), [x for x in labels for _ in (0, 1)])
    # two face and two cat volumes of each run are all zeros
    d = bold.copy()
    for r in range(RUNS):
        d[..., r * VOLS + 1] = 0
        d[..., r * VOLS + 5] = 0
    save('zero_volumes', d, labels)
    # no signal at all: every voxel of every volume is 0
    save('all_zero', np.zeros_like(bold), labels)


def finite(paths):
    import json
    import nibabel as nib
    bad = []
    for p in paths:
        if p.endswith('.nii.gz') or p.endswith('.nii'):
            if not np.all(np.isfinite(np.asarray(nib.load(p).dataobj))):
                bad.append(p)
        elif p.endswith('.json'):
            def check(v):
                if isinstance(v, float) and not np.isfinite(v):
                    raise ValueError
                if isinstance(v, dict):
                    for x in v.values():
                        check(x)
                if isinstance(v, list):
                    for x in v:
                        check(x)
            try:
                check(json.load(open(p), parse_constant=lambda c: float(c)))
            except ValueError:
                bad.append(p)
        else:
            for line in open(p).read().split('\n')[1:]:
                if any(f.lower() in ('nan', '-nan', 'inf', '-inf', 'infinity', '-infinity')
                       for f in line.split('\t')):
                    bad.append(p)
                    break
    for p in bad:
        print('non-finite values in %s' % p)
    return 1 if bad else 0


def studies_cases(g, b):
    """Issue 17: sample tables, confounds, [clean] keys, BIDS trees."""
    import nibabel as nib
    img = nib.load(os.path.join(g, 'run-1_bold.nii'))
    data = np.asanyarray(img.dataobj)
    st = os.path.join(b, 'st')
    os.makedirs(st, exist_ok=True)
    for i in range(4):
        nib.Nifti1Image(data[..., i], AFFINE).to_filename(os.path.join(st, 'beta_%d.nii' % i))
    other = np.zeros((6, 5, 3), np.int16)
    nib.Nifti1Image(other, AFFINE).to_filename(os.path.join(st, 'beta_other_grid.nii'))
    run1 = os.path.join(g, 'run-1_bold.nii')

    def table(name, rows, header='path\tvolume\tlabels\tchunks'):
        w(os.path.join(st, name), (header + '\n' + '\n'.join(rows) + '\n').encode())
    good = ['beta_0.nii\t\tface\t0', 'beta_1.nii\t\tcat\t0', 'beta_2.nii\t\tface\t1', 'beta_3.nii\t\tcat\t1']
    table('good.tsv', good)
    table('missing_path.tsv', good[:3] + ['beta_9.nii\t\tcat\t1'])
    table('volume_past.tsv', good[:3] + ['%s\t8\tcat\t1' % run1])
    table('volume_text.tsv', good[:3] + ['%s\tthree\tcat\t1' % run1])
    table('grids.tsv', good[:3] + ['beta_other_grid.nii\t\tcat\t1'])
    table('mixed_3d_4d.tsv', good[:3] + ['%s\t\tcat\t1' % run1])
    table('no_path_column.tsv', [r.replace('beta', 'b') for r in good], header='file\tvolume\tlabels\tchunks')

    # confounds TSVs for the good subject's 4 runs of 8 volumes
    cf = os.path.join(b, 'cf')
    short = os.path.join(b, 'cf_short')
    os.makedirs(cf, exist_ok=True)
    os.makedirs(short, exist_ok=True)
    rng = np.random.default_rng(1)
    for r in range(RUNS):
        tx = np.cumsum(rng.normal(0, 0.1, VOLS))
        ty = np.cumsum(rng.normal(0, 0.1, VOLS))
        rows = ['trans_x\ttrans_y\ttrans_x_derivative1\tconst\tnan_late']
        for t in range(VOLS):
            d = 'n/a' if t == 0 else repr(tx[t] - tx[t - 1])
            rows.append('%r\t%r\t%s\t1.5\t%s' % (tx[t], ty[t], d, 'n/a' if t == 3 else repr(float(t))))
        w(os.path.join(cf, 'run-%d_conf.tsv' % (r + 1)), ('\n'.join(rows) + '\n').encode())
        w(os.path.join(short, 'run-%d_conf.tsv' % (r + 1)), ('\n'.join(rows[:-1]) + '\n').encode())

    def ini(name, text):
        w(os.path.join(b, name), text.encode())
    runs = '[data]\nbold = %s/run-*_bold.nii\nevents = %s/run-*_events.tsv\nmask = %s/mask.nii\n' % (g, g, g)
    ini('cfg_band.ini', runs + '[clean]\nhigh_pass = 0.1\nlow_pass = 0.05\n')
    ini('cfg_nyquist.ini', runs + '[clean]\nhigh_pass = 0.3\n')
    ini('cfg_fwhm_negative.ini', runs + '[clean]\nsmoothing_fwhm = -2\n')
    ini('cfg_strategy_unknown.ini', runs + 'confounds_files = %s/run-*_conf.tsv\n[clean]\nconfounds_strategy = moton\n' % cf)

    # a tiny BIDS tree with derivatives: the good subject's runs
    for name, drop_events, extra_events in (('bids', None, False), ('bids_no_events', 2, False),
                                            ('bids_no_bold', None, True)):
        raw = os.path.join(b, name, 'sub-01', 'func')
        der = os.path.join(b, name, 'derivatives', 'sub-01', 'func')
        os.makedirs(raw, exist_ok=True)
        os.makedirs(der, exist_ok=True)
        for r in range(RUNS):
            stem = 'sub-01_task-t_run-%d' % (r + 1)
            if r + 1 != drop_events:
                shutil.copy(os.path.join(g, 'run-%d_events.tsv' % (r + 1)), os.path.join(raw, stem + '_events.tsv'))
            shutil.copy(os.path.join(g, 'run-%d_bold.nii' % (r + 1)),
                        os.path.join(der, stem + '_space-MNI_desc-preproc_bold.nii'))
            shutil.copy(os.path.join(g, 'mask.nii'), os.path.join(der, stem + '_space-MNI_desc-brain_mask.nii'))
        if extra_events:
            shutil.copy(os.path.join(g, 'run-1_events.tsv'), os.path.join(raw, 'sub-01_task-t_run-5_events.tsv'))


def main():
    what, out = sys.argv[1], sys.argv[2]
    if what != 'finite':
        os.makedirs(out, exist_ok=True)
    if what == 'inputs':
        g = os.path.join(out, 'good')
        _, mask = good_subject(g)
        nifti_cases(g, out)
        mask_cases(g, out, mask)
        text_cases(g, out)
        studies_cases(g, out)
    elif what == 'h5':
        h5_cases(out)
    elif what == 'edge':
        edge_cases(out)
    elif what == 'finite':
        sys.exit(finite(sys.argv[2:]))
    else:
        sys.exit('usage: make_cases.py inputs|h5|edge OUT_DIR, or finite FILE...')


if __name__ == '__main__':
    main()
