"""Interpolating any model, and batch-norm statistics recomputed on data: exact and self-consistent."""

import pytest
import torch
from torch import nn

from lmctheory.nn.models import MLP
from lmctheory.renormalize import interpolate, reset_batchnorm


def _net(seed):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(5, 8),
        nn.BatchNorm1d(8),
        nn.ReLU(),
        nn.Linear(8, 6),
        nn.BatchNorm1d(6),
        nn.ReLU(),
        nn.Linear(6, 2),
    )


def _inputs_of(model, norms, x):
    seen = {}
    handles = [m.register_forward_pre_hook(lambda m, args: seen.setdefault(m, args[0])) for m in norms]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return seen


def test_reset_gives_every_layer_the_exact_statistics_of_what_it_receives():
    model, x = _net(0), torch.randn(300, 5)
    reset_batchnorm(model, x, batch_size=64)  # several batches: accumulated exactly
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
