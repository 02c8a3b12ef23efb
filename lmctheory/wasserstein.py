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
    solved exactly by :func:`lmctheory.assignment.solve_assignment` (a float32
    Jonker–Volgenant candidate certified optimal in float64 by LP duality,
    SciPy's :func:`~scipy.optimize.linear_sum_assignment` as the fallback).
``"emd"``
    Any sizes and weights: POT's network simplex (:func:`ot.emd2`, Bonneel et
    al. 2011). POT stops at ``numItermax`` and then returns a too-large cost
    with only a warning (THEORY.md §2); here the iteration cap is raised, the
    solver status is checked, and the result is *certified* optimal by
    LP duality (dual feasibility :math:`u_i + v_j \le M_{ij}` and zero duality
    gap). Anything else raises :class:`~lmctheory.exceptions.ConvergenceError`.
``"1d"``
    Points on the line: the quantile (monotone) coupling is optimal for every
    convex cost, :math:`W_p^p = \int_0^1 |F^{-1}(u) - G^{-1}(u)|^p\,du`,
    computed exactly by sorting, weighted or not, in :math:`O((n+m)\log(n+m))`.

``"auto"`` picks ``"1d"`` when d = 1, otherwise ``"assignment"`` for equal
sizes with uniform weights (measured fastest, see README "Performance"),
otherwise ``"emd"``.

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

from ._validation import (
    as_points,
    as_rng,
    as_weights,
    check_p,
    check_positive_int,
    check_same_dim,
)
from .assignment import solve_assignment
from .exceptions import ConvergenceError, ProblemTooLargeError

__all__ = [
    "METHODS",
    "TransportResult",
    "transport",
    "wasserstein",
    "optimal_matching",
    "sliced_wasserstein",
    "cost_matrix",
    "solve_assignment",
    "memory_budget",
    "dense_problem_bytes",
]

METHODS = ("auto", "assignment", "emd", "1d")

#: Bytes per cost-matrix entry, per dense method: the float64 cost matrix (8) plus the
#: solver's working memory: for "assignment" the float32 copy of the candidate solver (4)
#: and, should the certificate fail, SciPy's float64 copy (8); POT's network simplex keeps
#: arc arrays of about 4 more words per entry. Checked with tracemalloc in the tests.
_BYTES_PER_ENTRY = {"assignment": 20, "emd": 40}


