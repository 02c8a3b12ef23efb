"""Every prediction row can fail: on constructed data that contradicts the theory (a law with another
slope, a pair with a planted barrier, an effect reversed), every prediction row of every experiment
says "fails", and the checks fail where their inequality is violated."""

import json
import zlib

import numpy as np
import pytest
from lmctheory_paper.validation import EXPERIMENTS

SEEDS = range(4)


def _noise(seed, size, scale=1e-3):
    return np.random.default_rng(seed).normal(0, scale, size)


def _fails(rows, kinds=("prediction",)):
    """Every row of these kinds fails; returns them."""
    selected = [r for r in rows if r.kind in kinds]
    assert selected, f"no {kinds} rows"
    wrong = [(r.prediction, r.verdict, r.statistic) for r in selected if r.verdict != "fails"]
    assert not wrong, wrong
    return selected


def _claims(rows) -> list[str]:
    """What each row claims (its prediction text, configuration included)."""
    return [r.prediction for r in rows]


def test_rates_rows_fail_for_a_law_whose_rate_is_set_by_another_dimension(monkeypatch):
    """Real Monte-Carlo curves of a 2-dimensional law, labelled as the uniform law in d = 5 (the finite-N
    bias calibrated on real uniform curves in d = 6): the slope is about -1/2, not -1/5 + bias, and the
    row must say so."""
    rates = EXPERIMENTS["rates"]
    from lmctheory.rates import Subspace

    grid = rates._grid([("uniform", 6, None)], [1], [64, 128, 256, 512], 4, [0, 1])
    calibration = [{"config": c, "result": rates.run_config(c)} for c in grid]
    monkeypatch.setattr(rates, "make_law", lambda name, d, k=None, eta=0.0: Subspace(d, 2, 0.0, basis_seed=0))
    monkeypatch.setattr(rates, "_slope_dimension", lambda law: 5)
    records = [
        {"config": c, "result": rates.run_config(c)}
        for c in rates._grid([("uniform", 5, None)], [1], [64, 128, 256, 512], 4, [0, 1])
    ]
    rows = [r for r in rates.rows_from(records + calibration) if "d=5" in r.prediction]
    assert [r.kind for r in rows] == ["prediction", "check"]
    _fails(rows[:1])
    assert rows[0].measured < -0.35 and rows[0].details["calibration_dimensions"] == [6]


def test_rates_bound_check_fails_when_the_bound_is_exceeded():
    rates = EXPERIMENTS["rates"]
    result = {
        "regime": "d>2p",
        "predicted_slope": -0.2,
        "slope_dimension": 5,
        "slope": -0.2,
        "replicate_slopes": list(-0.2 + _noise(0, 4)),
        "curve": {"ns": [64, 128]},
        "ratio_to_bound": [[1.5, 1.6, 1.55, 1.58], [1.2, 1.1, 1.3, 1.2]],
    }
    rows = rates.rows_from([{"config": {"law": "uniform", "d": 5, "k": None, "p": 2}, "result": result}])
    _fails(rows, ("check",))


def test_rates_large_rows_fail_for_a_law_whose_rate_is_set_by_another_dimension(monkeypatch):
    """Real sparse-solver curves of a 2-dimensional law in R^5, labelled uniform d = 5 (the bias calibrated
    on real uniform curves in d = 6): the tail slope is about -1/2, not -1/5 + bias; and the solver check
    fails when the two exact solvers disagree."""
    large = EXPERIMENTS["rates_large"]
    from lmctheory.rates import Subspace

    calibration = [
        {"config": c, "result": large.run_config(c)}
        for c in large._grid([(6, 1024)], [128, 256, 512, 1024], 3, [0], 256, 256)
    ]
    monkeypatch.setattr(large, "make_law", lambda name, d: Subspace(d, 2, 0.0, basis_seed=0))
    records = [
        {"config": c, "result": large.run_config(c)}
        for c in large._grid([(5, 1024)], [128, 256, 512, 1024], 3, [0], 256, 256)
    ]
    rows = large.rows_from(records + calibration)[:3]
    assert [r.kind for r in rows] == ["prediction", "measurement", "check"]
    _fails(rows[:1])
    assert rows[0].measured < -0.35 and rows[2].verdict == "holds"
    records[0]["result"]["check"]["relative_difference"] = 1e-9
    _fails(large.rows_from(records + calibration)[:3], ("check",))


