r"""Models for linear-mode-connectivity experiments.

Every model is an ``nn.Module`` whose trainable layers are standard torch
layers, and knows its *permutation spec*: which parameter axes a permutation
of each hidden layer's units acts on (:meth:`permutation_spec`, plain data,
see :mod:`lmctheory.align`). Permuting hidden units consistently leaves the
function unchanged.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._validation import check_positive_int

__all__ = ["ACTIVATIONS", "make_activation", "activation_constants", "MLP", "MeanFieldTwoLayer", "LogisticRegression"]

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "gelu", "identity")


def make_activation(name: str, slope: float = 0.01) -> nn.Module:
    """The activation module by name (``leaky_relu`` uses ``slope``)."""
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(slope)
    if name == "tanh":
        return nn.Tanh()
    if name == "gelu":
        return nn.GELU()
    if name == "identity":
        return nn.Identity()
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")


def activation_constants(name: str, slope: float = 0.01) -> tuple[float, float]:
    """(Lipschitz constant L, convexity gap kappa) of an activation (THEORY §4).

    kappa bounds |s(ta + (1-t)b) - t s(a) - (1-t) s(b)| <= kappa t(1-t)|a - b|:
    1 for ReLU, 1 - slope for leaky ReLU, 0 for identity, 2L for any L-Lipschitz s.
    """
    table = {"relu": (1.0, 1.0), "leaky_relu": (max(1.0, abs(slope)), abs(1.0 - slope)),
             "identity": (1.0, 0.0), "tanh": (1.0, 2.0), "gelu": (1.13, 2.26)}
    if name not in table:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")
    return table[name]


class MLP(nn.Module):
    """Multi-layer perceptron ``widths[0] -> ... -> widths[-1]``.

    ``MLP(widths=[784, 512, 512, 512, 10], activation="relu", bias=True)``:
    layers ``layers.0 .. layers.{L-1}`` are ``nn.Linear`` (in forward order in
    ``.modules()``), the activation follows every layer but the last. Inputs
    are flattened. Default torch initialisation (Kaiming uniform).
    """

    def __init__(self, widths, activation: str = "relu", bias: bool = True, slope: float = 0.01):
        super().__init__()
        widths = [check_positive_int(w, "widths") for w in widths]
        if len(widths) < 2:
            raise ValueError(f"widths needs at least an input and an output size, got {widths}")
        self.widths, self.activation_name, self.bias, self.slope = list(widths), activation, bias, slope
        self.layers = nn.ModuleList(nn.Linear(a, b, bias=bias) for a, b in zip(widths[:-1], widths[1:],
                                                                               strict=True))
        self.act = make_activation(activation, slope)

    def forward(self, x):
        x = x.flatten(1)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = self.act(x)
        return x

    def hidden(self, x) -> list[torch.Tensor]:
        """Post-activation outputs of every hidden layer."""
        out, x = [], x.flatten(1)
        for layer in self.layers[:-1]:
            x = self.act(layer(x))
            out.append(x)
        return out

    def permutation_spec(self) -> dict:
        """``{perm name: [(param name, axis), ...]}``: P_l permutes hidden layer l's units."""
        spec = {}
        for i in range(len(self.layers) - 1):
            axes = [(f"layers.{i}.weight", 0), (f"layers.{i + 1}.weight", 1)]
            if self.bias:
                axes.insert(1, (f"layers.{i}.bias", 0))
            spec[f"P_{i}"] = axes
        return spec

    def config(self) -> dict:
        return {"model": "mlp", "widths": self.widths, "activation": self.activation_name, "bias": self.bias,
                "slope": self.slope}


class MeanFieldTwoLayer(nn.Module):
    r"""Mean-field two-layer net :math:`f(x) = \frac1N \sum_i a_i\,\sigma(w_i \cdot x)`.

    ``hidden`` is ``nn.Linear(m0, N, bias=False)`` (rows w_i), ``out`` is
    ``nn.Linear(N, k, bias=False)`` (columns a_i); the 1/N scaling makes the
    neurons interchangeable samples of a law (propagation of chaos).
    Initialisation: w_i ~ N(0, I/m0), a_i ~ N(0, 1) (an O(1) output).
    """

    def __init__(self, m0: int, width: int, out: int = 1, activation: str = "relu"):
        super().__init__()
        self.m0, self.width_ = check_positive_int(m0, "m0"), check_positive_int(width, "width")
        self.activation_name = activation
        self.hidden_layer = nn.Linear(m0, width, bias=False)
        self.out = nn.Linear(width, check_positive_int(out, "out"), bias=False)
        self.act = make_activation(activation)
        with torch.no_grad():
            self.hidden_layer.weight.normal_(0.0, 1.0 / math.sqrt(m0))
            self.out.weight.normal_(0.0, 1.0)

    def forward(self, x):
        return self.out(self.act(self.hidden_layer(x.flatten(1)))) / self.width_

    def permutation_spec(self) -> dict:
        return {"P_0": [("hidden_layer.weight", 0), ("out.weight", 1)]}

    def config(self) -> dict:
        return {"model": "mean_field", "m0": self.m0, "width": self.width_, "out": self.out.out_features,
                "activation": self.activation_name}


class LogisticRegression(nn.Module):
    """Softmax (multinomial logistic) regression: one ``nn.Linear`` layer; loss convex in the parameters."""

    def __init__(self, in_features: int, classes: int):
        super().__init__()
        self.linear = nn.Linear(check_positive_int(in_features, "in_features"), check_positive_int(classes, "classes"))

    def forward(self, x):
        return self.linear(x.flatten(1))

    def permutation_spec(self) -> dict:
        return {}

    def config(self) -> dict:
        return {"model": "logistic", "in_features": self.linear.in_features, "classes": self.linear.out_features}
