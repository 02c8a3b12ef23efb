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
supremum over [0, 1]: :func:`lmctheory.lmc.certified_path_sup` encloses that).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..nn import dense, loss_kind, network_ops
from ..utils.validation import check_positive_int
from ._enclosure import U32, PathEnclosure, _fan_in, _gamma32, _to_f32_up
from ._path import PATH_CONVENTION, model_device
from ._path_sup import _exact_float64, _log_sum_exp, _mean_bound
from ._rounding import LIBM_ULPS, TINY, U, down, gamma, inflate, up

__all__ = ["EndpointBound", "endpoint_barrier_bound"]

#: activations the recursion covers (nondecreasing); the piecewise-linear ones have their kink at 0
_MONOTONE = ("relu", "leaky_relu", "tanh", "identity")


@dataclass
class EndpointBound:
    r"""Endpoint bound on the loss barrier above the chord over every t in [0, 1] (returned by
    :func:`endpoint_barrier_bound`).

    ``upper`` is the largest of the per-sub-interval bounds, so it bounds
    :math:`\sup_{t \in [0, 1]} [L(\theta(t)) - ((1-t)L(\theta_A) + tL(\theta_B))]`. It follows the protocol
    of every barrier bound (:class:`CertifiedBound`); ``lower`` is None.

    Parameters
    ----------
    edges : ndarray
        Sub-interval ends, ``0 = edges[0] < ... < edges[-1] = 1``.
    per_interval : ndarray
        Bound on each sub-interval ``[edges[k], edges[k + 1]]``.
    upper : float
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
    >>> from lmctheory.lmc import EndpointBound
    >>> b = EndpointBound(np.array([0.0, 0.5, 1.0]), np.array([0.1, 0.3]), 0.3, "mse", "relu", np.zeros(2))
    >>> b.to_dict()["upper"]
    0.3
    """

    edges: np.ndarray
    per_interval: np.ndarray
    upper: float
    loss: str
    activation: str
    defect_per_interval: np.ndarray
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
            "lower": self.lower,
            "quantity": "sup over t in [0, 1] of L(t) - ((1 - t) L(0) + t L(1)), bounded per sub-interval",
            "edges": self.edges.tolist(),
            "per_interval": self.per_interval.tolist(),
            "upper": self.upper,
            "loss": self.loss,
            "activation": self.activation,
            "defect_per_interval": self.defect_per_interval.tolist(),
            **self.info,
        }


class _Line:
    r"""Bounds of :math:`(1 - t) a + t b` (from below or above, a and b bounds of the same side), cached for
    the few most recent t: adjacent sub-intervals share their ends."""

    KEEP = 8

    def __init__(self, a: torch.Tensor, b: torch.Tensor, upper: bool):
        # the products and the sum round by at most 4u(|a| + |b|); the slack covers that and its own addition
        self.a, self.b, self.upper = a, b, upper
        self.slack = (8 * U) * (a.abs() + b.abs()) + 8 * TINY
        self.cache: dict[float, torch.Tensor] = {}

    def at(self, t: float) -> torch.Tensor:
        if t not in self.cache:
            if len(self.cache) >= self.KEEP:
                self.cache.pop(next(iter(self.cache)))
            value = torch.add(self.a * (1 - t), self.b, alpha=t)
            self.cache[t] = value.add_(self.slack) if self.upper else value.sub_(self.slack)
        return self.cache[t]

    def over(self, t0: float, t1: float) -> torch.Tensor:
        """The bound on all of [t0, t1] (the line's extremes are at the ends)."""
        pick = torch.maximum if self.upper else torch.minimum
        return pick(self.at(t0), self.at(t1))


def _combination(coeffs, size, signed, positive) -> torch.Tensor:
    r"""Upper bound (float64) of :math:`\sum_i c_i a_i + |c_i| b_i` over the units, per example and objective,
    for coefficients c (shape (n, K, units...), ``size`` = |c|; float32 or float64), a vector a (per example,
    or None) and b >= 0 (float64): two batched matrix-vector products in c's precision, their rounding (and
    the vectors' conversion to it) bounded by :math:`\gamma_{m+4} \sum |c_i| (|a_i| + b_i)`."""
    n, k = size.shape[:2]
    unit = U if size.dtype == torch.float64 else U32
    flat_size = size.reshape(n, k, -1)
    m = flat_size.shape[2]
    # (products summed over the last axis: several times faster than a batched matrix-vector product here)
    total = positive.reshape(n, 1, -1)
    total = total if size.dtype == torch.float64 else _to_f32_up(total)  # rounded up: |c| b only grows
    positive_part = (flat_size * total).sum(-1).double()
    value, magnitude = positive_part, positive_part
    if signed is not None:
        flat_signed = signed.reshape(n, 1, -1).to(size.dtype)
        value = value + (coeffs.reshape(n, k, -1) * flat_signed).sum(-1).double()
        magnitude = magnitude + (flat_size * flat_signed.abs()).sum(-1).double()
    scale = 1.02 * (m + 4) * unit * (1 + 1.02 * (m + 4) * unit)
    return up(value + magnitude * scale + m * 2.0**-126, 2)


