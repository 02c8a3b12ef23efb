r"""A barrier bound from the two endpoint networks, sharpened by what they reveal on the data
(:ref:`theory-endpoint-bound`).

:func:`endpoint_barrier_bound` bounds the loss barrier above the chord at each t of a grid from
quantities of the endpoint networks A and B on the examples (their pre-activations, layer outputs
and final outputs) and from the interpolated weights :math:`W^t = (1 - t)W^A + tW^B`, propagating
only *magnitudes* of the output defect through the layers: it never evaluates the interpolated
network's signed activations. With :math:`c_l = (1-t)z^A_l + t z^B_l` the chord of the
pre-activations and :math:`e_l = h^t_l - ((1-t)h^A_l + t h^B_l)` the defect of layer l's output,

.. math::
    z^t_l - c_l = W^t_l e_{l-1} - t(1-t)(W^A_l - W^B_l)(h^A_{l-1} - h^B_{l-1}) =: q_l,
    \qquad
    e_l = \underbrace{\sigma(c_l + q_l) - \sigma(c_l)}_{\text{propagated}}
          + \underbrace{\sigma(c_l) - (1-t)\sigma(z^A_l) - t\sigma(z^B_l)}_{\gamma_l\ \text{(exact)}} .

Given :math:`|e_{l-1}| \le u_{l-1}` entrywise and :math:`\lVert e_{l-1} \rVert_2 \le \nu_{l-1}`,
:math:`q_l` lies in :math:`-t(1-t)\Delta W_l \Delta h_{l-1} \pm \rho_l` with
:math:`\rho_l = \min(|W^t_l| u_{l-1}, \lVert (W^t_l)_{j,:} \rVert_2 \nu_{l-1})` (the second for dense
layers), and because :math:`\sigma` is nondecreasing the propagated term lies between
:math:`\sigma(c_l + q^-_l) - \sigma(c_l)` and :math:`\sigma(c_l + q^+_l) - \sigma(c_l)`: a ReLU unit
that stays inactive over the whole interval contributes nothing, and :math:`\gamma_l` vanishes for a
unit with the same sign at both endpoints. Then :math:`u_l` is the larger magnitude of the two ends
plus :math:`\gamma_l`, and :math:`\nu_l = \min(\lVert u_l \rVert_2, L(\lVert W^t_l \rVert_2 \nu_{l-1} +
t(1-t)\lVert \Delta W_l \Delta h_{l-1} \rVert_2) + \lVert \gamma_l \rVert_2)`, with
:math:`\lVert W^t \rVert_2 \le (1-t)\lVert W^A \rVert_2 + t\lVert W^B \rVert_2`. At the output the
defect lies in a box around the chord output :math:`c_L`, and the loss is maximised over that box
exactly (cross-entropy: the true class at its lowest, the others at their highest; squared error:
each output at the box end farthest from the target), so the loss's per-example sensitivity (the
softmax probabilities it actually reaches) replaces a global Lipschitz constant:

.. math:: B(t) = E_x\Big[\max_{e \in \text{box}} \ell(c_L + e) - (1-t)\ell(f_A) - t\ell(f_B)\Big]
          \ \ge\ L(\theta(t)) - [(1-t)L(\theta_A) + tL(\theta_B)].

The bound is rigorous at each t of the grid (the maximum over the grid is not a bound on the
supremum over [0, 1]: :func:`lmctheory.path_sup.certified_path_sup` encloses that).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ._validation import check_positive_int
from .barrier import PATH_CONVENTION, _loss_kind, per_example_loss
from .nn.models import activation_constants, make_activation
from .nn.ops import dense, forward_all, network_ops
from .path_sup import box_loss_max, softmax_range

__all__ = ["EndpointBound", "endpoint_barrier_bound"]

#: activations the recursion covers (nondecreasing); the piecewise-linear ones have their kink at 0
_MONOTONE = ("relu", "leaky_relu", "tanh", "identity")


@dataclass
class EndpointBound:
    r"""Endpoint bound on the loss barrier above the chord over every t in [0, 1] (returned by
    :func:`endpoint_barrier_bound`).

    ``bound`` is the largest of the per-sub-interval bounds, so it bounds
    :math:`\sup_{t \in [0, 1]} [L(\theta(t)) - ((1-t)L(\theta_A) + tL(\theta_B))]`.

    Parameters
    ----------
    edges : ndarray
        Sub-interval ends, ``0 = edges[0] < ... < edges[-1] = 1``.
    per_interval : ndarray
        Bound on each sub-interval ``[edges[k], edges[k + 1]]``.
    bound : float
        ``max(per_interval)``.
    loss, activation : str
        The loss and the activation.
    defect_per_interval : ndarray
        Bound on :math:`E_x \lVert e_L \rVert_2` on each sub-interval (the output defect).
    info : dict
        Details (examples, timing).

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.endpoint_bound import EndpointBound
    >>> b = EndpointBound(np.array([0.0, 0.5, 1.0]), np.array([0.1, 0.3]), 0.3, "mse", "relu", np.zeros(2))
    >>> b.to_dict()["bound"]
    0.3
    """

    edges: np.ndarray
    per_interval: np.ndarray
    bound: float
    loss: str
    activation: str
    defect_per_interval: np.ndarray
    info: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain data (JSON)."""
        return {
            "path": PATH_CONVENTION,
            "quantity": "sup over t in [0, 1] of L(t) - ((1 - t) L(0) + t L(1)), bounded per sub-interval",
            "edges": self.edges.tolist(),
            "per_interval": self.per_interval.tolist(),
            "bound": self.bound,
            "loss": self.loss,
            "activation": self.activation,
            "defect_per_interval": self.defect_per_interval.tolist(),
            **self.info,
        }


