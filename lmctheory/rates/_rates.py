r"""Convergence rates of empirical measures in Wasserstein distance.

Notation: :math:`\mu_N` is the empirical measure of N iid samples of
:math:`\mu` on :math:`R^d`, :math:`T_p = W_p^p`.

Fournier & Guillin (2015, PTRF 162, Thm 1): if :math:`M_q(\mu) < \infty` for
some q > p,

.. math::
    \mathbb{E}\,T_p(\mu_N, \mu) \le C\, M_q^{p/q} \begin{cases}
      N^{-1/2} & d < 2p \\
      N^{-1/2}\log(1 + N) & d = 2p \\
      N^{-p/d} & d > 2p
    \end{cases}

(plus :math:`N^{-(q-p)/q}`, negligible for large q). The d > 2p rate is sharp
(uniform law on a cube); the d < 2p rate is not sharp for smooth laws. Hence
:math:`\mathbb{E} W_p \sim N^{-1/d}` for d > 2p, the curse of dimensionality
behind LMC widths. Fit rates only in that sharp regime, and expect some
pre-asymptotic steepening at :math:`N \le 2^{11}`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from ..utils.validation import (
    as_rng,
    as_seed_sequence,
    check_p,
    check_positive_int,
    check_positive_real,
    to_numpy,
)

__all__ = [
    "fg_regime",
    "fg_rate",
    "fg_explicit_bound",
    "log10_fg_explicit_bound",
    "predicted_slope",
    "RateFit",
    "fit_rate",
    "RateCurve",
    "rate_curve",
    "fg_explicit_bound_w",
]

REGIMES = ("d<2p", "d=2p", "d>2p")


def _check_dim(d) -> int:
    return check_positive_int(d, "d")


def _as_sizes(n, name: str = "n") -> np.ndarray:
    arr = to_numpy(n, name).astype(np.float64)
    if arr.size == 0:
        raise ValueError(f"{name} is empty; give at least one sample size")
    if not np.isfinite(arr).all() or (arr < 1).any():
        raise ValueError(f"{name} must contain finite sample sizes >= 1, got {np.ravel(arr)[:5]}")
    return arr


def fg_regime(d: int, p: float) -> str:
    """Name of the Fournier–Guillin regime: ``"d<2p"``, ``"d=2p"`` or ``"d>2p"`` (:ref:`theory-fg-rates`).

    Only ``"d>2p"`` gives a sharp rate (the one slopes can be tested against).

    Parameters
    ----------
    d : int
        Dimension, >= 1.
    p : float
        Order, >= 1.

    Returns
    -------
    str
        The regime.

    Raises
    ------
    ValueError
        d is not a positive integer or p is invalid.

    Examples
    --------
    >>> from lmctheory.rates import fg_regime
    >>> fg_regime(1, 2), fg_regime(4, 2), fg_regime(10, 2)
    ('d<2p', 'd=2p', 'd>2p')
    """
    d = _check_dim(d)
    p = check_p(p)
    if d < 2 * p:
        return "d<2p"
    if d == 2 * p:
        return "d=2p"
    return "d>2p"


def fg_rate(n, d: int, p: float):
    r"""The Fournier–Guillin rate of :math:`\mathbb{E}\,T_p(\mu_N,\mu)`, without constant (:ref:`theory-fg-rates`).

    :math:`N^{-1/2}` (d < 2p), :math:`N^{-1/2}\log(1+N)` (d = 2p) or :math:`N^{-p/d}` (d > 2p).

    Parameters
    ----------
    n : int or array_like
        Sample size(s) N >= 1.
    d : int
        Dimension.
    p : float
        Order.

    Returns
    -------
    float or ndarray
        A float for a scalar ``n``, else an array of the shape of ``n``.

    Raises
    ------
    ValueError
        Empty or non-finite sizes, sizes below 1, or invalid d or p.

    Examples
    --------
    >>> from lmctheory.rates import fg_rate
    >>> round(fg_rate(10_000, d=4, p=1), 12)     # N^(-p/d) = 10^(-1)
    0.1
    """
    regime = fg_regime(d, p)
    p = float(p)
    arr = _as_sizes(n)
    if regime == "d<2p":
        out = arr**-0.5
    elif regime == "d=2p":
        out = arr**-0.5 * np.log1p(arr)
    else:
        out = arr ** (-p / d)
    return float(out) if out.ndim == 0 else out


def fg_explicit_bound(n, d: int, p: float, *, two_sample: bool = False, radius: float = 1.0):
    r"""Explicit, rigorous upper bound on :math:`\mathbb{E}\,T_p = \mathbb{E}\,W_p^p`.

    For :math:`\mu` supported in a cube of side ``2 * radius`` (anywhere:
    :math:`W_p` is translation invariant), derived from the proof of
    Fournier & Guillin (2015) with explicit constants (:ref:`theory-fg-explicit`; our
    derivation, not a statement of the paper):

    .. math::
        \mathbb{E}\,T_p(\mu_N, \mu) \le r^p K_{p,d} \sum_{l \ge 1} 2^{-pl}
            \min\{2,\ c\, 2^{dl/2} N^{-1/2}\},
        \qquad K_{p,d} = 2^{p-1} d^{p/2} (2^p + 1),

    with c = 1 for one sample and :math:`c = \sqrt2` for two independent
    samples (:math:`\mathbb{E}\,T_p(\mu_N, \nu_N)`). The series is summed
    in closed form (see :func:`log10_fg_explicit_bound`). Loose (10–50x in
    practice) but a measured mean above it indicates a bug. It bounds
    :math:`\mathbb{E}\,W_p` too, through Jensen: :math:`\mathbb{E}\,W_p \le (\mathbb{E}\,W_p^p)^{1/p}`.

    Parameters
    ----------
    n : int or array_like
        Sample size(s) N.
    d : int
        Dimension of the cube containing the support.
    p : float
        Order, >= 1.
    two_sample : bool, default False
        Bound :math:`\mathbb{E}\,T_p(\mu_N, \nu_N)` between two independent samples.
    radius : float, default 1
        Half-side of the cube.

    Returns
    -------
    float or ndarray
        The bound on :math:`\mathbb{E}\,W_p^p`; inf where it exceeds float range (large p:
        :func:`log10_fg_explicit_bound` gives it for any p).

    Raises
    ------
    ValueError
        Invalid sizes, d, p or radius.

    Examples
    --------
    >>> from lmctheory.rates import fg_explicit_bound
    >>> b1, b2 = fg_explicit_bound([100, 10_000], d=3, p=1)
    >>> bool(b2 < b1)
    True
    """
    arr = _as_sizes(n)
    logs = np.array(
        [
            log10_fg_explicit_bound(math.log10(v), d, p, two_sample=two_sample, radius=radius)
            for v in np.atleast_1d(arr).ravel()
        ]
    ).reshape(np.shape(arr))
    with np.errstate(over="ignore", under="ignore"):  # inf (0) when the bound is beyond float range
        out = 10.0**logs
    return float(out) if out.ndim == 0 else out


def fg_explicit_bound_w(n, d: int, p: float, *, two_sample: bool = False, radius: float = 1.0):
    r"""Bound on :math:`\mathbb{E}\,W_p` by Jensen, :math:`(\text{fg\_explicit\_bound})^{1/p}`, formed in log
    space (finite for every p, where the bound on :math:`\mathbb{E}\,W_p^p` itself may exceed float range).

    Parameters
    ----------
    n : int or array_like of int
        Sample sizes N.
    d : int
        Dimension of the law's support.
    p : float
        Order (>= 1).
    two_sample : bool
        Bound :math:`\mathbb{E}\,W_p(\mu_N, \nu_N)` between two samples instead of one sample and the law.
    radius : float
        Half-side of a cube containing the support.

    Returns
    -------
    float or numpy.ndarray
        The bound, one per N.

    Raises
    ------
    ValueError, TypeError
        As :func:`fg_explicit_bound` (invalid sizes, d, p or radius).

    Examples
    --------
    >>> from lmctheory.rates import fg_explicit_bound, fg_explicit_bound_w
    >>> abs(fg_explicit_bound_w(1000, 3, 2) - fg_explicit_bound(1000, 3, 2) ** 0.5) < 1e-12
    True
    """
    arr = _as_sizes(n)
    logs = np.array(
        [
            log10_fg_explicit_bound(math.log10(v), d, p, two_sample=two_sample, radius=radius)
            for v in np.atleast_1d(arr).ravel()
        ]
    ).reshape(np.shape(arr))
    out = 10.0 ** (logs / float(p))
    return float(out) if out.ndim == 0 else out


def _log10_add(a: float, b: float) -> float:
    hi, lo = max(a, b), min(a, b)
    return hi + math.log10(1.0 + 10.0 ** (lo - hi))


def _log10_geometric(log10_r: float, count: float) -> float:
    """log10 of sum_{l=1}^{count} r^l (count >= 1), never forming r or r^count."""
    if log10_r == 0.0:
        return math.log10(count)
    ln10 = math.log(10.0)
    if log10_r > 0:  # r (r^count - 1) / (r - 1)
        big = count * log10_r
        return big + math.log10(-math.expm1(-big * ln10)) - math.log10(-math.expm1(-log10_r * ln10))
    # r (1 - r^count) / (1 - r), r < 1
    return log10_r + math.log10(-math.expm1(count * log10_r * ln10)) - math.log10(-math.expm1(log10_r * ln10))


def log10_fg_explicit_bound(
    log10_n: float, d: int, p: float, *, two_sample: bool = False, radius: float = 1.0
) -> float:
    r""":math:`\log_{10}` of :func:`fg_explicit_bound` at :math:`N = 10^{\text{log10\_n}}`.

    Works for any finite ``log10_n >= 0`` (e.g. N = 10^784, the widths of LMC
    bounds). With :math:`s = c N^{-1/2}`, :math:`l^* = \max(1, \lceil \frac2d
    \log_2(2/s) \rceil)` is the first l with :math:`s\,2^{dl/2} \ge 2`, so

    .. math:: \sum_l 2^{-pl}\min\{2, s 2^{dl/2}\} = s \sum_{l=1}^{l^*-1} (2^{d/2-p})^l
              + \frac{2 \cdot 2^{-p l^*}}{1 - 2^{-p}}.

    Parameters
    ----------
    log10_n : float
        :math:`\log_{10} N`, finite and >= 0.
    d : int
        Dimension of the cube.
    p : float
        Order, >= 1.
    two_sample : bool, default False
        Two independent samples (c = :math:`\sqrt 2`).
    radius : float, default 1
        Half-side of the cube.

    Returns
    -------
    float
        :math:`\log_{10}` of the bound on :math:`\mathbb{E}\,W_p^p`.

    Raises
    ------
    ValueError
        A non-finite or negative ``log10_n``, or invalid d, p or radius.

    Examples
    --------
    >>> import math
    >>> from lmctheory.rates import fg_explicit_bound, log10_fg_explicit_bound
    >>> math.isclose(log10_fg_explicit_bound(3.0, d=3, p=1), math.log10(fg_explicit_bound(1000, d=3, p=1)))
    True
    >>> round(log10_fg_explicit_bound(784.0, d=3, p=1))    # N = 10^784: about N^(-1/3)
    -260
    """
    d = _check_dim(d)
    p = check_p(p)
    radius = check_positive_real(radius, "radius")
    if not math.isfinite(log10_n) or log10_n < 0:
        raise ValueError(f"sample sizes must be finite and >= 1, got N = 10^{log10_n}")
    log10_c = 0.5 * math.log10(2.0) if two_sample else 0.0
    log10_s = log10_c - 0.5 * log10_n
    l_star = max(1.0, math.ceil((2.0 / d) * (math.log10(2.0) - log10_s) / math.log10(2.0)))
    log10_tail = (1.0 - p * l_star) * math.log10(2.0) - math.log10(1.0 - 2.0**-p)
    total = log10_tail
    if l_star > 1:
        log10_head = log10_s + _log10_geometric((d / 2 - p) * math.log10(2.0), l_star - 1)
        total = _log10_add(log10_head, log10_tail)
    # log10(2^p + 1) = p log10(2) + log10(1 + 2^-p): no overflow for any p
    log10_k = (
        (p - 1) * math.log10(2.0) + (p / 2) * math.log10(d) + p * math.log10(2.0) + math.log10(1 + 2.0**-p)
    )
    return p * math.log10(radius) + log10_k + total


def predicted_slope(d: int, p: float) -> float:
    r"""Predicted log-log slope of :math:`\mathbb{E}\,W_p` against N (:ref:`theory-fg-rates`).

    The FG exponent of :math:`\mathbb{E}\,T_p` divided by p: ``-1/d`` when
    d > 2p (sharp: the uniform law on a cube decays exactly at this rate),
    ``-1/(2p)`` otherwise. Outside the sharp regime it is the slowest decay
    the theorem guarantees (an upper bound on the slope, a lower bound on the
    speed of decay), not a prediction of the slope: smooth 1-D laws decay at
    ``-1/2`` for every p; at d = 2p a log factor is ignored. Pass the
    *intrinsic* dimension for laws on a subspace.

    Parameters
    ----------
    d : int
        (Intrinsic) dimension.
    p : float
        Order.

    Returns
    -------
    float
        The slope.

    Raises
    ------
    ValueError
        Invalid d or p.

    Examples
    --------
    >>> from lmctheory.rates import predicted_slope
    >>> predicted_slope(5, 2), predicted_slope(1, 2)
    (-0.2, -0.25)
    """
    regime = fg_regime(d, p)
    return -1.0 / d if regime == "d>2p" else -1.0 / (2 * float(p))


# ------------------------------------------------------------------- slope fits


@dataclass(frozen=True)
class RateFit:
    """Least-squares fit of ``log(value) = intercept + slope * log(n)`` (returned by :func:`fit_rate`).

    ``ci_low``/``ci_high`` bound the slope at level ``confidence``: a
    percentile bootstrap over replicates when replicates were given, else the
    Student-t interval of ordinary least squares. ``predict(n)`` evaluates the fitted power law.

    Parameters
    ----------
    slope, intercept : float
        The fitted line on log-log axes.
    ci_low, ci_high : float
        Confidence interval of the slope.
    confidence : float
        Its level.
    method : str
        ``"bootstrap"`` or ``"ols-t"``.
    n_sizes : int
        Number of distinct sizes fitted.

    Examples
    --------
    >>> from lmctheory.rates import fit_rate
    >>> fit = fit_rate([10, 100, 1000], [1.0, 0.1, 0.01])
    >>> round(fit.slope, 12), round(float(fit.predict(10_000)), 12)
    (-1.0, 0.001)
    """

    slope: float
    intercept: float
    ci_low: float
    ci_high: float
    confidence: float
    method: str
    n_sizes: int

    def predict(self, n):
        return np.exp(self.intercept) * np.asarray(n, dtype=float) ** self.slope

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _loglog_ols(log_n: np.ndarray, log_v: np.ndarray):
    """Slope and intercept of OLS; log_v may be (k,) or (k, B) for B fits at once."""
    xc = log_n - log_n.mean()
    denom = float(xc @ xc)
    slope = (xc @ (log_v - log_v.mean(axis=0))) / denom
    intercept = log_v.mean(axis=0) - slope * log_n.mean()
    return slope, intercept


def fit_rate(ns, values, *, confidence: float = 0.95, n_boot: int = 2000, seed=0) -> RateFit:
    """Fit the log-log slope of ``values`` against ``ns`` with a confidence interval.

    Parameters
    ----------
    ns : array_like, shape (k,)
        Sample sizes (at least 2 distinct values).
    values : array_like, shape (k,) or (k, reps)
        Positive values (e.g. mean W_p per size), or all replicates per size.
        With replicates the fit is on the log of the *mean* over replicates
        (the rate of the expectation), and the interval is a percentile
        bootstrap resampling replicates independently at each size.
    confidence : float in (0, 1)
        Level of the interval.
    n_boot : int
        Bootstrap resamples.
    seed : int or Generator
        Seed of the bootstrap.

    Returns
    -------
    RateFit
        Slope, intercept and interval.

    Raises
    ------
    ValueError
        Shapes that disagree, fewer than 2 distinct sizes, non-finite or negative values, a zero
        mean at some size, or a confidence outside (0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.rates import fit_rate
    >>> ns = np.array([100, 200, 400, 800])
    >>> reps = ns[:, None] ** -0.5 * np.array([0.9, 1.0, 1.1])   # three replicates per size
    >>> fit = fit_rate(ns, reps)
    >>> round(fit.slope, 6), fit.method, bool(fit.ci_low <= -0.5 <= fit.ci_high)
    (-0.5, 'bootstrap', True)
    """
    ns_arr = _as_sizes(ns, "ns").ravel()
    vals = to_numpy(values, "values").astype(np.float64)
    if vals.ndim not in (1, 2) or vals.shape[0] != ns_arr.shape[0]:
        raise ValueError(
            f"values must have shape (len(ns),) or (len(ns), reps) = ({ns_arr.shape[0]}, ...), "
            f"got {vals.shape}"
        )
    if not np.isfinite(vals).all() or (vals < 0).any():
        raise ValueError("values must be finite and >= 0 (distances) to be fitted on log-log axes")
    means_check = vals.mean(axis=1) if vals.ndim == 2 else vals
    if (means_check <= 0).any():
        raise ValueError(
            "values (their mean over replicates) must be > 0 at every size to be fitted on log-log "
            f"axes; got zero at n = {ns_arr[means_check <= 0].astype(int).tolist()}"
        )
    if np.unique(ns_arr).size < 2:
        raise ValueError("ns must contain at least 2 distinct sizes to fit a slope")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    n_boot = check_positive_int(n_boot, "n_boot", minimum=10)
    log_n = np.log(ns_arr)
    means = vals.mean(axis=1) if vals.ndim == 2 else vals
    slope, intercept = _loglog_ols(log_n, np.log(means))
    alpha = 1 - confidence
    if vals.ndim == 2 and vals.shape[1] >= 2:
        rng = as_rng(seed)
        k, reps = vals.shape
        idx = rng.integers(0, reps, size=(n_boot, k, reps))
        boot_means = np.take_along_axis(vals[None, :, :], idx, axis=2).mean(axis=2)  # (B, k)
        usable = (boot_means > 0).all(axis=1)  # a resample of exact zeros has no logarithm
        if usable.mean() < 0.95:
            raise ValueError(
                f"{(~usable).sum()} of {n_boot} bootstrap resamples have a zero mean at some size "
                "(many replicates are exactly 0); use more replicates or larger sizes"
            )
        boot_slopes, _ = _loglog_ols(log_n, np.log(boot_means[usable].T))
        lo, hi = np.quantile(boot_slopes, [alpha / 2, 1 - alpha / 2])
        method = "bootstrap"
    else:
        k = ns_arr.shape[0]
        if k < 3:
            raise ValueError(
                "a confidence interval without replicates needs at least 3 sizes; "
                "pass replicates as values of shape (len(ns), reps)"
            )
        resid = np.log(means) - (intercept + slope * log_n)
        se = math.sqrt(float(resid @ resid) / (k - 2) / float(((log_n - log_n.mean()) ** 2).sum()))
        t = stats.t.ppf(1 - alpha / 2, df=k - 2)
        lo, hi = slope - t * se, slope + t * se
        method = "ols-t"
    return RateFit(
        float(slope), float(intercept), float(lo), float(hi), float(confidence), method, int(ns_arr.shape[0])
    )


# ------------------------------------------------------------------ rate curves


@dataclass
class RateCurve:
    r"""Monte-Carlo curve of :math:`W_p` (distances, not p-th powers) against N (returned by :func:`rate_curve`).

    ``mean``, ``std`` and ``mean_cost`` (the mean of :math:`W_p^p`) summarise the replicates per
    size; ``fit(**kwargs)`` is :func:`fit_rate` on the replicates.

    Parameters
    ----------
    ns : ndarray (k,)
        The sizes.
    values : ndarray (k, reps)
        Every replicate of :math:`W_p(\mu_N, \nu_N)` (two-sample) or
        :math:`W_p(\mu_N, \mu)` (one-sample).
    p, two_sample, method, seed
        As passed to :func:`rate_curve`.
    law : dict
        Description of the sampler (``Law.describe()`` or its repr).
    seconds : float
        Wall time.

    Examples
    --------
    >>> from lmctheory.rates import UniformCube
    >>> from lmctheory.rates import rate_curve
    >>> curve = rate_curve(UniformCube(2), [16, 64], reps=3, p=1)
    >>> curve.values.shape, bool(curve.mean[1] < curve.mean[0])
    ((2, 3), True)
    """

    ns: np.ndarray
    values: np.ndarray
    p: float
    two_sample: bool
    method: str
    seed: int | None
    law: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def mean(self) -> np.ndarray:
        """Mean of W_p over replicates, per N."""
        return self.values.mean(axis=1)

    @property
    def std(self) -> np.ndarray:
        """Standard deviation (ddof=1 when reps > 1) of W_p over replicates, per N."""
        ddof = 1 if self.values.shape[1] > 1 else 0
        return self.values.std(axis=1, ddof=ddof)

    @property
    def mean_cost(self) -> np.ndarray:
        """Mean of the p-th power :math:`T_p = W_p^p` over replicates, per N."""
        return (self.values**self.p).mean(axis=1)

    def fit(self, **kwargs) -> RateFit:
        """:func:`fit_rate` on the replicates (bootstrap CI)."""
        return fit_rate(self.ns, self.values, **kwargs)

    def to_dict(self) -> dict:
        return {
            "ns": self.ns.astype(int).tolist(),
            "p": self.p,
            "two_sample": self.two_sample,
            "method": self.method,
            "seed": self.seed,
            "law": self.law,
            "quantity": "W_p (distance, not its p-th power)",
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "replicates": self.values.tolist(),
            "seconds": self.seconds,
        }


def _sample(sampler, n: int, rng) -> np.ndarray:
    """``sampler(n, rng)`` checked to be n points (a curve labelled N must be computed on N points)."""
    x = np.asarray(sampler(n, rng), dtype=np.float64)
    rows = x.shape[0] if x.ndim in (1, 2) else -1
    if rows != n:
        raise ValueError(
            f"sampler(n, rng) must return n points (an array of shape (n, d) or (n,)); for n={n} it "
            f"returned shape {x.shape}"
        )
    return x


def _one_replicate(sampler, n: int, p: float, two_sample: bool, method: str, seed_seq) -> float:
    from ..ot import transport

    rng = np.random.default_rng(seed_seq)
    x = _sample(sampler, n, rng)
    if two_sample:
        y = _sample(sampler, n, rng)
        return transport(x, y, p, method=method).distance
    cost = sampler.cost_to_law(x, p)
    return float(max(cost, 0.0) ** (1.0 / p))


def rate_curve(
    sampler,
    ns,
    *,
    p: float = 2,
    reps: int = 8,
    two_sample: bool = True,
    seed: int | None = 0,
    n_jobs: int | None = 1,
    method: str = "auto",
    progress: bool = False,
) -> RateCurve:
    r"""Monte-Carlo estimate of :math:`\mathbb{E}\,W_p` as a function of N.

    For each N in ``ns`` and each of ``reps`` replicates, draw samples with
    ``sampler(N, rng)`` and compute the exact :math:`W_p` between two
    independent N-samples (``two_sample=True``) or between one N-sample and
    the law itself (``two_sample=False``; needs a law with an exact
    reference, see :mod:`lmctheory.rates`).

    Replicate seeds come from ``numpy.random.SeedSequence(seed).spawn``, one
    per (N, replicate), so results do not depend on ``n_jobs``.

    Parameters
    ----------
    sampler : callable ``(n, rng) -> (n, d) array`` or :class:`~lmctheory.rates.Law`
        The law to sample.
    ns : sequence of int
        Sample sizes.
    p : float, default 2
        Order.
    reps : int, default 8
        Replicates per size.
    two_sample : bool, default True
        Two independent samples, or one sample against the law.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator, default 0
        Root of the replicates' seeds (:func:`lmctheory.utils.validation.as_seed_sequence`).
    n_jobs : int or None
        Worker processes (joblib); -1 uses all cores. Largest sizes are
        scheduled first.
    method : str
        Exact method passed to :func:`~lmctheory.ot.transport`.
    progress : bool
        Show a progress bar (tqdm) on stderr.

    Returns
    -------
    RateCurve
        Every replicate, with the settings.

    Raises
    ------
    ValueError, TypeError
        Non-integer sizes, a sampler that is not callable or returns the wrong shape, a negative
        seed, invalid p or reps, or a one-sample request for a law without exact reference.

    Examples
    --------
    >>> from lmctheory.rates import TwoAtom
    >>> from lmctheory.rates import rate_curve
    >>> curve = rate_curve(TwoAtom(), [10, 1000], reps=4, p=1, two_sample=False, seed=1)
    >>> curve.values.shape
    (2, 4)
    """
    p = check_p(p)
    reps = check_positive_int(reps, "reps")
    ns_arr = _as_sizes(ns, "ns").ravel()
    if not np.all(ns_arr == np.round(ns_arr)):
        raise ValueError(f"ns must be integers, got {ns_arr.tolist()}")
    if not callable(sampler):
        raise TypeError("sampler must be callable as sampler(n, rng) -> array of shape (n, d)")
    if not two_sample and not getattr(sampler, "has_exact_reference", False):
        raise ValueError(
            "two_sample=False needs a law with an exact one-sample reference "
            "(discrete laws, or laws on the line such as UniformCube(1) and Gaussian(1)); "
            f"{sampler!r} has none. Use two_sample=True."
        )
    ns_int = ns_arr.astype(int)
    root = as_seed_sequence(seed)
    dim = getattr(sampler, "dim", None)
    if dim is not None:
        from ..ot import check_memory

        check_memory(
            16.0 * int(ns_int.max()) * int(dim),
            f"two samples of {int(ns_int.max())} points in R^{dim}",
            "Use smaller sizes.",
        )
    children = root.spawn(len(ns_int) * reps)
    tasks = [(i, r) for i in np.argsort(-ns_int, kind="stable") for r in range(reps)]
    start = time.perf_counter()
    args = [(sampler, int(ns_int[i]), p, two_sample, method, children[i * reps + r]) for i, r in tasks]
    if n_jobs in (None, 1):
        results = (_one_replicate(*a) for a in args)
    else:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(_one_replicate)(*a) for a in args)
    if progress:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(args), desc="rate curve", unit="pair", leave=False)
    values = np.empty((len(ns_int), reps))
    for (i, r), value in zip(tasks, results, strict=True):
        values[i, r] = value
    law = sampler.describe() if hasattr(sampler, "describe") else {"sampler": repr(sampler)}
    return RateCurve(
        ns_int.astype(np.int64),
        values,
        p,
        two_sample,
        method,
        seed if seed is None or isinstance(seed, (int, np.integer)) else root.entropy,
        law,
        time.perf_counter() - start,
    )
