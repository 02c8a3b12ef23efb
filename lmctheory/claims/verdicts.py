"""Verdict rules: how a row of measurements becomes "holds", "fails" or "inconclusive".

Every rule is a statistical test at level ``LEVEL`` = 5 %: under the rule's null hypothesis (the
prediction is false, at the boundary where it is hardest to tell) it says "holds" at most 5 % of
the time, and symmetrically it says "fails" only when the measurements contradict the prediction
at the same level. Anything in between is "inconclusive". With fewer than two values, or values
without spread, no rule decides (a zero-width band carries no evidence).

The units are independent repetitions (seeds, independent pairs, replicate curves); n below is
their number, SE = s / sqrt(n) with s the sample standard deviation, and t* = t_{0.95, n-1} the
95 % quantile of Student's t with n - 1 degrees of freedom (6.31, 2.92, 2.35, 2.13 for n = 2..5).

* :func:`direction` -- a sign, "effect > threshold" (or <). One-sided t-test: holds when
  mean - t* SE > threshold, fails when mean + t* SE < threshold. Null: the true mean equals the
  threshold.
* :func:`equivalence` -- "value = predicted within tol". Two one-sided t-tests (TOST): holds when
  the band mean +- t* SE lies inside [predicted - tol, predicted + tol], fails when it lies wholly
  outside. Null: the true value is exactly tol away from the prediction.
* :func:`mean_at_most` -- a bound on an expectation, "E X <= bound" (an explicit bound on an
  expected Wasserstein distance, compared with Monte-Carlo means). One-sided t-test: holds when
  mean + t* SE <= bound, fails when mean - t* SE > bound. Null: E X equals the bound.
* :func:`trend` -- "y increases with x" (or decreases) within blocks (one block per seed or pair).
  Statistic: the sum over blocks of Spearman's rank correlation; p-value from its exact
  permutation distribution (every permutation of y within each block, independently: Page's
  test with Spearman's statistic), by complete enumeration when every block has at most 8 points,
  else from 20,000 random permutations (seeded). Holds when p <= 5 %, fails when the opposite
  one-sided p <= 5 %. Null: y independent of x within each block. Three points in one block cannot
  reach 5 % (the smallest p-value is 1/6): such a row stays inconclusive.
* :func:`every_at_most` -- a rigorous bound that must hold on every instance (a certified barrier
  bound, the identities of convex models). Holds when no value exceeds the bound, fails as soon as
  one does; there is no sampling error in the verdict about the instances measured, so it is
  exact. Rows using it are checks of the code, not predictions.

Every decided t-based or permutation row carries both one-sided p-values: ``p_value`` (of the
prediction) and ``p_value_opposite`` (of its contradiction: the opposite sign, the band outside the
tolerance, the bound exceeded). A row is **borderline** (:func:`borderline`) when its verdict would
change if the level were halved or doubled, i.e. when either p-value lies in ``BORDERLINE`` =
[2.5 %, 10 %]: a "holds" at p = 0.04 is reported as such, but flagged.

The false-"holds" rate of each rule is measured by simulation
(:mod:`lmctheory_paper.validation.calibration`, used by the tests; ``python -m
lmctheory_paper.validation.calibration`` prints the table in the README) at the numbers of seeds the
presets use. The t-based rules are exact for Gaussian noise; for symmetric heavy tails (Student t,
3 degrees of freedom) the measured rate is lower; for strongly skewed noise whose long tail points
away from the claim it is higher (reported with the table).
"""

from __future__ import annotations

#: rows are recomputed from the sweep records on every run: this module does not shape a record
__shapes_results__ = False

import functools
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

__all__ = [
    "LEVEL",
    "Decision",
    "direction",
    "equivalence",
    "mean_at_most",
    "every_at_most",
    "trend",
    "trend_p_values",
    "RULES",
    "BORDERLINE",
    "borderline",
    "trend_holds",
]

RULES = ("direction", "equivalence", "mean_at_most", "trend", "every_at_most")

LEVEL = 0.05
#: p-values within a factor of two of LEVEL either way: the verdict would change at level/2 or 2 level
BORDERLINE = (LEVEL / 2, 2 * LEVEL)
_EXACT_MAX_POINTS = 8  # blocks up to 8 points (40,320 permutations) are enumerated
_MC_PERMUTATIONS = 20_000


