"""Normalisation statistics of interpolated networks: interpolation of any model, and batch-norm
statistics recomputed on data ("reset BN").

Interpolating two networks with batch norm also interpolates their running statistics, which are
not the statistics of the interpolated network: its activations have a smaller variance (averaging
imperfectly matched units shrinks them), so its barrier is overstated. Recomputing the statistics of
each interpolated network on training data before evaluating it is the standard correction (Jordan
et al. 2022, "REPAIR", Section 3; Ainsworth et al. 2023, Git Re-Basin, Appendix).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ._validation import check_positive_int

__all__ = ["interpolate", "reset_batchnorm"]

_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def interpolate(model_a: nn.Module, model_b: nn.Module, t: float) -> nn.Module:
    r"""A new module with every parameter and floating buffer at :math:`(1 - t)\,\theta_A + t\,\theta_B`.

    Integer buffers (batch norm's ``num_batches_tracked``) are taken from A.

    Parameters
    ----------
    model_a, model_b : torch.nn.Module
        Two networks of the same architecture (B aligned to A beforehand).
    t : float
        Position on the path, in [0, 1] (0 is A).

    Returns
    -------
    torch.nn.Module
        A deep copy of A with the interpolated state.

    Raises
    ------
    ValueError
        t outside [0, 1] or not finite, or state dicts with different names or shapes.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn.models import MLP
    >>> from lmctheory.renormalize import interpolate
    >>> a, b = MLP([2, 3, 1]), MLP([2, 3, 1])
    >>> mid = interpolate(a, b, 0.5)
    >>> bool(torch.allclose(mid.layers[0].weight, (a.layers[0].weight + b.layers[0].weight) / 2))
    True
    """
    t = float(t)
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"t must be in [0, 1], got {t}")
    state_a, state_b = model_a.state_dict(), model_b.state_dict()
    if list(state_a) != list(state_b) or any(state_a[k].shape != state_b[k].shape for k in state_a):
        raise ValueError("model_a and model_b must have the same architecture (state dict names and shapes)")
    out = copy.deepcopy(model_a)
    out.load_state_dict(
        {
            k: torch.lerp(v, state_b[k].to(v.dtype), t) if v.is_floating_point() else v.clone()
            for k, v in state_a.items()
        }
    )
    return out


def reset_batchnorm(model: nn.Module, inputs: torch.Tensor, *, batch_size: int = 512) -> nn.Module:
    """Recompute every batch-norm layer's running mean and variance on ``inputs`` (in place; returned).

    Layer by layer in forward order (one pass over ``inputs`` per layer), each layer's statistics
    become the exact mean and (unbiased) variance over all of ``inputs`` of what it receives in eval
    mode with the earlier layers already reset: the statistics the network normalises with when it is
    evaluated. (The common recipe instead runs the data in training mode, where the earlier layers
    normalise with per-batch statistics; with large batches the two agree.) The model is left in eval
    mode. Without batch-norm layers the model is returned unchanged.

    Parameters
    ----------
    model : torch.nn.Module
        The network (e.g. from :func:`interpolate`).
    inputs : torch.Tensor
        Inputs (training data), shape (n, ...).
    batch_size : int, default 512
        Inputs per forward pass; the statistics are accumulated exactly over all batches.

    Returns
    -------
    torch.nn.Module
        ``model``, with reset statistics, in eval mode.

    Raises
    ------
    ValueError
        Empty or non-finite inputs, or a bad ``batch_size``.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from lmctheory.renormalize import reset_batchnorm
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    >>> x = torch.randn(100, 3)
    >>> _ = reset_batchnorm(net, x)
    >>> bool(torch.allclose(net[1].running_mean, net[0](x).mean(0), atol=1e-5))
    True
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    inputs = torch.as_tensor(inputs)
    if inputs.shape[0] == 0:
        raise ValueError("inputs is empty")
    if inputs.is_floating_point() and not torch.isfinite(inputs).all():
        raise ValueError("inputs contains non-finite values")
    norms = [m for m in model.modules() if isinstance(m, _NORMS) and m.track_running_stats]
    if not norms:
        return model.eval()
    sums = {}

    def hook(module, args):
        (x,) = args
        dims = [0, *range(2, x.ndim)]
        x = x.detach().double()
        count, total, squares = sums.get(module, (0, 0.0, 0.0))
        sums[module] = (
            count + x.numel() // x.shape[1],
            total + x.sum(dims),
            squares + (x * x).sum(dims),
        )

    handles = [m.register_forward_pre_hook(hook) for m in norms]
    model.eval()  # every layer normalises with its current statistics while the next ones are measured
    try:
        with torch.no_grad():
            for (
                m
            ) in norms:  # layer by layer: each layer's statistics are measured with the earlier ones reset
                sums.clear()
                for start in range(0, inputs.shape[0], batch_size):
                    model(inputs[start : start + batch_size])
                count, total, squares = sums[m]
                mean = total / count
                var = (squares / count - mean * mean).clamp(min=0.0) * count / max(count - 1, 1)
                m.running_mean.copy_(mean.to(m.running_mean.dtype))
                m.running_var.copy_(var.to(m.running_var.dtype))
    finally:
        for h in handles:
            h.remove()
    return model
