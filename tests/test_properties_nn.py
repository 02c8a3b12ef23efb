"""Property-based tests (hypothesis) for barriers, permutations and result documents."""

import json

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lmctheory.lmc import DEFINITIONS, Permutation, apply_permutation, barrier, functional_difference
from lmctheory.nn import MLP
from lmctheory.runs import record
from lmctheory.runs._provenance import dumps
from tests.conftest import examples

values = arrays(
    np.float64,
    st.integers(2, 15).map(lambda k: 2 * k + 1),
    elements=st.floats(0, 10, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=examples(100), deadline=None)
@given(values)
def test_barrier_definitions_symmetric_under_path_reversal_and_zero_on_constant_paths(v):
    ts = np.linspace(0, 1, len(v))
    for name in ("above_chord", "max_minus_mean", "midpoint_value", "midpoint_barrier"):
        assert abs(barrier(ts, v, name) - barrier(ts, v[::-1], name)) <= 1e-12 * max(1.0, v.max())
    flat = np.full_like(v, v[0])
    for name in ("above_chord", "max_minus_mean", "midpoint_barrier"):
        assert abs(barrier(ts, flat, name)) <= 1e-12 * max(1.0, v[0])
    assert barrier(ts, v, "above_chord") >= 0 and barrier(ts, v, "max_minus_mean") >= -1e-12
    assert barrier(ts, v, "max_minus_mean") >= barrier(ts, v, "midpoint_barrier") - 1e-12
    errors = np.clip(v / 10, 0, 0.99)
    accuracy = 1 - (errors[0] + errors[-1]) / 2
    expected = (errors.max() - (errors[0] + errors[-1]) / 2) / accuracy
    assert abs(barrier(ts, errors, "normalized") - expected) <= 1e-12 * max(1.0, abs(expected))
    assert abs(barrier(ts, errors, "normalized") - barrier(ts, errors[::-1], "normalized")) <= 1e-12 * max(
        1, expected
    )
    assert set(DEFINITIONS) >= {"above_chord", "normalized"}


@settings(max_examples=examples(25), deadline=None)
@given(st.lists(st.integers(2, 12), min_size=1, max_size=3), st.integers(0, 2**31 - 1))
def test_permutation_apply_then_inverse_round_trips_and_preserves_the_function(hidden, seed):
    torch.manual_seed(seed)
    model = MLP([3, *hidden, 2]).double()
    rng = np.random.default_rng(seed)
    spec = model.permutation_spec()
    perm = Permutation({f"P_{i}": rng.permutation(h) for i, h in enumerate(hidden)}, "random", spec, {})
    permuted = apply_permutation(model, perm)
    x = torch.randn(20, 3, dtype=torch.float64)
    assert functional_difference(model, perm, x) <= 1e-12
    back = apply_permutation(permuted, perm.inverse())
    for (k, a), b in zip(model.state_dict().items(), back.state_dict().values(), strict=True):
        assert torch.equal(a, b), k


@settings(max_examples=examples(60), deadline=None)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(
            st.integers(-(10**9), 10**9),
            st.floats(allow_nan=False, allow_infinity=False),
            st.lists(st.floats(-1e6, 1e6), max_size=5),
            st.text(max_size=10),
            st.booleans(),
        ),
        max_size=6,
    )
)
def test_result_documents_round_trip_through_json(result):
    doc = record("test", {"x": 1}, result, seed=3)
    again = json.loads(dumps(doc))
    assert again["result"] == json.loads(json.dumps(result)) and again["seed"] == 3
    assert again["versions"]["lmctheory"] == doc["versions"]["lmctheory"]
