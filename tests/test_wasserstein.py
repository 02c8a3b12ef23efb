"""Exactness of lmctheory.ot against POT, SciPy and closed forms."""

import math
import warnings

import numpy as np
import ot
import pytest
import torch
from scipy.optimize import linear_sum_assignment

import lmctheory.ot._exact as W
from lmctheory.exceptions import ConvergenceError, ProblemTooLargeError
from lmctheory.ot import optimal_matching, sliced_wasserstein, transport, wasserstein
from tests.conftest import run_cli
from tests.helpers import np_save, value_line


def pot_exact_cost(x, y, p, a=None, b=None):
    """Reference W_p^p from POT's network simplex, run to optimality."""
    x = x.reshape(len(x), -1)
    y = y.reshape(len(y), -1)
    a = np.full(len(x), 1 / len(x)) if a is None else a
    b = np.full(len(y), 1 / len(y)) if b is None else b
    M = ot.dist(x, y, metric="euclidean") ** p
    cost, log = ot.emd2(a, b, M, numItermax=10**8, log=True)
    assert log["result_code"] == 1
    return float(cost)


# ------------------------------------------------------------------ Birkhoff


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("n,d", [(5, 2), (60, 3), (300, 10)])
def test_birkhoff_assignment_equals_pot_emd(rng, n, d, p):
    x, y = rng.normal(size=(n, d)), rng.uniform(size=(n, d))
    ref = pot_exact_cost(x, y, p)
    res = transport(x, y, p, method="assignment")
    assert res.method == "assignment"
    assert res.cost == pytest.approx(ref, rel=1e-9)
    assert transport(x, y, p, method="emd").cost == pytest.approx(ref, rel=1e-9)
    assert res.distance == pytest.approx(ref ** (1 / p), rel=1e-9)


@pytest.mark.parametrize("p", [1, 2])
def test_optimal_matching_is_a_permutation_with_the_transport_cost(rng, p):
    x, y = rng.normal(size=(80, 4)), rng.normal(size=(80, 4))
    perm, cost = optimal_matching(x, y, p)
    assert perm.dtype.kind == "i" and sorted(perm.tolist()) == list(range(80))
    assert cost == pytest.approx(np.mean(np.linalg.norm(x - y[perm], axis=1) ** p), rel=1e-12)
    assert cost == pytest.approx(pot_exact_cost(x, y, p), rel=1e-9)


def test_optimal_matching_recovers_a_hidden_permutation(rng):
    x = rng.normal(size=(200, 6))
    hidden = rng.permutation(200)
    y = x[hidden]  # y[j] = x[hidden[j]], so x[i] = y[inverse[i]]
    perm, cost = optimal_matching(x, y)
    inverse = np.empty(200, dtype=int)
    inverse[hidden] = np.arange(200)
    assert cost == 0.0
    np.testing.assert_array_equal(perm, inverse)


def test_optimal_matching_1d_uses_sorting_and_is_optimal(rng):
    x, y = rng.normal(size=50), rng.normal(size=50)
    perm, cost = optimal_matching(x, y, 2)
    M = (x[:, None] - y[None, :]) ** 2
    r, c = linear_sum_assignment(M)
    assert cost == pytest.approx(M[r, c].mean(), rel=1e-12)
    assert np.all(np.diff(y[perm][np.argsort(x)]) >= 0)  # monotone coupling


# ------------------------------------------------------------------ 1-D exact


@pytest.mark.parametrize("p", [1, 1.5, 2, 3])
def test_1d_quantile_coupling_matches_pot_weighted_unequal_sizes(rng, p):
    x, y = rng.normal(size=37), rng.exponential(size=53)
    a, b = rng.dirichlet(np.ones(37)), rng.dirichlet(np.ones(53))
    ref = pot_exact_cost(x, y, p, a, b)
    assert transport(x, y, p, a=a, b=b, method="1d").cost == pytest.approx(ref, rel=1e-9)
    # unweighted, unequal sizes (shared breakpoints i/n, j/m)
    assert transport(x, y, p).cost == pytest.approx(pot_exact_cost(x, y, p), rel=1e-9)
    assert transport(x, y, p).method == "1d"
    # POT's own 1-D routine returns the p-th power
    assert transport(x, y, p, a=a, b=b).cost == pytest.approx(
        float(ot.wasserstein_1d(x, y, a, b, p=p)), rel=1e-9
    )