def _spectral_norm_upper(weight: torch.Tensor, squarings: int = 4) -> float:
    r"""A rigorous upper bound of the spectral norm :math:`\lVert W \rVert_2`:
    :math:`\lambda_{\max}(M)^{2^k} \le \lVert M^{2^k} \rVert_F` for :math:`M = W^\top W` (or
    :math:`WW^\top`), so :math:`\lVert W \rVert_2 \le \lVert M^{2^k} \rVert_F^{2^{-k-1}}`, within a factor
    :math:`\operatorname{rank}^{2^{-k-2}}` of the norm (1.08 for rank 512 and k = 4). M is scaled by a power
    of two first (no overflow), and every product carries a radius bounding its rounding."""
    w = weight if weight.shape[0] <= weight.shape[1] else weight.T
    largest = float(w.abs().amax())
    if largest == 0.0 or not math.isfinite(largest):
        return 0.0 if largest == 0.0 else math.inf
    unit = 2.0 ** -math.frexp(largest)[1]  # an exact scaling to entries below 1: no overflow in W W^T
    return _spectral_norm_upper_scaled(w * unit, squarings) / unit * (1 + 4 * U)


def _spectral_norm_upper_scaled(w: torch.Tensor, squarings: int) -> float:
    m = w @ w.T
    n = w.shape[1]
    rad = inflate(w.abs() @ w.abs().T, n + 2) * gamma(n + 2)
    top = float(up(m.abs().amax() + rad.amax()))
    if not math.isfinite(top) or top < 2.0**-900:  # (near zero: the Frobenius norm, which is above it)
        return math.inf if not math.isfinite(top) else float(up(w.norm() * (1 + gamma(w.numel() + 2)), 2))
    scale = 2.0 ** -math.frexp(top)[1]  # exact: |entries| <= 1 after scaling
    m, rad = m * scale, rad * scale
    for _ in range(squarings):
        size = m.abs()
        d = m.shape[0]
        new = m @ m
        new_rad = size @ rad + rad @ size + rad @ rad + gamma(d + 2) * (size @ size)
        m, rad = new, inflate(new_rad, d + 4) + d * TINY
    frob = float(up(inflate((m.abs() + rad).square().sum(), m.numel() + 2).sqrt(), 2))
    exponent = 2.0 ** -(squarings + 1)
    # ||W||_2^2 = lambda_max(M) <= (frob / scale^(2^k))^(2^-k)
    value = (frob**exponent) * (scale**-0.5)
    return math.nextafter(value * (1 + 1e-12), math.inf)


def _product_bound(op, weight: torch.Tensor, mid: torch.Tensor, rad: torch.Tensor, fan: int):
    """``op(weight, v)`` for v in [mid - rad, mid + rad]: (centre, radius) with the product's rounding."""
    centre = op.linear({"weight": weight}, mid)
    magnitude = op.linear({"weight": weight.abs()}, rad + gamma(fan + 2) * mid.abs())
    return centre, inflate(magnitude, fan + 2) + fan * TINY


