r"""Theory to numbers for a given pair of networks (:ref:`theory-certified-bound`).

:func:`certified_barrier_bound` computes, from the two endpoint networks only
(never by running an interpolated network), a bound on the loss barrier
above the chord along :math:`\theta(t) = (1-t)\theta_A + t\theta_B`. For each
input and t, with :math:`h^A, h^B` the layer outputs of A and B, :math:`z` the
pre-activations, :math:`W^t = (1-t)W^A + tW^B`, and the activation L-Lipschitz
with convexity gap :math:`\kappa`:

.. math::
    u_0 = 0, \qquad
    u_l = L\big(|W^t_l|\,u_{l-1} + t(1-t)\,|(W^A_l - W^B_l)(h^A_{l-1} - h^B_{l-1})|\big)
          + \kappa\,t(1-t)\,|z^A_l - z^B_l|

(absolute values entrywise; no activation term at the output layer, where
:math:`u_L` bounds the output defect :math:`|f_t - ((1-t)f_A + t f_B)|`
entrywise). This follows from the exact identity
:math:`W^t h^t - (1-t)W^A h^A - tW^B h^B = W^t e - t(1-t)(W^A - W^B)(h^A - h^B)`
(biases cancel). A loss convex in the outputs then gives, per example,
:math:`\ell(f_t) - [(1-t)\ell(f_A) + t\ell(f_B)] \le \mathrm{Lip}\,\|u_L\|_2` for
cross-entropy (:math:`\mathrm{Lip} = \sqrt2`: the gradient is softmax minus
one-hot) and :math:`\le 2\|c - y\|\,\|u_L\| + \|u_L\|^2` for squared error
(c the chord output). The bound at t is the mean over the data; a measured
barrier above it is a bug.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from ..nn import activation_constants, dense, forward_all, loss_kind, make_activation, network_ops
from ..utils.validation import check_positive_int
from ._barrier import evaluate_path
from ._endpoint_bound import _Activation, _Batch
from ._path import PATH_CONVENTION, default_grid
from ._path_sup import _exact_float64, _mean_bound
from ._rounding import U, gamma, inflate, up

__all__ = ["BarrierBound", "certified_barrier_bound", "layer_report", "measured_and_certified"]


@dataclass
class BarrierBound:
    r"""Certified bound on the loss barrier above the chord, per t and overall (max over ``ts``;
    returned by :func:`certified_barrier_bound`).

    ``upper`` is a maximum over the grid ``ts``: it bounds the barrier at those t, not the supremum
    over [0, 1]. It follows the protocol of every barrier bound (:class:`CertifiedBound`: ``upper``,
    ``lower``, ``metric``, ``definition``); ``lower`` is None (no barrier is attained by construction). ``defect_per_t`` is the certified bound on the mean output defect
    :math:`E_x \lVert f_t(x) - ((1-t) f_A(x) + t f_B(x)) \rVert_2 = E_x \lVert u_L \rVert_2` at each t
    (the quantity Lemma 4.1 propagates).

    Parameters
    ----------
    ts, per_t : ndarray
        The grid and the bound at each t.
    upper : float
        ``max(per_t)``.
    loss, activation : str
        The loss and activation the bound assumed.
    lipschitz, convexity_gap : float
        The activation's constants.
    defect_per_t : ndarray, optional
        Bound on the output defect per t.
    info : dict
        Details.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> _ = torch.manual_seed(0)
    >>> model_a, model_b = MLP([4, 8, 3]), MLP([4, 8, 3])
    >>> x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    >>> from lmctheory.lmc import certified_barrier_bound
    >>> cert = certified_barrier_bound(model_a, model_b, (x, y), ts=[0.0, 0.5, 1.0])
    >>> cert.per_t.shape, bool(cert.upper == cert.per_t.max()), float(cert.per_t[0])
    ((3,), True, 0.0)
    """

    ts: np.ndarray
    per_t: np.ndarray
    upper: float
    loss: str
    activation: str
    lipschitz: float
    convexity_gap: float
    defect_per_t: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    #: the barrier bounded (:data:`lmctheory.lmc.DEFINITIONS`) and of which metric; no attained lower value
    metric = "loss"
    definition = "above_chord"
    lower = None

    def to_dict(self) -> dict:
        """Plain data (JSON)."""
        return {
            "path": PATH_CONVENTION,
            "metric": self.metric,
            "definition": self.definition,
            "ts": self.ts.tolist(),
            "per_t": self.per_t.tolist(),
            "upper": self.upper,
            "lower": self.lower,
            "quantity": "loss barrier above chord: max_t [L(t) - ((1-t) L(0) + t L(1))]",
            "loss": self.loss,
            "activation": self.activation,
            "lipschitz": self.lipschitz,
            "convexity_gap": self.convexity_gap,
            "defect_per_t": None if self.defect_per_t is None else self.defect_per_t.tolist(),
            "defect_quantity": "E_x ||f_t - ((1-t) f_A + t f_B)||_2",
            **self.info,
        }


def certified_barrier_bound(
    model_a, model_b, data, *, ts=None, loss: str = "auto", batch_size: int = 4096
) -> BarrierBound:
    """The certified loss-barrier bound (:ref:`theory-certified-bound`) for the path from ``model_a`` to ``model_b``.

    ``model_b`` should already be aligned to ``model_a`` (the bound holds for
    any pair; alignment is what makes it small). The bound is on the mean loss over the given
    examples, at each t of the grid.

    Parameters
    ----------
    model_a, model_b : torch.nn.Module
        Same architecture, of a kind registered with :func:`lmctheory.nn.register_ops`.
    data : (x, y) tensors
        The examples.
    ts : array_like, optional
        Grid of t (default 25 points).
    loss : {"auto", "cross_entropy", "mse"}
        The loss.
    batch_size : int, default 4096
        Examples per batch (memory).

    Returns
    -------
    BarrierBound
        Per-t and overall bound.

    Raises
    ------
    ValueError
        Different architectures or an unknown loss.
    NotImplementedError
        A model kind without registered operators.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> _ = torch.manual_seed(0)
    >>> model_a, model_b = MLP([4, 8, 3]), MLP([4, 8, 3])
    >>> x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    >>> from lmctheory.lmc import evaluate_path
    >>> from lmctheory.lmc import certified_barrier_bound
    >>> measured = evaluate_path(model_a, model_b, (x, y)).barrier("above_chord")
    >>> bool(certified_barrier_bound(model_a, model_b, (x, y)).upper >= measured)
    True
    """
    ts = default_grid() if ts is None else np.asarray(ts, dtype=np.float64)
    if ts.ndim != 1 or ts.size == 0 or not np.isfinite(ts).all() or (ts < 0).any() or (ts > 1).any():
        raise ValueError(f"ts must be a non-empty 1-D array of t in [0, 1], got {ts}")
    network = network_ops(model_a, model_b)  # also checks that the architectures agree
    ops, act_name, slope, reshape = network
    lip_act, kappa = activation_constants(act_name, slope)
    batch_size = check_positive_int(batch_size, "batch_size")
    x_all, y_all = (torch.as_tensor(v) for v in data)
    kind = loss_kind(y_all, loss)
    if len(x_all) == 0 or len(x_all) != len(y_all):
        raise ValueError(
            f"data: {len(x_all)} inputs and {len(y_all)} labels (need the same, non-zero number)"
        )
    x_all = reshape(_exact_float64(x_all, "x").cpu())
    y_all = _exact_float64(y_all, "y").cpu() if kind == "mse" else y_all.long().cpu()
    act = _Activation(act_name, slope)
    # where the defect vanishes identically the bound is exactly 0 (not the rounding bounds' subnormal dust): at
    # t = 0 and t = 1, between identical endpoints, and for a single operator (outputs linear in the parameters)
    identical = all(torch.equal(op.params_a[name], op.params_b[name]) for op in ops for name in op.params_a)
    exact_zero = [identical or len(ops) == 1 or t in (0.0, 1.0) for t in ts.tolist()]
    totals = [torch.zeros(0, dtype=torch.float64) for _ in ts]
    defects = [torch.zeros(0, dtype=torch.float64) for _ in ts]
    with torch.no_grad():
        for start in range(0, len(x_all), batch_size):
            x, y = x_all[start : start + batch_size], y_all[start : start + batch_size]
            batch = _Batch(network, x, y, kind, act)
            for k, t in enumerate(ts.tolist()):
                if exact_zero[k]:
                    per_example = norm = torch.zeros(len(x), dtype=torch.float64)
                else:
                    per_example, norm = _baseline_at(batch, float(t), lip_act, kappa)
                totals[k] = torch.cat([totals[k], per_example])
                defects[k] = torch.cat([defects[k], norm])

    def mean(values, zero):
        return 0.0 if zero else float(_mean_bound(values, True).nan_to_num(nan=math.inf))

    per_t = np.array([mean(v, z) for v, z in zip(totals, exact_zero, strict=True)])
    return BarrierBound(
        ts,
        per_t,
        float(per_t.max()),
        kind,
        act_name,
        lip_act,
        kappa,
        np.array([mean(v, z) for v, z in zip(defects, exact_zero, strict=True)]),
        {"n_examples": int(len(x_all))},
    )


def _baseline_at(batch, t: float, lip: float, kappa: float):
    r"""Per example at one t: the baseline bound (the defect recursion of :ref:`theory-certified-bound`
    with the loss's Lipschitz step) and :math:`\lVert u_L \rVert_2`, every rounding bounded (the endpoint
    quantities are rigorous enclosures, every sum of nonnegative terms is inflated)."""
    w = t * (1 - t) * (1 + 4 * U)  # (the products round: raised)
    u = None
    for i, op in enumerate(batch.ops):
        if i == 0:
            defect = None
        else:
            mixed = (1 - t) * op.params_a["weight"] + t * op.params_b["weight"]
            # |W^t| <= |fl(W^t)| + 4u (|W^A| + |W^B|)
            absolute = mixed.abs() + 4 * U * (op.params_a["weight"].abs() + op.params_b["weight"].abs())
            x_lo, x_hi = batch.cross[i]
            cross = torch.maximum(x_lo.abs(), x_hi.abs())
            fan = batch.fans[i]
            defect = inflate(op.linear({"weight": absolute}, u), fan + 2) + w * cross
        if op.activation_after:
            (za_lo, za_hi), (zb_lo, zb_hi) = batch.z[i]
            gap = torch.maximum(za_hi - zb_lo, zb_hi - za_lo).clamp(min=0)  # >= |z^A - z^B|
            u = kappa * w * gap if defect is None else lip * defect + kappa * w * gap
        else:
            u = torch.zeros_like(batch.z[i][0][0]) if defect is None else defect
        u = inflate(u, 6)
    norm = up(u.flatten(1).norm(dim=1) * (1 + gamma(u[0].numel() + 2)), 2)
    if batch.kind == "cross_entropy":
        return up(norm * (math.sqrt(2.0) * (1 + 4 * U)), 2), norm
    low, high = batch.h_lines[-1]
    target = batch.y.view(norm.shape[0], -1)
    residual = torch.maximum((low.at(t) - target).abs(), (high.at(t) - target).abs())
    residual = up(residual.flatten(1).norm(dim=1) * (1 + gamma(residual[0].numel() + 2)), 2)
    return up(2 * residual * norm + norm.square(), 4), norm


def layer_report(model_a, model_b, inputs) -> list[dict]:
    r"""Per hidden layer of an aligned pair: matching costs, dimension and predicted exponent.

    * ``weight_sq_distance``: :math:`\mathrm{mean}_i |\tilde w^A_i - \tilde w^B_i|^2` over incoming
      parameters (weights and bias) as aligned; ``optimal_w2_sq``: the exact :math:`W_2^2` between the
      two neuron clouds (optimal matching; equal to the former when the alignment is optimal for it);
    * ``preactivation_gap``: :math:`\mathrm{mean}_i E_x (z^A_i - z^B_i)^2`, the covariance-weighted
      matching cost;
    * ``approximate_dimension``: participation ratio of A's :math:`W^\top W` (Ferbach's naive definition);
    * ``predicted_exponent``: -1/D for the matching error vs width, D = fan-in (+1 with bias).

    Parameters
    ----------
    model_a, model_b : torch.nn.Module
        An MLP pair (B aligned to A).
    inputs : torch.Tensor
        Inputs for the pre-activation gap.

    Returns
    -------
    list of dict
        One row per hidden layer.

    Raises
    ------
    NotImplementedError
        A model that is not a chain of linear layers.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> _ = torch.manual_seed(0)
    >>> model_a, model_b = MLP([4, 8, 3]), MLP([4, 8, 3])
    >>> x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    >>> from lmctheory.lmc import layer_report
    >>> row = layer_report(model_a, model_b, x)[0]
    >>> row["layer"], row["width"], row["predicted_exponent"]
    (1, 8, -0.2)
    """
    from ..dimension import participation_ratio_of_matrix
    from ..ot import optimal_matching

    ops, act_name, slope, reshape = network_ops(model_a, model_b)
    if any(op.linear is not dense for op in ops):
        raise NotImplementedError(
            "layer_report covers dense layers (MLP, mean-field); use align/dimension "
            "tools per channel for convolutional models"
        )
    act = make_activation(act_name, slope)
    x = reshape(inputs.detach().double())
    _, za = forward_all(ops, act, x, "a")
    _, zb = forward_all(ops, act, x, "b")
    sa = [(op.params_a["weight"], op.params_a.get("bias")) for op in ops]
    sb = [(op.params_b["weight"], op.params_b.get("bias")) for op in ops]
    rows = []
    for i in range(len(sa) - 1):
        (Wa, ba), (Wb, bb) = sa[i], sb[i]
        ca = torch.cat([Wa, ba[:, None]], 1) if ba is not None else Wa
        cb = torch.cat([Wb, bb[:, None]], 1) if bb is not None else Wb
        ca_np, cb_np = ca.cpu().numpy(), cb.cpu().numpy()
        rows.append(
            {
                "layer": i + 1,
                "width": int(Wa.shape[0]),
                "fan_in": int(Wa.shape[1]),
                "weight_sq_distance": float(((ca - cb) ** 2).sum(1).mean()),
                "optimal_w2_sq": float(optimal_matching(ca_np, cb_np, 2)[1]),
                "preactivation_gap": float(((za[i] - zb[i]) ** 2).mean()),
                "approximate_dimension": participation_ratio_of_matrix((Wa.T @ Wa).cpu().numpy()),
                "predicted_exponent": -1.0 / ca.shape[1],
            }
        )
    return rows


def measured_and_certified(model_a, model_b, data, *, ts=None) -> dict:
    """Measured loss barrier above chord next to the certified bound, on the same grid (and the certified
    bound on the mean output defect per t, ``BarrierBound.defect_per_t``).

    Parameters
    ----------
    model_a, model_b : torch.nn.Module
        B aligned to A.
    data : (x, y) tensors
        The examples.
    ts : array_like, optional
        Grid of t.

    Returns
    -------
    dict
        ``measured``, ``bound``, ``ratio`` (bound / measured), ``holds`` (bound >= measured, a
        check of the implementation), ``slack`` and ``defect_per_t``.

    Raises
    ------
    ValueError, NotImplementedError
        As :func:`certified_barrier_bound`.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> _ = torch.manual_seed(0)
    >>> model_a, model_b = MLP([4, 8, 3]), MLP([4, 8, 3])
    >>> x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    >>> from lmctheory.lmc import measured_and_certified
    >>> measured_and_certified(model_a, model_b, (x, y))["holds"]
    True
    """
    ts = default_grid() if ts is None else np.asarray(ts, dtype=np.float64)
    path = evaluate_path(model_a, model_b, data, ts=ts, metrics=("loss",))
    bound = certified_barrier_bound(model_a, model_b, data, ts=ts)
    measured = path.barrier("above_chord")
    # the measured path runs in the models' dtype: allow its rounding (a few ulps of the loss)
    eps = torch.finfo(next(model_a.parameters()).dtype).eps
    slack = 16 * eps * max(1.0, float(np.abs(path.values["loss"]).max()))
    return {
        "measured": measured,
        "upper": bound.upper,
        "ratio": bound.upper / measured if measured > 0 else None,
        "holds": measured <= bound.upper + slack,
        "slack": slack,
        "defect_per_t": bound.defect_per_t.tolist(),
    }