def test_1d_handles_ties_and_zero_weights(rng):
    x = np.array([0.0, 0.0, 1.0, 1.0, 2.0])
    y = np.array([0.5, 0.5, 3.0])
    a = np.array([0.2, 0.0, 0.3, 0.5, 0.0])
    b = np.array([0.25, 0.25, 0.5])
    assert transport(x, y, 2, a=a, b=b).cost == pytest.approx(pot_exact_cost(x, y, 2, a, b), rel=1e-12)


def test_translation_gives_exactly_the_shift_length_not_its_square(rng):
    x = rng.normal(size=(40, 3))
    shift = np.array([3.0, 0.0, 4.0])  # |shift| = 5
    for p in (1, 2, 3):
        res = transport(x, x + shift, p)
        assert res.distance == pytest.approx(5.0, rel=1e-12)
        assert res.cost == pytest.approx(5.0**p, rel=1e-12)
    assert wasserstein(x, x + shift, 2) == pytest.approx(5.0)  # W_2, not W_2^2 = 25


def test_dirac_against_a_cloud_is_the_weighted_mean_cost(rng):
    y = rng.normal(size=(30, 2))
    b = rng.dirichlet(np.ones(30))
    x = np.array([[0.3, -0.2]])
    expected = float(b @ np.linalg.norm(y - x, axis=1) ** 2)
    assert transport(x, y, 2, b=b).cost == pytest.approx(expected, rel=1e-12)


def test_auto_picks_the_exact_methods(rng):
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    assert transport(x, y).method == "assignment"
    assert transport(x, y[:15]).method == "emd"
    assert transport(x, y, a=np.full(20, 0.05)).method == "emd"
    assert transport(x[:, 0], y[:15, 0]).method == "1d"


# ------------------------------------------------------------ POT pitfalls


def test_large_problem_is_still_optimal_where_pot_defaults_are_not():
    rng = np.random.default_rng(7)
    n = 3000
    x, y = rng.uniform(size=(n, 10)), rng.uniform(size=(n, 10))
    exact = transport(x, y, 2, method="assignment").cost
    ours = transport(x, y, 2, method="emd").cost
    assert ours == pytest.approx(exact, rel=1e-9)
    # POT with its default numItermax either warns or is no better than exact
    a = np.full(n, 1 / n)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        default = ot.emd2(a, a, ot.dist(x, y))
    assert default >= exact * (1 - 1e-9)


def test_non_convergence_raises_instead_of_returning_an_upper_bound(rng, monkeypatch):
    monkeypatch.setattr(W, "_emd_iteration_cap", lambda n, m: 5)
    x, y = rng.normal(size=(60, 3)), rng.normal(size=(50, 3))
    with pytest.raises(ConvergenceError, match="optimality|status"):
        transport(x, y, 2, method="emd")


def test_duality_certificate_rejects_a_non_optimal_cost(rng, monkeypatch):
    x, y = rng.normal(size=(30, 3)), rng.normal(size=(25, 3))
    real = ot.emd2

    def lying_emd2(a, b, M, **kw):
        cost, log = real(a, b, M, **kw)
        return cost * 1.05, log  # claims optimality with a too-large cost

    exact = transport(x, y, 2, method="emd").cost
    monkeypatch.setattr(ot, "emd2", lying_emd2)
    with pytest.raises(ConvergenceError, match="certificate"):  # given weights: no exact fallback
        transport(x, y, 2, a=np.full(30, 1 / 30), b=rng.dirichlet(np.ones(25)), method="emd")
    fallback = transport(x, y, 2, method="emd")  # uniform weights: atoms repeated, assignment route
    assert fallback.method == "assignment" and fallback.cost == pytest.approx(exact, rel=1e-12)


def test_too_large_problems_suggest_sliced_wasserstein(rng, monkeypatch):
    monkeypatch.setenv("LMCTHEORY_MAX_BYTES", "1000")
    x = rng.normal(size=(50, 2))
    with pytest.raises(ProblemTooLargeError, match="sliced_wasserstein"):
        wasserstein(x, x + 1, p=3)
    with pytest.raises(ProblemTooLargeError, match="sliced_wasserstein"):
        wasserstein(x, x + 1, method="assignment")
    with pytest.raises(ProblemTooLargeError, match="sliced_wasserstein"):
        optimal_matching(x, x)
    # p = 1, 2: "auto" takes the sparse exact solver, which never forms the dense matrix
    assert transport(x, x + 1).method == "sparse"
    assert wasserstein(x, x + 1) == pytest.approx(math.sqrt(2.0))  # a translation by (1, 1)
    assert wasserstein(x[:, 0], x[:, 0] + 1) == pytest.approx(1.0)  # 1-D needs no dense matrix


