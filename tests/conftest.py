import contextlib
import io
import os

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st

# Hypothesis profiles (HYPOTHESIS_PROFILE=dev|ci|nightly; ci by default): each property test states how many
# examples it draws under ``ci`` through examples(n); ``dev`` draws a tenth (a quick local loop), ``nightly``
# ten times more. ``ci`` is derandomized: a failure reproduces on the next run and on another machine.
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
_SCALE = {"dev": 0.1, "ci": 1.0, "nightly": 10.0}
settings.register_profile("dev", max_examples=10, deadline=None)
settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("nightly", max_examples=1000, deadline=None)
if PROFILE not in _SCALE:
    raise ValueError(f"HYPOTHESIS_PROFILE must be one of {sorted(_SCALE)}, got {PROFILE!r}")
settings.load_profile(PROFILE)


def examples(n: int) -> int:
    """The number of examples of a property test drawing ``n`` under the ``ci`` profile."""
    return max(1, round(n * _SCALE[PROFILE]))


# scripts the benchmarks run in fresh processes: they read sys.argv at import, so the doctest
# collector (--doctest-modules, for the library's docstring examples) must not import them
collect_ignore_glob = ["benchmarks/_*_worker.py"]


_WORKER_LIMITS = []


def pytest_configure(config):
    """Under pytest-xdist every worker computes on one thread (torch and BLAS): the workers already occupy one
    core each, and threads beyond the cores make them wait on each other (measured: the default suite 8.5
    minutes with two threads per worker on two cores)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    from threadpoolctl import threadpool_limits

    _WORKER_LIMITS.append(threadpool_limits(1))
    try:
        import torch
    except ImportError:  # pragma: no cover - the torch-free suite
        return
    torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except Exception:  # pragma: no cover - torch missing or broken
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def random_permutation(model, seed=0):
    """A random Permutation of every symmetry in ``model.permutation_spec()``."""
    from lmctheory.lmc import Permutation, validate_spec

    rng = np.random.default_rng(seed)
    spec = model.permutation_spec()
    sizes = validate_spec(spec, model.state_dict())
    return Permutation({k: rng.permutation(n) for k, n in sizes.items()}, spec=spec)


def model_pair(make, seed=0):
    """Two independently initialised models from the factory ``make`` (``make()`` twice after
    ``torch.manual_seed(seed)``): the pair every alignment, path and bound test starts from."""
    import torch

    torch.manual_seed(seed)
    return make(), make()


def random_pair(kind="mlp", activation="relu", bias=True, scale=1.0, seed=0):
    """``(model_a, model_b, (x, y))``: a small MLP, CNN or LCN pair (``kind``) on 12 random inputs with 3
    classes, weights scaled by ``scale`` in A and ``1.7 scale`` in B (biases zeroed when ``bias`` is false), so
    the two endpoints differ in loss: the random networks of the certified-bound property tests."""
    import torch

    from lmctheory.nn import CNN, LCN, MLP

    if kind == "mlp":
        make = lambda: MLP([3, 6, 5, 3], activation=activation, bias=bias)  # noqa: E731
        shape = (12, 3)
    else:
        cls = CNN if kind == "cnn" else LCN
        make = lambda: cls((1, 4, 4), [3, 2], 3, activation=activation)  # noqa: E731
        shape = (12, 1, 4, 4)
    torch.manual_seed(seed)
    x = torch.randn(*shape)
    a, b = make(), make()
    with torch.no_grad():
        for model, s in ((a, scale), (b, scale * 1.7)):
            for name, p in model.named_parameters():
                if name.endswith("weight"):
                    p.mul_(s)
                elif not bias:  # convolutional models always have biases: zero them (an MLP has none)
                    p.zero_()
    y = torch.randint(0, 3, (12,))
    return a, b, (x, y)


def chain_pair(weights_a, weights_b):
    """Two 1-1-1-1 linear chains without biases whose three weights are ``weights_a`` and ``weights_b``: the
    networks of the counterexamples where a grid misses the barrier's peak."""
    import torch

    from lmctheory.nn import MLP

    a = MLP([1, 1, 1, 1], activation="identity", bias=False)
    b = MLP([1, 1, 1, 1], activation="identity", bias=False)
    with torch.no_grad():
        for model, weights in ((a, weights_a), (b, weights_b)):
            for layer, w in zip(model.layers, weights, strict=True):
                layer.weight.fill_(w)
    return a, b


#: the 10,001-point grid on [0, 1] whose barrier the certified bounds must contain
FINE = np.linspace(0.0, 1.0, 10_001)

# the random pairs of the certified-bound property tests: keyword arguments of random_pair
RANDOM_PAIRS = {
    "kind": st.sampled_from(["mlp", "cnn", "lcn"]),
    "activation": st.sampled_from(["relu", "leaky_relu", "tanh", "identity"]),
    "bias": st.booleans(),
    "scale": st.floats(0.3, 30.0),
    "seed": st.integers(0, 10_000),
}


def same_parameters(a, b) -> bool:
    """Exact equality of two models' state dicts."""
    import torch

    return all(
        torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )


def run_cli(*argv, env=None) -> tuple[int, str, str]:
    """``(exit code, stdout, stderr)`` of ``lmctheory argv`` run in this process (``env``: variables set for
    the call only)."""
    from lmctheory.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in argv])
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="session")
def digits():
    """sklearn's digits (1,797 8 x 8 images), loaded once per session."""
    from lmctheory.nn import load_dataset

    return load_dataset("digits")