class _Activation:
    """The activation's values, Lipschitz constant and derivative range, all rounded outward."""

    def __init__(self, name: str, slope: float):
        self.name, self.slope = name, float(slope)
        self.lip = 1.0 if name != "leaky_relu" else max(1.0, self.slope)
        self.convex = name in ("relu", "identity") or (name == "leaky_relu" and self.slope <= 1)
        self.piecewise = name in ("relu", "leaky_relu", "identity")

    def value(self, v: torch.Tensor, upper: bool) -> torch.Tensor:
        """A bound of sigma(v) from above or below (sigma is nondecreasing)."""
        if self.name == "identity":
            return v
        if self.name == "relu":
            return v.clamp(min=0)
        if self.name == "leaky_relu":
            out = torch.where(v > 0, v, v * self.slope)
            return up(out) if upper else down(out)
        out = torch.tanh(v)
        k = LIBM_ULPS + 1
        return up(out, k) if upper else down(out, k)

    def slopes(self, lo: torch.Tensor, hi: torch.Tensor):
        """The smallest and largest derivative (secant slope) of sigma on [lo, hi], outward."""
        if self.name == "identity":
            one = torch.ones_like(lo)
            return one, one
        if self.name in ("relu", "leaky_relu"):
            a = 0.0 if self.name == "relu" else self.slope
            neg, pos = lo < 0, hi > 0  # which pieces the interval meets
            full = lambda v: torch.full_like(lo, v)  # noqa: E731  (float64: a float32 slope would round)
            s_lo = torch.where(pos & ~neg, full(1.0), torch.where(neg & ~pos, full(a), full(min(a, 1.0))))
            s_hi = torch.where(pos & ~neg, full(1.0), torch.where(neg & ~pos, full(a), full(max(a, 1.0))))
            return s_lo, s_hi
        far = torch.maximum(lo.abs(), hi.abs())
        near = torch.where((lo <= 0) & (hi >= 0), torch.zeros_like(lo), torch.minimum(lo.abs(), hi.abs()))
        sech2 = lambda v: torch.cosh(v).reciprocal_().square_()  # noqa: E731
        return sech2(far).mul_(1 - 2.0**-40), sech2(near).mul_(1 + 2.0**-40).clamp_(max=1.0)


def _chords(s_lo, s_hi, q_lo, q_hi):
    r"""Linear bounds :math:`\alpha^l q + \beta^l \le m q \le \alpha^u q + \beta^u` for every slope m in
    [s_lo, s_hi] and q in [q_lo, q_hi]: the chords of the convex :math:`\max(s_{lo} q, s_{hi} q)` and of the
    concave :math:`\min(s_{lo} q, s_{hi} q)` (any slope is valid; the intercept is computed for it). Where the
    slope is known (s_lo = s_hi: the activation is affine on the whole range, most units) the bound is exact,
    :math:`\alpha = s`, :math:`\beta = 0`; the chords are computed on the other units only."""
    a_up = s_lo.clone(memory_format=torch.contiguous_format)  # (flat views are written below)
    a_lo = s_lo.clone(memory_format=torch.contiguous_format)
    b_up = torch.zeros_like(q_lo, memory_format=torch.contiguous_format)
    b_lo = torch.zeros_like(q_lo, memory_format=torch.contiguous_format)
    flat = (s_hi > s_lo).reshape(-1).nonzero().squeeze(1)
    if not flat.numel():
        return a_up, b_up, a_lo, b_lo
    sl, sh = s_lo.reshape(-1)[flat], s_hi.reshape(-1)[flat]
    ql, qh = q_lo.reshape(-1)[flat], q_hi.reshape(-1)[flat]
    width = qh - ql
    # max(s_lo q, s_hi q) and min(s_lo q, s_hi q) at the ends (s_lo <= s_hi); each product rounds once
    f0, g0 = ql * torch.where(ql >= 0, sh, sl), ql * torch.where(ql >= 0, sl, sh)
    f1, g1 = qh * torch.where(qh >= 0, sh, sl), qh * torch.where(qh >= 0, sl, sh)
    safe = torch.where(width > 0, width, 1.0)
    au = torch.where(width > 0, (f1 - f0) / safe, 0.0)
    al = torch.where(width > 0, (g1 - g0) / safe, 0.0)
    # the largest of f - a q (convex) and the smallest of g - a q (concave) over [q_lo, q_hi] are at its ends;
    # the products, differences and the slack's own addition round by at most 4u of the magnitudes
    ends_q = ql.abs() + qh.abs()
    slack_up = 4 * U * (f0.abs() + f1.abs() + au.abs() * ends_q) + TINY
    slack_lo = 4 * U * (g0.abs() + g1.abs() + al.abs() * ends_q) + TINY
    a_up.view(-1)[flat], a_lo.view(-1)[flat] = au, al
    b_up.view(-1)[flat] = torch.maximum(f0 - au * ql, f1 - au * qh).add_(slack_up)
    b_lo.view(-1)[flat] = torch.minimum(g0 - al * ql, g1 - al * qh).sub_(slack_lo)
    return a_up, b_up, a_lo, b_lo


