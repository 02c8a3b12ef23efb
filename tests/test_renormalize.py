"""Interpolating any model, and batch-norm statistics recomputed on data: exact and self-consistent."""

import copy

import pytest
import torch
from torch import nn

from lmctheory.lmc import interpolate, repair, reset_batchnorm
from lmctheory.nn import MLP
from tests.conftest import model_pair


def _bn_mlp(widths, *, norm=True, flatten=False):
    """Linear (+ BatchNorm1d) + ReLU per hidden layer, then a linear output layer."""
    layers = [nn.Flatten()] if flatten else []
    for a, b in zip(widths[:-2], widths[1:-1], strict=True):
        layers += [nn.Linear(a, b), *([nn.BatchNorm1d(b)] if norm else []), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(widths[-2], widths[-1]))


def _net(seed, norm=True):
    torch.manual_seed(seed)
    return _bn_mlp([5, 8, 6, 2], norm=norm)


def _inputs_of(model, norms, x):
    seen = {}
    handles = [m.register_forward_pre_hook(lambda m, args: seen.setdefault(m, args[0])) for m in norms]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return seen


@pytest.mark.parametrize("batch_size", [64, 300], ids=["one-pass-per-layer", "one-pass"])
def test_reset_gives_every_layer_the_exact_statistics_of_what_it_receives(batch_size):
    model, x = _net(0), torch.randn(300, 5)
    reset_batchnorm(model, x, batch_size=batch_size)  # several batches: accumulated exactly
    assert not model.training
    norms = [model[1], model[4]]
    seen = _inputs_of(model, norms, x)  # eval mode, with the reset statistics
    for m in norms:
        assert torch.allclose(m.running_mean, seen[m].mean(0), atol=1e-5)
        assert torch.allclose(m.running_var, seen[m].var(0), rtol=1e-4)
    # the first layer's inputs do not depend on any statistics: they are the linear layer's outputs
    with torch.no_grad():
        assert torch.allclose(model[1].running_mean, model[0](x).mean(0), atol=1e-5)


def test_interpolation_ends_are_the_endpoints_and_the_middle_is_the_average():
    a, b, x = _net(1).eval(), _net(2).eval(), torch.randn(16, 5)
    with torch.no_grad():
        assert torch.allclose(interpolate(a, b, 0.0)(x), a(x)) and torch.allclose(
            interpolate(a, b, 1.0)(x), b(x)
        )
    mid = interpolate(a, b, 0.5)
    assert torch.allclose(mid[4].running_var, (a[4].running_var + b[4].running_var) / 2)
    assert mid[1].num_batches_tracked == a[1].num_batches_tracked


def test_the_interpolated_statistics_are_not_the_interpolated_networks_own():
    # two trained-like endpoints: the midpoint's interpolated running variance overstates what its
    # layers receive; reset_batchnorm replaces it with the real one
    a, b, x = _net(3), _net(4), torch.randn(512, 5)
    for m in (a, b):
        reset_batchnorm(m, x)
    mid = interpolate(a, b, 0.5)
    before = mid[4].running_var.clone()
    reset_batchnorm(mid, x)
    seen = _inputs_of(mid, [mid[4]], x)[mid[4]]
    assert torch.allclose(mid[4].running_var, seen.var(0), rtol=1e-4)
    assert not torch.allclose(before, mid[4].running_var, rtol=1e-2)