def _signed_range(values, lo, hi):
    """The range of ``-s * values`` over s in [lo, hi] (lo, hi >= 0), elementwise."""
    return torch.minimum(-lo * values, -hi * values), torch.maximum(-lo * values, -hi * values)


def _ends(values_0, values_1):
    """Elementwise range of an affine function of t over [t0, t1], from its values at the ends."""
    return torch.minimum(values_0, values_1), torch.maximum(values_0, values_1)


class _Recursion:
    """Everything of the recursion that does not depend on t, for one batch of examples."""

    def __init__(self, network, x, y, kind):
        ops, name, slope, _ = network
        self.ops, self.name, self.slope, self.kind, self.y = ops, name, slope, kind, y
        self.act = make_activation(name, slope)
        self.lip, self.kappa = activation_constants(name, slope)
        self.ha, self.za = forward_all(ops, self.act, x, "a")
        self.hb, self.zb = forward_all(ops, self.act, x, "b")
        self.loss_a, self.loss_b = (per_example_loss(kind, h[-1][None], y)[0] for h in (self.ha, self.hb))
        self.dw = [{k: op.params_b[k] - op.params_a[k] for k in op.params_a if k != "bias"} for op in ops]
        # Delta W_l Delta h_{l-1} = (W^A - W^B)(h^A - h^B): zero for the first operator (Delta x = 0)
        self.cross = [
            op.linear(self.dw[i], self.hb[i] - self.ha[i]) if i > 0 else None for i, op in enumerate(ops)
        ]
        self.norms = [
            tuple(float(torch.linalg.matrix_norm(p["weight"], 2)) for p in (op.params_a, op.params_b))
            if op.linear is dense
            else None
            for op in ops
        ]
        piecewise = name in ("relu", "leaky_relu")
        # units where sigma is affine between z^A and z^B (same side of the kink): gamma = 0 for every t
        self.affine = [
            ((za >= 0) == (zb >= 0)) if piecewise else None for za, zb in zip(self.za, self.zb, strict=True)
        ]
        self.convex = name in ("relu", "identity") or (name == "leaky_relu" and slope <= 1)
        self.act_a = [self.act(z) for z in self.za]
        self.act_b = [self.act(z) for z in self.zb]
        self.gap = [self.kappa * (za - zb).abs() for za, zb in zip(self.za, self.zb, strict=True)]

    def _gamma(self, i, t0, t1, c_lo, c_hi, w_hi):
        """Range of gamma_l(t) = sigma(c_l(t)) - ((1-t) sigma(z^A) + t sigma(z^B)) over [t0, t1]."""
        act, sa, sb = self.act, self.act_a[i], self.act_b[i]
        lin_lo, lin_hi = _ends(torch.lerp(sa, sb, t0), torch.lerp(sa, sb, t1))
        cap = w_hi * self.gap[i]  # |gamma| <= kappa t(1-t) |z^A - z^B|
        lo = torch.maximum(act(c_lo) - lin_hi, -cap)
        hi = torch.minimum(act(c_hi) - lin_lo, cap)
        if self.convex:  # sigma convex: sigma(chord) <= chord of sigma
            hi = torch.minimum(hi, torch.zeros_like(hi))
        if self.affine[i] is not None:
            lo, hi = lo.where(~self.affine[i], 0.0), hi.where(~self.affine[i], 0.0)
        return lo, torch.maximum(lo, hi)

    def bound(self, t0: float, t1: float):
        """Per example: the bound on the loss above the chord over [t0, t1], and on ||e_L||_2."""
        act, lip = self.act, self.lip
        tc, r = (t0 + t1) / 2, (t1 - t0) / 2
        w_lo = min(t0 * (1 - t0), t1 * (1 - t1))
        w_hi = 0.25 if t0 <= 0.5 <= t1 else max(t0 * (1 - t0), t1 * (1 - t1))
        u = torch.zeros_like(self.ha[0])
        nu = torch.zeros(u.shape[0], dtype=u.dtype)
        for i, op in enumerate(self.ops):
            if i == 0:  # e_0 = 0: the first layer's pre-activations are exactly on the chord
                q_lo = q_hi = torch.zeros_like(self.za[0])
                cross_norm = torch.zeros_like(nu)
            else:
                wc = {n: (1 - tc) * op.params_a[n] + tc * op.params_b[n] for n in self.dw[i]}
                w_abs = {n: wc[n].abs() + r * self.dw[i][n].abs() for n in wc}  # >= |W^t| on the interval
                radius = op.linear(w_abs, u)
                if self.norms[i] is not None:  # |(W e)_j| <= ||W_{j,:}||_2 ||e||_2
                    rows = wc["weight"].norm(dim=1) + r * self.dw[i]["weight"].norm(dim=1)
                    radius = torch.minimum(radius, nu[:, None] * rows)
                c_lo, c_hi = _signed_range(self.cross[i], w_lo, w_hi)
                q_lo, q_hi = c_lo - radius, c_hi + radius
                cross_norm = w_hi * self.cross[i].flatten(1).norm(dim=1)
            op_norm = (
                max((1 - s) * self.norms[i][0] + s * self.norms[i][1] for s in (t0, t1))
                if self.norms[i] is not None
                else float("inf")
            )
            if op.activation_after:
                za, zb = self.za[i], self.zb[i]
                ch_lo, ch_hi = _ends(torch.lerp(za, zb, t0), torch.lerp(za, zb, t1))
                g_lo, g_hi = self._gamma(i, t0, t1, ch_lo, ch_hi, w_hi)
                if i == 0:  # q = 0: nothing propagated
                    e_lo, e_hi = g_lo, g_hi
                else:
                    # sigma(c + q) - sigma(c) for c in [ch_lo, ch_hi], q in [q_lo, q_hi] (sigma
                    # nondecreasing, lip-Lipschitz)
                    d_hi = torch.minimum(lip * q_hi.clamp(min=0), act(ch_hi + q_hi) - act(ch_lo))
                    d_lo = torch.maximum(lip * q_lo.clamp(max=0), act(ch_lo + q_lo) - act(ch_hi))
                    e_lo, e_hi = d_lo + g_lo, d_hi + g_hi
                u = torch.maximum(e_lo.abs(), e_hi.abs())
                gamma_norm = torch.maximum(g_lo.abs(), g_hi.abs()).flatten(1).norm(dim=1)
                by_norm = lip * (op_norm * nu + cross_norm) + gamma_norm
            else:
                e_lo, e_hi = q_lo, q_hi
                u = torch.maximum(e_lo.abs(), e_hi.abs())
                by_norm = op_norm * nu + cross_norm
            norm_u = u.flatten(1).norm(dim=1)
            nu = torch.minimum(norm_u, by_norm) if self.norms[i] is not None else norm_u
        return self._loss(t0, t1, e_lo, e_hi), nu

    def _loss(self, t0, t1, e_lo, e_hi):
        r"""sup over t in [t0, t1] of l(c(t) + e) - ((1-t) l_A + t l_B), e in [e_lo, e_hi], c(t) the chord
        output: the convex part l(c(t)) - chord is largest at an end; the rest is bounded over the box."""
        fa, fb, y = self.ha[-1], self.hb[-1], self.y
        outs = [(1 - t) * fa + t * fb for t in (t0, t1)]
        chord_losses = [per_example_loss(self.kind, c[None], y)[0] for c in outs]  # l(c(t0)), l(c(t1))
        convex_part = torch.maximum(
            *(
                loss - ((1 - t) * self.loss_a + t * self.loss_b)
                for loss, t in zip(chord_losses, (t0, t1), strict=True)
            )
        )
        c_lo, c_hi = _ends(*outs)
        if self.kind == "cross_entropy":
            # l(c + e) - l(c) = log sum_j p_j(c) exp(e_j - e_y), p = softmax(c) (the j = y term is p_y):
            # at most log sum_j p_j^hi exp(d_j), d_j = e_j^hi - e_y^lo (d_y = 0), over the box of c; exact
            # when the box of c is a point (log space: p can underflow while exp(d) overflows)
            rows = torch.arange(len(y))
            d = e_hi - e_lo[rows, y][:, None]
            d[rows, y] = 0.0
            logp_hi = softmax_range(c_lo, c_hi, log=True)[1]
            increase = torch.logsumexp(logp_hi + d, dim=1)
            # never above the plain box maximum of l(c + e) minus the smallest l(c)
            plain = box_loss_max(self.kind, c_lo + e_lo, c_hi + e_hi, y) - torch.minimum(*chord_losses)
            increase = torch.minimum(increase, plain)
        else:
            # ||c + e - y||^2 - ||c - y||^2 = sum_j 2 (c_j - y_j) e_j + e_j^2: largest at a corner
            target = y.view(c_lo.shape[0], -1).to(c_lo.dtype)
            corners = torch.stack(
                [2 * (c - target) * e + e**2 for c in (c_lo, c_hi) for e in (e_lo, e_hi)]
            ).amax(0)
            increase = corners.flatten(1).sum(-1)
        return convex_part + increase


