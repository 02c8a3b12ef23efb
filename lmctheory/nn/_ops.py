"""Networks as sequences of linear operators (dense, convolution, locally connected, flatten head).

Shared by the certified barrier bound (:mod:`lmctheory.lmc`), which needs the entrywise
absolute value of each operator (``op.linear(|W|, u)``: every matrix entry of these operators is
a single weight), and by path evaluation (:mod:`lmctheory.lmc`, :func:`path_outputs`), which
uses that the first operator's output is affine in its parameters for a fixed input.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ._models import CNN, LCN, MLP, ChannelLinear, LogisticRegression, MeanFieldTwoLayer

__all__ = [
    "Op",
    "dense",
    "register_ops",
    "network_ops",
    "forward_all",
    "supports",
    "path_outputs",
    "check_same_architecture",
    "ScratchBuffers",
]

#: model class -> builder ``(model_a, model_b, dtype) -> (ops, activation name, slope, input reshape)``
_BUILDERS: dict[type, Callable] = {}


def register_ops(*classes: type):
    """Register the operator sequence of a model kind: a decorator for a builder
    ``(model_a, model_b, dtype) -> (ops, activation name, leaky slope, input reshape)``.

    ``ops`` is a list of :class:`Op` whose matrices have single weights as entries (so that
    ``linear(|W|, .)`` is the entrywise absolute value); then the certified bound and the batched path
    evaluation cover the model kind. Subclasses of a registered class use its builder unless they
    register their own.

    Parameters
    ----------
    *classes : type
        The ``torch.nn.Module`` classes the builder handles.

    Returns
    -------
    callable
        The decorator (it returns the builder unchanged).

    Raises
    ------
    TypeError
        When a class is not a class.

    Examples
    --------
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.nn import network_ops, supports
    >>> class ScaledMLP(MLP):
    ...     pass
    >>> supports(ScaledMLP([2, 3, 1]))  # inherits MLP's builder
    True
    """
    for cls in classes:
        if not isinstance(cls, type):
            raise TypeError(f"register_ops takes classes, got {cls!r}")

    def decorate(builder):
        for cls in classes:
            _BUILDERS[cls] = builder
        return builder

    return decorate


def _builder(model):
    for cls in type(model).__mro__:
        if cls in _BUILDERS:
            return _BUILDERS[cls]
    return None


def supports(model) -> bool:
    """Whether ``model``'s kind has a registered operator sequence (:func:`register_ops`).

    Parameters
    ----------
    model : torch.nn.Module
        Any module.

    Returns
    -------
    bool
        True when the certified bound and the batched path evaluation cover it.

    Raises
    ------
    None
        Any object is looked up by its class: unknown kinds give False.

    Examples
    --------
    >>> from lmctheory.nn import MLP, AttentionNet
    >>> from lmctheory.nn import supports
    >>> supports(MLP([2, 3, 1])), supports(AttentionNet((1, 4, 4), 2))
    (True, False)
    """
    return _builder(model) is not None


@dataclass
class Op:
    """One linear operator of a network: ``linear(weights, x)`` (bias added separately), the
    parameters of A and B, and whether the activation follows.

    The entrywise absolute value of the operator's matrix is ``linear(|weights|, .)`` for dense,
    convolutional, locally connected and pooling layers (each matrix entry is a single weight); the
    certified bound relies on it.

    Parameters
    ----------
    linear : callable
        ``(params, x) -> output``.
    params_a, params_b : dict of str to Tensor
        The operator's parameters in A and in B.
    activation_after : bool
        Whether the activation follows.
    rounding : float, default 0.0
        Relative error of the copied parameters with respect to the model's exact ones (nonzero when the
        builder scales them, as the mean-field net's 1/N); the certified enclosure adds it.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.nn import network_ops
    >>> _ = torch.manual_seed(0)
    >>> model_a, model_b = MLP([4, 8, 3]), MLP([4, 8, 3])
    >>> network = network_ops(model_a, model_b, dtype=torch.float32)
    >>> ops = network[0]
    >>> len(ops), [op.activation_after for op in ops], sorted(ops[0].params_a)
    (2, [True, False], ['bias', 'weight'])
    """

    linear: object
    params_a: dict
    params_b: dict
    activation_after: bool
    rounding: float = 0.0

    def forward(self, params, x):
        out = self.linear(params, x)  # the linear maps read params["weight"] only
        b = params.get("bias")
        if b is None:
            return out
        if out.ndim == 2:  # dense
            return out + b
        if b.ndim == 1:  # convolution: one bias per channel
            return out + b.view(1, -1, 1, 1)
        return out + b.view(1, *out.shape[1:])  # locally connected: per channel and position


def _params(module, scale: float = 1.0, dtype=torch.float64):
    """Detached parameters in ``dtype`` (no copy when already in it), weights times ``scale``."""
    return {
        n: p.detach().to(dtype) * scale if n == "weight" and scale != 1.0 else p.detach().to(dtype)
        for n, p in module.named_parameters()
    }


def dense(p, x):
    """The dense operator ``x @ W.T`` of a parameter dict (the bias is added by :meth:`Op.forward`).

    Parameters
    ----------
    p : dict
        Holds ``"weight"`` of shape (out, in).
    x : Tensor, shape (n, in)
        Inputs.

    Returns
    -------
    Tensor, shape (n, out)
        The products.

    Raises
    ------
    KeyError
        No ``"weight"`` in ``p``.
    RuntimeError
        Shapes that do not multiply.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import dense
    >>> dense({"weight": torch.ones(3, 4)}, torch.ones(2, 4)).tolist()
    [[4.0, 4.0, 4.0], [4.0, 4.0, 4.0]]
    """
    return x @ p["weight"].T


def _signature(model) -> dict:
    """What fixes a model's function besides its parameters: its kind, sizes, bias and activation (the
    leaky slope only for leaky ReLU)."""
    signature = {"kind": type(model).__name__}
    if hasattr(model, "config"):
        signature.update(model.config())
    name = getattr(model, "activation_name", None)
    if name is not None:
        signature["activation"] = name
    if name != "leaky_relu":
        signature.pop("slope", None)
    return signature


def check_same_architecture(model_a, model_b) -> None:
    """Refuse a pair whose members differ in kind, sizes, bias or activation: the path between them is not
    what either network computes.

    Parameters
    ----------
    model_a, model_b : torch.nn.Module
        The two endpoints.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        The first difference, named (``config()`` entries of lmctheory's models, the activation and its
        slope).

    Examples
    --------
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.nn import check_same_architecture
    >>> check_same_architecture(MLP([2, 3, 1]), MLP([2, 3, 1]))
    >>> check_same_architecture(MLP([2, 3, 1]), MLP([2, 3, 1], activation="tanh"))
    Traceback (most recent call last):
    ...
    ValueError: model_a and model_b must have the same architecture: activation is 'relu' in model_a, 'tanh' in model_b
    """
    sa, sb = _signature(model_a), _signature(model_b)
    for key in dict.fromkeys([*sa, *sb]):
        if sa.get(key) != sb.get(key):
            raise ValueError(
                f"model_a and model_b must have the same architecture: {key} is {sa.get(key)!r} in model_a, "
                f"{sb.get(key)!r} in model_b"
            )


def network_ops(model_a, model_b, dtype=torch.float64):
    """The operator sequence of a supported model pair, the activation name, slope and input reshape
    (from the builder registered for the model's class, :func:`register_ops`).

    Parameters
    ----------
    model_a, model_b : torch.nn.Module
        Two models of one registered kind and architecture.
    dtype : torch.dtype, default torch.float64
        Dtype of the copied parameters.

    Returns
    -------
    tuple
        ``(ops, activation name, leaky slope, input reshape)``.

    Raises
    ------
    NotImplementedError
        A model kind without a registered builder (the message says how to add one).
    ValueError
        Models of different kinds, activations or parameter shapes.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.nn import network_ops
    >>> _ = torch.manual_seed(0)
    >>> model_a, model_b = MLP([4, 8, 3]), MLP([4, 8, 3])
    >>> network = network_ops(model_a, model_b, dtype=torch.float32)
    >>> ops, activation, slope, reshape = network
    >>> len(ops), activation
    (2, 'relu')
    """
    build = _builder(model_a)
    if build is None:
        kinds = ", ".join(sorted(c.__name__ for c in _BUILDERS))
        raise NotImplementedError(
            f"certified bounds and batched paths are implemented for {kinds}, not {type(model_a).__name__} "
            "(attention layers are not covered by the linear-layer recursion); lmctheory.nn.register_ops "
            "adds a model kind"
        )
    check_same_architecture(model_a, model_b)
    network = build(model_a, model_b, dtype)
    for op in network[0]:
        for name, value in op.params_a.items():
            if value.shape != op.params_b[name].shape:
                raise ValueError(
                    f"model_a and model_b must have the same architecture: a parameter of shape "
                    f"{tuple(value.shape)} in model_a is {tuple(op.params_b[name].shape)} in model_b"
                )
    return network


def _flatten(x):
    return x.flatten(1)


@register_ops(MLP)
def _mlp_ops(model_a, model_b, dtype):
    n = len(model_a.layers)
    ops = [
        Op(dense, _params(la, dtype=dtype), _params(lb, dtype=dtype), i < n - 1)
        for i, (la, lb) in enumerate(zip(model_a.layers, model_b.layers, strict=True))
    ]
    return ops, model_a.activation_name, model_a.slope, _flatten


@register_ops(MeanFieldTwoLayer)
def _mean_field_ops(model_a, model_b, dtype):
    w = 1.0 / model_a.width_
    ops = [
        Op(
            dense,
            _params(model_a.hidden_layer, dtype=dtype),
            _params(model_b.hidden_layer, dtype=dtype),
            True,
        ),
        # the 1/N scale rounds twice (1/N, then the product): 3 units of float64 roundoff
        Op(dense, _params(model_a.out, w, dtype), _params(model_b.out, w, dtype), False, 3 * 2.0**-53),
    ]
    return ops, model_a.activation_name, 0.01, _flatten


@register_ops(LogisticRegression)
def _logistic_ops(model_a, model_b, dtype):
    return (
        [Op(dense, _params(model_a.linear, dtype=dtype), _params(model_b.linear, dtype=dtype), False)],
        "identity",
        0.01,
        _flatten,
    )


def _local_ops(model_a, model_b, dtype, conv_of):
    """Convolution-like layers (``conv_of(layer)`` -> linear map), then the channel-linear head."""
    ops = [
        Op(conv_of(ca), _params(ca, dtype=dtype), _params(cb, dtype=dtype), True)
        for ca, cb in zip(model_a.convs, model_b.convs, strict=True)
    ]
    ops.append(
        Op(
            lambda p, x: ChannelLinear.apply_weights(x, p["weight"]),
            _params(model_a.head, dtype=dtype),
            _params(model_b.head, dtype=dtype),
            False,
        )
    )
    shape = model_a.input_shape
    return ops, model_a.activation_name, model_a.slope, lambda x: x.reshape(x.shape[0], *shape)


@register_ops(CNN)
def _cnn_ops(model_a, model_b, dtype):
    def conv_of(layer):
        return lambda p, x, pad=layer.padding: F.conv2d(x, p["weight"], padding=pad)

    return _local_ops(model_a, model_b, dtype, conv_of)


@register_ops(LCN)
def _lcn_ops(model_a, model_b, dtype):
    def conv_of(layer):
        return lambda p, x, mod=layer: mod.apply_weights(x, p["weight"])

    return _local_ops(model_a, model_b, dtype, conv_of)


def forward_all(ops, act, x, which: str):
    """Outputs :math:`h_l` (with :math:`h_0 = x`) and pre-activations :math:`z_l` of every operator
    of A or B.

    Parameters
    ----------
    ops : list of Op
        From :func:`network_ops`.
    act : callable
        The activation function on tensors.
    x : Tensor
        Inputs, already reshaped.
    which : {"a", "b"}
        Which network's parameters.

    Returns
    -------
    hs : list of Tensor
        ``len(ops) + 1`` outputs, ``hs[0] = x``.
    zs : list of Tensor
        ``len(ops)`` pre-activations.

    Raises
    ------
    RuntimeError
        Inputs of the wrong shape.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.nn import network_ops
    >>> _ = torch.manual_seed(0)
    >>> model_a, model_b = MLP([4, 8, 3]), MLP([4, 8, 3])
    >>> network = network_ops(model_a, model_b, dtype=torch.float32)
    >>> from lmctheory.nn import forward_all
    >>> x = torch.randn(5, 4)
    >>> hs, zs = forward_all(network[0], torch.relu, x, "a")
    >>> len(hs), len(zs), torch.allclose(hs[-1], model_a(x), atol=1e-6)
    (3, 2, True)
    """
    hs, zs = [x], []
    for op in ops:
        z = op.forward(op.params_a if which == "a" else op.params_b, hs[-1])
        zs.append(z)
        hs.append(act(z) if op.activation_after else z)
    return hs, zs


# ------------------------------------------------------------ all networks of a path at once

#: Most values of t evaluated together, and most hidden activations held by one group (4 MB in
#: float32): larger groups gained nothing on CPU, smaller ones pay per-call overheads (measured: docs, Benchmarks).
_PATH_GROUP = 16
_PATH_GROUP_ELEMENTS = 2**20


def _activate_(z: torch.Tensor, name: str, slope: float) -> torch.Tensor:
    """The activation applied in place where PyTorch has an in-place form (same values as
    :func:`~lmctheory.nn.make_activation`)."""
    if name == "relu":
        return z.relu_()
    if name == "leaky_relu":
        return F.leaky_relu_(z, slope)
    if name == "tanh":
        return z.tanh_()
    if name == "gelu":
        return F.gelu(z)
    if name == "identity":
        return z
    raise ValueError(f"unknown activation {name!r}")


def _group_sizes(total: int, cap: int) -> list[int]:
    """``total`` split into the fewest groups of at most ``cap``, as equal as possible."""
    groups = -(-total // cap)
    base, extra = divmod(total, groups)
    return [base + 1] * extra + [base] * (groups - extra)


def path_outputs(network, x: torch.Tensor, t: torch.Tensor, max_elements: int = 2**26) -> torch.Tensor:
    r"""Outputs of every network :math:`\theta(t) = (1 - t)\theta_A + t\theta_B` on ``x``, shape (T, n, ...).

    The first operator's output is affine in its parameters for a fixed input, so
    :math:`z_1(t) = (1 - t) z_1^A + t z_1^B` exactly (up to rounding): it is computed twice instead of
    T times. The other operators run on groups of up to 16 values of t at once. In a chain of dense
    layers (MLP, mean-field, logistic) activations are kept feature-major, (features, examples), and
    each layer is one batched GEMM :math:`W(t)\,h(t)` with the group's interpolated weights.
    Convolutional networks run their later operators one t at a time. A group holds at most
    ``min(max_elements, 2**20)`` activations of the widest dense layer (of the first operator in a
    convolutional network), and at least one t.

    Parameters
    ----------
    network : tuple
        :func:`network_ops`' result (in the dtype of ``x``).
    x : Tensor
        Inputs.
    t : Tensor
        1-D tensor of t.
    max_elements : int, default 2**26
        Memory bound per group.

    Returns
    -------
    Tensor, shape (T, n, outputs)
        The outputs.

    Raises
    ------
    RuntimeError
        Inputs of the wrong shape or dtype.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.nn import network_ops
    >>> _ = torch.manual_seed(0)
    >>> model_a, model_b = MLP([4, 8, 3]), MLP([4, 8, 3])
    >>> network = network_ops(model_a, model_b, dtype=torch.float32)
    >>> from lmctheory.nn import path_outputs
    >>> x = torch.randn(5, 4)
    >>> out = path_outputs(network, x, torch.tensor([0.0, 0.5, 1.0]))
    >>> out.shape, torch.allclose(out[0], model_a(x), atol=1e-6), torch.allclose(out[2], model_b(x), atol=1e-6)
    (torch.Size([3, 5, 3]), True, True)
    """
    ops, act_name, slope, reshape = network
    xin = reshape(x)
    first, n = ops[0], xin.shape[0]
    feature_major = all(op.linear is dense for op in ops)
    if feature_major:  # z^T = W x^T + b, (features, n)
        z_a, z_b = (
            torch.addmm(p["bias"].unsqueeze(1), p["weight"], xin.T) if "bias" in p else p["weight"] @ xin.T
            for p in (first.params_a, first.params_b)
        )
        per_t = max(op.params_a["weight"].shape[0] for op in ops) * n  # activations of the widest layer
    else:
        z_a, z_b = first.forward(first.params_a, xin), first.forward(first.params_b, xin)
        per_t = z_a.numel()
    cap = max(1, min(_PATH_GROUP, min(max_elements, _PATH_GROUP_ELEMENTS) // max(1, per_t)))
    outs, start, scratch = [], 0, ScratchBuffers.for_thread(z_a)
    for size in _group_sizes(t.numel(), cap):
        w = t[start : start + size]
        start += size
        h = torch.lerp(
            z_a,
            z_b,
            w.view(-1, *([1] * z_a.ndim)),
            out=scratch.get(0, (size, *z_a.shape)) if len(ops) > 1 else None,
        )
        if first.activation_after:
            h = _activate_(h, act_name, slope)
        for index, op in enumerate(ops[1:], start=1):
            last = index == len(ops) - 1  # the last outputs are returned: their own memory, not scratch
            h = (
                _dense_feature_major(op, h, w, None if last else scratch, index)
                if feature_major
                else _one_t_at_a_time(op, h, w)
            )
            if op.activation_after:
                h = _activate_(h, act_name, slope)
        outs.append(h.transpose(1, 2) if feature_major else h)
    return torch.cat(outs) if len(outs) > 1 else outs[0].contiguous()


class ScratchBuffers:
    """Buffers for the hidden activations and interpolated weights of the groups of t, kept between
    calls by each thread (up to ``KEEP`` elements each), for operator sequences (:func:`path_outputs`) and
    the interval enclosures of the certified bounds. Large tensors allocated afresh for every group or call
    cost page faults (glibc serves them with mmap): measured up to 1.5x of a path's time.

    Parameters
    ----------
    dtype : torch.dtype
        The buffers' dtype.
    device : torch.device or str
        The buffers' device.

    Raises
    ------
    TypeError
        ``dtype`` is not a ``torch.dtype``.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import ScratchBuffers
    >>> scratch = ScratchBuffers(torch.float64, "cpu")
    >>> a = scratch.get("hidden", (2, 3))
    >>> b = scratch.get("hidden", (3, 2))  # the same storage, another view
    >>> a.shape, b.shape, a.data_ptr() == b.data_ptr()
    (torch.Size([2, 3]), torch.Size([3, 2]), True)
    """

    KEEP = 2**21  # elements per kept buffer (8 MB in float32); larger ones live for one call
    _local = threading.local()

    def __init__(self, dtype: torch.dtype, device: torch.device):
        if not isinstance(dtype, torch.dtype):
            raise TypeError(f"dtype must be a torch.dtype, got {dtype!r}")
        self.dtype, self.device, self.buffers = dtype, torch.device(device), {}

    @classmethod
    def for_thread(cls, like: torch.Tensor) -> ScratchBuffers:
        """This thread's buffers for tensors of ``like``'s dtype and device."""
        per_thread = cls._local.__dict__.setdefault("by_kind", {})
        kind = (like.dtype, like.device)
        if kind not in per_thread:
            per_thread[kind] = cls(*kind)
        return per_thread[kind]

    def get(self, key, shape) -> torch.Tensor:
        numel = math.prod(shape)
        buffer = self.buffers.get(key)
        if buffer is None or buffer.numel() < numel:
            buffer = torch.empty(numel, dtype=self.dtype, device=self.device)
            if numel <= self.KEEP:
                self.buffers[key] = buffer
        return buffer[:numel].view(shape)


def _dense_feature_major(
    op: Op, h: torch.Tensor, w: torch.Tensor, scratch: ScratchBuffers | None, index: int
) -> torch.Tensor:
    """W(t) h(t) + b(t) for each t of ``w``; h: (len(w), in, n) -> (len(w), out, n)."""
    wa, m = op.params_a["weight"], len(w)
    weights = torch.lerp(
        wa,
        op.params_b["weight"],
        w.view(-1, 1, 1),
        out=None if scratch is None else scratch.get(("w", index), (m, *wa.shape)),
    )
    out = None if scratch is None else scratch.get(index, (m, wa.shape[0], h.shape[2]))
    if "bias" not in op.params_a:
        return torch.bmm(weights, h, out=out)
    bias = torch.lerp(op.params_a["bias"], op.params_b["bias"], w.view(-1, 1)).unsqueeze(2)
    return torch.baddbmm(bias, weights, h, out=out)


def _one_t_at_a_time(op: Op, h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``op`` with parameters interpolated at each t of ``w`` applied to ``h[i]`` (convolutions, heads)."""
    return torch.stack(
        [
            op.forward({k: torch.lerp(op.params_a[k], op.params_b[k], float(wi)) for k in op.params_a}, h[i])
            for i, wi in enumerate(w.tolist())
        ]
    )
