"""The attention model: permutation symmetries, alignment, path evaluation, training."""

import numpy as np
import pytest
import torch

from lmctheory.lmc import (
    Permutation,
    apply_permutation,
    certified_barrier_bound,
    check_functional_equivalence,
    evaluate_path,
    match,
)
from lmctheory.nn import AttentionNet, TrainConfig, load_checkpoint, save_checkpoint, train
from tests.conftest import random_permutation, same_parameters


def make(seed=0, shape=(1, 8, 8)):
    torch.manual_seed(seed)
    return AttentionNet(shape, 10, patch=2, d_model=16, hidden=24).double()


@pytest.mark.parametrize("shape", [(1, 8, 8), (40,)])
def test_every_symmetry_in_the_spec_preserves_the_function(shape):
    model = make(shape=shape)
    x = torch.randn(30, int(np.prod(shape)), dtype=torch.float64)
    assert check_functional_equivalence(model, random_permutation(model, 1), x, rtol=1e-10)
    for name in model.permutation_spec():  # each symmetry on its own
        rng = np.random.default_rng(2)
        single = Permutation(
            {
                k: (rng.permutation(len(v)) if k == name else np.arange(len(v)))
                for k, v in random_permutation(model, 0).perms.items()
            },
            spec=model.permutation_spec(),
        )
        assert check_functional_equivalence(model, single, x, rtol=1e-10), name


def test_full_weight_matching_recovers_a_planted_permutation():
    a = make()
    b = apply_permutation(a, random_permutation(a, 3))
    aligned = apply_permutation(b, match(a, b, method="full"))
    assert same_parameters(a, aligned)


def test_path_and_training_and_bound(digits):
    x, y = digits.x_test.double(), digits.y_test
    a, b = make(0), make(1)
    ts = np.linspace(0, 1, 7)
    batched = evaluate_path(a, b, (x, y), ts=ts, strategy="vmap")
    looped = evaluate_path(a, b, (x, y), ts=ts, strategy="loop")
    np.testing.assert_allclose(batched.values["loss"], looped.values["loss"], rtol=1e-10)
    with pytest.raises(NotImplementedError, match="attention"):
        certified_barrier_bound(a, b, (x, y), ts=ts)
    res = train(
        lambda: AttentionNet((1, 8, 8), 10, patch=2, d_model=32, hidden=64),
        digits,
        TrainConfig(optimizer="adam", lr=1e-2, epochs=15, batch_size=64, device="cpu"),
    )
    err = (res.model(digits.x_test).argmax(1) != digits.y_test).float().mean()
    assert err < 0.45  # chance is 0.9; measured 0.22


def test_checkpoint_and_bad_shapes(digits, tmp_path):
    res = train(lambda: AttentionNet((1, 8, 8), 10), digits, TrainConfig(steps=2, epochs=None, device="cpu"))
    model, _ = load_checkpoint(save_checkpoint(res, tmp_path / "att.pt"))
    torch.testing.assert_close(model(digits.x_test), res.model(digits.x_test))
    with pytest.raises(ValueError, match="must divide"):
        AttentionNet((1, 8, 8), 10, patch=3)
