r"""Linear interpolation paths between two networks, and named barrier definitions.

Path convention: :math:`\theta(t) = (1 - t)\,\theta_A + t\,\theta_B`, t in [0, 1]
(t = 0 is model A, t = 1 is model B; align B to A first for LMC *modulo
permutation*). Networks built from linear operators (MLP, mean-field, logistic,
CNN, LCN) are evaluated for all t at once by :func:`lmctheory.nn.ops.path_outputs`
(the first layer computed for A and B only, the rest batched over groups of t);
any other model through its interpolated parameters, stacked once, with
:func:`torch.func.functional_call` vectorised by :func:`torch.vmap` over t (chunked
so that the stacked outputs fit in memory) or one call per t (``strategy``).

Barrier definitions (:ref:`theory-barrier-definitions`), each a function of the grid ``ts`` and the
values along it (the grid must contain t = 0 and t = 1):

==================  ==========================================================  =====================
name                formula                                                     used by
==================  ==========================================================  =====================
above_chord         max_t [v(t) - ((1-t) v(0) + t v(1))]                        Entezari et al. 2022
max_minus_mean      max_t v(t) - (v(0) + v(1))/2                                Git Re-Basin, Frankle
midpoint_value      v(1/2)                                                      Ferbach's "LMC error"
midpoint_barrier    v(1/2) - (v(0) + v(1))/2                                    Entezari's code
normalized          max_minus_mean(error) / mean endpoint accuracy              Altıntaş et al.
==================  ==========================================================  =====================

``normalized`` is our reading of Altıntaş et al.'s performance-aware barrier
(their exact formula is not public): the error barrier divided by the mean
accuracy of the endpoints, so that datasets of different difficulty compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch.func import functional_call

from .nn.ops import check_same_architecture, network_ops, path_outputs, supports

__all__ = [
    "PATH_CONVENTION",
    "DEFINITIONS",
    "PathResult",
    "evaluate_path",
    "barrier",
    "barriers",
    "default_grid",
    "per_example_loss",
]

PATH_CONVENTION = "theta(t) = (1 - t) * theta_A + t * theta_B"
STRATEGIES = ("auto", "vmap", "loop", "first_layer")

DEFINITIONS = {
    "above_chord": "max_t [v(t) - ((1-t) v(0) + t v(1))]",
    "max_minus_mean": "max_t v(t) - (v(0) + v(1))/2",
    "midpoint_value": "v(1/2)",
    "midpoint_barrier": "v(1/2) - (v(0) + v(1))/2",
    "normalized": "max_minus_mean of the error / ((accuracy(0) + accuracy(1))/2)",
}


def default_grid(points: int = 25) -> np.ndarray:
    """``points`` equally spaced t in [0, 1] (Git Re-Basin uses 25); odd counts include 1/2.

    Parameters
    ----------
    points : int, default 25
        At least 2.

    Returns
    -------
    ndarray
        The grid.

    Raises
    ------
    ValueError
        Fewer than 2 points.

    Examples
    --------
    >>> from lmctheory.barrier import default_grid
    >>> default_grid(5).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if points < 2:
        raise ValueError(f"a path grid needs at least 2 points, got {points}")
    return np.linspace(0.0, 1.0, points)