@dataclass(frozen=True)
class Decision:
    """A verdict, the rule that gave it (in words) and the numbers behind it.

    Parameters
    ----------
    verdict : str
        "holds", "fails" or "inconclusive".
    rule : str
        The rule in words (test, level, what was compared).
    statistic : dict
        The rule's numbers: n, the band mean +- t* SE, ``p_value`` (of the claim), ``p_value_opposite``
        (of its contradiction), and for an undecided row about how many values would decide it.

    Examples
    --------
    >>> from lmctheory.claims.verdicts import direction
    >>> d = direction([0.8, 1.1, 0.9, 1.2], sense=">", threshold=0.0)
    >>> d.verdict, d.statistic["n"]
    ('holds', 4)
    """

    verdict: str
    rule: str
    statistic: dict = field(default_factory=dict)


def _summary(values) -> tuple[np.ndarray, int, float, float]:
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"values must be finite, got {arr.tolist()}")
    n = arr.size
    mean = float(arr.mean()) if n else math.nan
    se = float(arr.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    return arr, n, mean, se


@dataclass(frozen=True)
class _Band:
    """mean ± t* SE of n values (t* = t_{0.95, n-1})."""

    n: int
    mean: float
    se: float
    t_crit: float

    @property
    def lo(self) -> float:
        return self.mean - self.t_crit * self.se

    @property
    def hi(self) -> float:
        return self.mean + self.t_crit * self.se

    def p_above(self, value: float) -> float:
        """One-sided p-value of "mean > value"."""
        return float(stats.t.sf((self.mean - value) / self.se, self.n - 1))

    def p_below(self, value: float) -> float:
        """One-sided p-value of "mean < value"."""
        return float(stats.t.cdf((self.mean - value) / self.se, self.n - 1))


def _t_rule(values, rule: str, decide) -> Decision:
    """A t-based decision: ``decide(band) -> (verdict, extra statistics)``, or "inconclusive" when the
    band is undefined (fewer than 2 values) or has zero width."""
    _, n, mean, se = _summary(values)
    if n < 2 or se == 0.0:
        why = "fewer than 2 values" if n < 2 else "the values have no spread (zero-width band)"
        return Decision("inconclusive", f"{rule}; inconclusive: {why}", {"n": n})
    band = _Band(n, mean, se, float(stats.t.ppf(1 - LEVEL, n - 1)))
    verdict, extra = decide(band)
    statistic = {"n": n, "band": [band.lo, band.hi], "t_crit": band.t_crit}
    distance = extra.pop("distance", None)
    if verdict == "inconclusive" and distance is not None:
        statistic["values_to_decide"] = _values_to_decide(se * math.sqrt(n), distance)
    return Decision(verdict, rule, {**statistic, **extra})


def _values_to_decide(spread: float, distance: float) -> float:
    """About how many independent values would make the band mean +- t* SE clear ``distance`` at the
    observed spread (an estimate that takes the observed mean and spread as the truth; inf if 0)."""
    z = float(stats.norm.ppf(1 - LEVEL))
    return math.inf if distance <= 0 else float(math.ceil((z * spread / distance) ** 2))


def _verdict(holds: bool, fails: bool) -> str:
    return "holds" if holds else "fails" if fails else "inconclusive"


def direction(values, *, sense: str = ">", threshold: float = 0.0) -> Decision:
    """One-sided t-test of ``mean > threshold`` (``sense=">"``) or ``mean < threshold``.

    Holds when mean - t* SE > threshold (for ">"), fails when mean + t* SE < threshold, with
    t* = t_{0.95, n-1}: a test at level 5 % whose null is a true mean equal to the threshold.

    Parameters
    ----------
    values : array_like
        Independent repetitions (seeds, pairs) of the effect.
    sense : {">", "<"}, default ">"
        The claimed sign.
    threshold : float, default 0
        What the mean is compared with.

    Returns
    -------
    Decision
        The verdict, the rule and its statistics (band, both one-sided p-values).

    Raises
    ------
    ValueError
        ``sense`` not ">" or "<", or values that are not finite.

    Examples
    --------
    >>> from lmctheory.claims.verdicts import direction
    >>> direction([-0.3, 0.2, 0.1], sense=">").verdict
    'inconclusive'
    """
    if sense not in (">", "<"):
        raise ValueError(f"sense must be '>' or '<', got {sense!r}")

    def decide(band):
        above, below = band.lo > threshold, band.hi < threshold
        distance = abs(band.mean - threshold)
        p_above, p_below = band.p_above(threshold), band.p_below(threshold)
        if sense == ">":
            return _verdict(above, below), {
                "p_value": p_above,
                "p_value_opposite": p_below,
                "distance": distance,
            }
        return _verdict(below, above), {"p_value": p_below, "p_value_opposite": p_above, "distance": distance}

    return _t_rule(values, f"one-sided t-test at 5 %: mean ± t* SE {sense} {threshold:g}", decide)


def equivalence(values, *, predicted: float, tol: float) -> Decision:
    """Two one-sided t-tests (TOST): is the mean within ``tol`` of ``predicted``?

    Holds when the band mean +- t* SE lies inside [predicted - tol, predicted + tol], fails when it
    lies wholly outside; the null is a true value exactly ``tol`` away.

    Parameters
    ----------
    values : array_like
        Independent repetitions of the measured value.
    predicted : float
        The theory's value.
    tol : float
        The half-width of the accepted interval (> 0).

    Returns
    -------
    Decision
        The verdict, the rule and its statistics (``p_value`` = the larger TOST p-value,
        ``p_value_opposite`` = the smaller one-sided p-value of lying beyond an end).

    Raises
    ------
    ValueError
        ``tol`` not > 0, or values that are not finite.

    Examples
    --------
    >>> from lmctheory.claims.verdicts import equivalence
    >>> equivalence([-0.201, -0.199, -0.2, -0.202], predicted=-0.2, tol=0.01).verdict
    'holds'
    """
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol!r}")

    def decide(band):
        inside = predicted - tol <= band.lo and band.hi <= predicted + tol
        outside = band.lo > predicted + tol or band.hi < predicted - tol
        p_value = max(band.p_above(predicted - tol), band.p_below(predicted + tol))
        p_outside = min(band.p_above(predicted + tol), band.p_below(predicted - tol))
        return _verdict(inside, outside), {
            "p_value": p_value,
            "p_value_opposite": p_outside,
            "distance": abs(tol - abs(band.mean - predicted)),
            "tol": tol,
        }

    return _t_rule(values, f"TOST at 5 %: mean ± t* SE inside predicted ± {tol:g}", decide)