def test_memory_model_is_what_24_gib_allows():
    # 24 GiB machine, half as budget: assignment fits ~25k points per cloud, emd ~18k
    budget = 12 * 2**30
    n_assign = math.isqrt(budget // W._BYTES_PER_ENTRY["assignment"])
    assert W.dense_problem_bytes(n_assign, n_assign, "assignment") <= budget
    assert W.dense_problem_bytes(n_assign + 1, n_assign + 1, "assignment") > budget
    assert 20_000 < n_assign < 40_000


@pytest.mark.parametrize("method", ["assignment", "emd"])
def test_memory_model_bounds_the_measured_peak(method):
    """Peak numpy allocations of an exact solve lie between the cost matrix and the model's estimate."""
    import tracemalloc

    rng = np.random.default_rng(0)
    n = 600
    x, y = rng.random((n, 5)), rng.random((n, 5))
    transport(x, y, 2, method=method)  # imports and first-call allocations out of the way
    tracemalloc.start()
    try:
        transport(x, y, 2, method=method)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 8 * n * n <= peak <= W.dense_problem_bytes(n, n, method)


# ------------------------------------------------------------------ weights


@pytest.mark.parametrize(
    "a,match",
    [
        (np.full(10, 0.2), "sum to 1"),
        (np.r_[-0.1, np.full(9, 1.1 / 9)], "negative"),
        (np.r_[np.nan, np.full(9, 1 / 9)], "non-finite"),
        (np.full(9, 1 / 9), "9 weights but there are 10 points"),
        (np.full((10, 1), 0.1), "1-D"),
    ],
)
def test_bad_weights_are_rejected_naming_the_argument(rng, a, match):
    x, y = rng.normal(size=(10, 2)), rng.normal(size=(12, 2))
    with pytest.raises(ValueError, match=match) as info:
        transport(x, y, a=a)
    assert str(info.value).startswith("a ")


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"x": np.array([[0.0, np.nan]])}, ValueError, "x contains 1 non-finite"),
        ({"y": np.array([[np.inf, 0.0]])}, ValueError, "y contains 1 non-finite"),
        ({"y": np.zeros((3, 3))}, ValueError, "same dimension"),
        ({"x": np.zeros((0, 2))}, ValueError, "x is empty"),
        ({"x": np.zeros((2, 2, 2))}, ValueError, "x must be a 1-D array"),
        ({"x": np.array([["a", "b"]])}, TypeError, "x must be numeric"),
        ({"p": 0.5}, ValueError, "p must be a finite real number >= 1"),
        ({"p": float("nan")}, ValueError, "p must be"),
        ({"p": "2"}, TypeError, "p must be a real number"),
        ({"method": "sinkhorn"}, ValueError, "method must be one of"),
    ],
)
def test_bad_input_raises_naming_the_argument(kwargs, exc, match):
    args = {"x": np.zeros((2, 2)), "y": np.ones((2, 2)), "p": 2, "method": "auto"} | kwargs
    with pytest.raises(exc, match=match):
        wasserstein(args["x"], args["y"], args["p"], method=args["method"])


def test_method_preconditions(rng):
    x, y = rng.normal(size=(5, 2)), rng.normal(size=(6, 2))
    with pytest.raises(ValueError, match="assignment.*equal sizes"):
        transport(x, y, method="assignment")
    with pytest.raises(ValueError, match="1d.*d = 1"):
        transport(x, y, method="1d")
    with pytest.raises(ValueError, match="equal size"):
        optimal_matching(x, y)


def test_torch_tensors_and_float32_are_accepted(rng):
    x, y = rng.normal(size=(30, 4)), rng.normal(size=(30, 4))
    ref = wasserstein(x, y)
    assert wasserstein(torch.tensor(x), torch.tensor(y)) == pytest.approx(ref, rel=1e-12)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    assert wasserstein(x32, y32) == pytest.approx(ref, rel=1e-5)