@dataclass
class PathResult:
    """Metrics along a path (returned by :func:`evaluate_path`): ``values[metric]`` has one entry per
    t in ``ts``; ``barrier(definition, metric="loss")`` applies :func:`barrier`.

    Parameters
    ----------
    ts : ndarray
        The grid of t.
    values : dict of str to ndarray
        ``"loss"`` and/or ``"error"`` per t.
    split : str
        Name of the data split.
    n_examples : int
        Examples evaluated.
    loss : str
        ``"cross_entropy"`` or ``"mse"``.
    info : dict
        Strategy and timings.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.barrier import PathResult
    >>> res = PathResult(np.array([0.0, 0.5, 1.0]), {"loss": np.array([0.2, 0.9, 0.4])})
    >>> round(res.barrier("above_chord"), 12)
    0.6
    """

    ts: np.ndarray
    values: dict[str, np.ndarray]
    split: str = "given"
    n_examples: int = 0
    loss: str = "cross_entropy"
    info: dict = field(default_factory=dict)

    def barrier(self, definition: str, metric: str = "loss") -> float:
        if definition == "normalized":
            return barrier(self.ts, self.values["error"], "normalized")
        if metric not in self.values:
            raise ValueError(f"metric {metric!r} was not evaluated; have {sorted(self.values)}")
        return barrier(self.ts, self.values[metric], definition)

    def to_dict(self) -> dict:
        out = {
            "path": PATH_CONVENTION,
            "ts": self.ts.tolist(),
            "split": self.split,
            "n_examples": self.n_examples,
            "loss_function": self.loss,
            "values": {k: v.tolist() for k, v in self.values.items()},
            "barriers": {m: barriers(self.ts, v, with_normalized=False) for m, v in self.values.items()},
            "definitions": DEFINITIONS,
            **self.info,
        }
        if "error" in self.values:
            out["barriers"]["normalized"] = self.barrier("normalized")
        return out