def mean_at_most(values, *, bound: float) -> Decision:
    """One-sided t-test of ``E X <= bound`` from Monte-Carlo values of X.

    Holds when mean + t* SE <= bound, fails when mean - t* SE > bound.

    Parameters
    ----------
    values : array_like
        Independent draws of X.
    bound : float
        The claimed upper bound on the expectation.

    Returns
    -------
    Decision
        The verdict, the rule and its statistics.

    Raises
    ------
    ValueError
        Values that are not finite.

    Examples
    --------
    >>> from lmctheory.claims.verdicts import mean_at_most
    >>> mean_at_most([0.1, 0.12, 0.09, 0.11], bound=0.5).verdict
    'holds'
    """

    def decide(band):
        return _verdict(band.hi <= bound, band.lo > bound), {
            "p_value": band.p_below(bound),
            "p_value_opposite": band.p_above(bound),
            "distance": abs(band.mean - bound),
        }

    return _t_rule(values, f"one-sided t-test at 5 %: mean + t* SE <= {bound:g}", decide)


def every_at_most(values, *, bound: float) -> Decision:
    """Every value <= ``bound``: a rigorous per-instance bound, decided exactly (no sampling error).

    Parameters
    ----------
    values : array_like
        The instances' values.
    bound : float
        The bound each must respect.

    Returns
    -------
    Decision
        "holds" when no value exceeds the bound, "fails" as soon as one does ("inconclusive" with no
        values); the statistics give the maximum and how many exceed.

    Raises
    ------
    ValueError
        Values that are not finite.

    Examples
    --------
    >>> from lmctheory.claims.verdicts import every_at_most
    >>> every_at_most([0.2, 0.4], bound=0.3).statistic["exceeding"]
    1
    """
    arr, n, _, _ = _summary(values)
    if n == 0:
        return Decision("inconclusive", "every value <= bound; inconclusive: no values", {"n": 0})
    worst = float(arr.max())
    verdict = "holds" if worst <= bound else "fails"
    return Decision(
        verdict,
        f"every value <= {bound:g} (per instance, exact)",
        {"n": n, "max": worst, "exceeding": int(np.sum(arr > bound))},
    )


def borderline(statistic: dict) -> bool:
    """Whether a decision's verdict would change at half or twice the level.

    True when one of its p-values (of the prediction, ``p_value``, or of its contradiction,
    ``p_value_opposite``) lies in :data:`BORDERLINE` = [2.5 %, 10 %]. Exact rules
    (:func:`every_at_most`) and undecidable rows (no p-value) are never borderline.

    Parameters
    ----------
    statistic : dict
        A :class:`Decision`'s statistics (or a row's ``statistic``).

    Returns
    -------
    bool

    Raises
    ------
    TypeError
        ``statistic`` is not a mapping.

    Examples
    --------
    >>> from lmctheory.claims.verdicts import borderline
    >>> borderline({"p_value": 0.04, "p_value_opposite": 0.96}), borderline({"p_value": 0.001})
    (True, False)
    """
    if not isinstance(statistic, Mapping):
        raise TypeError(
            f"statistic must be a mapping of a decision's statistics, got {type(statistic).__name__}"
        )
    lo, hi = BORDERLINE
    return any(
        statistic.get(key) is not None and lo <= statistic[key] <= hi
        for key in ("p_value", "p_value_opposite")
    )


