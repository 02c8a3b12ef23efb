"""The certified supremum against an exact reference (tests/exact_path.py, mpmath at 400 bits): for small
dense networks of every covered activation (leaky ReLU of any slope), with inputs up to 2**60, float32 weights
up to 1e6, exact zero crossings and cancelling paths, ``lower <= g(t_lower)`` (the lower end is a value the path
attains) and ``g(t) <= upper`` at the ends, at ``t_lower`` and at random t. Then the four counterexamples that
the previous enclosure got wrong (each fails on ce453b9)."""

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmctheory.lmc import certified_path_sup
from lmctheory.nn import MLP
from tests.conftest import examples, model_pair

from . import exact_path


def _check(a, b, data, sups, loss, reference="chord", samples=24, seed=0):
    """Assert the enclosure's two claims against the exact reference."""
    rng = torch.Generator().manual_seed(seed)
    ts = [0.0, 1.0, *torch.rand(samples, generator=rng, dtype=torch.float64).tolist()]
    for name, sup in sups.items():
        ends = exact_path.endpoints(a, b, data, name, loss)

        def at(t, name=name, ends=ends):
            return exact_path.barrier_at(a, b, data, t, name, loss, reference, ends)

        assert math.isfinite(sup.upper) or sup.upper == math.inf
        if sup.lower > -math.inf:
            assert exact_path.at_least(at(sup.t_lower), sup.lower), (name, sup, at(sup.t_lower))
        for t in [*ts, sup.t_lower]:
            assert exact_path.at_most(at(t), sup.upper), (name, t, at(t), sup)


def _pair(widths, activation, slope, bias, weight_scale, seed):
    a, b = model_pair(lambda: MLP(widths, activation=activation, bias=bias, slope=slope), seed)
    with torch.no_grad():
        for model in (a, b):
            for p in model.parameters():
                p.mul_(weight_scale)
    return a, b


@st.composite
def small_pairs(draw):
    depth = draw(st.integers(1, 3))
    widths = [
        draw(st.integers(1, 3)),
        *(draw(st.integers(2, 4)) for _ in range(depth)),
        draw(st.integers(2, 3)),
    ]
    activation = draw(st.sampled_from(["relu", "leaky_relu", "tanh", "identity", "gelu"]))
    slope = draw(st.floats(-2.0, 2.0, width=32))
    a, b = _pair(
        widths,
        activation,
        slope,
        draw(st.booleans()),
        draw(st.sampled_from([1.0, 30.0, 1e3, 1e6])),
        draw(st.integers(0, 2**20)),
    )
    n = draw(st.integers(1, 5))
    x = torch.randn(n, widths[0], dtype=torch.float64) * draw(st.sampled_from([1.0, 2.0**20, 2.0**60]))
    if draw(st.booleans()):  # a cancelling path: B's first layer is A's negated, an input hits zero exactly
        with torch.no_grad():
            b.layers[0].weight.copy_(-a.layers[0].weight)
    loss = draw(st.sampled_from(["cross_entropy", "mse"]))
    y = torch.randint(0, widths[-1], (n,)) if loss == "cross_entropy" else torch.randn(n, widths[-1])
    return a, b, (x, y), loss


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(small_pairs(), st.sampled_from(["chord", "mean"]))
def test_the_enclosure_contains_the_exact_supremum_and_its_lower_end_is_attained(case, reference):
    a, b, data, loss = case
    metrics = ("loss", "error") if loss == "cross_entropy" else ("loss",)
    sups = certified_path_sup(a, b, data, metrics=metrics, loss=loss, reference=reference, max_intervals=64)
    _check(a, b, data, sups, loss, reference)


@settings(max_examples=examples(15), deadline=None)
@given(st.integers(1, 4), st.sampled_from(["relu", "tanh", "leaky_relu"]), st.integers(0, 2**20))
def test_mean_field_nets_with_their_rounded_one_over_n_scale_are_enclosed(width, activation, seed):
    from lmctheory.nn import MeanFieldTwoLayer

    a, b = model_pair(lambda: MeanFieldTwoLayer(2, width * 3, 2, activation), seed)
    data = (torch.randn(4, 2) * 3, torch.randint(0, 2, (4,)))
    sups = certified_path_sup(a, b, data, max_intervals=64)
    _check(a, b, data, sups, "cross_entropy")


# ------------------------------------------------------------ the four counterexamples of ce453b9


def _chain(widths, activation, weights_a, weights_b, *, slope=0.01, biases=None):
    """An MLP pair with the given weight matrices (and biases, the same in A and B)."""
    a = MLP(widths, activation=activation, bias=biases is not None, slope=slope)
    b = MLP(widths, activation=activation, bias=biases is not None, slope=slope)
    with torch.no_grad():
        for model, weights in ((a, weights_a), (b, weights_b)):
            for i, (layer, w) in enumerate(zip(model.layers, weights, strict=True)):
                layer.weight.copy_(torch.tensor(w))
                if biases is not None:
                    layer.bias.copy_(torch.tensor(biases[i]))
    return a, b


