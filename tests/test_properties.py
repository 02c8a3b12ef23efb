"""Property-based tests (hypothesis): metric axioms and invariances."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import special_ortho_group

from lmctheory.dimension import MLE, CorrelationDimension, ParticipationRatio, TwoNN
from lmctheory.dimension import PCADimension as PCA
from lmctheory.ot import optimal_matching, transport, wasserstein
from lmctheory.rates import fg_explicit_bound
from tests.conftest import examples

coords = st.floats(-100, 100, allow_nan=False, allow_infinity=False, width=64)
orders = st.sampled_from([1.0, 1.5, 2.0, 3.0])


@st.composite
def cloud_pair(draw, equal=True):
    d = draw(st.integers(1, 4))
    n = draw(st.integers(1, 12))
    m = n if equal else draw(st.integers(1, 12))
    x = draw(arrays(np.float64, (n, d), elements=coords))
    y = draw(arrays(np.float64, (m, d), elements=coords))
    return x, y


def close(a, b, scale):
    return abs(a - b) <= 1e-9 * max(1.0, scale)


@settings(max_examples=examples(60), deadline=None)
@given(cloud_pair(equal=False), orders)
def test_symmetric_and_zero_on_identical(pair, p):
    x, y = pair
    assert close(wasserstein(x, y, p), wasserstein(y, x, p), np.abs(np.r_[x.ravel(), y.ravel()]).max())
    assert wasserstein(x, x, p) <= 1e-9 * max(1.0, np.abs(x).max())


@settings(max_examples=examples(60), deadline=None)
@given(cloud_pair(), orders, st.floats(-50, 50), st.floats(0.01, 100), st.randoms(use_true_random=False))
def test_translation_scaling_and_permutation_invariance(pair, p, shift, scale, rnd):
    x, y = pair
    base = wasserstein(x, y, p)
    size = max(1.0, base, np.abs(np.r_[x.ravel(), y.ravel()]).max())
    assert close(wasserstein(x + shift, y + shift, p), base, size)
    for c in (scale, -scale):  # W_p(c x, c y) = |c| W_p(x, y)
        assert abs(wasserstein(c * x, c * y, p) - scale * base) <= 1e-9 * scale * size
    perm = list(range(len(y)))
    rnd.shuffle(perm)
    assert close(wasserstein(x, y[perm], p), base, size)


@settings(max_examples=examples(60), deadline=None)
@given(cloud_pair(), cloud_pair(), orders)
def test_triangle_inequality(p1, p2, p):
    x, y = p1
    z = p2[1]
    if z.shape != x.shape:
        z = np.resize(z, x.shape)
    lhs = wasserstein(x, z, p)
    rhs = wasserstein(x, y, p) + wasserstein(y, z, p)
    assert lhs <= rhs + 1e-9 * max(1.0, rhs)


@settings(max_examples=examples(40), deadline=None)
@given(cloud_pair(), orders)
def test_matching_cost_equals_transport_cost_and_perm_is_a_permutation(pair, p):
    x, y = pair
    perm, cost = optimal_matching(x, y, p)
    assert sorted(perm.tolist()) == list(range(len(x)))
    ref = transport(x, y, p, method="emd").cost
    assert abs(cost - ref) <= 1e-9 * max(1.0, ref)


@settings(max_examples=examples(40), deadline=None)
@given(st.integers(1, 10**12), st.integers(1, 12), st.sampled_from([1.0, 2.0, 4.0]))
def test_explicit_bound_is_positive_finite_and_monotone(n, d, p):
    b = fg_explicit_bound(np.array([n, n + 1, 2 * n]), d, p)
    assert np.all(np.isfinite(b)) and np.all(b > 0)
    assert b[0] >= b[1] >= b[2]


@settings(max_examples=examples(15), deadline=None)
@given(st.integers(0, 10**6), st.floats(0.05, 20), st.floats(-10, 10))
def test_dimension_estimates_invariant_to_rotation_translation_scale(seed, scale, shift):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 3)) @ rng.normal(size=(3, 6))
    R = special_ortho_group.rvs(6, random_state=seed)
    Y = scale * X @ R.T + shift
    for est in (MLE(), TwoNN(), CorrelationDimension()):
        a, b = est.fit(X).dimension_, est.fit(Y).dimension_
        assert abs(a - b) <= 1e-6 * a, (type(est).__name__, a, b)
    assert PCA().fit(X).dimension_ == PCA().fit(Y).dimension_
    # the uncentred participation ratio is rotation and scale invariant (not translation invariant)
    Z = scale * X @ R.T
    assert abs(ParticipationRatio().fit(X).dimension_ - ParticipationRatio().fit(Z).dimension_) < 1e-8


# ---------------------------------------------------------------- bounds are monotone


@settings(max_examples=examples(40), deadline=None)
@given(st.integers(5, 30), st.floats(1e-6, 0.5), st.floats(1.01, 1e3))
def test_width_bounds_grow_as_epsilon_shrinks_and_with_dimension(m0, eps, factor):
    from lmctheory.bounds import deep_recursion, entezari_two_layer, ferbach_two_layer

    for bound in (ferbach_two_layer(m0), entezari_two_layer(m0), deep_recursion(m0, 3)):
        wide, narrow = bound.solve_width(eps / factor), bound.solve_width(eps)
        assert narrow <= wide
    assert ferbach_two_layer(m0).solve_width(eps) <= ferbach_two_layer(m0 + 1).solve_width(eps)


@settings(max_examples=examples(40), deadline=None)
@given(st.integers(1, 10**9), st.integers(1, 12), st.integers(2, 50))
def test_matching_error_bound_decreases_with_width(width, m0, factor):
    from lmctheory.bounds import matching_error_upper_bound

    assert matching_error_upper_bound(width * factor, m0) <= matching_error_upper_bound(width, m0)


@settings(max_examples=examples(25), deadline=None)
@given(st.integers(1, 12), st.floats(1e-3, 0.5), st.floats(1.01, 100))
def test_explicit_width_is_monotone_in_epsilon(m0, eps, factor):
    from functools import partial

    from lmctheory.bounds import explicit_width, matching_error_upper_bound

    bound = partial(matching_error_upper_bound, m0=m0)
    assert explicit_width(eps, bound) <= explicit_width(eps / factor, bound)


# ---------------------------------------------- WassersteinDimension invariances


@settings(max_examples=examples(6), deadline=None)
@given(st.integers(0, 10**6), st.floats(0.05, 20), st.floats(-10, 10))
def test_wasserstein_dimension_invariant_to_rotation_translation_scale(seed, scale, shift):
    from lmctheory.dimension import WassersteinDimension

    rng = np.random.default_rng(seed)
    X = rng.random((512, 3)) @ rng.normal(size=(3, 6))
    Q = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    est = WassersteinDimension(reps=3, random_state=7)
    d0 = est.fit(X).dimension_
    d1 = WassersteinDimension(reps=3, random_state=7).fit(scale * X @ Q + shift).dimension_
    assert d1 == pytest.approx(d0, rel=1e-6)
