"""Exact W_p without the dense matrix: equal to the dense certified solver on every kind of cloud, exact
where the neighbour graph alone misses the optimum, bounded memory, and errors instead of guesses."""

import tracemalloc
import zlib

import numpy as np
import pytest

from lmctheory.exceptions import ConvergenceError
from lmctheory.ot import optimal_matching, pair_costs, sparse_assignment


def _clouds(kind, n, d, seed):
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return rng.random((n, d)), rng.random((n, d))
    if kind == "clustered":  # unequal counts per cluster in the two clouds: points must cross
        centres = rng.normal(size=(4, d)) * 5
        return (
            centres[rng.integers(0, 4, n)] + 0.1 * rng.normal(size=(n, d)),
            centres[rng.integers(0, 4, n)] + 0.1 * rng.normal(size=(n, d)),
        )
    if kind == "duplicated":  # repeated points within and across the clouds
        base = rng.random((n // 4, d))
        return base[rng.integers(0, n // 4, n)], base[rng.integers(0, n // 4, n)]
    if kind == "ties":  # integer lattice points: many equal costs, many optimal permutations
        return rng.integers(0, 3, (n, d)).astype(float), rng.integers(0, 3, (n, d)).astype(float)
    raise ValueError(kind)


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("kind", ["uniform", "clustered", "duplicated", "ties"])
def test_equal_to_the_dense_certified_solver(kind, p):
    n = 150 if kind == "clustered" else 600  # clustered: SciPy's sparse solver is slow there (see the docs)
    x, y = _clouds(kind, n, 3, seed=zlib.crc32(kind.encode()))
    res = sparse_assignment(x, y, p, k=4)
    _, dense = optimal_matching(x, y, p)
    assert res.cost == pytest.approx(dense, rel=1e-12, abs=1e-300)
    assert np.array_equal(np.sort(res.perm), np.arange(n))  # a permutation, optimal for the clouds as given
    assert pair_costs(x, y, np.arange(n), res.perm, p).mean() == pytest.approx(dense, rel=1e-12)
    assert res.info["certified_relative_gap"] <= 1e-12


def _unequal_clusters():
    """Two far-apart clusters, 60/40 points in x and 40/60 in y: 20 points must cross, and no point's
    nearest neighbours in the other cloud lie in the other cluster."""
    rng = np.random.default_rng(3)
    a, b = np.zeros(2), np.array([100.0, 0.0])
    x = np.vstack([a + rng.normal(size=(60, 2)), b + rng.normal(size=(40, 2))])
    y = np.vstack([a + rng.normal(size=(40, 2)), b + rng.normal(size=(60, 2))])
    return x, y


def test_the_optimum_the_neighbour_graph_misses_is_found_through_the_certificates_arcs():
    x, y = _unequal_clusters()
    res = sparse_assignment(x, y, 2, k=3)
    _, dense = optimal_matching(x, y, 2)
    assert res.cost == pytest.approx(dense, rel=1e-12)
    assert res.rounds >= 2 and sum(res.info["arcs_added_per_round"]) > 0  # the certificate added arcs
    crossing = (x[:, 0] < 50) != (y[res.perm, 0] < 50)
    assert crossing.sum() == 20


def test_a_certificate_that_cannot_close_raises_instead_of_answering():
    x, y = _unequal_clusters()
    with pytest.raises(ConvergenceError, match="did not close within 1 rounds"):
        sparse_assignment(x, y, 2, k=3, max_rounds=1)


def test_memory_stays_far_below_the_dense_matrix_at_20000_points():
    rng = np.random.default_rng(0)
    x, y = rng.random((20_000, 5)), rng.random((20_000, 5))
    tracemalloc.start()
    try:
        res = sparse_assignment(x, y, 2, block_bytes=1 << 25)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    dense = 8 * 20_000**2  # 3.2 GB for the cost matrix alone
    assert peak < dense / 10, peak
    assert res.info["certified_relative_gap"] <= 1e-12


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x: sparse_assignment(x, x[:5]), "same shape"),
        (lambda x: sparse_assignment(x, x, p=3), "p must be 1 or 2"),
        (lambda x: sparse_assignment(np.full((4, 2), np.nan), x[:4]), "NaN"),
        (lambda x: sparse_assignment(np.empty((0, 2)), np.empty((0, 2))), "non-empty"),
        (lambda x: sparse_assignment(x, x, k=0), "k"),
        (lambda x: sparse_assignment(x, x, max_rounds=0), "max_rounds"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call(np.random.default_rng(0).random((10, 2)))


def test_identical_clouds_cost_zero_and_scaling_is_exact():
    rng = np.random.default_rng(5)
    x = rng.random((200, 4))
    assert sparse_assignment(x, x[rng.permutation(200)]).cost == 0.0
    y = rng.random((200, 4))
    base = sparse_assignment(x, y, 2)
    big = sparse_assignment(x * 2.0**40, y * 2.0**40, 2)
    assert big.cost == pytest.approx(base.cost * 2.0**80, rel=1e-12)
    assert np.array_equal(big.perm, base.perm) or big.cost == pytest.approx(base.cost * 2.0**80, rel=1e-12)
