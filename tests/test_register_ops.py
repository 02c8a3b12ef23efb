"""How a new model kind plugs into the operator sequences of lmctheory.nn (register_ops)."""

import numpy as np
import pytest
import torch
from torch import nn

from lmctheory.lmc import certified_barrier_bound, evaluate_path
from lmctheory.nn import Op, dense, network_ops, register_ops, supports


class TwoLayer(nn.Module):
    """A model kind lmctheory does not know: x -> W2 relu(W1 x)."""

    def __init__(self, seed):
        super().__init__()
        torch.manual_seed(seed)
        self.first, self.second = nn.Linear(4, 16), nn.Linear(16, 3)

    def forward(self, x):
        return self.second(torch.relu(self.first(x)))


def test_a_new_model_kind_registers_itself():
    a, b = TwoLayer(0).double(), TwoLayer(1).double()
    assert not supports(a)
    with pytest.raises(NotImplementedError, match="register_ops"):
        network_ops(a, b)

    @register_ops(TwoLayer)
    def _ops(model_a, model_b, dtype):
        def params(layer):
            return {n: p.detach().to(dtype) for n, p in layer.named_parameters()}

        return (
            [
                Op(dense, params(model_a.first), params(model_b.first), True),
                Op(dense, params(model_a.second), params(model_b.second), False),
            ],
            "relu",
            0.0,
            lambda x: x,
        )

    try:
        assert supports(a)
        x = torch.randn(50, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        y = torch.randint(0, 3, (50,), generator=torch.Generator().manual_seed(1))
        ts = np.linspace(0, 1, 5)
        batched = evaluate_path(a, b, (x, y), ts=ts, strategy="first_layer")
        looped = evaluate_path(a, b, (x, y), ts=ts, strategy="loop")
        np.testing.assert_allclose(batched.values["loss"], looped.values["loss"], rtol=1e-10)
        bound = certified_barrier_bound(a, b, (x, y), ts=ts)
        assert batched.barrier("above_chord", "loss") <= bound.upper + 1e-12
    finally:
        from lmctheory.nn import _ops as ops

        ops._BUILDERS.pop(TwoLayer, None)