# ------------------------------------------------------------------- sliced


def test_sliced_equals_pot_with_the_same_directions(rng):
    x, y = rng.normal(size=(40, 5)), rng.uniform(size=(55, 5))
    a, b = rng.dirichlet(np.ones(40)), rng.dirichlet(np.ones(55))
    theta = W.random_directions(64, 5, seed=3)
    for kw in ({}, {"a": a, "b": b}):
        ours = sliced_wasserstein(x, y, 2, n_projections=64, seed=3, **kw)
        ref = ot.sliced_wasserstein_distance(x, y, kw.get("a"), kw.get("b"), p=2, projections=theta.T)
        assert ours == pytest.approx(float(ref), rel=1e-9)


def test_sliced_in_one_dimension_is_exact_and_below_w_in_general(rng):
    x, y = rng.normal(size=70), rng.normal(size=70) + 0.3
    assert sliced_wasserstein(x, y, 2, n_projections=3, seed=0) == pytest.approx(wasserstein(x, y), rel=1e-12)
    X, Y = rng.normal(size=(100, 8)), rng.normal(size=(100, 8))
    assert sliced_wasserstein(X, Y, 2, n_projections=500, seed=0) < wasserstein(X, Y)


def test_sliced_gaussian_sample_complexity_is_dimension_free():
    # every projection of an N(0, I_d) sample is an N(0,1) sample (theory-sliced)
    def mean_sw2(d, reps=200, n=64):
        rng = np.random.default_rng(d)
        vals = [
            sliced_wasserstein(
                rng.normal(size=(n, d)), rng.normal(size=(n, d)), 2, n_projections=20, seed=rng
            )
            ** 2
            for _ in range(reps)
        ]
        return np.mean(vals), np.std(vals) / math.sqrt(reps)

    m1, s1 = mean_sw2(1)
    m10, s10 = mean_sw2(10)
    assert abs(m1 - m10) < 4 * math.hypot(s1, s10)


def test_sliced_bad_input(rng):
    x = rng.normal(size=(5, 2))
    with pytest.raises(ValueError, match="n_projections"):
        sliced_wasserstein(x, x, n_projections=0)
    with pytest.raises(ValueError, match="p must be"):
        sliced_wasserstein(x, x, p=0)


def test_auto_uses_the_sparse_exact_solver_where_it_was_measured_faster_or_the_dense_one_cannot_fit(
    monkeypatch,
):
    from lmctheory.ot._exact import SPARSE_FROM, _resolve_method

    assert _resolve_method("auto", SPARSE_FROM, SPARSE_FROM, 5, True, 2) == "sparse"
    assert _resolve_method("auto", SPARSE_FROM, SPARSE_FROM, 5, True, 1) == "sparse"
    assert _resolve_method("auto", SPARSE_FROM - 1, SPARSE_FROM - 1, 5, True, 2) == "assignment"
    assert _resolve_method("auto", SPARSE_FROM, SPARSE_FROM, 11, True, 2) == "assignment"
    assert _resolve_method("auto", SPARSE_FROM, SPARSE_FROM, 2, True, 2) == "assignment"  # far slower in 2-D
    assert _resolve_method("auto", SPARSE_FROM, SPARSE_FROM, 10, True, 1) == "assignment"
    assert _resolve_method("auto", SPARSE_FROM, SPARSE_FROM, 5, True, 3) == "assignment"
    assert _resolve_method("auto", SPARSE_FROM, SPARSE_FROM, 5, False, 2) == "emd"
    monkeypatch.setenv("LMCTHEORY_MAX_BYTES", "1e6")  # the dense 500 x 500 problem no longer fits
    assert _resolve_method("auto", 500, 500, 30, True, 2) == "sparse"
    assert _resolve_method("auto", 500, 500, 30, True, 3) == "assignment"  # and then raises: too large


@pytest.mark.parametrize("p", [1, 2])
def test_the_sparse_method_equals_the_dense_assignment(p):
    rng = np.random.default_rng(p)
    x, y = rng.normal(size=(300, 4)) * 1e3, rng.normal(size=(300, 4)) * 1e3 + 5.0  # scaled back exactly
    sparse = transport(x, y, p, method="sparse")
    dense = transport(x, y, p, method="assignment")
    assert sparse.method == "sparse" and dense.method == "assignment"
    assert sparse.cost == pytest.approx(dense.cost, rel=1e-12)
    assert sparse.distance == pytest.approx(dense.distance, rel=1e-12)


