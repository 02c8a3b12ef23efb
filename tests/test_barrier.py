"""Path evaluation and barrier definitions."""

import copy

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from lmctheory.barrier import DEFINITIONS, barrier, barriers, default_grid, evaluate_path
from lmctheory.nn.models import CNN, LCN, MLP, LogisticRegression, MeanFieldTwoLayer


def loop_path(model_a, model_b, x, y, ts):
    """Reference: a plain loop over t loading interpolated state dicts."""
    sa, sb = model_a.state_dict(), model_b.state_dict()
    net = copy.deepcopy(model_a)
    losses, errors = [], []
    for t in ts:
        net.load_state_dict({k: (1 - t) * sa[k] + t * sb[k] for k in sa})
        with torch.no_grad():
            out = net(x)
        losses.append(torch.nn.functional.cross_entropy(out, y).item())
        errors.append((out.argmax(1) != y).double().mean().item())
    return np.array(losses), np.array(errors)


@pytest.mark.parametrize("make", [lambda: MLP([12, 32, 32, 4]), lambda: MeanFieldTwoLayer(12, 40, out=4),
                                  lambda: LogisticRegression(12, 4), lambda: MLP([12, 16, 4], activation="gelu"),
                                  lambda: CNN((3, 2, 2), [6, 5], 4), lambda: LCN((3, 2, 2), [6, 5], 4)],
                         ids=["mlp", "mean-field", "logistic", "mlp-gelu", "cnn", "lcn"])
def test_batched_path_equals_a_loop(make):
    torch.manual_seed(0)
    a, b = make(), make()
    x = torch.randn(300, 12)
    y = torch.randint(0, 4, (300,))
    ts = default_grid(11)
    loss, err = loop_path(a, b, x, y, ts)
    for strategy in ("vmap", "loop", "first_layer", "auto"):
        path = evaluate_path(a, b, (x, y), ts, strategy=strategy)
        np.testing.assert_allclose(path.values["loss"], loss, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(path.values["error"], err, atol=1e-12)
    # a DataLoader of batches gives the same averages; a tiny memory budget forces chunks of t
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=64)
    chunked = evaluate_path(a, b, loader, ts, max_elements=500, strategy="vmap")
    np.testing.assert_allclose(chunked.values["loss"], loss, rtol=1e-5, atol=1e-6)
    assert chunked.n_examples == 300


def test_identical_endpoints_give_zero_barriers():
    torch.manual_seed(0)
    a = MLP([5, 20, 3])
    x, y = torch.randn(100, 5), torch.randint(0, 3, (100,))
    path = evaluate_path(a, a, (x, y), default_grid(9))
    for metric in ("loss", "error"):
        v = path.values[metric]
        assert np.ptp(v) < 1e-6
        assert abs(path.barrier("above_chord", metric)) < 1e-6
        assert abs(path.barrier("max_minus_mean", metric)) < 1e-6
        assert abs(path.barrier("midpoint_barrier", metric)) < 1e-6
        assert path.barrier("midpoint_value", metric) == pytest.approx(v[0], abs=1e-6)


def test_signs_of_the_definitions():
    rng = np.random.default_rng(0)
    ts = default_grid(11)
    for _ in range(200):
        v = rng.normal(size=ts.size)
        assert barrier(ts, v, "above_chord") >= 0  # t = 0 and t = 1 are on the grid
        assert barrier(ts, v, "max_minus_mean") >= 0
    # the midpoint barrier can be negative: a convex dip
    dip = (ts - 0.5) ** 2
    assert barrier(ts, dip, "midpoint_barrier") < 0
    assert barrier(ts, dip, "above_chord") == pytest.approx(0.0)
    hump = 1 - (2 * ts - 1) ** 2
    assert barrier(ts, hump, "above_chord") == pytest.approx(1.0)
    assert barrier(ts, 0.1 + 0.2 * hump, "normalized") == pytest.approx(0.2 / 0.9)
    assert set(barriers(ts, hump)) == set(DEFINITIONS) - {"normalized"}


def digits_tensors():
    data = load_digits()
    x = torch.tensor(data.data / 16.0, dtype=torch.float64)
    return x, torch.tensor(data.target)


def train_logistic(x, y, seed, steps=60):
    torch.manual_seed(seed)
    model = LogisticRegression(64, 10).double()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, len(x), (128,), generator=g)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
    return model


def test_logistic_regression_is_linearly_connected():
    x, y = digits_tensors()
    pairs = [(train_logistic(x, y, 0), train_logistic(x, y, 1)),
             (LogisticRegression(64, 10).double(), LogisticRegression(64, 10).double())]  # random too
    for a, b in pairs:
        path = evaluate_path(a, b, (x, y), default_grid(21))
        assert path.barrier("above_chord") <= 1e-6  # the loss is convex in the parameters
        err = path.values["error"]
        assert np.all(err <= err[0] + err[-1] + 1e-12)  # logits are linear in the parameters
    assert path.values["error"][0] > 0.5  # the random pair is not trivially perfect


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: barrier([0.25, 1.0], [1.0, 2.0]), "t = 0 and t = 1"),
        (lambda: barrier([0.0, 1.0], [1.0, 2.0], "midpoint_value"), "t = 1/2"),
        (lambda: barrier([0.0, 1.0], [np.nan, 2.0]), "NaN"),
        (lambda: barrier([0.0, 1.0], [1.0, 2.0], "auc"), "definition must be one of"),
        (lambda: barrier([0.0, 0.5, 1.0], [1.0, 1.0, 1.0], "normalized"), "zero accuracy"),
        (lambda: default_grid(1), "at least 2"),
    ],
)
def test_barrier_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_path_bad_input():
    torch.manual_seed(0)
    a, b = MLP([5, 8, 3]), MLP([5, 9, 3])
    x, y = torch.randn(10, 5), torch.randint(0, 3, (10,))
    with pytest.raises(ValueError, match="shape"):
        evaluate_path(a, b, (x, y))
    with pytest.raises(ValueError, match="device/dtype"):
        evaluate_path(a, MLP([5, 8, 3]).double(), (x, y))
    with pytest.raises(ValueError, match="metrics"):
        evaluate_path(a, a, (x, y), metrics=("auc",))
    with pytest.raises(ValueError, match="integer class labels"):
        evaluate_path(a, a, (x, torch.randn(10, 3)))
    reg = evaluate_path(a, a, (x, torch.randn(10, 3)), metrics=("loss",))
    assert reg.loss == "mse" and np.ptp(reg.values["loss"]) < 1e-6