def _endpoints(ts: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    i0, i1 = np.nonzero(ts == 0.0)[0], np.nonzero(ts == 1.0)[0]
    if not len(i0) or not len(i1):
        raise ValueError("the grid ts must contain both end points t = 0 and t = 1")
    return float(values[i0[0]]), float(values[i1[0]])


def _midpoint(ts, values) -> float:
    idx = np.nonzero(np.isclose(ts, 0.5, rtol=0, atol=1e-12))[0]
    if not len(idx):
        raise ValueError("midpoint definitions need t = 1/2 in the grid (use an odd number of points)")
    return float(values[idx[0]])


def barrier(ts, values, definition: str = "above_chord") -> float:
    r"""One named barrier of ``values`` along the grid ``ts`` (:ref:`theory-barrier-definitions`).

    Definitions (``DEFINITIONS``): ``above_chord`` :math:`\max_t [v(t) - ((1-t)v(0) + t v(1))]`,
    ``max_minus_mean`` :math:`\max_t v(t) - (v(0)+v(1))/2`, ``midpoint_value`` :math:`v(1/2)`,
    ``midpoint_barrier`` :math:`v(1/2) - (v(0)+v(1))/2`, and ``normalized``: max_minus_mean of the
    error divided by the mean endpoint accuracy. Each is a maximum over the grid, not a supremum
    over [0, 1].

    Parameters
    ----------
    ts : array_like
        Grid of t, containing 0 and 1 (and 1/2 for the midpoint definitions).
    values : array_like
        The metric at each t (for ``"normalized"``: the *error*).
    definition : str, default "above_chord"
        One of ``DEFINITIONS``.

    Returns
    -------
    float
        The barrier.

    Raises
    ------
    ValueError
        Shapes that differ, non-finite values, a grid without its endpoints (or 1/2 when needed),
        an unknown definition, or zero endpoint accuracy for ``"normalized"``.

    Examples
    --------
    >>> from lmctheory.barrier import barrier
    >>> barrier([0.0, 0.5, 1.0], [0.2, 0.9, 0.4])                    # 0.9 - 0.3
    0.6
    >>> round(barrier([0.0, 0.5, 1.0], [0.2, 0.9, 0.4], "max_minus_mean"), 12)
    0.6
    """
    ts = np.asarray(ts, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if ts.ndim != 1 or values.shape != ts.shape:
        raise ValueError(f"ts and values must be 1-D of equal length, got {ts.shape} and {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError("values along the path contain NaN or inf (a diverged model?)")
    v0, v1 = _endpoints(ts, values)
    if definition == "above_chord":
        return float(np.max(values - ((1 - ts) * v0 + ts * v1)))
    if definition == "max_minus_mean":
        return float(np.max(values) - (v0 + v1) / 2)
    if definition == "midpoint_value":
        return _midpoint(ts, values)
    if definition == "midpoint_barrier":
        return _midpoint(ts, values) - (v0 + v1) / 2
    if definition == "normalized":
        mean_accuracy = 1.0 - (v0 + v1) / 2
        if mean_accuracy <= 0:
            raise ValueError("normalized barrier undefined: both endpoints have zero accuracy")
        return float(np.max(values) - (v0 + v1) / 2) / mean_accuracy
    raise ValueError(f"definition must be one of {tuple(DEFINITIONS)}, got {definition!r}")


def barriers(ts, values, *, with_normalized: bool = False) -> dict[str, float | None]:
    """Every named barrier of :data:`DEFINITIONS` (midpoint ones None when 1/2 is not on the grid).

    Parameters
    ----------
    ts, values : array_like
        As :func:`barrier`.
    with_normalized : bool, default False
        Include ``"normalized"`` (``values`` is then the error).

    Returns
    -------
    dict of str to float or None
        One entry per definition.

    Raises
    ------
    ValueError
        As :func:`barrier`.

    Examples
    --------
    >>> from lmctheory.barrier import barriers
    >>> barriers([0.0, 1.0], [0.0, 0.0])
    {'above_chord': 0.0, 'max_minus_mean': 0.0, 'midpoint_value': None, 'midpoint_barrier': None}
    """
    out = {}
    for name in DEFINITIONS:
        if name == "normalized" and not with_normalized:
            continue
        try:
            out[name] = barrier(ts, values, name)
        except ValueError as exc:
            if "midpoint" not in str(exc):
                raise
            out[name] = None
    return out


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


def per_example_loss(kind: str, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The loss of each example at each t: outputs of shape (T, n, ...) give losses of shape (T, n).

    The conventions of :func:`evaluate_path`: cross-entropy for class labels, squared
    error summed over the outputs for float targets.

    Parameters
    ----------
    kind : {"cross_entropy", "mse"}
        The loss.
    outputs : torch.Tensor, shape (T, n, ...)
        Network outputs at T values of t (classes last for cross-entropy).
    y : torch.Tensor
        Class labels of shape (n,) (cross-entropy) or targets of shape (n, ...) (squared error).

    Returns
    -------
    torch.Tensor, shape (T, n)
        The losses.

    Raises
    ------
    RuntimeError
        Targets whose shape does not match the outputs (torch's error); labels outside the classes.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.barrier import per_example_loss
    >>> per_example_loss("mse", torch.ones(2, 3, 1), torch.zeros(3, 1)).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    steps, n = outputs.shape[:2]
    if kind == "cross_entropy":
        return torch.nn.functional.cross_entropy(
            outputs.flatten(0, 1), y.repeat(steps), reduction="none"
        ).view(steps, n)
    return ((outputs - y.reshape(1, n, *outputs.shape[2:])) ** 2).flatten(2).sum(-1)


def _loss_kind(y, loss: str) -> str:
    if loss != "auto":
        if loss not in ("cross_entropy", "mse"):
            raise ValueError(f"loss must be 'auto', 'cross_entropy' or 'mse', got {loss!r}")
        return loss
    return "mse" if y.is_floating_point() else "cross_entropy"


def evaluate_path(
    model_a,
    model_b,
    data,
    ts=None,
    metrics=("loss", "error"),
    *,
    loss: str = "auto",
    split: str = "given",
    max_elements: int = 2**26,
    strategy: str = "auto",
    renormalize: str = "none",
    inputs=None,
) -> PathResult:
    r"""Loss and error of every network on the path between ``model_a`` and ``model_b``
    (:ref:`theory-barrier-path`: :math:`\theta(t) = (1 - t)\theta_A + t\theta_B`).

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
        other layers batched over groups of t, see :func:`lmctheory.nn.ops.path_outputs`; models
        registered with :func:`lmctheory.nn.ops.register_ops`) or "auto": vmap on CUDA; on CPU
        first_layer when supported, else vmap when a network's work on the first batch
        (parameters x examples) is at most 2**22 multiply-adds, else loop.
    renormalize : {"none", "reset_bn", "repair"}, default "none"
        Renormalise each interpolated network on ``inputs`` before evaluating it: batch-norm statistics
        recomputed, or REPAIR (:func:`lmctheory.renormalize.renormalized_path`, one network per t; any
        model; ``data`` must be an ``(x, y)`` pair).
    inputs : torch.Tensor, optional
        Inputs for the statistics (training inputs), required with ``renormalize``.

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
        ``strategy="first_layer"`` for a model kind without registered operators.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn.models import MLP
    >>> _ = torch.manual_seed(0)
    >>> model_a, model_b = MLP([4, 8, 3]), MLP([4, 8, 3])
    >>> x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    >>> from lmctheory.barrier import evaluate_path
    >>> res = evaluate_path(model_a, model_b, (x, y), ts=[0.0, 0.5, 1.0])
    >>> sorted(res.values), res.values["loss"].shape
    (['error', 'loss'], (3,))
    """
    ts = default_grid() if ts is None else np.asarray(ts, dtype=np.float64)
    if ts.ndim != 1 or ts.size == 0 or not np.isfinite(ts).all():
        raise ValueError(f"ts must be a non-empty 1-D array of finite values, got {ts}")
    if renormalize != "none":
        from .renormalize import renormalized_path

        if inputs is None:
            raise ValueError(f"renormalize={renormalize!r} needs inputs (training inputs for the statistics)")
        path = renormalized_path(
            model_a, model_b, data, ts, renormalize=renormalize, inputs=inputs, loss=loss, split=split
        )
        path.values = {m: path.values[m] for m in metrics}
        return path
    unknown = set(metrics) - {"loss", "error"}
    if unknown or not metrics:
        raise ValueError(f"metrics must be a non-empty subset of ('loss', 'error'), got {metrics}")
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    pa, pb = _check_models(model_a, model_b)
    first = next(iter(pa.values()))
    device, dtype = first.device, first.dtype
    if strategy == "first_layer" and not supports(model_a):
        raise ValueError(
            f"strategy='first_layer' needs a model made of linear operators (MLP, mean-field, "
            f"logistic, CNN, LCN), not {type(model_a).__name__}"
        )
    used, first_layer = None, None
    sums = {m: np.zeros(ts.size) for m in metrics}
    n_total, kind = 0, None
    model_a_was_training = model_a.training
    model_a.eval()
    try:
        for x, y in _batches(data, device, dtype):
            kind = _loss_kind(y, loss) if kind is None else kind
            if "error" in metrics and kind == "mse":
                raise ValueError("the error metric needs integer class labels; use metrics=('loss',)")
            n = x.shape[0]
            if used is None:  # decided on the first batch
                used = strategy if strategy != "auto" else _auto_strategy(model_a, pa, device, n)
                if used == "first_layer":
                    first_layer = network_ops(model_a, model_b, dtype=dtype)
            out_size = _check_batch(model_a, x, y, kind) * n
            chunk = max(1, int(max_elements // max(out_size, 1)))
            for start in range(0, ts.size, chunk):
                t = torch.as_tensor(ts[start : start + chunk], device=device, dtype=dtype)
                stacked = (
                    None
                    if used == "first_layer"
                    else {
                        k: torch.lerp(
                            pa[k].expand(len(t), *pa[k].shape),
                            pb[k].expand(len(t), *pb[k].shape),
                            t.view(-1, *([1] * pa[k].ndim)),
                        )
                        for k in pa
                    }
                )
                with torch.no_grad():
                    if used == "vmap":
                        out = torch.vmap(
                            lambda p, inp: functional_call(model_a, p, (inp,)), in_dims=(0, None)
                        )(stacked, x)  # (T, n, k)
                    elif used == "loop":
                        out = torch.stack(
                            [
                                functional_call(model_a, {k: v[i] for k, v in stacked.items()}, (x,))
                                for i in range(len(t))
                            ]
                        )
                    else:
                        out = path_outputs(first_layer, x, t, max_elements)
                    if "loss" in metrics:
                        per = per_example_loss(kind, out, y)
                        sums["loss"][start : start + len(t)] += per.sum(1).double().cpu().numpy()
                    if "error" in metrics:
                        wrong = (out.argmax(-1) != y.view(1, n)).sum(1)
                        sums["error"][start : start + len(t)] += wrong.double().cpu().numpy()
            n_total += n
    finally:
        model_a.train(model_a_was_training)
    if n_total == 0:
        raise ValueError("data is empty")
    values = {m: s / n_total for m, s in sums.items()}
    return PathResult(ts, values, split, n_total, kind, {"strategy": used})


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
