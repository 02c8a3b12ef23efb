"""Certified barrier bound >= measured barrier, on many pairs; per-layer reports."""

import numpy as np
import pytest
import torch

from lmctheory.lmc import (
    apply_permutation,
    certified_barrier_bound,
    layer_report,
    match,
    measured_and_certified,
)
from lmctheory.nn import MLP, LogisticRegression, MeanFieldTwoLayer, TrainConfig, train_pair
from tests.conftest import model_pair

TS = np.linspace(0, 1, 11)


def random_pairs():
    pairs = []
    for seed in range(5):
        for act in ("relu", "leaky_relu", "tanh", "identity"):
            torch.manual_seed(seed)
            a, b = (
                MLP([12, 32, 32, 4], activation=act).double(),
                MLP([12, 32, 32, 4], activation=act).double(),
            )
            pairs.append((f"mlp-{act}-{seed}", a, b))
    for seed in range(5):
        torch.manual_seed(100 + seed)
        pairs.append(
            (
                f"mean-field-{seed}",
                MeanFieldTwoLayer(12, 64, out=4).double(),
                MeanFieldTwoLayer(12, 64, out=4).double(),
            )
        )
    for seed in range(3):
        torch.manual_seed(200 + seed)
        pairs.append(
            (f"logistic-{seed}", LogisticRegression(12, 4).double(), LogisticRegression(12, 4).double())
        )
    return pairs


@pytest.fixture(scope="module")
def trained_pairs(digits):
    out = []
    for seed in range(3):
        for same in (True, False):
            cfg = TrainConfig(lr=0.05, epochs=4, batch_size=64, init_seed=seed, device="cpu", dtype="float64")
            a, b = train_pair(
                lambda: MLP([64, 64, 64, 10]), digits, cfg, same_init=same, seeds=(seed, seed + 10)
            )
            out.append((f"trained-{'same' if same else 'indep'}-{seed}", a.model, b.model))
    return digits, out


def test_certified_bound_holds_on_at_least_50_pairs(trained_pairs, capsys):
    digits, trained = trained_pairs
    g = torch.Generator().manual_seed(0)
    x_rand, y_rand = (
        torch.randn(300, 12, generator=g, dtype=torch.float64),
        torch.randint(0, 4, (300,), generator=g),
    )
    results = []
    for name, a, b in random_pairs():
        for aligned in (False, True):
            bb = apply_permutation(b, match(a, b, method="full")) if aligned and a.permutation_spec() else b
            results.append((name, aligned, measured_and_certified(a, bb, (x_rand, y_rand), ts=TS)))
    x_te, y_te = digits.x_test.double(), digits.y_test
    for name, a, b in trained:
        for aligned in (False, True):
            bb = (
                apply_permutation(b, match(a, b, method="weighted", inputs=digits.x_train.double()))
                if aligned
                else b
            )
            results.append((name, aligned, measured_and_certified(a, bb, (x_te, y_te), ts=TS)))
    assert len(results) >= 50
    failures = [(n, al, r) for n, al, r in results if not r["holds"]]
    assert not failures, failures[:3]
    ratios = np.array([r["ratio"] for _, _, r in results if r["ratio"] is not None])
    print(
        f"\ncertified bound / measured barrier over {len(results)} pairs: median {np.median(ratios):.3g}, "
        f"min {ratios.min():.3g}, max {ratios.max():.3g}"
    )
    assert np.all(ratios >= 1.0)


def test_logistic_and_identical_pairs_have_zero_bound():
    torch.manual_seed(0)
    x, y = torch.randn(50, 12, dtype=torch.float64), torch.randint(0, 4, (50,))
    lo = certified_barrier_bound(
        LogisticRegression(12, 4).double(), LogisticRegression(12, 4).double(), (x, y), ts=TS
    )
    assert lo.upper == 0.0  # outputs are linear in the parameters: no defect
    a = MLP([12, 16, 4]).double()
    assert certified_barrier_bound(a, a, (x, y), ts=TS).upper == 0.0


def test_defect_bound_holds_at_every_t_and_vanishes_for_identical_models():
    """BarrierBound.defect_per_t bounds E_x ||f_t - ((1-t) f_A + t f_B)||_2, measured directly."""
    from torch.func import functional_call

    x, y = torch.randn(300, 8, dtype=torch.float64), torch.randint(0, 3, (300,))
    for seed, act in enumerate(("relu", "leaky_relu", "tanh", "gelu")):
        a, b = model_pair(lambda act=act: MLP([8, 64, 64, 3], activation=act).double(), seed)
        bound = certified_barrier_bound(a, b, (x, y), ts=TS)
        with torch.no_grad():
            fa, fb = a(x), b(x)
            for t, limit in zip(TS, bound.defect_per_t, strict=True):
                params = {
                    k: (1 - t) * va + t * vb
                    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True)
                }
                measured = (
                    (functional_call(a, params, (x,)) - ((1 - t) * fa + t * fb)).norm(dim=1).mean().item()
                )
                assert measured <= limit * (1 + 1e-12) + 1e-12
        assert bound.defect_per_t[0] == bound.defect_per_t[-1] == 0.0 and bound.defect_per_t[5] > 0
    same = certified_barrier_bound(a, a, (x, y), ts=TS)
    assert np.all(same.defect_per_t == 0.0) and same.to_dict()["defect_per_t"] == [0.0] * len(TS)


def test_alignment_shrinks_the_bound_on_average():
    gains = []
    x, y = torch.randn(200, 8, dtype=torch.float64), torch.randint(0, 3, (200,))
    for seed in range(6):
        a, b = model_pair(lambda: MLP([8, 256, 3]).double(), seed)
        aligned = apply_permutation(b, match(a, b, method="naive"))
        gains.append(
            certified_barrier_bound(a, b, (x, y), ts=TS).upper
            / certified_barrier_bound(a, aligned, (x, y), ts=TS).upper
        )
    assert np.mean(gains) > 1.2


def test_mse_loss_bound_holds():
    torch.manual_seed(1)
    x = torch.randn(200, 6, dtype=torch.float64)
    y = torch.randn(200, 1, dtype=torch.float64)
    for seed in range(5):
        a, b = model_pair(lambda: MeanFieldTwoLayer(6, 50).double(), seed)
        r = measured_and_certified(a, b, (x, y[:, 0]), ts=TS)
        assert r["holds"]


def test_layer_report_of_a_planted_pair_is_zero():
    torch.manual_seed(0)
    a = MLP([10, 20, 20, 3]).double()
    perm = match(a, a, method="naive")
    rows = layer_report(a, apply_permutation(a, perm), torch.randn(64, 10, dtype=torch.float64))
    assert [r["layer"] for r in rows] == [1, 2]
    assert all(r["weight_sq_distance"] == 0 and r["preactivation_gap"] == 0 for r in rows)
    assert rows[0]["predicted_exponent"] == pytest.approx(-1 / 11)
    b = MLP([10, 20, 20, 3]).double()
    rows = layer_report(a, b, torch.randn(64, 10, dtype=torch.float64))
    assert rows[0]["optimal_w2_sq"] <= rows[0]["weight_sq_distance"] + 1e-12


def test_unsupported_models():
    with pytest.raises(NotImplementedError, match="attention"):
        certified_barrier_bound(
            torch.nn.Linear(3, 3), torch.nn.Linear(3, 3), (torch.randn(4, 3), torch.randint(0, 3, (4,)))
        )
