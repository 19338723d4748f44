#!/usr/bin/python3
"""Write the seed corpora of the fuzz targets (committed, so this runs only
when they need to change):
    tests/fuzz/make_seeds.py [REPO_DIR]
nifti_header/: tiny images (2x3x2 voxels, 3 volumes) in every datatype nidec
reads, NIfTI-1 and -2, both byte orders, .nii and gzip, scaled, with an
extension, plus the bundled Haxby mask; labels/: the head of the bundled
labels.txt and events.tsv, in several spellings; config/: configs/*.ini.
Tools: Debian 12 python3-nibabel 5.0, python3-numpy 1.24.
"""
import glob
import gzip
import io
import os
import shutil
import sys

import nibabel as nib
import numpy as np

repo = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..')
here = os.path.join(repo, 'tests', 'fuzz', 'seeds')
data = os.path.join(repo, 'data', 'haxby-slice')


def fresh(name):
    d = os.path.join(here, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def nifti_bytes(img, gz=False):
    bio = io.BytesIO()
    fm = img.make_file_map({'image': bio, 'header': bio})
    img.to_file_map(fm)
    raw = bio.getvalue()
    # gzip with a fixed mtime so the seeds are reproducible
    return gzip.compress(raw, mtime=0) if gz else raw


d = fresh('nifti_header')
aff = np.array([[-3.0, 0, 0, 3], [0, 3.5, 0, -2], [0, 0, 4, 1], [0, 0, 0, 1]])
vol = np.arange(2 * 3 * 2 * 3).reshape(2, 3, 2, 3)
for dt in ('uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64',
           'float32', 'float64'):
    img = nib.Nifti1Image(vol.astype(dt), aff, dtype=dt)
    img.header['pixdim'][4] = 2.5
    open(os.path.join(d, 'n1_%s.nii' % dt), 'wb').write(nifti_bytes(img))
img = nib.Nifti1Image(vol.astype('int16'), aff)
open(os.path.join(d, 'n1_int16.nii.gz'), 'wb').write(nifti_bytes(img, gz=True))
be = nib.Nifti1Image(vol.astype('>i2'), aff, nib.Nifti1Header(endianness='>'))
open(os.path.join(d, 'n1_int16_bigendian.nii'), 'wb').write(nifti_bytes(be))
sc = nib.Nifti1Image(vol.astype('int16'), aff)
sc.header.set_slope_inter(0.5, 10)
open(os.path.join(d, 'n1_scaled.nii'), 'wb').write(nifti_bytes(sc))
q = nib.Nifti1Image(vol.astype('float32'), aff)
q.header.set_sform(None, code=0)
q.header.set_qform(aff, code=1)
open(os.path.join(d, 'n1_qform_only.nii'), 'wb').write(nifti_bytes(q))
ext = nib.Nifti1Image(vol.astype('int16'), aff)
ext.header.extensions.append(nib.nifti1.Nifti1Extension('comment', b'nidec fuzz seed'))
open(os.path.join(d, 'n1_extension.nii'), 'wb').write(nifti_bytes(ext))
n3 = nib.Nifti1Image(vol[..., 0].astype('uint8'), aff)
open(os.path.join(d, 'n1_3d_mask.nii'), 'wb').write(nifti_bytes(n3))
n2 = nib.Nifti2Image(vol.astype('float32'), aff)
open(os.path.join(d, 'n2_float32.nii'), 'wb').write(nifti_bytes(n2))
open(os.path.join(d, 'n2_float32.nii.gz'), 'wb').write(nifti_bytes(n2, gz=True))
shutil.copy(os.path.join(data, 'mask.nii.gz'), os.path.join(d, 'haxby_mask.nii.gz'))

d = fresh('labels')
lab = open(os.path.join(data, 'labels.txt')).read().splitlines()
head = '\n'.join(lab[:1] + lab[1:200:8]) + '\n'
open(os.path.join(d, 'labels.txt'), 'w').write(head)
open(os.path.join(d, 'labels_crlf.txt'), 'w', newline='').write(head.replace('\n', '\r\n'))
open(os.path.join(d, 'labels_tabs.txt'), 'w').write(head.replace(' ', '\t'))
open(os.path.join(d, 'labels_runs_named.txt'), 'w').write(
    'labels chunks extra\nface run-a 1\ncat run-b 2\nrest run-a 3\n')
ev = sorted(glob.glob(os.path.join(data, 'runs', '*_events.tsv')))
shutil.copy(ev[0], os.path.join(d, 'events.tsv'))
e = open(ev[0]).read()
open(os.path.join(d, 'events_spaces.tsv'), 'w').write(e.replace('\t', ' '))
open(os.path.join(d, 'events_na.tsv'), 'w').write(
    'onset\tduration\ttrial_type\tresponse_time\n0\t2.5\tface\tn/a\n-1.5\t0\tn/a\t0.4\n1e1\t3\tcat\t1\n')

d = fresh('config')
for p in sorted(glob.glob(os.path.join(repo, 'configs', '*.ini'))):
    shutil.copy(p, d)
open(os.path.join(d, 'set_overrides.txt'), 'w').write(
    'cv.scheme=kfold\ncv.n_folds=3\nmodel.C=0.1, 1\ndata.conditions=face,cat\n'
    'preprocess.screening_percentile=20\ncv.compat=nilearn\n')
