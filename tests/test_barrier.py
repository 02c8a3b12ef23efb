"""Path evaluation and barrier definitions."""

import copy
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from sklearn.datasets import load_digits

from lmctheory.lmc import DEFINITIONS, barrier, barriers, default_grid, evaluate_path
from lmctheory.nn import CNN, LCN, MLP, LogisticRegression, MeanFieldTwoLayer, network_ops, path_outputs
from lmctheory.nn._ops import _group_sizes
from tests.conftest import model_pair


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


@pytest.mark.parametrize(
    "make",
    [
        lambda: MLP([12, 32, 32, 4]),
        lambda: MeanFieldTwoLayer(12, 40, out=4),
        lambda: LogisticRegression(12, 4),
        lambda: MLP([12, 16, 4], activation="gelu"),
        lambda: CNN((3, 2, 2), [6, 5], 4),
        lambda: LCN((3, 2, 2), [6, 5], 4),
    ],
    ids=["mlp", "mean-field", "logistic", "mlp-gelu", "cnn", "lcn"],
)
def test_batched_path_equals_a_loop(make):
    a, b = model_pair(make, seed=0)
    x = torch.randn(300, 12)
    y = torch.randint(0, 4, (300,))
    ts = default_grid(11)
    loss, err = loop_path(a, b, x, y, ts)
    for strategy in ("vmap", "loop", "first_layer", "auto"):
        path = evaluate_path(a, b, (x, y), ts=ts, strategy=strategy)
        np.testing.assert_allclose(path.values["loss"], loss, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(path.values["error"], err, atol=1e-12)
    # a DataLoader of batches gives the same averages; a tiny memory budget forces chunks of t
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=64)
    chunked = evaluate_path(a, b, loader, ts=ts, max_elements=500, strategy="vmap")
    np.testing.assert_allclose(chunked.values["loss"], loss, rtol=1e-5, atol=1e-6)
    assert chunked.n_examples == 300


def test_identical_endpoints_give_zero_barriers():
    torch.manual_seed(0)
    a = MLP([5, 20, 3])
    x, y = torch.randn(100, 5), torch.randint(0, 3, (100,))
    path = evaluate_path(a, a, (x, y), ts=default_grid(9))
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
    pairs = [
        (train_logistic(x, y, 0), train_logistic(x, y, 1)),
        (LogisticRegression(64, 10).double(), LogisticRegression(64, 10).double()),
    ]  # random too
    for a, b in pairs:
        path = evaluate_path(a, b, (x, y), ts=default_grid(21))
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
    with pytest.raises(ValueError, match=r"widths is \[5, 8, 3\] in model_a, \[5, 9, 3\] in model_b"):
        evaluate_path(a, b, (x, y))
    with pytest.raises(ValueError, match="device/dtype"):
        evaluate_path(a, MLP([5, 8, 3]).double(), (x, y))
    with pytest.raises(ValueError, match="metrics"):
        evaluate_path(a, a, (x, y), metrics=("auc",))
    with pytest.raises(ValueError, match="integer class labels"):
        evaluate_path(a, a, (x, torch.randn(10, 3)))
    reg = evaluate_path(a, a, (x, torch.randn(10, 3)), metrics=("loss",))
    assert reg.loss == "mse" and np.ptp(reg.values["loss"]) < 1e-6


GROUPED_MODELS = {
    "mlp-relu": lambda: MLP([12, 24, 20, 3]),
    "mlp-wide-last": lambda: MLP([12, 24, 40]),
    "mlp-leaky-no-bias": lambda: MLP([12, 24, 20, 3], activation="leaky_relu", bias=False, slope=0.2),
    "mlp-tanh": lambda: MLP([12, 16, 16, 3], activation="tanh"),
    "mlp-gelu": lambda: MLP([12, 16, 3], activation="gelu"),
    "mean-field": lambda: MeanFieldTwoLayer(12, 30, out=3),
    "logistic": lambda: LogisticRegression(12, 3),
    "cnn": lambda: CNN((3, 2, 2), [5, 4], 3),
    "lcn": lambda: LCN((3, 2, 2), [5, 4], 3),
}


