"""float32 and float64 inputs give consistent results; extreme scales neither overflow nor underflow."""

import copy
import math

import numpy as np
import pytest
import torch

from lmctheory.dimension import MLE, PCADimension, TwoNN
from lmctheory.lmc import Permutation, apply_permutation, evaluate_path, match
from lmctheory.nn import MLP
from lmctheory.ot import sliced_wasserstein, transport, wasserstein
from tests.conftest import model_pair


@pytest.fixture(scope="module")
def clouds32():
    rng = np.random.default_rng(0)
    return rng.random((300, 6)).astype(np.float32), rng.random((300, 6)).astype(np.float32)


@pytest.mark.parametrize("p", [1, 2, 3])
def test_wasserstein_float32_equals_float64_of_the_same_values(clouds32, p):
    x, y = clouds32
    assert wasserstein(x, y, p) == wasserstein(x.astype(np.float64), y.astype(np.float64), p)
    assert wasserstein(torch.from_numpy(x), torch.from_numpy(y), p) == wasserstein(x.astype(np.float64), y, p)
    s32 = sliced_wasserstein(x, y, p, n_projections=50, seed=1)
    assert s32 == sliced_wasserstein(x.astype(np.float64), y.astype(np.float64), p, n_projections=50, seed=1)


def test_wasserstein_of_rounded_clouds_moves_by_at_most_the_rounding(clouds32):
    """W_p is 1-Lipschitz in each cloud (sup norm of the displacement): float32 rounding of float64 data
    changes it by at most the largest rounding error."""
    rng = np.random.default_rng(1)
    x, y = rng.random((300, 6)), rng.random((300, 6))
    shift = max(
        np.linalg.norm(x - x.astype(np.float32), axis=1).max(),
        np.linalg.norm(y - y.astype(np.float32), axis=1).max(),
    )
    assert (
        abs(wasserstein(x, y) - wasserstein(x.astype(np.float32), y.astype(np.float32))) <= 2 * shift + 1e-15
    )


@pytest.mark.parametrize("estimator", [MLE(), TwoNN(), PCADimension()])
def test_dimension_float32_equals_float64_of_the_same_values(estimator):
    rng = np.random.default_rng(2)
    X = (rng.normal(size=(800, 4)) @ rng.normal(size=(4, 12))).astype(np.float32)
    a = estimator.fit(X).dimension_
    b = type(estimator)(**estimator.get_params()).fit(X.astype(np.float64)).dimension_
    assert a == pytest.approx(b, rel=1e-12)


@pytest.mark.parametrize("scale_exp", [-150, -30, 30, 150])
def test_wasserstein_extreme_scales(scale_exp):
    """W_p(c x, c y) = c W_p(x, y) at scales where |x - y|^p would overflow or underflow naively."""
    rng = np.random.default_rng(3)
    x, y = rng.random((50, 4)), rng.random((50, 4))
    c = 2.0 ** (scale_exp * 3.3)  # a power of two: c x is exact
    for p in (1, 2, 5):
        assert wasserstein(c * x, c * y, p) == pytest.approx(c * wasserstein(x, y, p), rel=1e-12)
    big = transport(c * x, c * y, 5)
    if scale_exp > 0 and math.isinf(big.cost):  # the p-th power itself exceeds float64
        assert math.isfinite(big.distance)


def test_extreme_p_does_not_overflow():
    rng = np.random.default_rng(4)
    x, y = rng.choice([-1.0, 1.0], size=(30, 10)), rng.choice([-1.0, 1.0], size=(30, 10))
    d = wasserstein(x, y, p=400)  # naive |x - y|^400 = 6.3^400 overflows float64
    assert math.isfinite(d) and d <= math.sqrt(40) + 1e-12


def test_path_evaluation_float32_matches_float64(digits):
    a, b = model_pair(lambda: MLP([64, 32, 10]), seed=0)
    x, y = digits.x_test[:200], digits.y_test[:200]
    ts = np.linspace(0, 1, 7)
    r32 = evaluate_path(a, b, (x, y), ts=ts)
    r64 = evaluate_path(copy.deepcopy(a).double(), copy.deepcopy(b).double(), (x.double(), y), ts=ts)
    np.testing.assert_allclose(r32.values["loss"], r64.values["loss"], rtol=1e-5)
    assert np.abs(r32.values["error"] - r64.values["error"]).max() <= 1 / 200 + 1e-12  # at most one flip


def test_weight_matching_float32_and_float64_agree():
    torch.manual_seed(1)
    a = MLP([20, 64, 64, 5])
    spec = a.permutation_spec()
    rng = np.random.default_rng(5)
    planted = Permutation({k: rng.permutation(64) for k in spec}, spec=spec)
    b = apply_permutation(a, planted)
    p32 = match(a, b, method="full")
    p64 = match(
        copy.deepcopy(a).double(), copy.deepcopy(b).double(), method="full"
    )  # .double() works in place
    for k in spec:
        assert np.array_equal(p32.perms[k], p64.perms[k])
        assert np.array_equal(p32.perms[k], np.argsort(planted.perms[k]))
    # independent networks: float32 similarities reach the float64 objective up to float32 rounding
    c = MLP([20, 64, 64, 5])
    a64, c64 = copy.deepcopy(a).double(), copy.deepcopy(c).double()
    q32, q64 = match(a, c, method="full"), match(a64, c64, method="full")
    assert next(a.parameters()).dtype == torch.float32

    def objective(perm):
        sa, sb = a64.state_dict(), apply_permutation(c64, perm).state_dict()
        return sum(float((sa[k] * sb[k]).sum()) for k in sa)

    assert objective(q32) == pytest.approx(objective(q64), rel=1e-3)
