#!/usr/bin/python3
"""tests/e2e/check_slgroup.py ROOT - the searchlight group level of a sweep
(docs/SWEEP.md "Searchlight group level") recomputed independently from the
subjects' results.h5 (h5py), with numpy, scipy and nibabel:

 - the common voxels (a scored centre of every subject), the mean map and
   the one-sample t-test against chance (scipy.stats.ttest_1samp,
   alternative='greater') at each, against group_searchlight_{mean,t,p}
   .nii.gz read with nibabel (float32: equal to the float32 rounding of
   scipy's values, or within 1e-6 relative where scipy's mean/var order
   of summation differs);
 - the images keep the subjects' affine;
 - with null maps: Stelzer et al.'s test re-implemented here, drawing with
   a Python copy of nidec's xoshiro256** stream (src/base/rng.c): per-voxel
   thresholds, the largest cluster of every group null map
   (scipy.ndimage.label with a 3x3x3 structure: 26-connectivity), the
   observed clusters, their sizes, p-values and peaks, against
   group_searchlight_clusters.tsv and the two cluster images - exactly.

Prints "ok: ..." and exits 0, else what differs and exits 1.
"""
import csv
import json
import math
import os
import sys

import h5py
import nibabel as nib
import numpy as np
from scipy import ndimage, stats

M64 = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


class Xoshiro:
    def __init__(self, seed):
        st, self.s = seed, []
        for _ in range(4):
            st, v = splitmix64(st)
            self.s.append(v)

    def next(self):
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M64
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def below(self, n):
        limit = M64 - (M64 % n)
        while True:
            v = self.next()
            if v < limit:
                return v % n