def test_two_layer_rows_fail_on_a_width_dependence_the_theory_rules_out():
    """D = 5 and D = 6 clouds whose matching errors decay like the rates of dimensions 4 and 2: each
    slope row (its bias calibrated on the other) rules them out."""
    widths = [32, 64, 128, 256, 512, 1024]
    w = np.asarray(widths, float)
    records = []
    for s in SEEDS:
        for m0, exponent in ((5, 1 / 4 + 0.025), (6, 0.5)):
            noise = 1 + _noise(s, len(w))
            records.append(
                {
                    "config": {"law": "uniform", "m0": m0, "joint": False, "widths": widths, "seed": s},
                    "result": {
                        "w2": list(w**-exponent * noise),
                        "gap": list(0.1 * noise),
                        "m1": list(w**-0.5 * noise),
                        "barrier": [2.0] * 6,
                        "barrier_attained": [2.0] * 6,  # above the certificate and the endpoint bound
                        "barrier_converged": [True] * 6,
                        "endpoint_bound": [1.0] * 6,
                        "certificate": [1.0] * 6,
                        "explicit_upper": [1e-3] * 6,
                        "explicit_lower": [10.0] * 6,
                    },
                }
            )
    rows = EXPERIMENTS["two_layer"].rows_from(records)
    assert {r.prediction.split(",")[0] for r in _fails(rows)} == {
        "matching error slope vs width",
        "output gap slope at t=1/2 (heuristic)",
    }
    _fails(rows, ("check",))


def test_low_dim_rows_fail_when_the_subspace_does_not_set_the_rate():
    records = []
    for k, eta in ((3, 0.0), (4, 0.0), (3, 0.05)):
        for s in SEEDS:
            small = list(-0.1 + _noise(s, 4))  # not -1/3
            large = list(-0.5 + _noise(s + 10, 4))  # steeper than small-N: the opposite of flattening
            records.append(
                {
                    "config": {"k": k, "m0": 10, "eta": eta, "split": 256, "seed": s},
                    "result": {
                        "small_slopes": small,
                        "large_slopes": large,
                        "small_slope": -0.1,
                        "large_slope": -0.5,
                        "floor_width": 4000.0 if eta else None,
                        "valid_up_to": None,
                    },
                }
            )
    rows = EXPERIMENTS["low_dim"].rows_from(records)
    assert _claims(_fails(rows)) == [
        "matching error slope for N <= 256, k=3 in R^10, eta=0",
        "matching error slope for N >= 256 without noise, k=3 in R^10, eta=0",
        "slope flattens past the eta floor (N >= 256), k=3 in R^10, eta=0.05",
        "matching error slope for N <= 256, k=4 in R^10, eta=0",
        "matching error slope for N >= 256 without noise, k=4 in R^10, eta=0",
    ]


