"""Samplers and their exact one-sample references."""

import numpy as np
import pytest
from scipy import integrate, stats

from lmctheory.ot import transport
from lmctheory.rates import Discrete, Gaussian, Subspace, TwoAtom, UniformBall, UniformCube, make_law


def uniform_w22_closed_form(x):
    """W_2^2(mu_N, U[0,1]) = sum_i int_{(i-1)/N}^{i/N} (x_(i) - u)^2 du, in closed form."""
    x = np.sort(x)
    n = len(x)
    lo, hi = np.arange(n) / n, np.arange(1, n + 1) / n
    return float(np.sum(((x - lo) ** 3 - (x - hi) ** 3) / 3))


def test_uniform_one_sample_reference_equals_the_closed_form(rng):
    law = UniformCube(1)
    for n in (1, 7, 500):
        x = law(n, rng)
        assert law.cost_to_law(x, 2) == pytest.approx(uniform_w22_closed_form(x[:, 0]), rel=1e-12)


def test_gaussian_one_sample_w1_equals_the_cdf_integral(rng):
    # W_1(mu_N, mu) = int |F_N(t) - Phi(t)| dt, integrated piecewise between order statistics
    law = Gaussian(1, scale=2.0)
    x = np.sort(law(40, rng)[:, 0])
    n = len(x)
    knots = np.concatenate([[-np.inf], x, [np.inf]])
    total = 0.0
    for i in range(n + 1):
        total += integrate.quad(
            lambda t, i=i: abs(i / n - stats.norm.cdf(t, scale=2.0)),
            knots[i],
            knots[i + 1],
            epsabs=1e-13,
            epsrel=1e-12,
        )[0]
    assert law.cost_to_law(x, 1) == pytest.approx(total, rel=1e-9)


def test_two_atom_reference_is_the_excess_mass_times_separation_to_the_p(rng):
    law = TwoAtom(d=3, w=0.3, separation=2.0)
    for _ in range(5):
        x = law(25, rng)
        frac = np.mean(x[:, 0] == 0.0)
        for p in (1, 2):
            assert law.cost_to_law(x, p) == pytest.approx(abs(frac - 0.3) * 2.0**p, abs=1e-12)


def test_discrete_reference_agrees_with_transport_to_its_atoms(rng):
    atoms = rng.normal(size=(6, 2))
    law = Discrete(atoms, rng.dirichlet(np.ones(6)))
    x = law(40, rng)
    manual = transport(x, atoms, 2, a=np.full(40, 1 / 40), b=law.weights).cost
    assert law.cost_to_law(x, 2) == pytest.approx(manual, rel=1e-9)


def test_samplers_shapes_reproducibility_and_support(rng):
    for law in (UniformCube(4), Gaussian(4), UniformBall(4, 2.0), Subspace(4, 2, eta=0.1), TwoAtom(4)):
        a = law(100, np.random.default_rng(1))
        b = law(100, np.random.default_rng(1))
        assert a.shape == (100, 4)
        np.testing.assert_array_equal(a, b)
        d_bound, radius = law.bound_geometry
        assert d_bound <= law.dim
        if np.isfinite(law.support_radius):
            centre = (a.max(0) + a.min(0)) / 2
            assert np.all(np.abs(a - centre) <= 2 * law.support_radius + 1e-12)


def test_ball_is_uniform_in_volume():
    law = UniformBall(3, radius=1.0)
    x = law(20000, np.random.default_rng(0))
    r = np.linalg.norm(x, axis=1)
    assert r.max() <= 1.0
    inner = np.mean(r <= 0.5)  # volume fraction 1/8
    assert abs(inner - 0.125) < 4 * np.sqrt(0.125 * 0.875 / 20000)


def test_subspace_law_lies_within_eta_of_a_k_dim_subspace():
    law = Subspace(10, 3, eta=0.05, basis_seed=4)
    x = law(500, np.random.default_rng(0))
    proj = x @ law.basis @ law.basis.T
    assert np.linalg.norm(x - proj, axis=1).max() <= 0.05 + 1e-12
    flat = Subspace(10, 3)(500, np.random.default_rng(0))
    assert np.linalg.matrix_rank(flat, tol=1e-9) == 3
    assert Subspace(10, 3).bound_geometry == (3, 0.5)
    assert Subspace(10, 3).intrinsic_dim == 3


def test_one_sample_reference_unavailable_in_higher_dimension(rng):
    with pytest.raises(NotImplementedError, match="two_sample=True"):
        UniformCube(2).cost_to_law(rng.uniform(size=(5, 2)), 2)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: UniformCube(0), "d must be an integer >= 1"),
        (lambda: UniformCube(2, low=1, high=0), "low < high"),
        (lambda: Gaussian(2, scale=-1), "scale"),
        (lambda: Subspace(3, 4), "k must be <= d"),
        (lambda: Subspace(3, 2, eta=-0.1), "eta"),
        (lambda: TwoAtom(2, w=1.0), "w must be in"),
        (lambda: make_law("cauchy", 2), "unknown law"),
        (lambda: make_law("subspace", 5), "needs k"),
        (lambda: UniformCube(2)(0, np.random.default_rng()), "n must be an integer >= 1"),
    ],
)
def test_bad_law_parameters(call, match):
    with pytest.raises(ValueError, match=match):
        call()
