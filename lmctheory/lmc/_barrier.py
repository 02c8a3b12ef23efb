r"""Evaluation of a network's loss and accuracy along the linear path between two networks.

Path convention (:data:`lmctheory.lmc.PATH_CONVENTION`): :math:`\theta(t) = (1 - t)\,\theta_A + t\,\theta_B`.
Networks built from linear operators (MLP, mean-field, logistic, CNN, LCN) are evaluated for all t at once by
:func:`lmctheory.nn.path_outputs` (the first layer computed for A and B only, the rest batched over groups of
t); any other model through its interpolated parameters, stacked once, with
:func:`torch.func.functional_call` vectorised by :func:`torch.vmap` over t (chunked so that the stacked
outputs fit in memory) or one call per t (``strategy``). The barriers of the values are defined in
``_path.py``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.func import functional_call

from ..nn import check_same_architecture, loss_kind, network_ops, path_outputs, per_example_loss, supports
from ._path import PathResult, default_grid

__all__ = ["evaluate_path"]

STRATEGIES = ("auto", "vmap", "loop", "first_layer")


# ------------------------------------------------------------ path evaluation


def _check_models(model_a, model_b):
    check_same_architecture(model_a, model_b)
    pa, pb = dict(model_a.named_parameters()), dict(model_b.named_parameters())
    if pa.keys() != pb.keys():
        raise ValueError(f"models have different parameters: {sorted(set(pa) ^ set(pb))[:5]}")
    for k in pa:
        if pa[k].shape != pb[k].shape:
            raise ValueError(f"parameter {k!r}: shape {tuple(pa[k].shape)} vs {tuple(pb[k].shape)}")
        if pa[k].device != pb[k].device or pa[k].dtype != pb[k].dtype:
            raise ValueError(
                f"parameter {k!r}: models differ in device/dtype ({pa[k].device}, {pa[k].dtype} vs "
                f"{pb[k].device}, {pb[k].dtype}); move both to the same device and dtype"
            )
    if any(True for _ in model_a.buffers()):
        raise NotImplementedError(
            "models with buffers (e.g. batch norm) need statistics recomputed along the path; not supported"
        )
    return {k: v.detach() for k, v in pa.items()}, {k: v.detach() for k, v in pb.items()}


def _as_tensor(value, name: str) -> torch.Tensor:
    if torch.is_tensor(value):
        return value
    array = np.asarray(value)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise TypeError(f"data: {name} must be a tensor or a numeric array, got {type(value).__name__}")
    return torch.from_numpy(np.ascontiguousarray(array))


def _batch(x, y, device, dtype):
    x, y = _as_tensor(x, "inputs"), _as_tensor(y, "labels")
    if x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(
            f"data: {x.shape[0]} inputs and {y.shape[0]} labels (need the same, non-zero number)"
        )
    return x.to(device=device, dtype=dtype), y.to(device)


def _batches(data, device, dtype):
    if isinstance(data, (tuple, list)) and len(data) == 2 and not isinstance(data[0], (tuple, list)):
        yield _batch(data[0], data[1], device, dtype)
        return
    for batch in data:  # a DataLoader of (x, y)
        yield _batch(batch[0], batch[1], device, dtype)


def _check_batch(model, x, y, kind: str) -> int:
    """The model's output size on this batch; ValueError when inputs or labels do not fit the model."""
    try:
        with torch.no_grad():
            out = model(x[:1])
    except RuntimeError as exc:
        raise ValueError(
            f"data: inputs of shape {tuple(x.shape[1:])} do not fit the model ({str(exc).splitlines()[0]})"
        ) from None
    if kind == "cross_entropy":
        classes = out.shape[-1]
        if y.dim() != 1 or (y.numel() and (int(y.min()) < 0 or int(y.max()) >= classes)):
            raise ValueError(
                f"data: class labels must be a 1-D array of integers in [0, {classes}) for a model with "
                f"{classes} outputs, got values in [{int(y.min())}, {int(y.max())}]"
            )
    return out.numel()


