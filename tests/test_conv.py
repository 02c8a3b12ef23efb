"""CNN and LCN: same hyper-parameters, per-channel alignment, certified bound, training."""

import numpy as np
import pytest
import torch

from lmctheory.lmc import (
    METHODS,
    apply_permutation,
    check_functional_equivalence,
    match,
    measured_and_certified,
)
from lmctheory.nn import CNN, LCN, TrainConfig, load_checkpoint, save_checkpoint, train_pair
from tests.conftest import random_permutation, same_parameters

TS = np.linspace(0, 1, 9)


def make(kind, seed=0):
    torch.manual_seed(seed)
    cls = CNN if kind == "cnn" else LCN
    return cls((1, 8, 8), [8, 12], 10).double()


def planted(model, seed=0):
    perm = random_permutation(model, seed)
    return apply_permutation(model, perm), perm


def test_lcn_from_cnn_computes_the_same_function():
    cnn = make("cnn")
    lcn = LCN.from_cnn(cnn)
    x = torch.randn(20, 64, dtype=torch.float64)
    torch.testing.assert_close(cnn(x), lcn(x), rtol=1e-12, atol=1e-12)
    # no weight sharing: one kernel per position (8 x 8 = 64 positions, same padding)
    assert sum(c.weight.numel() for c in lcn.convs) == 64 * sum(c.weight.numel() for c in cnn.convs)


@pytest.mark.parametrize("kind", ["cnn", "lcn"])
@pytest.mark.parametrize("method", METHODS)
def test_planted_channel_permutations_are_recovered(kind, method):
    a = make(kind)
    b, perm = planted(a, seed=1)
    x = torch.randn(64, 64, dtype=torch.float64)
    assert check_functional_equivalence(a, perm, x)
    aligned = apply_permutation(b, match(a, b, method=method, inputs=x))
    assert same_parameters(a, aligned)


@pytest.mark.parametrize("kind", ["cnn", "lcn"])
def test_certified_bound_holds_for_conv_families(kind):
    x = torch.randn(100, 64, dtype=torch.float64)
    y = torch.randint(0, 10, (100,))
    for seed in range(4):
        a, b = make(kind, seed), make(kind, seed + 100)
        for bb in (b, apply_permutation(b, match(a, b, method="full"))):
            r = measured_and_certified(a, bb, (x, y), ts=TS)
            assert r["holds"], r


def test_trained_cnn_pair_and_checkpoint(digits, tmp_path):
    cfg = TrainConfig(lr=0.05, epochs=3, batch_size=64, device="cpu", dtype="float64")
    a, b = train_pair(lambda: CNN((1, 8, 8), [16, 16], 10), digits, cfg, same_init=False)
    err = (a.model(digits.x_test.double()).argmax(1) != digits.y_test).double().mean()
    assert err < 0.15
    aligned = apply_permutation(
        b.model, match(a.model, b.model, method="weighted", inputs=digits.x_train.double())
    )
    r = measured_and_certified(a.model, aligned, (digits.x_test.double(), digits.y_test), ts=TS)
    assert r["holds"]
    path = save_checkpoint(a, tmp_path / "cnn.pt")
    model, sidecar = load_checkpoint(path)
    assert sidecar["model"]["model"] == "cnn"
    torch.testing.assert_close(model(digits.x_test.double()), a.model(digits.x_test.double()))


def test_bad_conv_configs():
    with pytest.raises(ValueError, match="input_shape"):
        CNN((64,), [8], 10)
    with pytest.raises(ValueError, match="odd"):
        CNN((1, 8, 8), [8], 10, kernel_size=2)
