#!/usr/bin/python3
"""Permutation p-values under the null are uniform (t1510, t1930).

    pvalues_uniform.py SEEDS PERMS [TASK]

Reads oK/summary.json for K = 1..SEEDS (each run with PERMS permutations,
TASK = its "task" when given, e.g. regression), checks every p-value is on
the grid k / (PERMS + 1), 1 <= k <= PERMS + 1, makes them continuous by
subtracting U / (PERMS + 1) (U uniform on [0, 1), numpy seed 0: under the
null the result is exactly uniform on [0, 1]) and runs a two-sided
Kolmogorov-Smirnov test against U(0, 1): fails below the 1 % level.
"""
import json
import sys

import numpy as np
from scipy import stats


def main():
    seeds, perms = int(sys.argv[1]), int(sys.argv[2])
    task = sys.argv[3] if len(sys.argv) > 3 else None
    s = [json.load(open(f"o{k}/summary.json")) for k in range(1, seeds + 1)]
    if task:
        assert all(x.get("task") == task for x in s), f"not every run is a {task}"
    p = np.array([x["permutations"]["p_value_mean"] for x in s])
    grid = np.round(p * (perms + 1))
    assert np.allclose(grid, p * (perms + 1)) and grid.min() >= 1 and grid.max() <= perms + 1, p
    u = np.random.default_rng(0).random(seeds)
    ks = stats.kstest(p - u / (perms + 1), "uniform")
    print("p-values:", " ".join("%.2f" % v for v in sorted(p)))
    print("KS D = %.3f, p = %.3f" % (ks.statistic, ks.pvalue))
    assert ks.pvalue > 0.01, "p-values under the null are not uniform"


if __name__ == "__main__":
    main()