def test_depth_rows_fail_when_matching_raises_the_defect_and_depth_lowers_it():
    depths = [1, 2, 3, 4]
    records = []
    for s in SEEDS:
        matched = list(np.array([0.4, 0.3, 0.2, 0.1]) + _noise(s, 4))
        records.append(
            {
                "config": {"m0": 5, "width": 64, "depths": depths, "seed": s},
                "result": {
                    "defect_matched": matched,
                    "defect_unmatched": list(np.array(matched) - 0.05 + _noise(s + 5, 4)),
                    "defect_absolute": [2.0] * 4,
                    "defect_bound": [1.0] * 4,
                    "barrier": [0.0] * 4,
                    "bound": [4.0, 3.0, 2.0, 1.0],
                },
            }
        )
    rows = EXPERIMENTS["depth"].rows_from(records)
    assert _claims(_fails(rows)) == [
        *(f"matching lowers the midpoint defect, depth {d}, m0=5, width 64" for d in (1, 2, 3, 4)),
        "matched midpoint defect grows with depth, m0=5, width 64",
    ]
    assert _claims(_fails(rows, ("check",))) == [
        *(
            f"midpoint output defect / certified defect bound, depth {d}, m0=5, width 64"
            for d in (1, 2, 3, 4)
        ),
        "certified bound grows with depth, m0=5, width 64",
    ]


def test_mean_field_rows_fail_when_the_gap_grows_with_width():
    widths = [64, 128, 256, 512, 1024]
    w = np.asarray(widths, float)
    records = []
    for s in SEEDS:
        gap = list(0.01 * w**0.3 * (1 + _noise(s, 5)))
        records.append(
            {
                "config": {"m0": 5, "widths": widths, "seed": s},
                "result": {
                    "dimension": 6.0,
                    "w2": list(w**-0.6 * (1 + _noise(s, 5))),
                    "gap": gap,
                    "gap_unmatched": list(np.array(gap) * 0.5),
                    "barrier_grid": [1.0] * 5,
                    "barrier": [1.0] * 5,
                    "barrier_attained": [1.0] * 5,  # above the grid bound and the endpoint bound
                    "barrier_converged": [True] * 5,
                    "endpoint_bound": [0.5] * 5,
                    "bound": [0.5] * 5,
                },
            }
        )
    rows = EXPERIMENTS["mean_field"].rows_from(records)
    assert _claims(_fails(rows)) == [
        "matching error slope of trained nets vs -1/D_hat, m0=5, D=m0+1=6",
        "matched output gap at t=1/2 decreases with width, m0=5, D=m0+1=6",
        "matching lowers the output gap at N=1024, m0=5, D=m0+1=6",
    ]
    assert _claims(_fails(rows, ("check",))) == [
        "loss barrier / certified bound (MSE), on the 11-point grid, m0=5, D=m0+1=6",
        "loss barrier over [0, 1] / endpoint bound, m0=5, D=m0+1=6",
    ]


def test_fig2_rows_fail_when_lower_dimension_goes_with_higher_lmc_error():
    from lmctheory_paper.validation.fig2 import LRS

    records = []
    for lr in LRS:
        for pair in range(3):
            errors = {"none": 3.0, "naive": 1.0, "full": 1.0, "weighted": 2.0 + 0.1 * pair, "activation": 3.0}
            dims = {"naive": 200.0, "full": 200.0, "weighted": 20.0, "activation": 2.0}  # low dim, high error
            records.append(
                {
                    "config": {"kind": "pair", "data": "digits", "hidden": 8, "lr": lr, "pair": pair},
                    "result": {
                        "diverged": [False, False],
                        "lmc_error": errors,
                        "dimension": dims,
                        # a barrier above its endpoint bound: a bug the check must catch
                        "barrier_grid": dict.fromkeys(("naive", "full", "weighted", "activation"), 0.5),
                        "endpoint_bound": dict.fromkeys(("naive", "full", "weighted", "activation"), 0.25),
                    },
                }
            )
    records.append(
        {
            "config": {"kind": "planted", "data": "digits", "hidden": 8, "lr": 1e-2, "pair": 0},
            "result": {"barrier": {"naive": 0.5}, "unaligned": 1.0},
        }
    )
    rows = EXPERIMENTS["fig2"].rows_from(records)
    rates = ("0.0001", "0.000398", "0.00159", "0.00631", "0.0251")
    trend = "lower approximate dimension, lower LMC error across matchers at lr={}, digits, MLP 3x8"
    assert _claims(_fails(rows)) == [
        *(
            claim
            for lr in rates
            for claim in (f"weighted WM beats naive WM at lr={lr}, digits, MLP 3x8", trend.format(lr))
        ),
        trend.format("0.1"),  # at the largest rate weighted WM does not lose: only the trend fails
        "lower approximate dimension, lower LMC error, pooled over rates, digits, MLP 3x8",
    ]
    assert _claims(_fails(rows, ("check",))) == [
        "loss barrier (25-point grid) / endpoint bound, every matcher, digits, MLP 3x8",
        "planted permutation undone by every matcher (loss barrier), digits",
    ]