def _transpose_apply(op, weight: torch.Tensor, coeffs: torch.Tensor, in_shape: tuple) -> torch.Tensor:
    """``coeffs @ op(weight)``: the objective's coefficients carried back through the linear operator
    (coeffs of shape (n, K, out...) -> (n, K, in...))."""
    n, k = coeffs.shape[:2]
    if op.linear is dense:
        return coeffs @ weight
    flat = coeffs.reshape(n * k, *coeffs.shape[2:])
    probe = torch.zeros((n * k, *in_shape), dtype=coeffs.dtype)
    _, pullback = torch.func.vjp(lambda h: op.linear({"weight": weight}, h), probe)
    return pullback(flat)[0].reshape(n, k, *in_shape)


def _box(form, index: int):
    """Rigorous bounds (float64) of a point enclosure's values at one of its points."""
    c, e = form.c[index], form.e[index].double()
    return down(c - e), up(c + e)


def _box_loss(kind: str, lo: torch.Tensor, hi: torch.Tensor, y: torch.Tensor, upper: bool) -> torch.Tensor:
    """Per example, a bound of the loss over the box of outputs [lo, hi] (the largest from above, the
    smallest from below), rounding included."""
    if kind == "cross_entropy":
        idx = y.view(-1, 1)
        if upper:  # every wrong logit at its top, the true one at its bottom
            d = up(up(hi) - lo.gather(1, idx) + 2 * U * (hi.abs() + lo.gather(1, idx).abs()))
        else:
            d = down(down(lo) - hi.gather(1, idx) - 2 * U * (lo.abs() + hi.gather(1, idx).abs()))
        return _log_sum_exp(d.scatter(1, idx, 0.0), upper)
    target = y.view(lo.shape[0], -1)
    far = torch.maximum((lo - target).abs(), (hi - target).abs())
    near = torch.clamp(torch.maximum(lo - target, target - hi), min=0)
    k = far.shape[1]
    if upper:
        return up(up(far).square().sum(1) * (1 + gamma(k + 4)), 2)
    return down(down(near).square().sum(1) * (1 - gamma(k + 4)), 2)


