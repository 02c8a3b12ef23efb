"""On a GPU (``pytest -m cuda``; skipped without one): training, path evaluation and matching give the CPU's
results. Tolerances: float64 throughout, so that the comparison is not about float32 rounding; training
differs only by the summation order of GPU kernels (parameters to 1e-6 after 40 steps), path evaluation and
matching agree to 1e-10 and exactly (the same permutation)."""

import numpy as np
import pytest
import torch

from lmctheory.lmc import evaluate_path, match
from lmctheory.nn import MLP, TrainConfig, train

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def _train(device, seed, data):
    cfg = TrainConfig(
        lr=0.05, epochs=2, batch_size=64, init_seed=seed, data_seed=seed, device=device, dtype="float64"
    )
    return train(lambda: MLP([64, 32, 10]), data, cfg).model.cpu()


def test_training_on_the_gpu_gives_the_cpus_parameters(digits):
    cpu, gpu = _train("cpu", 0, digits), _train("cuda", 0, digits)
    for (name, a), b in zip(cpu.state_dict().items(), gpu.state_dict().values(), strict=True):
        assert torch.allclose(a, b, rtol=0, atol=1e-6), name


def test_path_evaluation_on_the_gpu_gives_the_cpus_values(digits):
    a, b = _train("cpu", 0, digits), _train("cpu", 1, digits)
    x, y = digits.split("test")
    ts = np.linspace(0, 1, 7)
    on_cpu = evaluate_path(a, b, (x.double(), y), ts=ts)
    on_gpu = evaluate_path(a.cuda(), b.cuda(), (x.double().cuda(), y.cuda()), ts=ts)
    for metric in ("loss", "error"):
        assert np.allclose(on_cpu.values[metric], on_gpu.values[metric], rtol=0, atol=1e-10), metric


def test_matching_on_the_gpu_gives_the_cpus_permutation(digits):
    a, b = _train("cpu", 0, digits), _train("cpu", 1, digits)
    inputs = digits.x_train.double()
    for method in ("naive", "full", "weighted", "activation"):
        on_cpu = match(a, b, method=method, inputs=inputs)
        on_gpu = match(a.cuda(), b.cuda(), method=method, inputs=inputs.cuda())
        for name in on_cpu.perms:
            assert np.array_equal(np.asarray(on_cpu.perms[name]), np.asarray(on_gpu.perms[name])), (
                method,
                name,
            )
