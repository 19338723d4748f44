#!/usr/bin/python3
"""Export a nidec dataset (HDF5) to the flat file bench/corebench reads.

usage: /usr/bin/python3 bench/dump_dataset.py DATASET.h5 OUT.bin [CLASS ...]

Format (little-endian): b"NIDX", u32 n, u32 p, u32 K, f64 voxel volume (mm3),
then K class names (u32 length + bytes, sorted byte order as nidec's plan
wants them), X float32 [n * p] row-major, y int32 [n] class index, runs
int32 [n].  With CLASS arguments only those samples are kept (as
[data] conditions).  Needs python3-h5py (Debian); used only by bench/.
"""
import struct
import sys

import h5py
import numpy as np


def main():
    src, out = sys.argv[1], sys.argv[2]
    keep = [c.encode() for c in sys.argv[3:]]
    with h5py.File(src, "r") as f:
        labels = np.array([bytes(v) for v in f["labels"][:]])
        runs = f["runs"][:].astype(np.int32)
        pixdim = f["mask/pixdim"][:] if "mask/pixdim" in f else None
        affine = f["mask/affine"][:]
        sel = np.ones(len(labels), bool) if not keep else np.isin(labels, keep)
        X = f["X"][:][sel].astype(np.float32)
    labels, runs = labels[sel], runs[sel]
    classes = sorted(set(labels.tolist()))
    y = np.array([classes.index(v) for v in labels], np.int32)
    vol = abs(np.linalg.det(affine[:3, :3]))
    del pixdim
    with open(out, "wb") as o:
        o.write(b"NIDX" + struct.pack("<IIId", X.shape[0], X.shape[1], len(classes), vol))
        for c in classes:
            o.write(struct.pack("<I", len(c)) + c)
        o.write(np.ascontiguousarray(X).tobytes())
        o.write(y.tobytes())
        o.write(runs.tobytes())
    print(f"{out}: {X.shape[0]} samples x {X.shape[1]} voxels, {len(classes)} classes")


if __name__ == "__main__":
    main()