@dataclass(frozen=True)
class TransportResult:
    """Outcome of an exact optimal transport computation.

    Attributes
    ----------
    distance : float
        :math:`W_p`, the Wasserstein distance.
    cost : float
        :math:`T_p = W_p^p`, the optimal transport cost with ground cost
        :math:`|x - y|^p`.
    p : float
        The order.
    method : str
        The exact method actually used ("assignment", "emd" or "1d").
    n, m, d : int
        Sizes of the two clouds and their dimension.
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
    """Bytes a dense OT problem may use: ``LMCTHEORY_MAX_BYTES`` or half of physical RAM."""
    env = os.environ.get("LMCTHEORY_MAX_BYTES")
    if env:
        return int(float(env))
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")) // 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def dense_problem_bytes(n: int, m: int, method: str) -> int:
    """Estimated peak memory (bytes) of a dense exact solve between n and m points."""
    return int(n) * int(m) * _BYTES_PER_ENTRY[method]


def _check_fits(n: int, m: int, method: str) -> None:
    need = dense_problem_bytes(n, m, method)
    budget = memory_budget()
    if need > budget:
        raise ProblemTooLargeError(
            f"exact W_p with method={method!r} between {n} and {m} points needs about "
            f"{need / 2**30:.1f} GiB (an {n} x {m} float64 cost matrix plus solver memory), more "
            f"than the budget of {budget / 2**30:.1f} GiB (half of physical memory; override with "
            "the LMCTHEORY_MAX_BYTES environment variable). Use sliced_wasserstein(x, y, p) "
            "(dimension-free sample complexity, O(n log n) per direction) or compare random "
            "subsamples of equal size."
        )


def cost_matrix(x: np.ndarray, y: np.ndarray, p: float) -> np.ndarray:
    """Ground-cost matrix :math:`M_{ij} = |x_i - y_j|_2^p` (float64, direct differences).

    Computed with :func:`scipy.spatial.distance.cdist`, i.e. from coordinate
    differences rather than the ``|x|^2 + |y|^2 - 2 x.y`` expansion, which loses
    precision for nearby points.
    """
    if p == 2.0:
        return cdist(x, y, "sqeuclidean")
    dist = cdist(x, y, "euclidean")
    if p != 1.0:
        np.power(dist, p, out=dist)
    return dist


def _distance_from_cost(cost: float, p: float) -> float:
    return float(max(cost, 0.0) ** (1.0 / p))


def _power_of_two_scale(x: np.ndarray, y: np.ndarray) -> float:
    """A power of two s with every distance |x_i - y_j| / s at most 1 (1 for all-zero input).

    |x_i - y_j| <= 2 sqrt(d) max |coordinate|, so s is the smallest power of two
    above that bound. Dividing by s is exact in floating point, and
    W_p(x/s, y/s) = W_p(x, y)/s, so costs |x - y|^p never overflow (they lie in
    [0, 1]) whatever the scale of the data or the order p.
    """
    span = max(float(np.abs(x).max()), float(np.abs(y).max()))
    if span == 0.0:
        return 1.0
    bound = 2.0 * math.sqrt(x.shape[1]) * span
    return float(2.0 ** np.frexp(bound)[1])


# --------------------------------------------------------------------------- 1-D


def _quantile_cost_1d(xs: np.ndarray, ys: np.ndarray, a, b, p: float) -> np.ndarray:
    r"""Exact :math:`W_p^p` on the line for each column of ``xs`` (n, L) and ``ys`` (m, L).

    Uses the quantile coupling: with sorted atoms and cumulative weights, the
    unit interval splits into pieces on which both quantile functions are
    constant, and :math:`W_p^p = \sum_k \Delta u_k |x_{(i_k)} - y_{(j_k)}|^p`.
    Columns are independent problems (used for sliced W); weights are shared.
    """
    n, m = xs.shape[0], ys.shape[0]
    if a is None and b is None and n == m:
        diff = np.sort(xs, axis=0) - np.sort(ys, axis=0)
        return np.mean(np.abs(diff) ** p, axis=0)
    if a is None and b is None:
        # Breakpoints i/n and j/m are shared by all columns: i/n == j/m exactly in
        # floating point whenever it holds in the rationals (correctly rounded division).
        cum_x = np.arange(1, n + 1) / n
        cum_y = np.arange(1, m + 1) / m
        u = np.unique(np.concatenate([cum_x, cum_y]))
        du = np.diff(u, prepend=0.0)
        mid = u - du / 2
        ix = np.minimum(np.searchsorted(cum_x, mid, side="left"), n - 1)
        iy = np.minimum(np.searchsorted(cum_y, mid, side="left"), m - 1)
        xs_sorted = np.sort(xs, axis=0)
        ys_sorted = np.sort(ys, axis=0)
        return du @ (np.abs(xs_sorted[ix] - ys_sorted[iy]) ** p)
    a = np.full(n, 1.0 / n) if a is None else a
    b = np.full(m, 1.0 / m) if b is None else b
    return np.array(
        [_weighted_quantile_cost(xs[:, k], ys[:, k], a, b, p) for k in range(xs.shape[1])]
    )


def _weighted_quantile_cost(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray, p: float) -> float:
    ox = np.argsort(x, kind="stable")
    oy = np.argsort(y, kind="stable")
    xs, ys = x[ox], y[oy]
    cum_x = np.cumsum(a[ox])
    cum_y = np.cumsum(b[oy])
    cum_x /= cum_x[-1]
    cum_y /= cum_y[-1]
    u = np.unique(np.concatenate([cum_x, cum_y]))
    du = np.diff(u, prepend=0.0)
    keep = du > 0
    u, du = u[keep], du[keep]
    mid = u - du / 2
    ix = np.minimum(np.searchsorted(cum_x, mid, side="left"), len(xs) - 1)
    iy = np.minimum(np.searchsorted(cum_y, mid, side="left"), len(ys) - 1)
    return float(du @ (np.abs(xs[ix] - ys[iy]) ** p))


# --------------------------------------------------------------------- dense exact


def _assignment(x: np.ndarray, y: np.ndarray, p: float):
    cost = cost_matrix(x, y, p)
    perm = solve_assignment(cost)
    return perm, float(cost[np.arange(len(perm)), perm].mean())


def _emd_iteration_cap(n: int, m: int) -> int:
    """Network-simplex pivot cap: generous (the solver stops at optimality anyway)."""
    return int(max(10**7, 50 * n * m))


def _emd(x: np.ndarray, y: np.ndarray, a, b, p: float) -> float:
    import ot  # POT: imported lazily, it is slow to import

    n, m = x.shape[0], y.shape[0]
    a = np.full(n, 1.0 / n) if a is None else a
    b = np.full(m, 1.0 / m) if b is None else b
    M = cost_matrix(x, y, p)
    scale = float(M.max())
    if scale == 0.0:  # every pair at distance 0: nothing to move
        return 0.0
    M /= scale  # same optimal plan; keeps the solver and its duals away from over/underflow
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        try:
            cost, log = ot.emd2(
                a, b, M, numItermax=_emd_iteration_cap(n, m), log=True, check_marginals=True
            )
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
    _certify_optimal(M, a, b, np.asarray(log["u"]), np.asarray(log["v"]), float(cost))
    return float(cost) * scale


def _certify_optimal(M, a, b, u, v, cost: float, rtol: float = 1e-9) -> None:
    """LP-duality certificate of optimality for a transport cost.

    ``cost`` is optimal iff some dual pair (u, v) is feasible,
    :math:`u_i + v_j \\le M_{ij}` on the supports of a and b, with equal value
    :math:`\\sum_i a_i u_i + \\sum_j b_j v_j = \\text{cost}`.
    """
    rows, cols = a > 0, b > 0
    scale = max(float(np.abs(M).max()), np.finfo(float).tiny)
    slack = M[np.ix_(rows, cols)] - u[rows, None] - v[None, cols]
    dual_value = float(a[rows] @ u[rows] + b[cols] @ v[cols])
    if slack.min() < -rtol * scale or abs(dual_value - cost) > rtol * scale:
        raise ConvergenceError(
            "exact OT certificate failed: the solver's dual variables are infeasible "
            f"(min slack {slack.min():.3g}) or the duality gap is {abs(dual_value - cost):.3g} "
            f"(cost scale {scale:.3g}); the returned cost would not be optimal"
        )


# ---------------------------------------------------------------------- public API


def _resolve_method(method: str, n: int, m: int, d: int, uniform: bool) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "auto":
        if d == 1:
            return "1d"
        return "assignment" if (n == m and uniform) else "emd"
    if method == "assignment" and not (n == m and uniform):
        raise ValueError(
            "method='assignment' needs equal sizes and uniform weights "
            f"(got n={n}, m={m}, weights {'uniform' if uniform else 'given'}); use method='emd'"
        )
    if method == "1d" and d != 1:
        raise ValueError(f"method='1d' needs points on the line (d = 1), got d={d}")
    return method


def transport(x, y, p: float = 2, *, a=None, b=None, method: str = "auto") -> TransportResult:
    """Exact optimal transport between two empirical measures, with all the details.

    Parameters
    ----------
    x : array_like or torch.Tensor, shape (n, d) or (n,)
        Atoms of the first measure (rows are points).
    y : array_like or torch.Tensor, shape (m, d) or (m,)
        Atoms of the second measure.
    p : float, default 2
        Order, ``p >= 1``; the ground cost is ``|x - y|_2 ** p``.
    a, b : array_like, optional
        Probability weights of the atoms (non-negative, summing to one).
        Default: uniform.
    method : {"auto", "assignment", "emd", "1d"}
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
    """
    p = check_p(p)
    x = as_points(x, "x")
    y = as_points(y, "y")
    check_same_dim(x, y)
    a = as_weights(a, x.shape[0], "a")
    b = as_weights(b, y.shape[0], "b")
    n, m, d = x.shape[0], y.shape[0], x.shape[1]
    used = _resolve_method(method, n, m, d, a is None and b is None)
    if used != "1d":
        _check_fits(n, m, used)
    s = _power_of_two_scale(x, y)
    x, y = x / s, y / s
    if used == "1d":
        cost = float(_quantile_cost_1d(x, y, a, b, p)[0])
    elif used == "assignment":
        cost = _assignment(x, y, p)[1]
    else:
        cost = _emd(x, y, a, b, p)
    cost = max(cost, 0.0)
    try:
        full_cost = cost * s**p  # exact for integer p (s is a power of two)
    except OverflowError:  # the p-th power of a huge distance exceeds float64
        full_cost = math.inf
    return TransportResult(s * _distance_from_cost(cost, p), full_cost, p, used, n, m, d)


def wasserstein(x, y, p: float = 2, *, a=None, b=None, method: str = "auto") -> float:
    r"""Exact p-Wasserstein distance :math:`W_p` between two empirical measures.

    :math:`W_p(\mu, \nu) = (\min_\gamma \sum_{ij} \gamma_{ij} |x_i - y_j|^p)^{1/p}`
    over couplings :math:`\gamma` of the weights ``a`` and ``b``. Returns the
    distance, not its p-th power (use :func:`transport` for both).

    Parameters are those of :func:`transport`.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.wasserstein import wasserstein
    >>> wasserstein(np.array([0.0, 1.0]), np.array([0.5, 1.5]), p=2)
    0.5
    """
    return transport(x, y, p, a=a, b=b, method=method).distance


def optimal_matching(x, y, p: float = 2):
    r"""Optimal one-to-one matching of two equal-size clouds (Birkhoff).

    Returns ``(perm, cost)`` with ``x[i]`` matched to ``y[perm[i]]`` and
    ``cost = mean_i |x_i - y_perm[i]|^p``, which equals :math:`W_p^p` between
    the two uniform empirical measures (Birkhoff–von Neumann: an optimal
    coupling of two uniform measures on m atoms can be taken a permutation).

    Parameters
    ----------
    x, y : array_like, shape (m, d) or (m,)
        The two clouds (e.g. incoming weight rows of two layers' neurons).
    p : float, default 2

    Returns
    -------
    perm : ndarray of int, shape (m,)
    cost : float
        :math:`W_p^p`, the mean matched cost (a p-th power, not a distance).
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
        return perm, float(np.mean(np.abs(x[:, 0] - y[perm, 0]) ** p))
    _check_fits(x.shape[0], y.shape[0], "assignment")
    return _assignment(x, y, p)


def random_directions(n_projections: int, d: int, seed=None) -> np.ndarray:
    """``n_projections`` directions uniform on the unit sphere of R^d, shape (n_projections, d)."""
    n_projections = check_positive_int(n_projections, "n_projections")
    rng = as_rng(seed)
    theta = rng.standard_normal((n_projections, d))
    norms = np.linalg.norm(theta, axis=1, keepdims=True)
    while (norms == 0).any():  # probability zero, but never divide by zero
        bad = norms[:, 0] == 0
        theta[bad] = rng.standard_normal((int(bad.sum()), d))
        norms = np.linalg.norm(theta, axis=1, keepdims=True)
    return theta / norms


def sliced_wasserstein(
    x, y, p: float = 2, *, n_projections: int = 200, seed=None, a=None, b=None
) -> float:
    r"""Monte-Carlo sliced Wasserstein distance :math:`SW_p`.

    .. math:: SW_p^p(\mu, \nu) = \mathbb{E}_{\theta \sim U(S^{d-1})}
              W_p^p(\theta_\# \mu, \theta_\# \nu),

    estimated with ``n_projections`` directions uniform on the sphere; each
    1-D problem is solved exactly by the quantile coupling, so the only error
    is the Monte-Carlo error over directions. Memory is O((n + m) L), so it
    scales far beyond the exact dense solvers. :math:`SW_p \le W_p`.
    Returns :math:`SW_p` (the distance, not its p-th power).

    Parameters
    ----------
    x, y : array_like, shape (n, d) and (m, d)
    p : float, default 2
    n_projections : int, default 200
        Number of directions L.
    seed : int, numpy Generator or None
        Seed of the directions.
    a, b : array_like, optional
        Weights (uniform by default).

    References
    ----------
    Rabin, Peyré, Delon, Bernot (2011); Bonneel et al. (2015); Nadjahi et
    al. (2020) for the dimension-free sample complexity.
    """
    p = check_p(p)
    n_projections = check_positive_int(n_projections, "n_projections")
    x = as_points(x, "x")
    y = as_points(y, "y")
    check_same_dim(x, y)
    a = as_weights(a, x.shape[0], "a")
    b = as_weights(b, y.shape[0], "b")
    theta = random_directions(n_projections, x.shape[1], seed)
    costs = _quantile_cost_1d(x @ theta.T, y @ theta.T, a, b, p)
    return _distance_from_cost(float(np.mean(costs)), p)
