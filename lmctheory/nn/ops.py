"""Networks as sequences of linear operators (dense, convolution, locally connected, flatten head).

Shared by the certified barrier bound (:mod:`lmctheory.predict`), which needs the entrywise
absolute value of each operator (``op.linear(|W|, u)``: every matrix entry of these operators is
a single weight), and by path evaluation (:mod:`lmctheory.barrier`), which uses that the first
operator's output is affine in its parameters for a fixed input.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .models import CNN, LCN, MLP, ChannelLinear, LogisticRegression, MeanFieldTwoLayer

__all__ = ["Op", "dense", "network_ops", "forward_all", "supports"]


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
    return {n: p.detach().to(dtype) * (scale if n == "weight" else 1.0) for n, p in module.named_parameters()}


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