@pytest.mark.parametrize("name", list(GROUPED_MODELS))
def test_path_outputs_equal_each_interpolated_network(name):
    """float64, t unsorted and outside [0, 1], groups forced by a small budget: every network's
    outputs equal those of the model loaded with theta(t) to rounding; t = 0 and 1 give A and B."""
    torch.manual_seed(0)
    a, b = GROUPED_MODELS[name]().double(), GROUPED_MODELS[name]().double()
    x = torch.randn(50, 12, dtype=torch.float64)
    ts = np.concatenate([[0.0, 1.0], np.random.default_rng(1).uniform(-0.5, 1.5, 35)])
    network = network_ops(a, b, dtype=torch.float64)
    sa, sb, net = a.state_dict(), b.state_dict(), copy.deepcopy(a)
    reference = []
    for t in ts:
        net.load_state_dict({k: (1 - t) * sa[k] + t * sb[k] for k in sa})
        with torch.no_grad():
            reference.append(net(x))
    reference = torch.stack(reference)
    for budget in (2**26, 6000, 1):  # groups of 16; of 2-6 (by width); one t per group
        with torch.no_grad():
            out = path_outputs(network, x, torch.as_tensor(ts), max_elements=budget)
        assert out.shape == reference.shape
        scale = reference.abs().max()
        assert (out - reference).abs().max() <= 1e-12 * scale
        with torch.no_grad():
            assert (out[0] - a(x)).abs().max() <= 1e-13 * scale and (
                out[1] - b(x)
            ).abs().max() <= 1e-13 * scale
            kept = out.clone()
            path_outputs(
                network, 2 * x, torch.as_tensor(ts[::-1].copy()), max_elements=budget
            )  # reuses scratch
        assert torch.equal(out, kept)  # results never alias the buffers reused by later calls


def test_path_outputs_from_concurrent_threads():
    """Each thread keeps its own scratch buffers: paths computed at once equal those computed alone."""
    torch.manual_seed(0)
    pairs = [(MLP([12, 40, 30, 3]), MLP([12, 40, 30, 3])) for _ in range(4)]
    x, ts = torch.randn(200, 12), torch.linspace(0, 1, 25)
    networks = [network_ops(a, b, dtype=torch.float32) for a, b in pairs]
    with torch.no_grad():
        alone = [path_outputs(net, x, ts, max_elements=200 * 40 * 4) for net in networks]

    def work(i):
        with torch.no_grad():
            return [path_outputs(networks[i], x, ts, max_elements=200 * 40 * 4) for _ in range(20)]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, range(4)))
    for i, runs in enumerate(results):
        assert all(torch.equal(r, alone[i]) for r in runs)


@given(st.integers(1, 200), st.integers(1, 40))
def test_group_sizes_cover_t_in_near_equal_groups(total, cap):
    sizes = _group_sizes(total, cap)
    assert sum(sizes) == total and max(sizes) <= cap
    assert max(sizes) - min(sizes) <= 1 and len(sizes) == -(-total // cap)


# ------------------------------------------------ cases of the adversarial review of acd35e6


def test_evaluate_path_bad_inputs_are_one_line(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 59: Evaluate_path bad inputs."""
    monkeypatch.chdir(tmp_path)
    from lmctheory.lmc import evaluate_path
    from lmctheory.nn import MLP

    a, b = MLP([4, 8, 3]), MLP([4, 8, 3])
    x = np.random.default_rng(0).random((10, 4)).astype(np.float32)
    y = np.arange(10) % 3
    assert len(evaluate_path(a, b, (x, y), ts=[0.0, 1.0]).values["loss"]) == 2  # numpy arrays are accepted
    for data, match in (
        ((x, y + 5), "labels"),
        ((x, y - 1), "labels"),
        ((np.ones((10, 5), np.float32), y), "inputs of shape"),
    ):
        with pytest.raises(ValueError, match=match):
            evaluate_path(a, b, data, ts=[0.0, 1.0])
