"""The LMC literature's small image benchmarks: VGG and ResNet-20, CIFAR-style, with a width multiplier.

Git Re-Basin (Ainsworth et al. 2023) and REPAIR (Jordan et al. 2022) align VGG-11 and ResNet-20 trained
on CIFAR-10 and measure their barriers with and without renormalisation. These are those
architectures, written as plain ``nn.Module`` networks with no hand-written permutation spec: their
``permutation_spec()`` is derived by tracing (:func:`lmctheory.nn.trace_permutation_spec`), so
they exercise the path any user's own network takes.

* :class:`VGG`: 3 x 3 convolutions (padding 1), each followed by an optional normalisation and ReLU,
  2 x 2 max pooling at every ``"M"`` of the configuration, global average pooling and one linear
  classifier (the CIFAR variant of Simonyan & Zisserman 2015 used by both papers).
* :class:`ResNet20`: He et al. (2016)'s CIFAR ResNet with 3 stages of 3 basic blocks (16, 32, 64
  channels times ``width``; stride 2 at the first block of stages 2 and 3), shortcuts by a 1 x 1
  convolution and normalisation where the shape changes (option B), global average pooling and a
  linear classifier.

* :class:`ViT`: a small vision transformer (Dosovitskiy et al. 2021): non-overlapping patches embedded
  by a strided convolution, a class token and learned positional embeddings, pre-norm blocks of
  multi-head self-attention (separate query, key and value projections) and a GELU MLP, each added to
  the residual stream, a final layer norm and a linear head on the class token.

For the convolutional networks, ``norm`` is ``"bn"`` (batch norm), ``"ln"`` (layer norm over each example's (C, H, W), written
``nn.GroupNorm(1, C)``: per-channel affine parameters, so permuting channels commutes with it) or
``"none"``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..utils.validation import check_positive_int, check_positive_real

__all__ = ["VGG", "VGG_CONFIGS", "ResNet20", "ViT"]

#: channels per convolution ("M": 2 x 2 max pooling), before the width multiplier
VGG_CONFIGS = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}
_NORMS = ("bn", "ln", "none")


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "bn":
        return nn.BatchNorm2d(channels)
    if kind == "ln":
        return nn.GroupNorm(1, channels)
    return nn.Identity()


def _check_common(input_shape, classes, width, norm) -> tuple[tuple[int, int, int], int, float, str]:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (C, H, W) with positive sizes, got {input_shape!r}")
    if norm not in _NORMS:
        raise ValueError(f"norm must be one of {_NORMS}, got {norm!r}")
    return shape, check_positive_int(classes, "classes"), check_positive_real(width, "width"), norm


def _channels(base: int, width: float) -> int:
    return max(1, round(base * width))


class _Traced(nn.Module):
    """Flat inputs are reshaped to ``input_shape``; ``permutation_spec()`` by tracing on a zero batch."""

    input_shape: tuple

    def _image(self, x):
        return x.reshape(x.shape[0], *self.input_shape)  # flat inputs too (the built-in datasets' layout)

    def permutation_spec(self):
        from ._tracing import trace_permutation_spec

        return trace_permutation_spec(self, torch.zeros(2, *self.input_shape))


class _ImageNet(_Traced):
    """A convolutional body, global average pooling and a linear classifier."""

    def _head(self, channels: int, classes: int) -> None:
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, classes)

    def _body(self, x):
        raise NotImplementedError

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self._body(self._image(x))), 1))


class VGG(_ImageNet):
    """VGG for small images (see the module docstring).

    Parameters
    ----------
    input_shape : tuple, default (3, 32, 32)
        (C, H, W); H and W must survive the configuration's poolings (32 for VGG-11's five).
    classes : int, default 10
        Outputs.
    config : str or list, default "vgg11"
        A key of :data:`VGG_CONFIGS` or a list of channel counts and ``"M"``.
    width : float, default 1.0
        Multiplier of every channel count (0.25: the narrow VGG-11 of 16..128 channels).
    norm : {"bn", "ln", "none"}, default "bn"
        Normalisation after each convolution.

    Raises
    ------
    ValueError
        An unknown configuration or normalisation, non-positive sizes, or an input the poolings shrink
        below 1 x 1.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import VGG
    >>> model = VGG(width=0.25)
    >>> model(torch.zeros(2, 3, 32, 32)).shape, len(model.permutation_spec())
    (torch.Size([2, 10]), 8)
    """

    def __init__(
        self, input_shape=(3, 32, 32), classes: int = 10, config="vgg11", width: float = 1.0, norm="bn"
    ):
        super().__init__()
        self.input_shape, classes, width, norm = _check_common(input_shape, classes, width, norm)
        if isinstance(config, str):
            if config not in VGG_CONFIGS:
                raise ValueError(f"config must be one of {sorted(VGG_CONFIGS)} or a list, got {config!r}")
            config = VGG_CONFIGS[config]
        layers, c_in, side = [], self.input_shape[0], min(self.input_shape[1:])
        for item in config:
            if item == "M":
                side //= 2
                if side < 1:
                    raise ValueError(
                        f"input_shape {self.input_shape} is too small for the configuration's poolings"
                    )
                layers.append(nn.MaxPool2d(2))
            else:
                c_out = _channels(check_positive_int(item, "config channels"), width)
                layers += [nn.Conv2d(c_in, c_out, 3, padding=1), _norm(norm, c_out), nn.ReLU()]
                c_in = c_out
        self.features = nn.Sequential(*layers)
        self._head(c_in, classes)

    def _body(self, x):
        return self.features(x)


class _BasicBlock(nn.Module):
    """conv3x3-norm-ReLU-conv3x3-norm plus the shortcut, then ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int, norm: str):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.norm1 = _norm(norm, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.norm2 = _norm(norm, c_out)
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), _norm(norm, c_out)
            )

    def forward(self, x):
        h = torch.relu(self.norm1(self.conv1(x)))
        return torch.relu(self.norm2(self.conv2(h)) + self.shortcut(x))


