"""Align two networks and evaluate the path before and after, as one report (``lmctheory align`` prints
it; Python users get the same object)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..nn import trace_permutation_spec
from ._align import Permutation, apply_permutation, match
from ._path import PathResult, default_grid
from ._renormalize import renormalized_path

__all__ = ["AlignmentReport", "align_and_evaluate"]


@dataclass
class AlignmentReport:
    """Two networks aligned, and their paths before and after (returned by :func:`align_and_evaluate`).

    Parameters
    ----------
    permutation : Permutation
        What was applied to B.
    spec : dict
        The permutation spec used.
    spec_source : str
        Where it came from (the model's own ``permutation_spec()`` or tracing).
    aligned : torch.nn.Module
        B with the permutation applied (functionally equal to B).
    paths : dict
        ``"unaligned"`` and ``"aligned"`` -> the :class:`PathResult` from A to B.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.lmc import align_and_evaluate
    >>> _ = torch.manual_seed(0)
    >>> a, b = MLP([4, 16, 3]), MLP([4, 16, 3])
    >>> x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    >>> report = align_and_evaluate(a, b, (x, y), inputs=x, ts=[0.0, 0.5, 1.0])
    >>> sorted(report.paths), float((report.aligned(x) - b(x)).abs().max()) < 1e-6  # B's function, permuted
    (['aligned', 'unaligned'], True)
    """

    permutation: Permutation
    spec: dict
    spec_source: str
    aligned: torch.nn.Module
    paths: dict

    def barrier(self, which: str, definition: str = "above_chord", metric: str = "loss") -> float:
        """The barrier of the ``"unaligned"`` or ``"aligned"`` path."""
        return self.paths[which].barrier(definition, metric)

    def to_dict(self) -> dict:
        """Plain data (JSON)."""
        return {
            "spec": {k: [list(axis) for axis in v] for k, v in self.spec.items()},
            "spec_source": self.spec_source,
            "perms": {k: np.asarray(v).tolist() for k, v in self.permutation.perms.items()},
            "match_info": self.permutation.info,
            "paths": {name: path.to_dict() for name, path in self.paths.items()},
        }


def align_and_evaluate(
    model_a,
    model_b,
    data,
    *,
    inputs,
    method: str = "full",
    ts=None,
    renormalize: str = "none",
    stats_examples: int | None = None,
    split: str = "test",
) -> AlignmentReport:
    """Align ``model_b`` to ``model_a`` (:func:`match`) and evaluate the path from A to B before and after
    (:func:`renormalized_path`): the whole of ``lmctheory align`` for any ``nn.Module``.

    The spec is the model's own ``permutation_spec()`` when it has one, else derived by tracing
    (:func:`lmctheory.nn.trace_permutation_spec`) on two of ``inputs``.

    Parameters
    ----------
    model_a, model_b : torch.nn.Module
        Same architecture.
    data : (x, y) tensors
        Where the paths are evaluated (e.g. the test split).
    inputs : torch.Tensor
        Training inputs: for the activation-based matchers, the tracing and the renormalisation statistics.
    method : str, default "full"
        The matcher (:data:`METHODS`).
    ts : array-like, default 25 points
        The grid of t.
    renormalize : {"none", "reset_bn", "repair"}, default "none"
        Renormalisation of each interpolated network.
    stats_examples : int, optional
        How many of ``inputs`` the renormalisation statistics use (default all).
    split : str, default "test"
        Name recorded with the paths.

    Returns
    -------
    AlignmentReport
        The permutation, the aligned B and both paths.

    Raises
    ------
    ValueError
        An unknown method or renormalisation, ``stats_examples`` below 1, data that does not fit the models.
    NotImplementedError
        A model whose spec cannot be traced (the operation is named).

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.lmc import align_and_evaluate
    >>> _ = torch.manual_seed(0)
    >>> a, b = MLP([4, 8, 3]), MLP([4, 8, 3])
    >>> x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    >>> align_and_evaluate(a, b, (x, y), inputs=x, method="naive").spec_source
    "the model's permutation_spec()"
    """
    if stats_examples is not None and stats_examples < 1:
        raise ValueError(f"stats_examples must be >= 1, got {stats_examples}")
    if hasattr(model_a, "permutation_spec"):
        spec, source = model_a.permutation_spec(), "the model's permutation_spec()"
    else:
        spec, source = trace_permutation_spec(model_a, inputs[:2]), "torch.fx tracing"
    permutation = match(model_a, model_b, method=method, spec=dict(spec), inputs=inputs)
    aligned = apply_permutation(model_b, permutation, dict(spec))
    ts = default_grid() if ts is None else ts
    stats = inputs if stats_examples is None else inputs[:stats_examples]
    paths: dict[str, PathResult] = {
        name: renormalized_path(
            model_a, b, data, ts=ts, renormalize=renormalize, inputs=stats, batch_size=len(stats), split=split
        )
        for name, b in (("unaligned", model_b), ("aligned", aligned))
    }
    return AlignmentReport(permutation, spec, source, aligned, paths)
