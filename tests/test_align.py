"""Alignment: planted permutations, functional equivalence, spec validation."""

import numpy as np
import pytest
import torch

from lmctheory.lmc import (
    METHODS,
    Permutation,
    apply_permutation,
    check_functional_equivalence,
    evaluate_path,
    functional_difference,
    match,
    validate_spec,
)
from lmctheory.nn import MLP, LogisticRegression, MeanFieldTwoLayer
from tests.conftest import random_permutation


def planted_pair(model, seed=0, noise=0.0):
    planted = random_permutation(model, seed)
    b = apply_permutation(model, planted)
    if noise:
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in b.parameters():
                p.add_(noise * p.std() * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return b, planted


def max_param_distance(a, b):
    return max(
        (x - y).abs().max().item()
        for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )


@pytest.fixture(scope="module")
def big_mlp():
    torch.manual_seed(0)
    return MLP([784, 512, 512, 512, 10]).double()


@pytest.mark.parametrize("method", METHODS)
def test_every_matcher_recovers_a_planted_permutation_exactly(big_mlp, method):
    b, _ = planted_pair(big_mlp)
    x = torch.randn(256, 784, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    aligned = apply_permutation(b, match(big_mlp, b, method=method, inputs=x))
    assert max_param_distance(big_mlp, aligned) == 0.0
    y = torch.randint(0, 10, (256,), generator=torch.Generator().manual_seed(2))
    path = evaluate_path(big_mlp, aligned, (x, y), ts=np.linspace(0, 1, 5))
    assert path.barrier("above_chord") == 0.0 and path.barrier("max_minus_mean", "error") == 0.0


@pytest.mark.parametrize(
    "model",
    [MeanFieldTwoLayer(5, 64), MLP([6, 32, 16, 3], activation="tanh", bias=False)],
    ids=["mean-field", "mlp-tanh-nobias"],
)
@pytest.mark.parametrize("method", METHODS)
def test_planted_recovery_on_other_models(model, method):
    model = model.double()
    b, _ = planted_pair(model, seed=3)
    x = torch.randn(200, model.state_dict()[next(iter(model.state_dict()))].shape[1], dtype=torch.float64)
    assert max_param_distance(model, apply_permutation(b, match(model, b, method=method, inputs=x))) == 0.0


def test_recovery_rate_under_noise_is_reported_per_width(capsys):
    rates = {}
    for width in (32, 128, 512):
        torch.manual_seed(width)
        a = MLP([20, width, width, 5]).double()
        b, planted = planted_pair(a, seed=width, noise=0.01)
        found = match(a, b, method="full")
        inverse = planted.inverse().perms
        rates[width] = np.mean([np.mean(found.perms[k] == inverse[k]) for k in inverse])
    print("recovery rate per width at 1% noise:", rates)
    assert all(r >= 0.99 for r in rates.values()), rates


def test_functional_equivalence_and_a_corrupted_permutation():
    torch.manual_seed(0)
    model = MLP([8, 16, 16, 3]).double()
    x = torch.randn(64, 8, dtype=torch.float64)
    spec = model.permutation_spec()
    perm = Permutation({k: np.random.default_rng(1).permutation(16) for k in spec}, spec=spec)
    assert check_functional_equivalence(model, perm, x)
    assert functional_difference(model, perm, x) < 1e-12
    # corrupted: rows of layer 0 permuted but not the columns of layer 1
    broken = {k: [ax for ax in v if ax != ("layers.1.weight", 1)] for k, v in spec.items()}
    assert not check_functional_equivalence(model, perm, x, spec=broken)
    with pytest.raises(ValueError, match="not a permutation"):
        apply_permutation(model, Permutation({"P_0": np.zeros(16, int), "P_1": np.arange(16)}, spec=spec))
    round_trip = apply_permutation(apply_permutation(model, perm), perm.inverse())
    assert max_param_distance(model, round_trip) == 0.0


def test_spec_validation_and_match_errors():
    torch.manual_seed(0)
    a, b = MLP([4, 8, 2]), MLP([4, 9, 2])
    with pytest.raises(ValueError, match="not the same architecture"):
        match(a, b)
    with pytest.raises(ValueError, match="method must be one of"):
        match(a, a, method="greedy")
    with pytest.raises(ValueError, match="needs inputs"):
        match(a, a, method="weighted")
    with pytest.raises(ValueError, match="absent from the model"):
        validate_spec({"P": [("nope.weight", 0)]}, a.state_dict())
    with pytest.raises(ValueError, match="different sizes"):
        validate_spec({"P": [("layers.0.weight", 0), ("layers.0.weight", 1)]}, a.state_dict())
    with pytest.raises(ValueError, match="permuted twice"):
        validate_spec({"P": [("layers.0.weight", 0)], "Q": [("layers.0.weight", 0)]}, a.state_dict())
    assert LogisticRegression(4, 3).permutation_spec() == {}
    with pytest.raises(TypeError, match="permutation_spec"):
        match(torch.nn.Linear(3, 3), torch.nn.Linear(3, 3))


def test_apply_permutation_returns_an_independent_copy_and_handles_tied_tensors():
    torch.manual_seed(0)
    model = MLP([6, 10, 10, 3])
    model.layers[1].weight.requires_grad_(False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    spec = model.permutation_spec()
    perm = Permutation({k: np.random.default_rng(2).permutation(10) for k in spec}, spec=spec)
    out = apply_permutation(model, perm)
    for k, v in model.state_dict().items():  # the original is untouched
        assert torch.equal(v, before[k])
    for (k, p), q in zip(out.named_parameters(), model.parameters(), strict=True):
        assert isinstance(p, torch.nn.Parameter) and p.requires_grad == q.requires_grad, k
        assert p.data_ptr() != q.data_ptr(), k  # no memory shared with the original
    assert torch.equal(out.layers[0].weight, before["layers.0.weight"][torch.as_tensor(perm.perms["P_0"])])

    # a permuted tensor tied to another name (one Parameter, two names) goes through copy-then-load:
    # the copy keeps the tie, and the permuted name is loaded last-wins as by load_state_dict
    tied = MLP([6, 10, 10, 3])
    tied.layers[1].weight = tied.layers[2].weight = torch.nn.Parameter(torch.randn(10, 10))
    tied_spec = {
        "P_0": [("layers.0.weight", 0), ("layers.0.bias", 0), ("layers.1.weight", 1), ("layers.2.weight", 1)]
    }
    p0 = torch.as_tensor(perm.perms["P_0"])
    tied_out = apply_permutation(tied, Permutation({"P_0": perm.perms["P_0"]}, spec=tied_spec))
    assert tied_out.layers[1].weight is tied_out.layers[2].weight
    assert tied_out.layers[1].weight is not tied.layers[1].weight
    assert torch.equal(tied_out.layers[1].weight, tied.layers[1].weight[:, p0])
    assert torch.equal(tied_out.layers[0].bias, tied.layers[0].bias[p0])


@pytest.mark.parametrize(
    "entry, message",
    [
        (("layers.1.weight", 1, (1, 3)), "not outer x units x inner"),
        (("layers.1.weight", 1, (1, 1)), "permuted twice"),
    ],
)
def test_a_layout_that_does_not_fit_the_axis_or_overlaps_is_rejected(entry, message):
    from lmctheory.lmc import validate_spec
    from lmctheory.nn import MLP

    model = MLP([3, 8, 2])
    spec = model.permutation_spec()
    spec["P_extra"] = [entry]
    with pytest.raises(ValueError, match=message):
        validate_spec(spec, model.state_dict())


@pytest.mark.parametrize("method", ["activation", "weighted"])
def test_activation_matchers_take_float64_models_with_float32_inputs(method):
    """Models trained with TrainConfig(dtype="float64") are matched on the data set's float32 inputs: the
    captured activations follow the model's dtype (the forward used to fail on mixed dtypes)."""
    from lmctheory.nn import TrainConfig, load_dataset, train

    data = load_dataset("gaussian_mixture", n_train=120, n_test=40)
    models = [
        train(lambda: MLP([10, 12, 4]), data, TrainConfig(epochs=1, dtype="float64", init_seed=s)).model
        for s in (0, 1)
    ]
    assert data.x_train.dtype == torch.float32 and next(models[0].parameters()).dtype == torch.float64
    perm = match(*models, method=method, inputs=data.x_train)
    assert sorted(perm.perms["P_0"].tolist()) == list(range(12))
