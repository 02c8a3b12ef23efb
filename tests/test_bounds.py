"""Width bounds: exponents, round trips, monotonicity, explicit bounds against measurement."""

import json
import math

import numpy as np
import pytest
import sympy as sp

from lmctheory.bounds import (
    Tower,
    as_tower,
    barrier_bound_from_matching,
    barrier_upper_bound,
    deep_recursion,
    entezari_two_layer,
    explicit_width,
    ferbach_two_layer,
    log10_unit_ball_volume,
    low_dimensional,
    matching_error_lower_bound,
    matching_error_upper_bound,
    matching_lower_bound,
    power_of,
    width_table,
)
from lmctheory.bounds._width import EPS
from lmctheory.ot import optimal_matching
from lmctheory.runs._provenance import dumps
from tests.conftest import run_cli
from tests.helpers import one_line_error

# ------------------------------------------------------------ exponents


@pytest.mark.parametrize("m0", [5, 10, 784])
def test_two_layer_exponents_symbolically_and_numerically(m0):
    u = sp.Symbol("u", positive=True)  # u = log(1/epsilon)
    m0_sym = sp.Symbol("m_0", positive=True, integer=True)
    for bound, exponent in ((ferbach_two_layer(m0), m0_sym), (entezari_two_layer(m0), 2 * m0_sym + 4)):
        log_width = sp.log(bound.expr.subs(EPS, sp.exp(-u)))
        slope = sp.simplify(sp.expand_log(sp.diff(sp.expand_log(log_width, force=True), u), force=True))
        assert sp.simplify(slope - exponent) == 0
        w1, w2 = bound.solve_width(0.1).log10_float(), bound.solve_width(0.001).log10_float()
        assert (w2 - w1) / 2.0 == pytest.approx(float(exponent.subs(m0_sym, m0)), rel=1e-12)


def test_deep_recursion_expression_and_layer_towers():
    bound = deep_recursion(784, 3)
    T, m0 = sp.Symbol("T", positive=True), sp.Symbol("m_0", positive=True, integer=True)
    assert bound.expr == (T / EPS) ** ((T / EPS) ** ((T / EPS) ** m0))
    w = bound.layer_widths(0.1)
    assert [x.to_dict() for x in w] == [{"log10": 784.0}, {"log10log10": 784.0}, {"log10log10log10": 784.0}]
    small = deep_recursion(3, 2).layer_widths(0.5, T=1.0)  # 2^3 = 8, then 2^8 = 256
    assert small[0].normalised().value == pytest.approx(8.0) and small[1].normalised().value == pytest.approx(
        256.0
    )


# ------------------------------------------------------- round trips


BOUNDS = [
    ferbach_two_layer(5),
    ferbach_two_layer(784),
    entezari_two_layer(10),
    low_dimensional(6, 1e-3),
    matching_lower_bound(7),
    matching_lower_bound(784),
    deep_recursion(5, 1),
    deep_recursion(5, 2),
    deep_recursion(20, 3),
]


@pytest.mark.parametrize("bound", BOUNDS, ids=lambda b: b.name)
@pytest.mark.parametrize("epsilon", [0.5, 0.1, 1e-3])
def test_solve_width_and_solve_epsilon_are_inverse(bound, epsilon):
    width = bound.solve_width(epsilon)
    assert bound.solve_epsilon(width) == pytest.approx(epsilon, rel=1e-9)
    # the other way round, for a width that fits a float
    w = 1e6
    eps = bound.solve_epsilon(w)
    if eps > 0:
        assert bound.solve_width(eps).log10_float() == pytest.approx(6.0, rel=1e-9)


@pytest.mark.parametrize("bound", BOUNDS, ids=lambda b: b.name)
def test_bounds_are_monotone(bound):
    eps = np.logspace(-4, -0.5, 12)
    widths = [bound.solve_width(e) for e in eps]
    assert all(b <= a for a, b in zip(widths, widths[1:], strict=False))  # smaller eps, larger width
    errors = [bound.solve_epsilon(w) for w in (2, 10, 1e3, 1e9, {"log10": 500})]
    assert all(b <= a for a, b in zip(errors, errors[1:], strict=False))


