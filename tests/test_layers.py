"""Layer dimensions of MLPs: Ferbach et al.'s three matrices."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from lmctheory.dimension import PCADimension
from lmctheory.lmc import layer_dimensions, linear_layers


def pr_eigvalsh(S):
    lam = np.linalg.eigvalsh(S)
    return lam.sum() ** 2 / np.sum(lam**2)


def random_mlp(rng, sizes=(7, 30, 20, 3)):
    weights = [rng.normal(size=(o, i)) / math.sqrt(i) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    biases = [rng.normal(size=o) * 0.1 for o in sizes[1:]]
    return weights, biases


def torch_mlp(weights, biases):
    layers = []
    for i, (W, b) in enumerate(zip(weights, biases, strict=True)):
        lin = nn.Linear(W.shape[1], W.shape[0]).double()
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(W))
            lin.bias.copy_(torch.tensor(b))
        layers.append(lin)
        if i < len(weights) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def test_weights_method_is_the_pr_of_w_transpose_w(rng):
    weights, _ = random_mlp(rng)
    res = layer_dimensions(weights, method="weights")
    assert [r.layer for r in res] == [1, 2] and [r.width for r in res] == [30, 20]
    for r, W in zip(res, weights[:-1], strict=True):
        assert r.participation_ratio == pytest.approx(pr_eigvalsh(W.T @ W), rel=1e-10)
        assert r.fan_in == W.shape[1]


def test_weights_method_matches_the_closed_form_for_random_layers():
    # E tr(S)^2 / E tr(S^2) = (d n + 2)/(d + n + 1) for n iid N(0, I_d) rows; the PR itself
    # concentrates on this value as the layer grows
    rng = np.random.default_rng(3)
    n, d = 400, 50
    prs = [
        layer_dimensions([rng.normal(size=(n, d)), rng.normal(size=(2, n))])[0].participation_ratio
        for _ in range(30)
    ]
    assert np.mean(prs) == pytest.approx((d * n + 2) / (d + n + 1), rel=0.01)


def test_weighted_method_reproduces_ferbachs_definition(rng):
    weights, biases = random_mlp(rng)
    x = rng.normal(size=(500, 7)) + 0.5
    res = layer_dimensions(weights, x, method="weighted", biases=biases)
    # direct computation: Sigma = uncentred second moment of each layer's input
    a = x
    for layer, (W, b) in enumerate(zip(weights[:-1], biases[:-1], strict=True)):
        sigma = a.T @ a / a.shape[0]
        assert res[layer].participation_ratio == pytest.approx(pr_eigvalsh(W @ sigma @ W.T), rel=1e-9)
        a = np.maximum(a @ W.T + b, 0)
    assert res[0].n_inputs == 500


def test_activations_method_is_the_pr_of_the_activation_second_moment(rng):
    weights, biases = random_mlp(rng)
    x = rng.normal(size=(300, 7))
    res = layer_dimensions(weights, x, method="activations", biases=biases)
    h1 = np.maximum(x @ weights[0].T + biases[0], 0)
    h2 = np.maximum(h1 @ weights[1].T + biases[1], 0)
    for r, h in zip(res, (h1, h2), strict=True):
        assert r.participation_ratio == pytest.approx(pr_eigvalsh(h.T @ h / 300), rel=1e-9)


@pytest.mark.parametrize("method", ["weights", "weighted", "activations"])
def test_torch_sequential_equals_the_weight_list(rng, method):
    weights, biases = random_mlp(rng)
    x = rng.normal(size=(200, 7))
    model = torch_mlp(weights, biases)
    a = layer_dimensions(model, x, method=method)
    b = layer_dimensions(weights, x, method=method, biases=biases)
    for ra, rb in zip(a, b, strict=True):
        assert ra.participation_ratio == pytest.approx(rb.participation_ratio, rel=1e-10)
    assert len(linear_layers(model)) == 3


def test_estimator_runs_on_the_neuron_cloud(rng):
    # first-layer weight rows in a 3-dim subspace of R^7: PCA on the cloud says 3
    basis = np.linalg.qr(rng.normal(size=(7, 3)))[0]
    W1 = rng.normal(size=(40, 3)) @ basis.T
    res = layer_dimensions([W1, rng.normal(size=(2, 40))], estimator=PCADimension())
    assert res[0].estimate == 3 and res[0].estimator == "PCADimension"
    assert res[0].participation_ratio <= 3 + 1e-9
    # weighted cloud: with Sigma = I the cloud is W itself
    x = math.sqrt(7) * np.vstack([np.eye(7), -np.eye(7)])  # uncentred second moment exactly I
    np.testing.assert_allclose(x.T @ x / x.shape[0], np.eye(7), atol=1e-12)
    weighted = layer_dimensions(
        [W1, rng.normal(size=(2, 40))], x, method="weighted", estimator=PCADimension()
    )
    assert weighted[0].estimate == 3
    assert weighted[0].participation_ratio == pytest.approx(res[0].participation_ratio, rel=1e-10)


def test_to_dict(rng):
    weights, _ = random_mlp(rng)
    d = layer_dimensions(weights)[0].to_dict()
    assert d["method"] == "weights" and d["estimate"] is None


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"method": "naive"}, ValueError, "method must be one of"),
        ({"method": "weighted"}, ValueError, "needs inputs"),
        ({"method": "activations", "inputs": np.ones((5, 4))}, ValueError, "inputs have 4 features"),
        ({"method": "activations", "inputs": np.full((5, 7), np.nan)}, ValueError, "inputs contains"),
        ({"activation": "swish"}, ValueError, "activation must be one of"),
    ],
)
def test_bad_input(rng, kwargs, exc, match):
    weights, _ = random_mlp(rng)
    with pytest.raises(exc, match=match):
        layer_dimensions(weights, **kwargs)


def test_bad_models(rng):
    with pytest.raises(ValueError, match="at least 2 linear layers"):
        layer_dimensions([rng.normal(size=(3, 4))])
    with pytest.raises(ValueError, match="expects 5 inputs"):
        layer_dimensions([rng.normal(size=(3, 4)), rng.normal(size=(2, 5))])
    with pytest.raises(TypeError, match="nn.Module or a non-empty list"):
        layer_dimensions("mlp")
    with pytest.raises(ValueError, match="no nn.Linear"):
        layer_dimensions(nn.Sequential(nn.ReLU()))
    with pytest.raises(ValueError, match="non-finite"):
        layer_dimensions([np.full((3, 4), np.inf), rng.normal(size=(2, 3))])


@pytest.mark.parametrize("method", ["activations", "weighted"])
def test_a_dead_relu_layer_is_named_not_a_generic_error(rng, method):
    """All activations of layer 1 are 0 (negative biases): layer 2's input cloud is zero."""
    weights = [rng.normal(size=(6, 3)), rng.normal(size=(5, 6)), rng.normal(size=(2, 5))]
    biases = [np.full(6, -1e3), np.zeros(5), np.zeros(2)]
    layer = 1 if method == "activations" else 2
    with pytest.raises(ValueError, match=f"layer {layer}: .* dead layer"):
        layer_dimensions(weights, rng.normal(size=(20, 3)), method, biases=biases)


