#!/usr/bin/python3
"""make_betas.py DATA_DIR - a beta series from the bundled slice (t0200).

Writes, in the current directory, the face and cat volumes of
DATA_DIR/bold.nii.gz three ways:
  betas/beta_NNNN.nii.gz + betas/trials.tsv   one 3D image per sample, a
                                              sample table (relative paths,
                                              an extra column `trial`)
  bold4d.nii.gz + labels4d.txt                the same volumes as one 4D file
                                              and a labels table
  vol.tsv                                     a sample table of the original
                                              4D file with a volume column
"""
import os
import sys

import nibabel as nib
import numpy as np

d = sys.argv[1]
img = nib.load(f"{d}/bold.nii.gz")
rows = [line.split() for line in open(f"{d}/labels.txt")][1:]
keep = [i for i, r in enumerate(rows) if r[0] in ("face", "cat")]
os.makedirs("betas", exist_ok=True)
data = np.asanyarray(img.dataobj)
with open("betas/trials.tsv", "w") as t, open("labels4d.txt", "w") as lab, open("vol.tsv", "w") as v:
    t.write("path\tlabels\tchunks\ttrial\n")
    lab.write("labels chunks\n")
    v.write("path\tvolume\tlabels\tchunks\n")
    for n, i in enumerate(keep):
        nib.Nifti1Image(data[..., i], img.affine, img.header.copy()).to_filename(f"betas/beta_{n:04d}.nii.gz")
        t.write(f"beta_{n:04d}.nii.gz\t{rows[i][0]}\t{rows[i][1]}\ttrial-{n}\n")
        lab.write(f"{rows[i][0]} {rows[i][1]}\n")
        v.write(f"{os.path.abspath(d)}/bold.nii.gz\t{i}\t{rows[i][0]}\t{rows[i][1]}\n")
nib.Nifti1Image(data[..., keep], img.affine, img.header.copy()).to_filename("bold4d.nii.gz")