def test_explicit_bounds_monotone_and_lower_below_upper():
    widths = [2, 10, 1e3, 1e6, 1e20, {"log10": 800}]
    for d in (3, 5, 10, 100, 784):
        for radius in (0.5, 1.0, 3.0):
            ups = [matching_error_upper_bound(w, d, radius=radius) for w in widths]
            lows = [matching_error_lower_bound(w, d, cube_radius=radius) for w in widths]
            assert all(b <= a for a, b in zip(ups, ups[1:], strict=False))
            assert all(b <= a for a, b in zip(lows, lows[1:], strict=False))
            assert all(lo <= up for lo, up in zip(lows, ups, strict=True)), (d, radius, lows, ups)


def test_rate_exponents_need_the_sharp_regime():
    with pytest.raises(ValueError, match="m0 > 2p"):
        ferbach_two_layer(4, p=2)
    with pytest.raises(ValueError, match="m0 > 2p"):
        low_dimensional(2, 1e-3, p=1)
    assert ferbach_two_layer(3, p=1).solve_width(0.1).log10_float() == pytest.approx(3.0)


def test_low_dimensional_validity_range():
    b = low_dimensional(10, 1e-3)
    assert b.valid_up_to().to_dict() == {"log10": pytest.approx(30.0)}
    assert b.solve_width(0.1) <= b.valid_up_to()
    assert not b.solve_width(1e-4) <= b.valid_up_to()


# ---------------------------------------------- explicit bounds vs measurement


def two_layer_net(m, m0, rng):
    return rng.uniform(-1, 1, size=(m, m0)), rng.uniform(-1, 1, size=m)


def loss_along_path(WA, aA, WB, aB, x, y, ts):
    out = []
    for t in ts:
        W, a = t * WA + (1 - t) * WB, t * aA + (1 - t) * aB
        f = np.maximum(x @ W.T, 0) @ a / len(a)
        out.append(np.mean(np.logaddexp(0.0, -y * f)))  # logistic loss: convex, 1-Lipschitz in f
    return np.array(out)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_explicit_two_layer_bounds_hold_at_the_prescribed_width(seed):
    m0 = 3
    eps_match = matching_error_upper_bound(1500, m0, radius=1.0)  # an epsilon whose width is tractable
    width = explicit_width(eps_match, lambda w: matching_error_upper_bound(w, m0, radius=1.0))
    m = int(width.normalised().value)
    assert 1400 <= m <= 1500
    rng = np.random.default_rng(seed)
    (WA, aA), (WB, aB) = two_layer_net(m, m0, rng), two_layer_net(m, m0, rng)
    perm, matching_error = optimal_matching(WA, WB, p=1)
    assert matching_error <= eps_match
    assert matching_error >= matching_error_lower_bound(m, m0, cube_radius=1.0)
    assert matching_error_lower_bound(m, m0, density_bound=2.0**-m0) == matching_error_lower_bound(
        m, m0, cube_radius=1.0
    )
    x = rng.normal(size=(256, m0))
    x /= np.linalg.norm(x, axis=1, keepdims=True)  # |x| = 1
    y = np.sign(x[:, 0] + 0.3 * x[:, 1])
    ts = np.linspace(0, 1, 21)
    loss = loss_along_path(WA, aA, WB[perm], aB[perm], x, y, ts)
    barrier = float(np.max(loss - (ts * loss[-1] + (1 - ts) * loss[0])))
    params = {"input_radius": 1.0, "output_bound": 1.0}
    certificate = barrier_bound_from_matching(matching_error, **params)
    assert barrier <= certificate
    assert barrier <= barrier_upper_bound(m, m0, radius=1.0, **params)
    assert barrier >= 0.0  # the grid holds both end points
    # alignment is what makes the bound small: the identity pairing is far worse than the optimum
    assert matching_error < 0.5 * np.mean(np.linalg.norm(WA - WB, axis=1))


def test_certificate_formula_constants():
    # (kappa + 2L)/4 * Lip * R * A * M
    assert barrier_bound_from_matching(
        0.2,
        input_radius=2.0,
        output_bound=3.0,
        activation_lipschitz=1.0,
        convexity_gap=0.5,
        loss_lipschitz=2**0.5,
    ) == pytest.approx(2**0.5 * 2.0 * 3.0 * 2.5 / 4 * 0.2)
    assert barrier_bound_from_matching(0.2, input_radius=1, output_bound=1, convexity_gap=0) == pytest.approx(
        0.1
    )