@pytest.mark.filterwarnings("ignore::lmctheory.dimension.UnreliableEstimateWarning")
def test_with_a_spec_an_mlp_gives_its_layer_dimensions_and_any_traced_network_one_per_group():
    import torch

    from lmctheory.lmc import permutation_spec
    from lmctheory.nn import MLP, ResNet20

    torch.manual_seed(0)
    mlp = MLP([6, 9, 7, 3])
    plain = [d.participation_ratio for d in layer_dimensions(mlp)]
    by_spec = layer_dimensions(mlp, spec=mlp.permutation_spec())
    assert np.allclose([d.participation_ratio for d in by_spec], plain, rtol=1e-12)
    assert [(d.group, d.width) for d in by_spec] == [("P_0", 9), ("P_1", 7)]
    net = ResNet20((1, 8, 8), 3, blocks=1)
    spec = permutation_spec(net)
    dims = layer_dimensions(net, spec=spec)
    assert [d.width for d in dims] == [spec.sizes[d.group] for d in dims] and len(dims) == len(spec)
    assert all(1.0 <= d.participation_ratio <= min(d.width, d.fan_in) for d in dims)
    # a relabelling of the units (the symmetry the spec describes) leaves every group's cloud as it is
    from lmctheory.lmc import Permutation, apply_permutation

    rng = np.random.default_rng(0)
    planted = Permutation({k: rng.permutation(n) for k, n in spec.sizes.items()}, "planted", dict(spec), {})
    moved = layer_dimensions(apply_permutation(net, planted, dict(spec)), spec=spec)
    assert np.allclose(
        [d.participation_ratio for d in moved], [d.participation_ratio for d in dims], rtol=1e-9
    )
    # but scaling one unit's incoming weights changes it
    with torch.no_grad():
        net.stem[0].weight[0].mul_(100.0)
    assert layer_dimensions(net, spec=spec)[0].participation_ratio < 0.5 * dims[0].participation_ratio
    with pytest.raises(ValueError, match="method must be 'weights'"):
        layer_dimensions(mlp, np.zeros((2, 6)), "activations", spec=mlp.permutation_spec())


# ------------------------------------------------ regressions found in the review of acd35e6


def test_layer_dimensions_does_not_fit_the_callers_estimator():
    """Review of acd35e6: fails on that commit's behaviour."""
    from lmctheory.dimension import ParticipationRatio
    from lmctheory.lmc import layer_dimensions
    from lmctheory.nn import MLP

    est = ParticipationRatio()
    torch.manual_seed(0)
    out = layer_dimensions(MLP([4, 32, 32, 2]), method="weights", estimator=est)
    assert len(out) == 2 and all(r.estimate is not None for r in out)
    assert not hasattr(est, "dimension_")
