r"""The barrier over every t in [0, 1], certified: a rigorous enclosure of :math:`\sup_t` on the path.

Every barrier of :mod:`lmctheory.lmc` is a maximum over a grid of t, which can miss the peak
between two grid points. This module encloses the supremum over the whole segment of the loss (and
the error) above a reference line (:ref:`theory-certified-sup`),

.. math:: g(t) = L(\theta(t)) - [(1 - t) L(\theta_A) + t L(\theta_B)],
          \qquad \theta(t) = (1 - t)\theta_A + t\theta_B,

(or above the endpoints' mean) between a lower bound, a value of g that the path provably reaches at
an evaluated t, and an upper bound that holds for every t in [0, 1].

The path is cut into dyadic sub-intervals. On each, :class:`lmctheory.lmc._enclosure.PathEnclosure`
encloses every output of every example in a first-order Taylor model in t,
:math:`z(s) \in c + s g + [-e, e]` for :math:`t = t_c + rs`, :math:`s \in [-1, 1]`, with every rounding
error bounded. The loss maximised over that set is, per example, a convex function of s (for
cross-entropy a log-sum-exp of affine functions of s, for squared error a sum of squares of
:math:`|\text{affine}| + e`), and so is its mean minus the (affine) reference line: its supremum over
the sub-interval is at one of its two ends, s = -1 or s = 1. At the points where the path is evaluated
(the sub-interval ends) the same enclosure with r = 0 bounds g from below. Sub-intervals whose upper
bound exceeds the best lower bound by more than the tolerance are all bisected in one batch per
round, until the gap closes or the budget is spent (the result says which). For the error, an example
counts as possibly wrong on a sub-interval unless every margin :math:`z_y - z_j` is certified positive
on all of it; a t gives a lower bound only if every example's margin signs are certified there, so
the error there is known exactly (ties count as errors).

What is enclosed is the function the stored parameters and inputs define in exact arithmetic
(a float32 model's weights are taken as the exact numbers they are); rounding is bounded as
:mod:`lmctheory.lmc` describes. Covered: the model kinds of
:func:`lmctheory.nn.register_ops` (MLP, mean-field, logistic regression, CNN, LCN) with ReLU,
leaky ReLU of any slope, tanh or identity activations; cross-entropy or squared error.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction

import torch

from ..nn import loss_kind, network_ops, per_example_loss
from ..utils.validation import check_positive_int, check_positive_real
from ._enclosure import Form, PathEnclosure
from ._path import PATH_CONVENTION, model_device
from ._rounding import LIBM_ULPS, TINY, U, down, gamma, up

__all__ = [
    "DEFINITIONS",
    "REFERENCES",
    "PathSup",
    "box_loss_max",
    "certified_path_sup",
    "softmax_range",
]

#: what the barrier is measured above, and the quantity each reference defines
REFERENCES = ("chord", "mean")
DEFINITIONS = {
    "chord": "sup over t in [0, 1] of metric(t) - ((1 - t) metric(0) + t metric(1))",
    "mean": "sup over t in [0, 1] of metric(t) - (metric(0) + metric(1)) / 2",
}
#: the most (segment, example, unit) values one batch of the enclosure holds: 4 MB per float64 tensor
#: (larger tensors are served by fresh pages, which costs more than the arithmetic on them)
_BATCH_ELEMENTS = 2**19


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
    definition : str
        The barrier enclosed (:data:`lmctheory.lmc.DEFINITIONS`): ``"above_chord"`` or ``"max_minus_mean"``.
    info : dict
        Tolerances, timings, the largest remaining gap's location.

    Examples
    --------
    >>> from lmctheory.lmc import PathSup
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
    definition: str = "above_chord"
    info: dict = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """``upper - lower``."""
        return self.upper - self.lower

    def to_dict(self) -> dict:
        """Plain data (JSON)."""
        return {
            "metric": self.metric,
            "definition": self.definition,
            "lower": self.lower,
            "upper": self.upper,
            "gap": self.gap,
            "t_lower": self.t_lower,
            "endpoints": list(self.endpoints),
            "converged": self.converged,
            "intervals": self.intervals,
            "info": self.info,
        }


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
    IndexError
        Labels outside the classes (cross-entropy).
    RuntimeError
        Squared-error targets whose shape does not match the box (torch's error).

    Notes
    -----
    The shapes are not checked beyond what torch's indexing needs (this runs on every interval of
    :func:`certified_path_sup`, which passes boxes of one shape): for cross-entropy, ``z_lo`` and ``z_hi``
    must have the same shape.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.lmc import box_loss_max
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
    >>> from lmctheory.lmc import softmax_range
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


# ------------------------------------------------------------ bounds on the loss and error over an enclosure


def _float_up(q: Fraction) -> float:
    """The smallest float at least the rational ``q``."""
    f = float(q)
    return math.nextafter(f, math.inf) if Fraction(f) < q else f


def _float_down(q: Fraction) -> float:
    """The largest float at most the rational ``q``."""
    f = float(q)
    return math.nextafter(f, -math.inf) if Fraction(f) > q else f


def _mean_bound(v: torch.Tensor, upper: bool) -> torch.Tensor:
    """Bound of the exact mean over the last axis of ``v`` (sum rounding: gamma_n times the sum of |v|)."""
    n = v.shape[-1]
    total, size = v.sum(-1), v.abs().sum(-1) * (2 * gamma(n + 2))
    return up((total + size) / n, 2) if upper else down((total - size) / n, 2)


def _line(t: torch.Tensor, v0: torch.Tensor, v1: torch.Tensor, upper: bool) -> torch.Tensor:
    """Bound of :math:`(1 - t) v_0 + t v_1` per segment and example (t: (K,), v: (n,) -> (K, n))."""
    t = t.view(-1, 1)
    value = (1 - t) * v0 + t * v1  # 1 - t is exact for t in [0, 1] a binary fraction
    slack = 3 * U * (v0.abs() + v1.abs()) + TINY
    return up(value + slack) if upper else down(value - slack)


def _log_sum_exp(d: torch.Tensor, upper: bool) -> torch.Tensor:
    r"""Bound of :math:`\log \sum_j e^{d_j}` over the last axis, for exact d_j = the given values.

    With :math:`m = \max_j d_j` the sum :math:`S = \sum_j e^{d_j - m}` lies in [1, k]: the differences
    (exact to :math:`u|d_j - m| \le 800u` where the term matters), the exponentials (``LIBM_ULPS``), the
    sum (:math:`\gamma_k`) and the logarithm give an absolute error below :math:`(900 + 4k)u`, the final
    addition :math:`u|m + \log S|`."""
    k = d.shape[-1]
    m = d.amax(-1, keepdim=True)
    value = m.squeeze(-1) + torch.log(torch.exp((d - m).clamp_(min=-800.0)).sum(-1))
    slack = (900 + 4 * k + 8 * LIBM_ULPS) * U + 4 * U * value.abs() + k * TINY
    return up(value + slack) if upper else down(value - slack)


def _class_differences(form: Form, y: torch.Tensor, s: float | None, sign: float):
    r"""Per segment, example and class, a bound of :math:`z_j - z_y` over the enclosure at s (or over
    the whole segment when ``s`` is None): ``sign = 1`` the upper, ``-1`` the lower bound."""
    idx = y.view(1, -1, 1).expand(form.c.shape[0], -1, 1)
    c, e = form.c, form.e
    own_c, own_e = c.gather(2, idx), e.gather(2, idx)
    diff = c - own_c
    size = c.abs() + own_c.abs() + e + own_e
    radius = e + own_e
    if form.g is not None:
        own_g = form.g.gather(2, idx)
        dg = form.g - own_g
        size = size + form.g.abs() + own_g.abs()
        if s is None:
            radius = radius + dg.abs()
        else:
            diff = diff + s * dg
    value = diff + sign * (radius + 5 * U * size + TINY)
    return value.scatter_(2, idx, 0.0), idx


def _loss_bound(kind: str, form: Form, y: torch.Tensor, s: float | None, upper: bool) -> torch.Tensor:
    """Per segment and example, a bound of the loss over the enclosure at s (points: ``s`` None, g = 0)."""
    if kind == "cross_entropy":
        diff, _ = _class_differences(form, y, s, 1.0 if upper else -1.0)
        return _log_sum_exp(diff, upper)
    target = y.reshape(1, y.shape[0], *form.c.shape[2:])
    a = form.c - target
    size = form.c.abs() + target.abs()
    if form.g is not None:
        a = a + s * form.g
        size = size + form.g.abs()
    slack = form.e + 4 * U * size + TINY
    k = a[0, 0].numel()
    if upper:
        return up((a.abs() + slack).square().flatten(2).sum(-1) * (1 + gamma(k + 4)), 2)
    return down((a.abs() - slack).clamp(min=0).square().flatten(2).sum(-1) * (1 - gamma(k + 4)), 2)


def _margin_signs(form: Form, y: torch.Tensor, s: float | None = None):
    """Per segment and example: (possibly wrong, certainly wrong, certified) somewhere on the segment (at s
    when given)."""
    upper, idx = _class_differences(form, y, s, 1.0)  # bound of z_j - z_y from above
    lower, _ = _class_differences(form, y, s, -1.0)
    upper.scatter_(2, idx, -math.inf)
    lower.scatter_(2, idx, -math.inf)
    possibly = (~(upper < 0)).any(-1)  # some z_j may reach z_y (ties count as errors; NaN: unknown)
    certainly = (lower > 0).any(-1)
    return possibly, certainly, certainly | ~possibly


class _Objective:
    """g of each metric along the path, bounded on points and segments from the enclosure."""

    def __init__(self, enclosure: PathEnclosure, kind: str, y: torch.Tensor, metrics, references):
        self.enclosure, self.kind, self.y, self.metrics, self.references = (
            enclosure,
            kind,
            y,
            metrics,
            references,
        )
        self.n = int(y.shape[0])
        self.chunk = max(1, _BATCH_ELEMENTS // max(1, self.n * enclosure.width))
        ends = enclosure.outputs(torch.tensor([0.0, 1.0], dtype=torch.float64))
        self.ref = {}
        self.endpoints = {}
        if "loss" in metrics:
            lo, hi = _loss_bound(kind, ends, y, None, False), _loss_bound(kind, ends, y, None, True)
            self.ref["loss"] = (lo, hi)  # per example, at t = 0 and t = 1
            # the float64 evaluation (the centre of the enclosure), for the record
            self.endpoints["loss"] = tuple(per_example_loss(kind, ends.c, y).mean(1).tolist())
        if "error" in metrics:
            _, wrong, certified = _margin_signs(ends, y)
            low = [Fraction(int(wrong[i].sum()), self.n) for i in (0, 1)]
            high = [Fraction(int((wrong[i] | ~certified[i]).sum()), self.n) for i in (0, 1)]
            self.ref["error"] = (low, high)
            self.endpoints["error"] = (float(low[0]), float(low[1]))
            self.error_ends_certified = bool(certified.all())

    def _reference_loss(self, t: torch.Tensor, upper: bool) -> torch.Tensor:
        lo, hi = self.ref["loss"]
        v = hi if upper else lo
        if self.references["loss"] == "mean":
            t = torch.full_like(t, 0.5)
        return _line(t, v[0], v[1], upper)

    def _reference_error(self, t: float, upper: bool) -> Fraction:
        low, high = self.ref["error"]
        v = high if upper else low
        t = Fraction(0.5) if self.references["error"] == "mean" else Fraction(t)
        return (1 - t) * v[0] + t * v[1]

    def _chunks(self, ts):
        for start in range(0, len(ts), self.chunk):
            yield start, ts[start : start + self.chunk]

    def _lower(self, form: Form, s: float | None, ts: list[float]) -> dict[str, list]:
        """Per metric and segment, a value g provably takes at ts (the enclosure at s; points: s None), or
        None for the error where some margin's sign is not certified there."""
        out = {}
        if "loss" in self.metrics:
            t = torch.tensor(ts, dtype=torch.float64)
            g = down(_loss_bound(self.kind, form, self.y, s, False) - self._reference_loss(t, True))
            # NaN (an overflow somewhere) bounds nothing
            out["loss"] = _mean_bound(g, False).nan_to_num(nan=-math.inf).tolist()
        if "error" in self.metrics:
            _, wrong, certified = _margin_signs(form, self.y, s)
            counts, known = wrong.sum(1).tolist(), certified.all(1).tolist()
            out["error"] = [
                _float_down(Fraction(count, self.n) - self._reference_error(t, True)) if ok else None
                for count, ok, t in zip(counts, known, ts, strict=True)
            ]
        return out

    def points(self, ts: list[float]) -> dict[str, list]:
        """Per metric and t, a value g provably takes at t (None: not certified there)."""
        out = {m: [] for m in self.metrics}
        for _, part in self._chunks(ts):
            values = self._lower(self.enclosure.outputs(torch.tensor(part, dtype=torch.float64)), None, part)
            for m in self.metrics:
                out[m] += values[m]
        return out

    def segments(self, t0: list[float], t1: list[float]):
        """Per metric and segment [t0, t1]: an upper bound of g on all of it, and values g provably takes
        at t0 and at t1 (the segment's enclosure at its ends)."""
        upper, at_start, at_end = ({m: [] for m in self.metrics} for _ in range(3))
        for start, part in self._chunks(t0):
            ends = t1[start : start + len(part)]
            lo = torch.tensor(part, dtype=torch.float64)
            hi = torch.tensor(ends, dtype=torch.float64)
            form = self.enclosure.outputs((lo + hi) / 2, (hi - lo) / 2)  # exact: binary fractions
            if "loss" in self.metrics:
                # the bound is convex in s: its largest value on the segment is at an end
                bounds = [
                    _mean_bound(
                        up(_loss_bound(self.kind, form, self.y, s, True) - self._reference_loss(t, False)),
                        True,
                    )
                    for s, t in ((-1.0, lo), (1.0, hi))
                ]
                # NaN (an overflow somewhere) bounds nothing from above
                upper["loss"] += torch.maximum(*bounds).nan_to_num(nan=math.inf).tolist()
            if "error" in self.metrics:
                possibly, _, _ = _margin_signs(form, self.y)
                for count, t_start, t_end in zip(possibly.sum(1).tolist(), part, ends, strict=True):
                    low_ref = min(self._reference_error(t, False) for t in (t_start, t_end))
                    upper["error"].append(_float_up(Fraction(count, self.n) - low_ref))
            for values, s, ts in ((at_start, -1.0, part), (at_end, 1.0, ends)):
                for m, v in self._lower(form, s, ts).items():
                    values[m] += v
        return upper, at_start, at_end