# --------------------------------------------------------------- numerics


def test_no_overflow_for_huge_inputs():
    for m0 in (5, 784, 10**4):
        for depth in (1, 2, 5, 10):
            widths = deep_recursion(m0, depth).layer_widths(1e-3)
            doc = json.loads(dumps({"w": [w.to_dict() for w in widths]}))
            assert all(math.isfinite(list(w.values())[0]) for w in doc["w"])
            key = list(doc["w"][-1])[0]
            assert key == "log10" * (len(key) // 5)
            if m0 >= 784:  # every layer overflows the previous level: level = depth
                assert len(key) == 5 * depth
        lb = matching_lower_bound(m0).solve_width(1e-3)
        assert math.isfinite(lb.log10_float())
    assert math.isfinite(log10_unit_ball_volume(10**6))
    assert math.isfinite(matching_error_upper_bound({"log10log10": 400}, 784))


def test_unit_ball_volume():
    for d, v in ((1, 2.0), (2, math.pi), (3, 4 * math.pi / 3)):
        assert 10 ** log10_unit_ball_volume(d) == pytest.approx(v, rel=1e-12)


def test_towers():
    assert Tower.from_log10(2.0).normalised() == Tower(0, 100.0)
    assert Tower.from_log10(784).to_dict() == {"log10": 784.0}
    assert Tower(2, 784).to_dict() == {"log10log10": 784.0}
    assert Tower(0, 1e308) < Tower(1, 309) and Tower(1, 305) < Tower(0, 1.7e308)
    assert Tower(1, 400) < Tower(2, 400) and not Tower(3, 400) < Tower(2, 500)
    assert Tower(3, 1) < Tower(2, 500)  # 10^10^10 = 10^(1e10) < 10^10^500
    assert power_of(1.0, Tower(0, 3.0)).normalised() == Tower(0, 1000.0)
    assert power_of(1.0, Tower(1, 400)).to_dict() == {"log10log10": 400.0}
    assert power_of(math.log10(2), Tower(0, 10.0)).normalised().value == pytest.approx(1024.0)
    assert str(Tower(3, 784)) == "10^10^10^784"
    assert as_tower({"log10log10": 3.5}) == Tower(2, 3.5).normalised() == Tower(1, 10**3.5)


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (
            lambda: ferbach_two_layer(784).solve_width(0.0),
            ValueError,
            "epsilon must be a finite real number > 0",
        ),
        (lambda: ferbach_two_layer(784).solve_width(-0.1), ValueError, "epsilon"),
        (lambda: ferbach_two_layer(784).solve_width(float("nan")), ValueError, "epsilon"),
        (lambda: ferbach_two_layer(784).solve_epsilon(0.5), ValueError, "width must be >= 1"),
        (lambda: ferbach_two_layer(784).solve_width(0.1, C=-1.0), ValueError, "C must be"),
        (lambda: ferbach_two_layer(784).solve_width(0.1, K=2.0), TypeError, "unknown constant"),
        (lambda: ferbach_two_layer(0), ValueError, "m0 must be an integer >= 1"),
        (lambda: deep_recursion(5, 0), ValueError, "depth must be"),
        (lambda: matching_lower_bound(5).solve_width(0.1, F=0.0), ValueError, "F must be"),
        (lambda: as_tower({"log2": 3}), ValueError, "keys"),
        (lambda: width_table(0.1, 5, 2, k=3), ValueError, "both k and eta"),
        (
            lambda: barrier_bound_from_matching(0.1, input_radius=-1, output_bound=1),
            ValueError,
            "input_radius",
        ),
        (lambda: explicit_width(0.0, lambda w: 1.0), ValueError, "epsilon"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_width_table_checks_a_given_width():
    rows = width_table(0.1, 784, 3, k=10, eta=1e-3, width=512)
    assert [r["layer"] for r in rows] == [1, 2, 3]
    r1 = rows[0]
    assert r1["lower"] <= r1["explicit_upper"]
    assert r1["effective"].to_dict() == {"log10": pytest.approx(10.0)} and r1["effective_valid"]
    assert r1["satisfies_upper"] is False and r1["satisfies_effective"] is False
    big = width_table(0.1, 5, 1, width={"log10": 10})
    assert big[0]["satisfies_upper"] is True  # 10^10 >= 10^5
    assert big[0]["satisfies_lower"] is (big[0]["lower"] <= as_tower({"log10": 10}))


# ------------------------------------------------ cases of the adversarial review of acd35e6


def test_explicit_bound_with_a_huge_p_is_finite(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 26: Huge p in the explicit bound."""
    monkeypatch.chdir(tmp_path)
    from lmctheory.rates import fg_explicit_bound

    code, out, _ = run_cli("rate-bound", "--d", "5", "--p", "1e308")
    assert code == 0 and "inf" in out
    assert fg_explicit_bound(10, 5, 1e6) == np.inf  # beyond float range, stated as inf


def test_a_very_deep_recursion_bound_is_a_tower_not_an_overflow(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 27: A very deep recursion bound."""
    monkeypatch.chdir(tmp_path)
    one_line_error(run_cli("bounds", "--epsilon", "0.1", "--m0", "5", "--depth", "100000"), 2, "depth")
    assert run_cli("bounds", "--epsilon", "0.1", "--m0", "5", "--depth", "2000", "--json")[0] == 0


def test_bounds_with_overflowing_parameters_are_one_line_or_towers(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 53: Bounds with overflowing parameters."""
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli("bounds", "--epsilon", "0.1", "--m0", "5", "--C", "1e308")
    assert code == 0 and "ferbach 10^1545" in out
    code, out, _ = run_cli("bounds", "--epsilon", "1e308", "--m0", "5")
    assert code == 0 and "every width" in out


def test_bounds_json_records_the_density_bound_the_table_used(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row R3: Bounds JSON recorded F = 1 while the table used 2^-784."""
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli("bounds", "--epsilon", "0.1", "--m0", "784", "--depth", "3", "--json")
    F = json.loads(out)["definitions"]["lower"]["constants"]["F"]
    assert code == 0 and F["log10_value"] == pytest.approx(-784 * np.log10(2))


def test_bounds_with_epsilon_above_the_constants_report_width_one(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row R4: --epsilon 2 printed a width of 0."""
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli("bounds", "--epsilon", "2", "--m0", "5")
    assert code == 0 and "ferbach 1," in out and "every width" in out


# ------------------------------------------------ regressions found in the review of acd35e6


def test_power_of_with_a_negative_base_is_tiny_not_huge():
    """Review of acd35e6: fails on that commit's behaviour."""
    from lmctheory.bounds import Tower, power_of

    assert power_of(-1e10, Tower(0, 1e300)) == Tower(0, 0.0)  # 10^(-1e310): below every float
    assert power_of(-1.0, Tower(0, 2.0)).value == pytest.approx(0.01)
    assert power_of(-0.5, Tower(3, 5.0)) == Tower(0, 0.0)
    assert power_of(0.0, Tower(3, 5.0)) == Tower(0, 1.0)
    assert power_of(2.0, Tower(0, 3.0)).value == pytest.approx(1e6)
    with pytest.raises(ValueError, match=">= 0"):
        power_of(1.0, Tower(0, -1.0))


def test_explicit_matching_bound_is_capped_at_the_diameter_when_asked():
    """Review of acd35e6: fails on that commit's behaviour."""
    from lmctheory.bounds import barrier_upper_bound, matching_error_upper_bound

    raw = matching_error_upper_bound(1000, 8, radius=1.0)
    assert raw > 2 * np.sqrt(8)  # the uncapped bound says nothing at this width
    assert matching_error_upper_bound(1000, 8, radius=1.0, capped=True) == pytest.approx(2 * np.sqrt(8))
    assert matching_error_upper_bound(10**8, 3, radius=1.0, capped=True) == matching_error_upper_bound(
        10**8, 3
    )
    capped = barrier_upper_bound(1000, 8, radius=1.0, input_radius=1.0, output_bound=1.0)
    assert capped == pytest.approx(3 / 4 * 2 * np.sqrt(8))  # Lip R A (kappa + 2L)/4 M with M the diameter
