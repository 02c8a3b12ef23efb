r"""Models for linear-mode-connectivity experiments.

Every model is an ``nn.Module`` whose trainable layers are standard torch
layers, and knows its *permutation spec*: which parameter axes a permutation
of each hidden layer's units acts on (:meth:`permutation_spec`, plain data,
see :func:`lmctheory.lmc.match`). Permuting hidden units consistently leaves the
function unchanged.

The literature's image benchmarks (:class:`~lmctheory.nn.VGG`, :class:`~lmctheory.nn.ResNet20`, a small
:class:`~lmctheory.nn.ViT`) live in ``_zoo.py``; their specs are derived by tracing.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..utils.validation import check_positive_int
from ._layers import ChannelLinear, LocallyConnected2d

__all__ = [
    "ACTIVATIONS",
    "make_activation",
    "activation_constants",
    "MLP",
    "MeanFieldTwoLayer",
    "LogisticRegression",
    "CNN",
    "LCN",
    "AttentionNet",
]

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "gelu", "identity")


def make_activation(name: str, slope: float = 0.01) -> nn.Module:
    """The activation module by name.

    Parameters
    ----------
    name : {"relu", "leaky_relu", "tanh", "identity", "gelu"}
        The activation (``ACTIVATIONS``).
    slope : float, default 0.01
        Negative slope of ``leaky_relu``.

    Returns
    -------
    torch.nn.Module
        The activation.

    Raises
    ------
    ValueError
        An unknown name.

    Examples
    --------
    >>> from lmctheory.nn import make_activation
    >>> make_activation("leaky_relu", 0.1)
    LeakyReLU(negative_slope=0.1)
    """
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
    r"""Lipschitz constant L and convexity gap :math:`\kappa` of an activation (:ref:`theory-certified-bound`).

    :math:`\kappa` bounds :math:`|\sigma(ta + (1-t)b) - t\sigma(a) - (1-t)\sigma(b)| \le \kappa\, t(1-t)|a - b|`:
    1 for ReLU, 1 - slope for leaky ReLU, 0 for identity, 2L for any L-Lipschitz :math:`\sigma`.

    Parameters
    ----------
    name : str
        The activation.
    slope : float, default 0.01
        Negative slope of ``leaky_relu``.

    Returns
    -------
    tuple of (float, float)
        ``(L, kappa)``.

    Raises
    ------
    ValueError
        An activation without known constants.

    Examples
    --------
    >>> from lmctheory.nn import activation_constants
    >>> activation_constants("relu"), activation_constants("leaky_relu", 0.25), activation_constants("tanh")
    ((1.0, 1.0), (1.0, 0.75), (1.0, 2.0))
    """
    table = {
        "relu": (1.0, 1.0),
        "leaky_relu": (max(1.0, abs(slope)), abs(1.0 - slope)),
        "identity": (1.0, 0.0),
        "tanh": (1.0, 2.0),
        "gelu": (1.13, 2.26),
    }
    if name not in table:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")
    return table[name]


class MLP(nn.Module):
    """Multi-layer perceptron with layer widths ``widths`` (input first, output last).

    Layers ``layers.0 .. layers.{L-1}`` are ``nn.Linear`` (in forward order in ``.modules()``); the
    activation follows every layer but the last. Inputs are flattened. Default torch
    initialisation (Kaiming uniform). ``permutation_spec()`` names the hidden-unit permutations
    ``P_0, P_1, ...``; ``config()`` rebuilds it (:func:`lmctheory.nn.build_model`).

    Parameters
    ----------
    widths : sequence of int
        Input, hidden and output widths (at least two).
    activation : str, default "relu"
        Hidden activation.
    bias : bool, default True
        Biases in every layer.
    slope : float, default 0.01
        Negative slope of ``leaky_relu``.

    Raises
    ------
    ValueError
        Invalid sizes (fewer than two widths, non-positive widths or channels) or an unknown activation.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> model = MLP([784, 512, 512, 10])
    >>> model(torch.zeros(2, 28, 28)).shape, sorted(model.permutation_spec())
    (torch.Size([2, 10]), ['P_0', 'P_1'])
    """

    def __init__(self, widths, activation: str = "relu", bias: bool = True, slope: float = 0.01):
        super().__init__()
        widths = [check_positive_int(w, "widths") for w in widths]
        if len(widths) < 2:
            raise ValueError(f"widths needs at least an input and an output size, got {widths}")
        self.widths, self.activation_name, self.bias, self.slope = list(widths), activation, bias, slope
        self.layers = nn.ModuleList(
            nn.Linear(a, b, bias=bias) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
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
        return {
            "model": "mlp",
            "widths": self.widths,
            "activation": self.activation_name,
            "bias": self.bias,
            "slope": self.slope,
        }


class MeanFieldTwoLayer(nn.Module):
    r"""Mean-field two-layer net :math:`f(x) = \frac1N \sum_i a_i\,\sigma(w_i \cdot x)` (:ref:`theory-mean-field`).

    ``hidden`` is ``nn.Linear(m0, N, bias=False)`` (rows :math:`w_i`), ``out`` is
    ``nn.Linear(N, k, bias=False)`` (columns :math:`a_i`); the 1/N scaling makes the
    neurons interchangeable samples of a law (propagation of chaos).
    Initialisation: :math:`w_i \sim N(0, I/m_0)`, :math:`a_i \sim N(0, 1)` (an O(1) output).

    Parameters
    ----------
    m0 : int
        Input dimension.
    width : int
        N, the number of neurons.
    out : int, default 1
        Output dimension.
    activation : str, default "relu"
        :math:`\sigma`.

    Raises
    ------
    ValueError
        Invalid sizes (fewer than two widths, non-positive widths or channels) or an unknown activation.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MeanFieldTwoLayer
    >>> net = MeanFieldTwoLayer(3, width=1000)
    >>> net(torch.randn(5, 3)).shape
    torch.Size([5, 1])
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
        return {
            "model": "mean_field",
            "m0": self.m0,
            "width": self.width_,
            "out": self.out.out_features,
            "activation": self.activation_name,
        }


