"""Networks as sequences of linear operators (dense, convolution, locally connected, flatten head).

Shared by the certified barrier bound (:mod:`lmctheory.predict`), which needs the entrywise
absolute value of each operator (``op.linear(|W|, u)``: every matrix entry of these operators is
a single weight), and by path evaluation (:mod:`lmctheory.barrier`, :func:`path_outputs`), which
uses that the first operator's output is affine in its parameters for a fixed input.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .models import CNN, LCN, MLP, ChannelLinear, LogisticRegression, MeanFieldTwoLayer

__all__ = ["Op", "dense", "network_ops", "forward_all", "supports", "path_outputs"]


def supports(model) -> bool:
    """Whether ``model`` is a sequence of linear operators and activations known here."""
    return isinstance(model, (MLP, MeanFieldTwoLayer, LogisticRegression, CNN, LCN))


@dataclass
class Op:
    """One linear operator of a network: ``linear(weights, x)`` (no bias), parameters of A and B,
    whether the activation follows. The entrywise absolute value of the operator's matrix is
    ``linear(|weights|, .)`` for dense, convolutional, locally connected and pooling layers (each
    matrix entry is a single weight)."""

    linear: object
    params_a: dict
    params_b: dict
    activation_after: bool

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
    return {n: p.detach().to(dtype) * scale if n == "weight" and scale != 1.0 else p.detach().to(dtype)
            for n, p in module.named_parameters()}


def dense(p, x):
    return x @ p["weight"].T


def network_ops(model_a, model_b, dtype=torch.float64):
    """The operator sequence of a supported model pair, the activation name, slope and input reshape."""
    pairs = []
    if isinstance(model_a, MLP):
        n = len(model_a.layers)
        for i, (la, lb) in enumerate(zip(model_a.layers, model_b.layers, strict=True)):
            pairs.append(Op(dense, _params(la, dtype=dtype), _params(lb, dtype=dtype), i < n - 1))
        return pairs, model_a.activation_name, model_a.slope, lambda x: x.flatten(1)
    if isinstance(model_a, MeanFieldTwoLayer):
        w = 1.0 / model_a.width_
        pairs = [Op(dense, _params(model_a.hidden_layer, dtype=dtype), _params(model_b.hidden_layer, dtype=dtype), True),
                 Op(dense, _params(model_a.out, w, dtype), _params(model_b.out, w, dtype), False)]
        return pairs, model_a.activation_name, 0.01, lambda x: x.flatten(1)
    if isinstance(model_a, LogisticRegression):
        return [Op(dense, _params(model_a.linear, dtype=dtype), _params(model_b.linear, dtype=dtype), False)], "identity", 0.01, \
            lambda x: x.flatten(1)
    if isinstance(model_a, (CNN, LCN)):
        for ca, cb in zip(model_a.convs, model_b.convs, strict=True):
            if isinstance(model_a, CNN):
                def conv(p, x, pad=ca.padding):
                    return torch.nn.functional.conv2d(x, p["weight"], padding=pad)
            else:
                def conv(p, x, mod=ca):
                    return mod.apply_weights(x, p["weight"])
            pairs.append(Op(conv, _params(ca, dtype=dtype), _params(cb, dtype=dtype), True))
        pairs.append(Op(lambda p, x: ChannelLinear.apply_weights(x, p["weight"]), _params(model_a.head, dtype=dtype),
                         _params(model_b.head, dtype=dtype), False))
        shape = model_a.input_shape
        return pairs, model_a.activation_name, model_a.slope, lambda x: x.reshape(x.shape[0], *shape)
    raise NotImplementedError(
        f"certified bounds are implemented for MLP, MeanFieldTwoLayer, LogisticRegression, CNN and LCN, not "
        f"{type(model_a).__name__} (attention layers are not covered by the linear-layer recursion)")


def forward_all(ops, act, x, which: str):
    """Pre-activations z and outputs h of every operator (h_0 = x)."""
    hs, zs = [x], []
    for op in ops:
        z = op.forward(op.params_a if which == "a" else op.params_b, hs[-1])
        zs.append(z)
        hs.append(act(z) if op.activation_after else z)
    return hs, zs


# ------------------------------------------------------------ all networks of a path at once

#: Most values of t evaluated together, and most hidden activations held by one group (4 MB in
#: float32): larger groups gained nothing on CPU, smaller ones pay per-call overheads (measured; README).
_PATH_GROUP = 16
_PATH_GROUP_ELEMENTS = 2**20
#: A last dense layer with at most this many outputs runs as one GEMM on [W_A; W_B] for a whole group
#: of t (twice its multiply-adds, but one wide GEMM instead of a batch of skinny ones: faster, measured).
_STACKED_LAST_OUTPUTS = 32


def _activate_(z: torch.Tensor, name: str, slope: float) -> torch.Tensor:
    """The activation applied in place where PyTorch has an in-place form (same values as
    :func:`~lmctheory.nn.models.make_activation`)."""
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
    T times. The remaining operators run on groups of up to 16 values of t at once: a dense layer as
    one batched GEMM with the group's interpolated weights; a last dense layer with few outputs
    :math:`k` as one GEMM :math:`h\,[W_A; W_B]^T` whose two halves are interpolated
    (:math:`W(t) h = (1 - t) W_A h + t W_B h`); convolutions one t at a time. A group holds at most
    ``min(max_elements, 2**20)`` hidden activations (at least one t).

    ``network`` is :func:`network_ops`' result (in the dtype of ``x``); ``t`` a 1-D tensor.
    """
    ops, act_name, slope, reshape = network
    xin = reshape(x)
    first = ops[0]
    z_a, z_b = first.forward(first.params_a, xin), first.forward(first.params_b, xin)
    n = xin.shape[0]
    widest = max([z_a[0].numel()] + [op.params_a["weight"].shape[0] for op in ops[1:] if op.linear is dense])
    cap = max(1, min(_PATH_GROUP, min(max_elements, _PATH_GROUP_ELEMENTS) // max(1, n * widest)))
    outs, start, scratch = [], 0, _Scratch.for_thread(z_a)
    for size in _group_sizes(t.numel(), cap):
        w = t[start:start + size]
        start += size
        h = torch.lerp(z_a, z_b, w.view(-1, *([1] * z_a.ndim)),
                       out=scratch.get(0, (size, *z_a.shape)) if len(ops) > 1 else None)
        if first.activation_after:
            h = _activate_(h, act_name, slope)
        for index, op in enumerate(ops[1:], start=1):
            h = _interpolated_op(op, h, w, None if index == len(ops) - 1 else scratch, index)
            if op.activation_after:
                h = _activate_(h, act_name, slope)
        outs.append(h)
    return outs[0] if len(outs) == 1 else torch.cat(outs)


class _Scratch:
    """Buffers for the hidden activations and interpolated weights of the groups of t, kept between
    calls by each thread (up to ``KEEP`` elements each). Large tensors allocated afresh for every
    group or call cost page faults (glibc serves them with mmap): measured up to 1.5x of a path's
    time on this VM."""

    KEEP = 2**21  # elements per kept buffer (8 MB in float32); larger ones live for one call
    _local = threading.local()

    def __init__(self, like: torch.Tensor):
        self.like, self.buffers = like, {}

    @classmethod
    def for_thread(cls, like: torch.Tensor) -> _Scratch:
        per_thread = cls._local.__dict__.setdefault("by_kind", {})
        return per_thread.setdefault((like.dtype, like.device), cls(like))

    def get(self, key, shape) -> torch.Tensor:
        numel = math.prod(shape)
        buffer = self.buffers.get(key)
        if buffer is None or buffer.numel() < numel:
            buffer = self.like.new_empty(numel)
            if numel <= self.KEEP:
                self.buffers[key] = buffer
        return buffer[:numel].view(shape)


def _interpolated_op(op: Op, h: torch.Tensor, w: torch.Tensor, scratch: _Scratch | None, index: int) -> torch.Tensor:
    """``op`` with parameters interpolated at each t of ``w`` applied to ``h[i]`` (h: (len(w), n, ...)).
    ``scratch`` is None for the last operator: its outputs are returned, so they get their own memory."""
    (wa, wb), bias = (op.params_a["weight"], op.params_b["weight"]), None
    if op.linear is not dense:
        return torch.stack([op.forward({k: torch.lerp(op.params_a[k], op.params_b[k], float(wi)) for k in op.params_a},
                                       h[i]) for i, wi in enumerate(w.tolist())])
    if "bias" in op.params_a:
        bias = torch.lerp(op.params_a["bias"], op.params_b["bias"], w.view(-1, 1)).unsqueeze(1)
    k, m = wa.shape[0], len(w)
    if scratch is None and k <= _STACKED_LAST_OUTPUTS:  # the group's outputs are fresh; `both` is not kept
        flat = h.reshape(-1, h.shape[-1])
        both = torch.mm(flat, torch.cat([wa, wb]).T, out=_Scratch.for_thread(h).get(("both", index),
                                                                                   (flat.shape[0], 2 * k)))
        both = both.view(*h.shape[:-1], 2 * k)
        out = torch.lerp(both[..., :k], both[..., k:], w.view(-1, 1, 1))
        return out if bias is None else out.add_(bias)
    weights = torch.lerp(wa, wb, w.view(-1, 1, 1), out=None if scratch is None else scratch.get(("w", index),
                                                                                                (m, *wa.shape)))
    out = None if scratch is None else scratch.get(index, (m, h.shape[1], k))
    if bias is None:
        return torch.bmm(h, weights.transpose(1, 2), out=out)
    return torch.baddbmm(bias, h, weights.transpose(1, 2), out=out)