def evaluate_path(
    model_a,
    model_b,
    data,
    *,
    ts=None,
    metrics=("loss", "error"),
    loss: str = "auto",
    split: str = "given",
    max_elements: int = 2**26,
    strategy: str = "auto",
) -> PathResult:
    r"""Loss and error of every network on the path between ``model_a`` and ``model_b``
    (:ref:`theory-barrier-path`: :math:`\theta(t) = (1 - t)\theta_A + t\theta_B`). Networks renormalised
    at each t (reset batch-norm statistics, REPAIR) are :func:`lmctheory.lmc.renormalized_path`'s.

    Parameters
    ----------
    model_a, model_b : nn.Module
        Same architecture, same device and dtype (align B to A beforehand).
    data : (x, y) tensors or an iterable of (x, y) batches (a DataLoader)
        Labels: integer classes (cross-entropy loss, error = 1 - accuracy) or
        float targets (mean squared error; no error metric).
    ts : array of t in [0, 1], default 25 points
        The grid (must contain 0 and 1 for barriers).
    metrics : subset of ("loss", "error")
        What to evaluate.
    loss : "auto", "cross_entropy" or "mse"
        The loss.
    split : str
        Name recorded in the result ("train", "test", ...).
    max_elements : int
        Bound on the stacked output size per chunk of t (memory).
    strategy : {"auto", "vmap", "loop", "first_layer"}
        "vmap" (one vectorised call per chunk of t), "loop" (one ``functional_call`` per t on
        the stacked parameters, no state_dict copies), "first_layer" (exploits that the first
        operator is affine in its parameters: computed for A and B once, interpolated exactly; the
        other layers batched over groups of t, see :func:`lmctheory.nn.path_outputs`; models
        registered with :func:`lmctheory.nn.register_ops`) or "auto": vmap on CUDA; on CPU
        first_layer when supported, else vmap when a network's work on the first batch
        (parameters x examples) is at most 2**22 multiply-adds, else loop.

    Returns
    -------
    PathResult
        Mean loss / error per t (averaged over all examples).

    Raises
    ------
    ValueError, TypeError
        Models of different architectures, devices or dtypes; data of the wrong shape or type;
        ts outside [0, 1]; unknown metrics, loss or strategy; an error metric with float targets.
    NotImplementedError
        ``strategy="first_layer"`` for a model kind without registered operators
        (:func:`lmctheory.nn.register_ops`).

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> _ = torch.manual_seed(0)
    >>> model_a, model_b = MLP([4, 8, 3]), MLP([4, 8, 3])
    >>> x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    >>> from lmctheory.lmc import evaluate_path
    >>> res = evaluate_path(model_a, model_b, (x, y), ts=[0.0, 0.5, 1.0])
    >>> sorted(res.values), res.values["loss"].shape
    (['error', 'loss'], (3,))
    """
    ts = default_grid() if ts is None else np.asarray(ts, dtype=np.float64)
    if ts.ndim != 1 or ts.size == 0 or not np.isfinite(ts).all():
        raise ValueError(f"ts must be a non-empty 1-D array of finite values, got {ts}")
    unknown = set(metrics) - {"loss", "error"}
    if unknown or not metrics:
        raise ValueError(f"metrics must be a non-empty subset of ('loss', 'error'), got {metrics}")
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    pa, pb = _check_models(model_a, model_b)
    first = next(iter(pa.values()))
    device, dtype = first.device, first.dtype
    if strategy == "first_layer" and not supports(model_a):
        raise NotImplementedError(
            f"strategy='first_layer' needs a model kind with registered operators (MLP, mean-field, logistic, "
            f"CNN, LCN or lmctheory.nn.register_ops), not {type(model_a).__name__}"
        )
    used, outputs, kind = None, None, None
    totals = _Totals(metrics, ts.size)
    model_a_was_training = model_a.training
    model_a.eval()
    try:
        for x, y in _batches(data, device, dtype):
            kind = loss_kind(y, loss) if kind is None else kind
            if "error" in metrics and kind == "mse":
                raise ValueError("the error metric needs integer class labels; use metrics=('loss',)")
            n = x.shape[0]
            if used is None:  # decided on the first batch
                used = strategy if strategy != "auto" else _auto_strategy(model_a, pa, device, n)
                outputs = _STRATEGIES[used](model_a, model_b, pa, pb, dtype, max_elements)
            chunk = max(1, int(max_elements // max(_check_batch(model_a, x, y, kind) * n, 1)))
            for start in range(0, ts.size, chunk):
                t = torch.as_tensor(ts[start : start + chunk], device=device, dtype=dtype)
                with torch.no_grad():
                    totals.add(start, outputs(x, t), y, kind)
            totals.examples += n
    finally:
        model_a.train(model_a_was_training)
    return PathResult(ts, totals.means(), split, totals.examples, kind, {"strategy": used})


# ------------------------------------------------------------ strategies: outputs (T, n, k) for a group of t


def _interpolated(pa: dict, pb: dict, t: torch.Tensor) -> dict:
    """Every parameter at every t of the group, stacked: ``{name: (T, *shape)}``."""
    return {
        k: torch.lerp(
            pa[k].expand(len(t), *pa[k].shape),
            pb[k].expand(len(t), *pb[k].shape),
            t.view(-1, *([1] * pa[k].ndim)),
        )
        for k in pa
    }


def _vmap_strategy(model_a, model_b, pa, pb, dtype, max_elements):
    """One ``functional_call`` vectorised over the group's t by :func:`torch.vmap`."""
    call = torch.vmap(lambda p, inp: functional_call(model_a, p, (inp,)), in_dims=(0, None))
    return lambda x, t: call(_interpolated(pa, pb, t), x)


def _loop_strategy(model_a, model_b, pa, pb, dtype, max_elements):
    """One ``functional_call`` per t on the stacked parameters (no state_dict copies)."""

    def outputs(x, t):
        stacked = _interpolated(pa, pb, t)
        return torch.stack(
            [functional_call(model_a, {k: v[i] for k, v in stacked.items()}, (x,)) for i in range(len(t))]
        )

    return outputs


def _first_layer_strategy(model_a, model_b, pa, pb, dtype, max_elements):
    """The operator sequence (:func:`lmctheory.nn.path_outputs`): the first layer for A and B once."""
    ops = network_ops(model_a, model_b, dtype=dtype)
    return lambda x, t: path_outputs(ops, x, t, max_elements)


#: strategy -> factory ``(model_a, model_b, params_a, params_b, dtype, max_elements) -> outputs(x, t)``
_STRATEGIES = {"vmap": _vmap_strategy, "loop": _loop_strategy, "first_layer": _first_layer_strategy}


class _Totals:
    """Sums of the per-example loss and of the errors at each t, over every batch."""

    def __init__(self, metrics, steps: int):
        self.sums = {m: np.zeros(steps) for m in metrics}
        self.examples = 0

    def add(self, start: int, out: torch.Tensor, y: torch.Tensor, kind: str) -> None:
        steps = slice(start, start + out.shape[0])
        if "loss" in self.sums:
            self.sums["loss"][steps] += per_example_loss(kind, out, y).sum(1).double().cpu().numpy()
        if "error" in self.sums:
            wrong = (out.argmax(-1) != y.view(1, out.shape[1])).sum(1)
            self.sums["error"][steps] += wrong.double().cpu().numpy()

    def means(self) -> dict:
        if self.examples == 0:
            raise ValueError("data is empty")
        return {m: s / self.examples for m, s in self.sums.items()}


#: On CPU, for models that first_layer does not cover, below this many multiply-adds per network
#: (parameters x batch size) the per-call overheads dominate and one vmapped call beats a loop of
#: functional calls (measured: docs, Benchmarks).
_VMAP_CPU_WORK = 2**22


def _auto_strategy(model, params: dict, device, batch_size: int) -> str:
    """vmap on CUDA; on CPU first_layer when supported, else vmap for small work per network, else loop."""
    if device.type == "cuda":
        return "vmap"
    if supports(model):
        return "first_layer"
    return "vmap" if batch_size * sum(p.numel() for p in params.values()) <= _VMAP_CPU_WORK else "loop"