class _Batch:
    """Everything of the bound that does not depend on t, for one batch of examples: the endpoint networks'
    pre-activations, outputs and losses (rigorous enclosures), and the cross terms."""

    def __init__(self, network, x: torch.Tensor, y: torch.Tensor, kind: str, act: _Activation):
        ops = network[0]
        self.ops, self.kind, self.y, self.act = ops, kind, y, act
        layers = PathEnclosure(network, x).layers(torch.tensor([0.0, 1.0], dtype=torch.float64))
        self.z = [(_box(pre, 0), _box(pre, 1)) for pre, _ in layers]  # ((A lo, hi), (B lo, hi)) per op
        self.h = [(_box(out, 0), _box(out, 1)) for _, out in layers]
        self.in_shapes = [tuple(x.shape[1:])] + [tuple(out.c.shape[2:]) for _, out in layers[:-1]]
        self.fans = [_fan_in(op, op.params_a) for op in ops]
        # ||W^t||_2 <= (1 - t) ||W^A||_2 + t ||W^B||_2 (dense operators)
        self.norms = [
            tuple(_spectral_norm_upper(op_params["weight"]) for op_params in (op.params_a, op.params_b))
            if op.linear is dense
            else None
            for op in ops
        ]
        self.loss_a = _box_loss(kind, *self.h[-1][0], y, False)  # lower bounds of l(f_A), l(f_B)
        self.loss_b = _box_loss(kind, *self.h[-1][1], y, False)
        # the chords of every pre-activation and output between the endpoints, from below and above
        self.z_lines = [(_Line(a[0], b[0], False), _Line(a[1], b[1], True)) for a, b in self.z]
        self.h_lines = [(_Line(a[0], b[0], False), _Line(a[1], b[1], True)) for a, b in self.h]
        self.loss_line = _Line(self.loss_a, self.loss_b, False)
        # gamma's t-independent parts: |gamma| <= kappa t(1-t) |z^A - z^B|, and gamma = 0 where sigma is affine
        # between the endpoints (the same side of the kink)
        self.gamma_cap, self.affine = [], []
        for (za_lo, za_hi), (zb_lo, zb_hi) in self.z:
            spread = up(torch.maximum(za_hi - zb_lo, zb_hi - za_lo).clamp(min=0))
            kappa = 0.0 if act.name == "identity" else abs(1.0 - (0.0 if act.name == "relu" else act.slope))
            self.gamma_cap.append(up(spread * kappa) if act.piecewise else None)
            same = ((za_lo >= 0) & (zb_lo >= 0)) | ((za_hi <= 0) & (zb_hi <= 0))
            self.affine.append(same if act.piecewise else None)
        # (W^A - W^B)(h^A - h^B) for the operators after the first: (lower, upper) per example and unit
        self.cross = [None]
        for i in range(1, len(ops)):
            (a_lo, a_hi), (b_lo, b_hi) = self.h[i - 1]
            d_lo, d_hi = down(a_lo - b_hi), up(a_hi - b_lo)
            mid = (d_lo + d_hi) / 2
            rad = up(torch.maximum(d_hi - mid, mid - d_lo), 2)
            dw = ops[i].params_a["weight"] - ops[i].params_b["weight"]  # within u |dW| of the exact
            centre, radius = _product_bound(ops[i], dw, mid, rad + 2 * U * (mid.abs() + rad), self.fans[i])
            self.cross.append((down(centre - radius), up(centre + radius)))

    def gamma(self, i: int, t0: float, t1: float, c_lo, c_hi, w_hi: float):
        r"""Range of :math:`\gamma = \sigma(c) - ((1-t)\sigma(z^A) + t\sigma(z^B))` over [t0, t1]."""
        act = self.act
        lin_lo, lin_hi = self.h_lines[i][0].over(t0, t1), self.h_lines[i][1].over(t0, t1)
        lo = down(act.value(c_lo, False) - lin_hi)
        hi = up(act.value(c_hi, True) - lin_lo)
        if act.piecewise:
            cap = self.gamma_cap[i] * (w_hi * (1 + 4 * U)) + TINY
            lo, hi = torch.maximum(lo, -cap), torch.minimum(hi, cap)
            same = self.affine[i]
            lo, hi = lo.masked_fill(same, 0.0), hi.masked_fill(same, 0.0)
        if act.convex:  # sigma(chord) <= chord of sigma
            hi = hi.clamp(max=0.0)
        return lo, torch.maximum(lo, hi)

    def bound(self, t0: float, t1: float, signed: bool = True):
        """Per example: the bound on the loss above the chord over [t0, t1], and on the output defect's
        Euclidean norm (``signed``: with the back-substituted bounds, else the box recursion's alone)."""
        ops, act = self.ops, self.act
        tc = (t0 + t1) / 2
        r = (t1 - t0) / 2 * (1 + 4 * U) + 2 * U  # >= |t - tc| on [t0, t1], tc rounded
        w_lo = down(torch.tensor(min(t0 * (1 - t0), t1 * (1 - t1)), dtype=torch.float64), 2)
        w_hi = 0.25 if t0 <= 0.5 <= t1 else float(up(torch.tensor(max(t0 * (1 - t0), t1 * (1 - t1))), 2))
        w_lo = float(w_lo.clamp(min=0))
        state = []
        u = nu = None
        for i, op in enumerate(ops):
            c_lo, c_hi = self.z_lines[i][0].over(t0, t1), self.z_lines[i][1].over(t0, t1)
            layer = {"c": (c_lo, c_hi)}
            if i == 0:  # e_0 = 0 and the first pre-activations are exactly on the chord: q = 0
                q_lo = q_hi = torch.zeros_like(c_lo)
            else:
                wa, dw = op.params_a["weight"], op.params_b["weight"] - op.params_a["weight"]
                w_centre = wa + tc * dw
                # |W^t - W_c| <= r |dW| plus W_c's own rounding
                rest = r * dw.abs() + 3 * U * (wa.abs() + dw.abs())
                fan = self.fans[i]
                spread = inflate(op.linear({"weight": w_centre.abs() + rest}, u), fan + 2)
                remainder = inflate(op.linear({"weight": rest}, u), fan + 2)
                radius = spread
                if op.linear is dense:  # |(W e)_j| <= ||W_j||_2 ||e||_2
                    rows = up(
                        w_centre.norm(dim=1) * (1 + gamma(fan + 2)) + rest.norm(dim=1) * (1 + gamma(fan + 2)),
                        2,
                    )
                    radius = torch.minimum(radius, up(nu[:, None] * rows, 2))
                x_lo, x_hi = self.cross[i]
                # -t(1-t) (W^A - W^B)(h^A - h^B): its range over t(1-t) in [w_lo, w_hi]
                n_lo = down(-torch.where(x_hi >= 0, w_hi, w_lo) * x_hi)
                n_hi = up(-torch.where(x_lo >= 0, w_lo, w_hi) * x_lo)
                q_lo, q_hi = down(n_lo - radius), up(n_hi + radius)
                layer.update(w_centre=w_centre, spread=spread, remainder=remainder)
            layer["q"] = (q_lo, q_hi)
            if op.activation_after:
                g_lo, g_hi = self.gamma(i, t0, t1, c_lo, c_hi, w_hi)
                # sigma(c + q) - sigma(c): nondecreasing sigma, lip-Lipschitz
                p_lo = torch.maximum(
                    down(act.lip * q_lo.clamp(max=0)),
                    down(act.value(down(c_lo + q_lo), False) - act.value(c_hi, True)),
                )
                p_hi = torch.minimum(
                    up(act.lip * q_hi.clamp(min=0)),
                    up(act.value(up(c_hi + q_hi), True) - act.value(c_lo, False)),
                )
                e_lo, e_hi = down(p_lo + g_lo), up(p_hi + g_hi)
                layer["gamma"] = (g_lo, g_hi)
            else:
                e_lo, e_hi = q_lo, q_hi
            u = torch.maximum(e_lo.abs(), e_hi.abs())
            norm_u = up(u.flatten(1).norm(dim=1) * (1 + gamma(u[0].numel() + 2)), 2)
            if i and self.norms[i] is not None:
                # ||e_l|| <= L (||W^t|| ||e_{l-1}|| + t(1-t) ||cross||) + ||gamma|| (L = 1 without activation)
                op_norm = max((1 - t) * self.norms[i][0] + t * self.norms[i][1] for t in (t0, t1)) * (
                    1 + 4 * U
                )
                cross = torch.maximum(x_lo.abs(), x_hi.abs()).flatten(1).norm(dim=1) * (
                    1 + gamma(x_lo[0].numel() + 2)
                )
                by_norm = op_norm * nu + w_hi * cross
                if op.activation_after:
                    g_lo, g_hi = layer["gamma"]
                    g_norm = torch.maximum(g_lo.abs(), g_hi.abs()).flatten(1).norm(dim=1) * (
                        1 + gamma(g_lo[0].numel() + 2)
                    )
                    by_norm = act.lip * by_norm + g_norm
                norm_u = torch.minimum(norm_u, up(by_norm, 4))
            nu = norm_u
            layer["e"] = (e_lo, e_hi)
            state.append(layer)
        return self._loss(t0, t1, w_lo, w_hi, state, signed), nu

    #: the classes j per example whose e_j - e_y is back-substituted (those that weigh most in the loss)
    CLASSES = 9

    def _objectives(self, n: int, k: int, classes: torch.Tensor | None) -> torch.Tensor:
        """The output combinations bounded by back-substitution: e_j - e_y for the given classes j of each
        example (cross-entropy), +-e_j (squared error); shape (n, K, k)."""
        eye = torch.eye(k, dtype=torch.float64)
        if self.kind == "cross_entropy":
            return eye[classes] - eye[self.y].unsqueeze(1)
        return torch.cat([eye, -eye]).expand(n, 2 * k, k)

    def _back_substitute(self, state, w_lo: float, w_hi: float, coeffs: torch.Tensor) -> torch.Tensor:
        r"""Upper bounds of the objectives ``coeffs`` (n, K, outputs) over every defect the layers allow
        (CROWN-style linear bounds carried back from the output to the first layer, keeping the signs the box
        recursion drops). The coefficients are carried in float32 (every rounding bounded; the constants
        accumulate in float64)."""
        ops, act = self.ops, self.act
        const = torch.zeros(coeffs.shape[:2], dtype=torch.float64)
        coeffs = coeffs.float()  # +-1 and 0: exact
        size = coeffs.abs()
        for i in range(len(ops) - 1, 0, -1):
            layer, below = state[i], state[i - 1]
            x_lo, x_hi = self.cross[i]
            mid, rad = (x_lo + x_hi) / 2, up((x_hi - x_lo) / 2, 2)
            # coeffs . cross >= its value at the centre minus |coeffs| . rad: then -t(1-t) times it
            v_lo = -_combination(coeffs, size, -mid, rad)
            const = up(const + torch.where(v_lo >= 0, -w_lo * v_lo, -w_hi * v_lo), 2)
            # (W^t - W_c) e; and coeffs W_c taken as coeffs W_c32 in float32, off by (u32 + gamma32)|coeffs||W_c||e|
            # <= that times spread
            terms = coeffs[0, 0].numel()
            slack = up(layer["remainder"] + (_gamma32(terms + 4) + 2 * U32) * layer["spread"], 2)
            const = up(const + _combination(None, size, None, slack), 2)
            coeffs = _transpose_apply(ops[i], layer["w_centre"].float(), coeffs, self.in_shapes[i])
            size = coeffs.abs()
            g_lo, g_hi = below["gamma"]
            if i - 1 == 0:  # e_0 = gamma_0: coeffs+ . g_hi + coeffs- . g_lo
                mean, half = (g_hi + g_lo) / 2, up((g_hi - g_lo) / 2, 2)
                return up(const + _combination(coeffs, size, mean, half), 2)
            (c_lo, c_hi), (q_lo, q_hi) = below["c"], below["q"]
            s_lo, s_hi = act.slopes(
                down(torch.minimum(c_lo, c_lo + q_lo)), up(torch.maximum(c_hi, c_hi + q_hi))
            )
            a_up, b_up, a_lo, b_lo = _chords(s_lo, s_hi, q_lo, q_hi)
            top, bottom = up(b_up + g_hi), down(b_lo + g_lo)
            mean, half = (top + bottom) / 2, up((top - bottom) / 2, 2)
            const = up(const + _combination(coeffs, size, mean, half), 2)
            # coeffs+ a_up + coeffs- a_lo = coeffs (a_up + a_lo)/2 + |coeffs| (a_up - a_lo)/2 in float32: off by at
            # most 8 u32 |coeffs| (|a_up| + |a_lo|) per unit (the slopes' conversion included), times |q|
            q_max = torch.maximum(q_lo.abs(), q_hi.abs())
            rounding = 8 * U32 * (a_up.abs() + a_lo.abs()) * q_max
            const = up(const + _combination(None, size, None, rounding), 2)
            plus, minus = ((a_up + a_lo) / 2).float(), ((a_up - a_lo) / 2).float()
            coeffs = torch.addcmul(coeffs * plus.unsqueeze(1), size, minus.unsqueeze(1))
            size = coeffs.abs()
        return const  # a single operator: e_L = q_0 = 0

    def _loss(self, t0, t1, w_lo, w_hi, state, signed: bool):
        r"""sup over t in [t0, t1] of l(c(t) + e) - ((1-t) l_A + t l_B): the convex part l(c(t)) - chord is
        largest at an end; the increase l(c + e) - l(c) is bounded over the output box and by the back-
        substituted combinations of the defect."""
        low, high = self.h_lines[-1]
        y, kind = self.y, self.kind
        ends = []
        for t in (t0, t1):
            c_lo, c_hi = low.at(t), high.at(t)
            ends.append((c_lo, c_hi, _box_loss(kind, c_lo, c_hi, y, True), self.loss_line.at(t)))
        convex_part = torch.maximum(*(up(top - chord) for _, _, top, chord in ends))
        c_lo, c_hi = low.over(t0, t1), high.over(t0, t1)
        e_lo, e_hi = state[-1]["e"]
        signed = signed and len(self.ops) > 1  # (one operator: e = 0 exactly)
        n, k = c_lo.shape
        if kind == "cross_entropy":
            idx = y.view(-1, 1)
            d = up(e_hi - e_lo.gather(1, idx)).scatter(1, idx, 0.0)  # e_j - e_y from the box
            # l(c + e) - l(c) = log sum_j p_j(c) exp(e_j - e_y) <= log sum_j p_j^hi exp(d_j): p_j^hi over the box of
            # c, in log space: log p_j^hi = c_j^hi - log(exp(c_j^hi) + sum_{i != j} exp(c_i^lo))
            eye = torch.eye(k, dtype=torch.bool)
            mixed = torch.where(eye, c_hi[:, None, :], c_lo[:, None, :])  # row j: c_j at its top
            log_p = up(c_hi - _log_sum_exp(mixed, False))
            if signed and k > 1:  # the classes that weigh most, back-substituted
                weight = (log_p + d).scatter(1, idx, -math.inf)
                classes = weight.topk(min(self.CLASSES, k - 1), dim=1).indices
                combos = self._back_substitute(state, w_lo, w_hi, self._objectives(n, k, classes))
                d = d.scatter(1, classes, torch.minimum(d.gather(1, classes), combos))
            increase = _log_sum_exp(up(log_p + d), True)
            # never above the box maximum of l(c + e) minus the box minimum of l(c) (c over all of [t0, t1]: l(c(t))
            # is convex in t, its minimum may be inside)
            smallest = _box_loss(kind, c_lo, c_hi, y, False)
            plain = up(_box_loss(kind, down(c_lo + e_lo), up(c_hi + e_hi), y, True) - smallest)
            increase = torch.minimum(increase, plain)
        else:
            # sum_j 2 (c_j - y_j) e_j + e_j^2, at a corner of the boxes of c and e
            upper_e, lower_e = e_hi, e_lo
            if signed:
                combos = self._back_substitute(state, w_lo, w_hi, self._objectives(n, k, None))
                upper_e, lower_e = torch.minimum(e_hi, combos[:, :k]), torch.maximum(e_lo, -combos[:, k:])
            target = y.view(c_lo.shape[0], -1)
            corners = [2 * (c - target) * e + e.square() for c in (c_lo, c_hi) for e in (lower_e, upper_e)]
            # (each corner's terms round: 8u of their magnitudes)
            magnitude = 2 * torch.maximum((c_lo - target).abs(), (c_hi - target).abs()) * torch.maximum(
                lower_e.abs(), upper_e.abs()
            ) + torch.maximum(lower_e.square(), upper_e.square())
            increase = up(torch.stack(corners).amax(0) + 8 * U * magnitude).sum(1) * (1 + gamma(k + 2))
            increase = up(increase, 2)
        return up(convex_part + increase, 2)


