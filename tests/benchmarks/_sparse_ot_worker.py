"""Exact W_2 of two uniform cubes by the sparse certified route in a fresh process: prints
'seconds peak_bytes cost rounds' (peak resident memory of the whole process, clouds included).

Usage: python _sparse_ot_worker.py N D
"""

import resource
import sys
import time

import numpy as np

from lmctheory.ot import sparse_assignment

n, d = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(n)
x, y = rng.random((n, d)), rng.random((n, d))
start = time.perf_counter()
res = sparse_assignment(x, y, 2)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux
print(seconds, peak, res.cost, res.rounds)
