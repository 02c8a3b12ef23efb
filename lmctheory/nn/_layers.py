"""Layers of the built-in models that torch lacks: locally connected convolutions and a channel-wise head.

Both are leaves (they import only lmctheory's argument checks); the permutation tracer
(:func:`lmctheory.nn.trace_permutation_spec`) knows them through rules registered like a user's.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..utils.validation import check_positive_int

__all__ = ["LocallyConnected2d", "ChannelLinear"]


class LocallyConnected2d(nn.Module):
    """Convolution receptive fields without weight sharing: one kernel per output position.

    ``weight`` has shape (out_channels, in_channels, k*k, H_out*W_out) (in-channels on axis 1,
    as for ``nn.Conv2d``), ``bias`` (out_channels, H_out*W_out). Stride 1, zero padding k//2.
    Each position's kernel is initialised like an ``nn.Conv2d`` kernel with the same fan-in.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels.
    kernel_size : int
        Odd kernel side k.
    in_hw : tuple of (int, int)
        Input height and width.

    Raises
    ------
    ValueError, TypeError
        Channels or sizes that are not positive integers, an even kernel size.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import LocallyConnected2d
    >>> layer = LocallyConnected2d(1, 2, 3, (4, 4))
    >>> layer(torch.zeros(5, 1, 4, 4)).shape, tuple(layer.weight.shape)
    (torch.Size([5, 2, 4, 4]), (2, 1, 9, 16))
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, in_hw: tuple[int, int]):
        super().__init__()
        in_channels = check_positive_int(in_channels, "in_channels")
        out_channels = check_positive_int(out_channels, "out_channels")
        kernel_size = check_positive_int(kernel_size, "kernel_size")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (same padding), got {kernel_size}")
        if len(tuple(in_hw)) != 2:
            raise ValueError(f"in_hw must be (height, width), got {in_hw!r}")
        in_hw = tuple(check_positive_int(h, "in_hw") for h in in_hw)
        self.k, self.pad, self.in_hw = kernel_size, kernel_size // 2, in_hw
        self.out_hw = tuple(h + 2 * self.pad - kernel_size + 1 for h in in_hw)
        positions = self.out_hw[0] * self.out_hw[1]
        self.weight = nn.Parameter(
            torch.empty(out_channels, in_channels, kernel_size * kernel_size, positions)
        )
        self.bias = nn.Parameter(torch.empty(out_channels, positions))
        bound = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)  # nn.Conv2d's default init bound
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return self.apply_weights(x, self.weight, self.bias)

    def apply_weights(self, x, weight, bias=None):
        n = x.shape[0]
        patches = nn.functional.unfold(x, self.k, padding=self.pad)  # (N, C*k*k, L)
        patches = patches.view(n, weight.shape[1], weight.shape[2], -1)
        out = torch.einsum("nckl,ockl->nol", patches, weight)
        if bias is not None:
            out = out + bias
        return out.view(n, weight.shape[0], *self.out_hw)


class ChannelLinear(nn.Module):
    """Linear head on flattened feature maps, with weight (out, channels, positions): a permutation
    of the channels acts on axis 1 alone.

    Parameters
    ----------
    channels : int
        Feature-map channels.
    positions : int
        Positions per channel (H * W).
    out_features : int
        Outputs.

    Raises
    ------
    ValueError, TypeError
        A size that is not a positive integer.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import ChannelLinear
    >>> ChannelLinear(2, 16, 3)(torch.zeros(5, 2, 4, 4)).shape
    torch.Size([5, 3])
    """

    def __init__(self, channels: int, positions: int, out_features: int):
        super().__init__()
        channels = check_positive_int(channels, "channels")
        positions = check_positive_int(positions, "positions")
        out_features = check_positive_int(out_features, "out_features")
        self.weight = nn.Parameter(torch.empty(out_features, channels, positions))
        self.bias = nn.Parameter(torch.empty(out_features))
        bound = 1.0 / math.sqrt(channels * positions)  # nn.Linear's default init bound
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return self.apply_weights(x, self.weight) + self.bias

    @staticmethod
    def apply_weights(x, weight):
        return torch.einsum("ncp,kcp->nk", x.flatten(2), weight)