def test_auto_falls_back_to_the_dense_route_when_the_sparse_one_cannot_certify(monkeypatch):
    import lmctheory.ot._sparse as sparse_ot
    from lmctheory.exceptions import ConvergenceError

    def refuse(*args, **kwargs):
        raise ConvergenceError("not certified")

    monkeypatch.setattr(sparse_ot, "sparse_assignment", refuse)
    monkeypatch.setattr("lmctheory.ot._exact.SPARSE_FROM", 10)
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 3)), rng.random((40, 3))
    assert transport(x, y, 2).method == "assignment"
    with pytest.raises(ConvergenceError):
        transport(x, y, 2, method="sparse")


@pytest.mark.parametrize(
    "kwargs, message",
    [({"p": 3}, "method='sparse' supports p = 1 and p = 2"), ({"y_rows": 5}, "needs equal sizes")],
)
def test_the_sparse_method_names_what_it_cannot_do(kwargs, message):
    rng = np.random.default_rng(0)
    x, y = rng.random((6, 2)), rng.random((kwargs.get("y_rows", 6), 2))
    with pytest.raises(ValueError, match=message):
        transport(x, y, kwargs.get("p", 2), method="sparse")


# ------------------------------------------------ cases of the adversarial review of acd35e6


def test_w_p_for_p_between_100_and_540_is_not_too_large(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 05: W_p for 100 < p < 540 too large."""
    monkeypatch.chdir(tmp_path)
    from lmctheory.ot import wasserstein

    rng = np.random.default_rng(0)
    x, y = rng.random((20, 3)), rng.random((20, 3))
    assert wasserstein(x, y, p=200) == pytest.approx(0.54681, abs=5e-6)
    assert 0.5468 <= wasserstein(x, y, p=500) <= 0.5551  # within [W_inf n^-1/p, W_inf]


def test_w_p_for_p_beyond_540_is_not_zero(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 06: W_p = 0 for p >= 540."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    from lmctheory.ot import wasserstein

    assert wasserstein(np.array([0.0]), np.array([1.0]), p=1000) == 1.0
    x, y = np_save(tmp / "x.npy", [0.0]), np_save(tmp / "y.npy", [1.0])
    assert value_line(run_cli("wasserstein", x, y, "--p", "1e6"), "W_1e+06") == 1.0


def test_emd_does_not_certify_a_value_twice_the_optimum(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 07: Method='emd' certified a 2x value."""
    monkeypatch.chdir(tmp_path)
    from lmctheory.ot import wasserstein

    rng = np.random.default_rng(1)
    x, y = 1e-9 * rng.random((30, 2)), 1e-9 * rng.random((30, 2))
    x[0] = y[0] = [1, 0]
    assert wasserstein(x, y, method="emd") == pytest.approx(2.212e-10, rel=1e-3)


def test_unequal_sizes_at_scale_1e_minus_9_are_exact(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 08: Unequal sizes, 19x too large."""
    monkeypatch.chdir(tmp_path)
    from lmctheory.ot import transport

    rng = np.random.default_rng(1)
    x, y = 1e-9 * rng.random((10, 2)), 1e-9 * rng.random((20, 2))
    x[0] = y[0] = y[1] = [1, 0]
    assert transport(x, y, 2).distance == pytest.approx(2.733e-10, rel=1e-3)


def test_assignment_route_at_scale_1e_minus_25_is_exact(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 09: Assignment route at scale 1e-25."""
    monkeypatch.chdir(tmp_path)
    from lmctheory.ot import wasserstein

    rng = np.random.default_rng(1)
    x, y = 1e-25 * rng.random((30, 2)), 1e-25 * rng.random((30, 2))
    x[0] = y[0] = [1, 0]
    assert wasserstein(x, y) == pytest.approx(2.212e-26, rel=1e-3)


def test_one_dimensional_w2_near_1e308_is_finite(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 10: 1-D W_2 NaN near 1e308."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    a, b = np_save(tmp / "a.npy", [5e307, 0.0]), np_save(tmp / "b.npy", [0.0, 0.0])
    assert value_line(run_cli("wasserstein", a, b), "W_2") == pytest.approx(5e307 / np.sqrt(2), rel=1e-9)
