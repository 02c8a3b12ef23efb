r"""Exact Wasserstein distances between empirical measures.

Conventions (see also README, "Conventions"):

* Every public function returns the **distance** :math:`W_p`, never silently its
  p-th power. The p-th power :math:`T_p = W_p^p` (the optimal transport *cost*)
  is available explicitly as :attr:`TransportResult.cost`.
* The ground cost is the Euclidean norm raised to the power p:
  :math:`c(x, y) = |x - y|_2^p`, so that

  .. math:: W_p(\mu, \nu) = \Big(\min_{\gamma \in \Pi(\mu, \nu)}
            \int |x - y|^p \, d\gamma(x, y)\Big)^{1/p}.

* Point clouds are arrays of shape ``(n, d)`` (rows are points); 1-D arrays are
  ``n`` points on the line. Weights default to uniform ``1/n``.

Exact methods
-------------
``"assignment"``
    Equal sizes, uniform weights. By Birkhoff's theorem the extreme points of
    the set of couplings between two uniform measures on ``m`` atoms are the
    permutation matrices, so
    :math:`W_p^p(\mu_m, \nu_m) = \min_\sigma \frac1m \sum_i |x_i - y_{\sigma(i)}|^p`,
    solved exactly by :func:`lmctheory.ot.solve_assignment` (a float32
    Jonker–Volgenant candidate certified optimal to a relative 1e-12 in float64
    by LP duality, SciPy's :func:`~scipy.optimize.linear_sum_assignment` as the
    fallback, certified too).
``"emd"``
    Any sizes and weights: POT's network simplex (:func:`ot.emd2`, Bonneel et
    al. 2011). POT stops at ``numItermax`` and then returns a too-large cost
    with only a warning (:ref:`theory-pot-pitfalls`); here the iteration cap is raised, the
    solver status is checked, and the result is *certified* optimal to a relative
    1e-9 by LP duality (the tightest column potentials for POT's row potentials,
    every reduced cost checked against its rounding error, and the duality gap).
    Its float64 pivots can fail on costs spanning many decades (a tiny cluster next
    to a far atom): for uniform weights the exact fallback repeats every atom to
    lcm(n, m) points per side (up to 4096) and takes the assignment route (the
    result then reports ``method="assignment"``); anything else raises
    :class:`~lmctheory.exceptions.ConvergenceError`.
``"1d"``
    Points on the line: the quantile (monotone) coupling is optimal for every
    convex cost, :math:`W_p^p = \int_0^1 |F^{-1}(u) - G^{-1}(u)|^p\,du`,
    computed exactly by sorting, weighted or not, in :math:`O((n+m)\log(n+m))`.

``"sparse"``
    Equal sizes, uniform weights, p = 1 or 2: :func:`lmctheory.ot.sparse_assignment` solves
    the assignment on a sparse candidate graph (k nearest neighbours) and certifies it on all
    :math:`n^2` pairs by LP duality, scanning them in blocks; memory :math:`O(nk)` plus a fixed
    block buffer, never the n x n matrix. The same value as ``"assignment"`` (to a relative 1e-12).

``"auto"`` picks ``"1d"`` when d = 1; for equal sizes with uniform weights ``"sparse"`` when p is 1
or 2 and either n >= ``SPARSE_FROM`` (4000) with d in ``SPARSE_DIMS[p]`` (3..8 for p = 1, 3..10 for
p = 2), where it was measured at least as fast as the dense route (see the Benchmarks page of the
docs), or the dense matrix would not fit in the memory budget; otherwise ``"assignment"``; ``"emd"`` for anything else. When the sparse route
picked by ``"auto"`` cannot certify its answer, the dense route is used if it fits.

Any scale and any p. Coordinates are first multiplied by a power of two (exact)
so that every distance is at most 1. When the costs :math:`|x - y|^p` of even the
nearest points would underflow (large p, or distances spanning many decades),
the assignment route scales them by :math:`W_\infty^p` in log space
(:mod:`lmctheory.ot`), which keeps the optimum in [1, n]; the weighted
route raises instead. On the line the sum is formed with the largest difference
factored out. Distances are exact to rounding for every finite input (up to
1e308) and p (up to float range); ``cost`` is inf or 0 only when
:math:`W_p^p` itself is out of float range.

Dense solvers need an ``n x m`` float64 cost matrix; beyond the memory budget
(default: half of the physical memory) a
:class:`~lmctheory.exceptions.ProblemTooLargeError` suggests
:func:`sliced_wasserstein`.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import asdict, dataclass

import numpy as np
from scipy.spatial.distance import cdist

from ..exceptions import ConvergenceError, ProblemTooLargeError
from ..utils.validation import (
    as_points,
    as_rng,
    as_weights,
    check_p,
    check_positive_int,
    check_positive_real,
    check_same_dim,
)
from ._assignment import solve_assignment

__all__ = [
    "METHODS",
    "TransportResult",
    "transport",
    "wasserstein",
    "optimal_matching",
    "assignment_cost",
    "sliced_wasserstein",
    "random_directions",
    "cost_matrix",
    "solve_assignment",
    "memory_budget",
    "dense_problem_bytes",
    "check_memory",
]

METHODS = ("auto", "assignment", "emd", "1d", "sparse")
#: ``"auto"`` uses the sparse exact solver from this many points per cloud, in the dimensions below
SPARSE_FROM = 4000
#: per p, the dimensions (lowest, highest) where the sparse solver was measured at least as fast as the
#: dense one at n = 4096 on uniform clouds (in d = 2 it is far slower: 181 s against 5.8 s for p = 1)
SPARSE_DIMS = {1: (3, 8), 2: (3, 10)}

#: Bytes per cost-matrix entry, per dense method: the float64 cost matrix (8) plus the
#: solver's working memory: for "assignment" the float32 copy of the candidate solver (4)
#: and, should the certificate fail, SciPy's float64 copy (8); POT's network simplex keeps
#: arc arrays of about 4 more words per entry. Checked with tracemalloc in the tests.
_BYTES_PER_ENTRY = {"assignment": 20, "emd": 40}


@dataclass(frozen=True)
class TransportResult:
    """Outcome of an exact optimal transport computation (returned by :func:`transport`).

    Parameters
    ----------
    distance : float
        :math:`W_p`, the Wasserstein distance.
    cost : float
        :math:`T_p = W_p^p`, the optimal transport cost with ground cost :math:`|x - y|^p`.
    p : float
        The order.
    method : str
        The exact method actually used ("assignment", "emd" or "1d").
    n, m, d : int
        Sizes of the two clouds and their dimension.

    See Also
    --------
    transport : computes it.

    Examples
    --------
    >>> from lmctheory.ot import transport
    >>> res = transport([[0.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [1.0, 1.0]], p=2)
    >>> res.distance, res.cost, res.method, (res.n, res.m, res.d)
    (1.0, 1.0, 'assignment', (2, 2, 2))
    """

    distance: float
    cost: float
    p: float
    method: str
    n: int
    m: int
    d: int

    def to_dict(self) -> dict:
        return asdict(self)


def memory_budget() -> int:
    """Bytes a dense problem may use: ``LMCTHEORY_MAX_BYTES`` or half of physical RAM.

    Returns
    -------
    int
        The budget in bytes.

    Raises
    ------
    ValueError
        ``LMCTHEORY_MAX_BYTES`` is set but is not a positive number.

    Examples
    --------
    >>> import os
    >>> from lmctheory.ot import memory_budget
    >>> os.environ["LMCTHEORY_MAX_BYTES"] = "8e9"
    >>> memory_budget()
    8000000000
    >>> del os.environ["LMCTHEORY_MAX_BYTES"]
    """
    env = os.environ.get("LMCTHEORY_MAX_BYTES")
    if env:
        try:
            value = float(env)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value >= 1):
            raise ValueError(
                f"the environment variable LMCTHEORY_MAX_BYTES must be a positive number of bytes "
                f"(e.g. 8e9), got {env!r}"
            )
        return int(value)
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")) // 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def dense_problem_bytes(n: int, m: int, method: str) -> int:
    """Estimated peak memory (bytes) of a dense exact solve between n and m points.

    Parameters
    ----------
    n, m : int
        Sizes of the two clouds.
    method : {"assignment", "emd", "1d"}
        The exact method (each has its bytes per cost-matrix entry).

    Returns
    -------
    int
        ``n * m`` times the method's bytes per entry.

    Raises
    ------
    KeyError
        An unknown method.

    Examples
    --------
    >>> from lmctheory.ot import dense_problem_bytes
    >>> dense_problem_bytes(2000, 2000, "emd") > dense_problem_bytes(1000, 1000, "emd")
    True
    """
    return int(n) * int(m) * _BYTES_PER_ENTRY[method]


def check_memory(need: float, what: str, advice: str) -> None:
    """Refuse a computation that would exceed :func:`memory_budget`.

    Parameters
    ----------
    need : float
        Bytes the computation needs.
    what : str
        What it is (the start of the error message).
    advice : str
        What to do instead (the end of the error message).

    Returns
    -------
    None

    Raises
    ------
    ProblemTooLargeError
        When ``need`` exceeds the budget.

    Examples
    --------
    >>> from lmctheory.ot import check_memory
    >>> check_memory(1024, "a tiny problem", "nothing to do")  # within budget: returns None
    """
    budget = memory_budget()
    if need > budget:
        raise ProblemTooLargeError(
            f"{what} needs about {need / 2**30:.1f} GiB, more than the budget of {budget / 2**30:.1f} GiB (half of "
            f"physical memory; override with the LMCTHEORY_MAX_BYTES environment variable). {advice}"
        )


def _check_fits(n: int, m: int, method: str) -> None:
    check_memory(
        dense_problem_bytes(n, m, method),
        f"exact W_p with method={method!r} between {n} and {m} points (an {n} x {m} float64 cost "
        "matrix plus solver memory)",
        "Use sliced_wasserstein(x, y, p) (dimension-free sample complexity, O(n log n) per direction) or "
        "compare random subsamples of equal size.",
    )


def cost_matrix(x: np.ndarray, y: np.ndarray, p: float) -> np.ndarray:
    """Ground-cost matrix :math:`M_{ij} = |x_i - y_j|_2^p` (float64, direct differences).

    Computed with :func:`scipy.spatial.distance.cdist`, i.e. from coordinate
    differences rather than the ``|x|^2 + |y|^2 - 2 x.y`` expansion, which loses
    precision for nearby points.

    Parameters
    ----------
    x : ndarray, shape (n, d)
        First cloud (already validated: finite float64).
    y : ndarray, shape (m, d)
        Second cloud.
    p : float
        Exponent of the Euclidean distance.

    Returns
    -------
    ndarray, shape (n, m)
        The costs.

    Raises
    ------
    ValueError
        From SciPy when x and y have different numbers of columns.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.ot import cost_matrix
    >>> cost_matrix(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [0.0, 1.0]]), p=1).tolist()
    [[5.0, 1.0]]
    """
    if p == 2.0:
        return cdist(x, y, "sqeuclidean")
    dist = cdist(x, y, "euclidean")
    if p != 1.0:
        np.power(dist, p, out=dist)
    return dist


def _scale_exponent(x: np.ndarray, y: np.ndarray) -> int:
    """k with every distance |x_i - y_j| * 2^-k at most 1 (0 for all-zero input).

    |x_i - y_j| <= 2 sqrt(d) max |coordinate|. Multiplying by a power of two (``np.ldexp``) is exact
    and cannot overflow whatever the data's scale (coordinates near 1e308 included), and
    W_p(x 2^-k, y 2^-k) = 2^-k W_p(x, y).
    """
    span = max(float(np.abs(x).max()), float(np.abs(y).max()))
    if span == 0.0:
        return 0
    return int(np.frexp(span)[1]) + math.ceil(math.log2(2.0 * math.sqrt(x.shape[1])))


#: costs below this are negligible next to an optimum >= 1 (they only lose relative 1e-250)
_TINY = 1e-250


def _scaled(distance: float, cost: float, p: float) -> tuple[float, float]:
    """(W_p, W_p^p) from a distance and, when it did not under/overflow, the cost computed directly."""
    if cost > 0.0 and math.isfinite(cost):
        return distance, cost
    return distance, _power(distance, p)


def _power(value: float, p: float) -> float:
    """value ** p, 0.0 on underflow and inf on overflow (the true number is then out of float range)."""
    if value == 0.0:
        return 0.0
    exponent = p * math.log(value)
    return 0.0 if exponent < -745.2 else math.inf if exponent > 709.78 else math.exp(exponent)


# --------------------------------------------------------------------------- 1-D


def _quantile_pieces(xs: np.ndarray, ys: np.ndarray, a, b):
    """(du, |difference|) per piece of the quantile coupling, for each column of xs (n, L) and ys (m, L).

    With sorted atoms and cumulative weights, the unit interval splits into pieces of length du on
    which both quantile functions are constant; W_p^p = sum_k du_k |x_(i_k) - y_(j_k)|^p.
    """
    n, m = xs.shape[0], ys.shape[0]
    if a is None and b is None and n == m:
        return np.full(n, 1.0 / n), np.abs(np.sort(xs, axis=0) - np.sort(ys, axis=0))
    if a is None and b is None:
        # Breakpoints i/n and j/m are shared by all columns: i/n == j/m exactly in
        # floating point whenever it holds in the rationals (correctly rounded division).
        cum_x, cum_y = np.arange(1, n + 1) / n, np.arange(1, m + 1) / m
        u = np.unique(np.concatenate([cum_x, cum_y]))
        du = np.diff(u, prepend=0.0)
        mid = u - du / 2
        ix = np.minimum(np.searchsorted(cum_x, mid, side="left"), n - 1)
        iy = np.minimum(np.searchsorted(cum_y, mid, side="left"), m - 1)
        return du, np.abs(np.sort(xs, axis=0)[ix] - np.sort(ys, axis=0)[iy])
    a = np.full(n, 1.0 / n) if a is None else a
    b = np.full(m, 1.0 / m) if b is None else b
    return None, [_weighted_pieces(xs[:, k], ys[:, k], a, b) for k in range(xs.shape[1])]


def _weighted_pieces(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray):
    ox, oy = np.argsort(x, kind="stable"), np.argsort(y, kind="stable")
    xs, ys = x[ox], y[oy]
    cum_x, cum_y = np.cumsum(a[ox]), np.cumsum(b[oy])
    cum_x /= cum_x[-1]
    cum_y /= cum_y[-1]
    u = np.unique(np.concatenate([cum_x, cum_y]))
    du = np.diff(u, prepend=0.0)
    keep = du > 0
    u, du = u[keep], du[keep]
    mid = u - du / 2
    ix = np.minimum(np.searchsorted(cum_x, mid, side="left"), len(xs) - 1)
    iy = np.minimum(np.searchsorted(cum_y, mid, side="left"), len(ys) - 1)
    return du, np.abs(xs[ix] - ys[iy])


def _scaled_power_sum(du: np.ndarray, diff: np.ndarray, p: float) -> tuple[np.ndarray, np.ndarray]:
    """(M, S) per column with sum_k du_k diff_k^p = M^p S: M the largest difference carrying mass and
    S in (0, 1], so that neither under- nor overflows for any p (all zeros: M = S = 0)."""
    carried = np.where((du > 0)[:, None], diff, 0.0)
    M = carried.max(axis=0)
    ratio = np.divide(diff, M, out=np.zeros_like(diff), where=M > 0)
    S = du @ (ratio**p)
    return M, S


def _quantile_1d(xs: np.ndarray, ys: np.ndarray, a, b, p: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact :math:`W_p^p = M^p S` on the line for each column of ``xs`` (n, L) and ``ys`` (m, L): the
    quantile coupling is optimal for every convex cost. Returns (M, S) per column."""
    du, diff = _quantile_pieces(xs, ys, a, b)
    if du is not None:
        return _scaled_power_sum(du, diff if diff.ndim == 2 else diff[:, None], p)
    pairs = [_scaled_power_sum(d_u, d[:, None], p) for d_u, d in diff]
    return np.array([m[0] for m, _ in pairs]), np.array([s[0] for _, s in pairs])