class ResNet20(_ImageNet):
    """ResNet-20 for small images (see the module docstring).

    Parameters
    ----------
    input_shape : tuple, default (3, 32, 32)
        (C, H, W).
    classes : int, default 10
        Outputs.
    width : float, default 1.0
        Multiplier of the stage widths 16, 32, 64 (Git Re-Basin's "ResNet-20 x 4" is ``width=4``).
    norm : {"bn", "ln", "none"}, default "bn"
        Normalisation after each convolution.
    blocks : int, default 3
        Basic blocks per stage (3: 20 layers; 6n + 2 layers in general).

    Raises
    ------
    ValueError
        An unknown normalisation or non-positive sizes.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import ResNet20
    >>> model = ResNet20(width=1)
    >>> model(torch.zeros(2, 3, 32, 32)).shape, sorted(model.permutation_spec().sizes.values())
    (torch.Size([2, 10]), [16, 16, 16, 16, 32, 32, 32, 32, 64, 64, 64, 64])
    """

    def __init__(
        self, input_shape=(3, 32, 32), classes: int = 10, width: float = 1.0, norm="bn", blocks: int = 3
    ):
        super().__init__()
        self.input_shape, classes, width, norm = _check_common(input_shape, classes, width, norm)
        blocks = check_positive_int(blocks, "blocks")
        widths = [_channels(c, width) for c in (16, 32, 64)]
        self.stem = nn.Sequential(
            nn.Conv2d(self.input_shape[0], widths[0], 3, padding=1, bias=False),
            _norm(norm, widths[0]),
            nn.ReLU(),
        )
        stages, c_in = [], widths[0]
        for i, c_out in enumerate(widths):
            for j in range(blocks):
                stages.append(_BasicBlock(c_in, c_out, 2 if i > 0 and j == 0 else 1, norm))
                c_in = c_out
        self.blocks = nn.Sequential(*stages)
        self._head(c_in, classes)

    def _body(self, x):
        return self.blocks(self.stem(x))


