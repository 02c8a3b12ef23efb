"""Scaling of the main costs (pytest-benchmark): time vs width (weight matching) and vs number of
models (vectorised ensemble training). report.py fits the exponent of time against size; the time
vs n of exact W_2 comes from test_bench_wasserstein.py.

Run with ``make bench``.
"""

import numpy as np
import pytest
import torch

from lmctheory.lmc import match
from lmctheory.nn import MLP, TrainConfig, load_dataset, train_ensemble

pytestmark = pytest.mark.benchmark


@pytest.mark.parametrize("width", [256, 512, 1024, 2048, 4096])
def test_matching_vs_width(benchmark, width):
    torch.manual_seed(0)
    a, b = MLP([784, width, 10]), MLP([784, width, 10])
    benchmark.group = "scaling: weight matching 784-w-10 vs w"
    benchmark.extra_info.update(
        kind="scaling matching",
        size=width,
        algorithm="similarity GEMM O(w^2 D) + assignment O(w^3) worst case",
    )
    perm = benchmark.pedantic(lambda: match(a, b, method="full"), rounds=3, iterations=1)
    assert sorted(perm.perms["P_0"]) == list(range(width))


@pytest.mark.parametrize("models", [2, 4, 8, 16, 32])
def test_ensemble_vs_models(benchmark, models):
    digits = load_dataset("digits")
    cfg = TrainConfig(lr=0.05, epochs=1, batch_size=64, device="cpu")
    seeds = list(range(models))
    benchmark.group = "scaling: vectorised training of k MLPs 64-32-10 vs k"
    benchmark.extra_info.update(kind="scaling ensemble", size=models, algorithm="O(k) work, batched")
    out = benchmark.pedantic(
        lambda: train_ensemble(lambda: MLP([64, 32, 10]), digits, cfg, init_seeds=seeds, data_seeds=seeds),
        rounds=3,
        iterations=1,
    )
    assert (
        len(out) == models
        and not any(r.diverged for r in out)
        and np.isfinite([r.losses[-1] for r in out]).all()
    )
