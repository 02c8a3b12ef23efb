r"""The barrier over every t in [0, 1], certified: a rigorous enclosure of :math:`\sup_t` on the path.

Every barrier of :mod:`lmctheory.barrier` is a maximum over a grid of t, which can miss the peak
between two grid points. This module encloses the supremum over the whole segment of the loss (and
the error) above the chord,

.. math:: g(t) = L(\theta(t)) - [(1 - t) L(\theta_A) + t L(\theta_B)],
          \qquad \theta(t) = (1 - t)\theta_A + t\theta_B,

between a lower bound (the largest value of g found at points where the network was evaluated
exactly: a barrier that is attained) and a certified upper bound (:ref:`theory-certified-sup`).

On a sub-interval :math:`[t_c - r, t_c + r]` every weight is affine in t,
:math:`W(t) = W(t_c) + s\,r\,\Delta W` with :math:`s \in [-1, 1]`, so interval arithmetic in
centre-radius form encloses, for every example, each layer's pre-activations :math:`z(t)` and their
derivatives :math:`z'(t)` over the whole sub-interval (the activation's derivative is enclosed by its
range over the pre-activation interval, its generalised derivative at a kink). Two upper bounds of
g on the sub-interval follow, and the smaller is kept:

* the *box* bound: the loss maximised over the enclosure of the outputs (exact for a box: for
  cross-entropy :math:`\log(1 + \sum_{j \ne y} e^{\bar z_j - \underline z_y})`), minus the chord's
  smaller end value;
* the *mean-value* bound: :math:`g(t_c) + r \max(\overline{g'}, -\underline{g'}, 0)`, with
  :math:`[\underline{g'}, \overline{g'}]` the enclosure of :math:`g'` (g is Lipschitz, so it is the
  integral of its derivative).

Sub-intervals whose upper bound exceeds the best lower bound by more than the tolerance are bisected
until the gap closes or the budget is spent (the result says which). For the error, an example counts
as possibly wrong on a sub-interval unless every margin :math:`z_y - z_j` is certified positive on
all of it.

Covered: the model kinds of :func:`lmctheory.nn.ops.register_ops` (MLP, mean-field, logistic
regression, CNN, LCN) with ReLU, leaky ReLU, tanh or identity activations; cross-entropy or squared
error. Arithmetic is float64; rounding is covered by a margin of 1e-9 relative to the loss scale.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch

from ._validation import check_positive_int, check_positive_real
from .barrier import PATH_CONVENTION, _loss_kind
from .nn.ops import network_ops, path_outputs

__all__ = ["PathSup", "certified_path_sup"]

#: activations whose derivative range over an interval is enclosed here
_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "identity")
#: relative allowance for float64 rounding in the enclosures
_ROUNDING = 1e-9
#: sub-intervals bisected per round
_BATCH = 8


@dataclass
class PathSup:
    r"""Enclosure of :math:`\sup_{t \in [0, 1]} g(t)` for one metric (returned by :func:`certified_path_sup`).

    Parameters
    ----------
    metric : str
        ``"loss"`` or ``"error"``.
    lower : float
        The largest g(t) at an exactly evaluated t: a barrier the path attains.
    upper : float
        Certified upper bound on the supremum over [0, 1].
    t_lower : float
        Where ``lower`` is attained.
    endpoints : tuple of (float, float)
        The metric at t = 0 and t = 1.
    converged : bool
        Whether ``upper - lower`` met the tolerance within the budget.
    intervals : int
        Sub-intervals enclosed.
    info : dict
        Tolerances, timings, the largest remaining gap's location.

    Examples
    --------
    >>> from lmctheory.path_sup import PathSup
    >>> sup = PathSup("loss", 0.30, 0.302, 0.5, (0.1, 0.2), True, 40)
    >>> round(sup.gap, 6)
    0.002
    """

    metric: str
    lower: float
    upper: float
    t_lower: float
    endpoints: tuple
    converged: bool
    intervals: int
    info: dict = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """``upper - lower``."""
        return self.upper - self.lower

    def to_dict(self) -> dict:
        """Plain data (JSON)."""
        return {
            "metric": self.metric,
            "lower": self.lower,
            "upper": self.upper,
            "gap": self.gap,
            "t_lower": self.t_lower,
            "endpoints": list(self.endpoints),
            "converged": self.converged,
            "intervals": self.intervals,
            "info": self.info,
        }


def _activation_range(name: str, slope: float, zl: torch.Tensor, zu: torch.Tensor):
    """``(sigma(zl), sigma(zu), lower and upper bound of sigma' on [zl, zu])`` for a monotone sigma;
    at a kink the generalised derivative (the interval between the one-sided slopes) is included."""
    if name == "identity":
        one = torch.ones_like(zl)
        return zl, zu, one, one
    if name in ("relu", "leaky_relu"):
        s = 0.0 if name == "relu" else float(slope)

        # slope 1 on [zl, zu] when zl > 0, s when zu < 0; an interval touching the kink at 0 has both
        def const(value):  # in the dtype of z (a Python scalar in torch.where would give float32)
            return torch.full_like(zl, value)

        one_sided = torch.where(zl > 0, const(1.0), torch.where(zu < 0, const(s), const(math.nan)))
        kink = one_sided.isnan()
        dlo = torch.where(kink, const(min(s, 1.0)), one_sided)
        dhi = torch.where(kink, const(max(s, 1.0)), one_sided)
        act = torch.nn.functional.leaky_relu
        return act(zl, s), act(zu, s), dlo, dhi
    if name == "tanh":
        # tanh' = 1 - tanh^2 decreases in |z|: largest at the point of [zl, zu] nearest 0
        nearest = torch.where((zl <= 0) & (zu >= 0), torch.zeros_like(zl), torch.minimum(zl.abs(), zu.abs()))
        farthest = torch.maximum(zl.abs(), zu.abs())
        return torch.tanh(zl), torch.tanh(zu), 1 - torch.tanh(farthest) ** 2, 1 - torch.tanh(nearest) ** 2
    raise NotImplementedError(
        f"certified_path_sup encloses {', '.join(_ACTIVATIONS)} activations, not {name!r}"
    )


def _mul(al, ah, bl, bh):
    """Interval product [al, ah] * [bl, bh], elementwise."""
    corners = torch.stack([al * bl, al * bh, ah * bl, ah * bh])
    return corners.amin(0), corners.amax(0)


def _affine(op, weight, bias, x):
    return op.forward({"weight": weight} if bias is None else {"weight": weight, "bias": bias}, x)


def _after(op, name, slope, point, zc, zr, dzc, dzr):
    """``(point, h_c, h_r, d_c, d_r)`` after the operator's activation (if any): the exact value at
    t_c, the enclosure of the output and of its derivative (activation range times derivative)."""
    if not op.activation_after:
        return point, zc, zr, dzc, dzr
    act_lo, act_hi, slope_lo, slope_hi = _activation_range(name, slope, zc - zr, zc + zr)
    point = _activation_range(name, slope, point, point)[0]
    dlo, dhi = _mul(slope_lo, slope_hi, dzc - dzr, dzc + dzr)
    return point, (act_lo + act_hi) / 2, (act_hi - act_lo) / 2, (dlo + dhi) / 2, (dhi - dlo) / 2


def _enclose(network, x, tc: float, r: float, first_outputs):
    r"""Per example: the exact outputs at ``tc``, and enclosures of the outputs and of their
    derivatives in t over [tc - r, tc + r]: ``(z_point, z_lo, z_hi, dz_lo, dz_hi)``.

    ``first_outputs`` are the first operator's outputs for A and B: for a fixed input the first
    operator is affine in its parameters, so :math:`z_1(t) = z_1^A + t (z_1^B - z_1^A)` exactly, its
    range over the sub-interval is :math:`z_1(t_c) \pm r |z_1^B - z_1^A|` and its derivative the
    constant :math:`z_1^B - z_1^A`: the first layer costs nothing per sub-interval."""
    ops, name, slope, _ = network
    z_a, z_b = first_outputs
    dz1 = z_b - z_a
    zc = z_a + tc * dz1
    state = _after(ops[0], name, slope, zc, zc, r * dz1.abs(), dz1, torch.zeros_like(dz1))
    for op in ops[1:]:
        point, hc, hr, dc, dr = state
        wa, wb = op.params_a["weight"], op.params_b["weight"]
        dw = wb - wa
        wc = wa + tc * dw
        ba, bb = op.params_a.get("bias"), op.params_b.get("bias")
        db = None if ba is None else bb - ba
        bc = None if ba is None else ba + tc * db
        abs_wc, abs_dw = wc.abs(), dw.abs()
        point = _affine(op, wc, bc, point)
        # (interval-value): W(t) h(t) + b(t) in W_c h_c + b_c +- (|W_c| h_r + r |dW| (|h_c| + h_r) + r |db|)
        zc = _affine(op, wc, bc, hc)
        zr = _affine(op, r * abs_dw, None if db is None else r * db.abs(), hc.abs() + hr)
        zr = zr + op.linear({"weight": abs_wc}, hr)
        # (interval-derivative): dW h + W(t) h' + db
        dzc = _affine(op, dw, db, hc) + op.linear({"weight": wc}, dc)
        dzr = (
            op.linear({"weight": abs_dw}, hr)
            + op.linear({"weight": abs_wc}, dr)
            + op.linear({"weight": r * abs_dw}, dc.abs() + dr)
        )
        state = _after(op, name, slope, point, zc, zr, dzc, dzr)
    point, hc, hr, dc, dr = state
    return point, hc - hr, hc + hr, dc - dr, dc + dr


def _per_example(kind, z, y):
    if kind == "cross_entropy":
        return torch.nn.functional.cross_entropy(z, y, reduction="none")
    return ((z - y.view(z.shape[0], -1)) ** 2).sum(-1)


def _loss_bounds(kind, z_lo, z_hi, dz_lo, dz_hi, y):
    """Per example: the loss maximised over the output box, and the enclosure of its derivative."""
    if kind == "cross_entropy":
        n = z_lo.shape[0]
        rows = torch.arange(n)
        zy_lo = z_lo[rows, y]
        # sup over the box of log(1 + sum_{j != y} exp(z_j - z_y)): z_j at its top, z_y at its bottom
        diff = z_hi - zy_lo[:, None]
        diff[rows, y] = 0.0
        box = torch.logsumexp(diff, dim=1)

        # softmax probabilities over the box: p_j is largest with z_j high and the others low
        def prob(top, others):
            return torch.exp(top - torch.logsumexp(torch.cat([top[:, :, None], others], 2), dim=2))

        k = z_lo.shape[1]
        eye = torch.eye(k, dtype=torch.bool)
        rest_lo = z_lo[:, None, :].expand(n, k, k)[:, ~eye].view(n, k, k - 1)
        rest_hi = z_hi[:, None, :].expand(n, k, k)[:, ~eye].view(n, k, k - 1)
        p_hi, p_lo = prob(z_hi, rest_lo), prob(z_lo, rest_hi)
        onehot = torch.nn.functional.one_hot(y, k).to(z_lo.dtype)
        c_lo, c_hi = p_lo - onehot, p_hi - onehot
    else:
        target = y.view(z_lo.shape[0], -1).to(z_lo.dtype)
        e_lo, e_hi = z_lo - target, z_hi - target
        box = torch.maximum(e_lo**2, e_hi**2).sum(-1)
        c_lo, c_hi = 2 * e_lo, 2 * e_hi
    d_lo, d_hi = _mul(c_lo, c_hi, dz_lo, dz_hi)
    return box, d_lo.sum(-1), d_hi.sum(-1)


def _possibly_wrong(point, z_lo, z_hi, dz_lo, dz_hi, y, r):
    """Per example: whether some t of the sub-interval could misclassify it (a margin z_y - z_j that
    is not certified positive by the box or by the mean-value form)."""
    n, k = z_lo.shape
    rows = torch.arange(n)
    m_point = point[rows, y][:, None] - point
    box_lo = z_lo[rows, y][:, None] - z_hi
    dm_lo = dz_lo[rows, y][:, None] - dz_hi
    dm_hi = dz_hi[rows, y][:, None] - dz_lo
    mv_lo = m_point - r * torch.clamp(torch.maximum(-dm_lo, dm_hi), min=0.0)
    margin = torch.maximum(box_lo, mv_lo)
    margin[rows, y] = math.inf
    return (margin <= 0).any(1)


def certified_path_sup(
    model_a,
    model_b,
    data,
    *,
    metrics=("loss", "error"),
    loss: str = "auto",
    atol: float = 1e-4,
    rtol: float = 0.01,
    initial: int = 16,
    max_intervals: int = 2048,
) -> dict[str, PathSup]:
    r"""Certified enclosure of the barrier over all t in [0, 1] (see the module docstring).

    Parameters
    ----------
    model_a, model_b : torch.nn.Module
        Same architecture, of a kind registered with :func:`lmctheory.nn.ops.register_ops`
        (align B to A beforehand).
    data : (x, y) tensors
        The examples; the metrics are means over them.
    metrics : subset of ("loss", "error")
        What to enclose (the error needs class labels).
    loss : {"auto", "cross_entropy", "mse"}
        The loss (``"auto"``: cross-entropy for integer labels).
    atol, rtol : float
        Stop refining when ``upper - lower <= max(atol, rtol * |lower|)`` for every metric.
    initial : int, default 16
        Equal sub-intervals to start from.
    max_intervals : int, default 2048
        Budget of sub-intervals enclosed; the result reports ``converged=False`` if it runs out.

    Returns
    -------
    dict of str to PathSup
        One enclosure per metric.

    Raises
    ------
    ValueError
        Invalid tolerances or budgets, an unknown metric or loss, or the error for float targets.
    NotImplementedError
        A model kind without registered operators, or an activation not covered.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn.models import MLP
    >>> from lmctheory.path_sup import certified_path_sup
    >>> model_a = MLP([1, 1, 1, 1], activation="identity", bias=False)
    >>> model_b = MLP([1, 1, 1, 1], activation="identity", bias=False)
    >>> with torch.no_grad():
    ...     for layer, a, b in zip(model_a.layers, (2.0, 1.0, 1.0), (1.0, 4.0, 0.5)):
    ...         _ = layer.weight.fill_(a)
    ...     for layer, b in zip(model_b.layers, (1.0, 4.0, 0.5)):
    ...         _ = layer.weight.fill_(b)
    >>> data = (torch.ones(1, 1), torch.zeros(1, 1))
    >>> sup = certified_path_sup(model_a, model_b, data, metrics=("loss",), loss="mse")["loss"]
    >>> sup.lower <= 3.96958 <= sup.upper, sup.gap < 1e-4 or sup.gap < 0.01 * sup.lower
    (True, True)
    """
    started = time.perf_counter()
    metrics = tuple(metrics)
    if not metrics or any(m not in ("loss", "error") for m in metrics):
        raise ValueError(f"metrics must be a non-empty subset of ('loss', 'error'), got {metrics!r}")
    atol = check_positive_real(atol, "atol")
    rtol = check_positive_real(rtol, "rtol")
    initial = check_positive_int(initial, "initial")
    max_intervals = check_positive_int(max_intervals, "max_intervals")
    x, y = data
    x = torch.as_tensor(x)
    y = torch.as_tensor(y)
    kind = _loss_kind(y, loss)
    if "error" in metrics and kind == "mse":
        raise ValueError("the error metric needs class labels (cross-entropy), not float targets")
    if not torch.isfinite(x).all():
        raise ValueError("data: x contains non-finite values")
    network = network_ops(model_a, model_b, torch.float64)
    x = network[3](x.to(torch.float64))
    y = y.to(torch.float64) if kind == "mse" else y.long()
    n = x.shape[0]

    with torch.no_grad():
        ends = path_outputs(network, x, torch.tensor([0.0, 1.0], dtype=torch.float64))
        end_loss = [float(_per_example(kind, ends[i], y).mean()) for i in (0, 1)]
        end_error = [
            float((ends[i].argmax(-1) != y).double().mean()) if kind == "cross_entropy" else 0.0
            for i in (0, 1)
        ]
    endpoints = {"loss": end_loss, "error": end_error}

    first_op = network[0][0]
    with torch.no_grad():
        first_outputs = first_op.forward(first_op.params_a, x), first_op.forward(first_op.params_b, x)

    def chord(metric, t):
        a, b = endpoints[metric]
        return (1 - t) * a + t * b

    lower = {m: (0.0, 0.0) for m in metrics}  # (value, t): g(0) = g(1) = 0

    def enclose(t0, t1):
        tc, r = (t0 + t1) / 2, (t1 - t0) / 2
        with torch.no_grad():
            point, z_lo, z_hi, dz_lo, dz_hi = _enclose(network, x, tc, r, first_outputs)
        out = {}
        if "loss" in metrics:
            value = float(_per_example(kind, point, y).mean()) - chord("loss", tc)
            box, d_lo, d_hi = _loss_bounds(kind, z_lo, z_hi, dz_lo, dz_hi, y)
            slope = (
                float(d_hi.mean()) - (end_loss[1] - end_loss[0]),
                float(d_lo.mean()) - (end_loss[1] - end_loss[0]),
            )
            mean_value = value + r * max(slope[0], -slope[1], 0.0)
            box_mean = float(box.mean())
            box_bound = box_mean - min(chord("loss", t0), chord("loss", t1))
            out["loss"] = (value, min(mean_value, box_bound) + _ROUNDING * max(abs(box_mean), 1.0))
        if "error" in metrics:
            value = float((point.argmax(-1) != y).double().mean()) - chord("error", tc)
            wrong = _possibly_wrong(point, z_lo, z_hi, dz_lo, dz_hi, y, r)
            out["error"] = (value, float(wrong.double().mean()) - min(chord("error", t0), chord("error", t1)))
        for m, (value, _) in out.items():
            if value > lower[m][0]:
                lower[m] = (value, tc)
        return out

    def threshold(m):
        return max(atol, rtol * abs(lower[m][0]))

    items = [(k / initial, (k + 1) / initial) for k in range(initial)]
    items = [(t0, t1, enclose(t0, t1)) for t0, t1 in items]
    count = len(items)

    def excess(item):
        return max(item[2][m][1] - lower[m][0] - threshold(m) for m in metrics)

    # bisect the sub-intervals whose upper bound is too far above the best lower bound, the worst
    # first, a batch at a time (lower bounds only grow, so excesses are recomputed every round)
    while count < max_intervals:
        ranked = sorted(items, key=excess, reverse=True)
        split = [it for it in ranked[:_BATCH] if excess(it) > 0][: (max_intervals - count) // 2]
        if not split:
            break
        keep = {id(it) for it in split}
        items = [it for it in items if id(it) not in keep]
        for t0, t1, _ in split:
            mid = (t0 + t1) / 2
            items += [(t0, mid, enclose(t0, mid)), (mid, t1, enclose(mid, t1))]
            count += 2
    result = {}
    for m in metrics:
        upper = max([0.0] + [it[2][m][1] for it in items])
        value, t_at = lower[m]
        worst = max(items, key=lambda it: it[2][m][1])
        result[m] = PathSup(
            metric=m,
            lower=value,
            upper=max(upper, value),
            t_lower=t_at,
            endpoints=tuple(endpoints[m]),
            converged=max(upper, value) - value <= threshold(m),
            intervals=count,
            info={
                "atol": atol,
                "rtol": rtol,
                "loss": kind if m == "loss" else None,
                "n_examples": n,
                "largest_upper_on": [worst[0], worst[1]],
                "seconds": time.perf_counter() - started,
                "path": PATH_CONVENTION,
                "definition": "sup over t in [0, 1] of metric(t) - ((1 - t) metric(0) + t metric(1))",
            },
        )
    return result