def _ranks(a: np.ndarray) -> np.ndarray:
    return stats.rankdata(a, axis=-1)


def _spearman_rows(x_ranks: np.ndarray, y_rank_rows: np.ndarray) -> np.ndarray:
    """Spearman correlation of fixed x ranks with each row of y ranks (0 where either is constant)."""
    xc = x_ranks - x_ranks.mean()
    yc = y_rank_rows - y_rank_rows.mean(axis=-1, keepdims=True)
    denom = np.sqrt((xc**2).sum()) * np.sqrt((yc**2).sum(axis=-1))
    num = yc @ xc
    return np.divide(num, denom, out=np.zeros_like(num), where=denom > 0)


@functools.lru_cache(maxsize=256)
def _block_distribution(x_ranks: tuple, y_ranks: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Exact permutation distribution (values, probabilities) of Spearman(x, permuted y); it depends
    only on the ranks of x and the multiset of ranks of y (ties included)."""
    perms = np.array(list(itertools.permutations(range(len(y_ranks)))))
    values = np.round(_spearman_rows(np.array(x_ranks), np.array(y_ranks)[perms]), 12)
    uniq, counts = np.unique(values, return_counts=True)
    return uniq, counts / counts.sum()


@functools.lru_cache(maxsize=256)
def _sum_distribution(keys: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Distribution of the sum of independent per-block statistics (``keys``: the blocks' rank patterns)."""
    values, probs = np.array([0.0]), np.array([1.0])
    for x_ranks, y_ranks in keys:
        v, p = _block_distribution(x_ranks, y_ranks)
        total = np.round((values[:, None] + v[None, :]).ravel(), 10)
        weight = (probs[:, None] * p[None, :]).ravel()
        values, inverse = np.unique(total, return_inverse=True)
        probs = np.bincount(inverse, weights=weight)
    return values, probs


def trend_p_values(blocks) -> tuple[float, float, float]:
    """The sum over blocks of Spearman(x, y) and its two one-sided permutation p-values.

    Under the null, y is independent of x within each block: every permutation of y within each
    block, independently, is equally likely (Page's test with Spearman's statistic). The distribution
    is enumerated exactly when every block has at most 8 points, else estimated from 20,000 seeded
    random permutations.

    Parameters
    ----------
    blocks : sequence of (x, y)
        One pair of equal-length sequences (length >= 2) per seed or pair.

    Returns
    -------
    tuple of float
        ``(statistic, p_greater, p_less)``.

    Raises
    ------
    ValueError
        A block whose x and y differ in length or have fewer than 2 points, or values that are not finite.

    Examples
    --------
    >>> from lmctheory.claims.verdicts import trend_p_values
    >>> stat, p_up, p_down = trend_p_values([([1, 2, 3, 4], [1, 2, 3, 4])] * 3)
    >>> round(stat, 6), round(p_up * 24**3, 6)     # the identity in all 3 blocks: 1/4! each
    (3.0, 1.0)
    """
    blocks = [(np.asarray(x, float), np.asarray(y, float)) for x, y in blocks]
    for x, y in blocks:
        if x.shape != y.shape or x.ndim != 1 or x.size < 2:
            raise ValueError(f"each block needs x and y of the same length >= 2, got {x.shape} and {y.shape}")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise ValueError("trend values must be finite")
    observed = float(sum(_spearman_rows(_ranks(x), _ranks(y)[None])[0] for x, y in blocks))
    eps = 1e-9
    if all(x.size <= _EXACT_MAX_POINTS for x, _ in blocks):
        keys = tuple(sorted((tuple(_ranks(x)), tuple(np.sort(_ranks(y)))) for x, y in blocks))
        values, probs = _sum_distribution(keys)
        return (
            observed,
            float(probs[values >= observed - eps].sum()),
            float(probs[values <= observed + eps].sum()),
        )
    rng = np.random.default_rng(0)
    total = np.zeros(_MC_PERMUTATIONS)
    for x, y in blocks:
        yr = _ranks(y)
        shuffled = np.stack([rng.permutation(yr) for _ in range(_MC_PERMUTATIONS)])
        total += _spearman_rows(_ranks(x), shuffled)
    greater = (1 + np.sum(total >= observed - eps)) / (_MC_PERMUTATIONS + 1)
    less = (1 + np.sum(total <= observed + eps)) / (_MC_PERMUTATIONS + 1)
    return observed, float(greater), float(less)


def trend(blocks, *, sense: str = ">") -> Decision:
    """Permutation test of a monotone relation between x and y within blocks.

    Holds when the one-sided p-value of the summed Spearman correlation (:func:`trend_p_values`) in
    the claimed direction is at most 5 %, fails when that of the opposite direction is.

    Parameters
    ----------
    blocks : sequence of (x, y)
        One pair of equal-length sequences per seed or pair.
    sense : {">", "<"}, default ">"
        y increases (">") or decreases ("<") with x.

    Returns
    -------
    Decision
        The verdict, the rule and its statistics (summed Spearman, both p-values).

    Raises
    ------
    ValueError
        ``sense`` not ">" or "<", or blocks :func:`trend_p_values` refuses.

    Examples
    --------
    >>> from lmctheory.claims.verdicts import trend
    >>> trend([([1, 2, 3, 4], [4, 3, 2, 1])] * 3, sense="<").verdict
    'holds'
    """
    if sense not in (">", "<"):
        raise ValueError(f"sense must be '>' or '<', got {sense!r}")
    word = "increases" if sense == ">" else "decreases"
    rule = f"permutation test at 5 % of sum of per-block Spearman (y {word} with x), {len(blocks)} block(s)"
    if not blocks:
        return Decision("inconclusive", f"{rule}; inconclusive: no blocks", {"n": 0})
    observed, p_greater, p_less = trend_p_values(blocks)
    p_holds, p_fails = (p_greater, p_less) if sense == ">" else (p_less, p_greater)
    verdict = "holds" if p_holds <= LEVEL else "fails" if p_fails <= LEVEL else "inconclusive"
    statistic = {"n": len(blocks), "spearman_sum": observed, "p_value": p_holds, "p_value_opposite": p_fails}
    if verdict == "inconclusive":
        # under the null a block's Spearman has variance 1/(k-1): n blocks of mean correlation r give
        # z = r sqrt(n (k-1)); about (z*/r)^2/(k-1) blocks would reach the 5 % level
        k = float(np.mean([len(x) for x, _ in blocks]))
        mean_r = abs(observed) / len(blocks)
        z = float(stats.norm.ppf(1 - LEVEL))
        statistic["values_to_decide"] = (
            math.inf if mean_r == 0 or k < 2 else float(math.ceil((z / mean_r) ** 2 / (k - 1)))
        )
    return Decision(verdict, rule, statistic)


def trend_holds(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Vectorised verdict "holds" of :func:`trend` (``sense=">"``) for many simulated data sets at once, as
    the calibration of the rules' error rates needs.

    Parameters
    ----------
    x : array_like, shape (points,)
        The common abscissae of every block (no ties).
    y : array_like, shape (sims, blocks, points)
        ``sims`` data sets of ``blocks`` blocks each (no ties within a block).

    Returns
    -------
    numpy.ndarray of bool, shape (sims,)
        Whether :func:`trend` would say "holds" for each data set (the tests check it agrees data set by
        data set).

    Raises
    ------
    ValueError
        ``y`` not of shape (sims, blocks, points) with ``points = len(x)``.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.claims.verdicts import trend_holds
    >>> x = np.arange(5.0)
    >>> trend_holds(x, np.stack([np.tile(x, (4, 1)), np.tile(x[::-1], (4, 1))])).tolist()
    [True, False]
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or y.ndim != 3 or y.shape[-1] != x.shape[0]:
        raise ValueError(
            f"y must have shape (sims, blocks, {x.shape[0]}) for x of shape {x.shape}, got {y.shape}"
        )
    sims, n_blocks, k = y.shape
    xr = _ranks(x)
    observed = _spearman_rows(xr, _ranks(y).reshape(-1, k)).reshape(sims, n_blocks).sum(1)
    key = (tuple(xr), tuple(np.arange(1.0, k + 1)))
    values, probs = _sum_distribution((key,) * n_blocks)
    tail = np.cumsum(probs[::-1])[::-1]  # P(S >= values[i])
    index = np.searchsorted(values, observed - 1e-9)  # first value >= observed (within rounding)
    p_greater = np.where(index < len(values), tail[np.minimum(index, len(values) - 1)], 0.0)
    return p_greater <= LEVEL