def test_a_negative_leaky_slope_is_enclosed_as_the_non_monotone_function_it_is():
    # sigma(z) = |z| (slope -1); z(t) = 1 - 3t crosses 0 at t = 1/3, where the squared error to 1 peaks:
    # g(t) = (|1 - 3t| - 1)^2 - t, sup 2/3 at t = 1/3 (ce453b9 enclosed sigma as if monotone: [0.566, 0.566])
    a, b = _chain([1, 1, 1], "leaky_relu", [[[1.0]], [[1.0]]], [[[-2.0]], [[1.0]]], slope=-1.0)
    data = (torch.ones(1, 1), torch.ones(1, 1))
    sup = certified_path_sup(a, b, data, metrics=("loss",), loss="mse")["loss"]
    assert sup.lower <= 2 / 3 <= sup.upper and sup.converged
    _check(a, b, data, {"loss": sup}, "mse")


def test_rounding_in_the_inputs_is_bounded_not_assumed_away():
    # z(t) = 2**60 + (1 - t) - 2**60 = 1 - t exactly, 0 in float64; f = (1 + t) z, squared error to 0: the
    # endpoint losses are 1 and 0 and the barrier is positive (ce453b9: converged to [0, 1e-9])
    a, b = _chain(
        [2, 1, 1], "identity", [[[1.0, 1.0]], [[1.0]]], [[[1.0, 0.0]], [[2.0]]], biases=[[-(2.0**60)], [0.0]]
    )
    data = (torch.tensor([[2.0**60, 1.0]], dtype=torch.float64), torch.zeros(1, 1))
    sup = certified_path_sup(a, b, data, metrics=("loss",), loss="mse")["loss"]
    exact_sup = max(
        exact_path.barrier_at(a, b, data, k / 1024, "loss", "mse") for k in range(1025)
    )  # a lower bound of the exact supremum, well above 1e-9
    assert exact_sup > 0.05 and exact_path.at_least(exact_sup, 0.0)
    assert sup.upper >= float(exact_sup) and sup.lower <= float(exact_sup)
    _check(a, b, data, {"loss": sup}, "mse")


def test_float32_weights_on_cancelling_paths_are_enclosed_from_their_exact_values():
    # two hidden paths with weights near 2.6e5 whose contributions cancel to a small output
    w = 262_144.03125  # a float32 number
    a, b = _chain([1, 2, 1], "relu", [[[w], [w]], [[1.0, -1.0]]], [[[w], [w * 1.25]], [[1.0, -1.0]]])
    data = (torch.tensor([[3.0e5]]), torch.zeros(1, 1))
    sup = certified_path_sup(a, b, data, metrics=("loss",), loss="mse")["loss"]
    _check(a, b, data, {"loss": sup}, "mse", samples=64)


def test_the_error_lower_end_is_taken_only_where_every_margin_sign_is_certified():
    # margins t^2 - 0.3 (one example, class 0) and 0.3 - t^2 (four, class 1) all cross zero at t = sqrt(0.3):
    # near it float64 gets signs wrong; ce453b9 reported lower 0.271 at a t where the exact g is -0.329
    a, b = _chain(
        [1, 2, 2],
        "identity",
        [[[0.0], [1.0]], [[0.0, 0.0], [0.0, 0.3]]],
        [[[1.0], [1.0]], [[1.0, 0.0], [0.0, 0.3]]],
    )
    data = (torch.ones(5, 1), torch.tensor([0, 1, 1, 1, 1]))
    sup = certified_path_sup(a, b, data, metrics=("error",))["error"]
    value = exact_path.barrier_at(a, b, data, sup.t_lower, "error", "cross_entropy")
    assert sup.lower == float(value)  # every margin certified at t_lower: the error there is known exactly
    _check(a, b, data, {"error": sup}, "cross_entropy", samples=64)


def test_models_of_different_activations_are_refused():
    a, b = MLP([2, 3, 2]), MLP([2, 3, 2], activation="tanh")
    data = (torch.randn(4, 2), torch.randint(0, 2, (4,)))
    with pytest.raises(ValueError, match="activation is 'relu' in model_a, 'tanh' in model_b"):
        certified_path_sup(a, b, data)
    with pytest.raises(ValueError, match="bias"):
        certified_path_sup(MLP([2, 3, 2]), MLP([2, 3, 2], bias=False), data)
    with pytest.raises(ValueError, match="slope"):
        certified_path_sup(
            MLP([2, 3, 2], "leaky_relu", slope=0.1), MLP([2, 3, 2], "leaky_relu", slope=0.2), data
        )


@settings(max_examples=examples(25), deadline=None)
@given(small_pairs())
def test_the_endpoint_and_baseline_bounds_are_above_the_exact_barrier(case):
    from lmctheory.lmc import certified_barrier_bound, endpoint_barrier_bound

    a, b, data, loss = case
    ts = [0.0, 0.125, 1 / 3, 0.5, 0.7, 1.0]
    ends = exact_path.endpoints(a, b, data, "loss", loss)
    exact = {t: exact_path.barrier_at(a, b, data, t, "loss", loss, "chord", ends) for t in ts}
    baseline = certified_barrier_bound(a, b, data, ts=ts, loss=loss)
    for t, bound in zip(ts, baseline.per_t, strict=True):
        assert exact_path.at_most(exact[t], float(bound)), (t, exact[t], bound)
    if a.activation_name in ("gelu",) or (a.activation_name == "leaky_relu" and a.slope < 0):
        return  # the endpoint bound needs a nondecreasing activation (refused otherwise)
    endpoint = endpoint_barrier_bound(a, b, data, intervals=4, refine=4, loss=loss)
    for t in ts:
        assert exact_path.at_most(exact[t], endpoint.upper), (t, exact[t], endpoint.upper)