def test_models_without_batch_norm_are_returned_unchanged():
    model = MLP([4, 6, 2])
    state = {k: v.clone() for k, v in model.state_dict().items()}
    assert reset_batchnorm(model, torch.randn(10, 4)) is model
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: interpolate(_net(0), _net(1), 1.5), "t must be in"),
        (lambda: interpolate(_net(0), MLP([5, 8, 2]), 0.5), "same architecture"),
        (lambda: reset_batchnorm(_net(0), torch.randn(0, 5)), "empty"),
        (lambda: reset_batchnorm(_net(0), torch.full((4, 5), float("nan"))), "non-finite"),
        (lambda: reset_batchnorm(_net(0), torch.randn(4, 5), batch_size=0), "batch_size"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _channel_moments(model, module, x):
    out = {}
    handle = module.register_forward_hook(lambda m, args, y: out.setdefault("y", y))
    with torch.no_grad():
        model(x)
    handle.remove()
    y = out["y"]
    return y.mean(0), y.std(0, unbiased=False)


@pytest.mark.parametrize("batch_size", [128, 400], ids=["one-pass-per-site", "one-pass"])
@pytest.mark.parametrize("with_norm", [True, False], ids=["batch-norm", "no-norm"])
def test_repair_gives_each_site_the_interpolated_endpoint_statistics(with_norm, batch_size):
    def make(seed):
        return _net(seed, norm=with_norm).eval()

    a, b, x, t = make(5), make(6), torch.randn(400, 5), 0.3
    if with_norm:
        for m in (a, b):
            reset_batchnorm(m, x)
    fixed = repair(a, b, t, x, batch_size=batch_size)
    sites = [i for i, m in enumerate(fixed) if isinstance(m, nn.BatchNorm1d)] if with_norm else [0, 2]
    for i in sites:
        (mu, sd), (mu_a, sd_a), (mu_b, sd_b) = (_channel_moments(m, m[i], x) for m in (fixed, a, b))
        assert torch.allclose(mu, (1 - t) * mu_a + t * mu_b, atol=1e-4)
        assert torch.allclose(sd, (1 - t) * sd_a + t * sd_b, atol=1e-4)


class _Shared(nn.Module):
    """One batch-norm layer used twice per forward: its statistics are those of both calls."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.norm = nn.Linear(3, 4), nn.Linear(4, 4), nn.BatchNorm1d(4)

    def forward(self, x):
        return self.norm(self.fc2(torch.relu(self.norm(self.fc1(x)))))


def test_a_layer_run_twice_per_forward_gets_the_statistics_of_both_calls_in_either_mode():
    torch.manual_seed(3)
    model, x = _Shared(), torch.randn(200, 3)
    one = reset_batchnorm(copy.deepcopy(model), x, batch_size=200)
    many = reset_batchnorm(copy.deepcopy(model), x, batch_size=50)
    assert torch.allclose(one.norm.running_mean, many.norm.running_mean, atol=1e-6)
    assert torch.allclose(one.norm.running_var, many.norm.running_var, atol=1e-6)
    with torch.no_grad():
        first = model.fc1(x)
    assert not torch.allclose(one.norm.running_mean, first.mean(0), atol=1e-3)  # not the first call's alone


def test_reset_and_repair_lower_the_midpoint_loss_of_trained_aligned_batch_norm_nets(digits):
    # the published direction (Jordan et al. 2022): two independently trained BN MLPs on digits, aligned by
    # weight matching with the traced spec; the plain midpoint (interpolated running statistics) is worse
    from lmctheory.lmc import apply_permutation, match
    from lmctheory.nn import TrainConfig, trace_permutation_spec, train

    def make():
        return _bn_mlp([64, 128, 128, 10], flatten=True)

    cfg = dict(optimizer="sgd", lr=0.05, momentum=0.9, epochs=5, batch_size=64, device="cpu")
    a, b = (train(make, digits, TrainConfig(**cfg, init_seed=s, data_seed=s)).model.eval() for s in (0, 1))
    x = digits.x_train.flatten(1)
    spec = dict(trace_permutation_spec(a, x[:4]))
    b = apply_permutation(b, match(a, b, method="full", spec=spec), spec)

    def midpoint_loss(model):
        with torch.no_grad():
            return float(nn.functional.cross_entropy(model.eval()(digits.x_test.flatten(1)), digits.y_test))

    plain = midpoint_loss(interpolate(a, b, 0.5))
    reset = midpoint_loss(reset_batchnorm(interpolate(a, b, 0.5), x))
    repaired = midpoint_loss(repair(a, b, 0.5, x))
    assert reset < plain and repaired < plain, (plain, reset, repaired)


def test_the_path_without_renormalisation_is_evaluate_paths_and_bad_names_are_rejected():
    from lmctheory.lmc import evaluate_path, renormalized_path

    a, b = model_pair(lambda: MLP([5, 16, 3]), seed=4)
    x, y = torch.randn(300, 5), torch.randint(0, 3, (300,))
    ts = [0.0, 0.25, 0.5, 1.0]
    ours = renormalized_path(a, b, (x, y), ts=ts, renormalize="none", inputs=x, batch_size=128)
    reference = evaluate_path(a, b, (x, y), ts=ts)
    for metric in ("loss", "error"):
        assert ours.values[metric] == pytest.approx(reference.values[metric], abs=1e-5)
    assert ours.barrier("above_chord") == pytest.approx(reference.barrier("above_chord"), abs=1e-5)
    with pytest.raises(ValueError, match="renormalize"):
        renormalized_path(a, b, (x, y), ts=ts, renormalize="batchnorm", inputs=x)