def main():
    root = sys.argv[1]
    bad = []
    js = json.load(open(os.path.join(root, "group_summary.json")))
    sl = js["searchlight"]
    subs = sl["subjects"]
    files = []
    for s in subs:
        with h5py.File(os.path.join(root, f"sub-{s}", "results.h5")) as f:
            g = f["searchlight"]
            files.append(dict(dims=tuple(g["dims"][()]), affine=g["affine"][()], ijk=g["ijk"][()],
                              map=g["map"][()],
                              null=g["null_map"][()] if "null_map" in g else None))
    dims = files[0]["dims"]
    count = np.zeros(dims, int)
    for f in files:
        assert f["dims"] == dims and np.allclose(f["affine"], files[0]["affine"], atol=1e-4)
        ok = np.isfinite(f["map"])
        i, j, k = f["ijk"][ok].T
        count[i, j, k] += 1
    common = count == len(files)
    V = int(common.sum())
    if V != sl["n_voxels"]:
        bad.append(f"{V} common voxels, the summary says {sl['n_voxels']}")
    idx = np.argwhere(common)  # C order
    lin = np.ravel_multi_index(idx.T, dims)

    def on_common(f, values):
        full = np.full(int(np.prod(dims)), np.nan, values.dtype)
        full[np.ravel_multi_index(f["ijk"].T, dims)] = values
        return full[lin]

    maps = np.array([on_common(f, f["map"]).astype(np.float32) for f in files])
    chance = js["chance"]
    mean = maps.astype(np.float64).mean(axis=0)
    tt = stats.ttest_1samp(maps.astype(np.float64), chance, axis=0, alternative="greater")

    def image(name):
        img = nib.load(os.path.join(root, name))
        if not np.allclose(img.affine, files[0]["affine"], atol=1e-4):
            bad.append(f"{name}: affine differs from the subjects'")
        return np.asarray(img.dataobj)[tuple(idx.T)]

    for name, want in (("group_searchlight_mean.nii.gz", mean), ("group_searchlight_t.nii.gz", tt.statistic),
                       ("group_searchlight_p.nii.gz", tt.pvalue)):
        got = image(name).astype(np.float64)
        w = want.astype(np.float32).astype(np.float64)
        if not np.allclose(got, w, rtol=1e-6, atol=1e-12):
            bad.append(f"{name}: max difference {np.max(np.abs(got - w)):.3g}")

    ct = sl["cluster_test"]
    if all(f["null"] is not None for f in files):
        nulls = [np.array([on_common(f, f["null"][k]) for k in range(f["null"].shape[0])]) for f in files]
        M, thr = ct["draws"], ct["cluster_threshold"]
        K = int(math.floor(M * thr + 1e-9))
        S = len(files)

        def draws(seed):
            r = Xoshiro(seed)
            for _ in range(M):
                pick = [r.below(n.shape[0]) for n in nulls]
                acc = np.zeros(V)
                for s in range(S):
                    acc += nulls[s][pick[s]].astype(np.float64)
                yield acc / S

        allm = np.array(list(draws(ct["seed"])))
        t_v = -np.sort(-allm, axis=0)[K]
        struct = np.ones((3, 3, 3), int)

        def clusters(values):
            vol = np.zeros(dims, bool)
            vol[tuple(idx.T)] = values > t_v
            lab, n = ndimage.label(vol, structure=struct)
            return lab, n

        null_max = []
        for m in range(M):
            lab, n = clusters(allm[m])
            null_max.append(np.bincount(lab.ravel())[1:].max() if n else 0)
        null_max = np.array(null_max)
        obs = np.zeros(V)
        for s in range(S):
            obs += maps[s].astype(np.float64)
        obs /= S
        lab, n = clusters(obs)
        sizes = np.bincount(lab.ravel())[1:]
        # order: size descending, then the smallest voxel index (C order)
        firsts = [np.flatnonzero(lab.ravel() == c + 1)[0] for c in range(n)]
        order = sorted(range(n), key=lambda c: (-sizes[c], firsts[c]))
        rows = list(csv.DictReader(open(os.path.join(root, "group_searchlight_clusters.tsv")), delimiter="\t"))
        if len(rows) != n:
            bad.append(f"{len(rows)} clusters in the table, {n} recomputed")
        labels_img = np.rint(image("group_searchlight_clusters.nii.gz")).astype(int)
        thr_img = image("group_searchlight_thresholded.nii.gz")
        for r, c in zip(rows, order):
            size = int(sizes[c])
            p = (1 + np.sum(null_max >= size)) / (M + 1)
            members = lab[tuple(idx.T)] == c + 1
            peak = np.argmax(np.where(members, obs, -np.inf))
            if int(r["size"]) != size or float(r["p_fwe"]) != p:
                bad.append(f"cluster {r['cluster']}: size {r['size']} p {r['p_fwe']}, recomputed {size} {p}")
            if [int(r["peak_i"]), int(r["peak_j"]), int(r["peak_k"])] != list(idx[peak]):
                bad.append(f"cluster {r['cluster']}: peak {r['peak_i']},{r['peak_j']},{r['peak_k']}, recomputed {idx[peak]}")
            if not np.array_equal(labels_img == int(r["cluster"]), members):
                bad.append(f"cluster {r['cluster']}: its voxels in the image differ")
            want_thr = np.where(members, mean, 0).astype(np.float32) if p <= ct["cluster_alpha"] else 0
            if not np.array_equal(np.where(members, thr_img, 0), np.where(members, want_thr, 0)):
                bad.append(f"cluster {r['cluster']}: thresholded map differs")
        if np.any((labels_img == 0) & (thr_img != 0)):
            bad.append("thresholded map non-zero outside the clusters")
        if ct["n_clusters"] != n:
            bad.append(f"summary n_clusters {ct['n_clusters']}, recomputed {n}")
        summary = f"{n} clusters, null max size median {int(np.median(null_max))}"
    else:
        summary = "no cluster test"
    for b in bad:
        print("differs:", b)
    if bad:
        return 1
    print(f"ok: {len(files)} subjects, {V} voxels, {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
