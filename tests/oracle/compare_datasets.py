#!/usr/bin/python3
"""Compare two HDF5 files object by object with h5py: the same datasets
(shape, dtype, values bit for bit) and the same attributes, except those
named with --ignore (default: created).  Prints the first difference.
    compare_datasets.py A.h5 B.h5 [--ignore created,command_line]
Tools: Debian 12 python3-h5py 3.7, python3-numpy 1.24.
"""
import argparse
import sys

import h5py
import numpy as np


def items(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj))
    return out


def same_value(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == 'f':
        return a.tobytes() == b.tobytes()
    return bool(np.all(a == b))


def attrs_differ(name, x, y, ignore):
    kx = set(x.attrs) - ignore
    ky = set(y.attrs) - ignore
    if kx != ky:
        return '%s: attributes %s vs %s' % (name, sorted(kx), sorted(ky))
    for k in sorted(kx):
        if not same_value(x.attrs[k], y.attrs[k]):
            return '%s: attribute %s: %r vs %r' % (name, k, x.attrs[k], y.attrs[k])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('a')
    ap.add_argument('b')
    ap.add_argument('--ignore', default='created')
    args = ap.parse_args()
    ignore = set(s for s in args.ignore.split(',') if s)
    with h5py.File(args.a, 'r') as fa, h5py.File(args.b, 'r') as fb:
        d = attrs_differ('/', fa, fb, ignore)
        if d:
            print(d)
            return 1
        ia, ib = items(fa), items(fb)
        if sorted(ia) != sorted(ib):
            print('objects differ: %s vs %s' % (sorted(ia), sorted(ib)))
            return 1
        for name in sorted(ia):
            x, y = ia[name], ib[name]
            if isinstance(x, h5py.Dataset):
                if not same_value(x[()], y[()]):
                    print('dataset %s differs' % name)
                    return 1
            d = attrs_differ(name, x, y, ignore)
            if d:
                print(d)
                return 1
    print('same')
    return 0


if __name__ == '__main__':
    sys.exit(main())
