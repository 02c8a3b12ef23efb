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

from ..nn import loss_kind, per_example_loss
from ..utils.validation import check_positive_int
from ._path import PATH_CONVENTION, PathResult, default_grid

__all__ = ["RENORMALIZATIONS", "interpolate", "renormalized_path", "repair", "reset_batchnorm"]

#: what :func:`renormalized_path` does to each interpolated network before evaluating it
RENORMALIZATIONS = {
    "none": "theta(t) as interpolated, running statistics included",
    "reset_bn": "batch-norm statistics of theta(t) recomputed on the given inputs (reset_batchnorm)",
    "repair": "REPAIR: each channel rescaled to the interpolated endpoint mean and std on the inputs (repair)",
}

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
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.lmc import interpolate
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

    Layer by layer in forward order, each layer's statistics become the exact mean and (unbiased)
    variance over all of ``inputs`` of what it receives in eval mode with the earlier layers already
    reset (one pass when ``inputs`` fit in one batch, else one pass per layer): the statistics the network normalises with when it is
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
    >>> from lmctheory.lmc import reset_batchnorm
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

    def fit(m, mean, var, count):
        m.running_mean.copy_(mean.to(m.running_mean.dtype))
        m.running_var.copy_((var * count / max(count - 1, 1)).to(m.running_var.dtype))

    _fit_in_order(model, norms, inputs, batch_size, fit, of="input")
    return model.eval()


def _moments(x: torch.Tensor):
    """``(count, sum, sum of squares)`` per channel (axis 1) of one batch, in float64."""
    dims = [0, *range(2, x.ndim)]
    x = x.detach().double()
    return x.numel() // x.shape[1], x.sum(dims), (x * x).sum(dims)


def _finish(count, total, squares):
    """``(mean, biased variance, count)`` from accumulated moments."""
    mean = total / count
    return mean, (squares / count - mean * mean).clamp(min=0.0), count


def _fit_in_order(model, sites, inputs, batch_size, fit, *, of: str):
    """Visit ``sites`` in forward order: ``fit(site, mean, var, count)`` gets the per-channel moments of
    the site's input or output (``of``) over all ``inputs``, measured in eval mode with the earlier sites
    already fitted, and changes the site (its statistics) or returns a function applied to its outputs
    from then on (a correction, installed as a forward hook).

    When ``inputs`` fit in one batch, one pass does every site (each fitted on the spot, before what
    follows it runs); otherwise, or when a site runs more than once per forward (a shared module), one
    pass per site, the moments accumulated over every batch and call."""
    corrections = {}

    def install(site, result):
        if result is not None:
            corrections[site] = site.register_forward_hook(lambda m, args, out: result(out))
        return result

    if inputs.shape[0] <= batch_size:
        calls = dict.fromkeys(sites, 0)
        saved = copy.deepcopy(model.state_dict())  # to start again from it if a site runs twice

        def visit(site, x):
            calls[site] += 1
            return None if calls[site] > 1 else install(site, fit(site, *_finish(*_moments(x))))

        if of == "input":
            handles = [m.register_forward_pre_hook(lambda m, args: visit(m, args[0]) and None) for m in sites]
        else:
            handles = [
                m.register_forward_hook(lambda m, args, out: _apply(visit(m, out), out)) for m in sites
            ]
        model.eval()
        try:
            with torch.no_grad():
                model(inputs)
        finally:
            for h in handles:
                h.remove()
        if all(c == 1 for c in calls.values()):
            return
        for handle in corrections.values():  # a site ran twice: start again, one pass per site
            handle.remove()
        corrections.clear()
        model.load_state_dict(saved)
    for site in sites:
        ((mean, var, count),) = _channel_moments(model, [site], inputs, batch_size, of=of)
        install(site, fit(site, mean, var, count))


def _apply(correction, out):
    """The output corrected on the spot (one-pass fitting), or None to leave it."""
    return None if correction is None else correction(out)


def _channel_moments(model, modules, inputs, batch_size, *, of: str = "output"):
    """Per module: ``(mean, variance, count)`` per channel (axis 1) of its input or output (``of``) over
    all ``inputs``, accumulated exactly across batches in float64, with ``model`` in eval mode (every
    layer normalises with its current statistics). The variance is the biased one."""
    sums = {}

    def accumulate(module, x):
        count, total, squares = sums.get(module, (0, 0.0, 0.0))
        n, s1, s2 = _moments(x)
        sums[module] = (count + n, total + s1, squares + s2)

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
    return [_finish(*sums[m]) for m in modules]


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
    >>> from lmctheory.lmc import repair
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
    inputs = torch.as_tensor(inputs)
    return _repair(
        model_a, model_b, t, inputs, batch_size, _endpoint_moments(model_a, model_b, inputs, batch_size)
    )


def _endpoint_moments(model_a, model_b, inputs, batch_size) -> dict:
    """REPAIR's site name -> ((mean, std) of A, (mean, std) of B) per channel: one pass per endpoint, shared
    by every t of a path (the endpoints do not change)."""
    sites = set(_default_sites(model_a))
    names = [n for n, m in model_a.named_modules() if m in sites]

    def at_sites(end):
        modules = dict(end.named_modules())
        found = _channel_moments(end, [modules[n] for n in names], inputs, batch_size)
        return [(mean, var.sqrt()) for mean, var, _ in found]

    return dict(zip(names, zip(at_sites(model_a), at_sites(model_b), strict=True), strict=True))


