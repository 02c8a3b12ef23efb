"""Layering: which modules may import which, and how a new model kind plugs into nn.ops."""

import ast
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from lmctheory.barrier import evaluate_path
from lmctheory.nn.ops import Op, dense, network_ops, register_ops, supports
from lmctheory.predict import certified_barrier_bound

ROOT = Path(__file__).resolve().parents[1] / "lmctheory"


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports (absolute names; relative imports resolved in lmctheory)."""
    package = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts[:-1])
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module) if p) if node.level else node.module
            out.add(module)
            out |= {f"{module}.{a.name}" for a in node.names}
    return out


@pytest.mark.parametrize(
    "module, forbidden",
    [
        ("dimension.py", "lmctheory.layers"),
        ("layers.py", "lmctheory.cli"),
        ("rerun.py", "lmctheory.cli"),
        ("sweep.py", "lmctheory.cli"),
    ],
)
def test_module_does_not_import(module, forbidden):
    imports = imported_modules(ROOT / module)
    assert not any(m == forbidden or m.startswith(forbidden + ".") for m in imports), imports


def test_no_library_module_imports_the_cli():
    for path in ROOT.rglob("*.py"):
        if "cli" in path.relative_to(ROOT).parts:
            continue
        assert not any(m.startswith("lmctheory.cli") for m in imported_modules(path)), path


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
        assert batched.barrier("above_chord", "loss") <= bound.bound + 1e-12
    finally:
        from lmctheory.nn import ops

        ops._BUILDERS.pop(TwoLayer, None)
