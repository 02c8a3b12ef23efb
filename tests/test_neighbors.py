"""Exact k-NN search: agreement with scikit-learn and brute force, ties, the float32 certificate."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.neighbors import NearestNeighbors

import lmctheory.dimension._neighbors as neighbors_module
from lmctheory.dimension import nearest_neighbors
from lmctheory.dimension._neighbors import _kth_smallest_bound, _principal_coordinates
from tests.conftest import examples


def brute_force(X, k):
    """Float64 direct differences, ties ordered by index: the definition."""
    d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    order = np.lexsort((np.broadcast_to(np.arange(len(X)), d2.shape), d2), axis=1)[:, :k]
    return np.sqrt(np.take_along_axis(d2, order, axis=1)), order


def clouds():
    rng = np.random.default_rng(0)
    low_rank = rng.normal(size=(3000, 6)) @ rng.normal(size=(6, 40))
    return {
        "gaussian D=20": rng.normal(size=(3000, 20)),
        "rank 6 in D=40 (rotated screen)": low_rank,
        "rank 6 + 1e-3 noise": low_rank + 1e-3 * rng.normal(size=low_rank.shape),
        "offset 1e6": rng.normal(size=(2000, 10)) + 1e6,
        "scale 1e-30": rng.normal(size=(1500, 8)) * 1e-30,
        "scale 1e30": rng.normal(size=(1500, 8)) * 1e30,
        "line": rng.normal(size=(1000, 1)),
        "plane": rng.normal(size=(2000, 2)),
    }


@pytest.mark.parametrize("name", list(clouds()))
def test_agrees_with_scikit_learn(name):
    X = clouds()[name]
    k = 15
    dist, idx = nearest_neighbors(X, k)
    # scikit-learn's brute force uses |x|^2 + |y|^2 - 2 x.y, whose error is relative to |x|^2
    # (3e-3 relative on the offset cloud): it gets the centred cloud, the same distances
    Xc = X - X.mean(0)
    ref_dist, ref_idx = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(Xc).kneighbors()
    assert dist == pytest.approx(ref_dist, rel=1e-9, abs=1e-9 * float(np.abs(Xc).max()))
    assert np.mean(idx == ref_idx) > 0.999
    assert np.all(np.diff(dist, axis=1) >= 0)


@pytest.mark.parametrize("name", list(clouds()))
def test_equals_brute_force_on_rows(name):
    X = clouds()[name]
    k = 15
    dist, idx = nearest_neighbors(X, k)
    rows = np.random.default_rng(1).choice(len(X), 40, replace=False)
    for i in rows:
        d2 = ((X - X[i]) ** 2).sum(1)
        d2[i] = np.inf
        order = np.lexsort((np.arange(len(X)), d2))[:k]
        np.testing.assert_array_equal(idx[i], order)
        np.testing.assert_allclose(dist[i], np.sqrt(d2[order]), rtol=1e-14, atol=0)


def test_low_rank_data_uses_a_short_screen():
    X = clouds()["rank 6 in D=40 (rotated screen)"]
    Y, p, delta = _principal_coordinates(X - X.mean(0))
    assert p == 6 and delta < 1e-12
    _, p_full, _ = _principal_coordinates(clouds()["gaussian D=20"])
    assert p_full == 20


@pytest.mark.parametrize("zero_columns", [0, 5, 9], ids=["D=3 k-d tree", "D=8 screen", "D=12 rotated screen"])
def test_ties_and_duplicates_are_ordered_by_index(zero_columns):
    grid = np.stack(np.meshgrid(np.arange(6), np.arange(6), np.arange(3)), -1).reshape(-1, 3).astype(float)
    X = np.vstack([grid, grid[:10]])  # ten duplicated points: neighbours at distance 0
    X = np.hstack([X, np.zeros((len(X), zero_columns))]) @ np.eye(3 + zero_columns)[::-1]
    for k in (1, 6, 30, len(X) - 1):
        dist, idx = nearest_neighbors(X, k)
        ref_dist, ref_idx = brute_force(X, k)
        np.testing.assert_array_equal(idx, ref_idx)
        np.testing.assert_array_equal(dist, ref_dist)
    assert nearest_neighbors(X, 1)[0][0, 0] == 0.0


def near_ties():
    """A point at the origin and 2000 others at radii 1 + 1e-9 j: float32 cannot order them."""
    rng = np.random.default_rng(3)
    directions = rng.normal(size=(2000, 10))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    radii = 1 + 1e-9 * rng.permutation(2000)
    return np.vstack([np.zeros(10), directions * radii[:, None]])


def test_neighbours_closer_than_float32_resolution_are_exact():
    X = near_ties()
    dist, idx = nearest_neighbors(X, 25)
    ref_dist, ref_idx = brute_force(X, 25)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-15)


def test_the_rounding_margin_is_what_makes_near_ties_exact(monkeypatch):
    """Without the error bound E the float32 screen drops true neighbours on near_ties()."""
    original = neighbors_module._Screen.__init__

    def no_margin(self, X, k):
        original(self, X, k)
        self.err = np.zeros_like(self.err)

    monkeypatch.setattr(neighbors_module._Screen, "__init__", no_margin)
    X = near_ties()
    _, idx = nearest_neighbors(X, 25)
    assert not np.array_equal(idx[0], brute_force(X, 25)[1][0])


@pytest.mark.parametrize("k", [1, 7, 25])
def test_the_bound_tightened_tile_by_tile_keeps_the_search_exact(monkeypatch, k):
    """Tiles of 97 columns: tau drops after each of ~30 tiles, on near ties, a sorted cloud (late rows
    see only far columns first) and duplicates."""
    monkeypatch.setattr(neighbors_module, "_TILE_COLUMNS", 97)
    rng = np.random.default_rng(5)
    line = rng.normal(size=(2500, 12)) * np.geomspace(1, 1e-3, 12)
    duplicated = rng.normal(size=(1200, 6))
    for X in (near_ties(), line[np.argsort(line[:, 0])], np.vstack([duplicated, duplicated[::3]])):
        dist, idx = nearest_neighbors(X, k)
        ref_dist, ref_idx = brute_force(X, k)
        np.testing.assert_array_equal(idx, ref_idx)
        np.testing.assert_allclose(dist, ref_dist, rtol=1e-15)


@pytest.mark.parametrize("k", [1, 3, 20])
@pytest.mark.parametrize("columns", [5, 8 * 3, 64 * 20 + 7])
def test_kth_smallest_bound_has_k_columns_below_it(k, columns):
    """The first bound is an upper bound because at least k distinct columns lie at or below it
    (groups that shared a column would break this on tie-heavy rows); with fewer than 8 k columns
    it is the exact k-th smallest."""
    if columns <= k:
        pytest.skip("needs more than k columns")
    rng = np.random.default_rng(k * columns)
    rows = [rng.random((50, columns)), rng.integers(0, 4, (50, columns)).astype(float)]
    spiky = np.full((50, columns), 9.0)
    spiky[:, rng.integers(0, columns)] = 0.0  # one tiny value per row, the rest equal
    spiky[:, 0] = np.inf  # the point itself
    for values in [*rows, spiky]:
        bound = _kth_smallest_bound(values.copy(), k)
        exact = np.partition(values, k - 1, axis=1)[:, k - 1]
        assert ((values <= bound[:, None]).sum(axis=1) >= k).all()
        assert (bound >= exact).all()
        if columns < 8 * k:
            np.testing.assert_array_equal(bound, exact)


def test_threads_do_not_change_the_result():
    X = clouds()["rank 6 + 1e-3 noise"]
    one = nearest_neighbors(X, 10, n_jobs=1)
    two = nearest_neighbors(X, 10, n_jobs=2)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])


def test_concurrent_searches_are_exact_and_restore_blas_threads():
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    def blas_threads():
        return sorted(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")

    before = blas_threads()
    clouds_ = [np.random.default_rng(s).normal(size=(1500, 12)) for s in range(6)]
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda X: nearest_neighbors(X, 5), clouds_))
    assert blas_threads() == before
    for X, (dist, idx) in zip(clouds_, results, strict=True):
        ref_dist, ref_idx = brute_force(X, 5)
        np.testing.assert_array_equal(idx, ref_idx)
        np.testing.assert_allclose(dist, ref_dist, rtol=1e-14)


def test_no_n_by_n_matrix():
    X = np.random.default_rng(0).normal(size=(8000, 5))
    tracemalloc.start()
    nearest_neighbors(X, 10, n_jobs=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8000**2 * 4 / 8  # an eighth of one float32 n x n matrix


@settings(max_examples=examples(60), deadline=None)
@given(
    n=st.integers(2, 40),
    d=st.integers(1, 7),
    k_frac=st.floats(0, 1),
    seed=st.integers(0, 2**32 - 1),
    exponent=st.integers(-60, 60),
)
def test_property_equals_brute_force(n, d, k_frac, seed, exponent):
    """Small integer clouds (many ties, duplicates) at any power-of-two scale; tree and screen."""
    X = np.random.default_rng(seed).integers(-3, 4, size=(n, d)).astype(float) * 2.0**exponent
    k = 1 + int(k_frac * (n - 2))
    dist, idx = nearest_neighbors(X, k)
    ref_dist, ref_idx = brute_force(X, k)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(dist, ref_dist)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(X=np.ones((5, 2)), k=0), "k must be an integer >= 1"),
        (dict(X=np.ones((5, 2)), k=5), "k=5 neighbours need at least k + 1 = 6 points"),
        (dict(X=np.ones((5, 2)), k=1.5), "k must be an integer"),
        (dict(X=np.array([[0.0, np.nan], [1, 1]]), k=1), "X contains 1 non-finite"),
        (dict(X=np.ones((1, 2)), k=1), "X has 1 point(s); need at least 2"),
        (dict(X=np.ones((4, 2)), k=1, n_jobs=0), "n_jobs must be an integer >= 1"),
    ],
)
def test_bad_input(kwargs, message):
    with pytest.raises(
        (ValueError, TypeError), match=message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")
    ):
        nearest_neighbors(**kwargs)
