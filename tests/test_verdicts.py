"""Verdict rules: each is a test at level 5 %, measured by simulation under its null, at the numbers of
seeds the presets use; the vectorised simulation agrees with the rules themselves; degenerate data
(one value, no spread) decides nothing."""

import itertools

import numpy as np
import pytest
from lmctheory_paper.validation import EXPERIMENTS, calibration
from scipy import stats

from lmctheory.claims._rows import verdicts

SIMS = 40_000


def preset_seed_counts() -> set[int]:
    """Number of independent units per row in the quick and full presets (seeds, pairs, replicates)."""
    counts = set()
    for module in EXPERIMENTS.values():
        for preset in ("quick", "full"):
            configs = module.PRESETS[preset]
            seeds = {c.get("seed", c.get("pair")) for c in configs}
            counts.add(len(seeds))
            if "reps" in configs[0]:
                counts.add(len(seeds) * configs[0]["reps"])
    return counts


@pytest.mark.parametrize("rule", ["direction", "equivalence", "mean_at_most"])
@pytest.mark.parametrize("n", sorted(preset_seed_counts() | {2, 3, 4, 5}))
def test_t_rules_say_holds_at_most_5_percent_of_the_time_under_their_null(rule, n):
    rate = calibration.false_holds_rate(rule, n, sims=SIMS, seed=n)
    se = np.sqrt(0.05 * 0.95 / SIMS)
    assert rate <= 0.05 + 3 * se, f"{rule}, n={n}: false 'holds' rate {rate:.4f}"
    if rule != "equivalence":  # the one-sided tests are exact for Gaussian noise: the rate is 5 %, not less
        assert rate >= 0.05 - 3 * se


@pytest.mark.parametrize("n", [2, 3, 4, 5, 8])
def test_trend_rule_is_a_level_5_percent_test(n):
    rate = calibration.false_holds_rate("trend", n, sims=SIMS, seed=n)
    assert rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / SIMS)


def test_every_at_most_never_holds_when_an_instance_exceeds_the_bound():
    assert calibration.false_holds_rate("every_at_most", 4, sims=2000) == 0.0


