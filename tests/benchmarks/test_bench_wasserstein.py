"""Exact W_2 against the exact peers, and sliced W against exact (pytest-benchmark).

Run with ``make bench`` (not part of the default test run). Every benchmark
records in ``extra_info`` the value it computed and its relative difference to
the exact W_2^2, so speed is never reported without correctness.
"""

import warnings

import numpy as np
import ot
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from lmctheory.ot import sliced_wasserstein, transport

pytestmark = pytest.mark.benchmark

SIZES = [1000, 2000, 4000, 8000]
ROUNDS = {1000: 9, 2000: 5, 4000: 3, 8000: 1}
D = 10


def clouds(n):
    rng = np.random.default_rng(n)
    return rng.uniform(size=(n, D)), rng.uniform(size=(n, D))


_EXACT = {}


def exact_cost(n):
    if n not in _EXACT:
        x, y = clouds(n)
        M = cdist(x, y, "sqeuclidean")
        r, c = linear_sum_assignment(M)
        _EXACT[n] = float(M[r, c].mean())
    return _EXACT[n]


def ours(x, y):
    return transport(x, y, 2).cost


def scipy_lsa(x, y):
    M = cdist(x, y, "sqeuclidean")
    r, c = linear_sum_assignment(M)
    return float(M[r, c].mean())


def pot_default(x, y):
    """POT as most users call it: default numItermax (stops early for n >~ 3000, with a warning)."""
    n = len(x)
    a = np.full(n, 1 / n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(ot.emd2(a, a, ot.dist(x, y)))


def pot_exact(x, y):
    n = len(x)
    a = np.full(n, 1 / n)
    return float(ot.emd2(a, a, ot.dist(x, y), numItermax=10**8))


SOLVERS = {
    "lmctheory": ours,
    "scipy_lsa": scipy_lsa,
    "pot_emd2_default": pot_default,
    "pot_emd2_exact": pot_exact,
}


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_exact_w2(benchmark, solver, n):
    x, y = clouds(n)
    benchmark.group = f"exact W2 n={n} d={D}"
    benchmark.extra_info.update(solver=solver, n=n, d=D)
    value = benchmark.pedantic(SOLVERS[solver], args=(x, y), rounds=ROUNDS[n], iterations=1)
    rel = abs(value - exact_cost(n)) / exact_cost(n)
    benchmark.extra_info["relative_error"] = rel
    if solver != "pot_emd2_default":  # the default POT settings are known to stop early
        assert rel < 1e-9


def test_sliced_vs_exact(benchmark):
    n = 4000
    x, y = clouds(n)
    benchmark.group = f"sliced vs exact n={n} d={D}"
    value = benchmark.pedantic(
        sliced_wasserstein, args=(x, y, 2), kwargs={"n_projections": 200, "seed": 0}, rounds=5, iterations=1
    )
    exact = exact_cost(n) ** 0.5
    benchmark.extra_info.update(
        solver="sliced_200",
        n=n,
        d=D,
        sliced=value,
        exact=exact,
        relative_difference=abs(value - exact) / exact,
    )
    assert value < exact  # SW_p <= W_p
