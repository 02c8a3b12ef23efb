"""The certified supremum over t in [0, 1]: it contains the barrier of a 10,001-point grid, on the
counterexample where a 25-point grid misses the peak and on random networks of every covered kind."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings

from lmctheory.lmc import certified_barrier_bound, certified_path_sup, evaluate_path
from lmctheory.nn import MLP
from tests.conftest import FINE, RANDOM_PAIRS, chain_pair, examples, random_pair


def test_the_counterexample_a_grid_misses_and_the_certified_sup_does_not():
    # f(x) = w1 w2 w3 x on x = 1, target 0, squared error: the barrier peaks at t = 4/9, between grid points
    a, b = chain_pair((2.0, 1.0, 1.0), (1.0, 4.0, 0.5))
    data = (torch.ones(1, 1), torch.zeros(1, 1))
    fine = evaluate_path(a, b, data, ts=FINE, metrics=("loss",)).barrier("above_chord")
    grid_bound = certified_barrier_bound(a, b, data).upper  # exact per t, on 25 points
    assert grid_bound < fine - 1e-3  # the grid maximum misses the peak
    sup = certified_path_sup(a, b, data, metrics=("loss",), loss="mse", rtol=1e-4)["loss"]
    assert sup.lower <= fine + 1e-9 <= sup.upper + 1e-9
    assert sup.converged and sup.gap <= 1e-4 * fine + 1e-12
    assert abs(sup.t_lower - 4 / 9) < 1e-3


#: random pairs of every covered kind and activation, with and without bias, weights scaled 0.3-30 (B 1.7x
#: further): the hypothesis strategies of the property tests of the certified supremum and the endpoint bound


@settings(max_examples=examples(12), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**RANDOM_PAIRS)
def test_the_certified_sup_contains_the_fine_grid_barrier(kind, activation, bias, scale, seed):
    # the enclosure is of the function the (float32) parameters define exactly; evaluate_path in float64 on
    # copies of the models computes it to about 1e-13 here (tests/test_certified_exact.py compares with an
    # exact reference on smaller networks)
    a, b, data = random_pair(kind, activation, bias, scale, seed)
    a64, b64, data64 = a.double(), b.double(), (data[0].double(), data[1])
    fine = evaluate_path(a64, b64, data64, ts=FINE)
    sups = certified_path_sup(a, b, data, max_intervals=64)
    for metric in ("loss", "error"):
        sup, measured = sups[metric], fine.barrier("above_chord", metric)
        assert np.isfinite([sup.lower, sup.upper]).all()
        slack = 1e-9 * max(1.0, *np.abs(fine.values[metric]))
        assert sup.upper >= measured - slack, (metric, sup, measured)
        assert sup.lower >= 0.0  # g(0) = g(1) = 0
        # the lower bound is attained: g(t_lower) recomputed by evaluate_path (it may exceed the fine grid's
        # maximum: a piecewise-constant error can peak between grid points)
        at = evaluate_path(a64, b64, data64, ts=[0.0, sup.t_lower, 1.0]).values[metric]
        g = at[1] - ((1 - sup.t_lower) * at[0] + sup.t_lower * at[2])
        assert sup.lower <= g + slack


def test_a_budget_that_runs_out_is_reported_not_hidden():
    a, b, data = random_pair("mlp", "relu", True, 10.0, 3)
    sup = certified_path_sup(a, b, data, atol=1e-12, rtol=1e-12, initial=2, max_intervals=4)["loss"]
    assert not sup.converged and sup.intervals <= 4 and sup.upper >= sup.lower


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"metrics": ("accuracy",)}, "metrics"),
        ({"loss": "hinge"}, "loss"),
        ({"atol": -1.0}, "atol"),
        ({"rtol": float("nan")}, "rtol"),
        ({"initial": 0}, "initial"),
        ({"max_intervals": 0}, "max_intervals"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    a, b, data = random_pair("mlp", "relu", True, 1.0, 0)
    with pytest.raises(ValueError, match=message):
        certified_path_sup(a, b, data, **kwargs)


def test_gelu_is_enclosed_and_uncovered_models_are_refused():
    from lmctheory.nn import AttentionNet

    _, _, data = random_pair("mlp", "relu", True, 1.0, 0)
    torch.manual_seed(1)
    gelu_a, gelu_b = MLP([3, 6, 3], activation="gelu"), MLP([3, 6, 3], activation="gelu")
    sup = certified_path_sup(gelu_a, gelu_b, data, max_intervals=64)["loss"]  # loose, but a bound
    fine = evaluate_path(gelu_a.double(), gelu_b.double(), (data[0].double(), data[1]), ts=FINE)
    assert sup.upper >= fine.barrier("above_chord") and sup.lower <= fine.barrier("above_chord") + 1e-9
    with pytest.raises(NotImplementedError, match="AttentionNet"):
        certified_path_sup(
            AttentionNet((1, 4, 4), 3), AttentionNet((1, 4, 4), 3), (torch.randn(4, 16), data[1][:4])
        )
    with pytest.raises(ValueError, match="class labels"):
        a, b, _ = random_pair("mlp", "relu", True, 1.0, 0)
        certified_path_sup(a, b, (data[0], torch.randn(12, 3)), metrics=("error",))
