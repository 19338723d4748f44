#!/usr/bin/python3
"""Write NIfTI variants of the Haxby slice for the `nidec convert` format
tests (tests/e2e/t0130-convert-formats.sh): every datatype, scaling, byte
order, NIfTI-1/-2, .nii/.nii.gz and affine source nidec must read as
nibabel does.  Each variant NAME gets OUT/NAME.nii[.gz] (24 volumes),
OUT/NAME_mask.nii.gz on its grid and OUT/NAME.tsv (labels table); the list
of variants is printed one per line ("NAME FILE").  Also writes a mask on
another grid (OUT/mask_fine.nii.gz: 2x finer, shifted half a voxel) for
the resampling test.
    make_nifti_variants.py DATA_DIR OUT_DIR
Tools: Debian 12 python3-nibabel 5.0, python3-numpy 1.24.
"""
import os
import sys

import nibabel as nib
import numpy as np

data_dir, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
src = nib.load(os.path.join(data_dir, 'bold.nii.gz'))
raw = np.asarray(src.dataobj[..., :24]).astype(np.int16)
msk = nib.load(os.path.join(data_dir, 'mask.nii.gz'))
mask = np.asarray(msk.dataobj).astype(np.uint8)
aff = src.affine
with open(os.path.join(data_dir, 'labels.txt')) as f:
    table = f.read().splitlines()[:25]

rot = np.array([[0.9, -0.43588989, 0, 0], [0.43588989, 0.9, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
variants = []


def save(name, img, ext='.nii.gz', mask_img=None):
    path = os.path.join(out, name + ext)
    img.to_filename(path)
    m = mask_img if mask_img is not None else nib.Nifti1Image(mask, img.affine)
    if mask_img is None:
        m.header.set_qform(img.affine, int(img.header['qform_code']) or None)
        m.header.set_sform(img.affine, int(img.header['sform_code']) or None)
    m.to_filename(os.path.join(out, name + '_mask.nii.gz'))
    with open(os.path.join(out, name + '.tsv'), 'w') as f:
        f.write('\n'.join(table) + '\n')
    variants.append((name, path))


def nifti1(data, dtype, affine=aff, endian=None, xform=None):
    """xform: None = sform and qform from affine (nibabel's default);
    'qform' = qform only (code 1); 'none' = no xform codes at all."""
    hdr = nib.Nifti1Header(endianness=endian) if endian else nib.Nifti1Header()
    if xform == 'qform':
        hdr.set_qform(affine, code=1)
        hdr.set_sform(None, code=0)
    elif xform == 'none':
        hdr.set_qform(None, code=0)
        hdr.set_sform(None, code=0)
    img = nib.Nifti1Image(data, affine if xform is None else None, hdr)
    if xform == 'none':
        img.header.set_zooms((3.1, 3.75, 3.75, 2.5))
    img.header.set_data_dtype(dtype)
    img.header.set_xyzt_units('mm', 'sec')
    img.header['pixdim'][4] = 2.5
    return img


f = raw.astype(np.float64)
save('int16_plain', nifti1(raw, np.int16), '.nii')
save('int16_scaled', nifti1(f * 0.37 + 5.1, np.int16))
save('uint8_scaled', nifti1(f * 0.37 + 5.1, np.uint8))
save('int32_scaled', nifti1(f * 1234.5 - 77.0, np.int32))
save('float32', nifti1((f * 0.1).astype(np.float32), np.float32))
save('float64', nifti1(f * 0.123456789, np.float64))
save('int16_bigendian', nifti1(raw, np.int16, endian='>'))
save('uint8_plain', nifti1((raw % 256).astype(np.uint8), np.uint8))
img = nifti1(raw, np.int16, affine=rot.dot(aff), xform='qform')
m = nib.Nifti1Image(mask, None, img.header.copy())
m.header.set_data_dtype(np.uint8)
save('int16_qform', img, mask_img=m)
img = nifti1(raw, np.int16, xform='none')
m = nib.Nifti1Image(mask, None, img.header.copy())
m.header.set_data_dtype(np.uint8)
save('int16_noxform', img, mask_img=m)
n2 = nib.Nifti2Image(raw.astype(np.float32), aff)
n2.header.set_xyzt_units('mm', 'sec')
n2.header['pixdim'][4] = 2.5
save('nifti2_float32', n2)
n2 = nib.Nifti2Image(raw, aff)
n2.header.set_data_dtype(np.int16)
save('nifti2_int16', n2, '.nii')

# a mask on a finer grid, shifted by half a fine voxel
fine = np.repeat(np.repeat(np.repeat(mask, 2, 0), 2, 1), 2, 2)
faff = aff.copy()
faff[:3, :3] = aff[:3, :3] / 2.0
faff[:3, 3] = aff[:3, 3] - aff[:3, :3].dot([0.25, 0.25, 0.25])
nib.Nifti1Image(fine, faff).to_filename(os.path.join(out, 'mask_fine.nii.gz'))

for name, path in variants:
    print(name, path)