def endpoint_barrier_bound(
    model_a,
    model_b,
    data,
    *,
    intervals: int = 32,
    refine: int = 64,
    loss: str = "auto",
    batch_size: int = 2048,
) -> EndpointBound:
    r"""The endpoint bound on the loss barrier above the chord over all t in [0, 1]
    (:ref:`theory-endpoint-bound`; the module docstring has the recursion).

    The recursion runs on each of ``intervals`` equal sub-intervals of [0, 1] with every t-dependent
    quantity replaced by its range over the sub-interval; the sub-intervals with the largest bounds
    are then bisected, ``refine`` more in all (a bisection only lowers a bound). The maximum over
    sub-intervals bounds the supremum over [0, 1].

    Parameters
    ----------
    model_a, model_b : torch.nn.Module
        Same architecture, of a kind registered with :func:`lmctheory.nn.ops.register_ops`
        (align B to A beforehand).
    data : (x, y) tensors
        The examples; the bound is on the mean loss over them.
    intervals : int, default 32
        Equal sub-intervals to start from.
    refine : int, default 64
        Further sub-intervals made by bisecting the worst ones (0: none).
    loss : {"auto", "cross_entropy", "mse"}
        The loss (``"auto"``: cross-entropy for integer labels).
    batch_size : int, default 2048
        Examples per batch (memory).

    Returns
    -------
    EndpointBound
        Per-sub-interval and overall bound.

    Raises
    ------
    ValueError
        Different architectures, an unknown loss, bad counts or non-finite inputs.
    NotImplementedError
        A model kind without registered operators, or an activation that is not nondecreasing.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn.models import MLP
    >>> from lmctheory.barrier import evaluate_path
    >>> from lmctheory.endpoint_bound import endpoint_barrier_bound
    >>> from lmctheory.predict import certified_barrier_bound
    >>> _ = torch.manual_seed(0)
    >>> model_a, model_b = MLP([4, 16, 3]), MLP([4, 16, 3])
    >>> data = torch.randn(256, 4), torch.randint(0, 3, (256,))
    >>> measured = evaluate_path(model_a, model_b, data).barrier("above_chord")
    >>> sharp = endpoint_barrier_bound(model_a, model_b, data).bound
    >>> baseline = certified_barrier_bound(model_a, model_b, data).bound
    >>> bool(measured <= sharp <= baseline)
    True
    """
    started = time.perf_counter()
    intervals = check_positive_int(intervals, "intervals")
    refine = check_positive_int(refine, "refine", minimum=0)
    batch_size = check_positive_int(batch_size, "batch_size")
    network = network_ops(model_a, model_b, torch.float64)  # also checks that the architectures agree
    ops, act_name, slope, reshape = network
    if act_name not in _MONOTONE or (act_name == "leaky_relu" and slope < 0):
        raise NotImplementedError(
            "endpoint_barrier_bound needs a nondecreasing activation (relu, leaky_relu with slope >= 0, "
            f"tanh, identity), not {act_name!r}"
            + (f" with slope {slope}" if act_name == "leaky_relu" else "")
        )
    x_all, y_all = (torch.as_tensor(v) for v in data)
    kind = _loss_kind(y_all, loss)
    if len(x_all) == 0:
        raise ValueError("data is empty")
    if not torch.isfinite(x_all).all():
        raise ValueError("data: x contains non-finite values")
    x_all = reshape(x_all.detach().to(torch.float64))
    y_all = y_all.to(torch.float64) if kind == "mse" else y_all.long()
    with torch.no_grad():
        batches = [
            _Recursion(network, x_all[s : s + batch_size], y_all[s : s + batch_size], kind)
            for s in range(0, len(x_all), batch_size)
        ]

        def evaluate(t0, t1):
            loss_sum = defect_sum = 0.0
            for rec in batches:
                per_example, nu = rec.bound(t0, t1)
                loss_sum += float(per_example.sum())
                defect_sum += float(nu.sum())
            return loss_sum / len(x_all), defect_sum / len(x_all)

        bounds = {(k / intervals, (k + 1) / intervals): None for k in range(intervals)}
        for key in bounds:
            bounds[key] = evaluate(*key)
        for _ in range(refine // 2):
            t0, t1 = max(bounds, key=lambda k: bounds[k][0])
            mid = (t0 + t1) / 2
            del bounds[(t0, t1)]
            bounds[(t0, mid)], bounds[(mid, t1)] = evaluate(t0, mid), evaluate(mid, t1)
    keys = sorted(bounds)
    per_interval = np.array([bounds[k][0] for k in keys])
    return EndpointBound(
        np.array([k[0] for k in keys] + [1.0]),
        per_interval,
        float(per_interval.max()),
        kind,
        act_name,
        np.array([bounds[k][1] for k in keys]),
        {"n_examples": int(len(x_all)), "sub_intervals": len(keys), "seconds": time.perf_counter() - started},
    )
