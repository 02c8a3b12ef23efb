"""GPU runs equal CPU runs within tolerance (collected everywhere, run only where CUDA exists)."""

import numpy as np
import pytest
import torch

from lmctheory.align import apply_permutation, match
from lmctheory.barrier import evaluate_path
from lmctheory.nn.data import load_dataset
from lmctheory.nn.models import MLP
from lmctheory.nn.train import TrainConfig, train

pytestmark = pytest.mark.cuda


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_training_on_gpu_matches_cpu(digits):
    cfg = dict(lr=0.05, steps=30, epochs=None, batch_size=64, dtype="float64")
    cpu = train(lambda: MLP([64, 32, 10]), digits, TrainConfig(device="cpu", **cfg))
    gpu = train(lambda: MLP([64, 32, 10]), digits, TrainConfig(device="cuda", **cfg))
    for a, b in zip(cpu.model.parameters(), gpu.model.parameters(), strict=True):
        torch.testing.assert_close(a, b.cpu(), rtol=1e-6, atol=1e-8)


def test_matching_and_path_on_gpu_match_cpu(digits):
    torch.manual_seed(0)
    a, b = MLP([64, 128, 10]).double(), MLP([64, 128, 10]).double()
    x, y = digits.x_test.double(), digits.y_test
    perm_cpu = match(a, b, "weighted", inputs=x)
    perm_gpu = match(a.cuda(), b.cuda(), "weighted", inputs=x.cuda())
    for k in perm_cpu.perms:
        np.testing.assert_array_equal(perm_cpu.perms[k], perm_gpu.perms[k])
    path_gpu = evaluate_path(a, apply_permutation(b, perm_gpu), (x.cuda(), y.cuda()), np.linspace(0, 1, 5))
    path_cpu = evaluate_path(a.cpu(), apply_permutation(b.cpu(), perm_cpu), (x, y), np.linspace(0, 1, 5))
    np.testing.assert_allclose(path_gpu.values["loss"], path_cpu.values["loss"], rtol=1e-6)
