"""Fournier–Guillin rates, the explicit bound, rate curves and slope fits."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from lmctheory.rates import (
    Discrete,
    Gaussian,
    Subspace,
    TwoAtom,
    UniformBall,
    UniformCube,
    fg_explicit_bound,
    fg_rate,
    fg_regime,
    fit_rate,
    predicted_slope,
    rate_curve,
)

# ----------------------------------------------------------- formulas


def test_regimes_and_rates():
    assert [fg_regime(d, 2) for d in (1, 3, 4, 5, 10)] == ["d<2p", "d<2p", "d=2p", "d>2p", "d>2p"]
    assert fg_regime(2, 1) == "d=2p"
    n = np.array([10.0, 1000.0])
    np.testing.assert_allclose(fg_rate(n, 1, 2), n**-0.5)
    np.testing.assert_allclose(fg_rate(n, 4, 2), n**-0.5 * np.log1p(n))
    np.testing.assert_allclose(fg_rate(n, 8, 2), n ** (-2 / 8))
    assert isinstance(fg_rate(100, 8, 2), float)
    assert predicted_slope(5, 2) == pytest.approx(-0.2)
    assert predicted_slope(3, 2) == pytest.approx(-0.25)
    assert predicted_slope(10, 1) == pytest.approx(-0.1)


def brute_force_bound(n, d, p, c=1.0, radius=1.0, terms=400):
    k = 2 ** (p - 1) * d ** (p / 2) * (2**p + 1)
    ls = np.arange(1, terms + 1, dtype=float)
    with np.errstate(over="ignore"):  # 2^(d l / 2) overflows to inf for huge l: min() keeps 2
        return (
            radius**p
            * k
            * float(np.sum(2.0 ** (-p * ls) * np.minimum(2.0, c * 2.0 ** (d * ls / 2) / math.sqrt(n))))
        )


@pytest.mark.parametrize("d", [1, 2, 3, 5, 8, 20])
@pytest.mark.parametrize("p", [1, 2, 3.5])
@pytest.mark.parametrize("n", [1, 2, 37, 4096, 10**9])
def test_explicit_bound_sums_the_series_exactly(n, d, p):
    assert fg_explicit_bound(n, d, p) == pytest.approx(brute_force_bound(n, d, p), rel=1e-12)
    assert fg_explicit_bound(n, d, p, two_sample=True, radius=0.3) == pytest.approx(
        brute_force_bound(n, d, p, c=math.sqrt(2), radius=0.3), rel=1e-12
    )


def test_explicit_bound_shape_and_scaling():
    ns = np.array([10, 100, 1000, 10**4, 10**5])
    b = fg_explicit_bound(ns, 6, 2)
    assert b.shape == ns.shape and np.all(np.diff(b) < 0)
    assert np.all(fg_explicit_bound(ns, 6, 2, two_sample=True) >= b)
    np.testing.assert_allclose(fg_explicit_bound(ns, 6, 2, radius=3.0), 9.0 * b)
    # the bound decays at the FG rate N^{-p/d} for d > 2p: the integer cut-off l* makes its
    # local slope oscillate around -p/d, so fit over many decades
    wide = np.logspace(4, 24, 81)
    slope = np.polyfit(np.log(wide), np.log(fg_explicit_bound(wide, 6, 2)), 1)[0]
    assert slope == pytest.approx(-2 / 6, abs=0.005)
    wide_slope_low_d = np.polyfit(np.log(wide), np.log(fg_explicit_bound(wide, 2, 2)), 1)[0]
    assert wide_slope_low_d == pytest.approx(-0.5, abs=0.005)  # d < 2p: N^{-1/2}


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda: fg_regime(0, 2), ValueError, "d must be"),
        (lambda: fg_regime(2.5, 2), TypeError, "d must be an integer"),
        (lambda: fg_rate(0, 3, 2), ValueError, "sample sizes >= 1"),
        (lambda: fg_rate([], 3, 2), ValueError, "empty"),
        (lambda: fg_explicit_bound(10, 3, 0.5), ValueError, "p must be"),
        (lambda: fg_explicit_bound(10, 3, 2, radius=0), ValueError, "radius"),
        (lambda: fg_explicit_bound(np.nan, 3, 2), ValueError, "sample sizes"),
    ],
)
def test_formula_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ------------------------------------------------------ closed forms in 1-D


def test_one_dimensional_uniform_w22_closed_forms():
    n, reps = 50, 4000
    one = rate_curve(UniformCube(1), [n], p=2, reps=reps, two_sample=False, seed=2)
    two = rate_curve(UniformCube(1), [n], p=2, reps=reps, two_sample=True, seed=3)
    for curve, exact in ((one, 1 / (6 * n)), (two, 1 / (3 * (n + 1)))):
        sq = curve.values[0] ** 2
        se = sq.std(ddof=1) / math.sqrt(reps)
        assert abs(sq.mean() - exact) < 4 * se, (sq.mean(), exact, se)


def test_one_dimensional_w1_asymptotic_constants():
    # sqrt(N) E W_1(mu_N, U) -> sqrt(pi/32); sqrt(N) E W_1(mu_N, N(0,1)) -> sqrt(2/pi) int sqrt(Phi(1-Phi))
    gauss_const = (
        math.sqrt(2 / math.pi)
        * integrate.quad(lambda x: math.sqrt(stats.norm.cdf(x) * stats.norm.sf(x)), -np.inf, np.inf)[0]
    )
    for law, n, limit in ((UniformCube(1), 2000, math.sqrt(math.pi / 32)), (Gaussian(1), 1000, gauss_const)):
        curve = rate_curve(law, [n], p=1, reps=400, two_sample=False, seed=1)
        scaled = curve.values[0] * math.sqrt(n)
        se = scaled.std(ddof=1) / math.sqrt(400)
        # Monte-Carlo error plus a 3% allowance for the O(N^{-1/2}) pre-asymptotic term
        assert abs(scaled.mean() - limit) < 4 * se + 0.03 * limit, (scaled.mean(), limit, se)


# ------------------------------------------------- two-sample ordering


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize(
    "law",
    [
        UniformCube(1),
        Gaussian(1),
        TwoAtom(d=3, w=0.4),
        Discrete(np.random.default_rng(0).normal(size=(5, 3))),
    ],
    ids=["uniform1d", "gaussian1d", "two-atom3d", "discrete3d"],
)
def test_two_sample_ordering(law, p):
    """E T_p(mu_N, mu) <= E T_p(mu_N, nu_N) <= 2^p E T_p(mu_N, mu) (theory-two-sample)."""
    n, reps = 64, 300
    one = rate_curve(law, [n], p=p, reps=reps, two_sample=False, seed=11).values[0] ** p
    two = rate_curve(law, [n], p=p, reps=reps, two_sample=True, seed=12).values[0] ** p
    se = math.hypot(one.std(ddof=1), two.std(ddof=1)) / math.sqrt(reps)
    assert one.mean() <= two.mean() + 3 * se
    assert two.mean() <= 2**p * one.mean() + 3 * se * 2**p


# ------------------------------------------------------- explicit bound


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 6])
def test_explicit_bound_never_exceeded_on_the_cube(d, p):
    law = UniformCube(d, low=-1.0, high=1.0)
    ns = [8, 32, 128, 512]
    curve = rate_curve(law, ns, p=p, reps=6, seed=d)
    bound = fg_explicit_bound(curve.ns, d, p, two_sample=True, radius=1.0)
    assert np.all(curve.mean_cost <= bound), (curve.mean_cost, bound)
    # and it is a useful bound: within a factor 200 of the measurement
    assert np.all(bound / curve.mean_cost < 200)
    if d == 1:
        one = rate_curve(law, ns, p=p, reps=6, two_sample=False, seed=d)
        assert np.all(one.mean_cost <= fg_explicit_bound(one.ns, 1, p, radius=1.0))


@pytest.mark.parametrize(
    "law",
    [UniformBall(4, 0.7), Subspace(8, 5), TwoAtom(3, separation=3.0)],
    ids=["ball", "subspace", "two-atom"],
)
def test_explicit_bound_holds_for_other_bounded_laws(law):
    curve = rate_curve(law, [16, 64, 256], p=2, reps=6, seed=5)
    d, radius = law.bound_geometry
    assert np.all(curve.mean_cost <= fg_explicit_bound(curve.ns, d, 2, two_sample=True, radius=radius))


# --------------------------------------------------------------- slopes

SHARP_NS_QUICK = [128, 256, 512, 1024, 2048]
SHARP_NS_FULL = [64, 128, 256, 512, 1024, 2048, 4096]


def _check_sharp_slope(law, ns, dim, reps):
    curve = rate_curve(law, ns, p=2, reps=reps, seed=dim, n_jobs=2)
    fit = curve.fit()
    assert abs(fit.slope - predicted_slope(dim, 2)) < 0.06, fit
    # pre-asymptotic steepening: slightly below -1/d, never above (theory-intrinsic-rates)
    assert fit.slope < predicted_slope(dim, 2) + 0.01, fit
    return fit


@pytest.mark.parametrize("d", [5, 8])
def test_uniform_cube_slope_in_the_sharp_regime_quick(d):
    _check_sharp_slope(UniformCube(d), SHARP_NS_QUICK, d, reps=4)


def test_subspace_law_shows_the_intrinsic_slope_quick():
    law = Subspace(10, 5)
    fit = _check_sharp_slope(law, SHARP_NS_QUICK, 5, reps=4)
    assert abs(fit.slope - predicted_slope(10, 2)) > 0.06  # clearly not the ambient rate


@pytest.mark.slow
@pytest.mark.parametrize("d", [5, 6, 7, 8])
def test_uniform_cube_slope_in_the_sharp_regime_full(d):
    _check_sharp_slope(UniformCube(d), SHARP_NS_FULL, d, reps=8)


@pytest.mark.slow
def test_subspace_law_shows_the_intrinsic_slope_full():
    _check_sharp_slope(Subspace(10, 5), SHARP_NS_FULL, 5, reps=8)


# ------------------------------------------------------------ fit_rate


def test_fit_recovers_an_exact_power_law():
    ns = np.array([10, 20, 40, 80, 160])
    vals = 3.0 * ns**-0.37
    fit = fit_rate(ns, vals)
    assert fit.slope == pytest.approx(-0.37, abs=1e-12)
    assert math.exp(fit.intercept) == pytest.approx(3.0, rel=1e-12)
    assert fit.ci_low == pytest.approx(-0.37, abs=1e-9) and fit.ci_high == pytest.approx(-0.37, abs=1e-9)
    np.testing.assert_allclose(fit.predict(ns), vals)


def test_fit_confidence_intervals_cover_the_truth_at_their_level():
    rng = np.random.default_rng(0)
    ns = np.array([16, 32, 64, 128, 256, 512])
    truth = -0.5
    covered_t = covered_boot = 0
    trials = 200
    for _ in range(trials):
        reps = ns[:, None] ** truth * np.exp(rng.normal(0, 0.1, size=(len(ns), 6)))
        means = reps.mean(1)
        fit_t = fit_rate(ns, means * np.exp(rng.normal(0, 0.05, size=len(ns))))
        covered_t += fit_t.ci_low <= truth <= fit_t.ci_high
        fit_b = fit_rate(ns, reps, n_boot=300, seed=rng)
        covered_boot += fit_b.ci_low <= truth <= fit_b.ci_high
    assert covered_t / trials > 0.88
    assert covered_boot / trials > 0.80  # percentile bootstrap with 6 replicates is a little narrow


def test_fit_bootstrap_is_seeded_and_handles_exact_zeros():
    ns = [10, 20, 40]
    vals = np.array([[0.0, 1.0, 0.5, 0.7], [0.4, 0.0, 0.3, 0.5], [0.3, 0.2, 0.0, 0.4]])
    assert fit_rate(ns, vals, seed=1) == fit_rate(ns, vals, seed=1)
    with pytest.raises(ValueError, match="bootstrap resamples"):
        fit_rate(ns, np.array([[0.0, 0.0, 0.0, 1.0]] * 3))


@pytest.mark.parametrize(
    "ns,values,match",
    [
        ([10, 20], [1.0, 0.5], "at least 3 sizes"),
        ([10, 10, 10], [1.0, 0.5, 0.3], "2 distinct"),
        ([10, 20, 40], [1.0, -0.5, 0.3], ">= 0"),
        ([10, 20, 40], [1.0, np.nan, 0.3], "finite"),
        ([10, 20, 40], [1.0, 0.5], "shape"),
        ([10, 20, 40], [1.0, 0.0, 0.3], "> 0 at every size"),
    ],
)
def test_fit_bad_input(ns, values, match):
    with pytest.raises(ValueError, match=match):
        fit_rate(ns, values)


# ----------------------------------------------------------- rate_curve


def test_rate_curve_is_reproducible_and_independent_of_n_jobs():
    law = UniformCube(3)
    a = rate_curve(law, [16, 64], reps=3, seed=9, n_jobs=1)
    b = rate_curve(law, [16, 64], reps=3, seed=9, n_jobs=2)
    np.testing.assert_array_equal(a.values, b.values)
    c = rate_curve(law, [16, 64], reps=3, seed=10)
    assert not np.array_equal(a.values, c.values)
    assert a.values.shape == (2, 3) and a.law["law"] == "uniform"
    d = a.to_dict()
    assert d["ns"] == [16, 64] and len(d["replicates"]) == 2 and d["quantity"].startswith("W_p")


def test_rate_curve_accepts_plain_callables_and_checks_its_arguments():
    curve = rate_curve(lambda n, rng: rng.normal(size=(n, 2)), [8, 16], reps=2)
    assert curve.values.shape == (2, 2) and "sampler" in curve.law
    with pytest.raises(ValueError, match="two_sample=False needs a law"):
        rate_curve(UniformCube(2), [8], two_sample=False)
    with pytest.raises(ValueError, match="integers"):
        rate_curve(UniformCube(2), [8.5])
    with pytest.raises(ValueError, match="reps must be"):
        rate_curve(UniformCube(2), [8], reps=0)
    with pytest.raises(TypeError, match="callable"):
        rate_curve("uniform", [8])


# ------------------------------------------------ cases of the adversarial review of acd35e6


def test_a_sampler_returning_the_wrong_number_of_points_is_refused(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 22: A sampler returning n + 1 points."""
    monkeypatch.chdir(tmp_path)
    from lmctheory.rates import rate_curve

    with pytest.raises(ValueError, match="n points"):
        rate_curve(lambda n, rng: rng.random((n + 1, 2)), [8, 16], reps=2, seed=0)


# ------------------------------------------------ regressions found in the review of acd35e6


def test_rate_curve_rejects_a_sampler_returning_the_wrong_number_of_points():
    """Review of acd35e6: fails on that commit's behaviour."""
    from lmctheory.rates import rate_curve

    with pytest.raises(ValueError, match="n=16 it returned shape \\(17, 2\\)"):
        rate_curve(lambda n, rng: rng.random((n + 1, 2)), [8, 16], reps=2, seed=0)
