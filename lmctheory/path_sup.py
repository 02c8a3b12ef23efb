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
from .barrier import PATH_CONVENTION, _loss_kind, per_example_loss
from .nn.ops import network_ops, path_outputs

__all__ = [
    "DEFINITIONS",
    "REFERENCES",
    "PathSup",
    "box_loss_max",
    "certified_path_sup",
    "softmax_range",
]

#: activations whose derivative range over an interval is enclosed here
_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "identity")
#: relative allowance for float64 rounding in the enclosures
_ROUNDING = 1e-9
#: what the barrier is measured above, and the quantity each reference defines
REFERENCES = ("chord", "mean")
DEFINITIONS = {
    "chord": "sup over t in [0, 1] of metric(t) - ((1 - t) metric(0) + t metric(1))",
    "mean": "sup over t in [0, 1] of metric(t) - (metric(0) + metric(1)) / 2",
}
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
        pos, neg = (zl > 0).to(zl.dtype), (zu < 0).to(zl.dtype)
        if s <= 1:
            dlo, dhi = s + (1 - s) * pos, 1 - (1 - s) * neg
        else:
            dlo, dhi = 1 + (s - 1) * neg, s - (s - 1) * pos
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


def _mul(al, ah, bl, bh, *, nonnegative: bool = False):
    """Interval product [al, ah] * [bl, bh], elementwise (``nonnegative``: al >= 0 is known)."""
    if nonnegative:
        return torch.minimum(al * bl, ah * bl), torch.maximum(ah * bh, al * bh)
    corners = torch.stack([al * bl, al * bh, ah * bl, ah * bh])
    return corners.amin(0), corners.amax(0)


def _affine(op, weight, bias, x):
    return op.forward({"weight": weight} if bias is None else {"weight": weight, "bias": bias}, x)


def _after(op, name, slope, zc, zr, dzc, dzr):
    """``(h_c, h_r, d_c, d_r)`` after the operator's activation (if any): the enclosure of the output
    and of its derivative (activation range times derivative)."""
    if not op.activation_after:
        return zc, zr, dzc, dzr
    act_lo, act_hi, slope_lo, slope_hi = _activation_range(name, slope, zc - zr, zc + zr)
    monotone = name != "leaky_relu" or slope >= 0  # the slope range is then nonnegative
    dlo, dhi = _mul(slope_lo, slope_hi, dzc - dzr, dzc + dzr, nonnegative=monotone)
    return (act_lo + act_hi) / 2, (act_hi - act_lo) / 2, (dlo + dhi) / 2, (dhi - dlo) / 2


def _enclose(network, tc: float, r: float, first_outputs):
    r"""Per example, enclosures of the outputs and of their derivatives in t over [tc - r, tc + r]:
    ``(z_lo, z_hi, dz_lo, dz_hi)``.

    ``first_outputs`` are the first operator's outputs for A and B: for a fixed input the first
    operator is affine in its parameters, so :math:`z_1(t) = z_1^A + t (z_1^B - z_1^A)` exactly, its
    range over the sub-interval is :math:`z_1(t_c) \pm r |z_1^B - z_1^A|` and its derivative the
    constant :math:`z_1^B - z_1^A`: the first layer costs nothing per sub-interval."""
    ops, name, slope, _ = network
    z_a, z_b = first_outputs
    dz1 = z_b - z_a
    zc = z_a + tc * dz1
    state = _after(ops[0], name, slope, zc, r * dz1.abs(), dz1, torch.zeros_like(dz1))
    for op in ops[1:]:
        hc, hr, dc, dr = state
        wa, wb = op.params_a["weight"], op.params_b["weight"]
        dw = wb - wa
        wc = wa + tc * dw
        ba, bb = op.params_a.get("bias"), op.params_b.get("bias")
        db = None if ba is None else bb - ba
        bc = None if ba is None else ba + tc * db
        abs_wc, abs_dw = wc.abs(), dw.abs()
        # (interval-value): W(t) h(t) + b(t) in W_c h_c + b_c +- (|W_c| h_r + r |dW| (|h_c| + h_r) + r |db|)
        zc = _affine(op, wc, bc, hc)
        zr = _affine(op, abs_dw, None if db is None else r * db.abs(), r * (hc.abs() + hr))
        # (interval-derivative): dW h + W(t) h' + db
        dzc = _affine(op, dw, db, hc) + op.linear({"weight": wc}, dc)
        dzr = op.linear({"weight": abs_dw}, hr + r * (dc.abs() + dr)) + op.linear({"weight": abs_wc}, dr)
        zr = zr + op.linear({"weight": abs_wc}, hr)
        state = _after(op, name, slope, zc, zr, dzc, dzr)
    hc, hr, dc, dr = state
    return hc - hr, hc + hr, dc - dr, dc + dr