def _mean_of_powers(M: np.ndarray, S: np.ndarray, p: float) -> float:
    """(mean_k M_k^p S_k)^(1/p) without forming M_k^p (no under/overflow for any p)."""
    top = float(M.max())
    if top == 0.0:
        return 0.0
    return top * float(np.mean((M / top) ** p * S)) ** (1.0 / p)


# --------------------------------------------------------------------- dense exact


def _distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Euclidean distance matrix of clouds scaled into the unit ball, exact to rounding even where the
    squared coordinate differences would underflow (distances below 1e-150 are recomputed with the
    largest difference factored out)."""
    D = cdist(x, y, "euclidean")
    i, j = np.nonzero(D < 1e-150)
    if i.size:
        diff = np.abs(x[i] - y[j])
        top = diff.max(axis=1)
        ratio = np.divide(diff, top[:, None], out=np.zeros_like(diff), where=top[:, None] > 0)
        D[i, j] = top * np.sqrt((ratio**2).sum(axis=1))
    return D


def _smallest_positive(D: np.ndarray) -> float:
    """The smallest positive entry of D (inf if none), scanned in row blocks (no n x m temporary)."""
    step = max(1, (1 << 16) // D.shape[1])
    best = math.inf
    for s in range(0, D.shape[0], step):
        block = D[s : s + step]
        positive = block[block > 0]
        if positive.size:
            best = min(best, float(positive.min()))
    return best


def _powers_representable(E: np.ndarray, q: float, x: np.ndarray, y: np.ndarray, a=None, b=None) -> bool:
    r"""Whether the costs :math:`E^q` (E the squared distances, q = p/2) can be formed directly
    without losing the optimum.

    False when two distinct points have a squared distance that underflowed to 0. Otherwise True
    when no positive entry underflows when raised to q (smallest positive entry to the q at least
    1e-290), or when the optimum is so large that underflowing entries cannot matter: it is at least
    :math:`\max(\sum_i a_i \min_j E_{ij}^q, \sum_j b_j \min_i E_{ij}^q)` (each atom's mass travels at
    least to its nearest atom), and when that is at least 1e-250 an entry lost below 1e-300 changes it
    by less than 1e-50 relatively."""

    def log_power(value: float) -> float:
        return q * math.log(value) if value > 0 else -math.inf

    i, j = np.nonzero(E == 0.0)
    if i.size and (x[i] != y[j]).any():  # distinct points at "distance 0": the squares underflowed
        return False
    rows, cols = E.min(axis=1), E.min(axis=0)
    wa = np.full(E.shape[0], 1.0 / E.shape[0]) if a is None else a
    wb = np.full(E.shape[1], 1.0 / E.shape[1]) if b is None else b
    top = max(float(rows.max()), float(cols.max()))
    if top > 0:  # sum_i a_i (min_j E_ij / top)^q * top^q, formed without underflow
        bound = max(float(wa @ (rows / top) ** q), float(wb @ (cols / top) ** q))
        if bound > 0 and log_power(top) + math.log(bound) >= math.log(_TINY):
            return True
    return log_power(_smallest_positive(E)) >= math.log(1e-290)


def _costs_from_squares(E: np.ndarray, p: float) -> np.ndarray:
    """|x - y|^p from the squared distances E, in place."""
    if p == 2.0:
        return E
    if p == 1.0:
        return np.sqrt(E, out=E)
    return np.power(E, p / 2.0, out=E)


def _assignment(x: np.ndarray, y: np.ndarray, p: float):
    r"""(perm, cost, distance) of exact W_p between equal uniform clouds (cost = W_p^p, possibly under-
    or overflowed when the distance is accurate). Coordinates scaled so that distances are <= 1.

    When costs :math:`|x - y|^p` would underflow and matter (:func:`_powers_representable`: large p,
    or distances spanning many decades), the matrix is scaled by :math:`W_\infty^p` in log space
    (:mod:`lmctheory.ot`), which puts the optimum in [1, n], and entries above n + 1 (never
    in an optimal permutation) are clipped.
    """
    n = x.shape[0]
    E = cdist(x, y, "sqeuclidean")
    if _powers_representable(E, p / 2.0, x, y):
        C = _costs_from_squares(E, p)
        perm = solve_assignment(C)
        cost = float(C[np.arange(n), perm].mean())
        return perm, cost, cost ** (1.0 / p)
    del E
    from ._bottleneck import bottleneck_assignment

    D = _distances(x, y)
    perm, w_inf = bottleneck_assignment(D)
    if w_inf == 0.0:
        return perm, 0.0, 0.0
    with np.errstate(divide="ignore"):
        exponent = p * (np.log(D) - math.log(w_inf))
    C = np.exp(np.minimum(exponent, math.log(n + 1.0)))  # exp(-inf) = 0 for coinciding points
    perm = solve_assignment(C)
    distance = w_inf * float(C[np.arange(n), perm].mean()) ** (1.0 / p)
    return perm, _power(distance, p), distance


def _emd_iteration_cap(n: int, m: int) -> int:
    """Network-simplex pivot cap: generous (the solver stops at optimality anyway)."""
    return int(max(10**7, 50 * n * m))


def _emd(x: np.ndarray, y: np.ndarray, a, b, p: float) -> tuple[float, float, str]:
    """(cost, distance, method used) of exact W_p for any weights: POT's network simplex, certified,
    with the assignment route on repeated atoms as the fallback for uniform weights (module docstring)."""
    import ot  # POT: imported lazily, it is slow to import

    n, m = x.shape[0], y.shape[0]
    uniform = a is None and b is None
    a = np.full(n, 1.0 / n) if a is None else a
    b = np.full(m, 1.0 / m) if b is None else b
    E = cdist(x, y, "sqeuclidean")
    if E.max() == 0.0 and (x[:, None] == y[None]).all():  # every pair coincides: nothing to move
        return 0.0, 0.0, "emd"
    rows, cols = a > 0, b > 0
    support = E if rows.all() and cols.all() else E[np.ix_(rows, cols)]
    if not _powers_representable(support, p / 2.0, x[rows], y[cols], a[rows], b[cols]):
        if uniform:
            return *_replicated_assignment(x, y, p), "assignment"
        raise ConvergenceError(
            f"exact W_p with p={p:g} and given weights: the costs |x - y|^p span more than float64 can hold "
            "(distances raised to p underflow where they matter); use uniform weights (exact for any p) "
            "or a smaller p"
        )
    M = _costs_from_squares(E, p)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        try:
            cost, log = ot.emd2(a, b, M, numItermax=_emd_iteration_cap(n, m), log=True, check_marginals=True)
        except UserWarning as exc:
            raise ConvergenceError(
                f"POT's network simplex did not reach optimality ({exc}); the cost it would "
                "return is an upper bound only, so no value is returned"
            ) from exc
    if log["result_code"] != 1:
        raise ConvergenceError(
            f"POT's network simplex ended with status {log['result_code']} "
            f"({log['warning']}); no exact value available"
        )
    cost = float(cost)
    if not _transport_certified(M, a, b, np.asarray(log["u"]), cost):
        if uniform:  # the network simplex's answer is not optimal to the certified accuracy
            return *_replicated_assignment(x, y, p), "assignment"
        raise ConvergenceError(
            "exact OT certificate failed: the network simplex's plan is not certified optimal to a relative "
            f"{_EMD_RTOL:g} (costs spanning many decades defeat its float64 pivots); no value is returned"
        )
    return cost, cost ** (1.0 / p), "emd"


#: the network simplex's answer is accepted when certified optimal to this relative accuracy
_EMD_RTOL = 1e-9
#: largest assignment (points per side) the uniform-weight fallback builds by replicating atoms
_REPLICATE_MAX = 4096


def _replicated_assignment(x: np.ndarray, y: np.ndarray, p: float) -> tuple[float, float]:
    """Uniform clouds of sizes n and m are uniform clouds of size lcm(n, m) once each atom is repeated:
    exact W_p by the certified assignment route, when that size is manageable."""
    n, m = x.shape[0], y.shape[0]
    size = math.lcm(n, m)
    if size > _REPLICATE_MAX:
        raise ConvergenceError(
            f"the network simplex's answer for {n} vs {m} uniform points could not be certified, and the "
            f"exact fallback (repeating atoms to lcm(n, m) = {size} points per side) exceeds {_REPLICATE_MAX}; "
            "no value is returned"
        )
    _, cost, distance = _assignment(np.repeat(x, size // n, axis=0), np.repeat(y, size // m, axis=0), p)
    return cost, distance


def _transport_certified(M, a, b, u, cost: float) -> bool:
    r"""LP-duality certificate of a transport cost, to relative accuracy ``_EMD_RTOL``.

    From the solver's row potentials u, the tightest feasible column potentials are
    :math:`v_j = \min_i (M_{ij} - u_i)` over the support; every reduced cost is then checked against
    its rounding bound :math:`\tau_{ij} = 8\varepsilon(M_{ij} + |u_i| + |v_j|)`, and weak duality gives
    cost - optimum <= cost - (a.u + b.v) + 8 eps (cost + a.|u| + b.|v|). Accepted when that is at
    most ``_EMD_RTOL`` * cost (0 when the cost is 0).
    """
    eps = np.finfo(np.float64).eps
    rows, cols = np.flatnonzero(a > 0), np.flatnonzero(b > 0)
    us = u[rows]
    step = max(1, (1 << 16) // max(cols.size, 1))
    vs = np.full(cols.size, np.inf)
    for s in range(0, rows.size, step):  # blockwise: no n x m temporaries
        r = rows[s : s + step]
        np.minimum(vs, (M[np.ix_(r, cols)] - u[r, None]).min(axis=0), out=vs)
    absv = np.abs(vs)
    for s in range(0, rows.size, step):
        r = rows[s : s + step]
        block = M[np.ix_(r, cols)]
        reduced = block - u[r, None] - vs[None, :]
        if (reduced < -8 * eps * (block + np.abs(u[r, None]) + absv[None, :])).any():
            return False
    dual = float(a[rows] @ us + b[cols] @ vs)
    slack = 8 * eps * (cost + float(a[rows] @ np.abs(us) + b[cols] @ absv))
    if cost == 0.0:  # costs are non-negative: a plan of cost 0 is optimal
        return True
    return cost - dual + slack <= _EMD_RTOL * cost


# ---------------------------------------------------------------------- public API


def _dense_fits(n: int, m: int, method: str) -> bool:
    try:
        _check_fits(n, m, method)
    except ProblemTooLargeError:
        return False
    return True


def _resolve_method(method: str, n: int, m: int, d: int, uniform: bool, p: float) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    square = n == m and uniform
    if method == "auto":
        if d == 1:
            return "1d"
        if not square:
            return "emd"
        if p in SPARSE_DIMS and (
            (n >= SPARSE_FROM and SPARSE_DIMS[p][0] <= d <= SPARSE_DIMS[p][1])
            or not _dense_fits(n, m, "assignment")
        ):
            return "sparse"
        return "assignment"
    if method in ("assignment", "sparse") and not square:
        raise ValueError(
            f"method={method!r} needs equal sizes and uniform weights "
            f"(got n={n}, m={m}, weights {'uniform' if uniform else 'given'}); use method='emd'"
        )
    if method == "sparse" and p not in (1, 2):
        raise ValueError(f"method='sparse' supports p = 1 and p = 2, got p={p}; use method='assignment'")
    if method == "1d" and d != 1:
        raise ValueError(f"method='1d' needs points on the line (d = 1), got d={d}")
    return method


def transport(x, y, p: float = 2, *, a=None, b=None, method: str = "auto") -> TransportResult:
    r"""Exact optimal transport between two empirical measures, with all the details.

    :math:`T_p(\mu, \nu) = \min_\gamma \sum_{ij} \gamma_{ij} |x_i - y_j|_2^p` over couplings
    :math:`\gamma` of the weights ``a`` and ``b``, and :math:`W_p = T_p^{1/p}`
    (:ref:`theory-wasserstein`).

    Parameters
    ----------
    x : array_like or torch.Tensor, shape (n, d) or (n,)
        Atoms of the first measure (rows are points; a 1-D array is n points on the line).
    y : array_like or torch.Tensor, shape (m, d) or (m,)
        Atoms of the second measure.
    p : float, default 2
        Order, ``p >= 1``; the ground cost is ``|x - y|_2 ** p``.
    a, b : array_like, optional
        Probability weights of the atoms (non-negative, summing to one). Default: uniform.
    method : {"auto", "assignment", "emd", "1d", "sparse"}
        Exact solver; see the module docstring.

    Returns
    -------
    TransportResult
        ``distance`` is :math:`W_p`, ``cost`` is :math:`W_p^p`.

    Raises
    ------
    ValueError, TypeError
        Bad input (non-finite values, mismatched dimensions, empty clouds,
        invalid p, weights that are negative or do not sum to one).
    ConvergenceError
        The network simplex could not certify an optimal solution.
    ProblemTooLargeError
        The dense cost matrix would not fit in the memory budget.

    Examples
    --------
    >>> from lmctheory.ot import transport
    >>> res = transport([0.0, 1.0], [0.0, 3.0], p=2)   # half the mass moves by 2
    >>> round(res.cost, 12), round(res.distance, 12)
    (2.0, 1.414213562373)
    """
    p = check_p(p)
    x = as_points(x, "x")
    y = as_points(y, "y")
    check_same_dim(x, y)
    a = as_weights(a, x.shape[0], "a")
    b = as_weights(b, y.shape[0], "b")
    n, m, d = x.shape[0], y.shape[0], x.shape[1]
    used = _resolve_method(method, n, m, d, a is None and b is None, p)
    if used not in ("1d", "sparse"):
        _check_fits(n, m, used)
    k = _scale_exponent(x, y)
    x, y = np.ldexp(x, -k), np.ldexp(y, -k)
    if used == "sparse":
        from ._sparse import sparse_assignment

        try:
            solved = sparse_assignment(x, y, p)
            cost, distance = solved.cost, solved.distance
        except ConvergenceError:
            if method != "auto" or not _dense_fits(n, m, "assignment"):
                raise
            used = "assignment"
    if used == "1d":
        top, share = _quantile_1d(x, y, a, b, p)
        distance = float(top[0]) * float(share[0]) ** (1.0 / p)
        cost = (
            float(top[0]) ** p * float(share[0]) if p * math.log(max(float(top[0]), 1e-320)) > -700 else 0.0
        )
    elif used == "assignment":
        _, cost, distance = _assignment(x, y, p)
    elif used == "emd":
        cost, distance, used = _emd(x, y, a, b, p)
    full_distance = float(np.ldexp(distance, k))
    normal = np.finfo(np.float64).tiny <= cost < math.inf  # a subnormal cost has lost digits: recompute
    if normal and float(k * p).is_integer() and abs(k * p) < 2**30:
        with np.errstate(over="ignore"):  # inf when the p-th power exceeds float64: the true value
            full_cost = float(np.ldexp(cost, int(k * p)))
    else:
        full_cost = _power(full_distance, p)
    return TransportResult(full_distance, full_cost, p, used, n, m, d)


def wasserstein(x, y, p: float = 2, *, a=None, b=None, method: str = "auto") -> float:
    r"""Exact p-Wasserstein distance :math:`W_p` between two empirical measures.

    :math:`W_p(\mu, \nu) = (\min_\gamma \sum_{ij} \gamma_{ij} |x_i - y_j|^p)^{1/p}`
    over couplings :math:`\gamma` of the weights ``a`` and ``b``. Returns the
    distance, not its p-th power (use :func:`transport` for both).

    Parameters
    ----------
    x, y : array_like or torch.Tensor, shape (n, d) and (m, d), or 1-D
        Atoms of the two measures.
    p : float, default 2
        Order, ``p >= 1``.
    a, b : array_like, optional
        Probability weights (uniform by default).
    method : {"auto", "assignment", "emd", "1d", "sparse"}
        Exact solver (:func:`transport`).

    Returns
    -------
    float
        :math:`W_p`.

    Raises
    ------
    ValueError, TypeError, ConvergenceError, ProblemTooLargeError
        As :func:`transport`.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.ot import wasserstein
    >>> wasserstein(np.array([0.0, 1.0]), np.array([0.5, 1.5]), p=2)
    0.5
    """
    return transport(x, y, p, a=a, b=b, method=method).distance


def optimal_matching(x, y, p: float = 2):
    """Optimal one-to-one matching of two equal-size clouds (Birkhoff).

    Returns ``(perm, cost)`` with ``x[i]`` matched to ``y[perm[i]]`` and
    ``cost = mean_i |x_i - y_perm[i]|^p``, which equals :math:`W_p^p` between
    the two uniform empirical measures (Birkhoff–von Neumann: an optimal
    coupling of two uniform measures on m atoms can be taken a permutation;
    :ref:`theory-birkhoff`).

    Parameters
    ----------
    x, y : array_like, shape (m, d) or (m,)
        The two clouds (e.g. incoming weight rows of two layers' neurons).
    p : float, default 2
        Order, ``p >= 1``.

    Returns
    -------
    perm : ndarray of int, shape (m,)
        ``x[i]`` is matched to ``y[perm[i]]``.
    cost : float
        :math:`W_p^p`, the mean matched cost (a p-th power, not a distance).

    Raises
    ------
    ValueError
        Clouds of different sizes or dimensions, non-finite values, invalid p.
    ProblemTooLargeError
        The m x m cost matrix would not fit in the memory budget.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.ot import optimal_matching
    >>> x = np.array([[0.0, 0.0], [10.0, 0.0]])
    >>> perm, cost = optimal_matching(x, x[::-1] + 1.0)
    >>> perm.tolist(), cost
    ([1, 0], 2.0)
    """
    p = check_p(p)
    x = as_points(x, "x")
    y = as_points(y, "y")
    check_same_dim(x, y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"optimal_matching needs clouds of equal size, got x with {x.shape[0]} and y with "
            f"{y.shape[0]} points; use transport(x, y, p, method='emd') for unequal sizes"
        )
    if x.shape[1] == 1:
        ox = np.argsort(x[:, 0], kind="stable")
        oy = np.argsort(y[:, 0], kind="stable")
        perm = np.empty(x.shape[0], dtype=np.intp)
        perm[ox] = oy
        return perm, transport(x, y, p, method="1d").cost
    _check_fits(x.shape[0], y.shape[0], "assignment")
    k = _scale_exponent(x, y)
    perm, _, distance = _assignment(np.ldexp(x, -k), np.ldexp(y, -k), p)
    return perm, _power(float(np.ldexp(distance, k)), p)


def assignment_cost(x, y, p: float) -> float:
    r"""Mean cost :math:`\min_\sigma \frac1n \sum_i |x_i - y_{\sigma(i)}|^p` of the optimal matching of two
    clouds of equal size, for any order p > 0, in the units of the data.

    For p >= 1 it is :math:`W_p^p` (:func:`optimal_matching` gives the permutation too); for 0 < p < 1
    the cost is not the power of a metric but the assignment is still solved exactly, which is what the
    small-p transport dimension (:class:`lmctheory.dimension.WassersteinDimension`, p = 1/4 by default)
    needs. The computation is that of :func:`optimal_matching`: costs from squared distances, or scaled
    by the bottleneck distance in log space when they would under- or overflow.

    Parameters
    ----------
    x, y : array_like, shape (n, d)
        Two clouds with the same number of points.
    p : float
        Order, a finite real > 0.

    Returns
    -------
    float
        The optimal mean cost (0 for identical clouds).

    Raises
    ------
    ValueError
        Clouds of different sizes or dimensions, non-finite values, p not a finite real > 0.
    ProblemTooLargeError
        The n x n cost matrix would not fit in the memory budget.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.ot import assignment_cost
    >>> x = np.array([[0.0], [4.0]])
    >>> assignment_cost(x, x[::-1] + 1.0, 0.5)
    1.0
    """
    p = check_positive_real(p, "p")
    if not math.isfinite(p):
        raise ValueError(f"p must be a finite real > 0, got {p}")
    x = as_points(x, "x")
    y = as_points(y, "y")
    check_same_dim(x, y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"assignment_cost needs clouds of equal size, got {x.shape[0]} and {y.shape[0]} points"
        )
    _check_fits(x.shape[0], y.shape[0], "assignment")
    return _assignment(x, y, p)[1]


def random_directions(n_projections: int, d: int, seed=None) -> np.ndarray:
    """``n_projections`` directions uniform on the unit sphere of R^d (normalised Gaussian vectors), the
    projections of :func:`sliced_wasserstein`; pass the same ones to several calls to pair their estimates.

    Parameters
    ----------
    n_projections : int
        Number of directions (>= 1).
    d : int
        Dimension (>= 1).
    seed : None, int, numpy.random.Generator or numpy.random.SeedSequence
        Randomness (None: fresh).

    Returns
    -------
    numpy.ndarray, shape (n_projections, d)
        Unit vectors, one per row.

    Raises
    ------
    ValueError, TypeError
        ``n_projections`` or ``d`` not a positive integer, an invalid seed.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.ot import random_directions
    >>> theta = random_directions(4, 3, seed=0)
    >>> theta.shape, np.allclose(np.linalg.norm(theta, axis=1), 1.0)
    ((4, 3), True)
    """
    n_projections = check_positive_int(n_projections, "n_projections")
    d = check_positive_int(d, "d")
    rng = as_rng(seed)
    theta = rng.standard_normal((n_projections, d))
    norms = np.linalg.norm(theta, axis=1, keepdims=True)
    while (norms == 0).any():  # probability zero, but never divide by zero
        bad = norms[:, 0] == 0
        theta[bad] = rng.standard_normal((int(bad.sum()), d))
        norms = np.linalg.norm(theta, axis=1, keepdims=True)
    return theta / norms


def sliced_wasserstein(x, y, p: float = 2, *, n_projections: int = 200, seed=None, a=None, b=None) -> float:
    r"""Monte-Carlo sliced Wasserstein distance :math:`SW_p` (:ref:`theory-sliced`).

    .. math:: SW_p^p(\mu, \nu) = \mathbb{E}_{\theta \sim U(S^{d-1})}
              W_p^p(\theta_\# \mu, \theta_\# \nu),

    estimated with ``n_projections`` directions uniform on the sphere; each
    1-D problem is solved exactly by the quantile coupling, so the only error
    is the Monte-Carlo error over directions. Memory is O((n + m) L), so it
    scales far beyond the exact dense solvers. :math:`SW_p \le W_p`.

    Parameters
    ----------
    x, y : array_like, shape (n, d) and (m, d)
        Atoms of the two measures.
    p : float, default 2
        Order, ``p >= 1``.
    n_projections : int, default 200
        Number of directions L.
    seed : int, numpy Generator or None
        Seed of the directions.
    a, b : array_like, optional
        Weights (uniform by default).

    Returns
    -------
    float
        :math:`SW_p` (the distance, not its p-th power).

    Raises
    ------
    ValueError, TypeError
        Bad points, weights, p or ``n_projections``.
    ProblemTooLargeError
        The projections would not fit in the memory budget.

    References
    ----------
    Rabin, Peyré, Delon, Bernot (2011); Bonneel et al. (2015); Nadjahi et
    al. (2020) for the dimension-free sample complexity.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.ot import sliced_wasserstein, wasserstein
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(100, 3)), rng.normal(size=(100, 3)) + 1.0
    >>> bool(sliced_wasserstein(x, y, seed=0) <= wasserstein(x, y))
    True
    """
    p = check_p(p)
    n_projections = check_positive_int(n_projections, "n_projections")
    x = as_points(x, "x")
    y = as_points(y, "y")
    check_same_dim(x, y)
    a = as_weights(a, x.shape[0], "a")
    b = as_weights(b, y.shape[0], "b")
    check_memory(
        8.0 * n_projections * (2 * (x.shape[0] + y.shape[0]) + x.shape[1]),
        f"sliced W with {n_projections} directions between {x.shape[0]} and {y.shape[0]} points",
        "Use fewer directions (n_projections).",
    )
    theta = random_directions(n_projections, x.shape[1], seed)
    k = _scale_exponent(x, y)
    top, share = _quantile_1d(np.ldexp(x, -k) @ theta.T, np.ldexp(y, -k) @ theta.T, a, b, p)
    return float(np.ldexp(_mean_of_powers(top, share, p), k))