def _exact_float64(x: torch.Tensor, name: str) -> torch.Tensor:
    """``x`` in float64 without rounding (floats widen exactly; integers must fit in 53 bits)."""
    if x.is_floating_point():
        if not torch.isfinite(x).all():
            raise ValueError(f"data: {name} contains non-finite values")
        return x.detach().to(torch.float64)
    wide = x.detach().to(torch.float64)
    if x.dtype != torch.bool and (wide.abs() >= 2.0**53).any():
        raise ValueError(f"data: {name} holds integers beyond 2**53, which float64 cannot hold exactly")
    return wide


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
        Same kind, architecture and activation, of a kind registered with
        :func:`lmctheory.nn.register_ops` (align B to A beforehand).
    data : (x, y) tensors
        The examples; the metrics are means over them. Their values are part of the enclosure (taken
        as exact numbers).
    metrics : subset of ("loss", "error")
        What to enclose (the error needs class labels).
    reference : {"chord", "mean"} or dict of metric to either, default "chord"
        What the barrier is measured above: the chord :math:`(1 - t) m(0) + t m(1)` (``"chord"``,
        the ``above_chord`` barrier of :mod:`lmctheory.lmc`) or the endpoints' mean
        :math:`(m(0) + m(1)) / 2` (``"mean"``, the ``max_minus_mean`` barrier).
    loss : {"auto", "cross_entropy", "mse"}
        The loss (``"auto"``: cross-entropy for integer labels).
    atol, rtol : float
        Stop refining when ``upper - lower <= max(atol, rtol * |lower|)`` for every metric.
    initial : int, default 16
        Equal sub-intervals to start from (a power of two: every sub-interval end is then an exact
        binary fraction).
    max_intervals : int, default 2048
        Budget of sub-intervals enclosed; the result reports ``converged=False`` if it runs out.

    Returns
    -------
    dict of str to PathSup
        One enclosure per metric: ``lower <= sup_t g(t) <= upper``, ``lower`` a value g provably
        takes at ``t_lower``.

    Raises
    ------
    ValueError
        Invalid tolerances or budgets, an unknown metric or loss, the error for float targets,
        non-finite inputs, or models of different kinds, architectures or activations.
    NotImplementedError
        A model kind without registered operators, or an activation not covered.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.lmc import certified_path_sup
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
    if not metrics or any(m not in ("loss", "error") for m in metrics) or len(set(metrics)) != len(metrics):
        raise ValueError(f"metrics must be a non-empty subset of ('loss', 'error'), got {metrics!r}")
    references = dict.fromkeys(metrics, reference) if isinstance(reference, str) else dict(reference)
    if set(references) != set(metrics) or any(v not in REFERENCES for v in references.values()):
        raise ValueError(
            f"reference must be one of {REFERENCES} or a dict metric -> reference for {metrics}, got {reference!r}"
        )
    atol = check_positive_real(atol, "atol")
    rtol = check_positive_real(rtol, "rtol")
    initial = check_positive_int(initial, "initial")
    if initial & (initial - 1):
        raise ValueError(f"initial must be a power of two (exact sub-interval ends), got {initial}")
    max_intervals = check_positive_int(max_intervals, "max_intervals")
    device = model_device(model_a)  # the data follows the model
    x, y = (torch.as_tensor(v).to(device) for v in data)
    kind = loss_kind(y, loss)
    if "error" in metrics and kind == "mse":
        raise ValueError("the error metric needs class labels (cross-entropy), not float targets")
    if len(x) == 0 or len(x) != len(y):
        raise ValueError(f"data: {len(x)} inputs and {len(y)} labels (need the same, non-zero number)")
    network = network_ops(model_a, model_b, torch.float64)  # refuses pairs that differ in kind or shape
    x = network[3](_exact_float64(x, "x"))
    y = _exact_float64(y, "y") if kind == "mse" else y.long()
    objective = _Objective(PathEnclosure(network, x), kind, y, metrics, references)

    lower = {m: (-math.inf, 0.0) for m in metrics}
    evaluated = set()  # the t whose lower bound comes from a point enclosure (as tight as it gets)

    def offer(m, t, value):
        if references[m] == "chord" and t in (0.0, 1.0):
            value = 0.0  # g(0) = g(1) = 0 exactly above the chord
        if value is not None and value > lower[m][0]:
            lower[m] = (value, t)

    def add_points(ts):
        values = objective.points(ts)
        evaluated.update(ts)
        for m in metrics:
            for t, value in zip(ts, values[m], strict=True):
                offer(m, t, value)

    def threshold(m):
        return max(atol, rtol * abs(lower[m][0]))

    leaves: dict[tuple[float, float], dict[str, float]] = {}

    def add_segments(pairs, parents):
        uppers, at_start, at_end = objective.segments([p[0] for p in pairs], [p[1] for p in pairs])
        for i, (t0, t1) in enumerate(pairs):
            # a parent's bound holds on its halves too
            leaves[(t0, t1)] = {
                m: min(uppers[m][i], parents[i][m]) if parents[i] else uppers[m][i] for m in metrics
            }
            for m in metrics:
                offer(m, t0, at_start[m][i])
                offer(m, t1, at_end[m][i])

    def tighten():
        """Evaluate, as a point, each metric's best t so far where only a segment's end bounded it."""
        new = sorted({lower[m][1] for m in metrics} - evaluated)
        if new:
            add_points(new)

    add_points([0.0, 1.0])
    add_segments([(k / initial, (k + 1) / initial) for k in range(initial)], [None] * initial)
    tighten()
    count, rounds = initial, 1

    def excess(pair):
        return max(leaves[pair][m] - lower[m][0] - threshold(m) for m in metrics)

    while count < max_intervals:
        open_ = sorted((p for p in leaves if excess(p) > 0), key=excess, reverse=True)
        split = open_[: (max_intervals - count) // 2]
        if not split:
            break
        parents = [leaves.pop(p) for p in split]
        halves = [h for t0, t1 in split for h in ((t0, (t0 + t1) / 2), ((t0 + t1) / 2, t1))]
        add_segments(halves, [p for p in parents for _ in (0, 1)])
        tighten()
        count += len(halves)
        rounds += 1

    result = {}
    for m in metrics:
        value, t_at = lower[m]
        worst = max(leaves, key=lambda p: leaves[p][m])
        upper = max(value, leaves[worst][m])
        result[m] = PathSup(
            metric=m,
            lower=value,
            upper=upper,
            t_lower=t_at,
            endpoints=objective.endpoints[m],
            converged=upper - value <= threshold(m),
            intervals=count,
            definition={"chord": "above_chord", "mean": "max_minus_mean"}[references[m]],
            info={
                "atol": atol,
                "rtol": rtol,
                "reference": references[m],
                "loss": kind if m == "loss" else None,
                "n_examples": objective.n,
                "largest_upper_on": list(worst),
                "rounds": rounds,
                "seconds": time.perf_counter() - started,
                "path": PATH_CONVENTION,
                "formula": DEFINITIONS[references[m]],
            },
        )
    return result