class LogisticRegression(nn.Module):
    """Softmax (multinomial logistic) regression: one ``nn.Linear`` layer; loss convex in the parameters.

    It has no hidden units, so its permutation spec is empty and every path between two solutions
    has a loss barrier of zero above the chord (convexity): a control for the barrier code.

    Parameters
    ----------
    in_features : int
        Input dimension (inputs are flattened).
    classes : int
        Number of classes.

    Raises
    ------
    ValueError
        Invalid sizes (fewer than two widths, non-positive widths or channels) or an unknown activation.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import LogisticRegression
    >>> model = LogisticRegression(4, 3)
    >>> model(torch.zeros(2, 4)).shape, model.permutation_spec()
    (torch.Size([2, 3]), {})
    """

    def __init__(self, in_features: int, classes: int):
        super().__init__()
        self.linear = nn.Linear(
            check_positive_int(in_features, "in_features"), check_positive_int(classes, "classes")
        )

    def forward(self, x):
        return self.linear(x.flatten(1))

    def permutation_spec(self) -> dict:
        return {}

    def config(self) -> dict:
        return {
            "model": "logistic",
            "in_features": self.linear.in_features,
            "classes": self.linear.out_features,
        }


class _ConvFamily(nn.Module):
    """Shared structure of :class:`CNN` and :class:`LCN`: conv-like layers (stride 1, same padding),
    activation, a linear head on the flattened maps (:class:`ChannelLinear`). Inputs are reshaped
    to ``input_shape`` (C, H, W)."""

    kind = "conv"

    def __init__(
        self,
        input_shape,
        channels,
        classes: int,
        kernel_size: int = 3,
        activation: str = "relu",
        slope: float = 0.01,
    ):
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(f"input_shape must be (C, H, W), got {input_shape}")
        self.input_shape, self.channels = tuple(int(s) for s in input_shape), [int(c) for c in channels]
        self.kernel_size, self.classes, self.activation_name, self.slope = (
            kernel_size,
            classes,
            activation,
            slope,
        )
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (same padding), got {kernel_size}")
        sizes = [self.input_shape[0], *self.channels]
        self.convs = nn.ModuleList(self._layer(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.head = ChannelLinear(
            self.channels[-1],
            self.input_shape[1] * self.input_shape[2],
            check_positive_int(classes, "classes"),
        )
        self.act = make_activation(activation, slope)

    def forward(self, x):
        x = x.reshape(x.shape[0], *self.input_shape)
        for conv in self.convs:
            x = self.act(conv(x))
        return self.head(x)

    def permutation_spec(self) -> dict:
        spec = {}
        for i in range(len(self.convs)):
            nxt = f"convs.{i + 1}.weight" if i + 1 < len(self.convs) else "head.weight"
            spec[f"P_{i}"] = [(f"convs.{i}.weight", 0), (f"convs.{i}.bias", 0), (nxt, 1)]
        return spec

    def config(self) -> dict:
        return {
            "model": self.kind,
            "input_shape": list(self.input_shape),
            "channels": self.channels,
            "classes": self.classes,
            "kernel_size": self.kernel_size,
            "activation": self.activation_name,
            "slope": self.slope,
        }


class CNN(_ConvFamily):
    """Convolutional net: ``nn.Conv2d`` layers (stride 1, same padding), activation, linear head on
    the flattened maps. Matched per channel (one permutation per hidden conv layer).

    Parameters
    ----------
    input_shape : tuple of (int, int, int)
        (C, H, W).
    channels : sequence of int
        Channels of each conv layer.
    classes : int
        Outputs.
    kernel_size : int, default 3
        Odd kernel side.
    activation : str, default "relu"
        Activation.
    slope : float, default 0.01
        Negative slope of ``leaky_relu``.

    Raises
    ------
    ValueError
        Invalid sizes (fewer than two widths, non-positive widths or channels) or an unknown activation.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import CNN
    >>> model = CNN((1, 8, 8), [4, 4], 10)
    >>> model(torch.zeros(2, 1, 8, 8)).shape, sorted(model.permutation_spec())
    (torch.Size([2, 10]), ['P_0', 'P_1'])
    """

    kind = "cnn"

    def _layer(self, cin, cout):
        return nn.Conv2d(cin, cout, self.kernel_size, padding=self.kernel_size // 2)


class LCN(_ConvFamily):
    """Locally connected net: the CNN's hyper-parameters and receptive fields, no weight sharing.

    :meth:`from_cnn` copies a CNN's kernels to every position: the LCN then computes exactly the
    CNN's function (weight sharing is the only difference).

    Parameters
    ----------
    input_shape, channels, classes, kernel_size, activation, slope
        As :class:`CNN`.

    Raises
    ------
    ValueError
        Invalid sizes (fewer than two widths, non-positive widths or channels) or an unknown activation.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import CNN, LCN
    >>> cnn = CNN((1, 8, 8), [4], 10)
    >>> x = torch.randn(3, 1, 8, 8)
    >>> torch.allclose(LCN.from_cnn(cnn)(x), cnn(x), atol=1e-5)
    True
    """

    kind = "lcn"

    def _layer(self, cin, cout):
        return LocallyConnected2d(cin, cout, self.kernel_size, self.input_shape[1:])

    @classmethod
    def from_cnn(cls, cnn: CNN) -> LCN:
        lcn = cls(cnn.input_shape, cnn.channels, cnn.classes, cnn.kernel_size, cnn.activation_name, cnn.slope)
        lcn = lcn.to(dtype=cnn.head.weight.dtype)
        with torch.no_grad():
            for conv, loc in zip(cnn.convs, lcn.convs, strict=True):
                positions = loc.weight.shape[-1]
                loc.weight.copy_(conv.weight.flatten(2).unsqueeze(-1).expand(-1, -1, -1, positions))
                loc.bias.copy_(conv.bias.unsqueeze(-1).expand(-1, positions))
            lcn.head.load_state_dict(cnn.head.state_dict())
        return lcn


class AttentionNet(nn.Module):
    r"""One self-attention layer over patches, then an MLP head.

    Tokens are non-overlapping ``patch x patch`` patches of a (C, H, W) input (or chunks of
    ``patch`` features of a vector input), embedded to ``d_model`` with a learned positional
    embedding. One head: :math:`h = e + W_o\,\mathrm{softmax}(QK^\top/\sqrt{d})V`, mean over tokens,
    then ``Linear(d_model, hidden) -> activation -> Linear(hidden, classes)``.

    Permutation symmetries (the spec): the residual stream (``P_res``), the query/key dimensions
    jointly (``P_qk``: scores are sums over them), the value dimensions with the output
    projection's columns (``P_v``), and the head's hidden units (``P_hidden``).

    Parameters
    ----------
    input_shape : tuple
        (C, H, W) with H and W divisible by ``patch``, or (D,).
    classes : int
        Outputs.
    patch : int, default 2
        Patch side (or chunk length).
    d_model : int, default 32
        Embedding width.
    hidden : int, default 64
        Hidden units of the head.
    activation : str, default "relu"
        Head activation.

    Raises
    ------
    ValueError
        Invalid sizes (fewer than two widths, non-positive widths or channels) or an unknown activation.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import AttentionNet
    >>> model = AttentionNet((1, 8, 8), 10)
    >>> model(torch.zeros(2, 1, 8, 8)).shape, sorted(model.permutation_spec())
    (torch.Size([2, 10]), ['P_hidden', 'P_qk', 'P_res', 'P_v'])
    """

    def __init__(
        self,
        input_shape,
        classes: int,
        patch: int = 2,
        d_model: int = 32,
        hidden: int = 64,
        activation: str = "relu",
    ):
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        self.patch, self.d_model, self.hidden, self.classes = patch, d_model, hidden, classes
        self.activation_name = activation
        if len(self.input_shape) == 3:
            c, h, w = self.input_shape
            if h % patch or w % patch:
                raise ValueError(f"patch {patch} must divide the image size {h}x{w}")
            self.tokens, token_dim = (h // patch) * (w // patch), c * patch * patch
        elif len(self.input_shape) in (1, 2):
            n = int(np.prod(self.input_shape))
            if n % patch:
                raise ValueError(f"patch {patch} must divide the input size {n}")
            self.tokens, token_dim = n // patch, patch
        else:
            raise ValueError(f"input_shape must be (C, H, W) or (D,), got {input_shape}")
        self.embed = nn.Linear(token_dim, d_model)
        self.pos = nn.Parameter(torch.randn(self.tokens, d_model) * 0.02)
        self.q, self.k, self.v, self.o = (nn.Linear(d_model, d_model) for _ in range(4))
        self.head_hidden = nn.Linear(d_model, hidden)
        self.head_out = nn.Linear(hidden, check_positive_int(classes, "classes"))
        self.act = make_activation(activation)

    def _tokens(self, x):
        n = x.shape[0]
        if len(self.input_shape) == 3:
            x = x.reshape(n, *self.input_shape)
            return nn.functional.unfold(x, self.patch, stride=self.patch).transpose(1, 2)
        return x.reshape(n, self.tokens, self.patch)

    def forward(self, x):
        e = self.embed(self._tokens(x)) + self.pos
        q, k, v = self.q(e), self.k(e), self.v(e)
        att = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(self.d_model), dim=-1)
        h = e + self.o(att @ v)
        return self.head_out(self.act(self.head_hidden(h.mean(1))))

    def permutation_spec(self) -> dict:
        return {
            "P_res": [
                ("embed.weight", 0),
                ("embed.bias", 0),
                ("pos", 1),
                ("q.weight", 1),
                ("k.weight", 1),
                ("v.weight", 1),
                ("o.weight", 0),
                ("o.bias", 0),
                ("head_hidden.weight", 1),
            ],
            "P_qk": [("q.weight", 0), ("q.bias", 0), ("k.weight", 0), ("k.bias", 0)],
            "P_v": [("v.weight", 0), ("v.bias", 0), ("o.weight", 1)],
            "P_hidden": [("head_hidden.weight", 0), ("head_hidden.bias", 0), ("head_out.weight", 1)],
        }

    def config(self) -> dict:
        return {
            "model": "attention",
            "input_shape": list(self.input_shape),
            "classes": self.classes,
            "patch": self.patch,
            "d_model": self.d_model,
            "hidden": self.hidden,
            "activation": self.activation_name,
        }
