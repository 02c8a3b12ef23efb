"""Network plumbing shared by the experiments: alignment by name, the midpoint defect, path barriers."""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch.func import functional_call

from lmctheory.lmc import apply_permutation, evaluate_path, match
from lmctheory.nn import load_dataset_spec


def aligned(model_a, model_b, method: str, inputs=None):
    """``model_b`` aligned to ``model_a`` by :func:`lmctheory.lmc.match` (``"none"``: unchanged)."""
    if method == "none":
        return model_b
    return apply_permutation(model_b, match(model_a, model_b, method=method, inputs=inputs))


def midpoint_defect(model_a, model_b, x, *, relative: bool = True) -> float:
    r"""Output defect at t = 1/2: E_x |f_{1/2}(x) - (f_A(x) + f_B(x))/2| (Euclidean norm over outputs),
    divided by E_x |f_A(x)| when ``relative``: the quantity e_L of :ref:`theory-certified-bound` that the certificate bounds."""
    params = {
        k: (a + b) / 2
        for (k, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values(), strict=True)
    }
    with torch.no_grad():
        fa, fb = model_a(x), model_b(x)
        mid = functional_call(model_a, params, (x,))
    defect = float((mid - (fa + fb) / 2).flatten(1).norm(dim=1).mean())
    return defect / float(fa.flatten(1).norm(dim=1).mean()) if relative else defect


def path_summary(model_a, model_b, data, points: int = 11, split: str = "test") -> dict:
    """Loss and error along the path on ``data`` (an ``(x, y)`` pair), with every named barrier."""
    return evaluate_path(model_a, model_b, data, ts=np.linspace(0.0, 1.0, points), split=split).to_dict()


@functools.lru_cache(maxsize=8)
def dataset(spec: str):
    """:func:`lmctheory.nn.load_dataset_spec`, cached per process (mnist1d takes seconds)."""
    return load_dataset_spec(spec)


def flat_split(data, split: str):
    """``(x, y)`` of a split with inputs flattened to vectors (for MLPs)."""
    x, y = data.split(split)
    return x.flatten(1), y
