"""Training: reproducibility, divergence, pairs, ensembles == sequential, checkpoints, robust LMC."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from lmctheory.lmc import evaluate_path
from lmctheory.nn import (
    MLP,
    MeanFieldTwoLayer,
    TrainConfig,
    load_checkpoint,
    resolve_device,
    save_checkpoint,
    train,
    train_ensemble,
    train_online,
    train_pair,
)
from tests.conftest import same_parameters


def small_mlp():
    return MLP([64, 32, 10])


def test_training_learns_and_is_reproducible(digits):
    cfg = TrainConfig(lr=0.05, epochs=3, batch_size=64, device="cpu")
    a, b = train(small_mlp, digits, cfg), train(small_mlp, digits, cfg)
    assert same_parameters(a.model, b.model) and a.losses == b.losses
    assert np.mean(a.losses[-5:]) < 0.5 * np.mean(a.losses[:5])
    c = train(small_mlp, digits, TrainConfig(lr=0.05, epochs=3, batch_size=64, device="cpu", data_seed=1))
    assert not same_parameters(a.model, c.model)
    err = (a.model(digits.x_test).argmax(1) != digits.y_test).float().mean()
    assert err < 0.15


def test_divergence_is_recorded_not_raised(digits):
    res = train(small_mlp, digits, TrainConfig(lr=1e8, steps=50, epochs=None, device="cpu"))
    assert res.diverged and res.diverged_at is not None and res.steps == res.diverged_at
    assert res.summary()["diverged"] is True


def test_pairs_share_or_not_their_initialisation(digits):
    cfg = TrainConfig(lr=0.05, steps=1, epochs=None, device="cpu")
    zero = TrainConfig(lr=1e-30, steps=1, epochs=None, device="cpu", momentum=0.0)  # barely moves
    a, b = train_pair(small_mlp, digits, zero, same_init=True)
    assert all(torch.allclose(x, y) for x, y in zip(a.model.parameters(), b.model.parameters(), strict=True))
    a, b = train_pair(small_mlp, digits, zero, same_init=False)
    assert not torch.allclose(a.model.layers[0].weight, b.model.layers[0].weight)
    a, b = train_pair(small_mlp, digits, cfg, same_init=True)
    assert a.config.data_seed == 0 and b.config.data_seed == 1 and a.config.init_seed == b.config.init_seed


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_vectorised_ensemble_equals_sequential_training(digits, optimizer):
    cfg = TrainConfig(
        optimizer=optimizer,
        lr=0.01,
        steps=25,
        epochs=None,
        batch_size=32,
        warmup_steps=5,
        schedule="cosine",
        weight_decay=1e-4,
        device="cpu",
        dtype="float64",
    )
    seeds = [(0, 3), (1, 4), (2, 5)]
    ens = train_ensemble(
        small_mlp, digits, cfg, init_seeds=[s[0] for s in seeds], data_seeds=[s[1] for s in seeds]
    )
    for (i, d), res in zip(seeds, ens, strict=True):
        seq = train(small_mlp, digits, replace(cfg, init_seed=i, data_seed=d))
        for x, y in zip(res.model.parameters(), seq.model.parameters(), strict=True):
            torch.testing.assert_close(x, y, rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(res.losses, seq.losses, rtol=1e-9)


def test_ensemble_freezes_a_diverging_member(digits):
    cfg = TrainConfig(lr=1e8, steps=20, epochs=None, device="cpu")
    res = train_ensemble(small_mlp, digits, cfg, init_seeds=[0, 1], data_seeds=[0, 1])
    assert all(r.diverged for r in res)
    assert all(torch.isfinite(p).all() for r in res for p in r.model.parameters())


def test_ensemble_member_that_diverges_leaves_the_others_exact(digits):
    """Member 1 starts with weights of 1e200 in two layers (its logits overflow: loss not finite at step 0);
    members 0 and 2
    must still equal their sequential runs, and member 1 keeps finite parameters."""

    def make():
        model = small_mlp().double()  # 1e200 is finite in float64 only
        if torch.initial_seed() == 1:
            with torch.no_grad():
                model.layers[0].weight.mul_(1e200)
                model.layers[1].weight.mul_(1e200)
        return model

    cfg = TrainConfig(lr=0.05, steps=30, epochs=None, batch_size=32, device="cpu", dtype="float64")
    ens = train_ensemble(make, digits, cfg, init_seeds=[0, 1, 2], data_seeds=[5, 6, 7])
    assert [r.diverged for r in ens] == [False, True, False]
    assert ens[1].steps == ens[1].diverged_at == len(ens[1].losses) == 0
    assert all(torch.isfinite(p).all() for p in ens[1].model.parameters())
    for k in (0, 2):
        seq = train(make, digits, replace(cfg, init_seed=k, data_seed=5 + k))
        assert not seq.diverged and ens[k].steps == seq.steps == 30
        np.testing.assert_allclose(ens[k].losses, seq.losses, rtol=1e-9)
        for x, y in zip(ens[k].model.parameters(), seq.model.parameters(), strict=True):
            torch.testing.assert_close(x, y, rtol=1e-9, atol=1e-11)


def test_checkpoint_round_trip(digits, tmp_path):
    res = train(small_mlp, digits, TrainConfig(lr=0.05, steps=10, epochs=None, device="cpu"))
    path = save_checkpoint(res, tmp_path / "a.pt", dataset=digits, extra={"pair": "same-init"})
    model, sidecar = load_checkpoint(path)
    assert torch.equal(model(digits.x_test), res.model(digits.x_test))
    assert sidecar["model"]["widths"] == [64, 32, 10] and sidecar["train"]["lr"] == 0.05
    assert sidecar["dataset"]["name"] == "digits" and sidecar["pair"] == "same-init"
    (tmp_path / "a.json").unlink()
    with pytest.raises(FileNotFoundError, match="a.json"):
        load_checkpoint(path)


def test_online_sgd_mean_field_learns_a_teacher():
    torch.manual_seed(0)
    teacher_w = torch.randn(3, 5) / 5**0.5

    def teacher(x):
        return torch.relu(x @ teacher_w.T).sum(1, keepdim=True) / 3

    model = MeanFieldTwoLayer(5, 200)
    res = train_online(model, teacher, steps=1500, lr=0.05, batch_size=16, seed=0, device="cpu")
    assert not res.diverged and np.mean(res.losses[-100:]) < 0.3 * np.mean(res.losses[:100])


def test_bad_configs():
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="lbfgs")
    with pytest.raises(ValueError, match="exactly one of epochs and steps"):
        TrainConfig(epochs=None, steps=None)
    with pytest.raises(ValueError, match="lr must be"):
        TrainConfig(lr=0)
    assert resolve_device("auto").type in ("cpu", "cuda")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_hidden_layer_relu_mlp_is_robustly_lmc_on_digits(digits, seed):
    """Altıntaş et al.: same init, different SGD noise, no alignment: error barrier < 0.02."""
    cfg = TrainConfig(lr=0.05, momentum=0.9, epochs=10, batch_size=64, init_seed=seed, device="cpu")
    a, b = train_pair(
        lambda: MLP([64, 512, 10]), digits, cfg, same_init=True, seeds=(10 * seed, 10 * seed + 1)
    )
    path = evaluate_path(
        a.model, b.model, (digits.x_test, digits.y_test), ts=np.linspace(0, 1, 11), split="test"
    )
    assert path.barrier("max_minus_mean", "error") < 0.02