def _repair(model_a, model_b, t, inputs, batch_size, endpoints) -> nn.Module:
    """:func:`repair` with the endpoints' statistics given (:func:`_endpoint_moments`)."""
    model = interpolate(model_a, model_b, t)
    t = float(t)
    reset_batchnorm(model, inputs, batch_size=batch_size)
    sites = _default_sites(model)
    names = {m: n for n, m in model.named_modules()}
    targets = {}
    for site in sites:
        (mu_a, sd_a), (mu_b, sd_b) = endpoints[names[site]]
        targets[site] = ((1 - t) * mu_a + t * mu_b, (1 - t) * sd_a + t * sd_b)

    def fit(site, mu, var, count):
        """Each site measured with the earlier ones corrected (forward order)."""
        sd = var.sqrt()
        target_mu, target_sd = targets[site]
        scale = torch.where(sd > 0, target_sd / torch.where(sd > 0, sd, 1.0), torch.ones_like(sd))
        shift = target_mu - mu * scale

        def correct(out):
            shape = [1, -1, *([1] * (out.ndim - 2))]
            return out * scale.to(out.dtype).view(shape) + shift.to(out.dtype).view(shape)

        return correct

    _fit_in_order(model, sites, inputs, batch_size, fit, of="output")
    return model.eval()


def renormalized_path(
    model_a: nn.Module,
    model_b: nn.Module,
    data,
    *,
    ts=None,
    renormalize: str,
    inputs: torch.Tensor,
    loss: str = "auto",
    batch_size: int = 512,
    split: str = "given",
) -> PathResult:
    r"""Loss and error along the path with each interpolated network renormalised first.

    For every t of ``ts``: :math:`\theta(t) = (1 - t)\theta_A + t\theta_B` (:func:`interpolate`), then
    ``renormalize`` (a key of :data:`RENORMALIZATIONS`: ``"reset_bn"`` recomputes its batch-norm
    statistics on ``inputs``, ``"repair"`` applies :func:`repair`, ``"none"`` leaves it), then the mean
    loss and error on ``data`` in eval mode. The barriers of the result are those of
    :func:`lmctheory.lmc.evaluate_path` (grid maxima).

    Parameters
    ----------
    model_a, model_b : torch.nn.Module
        The endpoints (B aligned to A), same architecture, any module.
    data : (x, y) tensors
        Where the loss and error are measured (e.g. the test split).
    ts : array-like, default 25 points (:func:`default_grid`)
        Values of t in [0, 1].
    renormalize : {"none", "reset_bn", "repair"}
        The correction.
    inputs : torch.Tensor
        Data for the statistics (training inputs; not ``data``'s, to keep the test split unseen).
    loss : {"auto", "cross_entropy", "mse"}
        The loss (``"auto"``: cross-entropy for integer labels, then the error is reported too).
    batch_size : int, default 512
        Examples per forward pass.
    split : str
        Name of ``data`` for the record.

    Returns
    -------
    lmctheory.lmc.PathResult
        ``values["loss"]`` (and ``values["error"]`` for class labels) per t; ``info["renormalize"]``.

    Raises
    ------
    ValueError
        An unknown ``renormalize``, t outside [0, 1], or as :func:`interpolate`.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from lmctheory.lmc import renormalized_path
    >>> _ = torch.manual_seed(0)
    >>> net = lambda: nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    >>> a, b = net(), net()
    >>> x, y = torch.randn(64, 3), torch.randint(0, 2, (64,))
    >>> path = renormalized_path(a, b, (x, y), ts=[0.0, 0.5, 1.0], renormalize="reset_bn", inputs=x)
    >>> path.values["loss"].shape, path.info["renormalize"]
    ((3,), 'reset_bn')
    """
    import numpy as np

    if renormalize not in RENORMALIZATIONS:
        raise ValueError(f"renormalize must be one of {sorted(RENORMALIZATIONS)}, got {renormalize!r}")
    batch_size = check_positive_int(batch_size, "batch_size")
    ts = default_grid() if ts is None else np.asarray(ts, dtype=float).ravel()
    x, y = (torch.as_tensor(v) for v in data)
    kind = loss_kind(y, loss)
    inputs = torch.as_tensor(inputs)
    endpoints = _endpoint_moments(model_a, model_b, inputs, batch_size) if renormalize == "repair" else None
    losses, errors = [], []
    for t in ts:
        if renormalize == "repair":
            model = _repair(model_a, model_b, t, inputs, batch_size, endpoints)
        else:
            model = interpolate(model_a, model_b, t)
            if renormalize == "reset_bn":
                reset_batchnorm(model, inputs, batch_size=batch_size)
        model.eval()
        total, wrong = 0.0, 0
        with torch.no_grad():
            for start in range(0, x.shape[0], batch_size):
                out = model(x[start : start + batch_size].to(next(model.parameters()).dtype))
                target = y[start : start + batch_size]
                total += float(per_example_loss(kind, out[None], target).sum())
                if kind == "cross_entropy":
                    wrong += int((out.argmax(-1) != target).sum())
        losses.append(total / x.shape[0])
        errors.append(wrong / x.shape[0])
    values = {"loss": np.array(losses)}
    if kind == "cross_entropy":
        values["error"] = np.array(errors)
    return PathResult(
        ts,
        values,
        split=split,
        n_examples=int(x.shape[0]),
        loss=kind,
        info={
            "renormalize": renormalize,
            "renormalization": RENORMALIZATIONS[renormalize],
            "path": PATH_CONVENTION,
        },
    )