def endpoint_barrier_bound(
    model_a,
    model_b,
    data,
    *,
    intervals: int = 32,
    refine: int = 64,
    loss: str = "auto",
    batch_size: int = 2048,
    signed: bool = True,
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
        Same architecture, of a kind registered with :func:`lmctheory.nn.register_ops`
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
    signed : bool, default True
        Also carry the output combinations back through the layers (the back-substitution, which keeps
        the signs the box recursion drops: several times tighter on deep nets, and several times the cost);
        False keeps the box recursion alone.

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
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.lmc import evaluate_path
    >>> from lmctheory.lmc import endpoint_barrier_bound
    >>> from lmctheory.lmc import certified_barrier_bound
    >>> _ = torch.manual_seed(0)
    >>> model_a, model_b = MLP([4, 16, 3]), MLP([4, 16, 3])
    >>> data = torch.randn(256, 4), torch.randint(0, 3, (256,))
    >>> measured = evaluate_path(model_a, model_b, data).barrier("above_chord")
    >>> sharp = endpoint_barrier_bound(model_a, model_b, data).upper
    >>> baseline = certified_barrier_bound(model_a, model_b, data).upper
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
    device = model_device(model_a)  # the data follows the model
    x_all, y_all = (torch.as_tensor(v).to(device) for v in data)
    kind = loss_kind(y_all, loss)
    if len(x_all) == 0 or len(x_all) != len(y_all):
        raise ValueError(
            f"data: {len(x_all)} inputs and {len(y_all)} labels (need the same, non-zero number)"
        )
    x_all = reshape(_exact_float64(x_all, "x"))
    y_all = _exact_float64(y_all, "y") if kind == "mse" else y_all.long()
    act = _Activation(act_name, slope)
    with torch.no_grad():
        batches = [
            _Batch(network, x_all[s : s + batch_size], y_all[s : s + batch_size], kind, act)
            for s in range(0, len(x_all), batch_size)
        ]

        def evaluate(t0, t1):
            per_example, defects = zip(*(b.bound(t0, t1, signed) for b in batches), strict=True)
            # the mean, rounded up (NaN: an overflow somewhere, which bounds nothing)
            value = float(_mean_bound(torch.cat(per_example), True).nan_to_num(nan=math.inf))
            return value, float(_mean_bound(torch.cat(defects), True).nan_to_num(nan=math.inf))

        # the sub-interval with the largest bound is bisected; its halves start from the parent's bound (which
        # holds on them) and are computed when they become the largest
        bounds = {
            (k / intervals, (k + 1) / intervals): evaluate(k / intervals, (k + 1) / intervals)
            for k in range(intervals)
        }
        computed = set(bounds)
        splits = refine // 2
        while True:
            key = max(bounds, key=lambda k: bounds[k][0])
            if key not in computed:
                value, defect = evaluate(*key)
                bounds[key] = (min(value, bounds[key][0]), min(defect, bounds[key][1]))
                computed.add(key)
                continue
            if not splits:
                break
            splits -= 1
            t0, t1 = key
            mid = (t0 + t1) / 2
            parent = bounds.pop(key)
            bounds[(t0, mid)] = bounds[(mid, t1)] = parent
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
