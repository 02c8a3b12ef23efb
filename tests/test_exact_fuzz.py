"""Standing adversarial fuzz of the exact solvers: cost matrices and point clouds with dynamic range up to
1e+-300, ties, coinciding points and orders p up to 1e3. Every answer is checked against brute force over
all permutations (computed in log space, so that nothing under- or overflows): the returned value is within
a relative 1e-9 of the optimum, or the solver raised ConvergenceError. Never a certified wrong value."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lmctheory.exceptions import ConvergenceError
from lmctheory.ot import solve_assignment, transport
from tests.conftest import examples

FUZZ = settings(
    max_examples=examples(120),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def brute_force_assignment(C: np.ndarray) -> float:
    n = len(C)
    return min(math.fsum(C[i, s[i]] for i in range(n)) for s in itertools.permutations(range(n)))


@st.composite
def adversarial_matrices(draw):
    n = draw(st.integers(1, 7))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["exp", "scaled", "ties", "mixed", "extreme_rows", "cluster"]))
    if kind == "exp":  # entries from 1 down to 1e-300: the optimum lives among the tiny ones
        C = np.exp(-draw(st.floats(0, 690)) * rng.random((n, n)))
    elif kind == "scaled":
        C = rng.random((n, n)) * 10.0 ** draw(st.integers(-300, 300))
    elif kind == "ties":
        C = rng.integers(0, 3, (n, n)).astype(float) * 10.0 ** draw(st.integers(-300, 300))
    elif kind == "mixed":
        C = rng.standard_normal((n, n)) * 10.0 ** draw(st.integers(-300, 300))
    elif kind == "extreme_rows":  # the native-heap-corruption case of the review: +-1e308 rows and columns
        C = rng.random((n, n))
        C[0, :] = draw(st.sampled_from([1e308, 1.7e308, 1e300]))
        C[:, 0] = -draw(st.sampled_from([1e308, 1.7e308, 1e300]))
    else:  # a tiny cluster and one far entry per row
        C = rng.random((n, n)) * 10.0 ** -draw(st.integers(10, 300))
        C[rng.integers(0, n), :] += 1.0
    return C


@FUZZ
@given(C=adversarial_matrices(), maximize=st.booleans())
def test_assignment_is_optimal_to_a_relative_1e9_or_raises(C, maximize):
    try:
        perm = solve_assignment(C, maximize=maximize)
    except ConvergenceError:
        event("ConvergenceError")
        return
    target = -C if maximize else C
    target = np.ldexp(target, -int(np.frexp(np.abs(target).max())[1]))  # exact rescale: sums cannot overflow
    value = math.fsum(target[np.arange(len(C)), perm])
    best = brute_force_assignment(target)
    scale = abs(best) if target.min() >= 0 else math.fsum(np.abs(target).max(axis=1))
    assert value - best <= 1e-9 * scale, (value, best)


def log_costs(x: np.ndarray, y: np.ndarray, p: float) -> np.ndarray:
    """p log|x_i - y_j| with the norm formed without under/overflow (-inf for coinciding points)."""
    diff = np.abs(x[:, None, :] - y[None, :, :])
    top = diff.max(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = top * np.sqrt(((diff / np.where(top > 0, top, 1)[..., None]) ** 2).sum(axis=2))
        return p * np.log(norm)


def brute_force_wp(x: np.ndarray, y: np.ndarray, p: float) -> float:
    """Exact W_p between equal uniform clouds: the min over permutations of the mean cost, in log space."""
    L = log_costs(x, y, p)
    n = len(x)
    best = -math.inf if np.isneginf(L).all() else None
    for s in itertools.permutations(range(n)):
        terms = L[np.arange(n), list(s)]
        top = terms.max()
        log_total = top + math.log(math.fsum(np.exp(terms - top))) if np.isfinite(top) else -math.inf
        best = log_total if best is None or log_total < best else best
    return 0.0 if best == -math.inf else math.exp((best - math.log(n)) / p)


@st.composite
def adversarial_clouds(draw, max_points=6):
    n = draw(st.integers(1, max_points))
    d = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = 10.0 ** draw(st.integers(-300, 300))
    kind = draw(st.sampled_from(["uniform", "cluster_and_far_atom", "duplicates", "lattice"]))
    x, y = rng.random((n, d)), rng.random((n, d))
    if kind == "cluster_and_far_atom":  # the review's case: a tiny cluster next to a shared far atom
        tiny = 10.0 ** -draw(st.integers(5, 150))
        x, y = x * tiny, y * tiny
        x[0] = y[0] = 1.0
    elif kind == "duplicates":
        y = x[rng.permutation(n)].copy()
        y[0] = x[0] if n == 1 else y[0]
        y[-1] += rng.random(d) * 10.0 ** -draw(st.integers(0, 200))
    elif kind == "lattice":
        x, y = rng.integers(0, 3, (n, d)).astype(float), rng.integers(0, 3, (n, d)).astype(float)
    if not (np.isfinite(x * scale).all() and np.isfinite(y * scale).all()):
        scale = 1.0
    return x * scale, y * scale


@FUZZ
@given(
    clouds=adversarial_clouds(),
    p=st.sampled_from([1.0, 2.0, 3.5, 10.0, 100.0, 540.0, 1000.0]),
    method=st.sampled_from(["auto", "emd"]),
)
def test_wasserstein_is_exact_to_a_relative_1e9_or_raises(clouds, p, method):
    x, y = clouds
    if method == "emd" and x.shape[1] == 1:
        method = "auto"
    try:
        result = transport(x, y, p, method=method)
    except ConvergenceError:
        event("ConvergenceError")
        return
    event(f"method {result.method}")
    exact = brute_force_wp(x, y, p)
    assert abs(result.distance - exact) <= 1e-9 * exact, (result, exact)
    if 0 < exact and abs(p * math.log(exact)) < 700:
        assert result.cost == pytest.approx(exact**p, rel=1e-8)


@FUZZ
@given(data=st.data(), p=st.sampled_from([1.0, 2.0, 10.0, 300.0]))
def test_unequal_uniform_clouds_are_exact_or_raise(data, p):
    """n vs m uniform points is lcm(n, m) vs lcm(n, m) once atoms are repeated: brute force there."""
    n, m = data.draw(st.sampled_from([(2, 4), (3, 6), (2, 3), (1, 5), (4, 2), (6, 3)]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    tiny = 10.0 ** -data.draw(st.integers(0, 120))
    x, y = rng.random((n, 2)) * tiny, rng.random((m, 2)) * tiny
    x[0] = y[0] = 1.0  # a shared far atom next to a tiny cluster
    try:
        result = transport(x, y, p)
    except ConvergenceError:
        event("ConvergenceError")
        return
    event(f"method {result.method}")
    size = math.lcm(n, m)
    exact = brute_force_wp(np.repeat(x, size // n, axis=0), np.repeat(y, size // m, axis=0), p)
    assert abs(result.distance - exact) <= 1e-9 * exact, (result, exact)


@pytest.mark.parametrize("p,expected", [(1000.0, 1.0), (1e6, 1.0), (540.0, 1.0)])
def test_huge_p_on_the_line(p, expected):
    result = transport(np.array([0.0]), np.array([1.0]), p)
    assert result.distance == expected and result.cost == 1.0


def test_review_cases_are_exact():
    from scipy.optimize import linear_sum_assignment

    C = np.exp(-200 * np.random.default_rng(174).random((6, 6)))
    r, c = linear_sum_assignment(C)
    assert C[np.arange(6), solve_assignment(C)].sum() == pytest.approx(C[r, c].sum(), rel=1e-12)
    rng = np.random.default_rng(0)
    x, y = rng.random((20, 3)), rng.random((20, 3))
    assert transport(x, y, 200).distance == pytest.approx(0.5468062000018635, rel=1e-12)  # mpmath reference
    rng = np.random.default_rng(1)
    x, y = 1e-9 * rng.random((30, 2)), 1e-9 * rng.random((30, 2))
    x[0] = y[0] = [1, 0]
    assert transport(x, y, method="emd").distance == pytest.approx(2.2122331977525641e-10, rel=1e-9)
    rng = np.random.default_rng(1)
    x, y = 1e-9 * rng.random((10, 2)), 1e-9 * rng.random((20, 2))
    x[0] = y[0] = y[1] = [1, 0]
    assert transport(x, y, 2).distance == pytest.approx(2.7327219104836304e-10, rel=1e-9)
    assert transport(np.array([5e307, 0.0]), np.zeros(2)).distance == pytest.approx(5e307 / math.sqrt(2))
    assert transport(np.array([[1e308, 0], [0, 0]]), np.array([[1e308, 1], [0, 1]])).distance == 1.0
    bad = np.random.default_rng(0).random((8, 8))
    bad[0, :], bad[:, 0] = 1e308, -1e308
    perm = solve_assignment(bad)  # native heap corruption before: now range-checked and certified
    assert perm[0] == 0 and sorted(perm) == list(range(8))
