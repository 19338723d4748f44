#!/usr/bin/python3
"""bench/measure.py - run a shell command N times; print the median wall
and CPU seconds (user + sys of the command and every process it waited
for: an mpirun's ranks included) and the load average before and after.

    /usr/bin/python3 bench/measure.py N 'COMMAND'
    -> "wall <median s> cpu <median s> load <1-min before> <1-min after> n <N>"

stdout and stderr of the command are discarded; a failing run is an error.
"""
import os
import resource
import statistics
import subprocess
import sys
import time


def load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def main():
    n, cmd = int(sys.argv[1]), sys.argv[2]
    walls, cpus = [], []
    l0 = load1()
    for _ in range(n):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=os.environ)
        walls.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
    print(f"wall {statistics.median(walls):.4f} cpu {statistics.median(cpus):.4f} "
          f"load {l0:.2f} {load1():.2f} n {n}")


if __name__ == "__main__":
    main()
