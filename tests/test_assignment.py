"""lmctheory.ot: the certified float32 Jonker-Volgenant route against SciPy's exact solver."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

import lmctheory.ot._assignment as A
from lmctheory.ot import certify, solve_assignment
from tests.conftest import examples

needs_lapjv = pytest.mark.skipif("lapjv" not in A.available_solvers(), reason="lapjv not installed")


def optimum(C):
    r, c = linear_sum_assignment(C)
    return C[r, c].sum()


def value(C, perm):
    return C[np.arange(len(perm)), perm].sum()


def tolerance(C, maximize=False):
    """What the certificate guarantees: a relative RTOL of the optimum when the minimised matrix is
    non-negative, of sum_i max_j |C_ij| otherwise; plus the rounding of summing the objective here."""
    minimised = -C if maximize else C
    rows = np.abs(C).max(axis=1).sum()
    reference = abs(optimum(minimised)) if minimised.min() >= 0 else rows
    return (2 * A.RTOL + 4 * len(C) * np.finfo(float).eps) * reference


@st.composite
def cost_matrices(draw):
    n = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    kind = draw(st.sampled_from(["uniform", "ties", "near_constant", "clouds", "negative"]))
    scale = 10.0 ** draw(st.integers(-200, 200))
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        C = rng.random((n, n))
    elif kind == "ties":  # many optimal assignments
        C = rng.integers(0, 3, (n, n)).astype(float)
    elif kind == "near_constant":  # differences float32 cannot see at the scale of the entries
        C = 1.0 + 1e-10 * rng.random((n, n))
    elif kind == "clouds":
        C = cdist(rng.random((n, 3)), rng.random((n, 3)), "sqeuclidean")
    else:
        C = rng.standard_normal((n, n))
    return C * scale


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(C=cost_matrices(), maximize=st.booleans())
def test_every_route_is_optimal(C, maximize):
    perm, route = A._solve(C, maximize=maximize)
    assert sorted(perm) == list(range(len(C)))
    target = -optimum(-C) if maximize else optimum(C)
    assert abs(value(C, perm) - target) <= tolerance(C, maximize)
    assert route in ("row-minima", "lapjv", "scipy", "scipy-fallback")


@needs_lapjv
@pytest.mark.parametrize("n", [200, 700])
@pytest.mark.parametrize("law", ["uniform", "normal"])
def test_fast_route_is_taken_and_exact_on_clouds(n, law):
    rng = np.random.default_rng(n)
    draw = rng.uniform if law == "uniform" else rng.standard_normal
    C = cdist(draw(size=(n, 10)), draw(size=(n, 10)), "sqeuclidean")
    perm, route = A._solve(C)
    assert route == "lapjv"  # certified, no fallback
    assert abs(value(C, perm) - optimum(C)) <= tolerance(C)
    assert np.array_equal(perm, solve_assignment(C, solver="scipy")) or abs(
        value(C, perm) - value(C, solve_assignment(C, solver="scipy"))
    ) <= tolerance(C)


def test_certificate_accepts_the_optimum_and_rejects_a_suboptimal_permutation():
    rng = np.random.default_rng(3)
    C = rng.random((60, 60))
    best = solve_assignment(C, solver="scipy")
    assert certify(C, best)
    worse = best.copy()
    # swap the pair whose exchange costs the most: strictly suboptimal
    i, j = 0, int(np.argmax(C[0, best] + C[np.arange(60), best[0]]))
    worse[[i, j]] = worse[[j, i]]
    assert value(C, worse) > value(C, best)
    assert not certify(C, worse)


@needs_lapjv
def test_wrong_or_invalid_candidates_fall_back_to_scipy(monkeypatch):
    rng = np.random.default_rng(4)
    C = rng.random((50, 50))
    best = optimum(C)
    for candidate in (np.roll(np.arange(50), 1), np.zeros(50, dtype=np.intp)):
        monkeypatch.setattr(A, "_float32_candidate", lambda C, c=candidate: (c, np.zeros(len(C))))
        perm, route = A._solve(C)
        assert route == "scipy-fallback"
        assert value(C, perm) == pytest.approx(best, rel=1e-12)


def test_scipy_route_and_solver_names():
    C = np.array([[4.0, 1.0], [2.0, 0.0]])
    perm, route = A._solve(C, solver="scipy")
    assert route == "scipy" and list(perm) == [1, 0]
    assert list(solve_assignment(C, maximize=True)) == [0, 1]
    with pytest.raises(ValueError, match="solver must be one of"):
        solve_assignment(C, solver="hungarian")


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((0, 0)), "non-empty square"),
        (np.zeros((2, 3)), "non-empty square"),
        (np.zeros(4), "non-empty square"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "non-finite"),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), "non-finite"),
    ],
)
def test_bad_cost_matrices(bad, match):
    with pytest.raises(ValueError, match=match):
        solve_assignment(bad)


def test_certify_returns_a_python_bool():
    from lmctheory.ot import certify

    C = np.array([[4.0, 1.0], [2.0, 0.0]])
    assert type(certify(C, np.array([1, 0]))) is bool and type(certify(C, np.array([0, 1]))) is bool


# ------------------------------------------------ cases of the adversarial review of acd35e6


def test_assignment_with_infinite_scale_costs_does_not_corrupt_the_heap(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 03: Native heap corruption: in a subprocess, so that a crash cannot take the test runner down."""
    monkeypatch.chdir(tmp_path)
    code = (
        "import numpy as np; from lmctheory.ot._assignment import solve_assignment\n"
        "C = np.random.default_rng(0).random((8, 8)); C[0, :] = 1e308; C[:, 0] = -1e308\n"
        "p = solve_assignment(C); assert sorted(p) == list(range(8)) and p[0] == 0; print('ok')"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_certificate_rejects_a_far_from_optimal_permutation(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 04: Certificate accepted a far-from-optimal permutation."""
    monkeypatch.chdir(tmp_path)
    from scipy.optimize import linear_sum_assignment

    from lmctheory.ot import solve_assignment

    C = np.exp(-200 * np.random.default_rng(174).random((6, 6)))
    r, c = linear_sum_assignment(C)
    assert C[np.arange(6), solve_assignment(C)].sum() == pytest.approx(C[r, c].sum(), rel=1e-12)