class _SelfAttention(nn.Module):
    """Multi-head self-attention with separate query, key and value projections:
    :math:`\\mathrm{softmax}(Q_h K_h^\\top / \\sqrt{d_h}) V_h` per head, heads concatenated, then ``out``."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.q, self.k, self.v, self.out = (nn.Linear(dim, dim) for _ in range(4))

    def _split(self, t):
        n, tokens, _ = t.shape
        return t.reshape(n, tokens, self.heads, self.head_dim).transpose(1, 2)  # (N, heads, T, d_h)

    def forward(self, x):
        q, k, v = self._split(self.q(x)), self._split(self.k(x)), self._split(self.v(x))
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(self.head_dim), dim=-1)
        h = (att @ v).transpose(1, 2)
        return self.out(h.reshape(h.shape[0], h.shape[1], -1))


class _EncoderBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp: int):
        super().__init__()
        self.norm1, self.attention = nn.LayerNorm(dim), _SelfAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Linear(mlp, dim))

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(_Traced):
    """A small vision transformer (see the module docstring).

    Permutation symmetries, found by tracing: the residual stream (embedding, class token, positional
    embedding, every block's output projections, layer norms and input columns), per block the order of
    the heads (shared by query, key and value), the query/key dimensions within a head, the value
    dimensions within a head (with the output projection's columns laid out as (heads, head dim)), and
    the MLP's hidden units.

    Parameters
    ----------
    input_shape : tuple, default (3, 32, 32)
        (C, H, W) with H and W divisible by ``patch``.
    classes : int, default 10
        Outputs.
    patch : int, default 4
        Patch side.
    dim : int, default 64
        Embedding width; divisible by ``heads``.
    depth : int, default 2
        Encoder blocks.
    heads : int, default 4
        Attention heads.
    mlp : int, default 128
        Hidden units of each block's MLP.

    Raises
    ------
    ValueError
        Non-positive sizes, a patch that does not divide the image, or ``dim`` not divisible by ``heads``.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import ViT
    >>> model = ViT((1, 8, 8), classes=3, patch=4, dim=8, depth=1, heads=2, mlp=16)
    >>> model(torch.zeros(2, 1, 8, 8)).shape, sorted(model.permutation_spec().sizes.values())
    (torch.Size([2, 3]), [2, 4, 4, 8, 16])
    """

    def __init__(
        self,
        input_shape=(3, 32, 32),
        classes: int = 10,
        patch: int = 4,
        dim: int = 64,
        depth: int = 2,
        heads: int = 4,
        mlp: int = 128,
    ):
        super().__init__()
        self.input_shape, classes, _, _ = _check_common(input_shape, classes, 1.0, "none")
        patch, dim, depth, heads, mlp = (
            check_positive_int(v, n)
            for v, n in ((patch, "patch"), (dim, "dim"), (depth, "depth"), (heads, "heads"), (mlp, "mlp"))
        )
        c, h, w = self.input_shape
        if h % patch or w % patch:
            raise ValueError(f"patch {patch} must divide the image size {h}x{w}")
        if dim % heads:
            raise ValueError(f"dim {dim} must be divisible by heads {heads}")
        self.embed = nn.Conv2d(c, dim, patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, (h // patch) * (w // patch) + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*(_EncoderBlock(dim, heads, mlp) for _ in range(depth)))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        tokens = self.embed(self._image(x)).flatten(2).transpose(1, 2)  # (N, patches, dim)
        tokens = torch.cat([self.cls_token.expand(tokens.shape[0], -1, -1), tokens], dim=1) + self.pos
        return self.head(self.norm(self.blocks(tokens))[:, 0])
