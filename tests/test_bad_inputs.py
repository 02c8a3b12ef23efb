"""The README's bad-input table, executed: every public entry point rejects bad input with an error
that names the offending argument. One row per (entry point, bad input)."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

from lmctheory.bounds import ferbach_two_layer, matching_error_upper_bound, width_table
from lmctheory.dimension import MLE, TwoNN, WassersteinDimension, nearest_neighbors
from lmctheory.lmc import Permutation, apply_permutation, barrier, evaluate_path, layer_dimensions, match
from lmctheory.nn import MLP, load_dataset_spec
from lmctheory.ot import optimal_matching, sliced_wasserstein, solve_assignment, wasserstein
from lmctheory.rates import UniformCube, fg_rate, fit_rate, rate_curve
from lmctheory.runs import run_sweep

X = np.random.default_rng(0).random((10, 3))
LABELS = torch.zeros(3, dtype=torch.long)


def _path(a, b, ts=None):
    return evaluate_path(a, b, (torch.zeros(3, 4, dtype=next(a.parameters()).dtype), LABELS), ts=ts)


def _missing_key():
    a, b = MLP([4, 8, 2]), MLP([4, 8, 2])
    state = b.state_dict()
    del state["layers.1.bias"]
    b.load_state_dict(state, strict=False)
    b.layers[1].bias = None
    return match(a, b)


CASES = {
    # entry point / bad input: (call, exception, words the message must contain)
    "wasserstein / NaN": (
        lambda: wasserstein(np.array([[np.nan, 0.0]]), np.zeros((1, 2))),
        ValueError,
        ["x", "non-finite"],
    ),
    "wasserstein / inf in y": (
        lambda: wasserstein(np.zeros((1, 2)), np.array([[np.inf, 0.0]])),
        ValueError,
        ["y", "non-finite"],
    ),
    "wasserstein / mismatched dims": (
        lambda: wasserstein(np.zeros((3, 2)), np.zeros((3, 3))),
        ValueError,
        ["same dimension", "d=2", "d=3"],
    ),
    "wasserstein / empty": (
        lambda: wasserstein(np.zeros((0, 2)), np.zeros((3, 2))),
        ValueError,
        ["x is empty"],
    ),
    "wasserstein / 3-D array": (
        lambda: wasserstein(np.zeros((3, 2, 2)), np.zeros((3, 2, 2))),
        ValueError,
        ["x must be", "shape (3, 2, 2)"],
    ),
    "wasserstein / p < 1": (lambda: wasserstein(X, X, p=0.5), ValueError, ["p must be", ">= 1"]),
    "wasserstein / p NaN": (lambda: wasserstein(X, X, p=float("nan")), ValueError, ["p must be"]),
    "wasserstein / weights not summing to 1": (
        lambda: wasserstein(X, X, a=np.ones(10)),
        ValueError,
        ["a must sum to 1"],
    ),
    "wasserstein / negative weights": (
        lambda: wasserstein(X, X, b=np.r_[-0.1, np.full(9, 1.1 / 9)]),
        ValueError,
        ["b"],
    ),
    "wasserstein / unknown method": (
        lambda: wasserstein(X, X, method="sinkhorn"),
        ValueError,
        ["method must be one of"],
    ),
    "wasserstein / assignment with unequal sizes": (
        lambda: wasserstein(X, X[:5], method="assignment"),
        ValueError,
        ["equal sizes"],
    ),
    "sliced_wasserstein / n_projections 0": (
        lambda: sliced_wasserstein(X, X, n_projections=0),
        ValueError,
        ["n_projections"],
    ),
    "optimal_matching / unequal sizes": (lambda: optimal_matching(X, X[:5]), ValueError, ["equal size"]),
    "solve_assignment / not square": (
        lambda: solve_assignment(np.zeros((2, 3))),
        ValueError,
        ["cost", "square"],
    ),
    "solve_assignment / NaN": (
        lambda: solve_assignment(np.array([[np.nan]])),
        ValueError,
        ["cost", "non-finite"],
    ),
    "solve_assignment / unknown solver": (
        lambda: solve_assignment(np.eye(2), solver="munkres"),
        ValueError,
        ["solver must be one of"],
    ),
    "MLE / too few points": (
        lambda: MLE().fit(np.random.default_rng(1).random((5, 3))),
        ValueError,
        ["k2=20", "distinct points"],
    ),
    "MLE / all points identical": (lambda: MLE().fit(np.zeros((100, 3))), ValueError, ["distinct points"]),
    "MLE / k1 < 2": (lambda: MLE(k1=0).fit(X), ValueError, ["k1"]),
    "MLE / NaN": (lambda: MLE().fit(np.full((100, 3), np.nan)), ValueError, ["X", "non-finite"]),
    "nearest_neighbors / k >= n": (
        lambda: nearest_neighbors(X, 10),
        ValueError,
        ["k=10", "k + 1 = 11 points"],
    ),
    "nearest_neighbors / n_jobs 0": (lambda: nearest_neighbors(X, 2, n_jobs=0), ValueError, ["n_jobs"]),
    "TwoNN / 2 points": (lambda: TwoNN().fit(np.eye(2)), ValueError, ["TwoNN", "distinct points"]),
    "WassersteinDimension / n < 256": (
        lambda: WassersteinDimension().fit(np.random.default_rng(1).random((100, 3))),
        ValueError,
        ["n >= 256"],
    ),
    "fit_rate / negative values": (
        lambda: fit_rate([10, 20, 40], [[1.0], [-1.0], [0.5]]),
        ValueError,
        ["values", ">= 0"],
    ),
    "fg_rate / n = 0": (lambda: fg_rate(0, 2, 3), ValueError, ["n must"]),
    "rate_curve / size 0": (lambda: rate_curve(UniformCube(2), [0, 10]), ValueError, ["ns"]),
    "ferbach_two_layer / m0 = 0": (lambda: ferbach_two_layer(0), ValueError, ["m0"]),
    "width_table / epsilon 0": (lambda: width_table(0.0, 5, 2), ValueError, ["epsilon"]),
    "width_table / depth 0": (lambda: width_table(0.1, 5, 0), ValueError, ["depth"]),
    "matching_error_upper_bound / width 0": (lambda: matching_error_upper_bound(0, 5), ValueError, ["width"]),
    "layer_dimensions / dead ReLU layer": (
        lambda: layer_dimensions([np.ones((4, 3)), np.ones((2, 4))], -np.ones((5, 3)), "activations"),
        ValueError,
        ["layer 1", "dead layer", "activations"],
    ),
    "match / different widths": (
        lambda: match(MLP([4, 8, 2]), MLP([4, 16, 2])),
        ValueError,
        ["layers.0.weight", "not the same architecture"],
    ),
    "match / state_dict with a missing key": (
        _missing_key,
        ValueError,
        ["different parameters", "layers.1.bias"],
    ),
    "match / unknown method": (
        lambda: match(MLP([4, 8, 2]), MLP([4, 8, 2]), method="optimal"),
        ValueError,
        ["method must be one of"],
    ),
    "apply_permutation / not a permutation": (
        lambda: apply_permutation(MLP([4, 8, 2]), Permutation({"P_0": np.arange(7)})),
        ValueError,
        ["perms['P_0']", "not a permutation"],
    ),
    "evaluate_path / float32 vs float64 models": (
        lambda: _path(MLP([4, 8, 2]), MLP([4, 8, 2]).double()),
        ValueError,
        ["dtype", "same device and dtype"],
    ),
    "evaluate_path / NaN in ts": (
        lambda: _path(MLP([4, 8, 2]), MLP([4, 8, 2]), ts=[np.nan]),
        ValueError,
        ["ts"],
    ),
    "barrier / unknown definition": (
        lambda: barrier(np.linspace(0, 1, 3), np.ones(3), "foo"),
        ValueError,
        ["definition must be one of"],
    ),
    "load_dataset_spec / unknown dataset": (
        lambda: load_dataset_spec("nosuch"),
        ValueError,
        ["unknown dataset"],
    ),
    "load_dataset_spec / unknown keyword": (
        lambda: load_dataset_spec("digits:foo=1"),
        ValueError,
        ["unknown keyword", "foo"],
    ),
    "load_dataset_spec / missing file": (
        lambda: load_dataset_spec("npz:/nonexistent/data.npz"),
        (ValueError, OSError),
        ["/nonexistent/data.npz"],
    ),
    "run_sweep / results path is a file": (
        lambda: run_sweep(len, [{"x": 1}], __file__ + "/sub"),
        OSError,
        ["not writable", "nothing was run"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_rejected_with_a_message_naming_it(case):
    call, exc, words = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc) as info:
            call()
    message = str(info.value)
    for word in words:
        assert word in message, f"{case}: {word!r} not in {message!r}"


def test_half_precision_and_torch_inputs_are_widened_exactly():
    """float16 and torch tensors are accepted: widened exactly to float64, same value as the float64 input."""
    rng = np.random.default_rng(2)
    x16, y16 = rng.random((40, 3)).astype(np.float16), rng.random((40, 3)).astype(np.float16)
    reference = wasserstein(x16.astype(np.float64), y16.astype(np.float64))
    assert wasserstein(x16, y16) == reference
    assert wasserstein(torch.from_numpy(x16), torch.from_numpy(y16)) == reference
    assert wasserstein(torch.from_numpy(x16.astype(np.float32)), y16) == reference
    bf = torch.from_numpy(y16.astype(np.float32)).to(torch.bfloat16)
    assert wasserstein(x16, bf) == wasserstein(x16.astype(np.float64), bf.double().numpy())


CLI_CASES = [
    (["rates", "--ns", "0"], "ns"),
    (["rates", "--law", "nosuchlaw"], "law"),
    (["dimension", "--estimator", "nosuch", "--data", "digits"], "estimator"),
    (["wasserstein", "/nonexistent/x.npy", "/nonexistent/y.npy"], "/nonexistent/x.npy"),
    (["validate", "--only", "nosuchexp"], "nosuchexp"),
    (["figures", "--only", "9"], "9"),
    (["rerun", "/nonexistent/result.json"], "/nonexistent/result.json"),
]


@pytest.mark.parametrize("argv, word", CLI_CASES)
def test_cli_bad_input_is_a_one_line_error(argv, word):
    proc = subprocess.run(
        [sys.executable, "-m", "lmctheory.cli", *argv], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr and word in lines[0], proc.stderr