def test_disentangle_rows_fail_on_a_planted_barrier_and_reversed_ingredients():
    dis = EXPERIMENTS["disentangle"]
    configs = dis._grid(16, 1, list(SEEDS))

    def result(config):
        model, train, data = config["model"], config["train"], config["data"]
        depth = len(model.get("hidden", [])) if model["model"] == "mlp" else 0
        barrier = {"logistic": 0.1, "cnn": 0.01, "lcn": 0.2, "attention": 0.05}.get(model["model"], 0.0)
        if model["model"] == "mlp":
            barrier = 0.5 - 0.1 * depth  # falls with depth; the 1-hidden-layer MLP has a planted 0.4 barrier
            if depth == 2:
                barrier = 0.3 + 0.2 * model["slope"]  # rises as the non-linearity weakens
            if train["optimizer"] == "adam":
                barrier = 0.05 if train["warmup_steps"] == 0 else 0.4  # below SGD's 0.3; warm-up raises it
        ladder = dis.DATA_LADDER
        endpoint = 0.1 * (ladder.index(data) + 1) if data in ladder else 0.1
        normalized = (
            1.0 - endpoint
            if model["model"] == "mlp" and depth == 2 and train["optimizer"] == "sgd"
            else barrier
        )
        wiggle = (
            1e-3 * np.random.default_rng(zlib.crc32(json.dumps(config, sort_keys=True).encode())).random()
        )
        return {
            "error_barrier": barrier + wiggle,
            "normalized": normalized + wiggle,
            "endpoint_error": endpoint,
            "loss_barrier": 0.1 if model["model"] == "logistic" else 0.3,
            "error_over_sum": 2.0,
            "n_parameters": 10,
            # attained above the endpoint bound: the check must catch it
            "loss_barrier_attained": 0.3,
            "endpoint_bound": 0.2,
            "barrier_converged": True,
        }

    rows = dis.rows_from([{"config": c, "result": result(c)} for c in configs])
    assert _claims(_fails(rows)) == [
        "1-hidden-layer ReLU MLP, SGD, same init: error barrier < 0.02 (mnist1d)",
        "error barrier grows with depth (1, 2, 3, 4 hidden layers)",
        "error barrier falls as the leaky-ReLU slope goes to 1 (linear)",
        "weight sharing breaks LMC more than locality: CNN - LCN error barrier",
        "Adam raises the error barrier over SGD",
        "warm-up lowers Adam's error barrier",
        "normalized barrier grows with dataset difficulty (4 datasets)",
    ]
    assert _claims(_fails(rows, ("check",))) == [
        "logistic regression: loss barrier above chord (convex)",
        "logistic regression: max error on the path / (Err_A + Err_B)",
        "loss barrier over [0, 1] / endpoint bound, every covered variant",
    ]


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_prediction_row_says_how_it_would_fail(name, tmp_path):
    rows = EXPERIMENTS[name].run("smoke", str(tmp_path), progress=False)
    for r in rows:
        assert r.kind in ("prediction", "check", "measurement")
        if r.kind == "prediction":
            assert r.fails_if and r.verdict in ("holds", "fails", "inconclusive")
        if r.kind == "measurement":
            assert r.verdict == "reported"