def test_the_old_mean_plus_two_se_rule_was_miscalibrated():
    """The rule these replaced (mean - 2 SE > 0) says 'holds' for a null effect 15 % of the time with
    2 seeds: what the simulation must be able to see."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SIMS, 2))
    old = np.mean(x.mean(1) - 2 * x.std(1, ddof=1) / np.sqrt(2) > 0)
    assert 0.13 < old < 0.17
    assert calibration.false_holds_rate("direction", 2, sims=SIMS) < 0.055


@pytest.mark.parametrize("rule", ["direction", "equivalence", "mean_at_most"])
def test_vectorised_simulation_agrees_with_the_rules(rule):
    rng = np.random.default_rng(1)
    values = rng.normal(0.3, 1.0, size=(400, 3))
    values[:100] *= 0.1  # some with tight bands, so every verdict occurs
    decide = {
        "direction": lambda v: verdicts.direction(v),
        "equivalence": lambda v: verdicts.equivalence(v, predicted=0.0, tol=1.0),
        "mean_at_most": lambda v: verdicts.mean_at_most(v, bound=0.0),
    }[rule]
    scalar = np.array([decide(v).verdict == "holds" for v in values])
    assert np.array_equal(scalar, calibration.t_rule_holds(rule, values, tol=1.0)) and 0 < scalar.sum() < len(
        scalar
    )


def test_vectorised_trend_agrees_with_the_rule():
    rng = np.random.default_rng(2)
    x = np.arange(4.0)
    y = rng.standard_normal((300, 3, 4))
    y[:150] += 0.8 * x
    scalar = np.array([verdicts.trend([(x, b) for b in blocks]).verdict == "holds" for blocks in y])
    assert np.array_equal(scalar, calibration.trend_holds(x, y)) and 0 < scalar.sum() < len(scalar)


@pytest.mark.parametrize("values", [[1.0], [0.5, 0.5], [0.5, 0.5, 0.5], []])
def test_one_value_or_no_spread_decides_nothing(values):
    for decision in (
        verdicts.direction(values),
        verdicts.equivalence(values, predicted=0.5, tol=0.1),
        verdicts.mean_at_most(values, bound=1.0),
    ):
        assert decision.verdict == "inconclusive", decision


def test_band_rules_on_hand_made_data():
    t2 = stats.t.ppf(0.95, 2)
    d = verdicts.direction([1.0, 2.0, 3.0])
    assert d.verdict == "holds" and d.statistic["band"][0] == pytest.approx(2 - t2 / np.sqrt(3))
    assert verdicts.direction([-1.0, -2.0, -3.0]).verdict == "fails"
    assert verdicts.direction([-1.0, -2.0, -3.0], sense="<").verdict == "holds"
    assert verdicts.equivalence([0.99, 1.0, 1.01], predicted=1.0, tol=0.1).verdict == "holds"
    assert verdicts.equivalence([1.49, 1.5, 1.51], predicted=1.0, tol=0.1).verdict == "fails"
    assert verdicts.equivalence([0.7, 1.0, 1.3], predicted=1.0, tol=0.1).verdict == "inconclusive"
    assert verdicts.mean_at_most([0.1, 0.2, 0.15], bound=1.0).verdict == "holds"
    assert verdicts.mean_at_most([2.1, 2.2, 2.15], bound=1.0).verdict == "fails"
    assert verdicts.every_at_most([0.1, 1.0], bound=1.0).verdict == "holds"
    assert verdicts.every_at_most([0.1, 1.0 + 1e-12], bound=1.0).verdict == "fails"
    with pytest.raises(ValueError, match="finite"):
        verdicts.direction([1.0, float("nan")])


def test_trend_p_value_is_the_exact_permutation_probability():
    x = [1.0, 2.0, 3.0, 4.0]
    blocks = [(x, [0.1, 0.3, 0.2, 0.9]), (x, [1.0, 2.0, 3.0, 4.0])]
    observed, p_greater, p_less = verdicts.trend_p_values(blocks)
    sums = [
        stats.spearmanr(x, np.asarray(blocks[0][1])[list(p1)]).statistic
        + stats.spearmanr(x, np.asarray(blocks[1][1])[list(p2)]).statistic
        for p1 in itertools.permutations(range(4))
        for p2 in itertools.permutations(range(4))
    ]
    sums = np.round(sums, 9)
    assert p_greater == pytest.approx(np.mean(sums >= round(observed, 9) - 1e-9))
    assert p_less == pytest.approx(np.mean(sums <= round(observed, 9) + 1e-9))


def test_three_points_in_one_block_cannot_decide_a_trend():
    decision = verdicts.trend([([1, 2, 3], [1, 2, 3])])
    assert decision.verdict == "inconclusive" and decision.statistic["p_value"] == pytest.approx(1 / 6)
    two = verdicts.trend([([1, 2, 3], [1, 2, 3])] * 2)
    assert two.verdict == "holds" and two.statistic["p_value"] == pytest.approx(1 / 36)


def test_big_blocks_use_seeded_random_permutations():
    rng = np.random.default_rng(3)
    x = np.arange(18.0)
    blocks = [(x, x + rng.normal(0, 4, 18)) for _ in range(2)]
    a, b = verdicts.trend(blocks), verdicts.trend(blocks)
    assert a == b and a.verdict == "holds"
    null = [(x, rng.standard_normal(18)) for _ in range(2)]
    assert 0.0 < verdicts.trend(null).statistic["p_value"] <= 1.0


def test_calibration_table_lists_every_rule():
    lines = calibration.calibration_table(ns=(2, 3), sims=2000)
    assert len(lines) == 2 + len(verdicts.RULES)
    assert all(f"`{rule}`" in "\n".join(lines) for rule in verdicts.RULES)


def _verdict_at(statistic: dict, level: float) -> str:
    """The verdict a rule would give at another level, from its two one-sided p-values."""
    if statistic["p_value"] < level:
        return "holds"
    return "fails" if statistic["p_value_opposite"] < level else "inconclusive"


@pytest.mark.parametrize("rule", ["direction", "equivalence", "mean_at_most", "trend"])
def test_p_values_reproduce_the_verdict_and_borderline_means_it_changes_at_half_or_twice_the_level(rule):
    rng = np.random.default_rng(7)
    seen = set()
    for _ in range(400):
        n = int(rng.integers(3, 9))
        shift = rng.normal(0, 0.6)
        if rule == "trend":
            blocks = [(list(range(5)), list(shift * np.arange(5) + rng.normal(0, 1, 5))) for _ in range(n)]
            decision = verdicts.trend(blocks, sense=">")
        else:
            values = shift + rng.normal(0, 0.5, n)
            if rule == "direction":
                decision = verdicts.direction(values, sense=">", threshold=0.0)
            elif rule == "equivalence":
                decision = verdicts.equivalence(values, predicted=0.0, tol=1.0)
            else:
                decision = verdicts.mean_at_most(values, bound=0.0)
        stat = decision.statistic
        if rule != "trend":  # the band decides: its p-values must say the same (ties have probability 0)
            assert _verdict_at(stat, verdicts.LEVEL) == decision.verdict, stat
        changes = len({_verdict_at(stat, level) for level in (0.025, 0.05, 0.1)}) > 1
        p_near = any(0.025 <= stat[k] <= 0.1 for k in ("p_value", "p_value_opposite"))
        assert verdicts.borderline(stat) == p_near
        if changes:  # a verdict that moves between 2.5 % and 10 % is always flagged
            assert verdicts.borderline(stat)
        seen.add((decision.verdict, verdicts.borderline(stat)))
    assert ("holds", True) in seen and ("holds", False) in seen and ("inconclusive", True) in seen


def test_exact_rules_and_undecided_rows_are_never_borderline():
    assert not verdicts.borderline(verdicts.every_at_most([0.1, 0.2], bound=0.15).statistic)
    assert not verdicts.borderline(verdicts.direction([1.0], sense=">").statistic)


@pytest.mark.parametrize("statistic", [3, None, [("p_value", 0.04)]])
def test_borderline_of_something_that_is_not_a_mapping_is_a_type_error_naming_it(statistic):
    with pytest.raises(TypeError, match="statistic must be a mapping"):
        verdicts.borderline(statistic)
