"""The endpoint bound: never below the barrier over [0, 1] (the counterexample and random networks of
every covered kind), exact where the recursion has nothing to bound, and clear about what it refuses."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings

from lmctheory.lmc import certified_barrier_bound, certified_path_sup, endpoint_barrier_bound, evaluate_path
from lmctheory.nn import MLP
from tests.conftest import FINE, RANDOM_PAIRS, chain_pair, examples, random_pair


def test_the_counterexample_is_bounded_over_the_whole_segment():
    a, b = chain_pair((2.0, 1.0, 1.0), (1.0, 4.0, 0.5))
    data = (torch.ones(1, 1), torch.zeros(1, 1))
    fine = evaluate_path(a, b, data, ts=FINE, metrics=("loss",)).barrier("above_chord")
    assert certified_barrier_bound(a, b, data).upper < fine  # the baseline's grid maximum misses the peak
    bound = endpoint_barrier_bound(a, b, data, loss="mse")
    assert bound.upper >= fine
    assert (
        bound.edges[0] == 0.0 and bound.edges[-1] == 1.0 and len(bound.edges) == len(bound.per_interval) + 1
    )


@settings(max_examples=examples(16), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**RANDOM_PAIRS)
def test_the_endpoint_bound_is_above_every_attained_barrier(kind, activation, bias, scale, seed):
    a, b, data = random_pair(kind, activation, bias, scale, seed)
    bound = endpoint_barrier_bound(a, b, data, intervals=8, refine=8)
    fine = evaluate_path(a, b, data, ts=FINE, metrics=("loss",))
    lower = certified_path_sup(a, b, data, metrics=("loss",), max_intervals=32)["loss"].lower
    assert np.isfinite(bound.per_interval).all() and np.isfinite(bound.defect_per_interval).all()
    tol = 1e-5 * max(1.0, float(np.abs(fine.values["loss"]).max()))  # the fine grid runs in float32
    assert bound.upper >= fine.barrier("above_chord") - tol
    assert bound.upper >= lower - 1e-9 * max(1.0, abs(lower))


def test_identical_endpoints_have_a_zero_bound():
    # zero but for the bounds on float64 rounding (order 1e-13 here)
    a, _, data = random_pair("mlp", "relu", True, 3.0, 1)
    assert 0.0 <= endpoint_barrier_bound(a, a, data).upper <= 1e-10


def test_it_converges_to_the_barrier_where_nothing_is_propagated():
    # one hidden layer, identity activation: the hidden defect is zero and the output defect is the exact
    # -t(1-t) Delta W_2 Delta h_1; only the width of the sub-intervals separates the bound from the barrier.
    # f_t(x) = (2 - t)(1 + 3t) x, squared error to 0 at x = 1 and x = -0.5
    a = MLP([1, 1, 1], activation="identity", bias=False)
    b = MLP([1, 1, 1], activation="identity", bias=False)
    with torch.no_grad():
        for model, weights in ((a, (2.0, 1.0)), (b, (1.0, 4.0))):
            for layer, w in zip(model.layers, weights, strict=True):
                layer.weight.fill_(w)
    data = (torch.tensor([[1.0], [-0.5]]), torch.zeros(2, 1))
    fine = evaluate_path(a, b, data, ts=FINE, metrics=("loss",)).barrier("above_chord")
    coarse = endpoint_barrier_bound(a, b, data, intervals=8, refine=0).upper
    sharp = endpoint_barrier_bound(a, b, data, intervals=512, refine=64).upper
    assert fine > 1.0
    assert fine <= sharp <= coarse
    assert sharp <= fine * 1.01


def test_it_is_tighter_than_the_baseline_on_a_trained_like_pair():
    # ReLU units inactive at both endpoints contribute nothing; the baseline pays kappa t(1-t)|Delta z| and
    # Lipschitz constants for all of them
    a, b, data = random_pair("mlp", "relu", True, 1.0, 5)
    sharp = endpoint_barrier_bound(a, b, data).upper
    baseline = certified_barrier_bound(a, b, data).upper
    assert sharp < baseline


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"intervals": 0}, ValueError, "intervals"),
        ({"refine": -1}, ValueError, "refine"),
        ({"loss": "hinge"}, ValueError, "loss"),
        ({"batch_size": 0}, ValueError, "batch_size"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, message):
    a, b, data = random_pair("mlp", "relu", True, 1.0, 0)
    with pytest.raises(error, match=message):
        endpoint_barrier_bound(a, b, data, **kwargs)


def test_what_it_cannot_bound_is_refused():
    a, b, data = random_pair("mlp", "relu", True, 1.0, 0)
    with pytest.raises(NotImplementedError, match="gelu"):
        endpoint_barrier_bound(MLP([3, 6, 3], activation="gelu"), MLP([3, 6, 3], activation="gelu"), data)
    with pytest.raises(NotImplementedError, match="slope"):
        endpoint_barrier_bound(
            MLP([3, 6, 3], activation="leaky_relu", slope=-0.5),
            MLP([3, 6, 3], activation="leaky_relu", slope=-0.5),
            data,
        )
    with pytest.raises(ValueError, match="architecture"):
        endpoint_barrier_bound(a, MLP([3, 7, 5, 3]), data)
    with pytest.raises(ValueError, match="non-finite"):
        endpoint_barrier_bound(a, b, (torch.full_like(data[0], float("nan")), data[1]))