def box_loss_max(kind: str, z_lo: torch.Tensor, z_hi: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Per example, the largest loss over the box of outputs ``[z_lo, z_hi]`` (exact).

    Cross-entropy :math:`\log(1 + \sum_{j \ne y} e^{z_j - z_y})` is largest with :math:`z_j` at its
    top and :math:`z_y` at its bottom; squared error with each output at the end farthest from its target.

    Parameters
    ----------
    kind : {"cross_entropy", "mse"}
        The loss.
    z_lo, z_hi : torch.Tensor, shape (n, k)
        The box of outputs (``z_lo <= z_hi``).
    y : torch.Tensor
        Class labels (n,) or targets (n, k).

    Returns
    -------
    torch.Tensor, shape (n,)
        The largest loss of each example over its box.

    Raises
    ------
    RuntimeError
        Shapes that do not match (torch's error); labels outside the classes.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.path_sup import box_loss_max
    >>> box_loss_max("mse", torch.tensor([[-1.0]]), torch.tensor([[0.5]]), torch.zeros(1, 1)).item()
    1.0
    """
    if kind == "cross_entropy":
        rows = torch.arange(z_lo.shape[0])
        diff = z_hi - z_lo[rows, y][:, None]
        diff[rows, y] = 0.0
        return torch.logsumexp(diff, dim=1)
    target = y.view(z_lo.shape[0], -1).to(z_lo.dtype)
    return torch.maximum((z_lo - target) ** 2, (z_hi - target) ** 2).sum(-1)


def softmax_range(z_lo: torch.Tensor, z_hi: torch.Tensor, *, log: bool = False):
    """Per example and class, the smallest and largest softmax probability over the box of logits
    ``[z_lo, z_hi]``: :math:`p_j` is largest with :math:`z_j` at its top and the other logits at their
    bottoms, smallest the other way round (exact for a box).

    Parameters
    ----------
    z_lo, z_hi : torch.Tensor, shape (n, k)
        The box of logits (``z_lo <= z_hi``).
    log : bool, default False
        Return the logarithms of the probabilities (no underflow).

    Returns
    -------
    tuple of torch.Tensor, each of shape (n, k)
        The smallest and the largest probability (or their logarithms).

    Raises
    ------
    RuntimeError
        Boxes of different shapes (torch's error).

    Examples
    --------
    >>> import torch
    >>> from lmctheory.path_sup import softmax_range
    >>> lo, hi = softmax_range(torch.zeros(1, 2), torch.zeros(1, 2))
    >>> lo.tolist(), hi.tolist()
    ([[0.5, 0.5]], [[0.5, 0.5]])
    """
    n, k = z_lo.shape
    eye = torch.eye(k, dtype=torch.bool)

    def log_prob(own, others):
        rest = others[:, None, :].expand(n, k, k)[:, ~eye].view(n, k, k - 1)
        return own - torch.logsumexp(torch.cat([own[:, :, None], rest], 2), dim=2)

    lo, hi = log_prob(z_lo, z_hi), log_prob(z_hi, z_lo)
    return (lo, hi) if log else (lo.exp(), hi.exp())


def _loss_bounds(kind, z_lo, z_hi, dz_lo, dz_hi, y):
    """Per example: the loss maximised over the output box, and the enclosure of its derivative."""
    box = box_loss_max(kind, z_lo, z_hi, y)
    if kind == "cross_entropy":
        p_lo, p_hi = softmax_range(z_lo, z_hi)
        onehot = torch.nn.functional.one_hot(y, z_lo.shape[1]).to(z_lo.dtype)
        c_lo, c_hi = p_lo - onehot, p_hi - onehot
    else:
        target = y.view(z_lo.shape[0], -1).to(z_lo.dtype)
        c_lo, c_hi = 2 * (z_lo - target), 2 * (z_hi - target)
    d_lo, d_hi = _mul(c_lo, c_hi, dz_lo, dz_hi)
    return box, d_lo.sum(-1), d_hi.sum(-1)


def _line_sup(g0, g1, d_lo, d_hi, h):
    r"""Largest value on [0, h] of a function with values g0, g1 at the ends and derivative in
    [d_lo, d_hi]: :math:`\max_s \min(g_0 + s\,\bar d, g_1 - (h - s)\,\underline d)` (the two bounds
    cross at one point; the maximum of their minimum is there, or at an end)."""
    width = d_hi - d_lo
    cross = torch.where(width > 0, (g1 - g0 - h * d_lo) / torch.where(width > 0, width, 1.0), 0.0)
    best = None
    for s in (torch.zeros_like(g0), torch.full_like(g0, h), cross.clamp(0.0, h)):
        value = torch.minimum(g0 + s * d_hi, g1 - (h - s) * d_lo)
        best = value if best is None else torch.maximum(best, value)
    return best


def _margins(z, y):
    """``z_y - z_j`` per example and class (``+inf`` at j = y)."""
    rows = torch.arange(z.shape[0])
    margin = z[rows, y][:, None] - z
    margin[rows, y] = math.inf
    return margin


def _possibly_wrong(m0, m1, z_lo, z_hi, dz_lo, dz_hi, y, h):
    """Per example: whether some t of the sub-interval could misclassify it (a margin z_y - z_j that
    is not certified positive by the box, nor by its end values and derivative enclosure)."""
    rows = torch.arange(z_lo.shape[0])
    box_lo = z_lo[rows, y][:, None] - z_hi
    dm_lo = dz_lo[rows, y][:, None] - dz_hi
    dm_hi = dz_hi[rows, y][:, None] - dz_lo
    # the smallest margin: minus the largest of -margin, whose derivative lies in [-dm_hi, -dm_lo]
    finite = m0.isfinite()
    line = -_line_sup(-m0.where(finite, 0.0), -m1.where(finite, 0.0), -dm_hi, -dm_lo, h)
    margin = torch.maximum(box_lo, line).where(finite, math.inf)
    return (margin <= 0).any(1)


def certified_path_sup(
    model_a,
    model_b,
    data,
    *,
    metrics=("loss", "error"),
    reference="chord",
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
    reference : {"chord", "mean"} or dict of metric to either, default "chord"
        What the barrier is measured above: the chord :math:`(1 - t) m(0) + t m(1)` (``"chord"``,
        the ``above_chord`` barrier of :mod:`lmctheory.barrier`) or the endpoints' mean
        :math:`(m(0) + m(1)) / 2` (``"mean"``, the ``max_minus_mean`` barrier).
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
    references = dict.fromkeys(metrics, reference) if isinstance(reference, str) else dict(reference)
    if set(references) != set(metrics) or any(v not in REFERENCES for v in references.values()):
        raise ValueError(
            f"reference must be one of {REFERENCES} or a dict metric -> reference for {metrics}, got {reference!r}"
        )
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
    first_op = network[0][0]
    with torch.no_grad():
        first_outputs = first_op.forward(first_op.params_a, x), first_op.forward(first_op.params_b, x)

    def point(t):
        """Per metric, the per-example values at t (exact), and the margins for the error."""
        with torch.no_grad():
            z = path_outputs(network, x, torch.tensor([t], dtype=torch.float64))
        out = {"loss": per_example_loss(kind, z, y)[0]}
        if "error" in metrics:
            z = z[0]
            out["error"] = (z.argmax(-1) != y).double()
            out["margins"] = _margins(z, y)
        return out

    start_point, end_point = point(0.0), point(1.0)
    # per example, the reference line's values at t = 0 and t = 1 (the chord, or the endpoints' mean)
    ref_ends = {}
    for m in metrics:
        v0, v1 = start_point[m], end_point[m]
        ref_ends[m] = (v0, v1) if references[m] == "chord" else ((v0 + v1) / 2, (v0 + v1) / 2)
    endpoints = {m: (float(start_point[m].mean()), float(end_point[m].mean())) for m in metrics}

    def g(m, values, t):
        """Per example: the metric minus its reference line at t."""
        r0, r1 = ref_ends[m]
        return values[m] - ((1 - t) * r0 + t * r1)

    lower = {m: (float(g(m, start_point, 0.0).mean()), 0.0) for m in metrics}
    for m in metrics:
        at_end = float(g(m, end_point, 1.0).mean())
        if at_end > lower[m][0]:
            lower[m] = (at_end, 1.0)

    def enclose(t0, t1, p0, p1):
        """Upper bound of each metric's g on [t0, t1] from the enclosure and the end values."""
        tc, r, h = (t0 + t1) / 2, (t1 - t0) / 2, t1 - t0
        with torch.no_grad():
            z_lo, z_hi, dz_lo, dz_hi = _enclose(network, tc, r, first_outputs)
        out = {}
        if "loss" in metrics:
            r0, r1 = ref_ends["loss"]
            box, d_lo, d_hi = _loss_bounds(kind, z_lo, z_hi, dz_lo, dz_hi, y)
            g0, g1 = g("loss", p0, t0), g("loss", p1, t1)
            d_lo, d_hi = d_lo - (r1 - r0), d_hi - (r1 - r0)
            box = box - torch.minimum((1 - t0) * r0 + t0 * r1, (1 - t1) * r0 + t1 * r1)
            per_example = torch.minimum(box, _line_sup(g0, g1, d_lo, d_hi, h)).mean()
            mean = _line_sup(*(v.mean().view(1) for v in (g0, g1, d_lo, d_hi)), h)
            bound = min(float(per_example), float(mean), float(box.mean()))
            out["loss"] = bound + _ROUNDING * max(float(box.abs().mean()), 1.0)
        if "error" in metrics:
            r0, r1 = ref_ends["error"]
            wrong = _possibly_wrong(p0["margins"], p1["margins"], z_lo, z_hi, dz_lo, dz_hi, y, h)
            ref_min = torch.minimum((1 - t0) * r0 + t0 * r1, (1 - t1) * r0 + t1 * r1)
            out["error"] = float(wrong.double().mean()) - float(ref_min.mean())
        return out

    def add_point(t):
        p = point(t)
        for m in metrics:
            value = float(g(m, p, t).mean())
            if value > lower[m][0]:
                lower[m] = (value, t)
        return p

    def threshold(m):
        return max(atol, rtol * abs(lower[m][0]))

    ts = [k / initial for k in range(initial + 1)]
    points = [start_point, *(add_point(t) for t in ts[1:-1]), end_point]
    items = [(ts[k], ts[k + 1], points[k], points[k + 1]) for k in range(initial)]
    items = [(*it, enclose(*it)) for it in items]
    count = len(items)

    def excess(item):
        return max(item[4][m] - lower[m][0] - threshold(m) for m in metrics)

    # bisect the sub-intervals whose upper bound is too far above the best lower bound, the worst
    # first, a batch at a time (lower bounds only grow, so excesses are recomputed every round)
    while count < max_intervals:
        ranked = sorted(items, key=excess, reverse=True)
        split = [it for it in ranked[:_BATCH] if excess(it) > 0][: (max_intervals - count) // 2]
        if not split:
            break
        keep = {id(it) for it in split}
        items = [it for it in items if id(it) not in keep]
        for t0, t1, p0, p1, _ in split:
            mid = (t0 + t1) / 2
            pm = add_point(mid)
            items += [
                (t0, mid, p0, pm, enclose(t0, mid, p0, pm)),
                (mid, t1, pm, p1, enclose(mid, t1, pm, p1)),
            ]
            count += 2
    result = {}
    for m in metrics:
        value, t_at = lower[m]
        worst = max(items, key=lambda it: it[4][m])
        upper = max(value, worst[4][m])
        result[m] = PathSup(
            metric=m,
            lower=value,
            upper=upper,
            t_lower=t_at,
            endpoints=endpoints[m],
            converged=upper - value <= threshold(m),
            intervals=count,
            info={
                "atol": atol,
                "rtol": rtol,
                "reference": references[m],
                "loss": kind if m == "loss" else None,
                "n_examples": n,
                "largest_upper_on": [worst[0], worst[1]],
                "seconds": time.perf_counter() - started,
                "path": PATH_CONVENTION,
                "definition": DEFINITIONS[references[m]],
            },
        )
    return result
