#!/usr/bin/python3
"""Write broken inputs for tests/e2e/t0140-convert-errors.sh, from the Haxby
slice: a run on another grid, masks that are empty, far away or singular,
and a NIfTI-2 header whose dims overflow.
    make_bad_inputs.py DATA_DIR OUT_DIR
Tools: Debian 12 python3-nibabel 5.0, python3-numpy 1.24.
"""
import os
import struct
import sys

import nibabel as nib
import numpy as np

data, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
runs = os.path.join(data, 'runs')
mask = nib.load(os.path.join(data, 'mask.nii.gz'))
m = np.asarray(mask.dataobj)

# runs/ with run 2 cropped to another grid
g = os.path.join(out, 'grid')
os.makedirs(g, exist_ok=True)
for name in sorted(os.listdir(runs)):
    src = os.path.join(runs, name)
    dst = os.path.join(g, name)
    if 'run-02_bold' in name:
        img = nib.load(src)
        nib.Nifti1Image(np.asarray(img.dataobj)[:, :19], img.affine, img.header).to_filename(dst)
    elif not os.path.exists(dst):
        os.symlink(src, dst)

nib.Nifti1Image(np.zeros_like(m), mask.affine, mask.header).to_filename(
    os.path.join(out, 'mask_empty.nii.gz'))
far = mask.affine.copy()
far[:3, 3] += 1000.0
nib.Nifti1Image(m, far).to_filename(os.path.join(out, 'mask_far.nii.gz'))
# a singular sform (third column 0): nibabel refuses to build one, so patch
# the srow bytes of an uncompressed file (srow_x/y/z[2] at 288, 304, 320)
p = os.path.join(out, 'mask_singular.nii')
nib.Nifti1Image(m, mask.affine).to_filename(p)
with open(p, 'r+b') as f:
    for off in (288, 304, 320):
        f.seek(off)
        f.write(struct.pack('<f', 0.0))
nib.Nifti1Image(m[..., None].repeat(2, 3), mask.affine).to_filename(
    os.path.join(out, 'mask_4d.nii.gz'))

# NIfTI-2 with dims whose product overflows 64 bits (dim[] at byte 16)
small = nib.Nifti2Image(np.zeros((2, 2, 2, 2), np.int16), np.eye(4))
p = os.path.join(out, 'overflow.nii')
small.to_filename(p)
with open(p, 'r+b') as f:
    f.seek(16)
    f.write(struct.pack('<8q', 4, 2**40, 2**40, 2**20, 100, 1, 1, 1))
