"""Normalisation statistics of interpolated networks: interpolation of any model, batch-norm
statistics recomputed on data ("reset BN"), and REPAIR.

Interpolating two networks with batch norm also interpolates their running statistics, which are
not the statistics of the interpolated network: its activations have a smaller variance (averaging
imperfectly matched units shrinks them), so its barrier is overstated. Recomputing the statistics of
each interpolated network on training data before evaluating it is the standard correction (Jordan
et al. 2022, "REPAIR", Section 3; Ainsworth et al. 2023, Git Re-Basin, Appendix). REPAIR (Jordan et
al. 2022, Section 4) goes further: it rescales each channel of the interpolated network so that its
mean and standard deviation on data are the interpolation of the endpoints' (the variance collapse
of averaged units undone), for networks with or without batch norm.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ._validation import check_positive_int

__all__ = ["interpolate", "repair", "reset_batchnorm"]

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
    # layer by layer: each layer's statistics are measured with the earlier ones reset
    for m in norms:
        ((mean, var, count),) = _channel_moments(model, [m], inputs, batch_size, of="input")
        m.running_mean.copy_(mean.to(m.running_mean.dtype))
        m.running_var.copy_((var * count / max(count - 1, 1)).to(m.running_var.dtype))
    return model.eval()


def _channel_moments(model, modules, inputs, batch_size, *, of: str = "output"):
    """Per module: ``(mean, variance, count)`` per channel (axis 1) of its input or output (``of``) over
    all ``inputs``, accumulated exactly across batches in float64, with ``model`` in eval mode (every
    layer normalises with its current statistics). The variance is the biased one."""
    sums = {}

    def accumulate(module, x):
        dims = [0, *range(2, x.ndim)]
        x = x.detach().double()
        count, total, squares = sums.get(module, (0, 0.0, 0.0))
        sums[module] = (count + x.numel() // x.shape[1], total + x.sum(dims), squares + (x * x).sum(dims))

    if of == "input":
        handles = [m.register_forward_pre_hook(lambda m, args: accumulate(m, args[0])) for m in modules]
    else:
        handles = [m.register_forward_hook(lambda m, args, out: accumulate(m, out)) for m in modules]
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, inputs.shape[0], batch_size):
                model(inputs[start : start + batch_size])
    finally:
        for h in handles:
            h.remove()
    out = []
    for m in modules:
        count, total, squares = sums[m]
        mean = total / count
        out.append((mean, (squares / count - mean * mean).clamp(min=0.0), count))
    return out


def _default_sites(model) -> list[nn.Module]:
    """Where REPAIR corrects: every batch-norm layer if there are any, else every linear or convolutional
    layer but the last (the output)."""
    norms = [m for m in model.modules() if isinstance(m, _NORMS)]
    if norms:
        return norms
    layers = [m for m in model.modules() if isinstance(m, nn.Linear | nn.Conv1d | nn.Conv2d)]
    return layers[:-1]


def repair(
    model_a: nn.Module, model_b: nn.Module, t: float, inputs: torch.Tensor, *, batch_size: int = 512
) -> nn.Module:
    r"""The interpolated network :math:`\theta(t)` with REPAIR's per-channel correction (Jordan et al. 2022).

    At each correction site (every batch-norm layer, or without batch norm every linear and
    convolutional layer but the output layer; in forward order), the output's per-channel mean
    :math:`\mu` and standard deviation :math:`\sigma` on ``inputs`` are measured in the interpolated
    network (earlier sites already corrected) and in the two endpoints, and a forward hook maps each
    channel to :math:`(y - \mu)\,\sigma_t / \sigma + \mu_t` with
    :math:`\mu_t = (1-t)\mu_A + t\mu_B`, :math:`\sigma_t = (1-t)\sigma_A + t\sigma_B`. Batch-norm
    statistics are reset on ``inputs`` first (:func:`reset_batchnorm`). Channels with zero spread
    (dead units) are shifted, not scaled.

    Parameters
    ----------
    model_a, model_b : torch.nn.Module
        The endpoints (B aligned to A), same architecture.
    t : float
        Position on the path, in [0, 1].
    inputs : torch.Tensor
        Data for the statistics (training inputs).
    batch_size : int, default 512
        Inputs per forward pass.

    Returns
    -------
    torch.nn.Module
        A new module (eval mode) with the corrections installed as forward hooks.

    Raises
    ------
    ValueError
        As :func:`interpolate` and :func:`reset_batchnorm`.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from lmctheory.renormalize import repair
    >>> _ = torch.manual_seed(0)
    >>> a = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> b = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> x = torch.randn(256, 3)
    >>> mid = repair(a, b, 0.5, x)
    >>> with torch.no_grad():
    ...     h, ha, hb = mid[0](x), a[0](x), b[0](x)
    >>> bool(torch.allclose(h.std(0, unbiased=False), (ha.std(0, unbiased=False) + hb.std(0, unbiased=False)) / 2, atol=1e-4))
    True
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    model = interpolate(model_a, model_b, t)
    t = float(t)
    inputs = torch.as_tensor(inputs)
    reset_batchnorm(model, inputs, batch_size=batch_size)
    sites = _default_sites(model)
    names = {m: n for n, m in model.named_modules()}

    def at_sites(end):
        """(mean, std) per channel at every site of an endpoint (it does not change: one pass)."""
        modules = dict(end.named_modules())
        found = _channel_moments(end, [modules[names[m]] for m in sites], inputs, batch_size)
        return [(mean, var.sqrt()) for mean, var, _ in found]

    for site, (mu_a, sd_a), (mu_b, sd_b) in zip(sites, at_sites(model_a), at_sites(model_b), strict=True):
        # in forward order: each site measured with the earlier ones corrected
        ((mu, var, _),) = _channel_moments(model, [site], inputs, batch_size)
        sd = var.sqrt()
        target_mu, target_sd = (1 - t) * mu_a + t * mu_b, (1 - t) * sd_a + t * sd_b
        scale = torch.where(sd > 0, target_sd / torch.where(sd > 0, sd, 1.0), torch.ones_like(sd))
        shift = target_mu - mu * scale

        def correct(module, args, out, scale=scale, shift=shift):
            shape = [1, -1, *([1] * (out.ndim - 2))]
            return out * scale.to(out.dtype).view(shape) + shift.to(out.dtype).view(shape)

        site.register_forward_hook(correct)
    return model.eval()
