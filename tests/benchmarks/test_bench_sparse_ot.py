"""Exact W_2 past the dense matrix (`lmctheory.ot`): against the dense certified route where both
fit (same values), and alone at sizes whose cost matrix would not fit (fresh process, peak memory).

Run with ``make bench``; tables by tests/benchmarks/report.py.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lmctheory.ot import sparse_assignment, transport

from .paired import paired_rounds, timed

pytestmark = pytest.mark.benchmark
WORKER = Path(__file__).with_name("_sparse_ot_worker.py")


@pytest.mark.parametrize("n, d", [(4000, 5), (8000, 10)])
def test_sparse_against_dense_assignment(benchmark, n, d):
    rng = np.random.default_rng(n)
    x, y = rng.random((n, d)), rng.random((n, d))
    costs = {}
    seconds = paired_rounds(
        benchmark,
        {
            "sparse": timed(lambda: costs.__setitem__("sparse", sparse_assignment(x, y, 2).cost)),
            "dense": timed(lambda: costs.__setitem__("dense", transport(x, y, 2, method="assignment").cost)),
        },
        rounds=2,
    )
    benchmark.extra_info.update(
        sparse=f"n = {n}, d = {d}",
        seconds={k: float(np.median(v)) for k, v in seconds.items()},
        relative_difference=abs(costs["sparse"] - costs["dense"]) / costs["dense"],
    )
    assert costs["sparse"] == pytest.approx(costs["dense"], rel=1e-12)


@pytest.mark.parametrize("n", [50_000, 100_000])
def test_sparse_beyond_the_dense_wall(benchmark, n):
    out = {}

    def run():
        seconds, peak, cost, rounds = subprocess.run(
            [sys.executable, str(WORKER), str(n), "5"], check=True, capture_output=True, text=True
        ).stdout.split()
        out.update(seconds=float(seconds), peak=int(peak), cost=float(cost), rounds=int(rounds))

    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(
        sparse=f"n = {n}, d = 5 (fresh process)",
        seconds={"sparse": out["seconds"]},
        peak_bytes=out["peak"],
        dense_matrix_bytes=8 * n * n,
        rounds=out["rounds"],
    )
