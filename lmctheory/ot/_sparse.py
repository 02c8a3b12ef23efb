r"""Exact W_p between large equal-size uniform clouds without the n x n cost matrix.

By Birkhoff's theorem :math:`W_p^p(\mu_n, \nu_n) = \min_\sigma \frac1n \sum_i |x_i - y_{\sigma(i)}|^p` for
two uniform clouds of n points. A dense solver forms all :math:`n^2` costs (memory :math:`8 n^2` bytes:
50 GB at n = 80,000). The optimal assignment, however, pairs each point with a near neighbour, which
suggests solving it on a sparse *candidate graph* and proving afterwards that the arcs left out cannot
improve it. :func:`sparse_assignment` does exactly that:

1. **Candidate graph**: every point's ``k`` nearest neighbours in the other cloud (both directions; a
   k-d tree) and the pairs of a rank matching along the clouds' main axis (so that the graph always
   holds a perfect matching), with costs :math:`c_{ij} = |x_i - y_j|^p` from coordinate differences.
2. **Sparse solve**: the minimum-cost perfect matching of the graph (SciPy's LAPJVsp,
   :func:`scipy.sparse.csgraph.min_weight_full_bipartite_matching`).
3. **Duals on the graph**: column potentials :math:`v` by label correcting (shortest paths on the
   residual graph, as in :func:`lmctheory.ot.certify`), row potentials
   :math:`u_i = c_{i\sigma(i)} - v_{\sigma(i)}`, so that :math:`u_i + v_j \le c_{ij}` on every arc of the
   graph (up to the slack :math:`\delta`) with equality on the matching.
4. **Certificate on the full problem** (LP duality): every one of the :math:`n^2` pairs is scanned in
   row blocks of a fixed buffer. Costs are screened with the GEMM expansion
   :math:`|x|^2 + |y|^2 - 2 x \cdot y` and a rigorous bound on its rounding error; a pair the screen
   cannot clear is recomputed from coordinate differences. A pair with
   :math:`c_{ij} - u_i - v_j < -(\tau_{ij} + \delta)` (:math:`\tau_{ij}` its rounding bound) is a
   violated arc: the violated arcs join the graph and steps 2-4 repeat. When none is left, every
   reduced cost is exactly at least :math:`-(10\varepsilon_{64}(c_{ij} + |u_i| + |v_j|) + \delta)` (the
   8 ulps the test allows plus 2 for the rounding of the test), so for any permutation :math:`\pi`
   cheaper than :math:`\sigma` (its costs sum to at most the objective S),
   :math:`\sum_i c_{i\sigma(i)} - \sum_i c_{i\pi(i)} \le G = 10\varepsilon_{64}(S + \sum|u| +
   \sum|v|) + \varepsilon_{64}\sum|u| + n\delta` (the second term: the rounding of
   :math:`u_i = c_{i\sigma(i)} - v_{\sigma(i)}`), and G must be at most :math:`10^{-12} S`: the certified
   relative accuracy of the dense route (:mod:`lmctheory.ot`, whose bound counts the same
   rounding more coarsely). The potentials are first shifted by the constant that minimises
   :math:`\sum|u| + \sum|v|`.
   Otherwise, or when the rounds run out, :class:`~lmctheory.exceptions.ConvergenceError` is raised:
   never an uncertified answer.

Memory is :math:`O(n k)` for the graph plus the fixed scan buffer; time is dominated by the
:math:`O(n^2 d)` certificate scans (BLAS, multithreaded) and the sparse solve. Coordinates are
scaled by a power of two (exact) so that every distance is at most 1. ``p`` is 1 or 2.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from ..exceptions import ConvergenceError
from ..utils.validation import check_positive_int
from ._assignment import RTOL

__all__ = ["SparseAssignment", "pair_costs", "sparse_assignment"]

#: ulps per reduced cost in its rounding bound (as lmctheory.ot)
_ULPS = 8
_EPS = float(np.finfo(np.float64).eps)


@dataclass
class SparseAssignment:
    """Result of :func:`sparse_assignment`.

    Parameters
    ----------
    perm : ndarray of int
        ``x[i]`` is matched with ``y[perm[i]]``; optimal, certified on the full problem.
    cost : float
        :math:`W_p^p = \\frac1n \\sum_i |x_i - y_{\\sigma(i)}|^p`.
    distance : float
        :math:`W_p`.
    p : float
        The exponent.
    rounds : int
        Sparse solves until the certificate closed.
    arcs : int
        Arcs of the final candidate graph.
    info : dict
        ``k``, the certified gap, arcs added per round, seconds per stage.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.ot import sparse_assignment
    >>> res = sparse_assignment(np.array([[0.0], [1.0]]), np.array([[1.5], [0.25]]), p=1)
    >>> res.perm.tolist(), res.cost
    ([1, 0], 0.375)
    """

    perm: np.ndarray
    cost: float
    distance: float
    p: float
    rounds: int
    arcs: int
    info: dict = field(default_factory=dict)


def _check_clouds(x, y, p):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    for name, a in (("x", x), ("y", y)):
        if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
            raise ValueError(f"{name} must be a non-empty (n, d) array, got shape {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or infinite values")
    if x.shape != y.shape:
        raise ValueError(
            f"x and y must have the same shape (equal uniform clouds), got {x.shape} and {y.shape}"
        )
    if p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    return x, y, float(p)


def _scaled(x, y):
    """x, y times 2^-s with every distance at most 1 (an exact scaling), and s."""
    span = max(float(np.abs(x).max()), float(np.abs(y).max()))
    if span == 0.0:
        return x, y, 0
    s = int(np.frexp(span)[1]) + math.ceil(math.log2(2.0 * math.sqrt(x.shape[1])))
    return np.ldexp(x, -s), np.ldexp(y, -s), s


def pair_costs(x, y, i, j, p: float) -> np.ndarray:
    """:math:`|x_i - y_j|^p` for index arrays i, j, from coordinate differences (the one definition of a
    cost every stage uses).

    Parameters
    ----------
    x, y : ndarray, shape (n, d)
        The clouds.
    i, j : ndarray of int
        Pairs (x[i[k]], y[j[k]]).
    p : {1.0, 2.0}
        The exponent.

    Returns
    -------
    ndarray
        One cost per pair.

    Raises
    ------
    IndexError
        Indices out of range (NumPy's error).

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.ot import pair_costs
    >>> pair_costs(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]]), np.array([0]), np.array([0]), 1.0).tolist()
    [5.0]
    """
    diff = x[i] - y[j]
    squares = np.einsum("ij,ij->i", diff, diff)
    return squares if p == 2.0 else np.sqrt(squares)


def _knn_arcs(x, y, k):
    """Arcs (i, j): the k nearest y of every x and the k nearest x of every y."""
    from sklearn.neighbors import NearestNeighbors

    n = x.shape[0]
    k = min(k, n)
    algorithm = "kd_tree" if x.shape[1] <= 16 else "brute"
    to_y = NearestNeighbors(n_neighbors=k, algorithm=algorithm).fit(y).kneighbors(x, return_distance=False)
    to_x = NearestNeighbors(n_neighbors=k, algorithm=algorithm).fit(x).kneighbors(y, return_distance=False)
    i = np.concatenate([np.repeat(np.arange(n), k), to_x.ravel()])
    j = np.concatenate([to_y.ravel(), np.repeat(np.arange(n), k)])
    return i, j


def _rank_arcs(x, y):
    """Arcs of a perfect matching (points paired by rank along the clouds' main axis), so that the
    candidate graph always has one, whatever the neighbours miss (e.g. clusters of unequal counts)."""
    z = np.vstack([x, y])
    z = z - z.mean(axis=0)
    axis = np.linalg.svd(z[:: max(1, z.shape[0] // 4096)], full_matrices=False)[2][0]
    return np.argsort(x @ axis, kind="stable"), np.argsort(y @ axis, kind="stable")


def _unique_arcs(i, j, n):
    key = np.unique(i.astype(np.int64) * n + j)
    return key // n, key % n


def _solve_sparse(i, j, c, n):
    """The minimum-cost perfect matching on the arcs (the graph holds one: :func:`_rank_arcs`)."""
    # +1 keeps zero costs (coinciding points) as explicit arcs; it adds n to every perfect matching
    _, perm = min_weight_full_bipartite_matching(csr_matrix((c + 1.0, (i, j)), shape=(n, n)))
    return np.asarray(perm, dtype=np.intp)


def _duals(i, j, c, perm, diag, slack, n):
    """Column potentials v with c_ij - u_i - v_j >= -slack on every arc (u_i = diag_i - v_perm(i)), by label
    correcting from v = 0; None if it does not settle within n + 2 rounds (a negative cycle)."""
    v = np.zeros(n)
    row_of_col = np.empty(n, dtype=np.intp)
    row_of_col[perm] = np.arange(n)
    u = diag - v[perm]
    active = np.ones(n, dtype=bool)
    for _ in range(n + 2):
        arcs = active[i]
        if not arcs.any():
            return u, v
        lowest = np.full(n, np.inf)
        np.minimum.at(lowest, j[arcs], c[arcs] - u[i[arcs]])
        noise = (_ULPS / 2) * _EPS * (np.abs(lowest) + np.abs(v) + float(np.abs(u).max()))
        dropped = np.flatnonzero(v - lowest > slack + noise)
        v[dropped] = lowest[dropped]
        rows = row_of_col[dropped]
        u[rows] = diag[rows] - v[dropped]
        active[:] = False
        active[rows] = True
    return None


def _gap(objective, u, v, total_slack):
    """The certified bound on cost(perm) - optimum (module docstring): every accepted reduced cost is
    exactly at least -((8 + 2) eps (c + |u| + |v|) + slack) (8 ulps allowed, 2 for the rounding of the
    test itself), summed along any cheaper permutation (whose costs sum to at most the objective), plus
    the rounding of u_i = c_i,perm(i) - v_perm(i) on the matching."""
    su, sv = float(np.abs(u).sum()), float(np.abs(v).sum())
    return (_ULPS + 2) * _EPS * (objective + su + sv) + _EPS * su + total_slack


def _balanced(u, v):
    """(u + t, v - t) with t minimising sum |u| + sum |v| (the median of -u and v): the same reduced costs,
    and the smallest rounding allowance in the certified gap."""
    t = float(np.median(np.concatenate([-u, v])))
    return u + t, v - t


def _violations(x, y, u, v, p, slack, block_rows):
    """Every pair (i, j) with c_ij - u_i - v_j < -(tau_ij + slack), scanning all pairs in row blocks.

    The screen computes the squared distances by the GEMM expansion, whose error is at most
    ``gamma (|x_i| + |y_j|)^2`` (bounded per block), and for p = 1 their square roots, off by at most the
    square root of that (|sqrt(a) - sqrt(b)| <= sqrt(|a - b|)); pairs it cannot clear are recomputed
    from coordinate differences and tested exactly."""
    n, d = x.shape
    nx, ny = np.einsum("ij,ij->i", x, x), np.einsum("ij,ij->i", y, y)
    gamma = 2.0 * (d + 4) * _EPS  # rounding of |x|^2 + |y|^2 - 2 x.y, relative to (|x| + |y|)^2
    top_y = float(np.sqrt(ny.max()))
    found_i, found_j = [], []
    shifted_v = v - slack  # a violation needs c_ij - u_i - (v_j - slack) < 0
    if p == 2.0:  # one GEMM gives E_ij - u_i - v'_j: [x, |x|^2 - u, 1] . [-2y, 1, |y|^2 - v']
        left = np.hstack([x, (nx - u)[:, None], np.ones((n, 1))])
        right = np.hstack([-2.0 * y, np.ones((n, 1)), (ny - shifted_v)[:, None]])
        top_right = 2.0 * top_y + float(np.abs(ny - shifted_v).max())
    for s in range(0, n, block_rows):
        r = slice(s, min(n, s + block_rows))
        top_x = float(np.sqrt(nx[r].max()))
        if p == 2.0:
            E = left[r] @ right.T
            # |error| <= gamma (sum of |terms|): 2|x||y| + ||x|^2 - u| + ||y|^2 - v'|
            err = gamma * (2.0 * top_x * top_y + float(np.abs(nx[r] - u[r]).max()) + top_right)
        else:
            err = math.sqrt(gamma * (top_x + top_y) ** 2)  # |sqrt(a) - sqrt(b)| <= sqrt(|a - b|)
            E = x[r] @ y.T
            E *= -2.0
            E += nx[r, None]
            E += ny[None, :]
            np.maximum(E, 0.0, out=E)
            np.sqrt(E, out=E)
            E -= u[r, None]
            E -= shifted_v[None, :]
            err += 4 * _EPS * (float(np.abs(u[r]).max()) + float(np.abs(v).max()) + 1.0)
        bi, bj = np.nonzero(E < err * (1 + 1e-6))
        if bi.size:
            gi = bi + s
            c = pair_costs(x, y, gi, bj, p)
            tau = _ULPS * _EPS * (c + np.abs(u[gi]) + np.abs(v[bj]))
            bad = c - u[gi] - v[bj] < -(tau + slack)
            found_i.append(gi[bad])
            found_j.append(bj[bad])
    if not found_i:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    return np.concatenate(found_i), np.concatenate(found_j)


def sparse_assignment(
    x,
    y,
    p: float = 2,
    *,
    k: int = 16,
    block_bytes: int = 1 << 26,
    max_rounds: int = 30,
) -> SparseAssignment:
    r"""Exact, certified :math:`W_p` between two uniform clouds of n points each, in :math:`O(nk)` memory.

    See the module docstring for the method; the answer is the optimal assignment of the full
    problem (certified by LP duality to a relative 1e-12 of the objective) or an error.

    Parameters
    ----------
    x, y : array_like, shape (n, d)
        The clouds (finite; the same n).
    p : {1, 2}, default 2
        Exponent of the Euclidean ground cost.
    k : int, default 16
        Nearest neighbours per point in the candidate graph.
    block_bytes : int, default 64 MiB
        Size of the certificate scan's buffer (rows per block = block_bytes / (8 n)).
    max_rounds : int, default 30
        Sparse solves allowed before giving up.

    Returns
    -------
    SparseAssignment
        The permutation, :math:`W_p^p`, :math:`W_p` and the certificate's record.

    Raises
    ------
    ValueError
        Clouds that are empty, of different shapes or non-finite; p not 1 or 2; bad ``k``,
        ``block_bytes`` or ``max_rounds``.
    ConvergenceError
        The certificate did not close within ``max_rounds`` or its gap exceeds 1e-12 of the objective.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.ot import sparse_assignment
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.random((500, 3)), rng.random((500, 3))
    >>> res = sparse_assignment(x, y, p=2)
    >>> from lmctheory.ot import wasserstein
    >>> bool(abs(res.distance - wasserstein(x, y, 2, method="assignment")) < 1e-12)
    True
    """
    started = time.perf_counter()
    x, y, p = _check_clouds(x, y, p)
    k = check_positive_int(k, "k")
    block_bytes = check_positive_int(block_bytes, "block_bytes")
    max_rounds = check_positive_int(max_rounds, "max_rounds")
    n = x.shape[0]
    xs, ys, shift = _scaled(x, y)
    seconds = {"graph": 0.0, "solve": 0.0, "duals": 0.0, "scan": 0.0}
    clock = time.perf_counter()
    near_i, near_j = _knn_arcs(xs, ys, k)
    rank_i, rank_j = _rank_arcs(xs, ys)
    i, j = _unique_arcs(np.concatenate([near_i, rank_i]), np.concatenate([near_j, rank_j]), n)
    seconds["graph"] += time.perf_counter() - clock
    block_rows = max(1, block_bytes // (9 * n))  # the block of E and its mask
    added = []
    for rounds in range(1, max_rounds + 1):
        c = pair_costs(xs, ys, i, j, p)
        clock = time.perf_counter()
        perm = _solve_sparse(i, j, c, n)
        seconds["solve"] += time.perf_counter() - clock
        diag = pair_costs(xs, ys, np.arange(n), perm, p)
        objective = float(diag.sum())
        if objective == 0.0:  # every point coincides with its match: nothing is cheaper
            return _result(perm, 0.0, p, shift, rounds, i.size, k, 0.0, added, seconds, started)
        slack = RTOL * objective / (4 * n)
        clock = time.perf_counter()
        duals = _duals(i, j, c, perm, diag, slack, n)
        seconds["duals"] += time.perf_counter() - clock
        if duals is None:
            raise ConvergenceError(
                "the sparse matching is not optimal on its own graph (dual potentials diverge)"
            )
        u, v = _balanced(*duals)
        clock = time.perf_counter()
        bad_i, bad_j = _violations(xs, ys, u, v, p, slack, block_rows)
        seconds["scan"] += time.perf_counter() - clock
        if bad_i.size == 0:
            gap = _gap(objective, u, v, n * slack)
            if gap > RTOL * objective:
                raise ConvergenceError(
                    f"the certified gap {gap:.3g} exceeds {RTOL:g} of the objective {objective:.3g}"
                )
            return _result(
                perm, objective / n, p, shift, rounds, i.size, k, gap / objective, added, seconds, started
            )
        added.append(int(bad_i.size))
        i, j = _unique_arcs(np.concatenate([i, bad_i]), np.concatenate([j, bad_j]), n)
    raise ConvergenceError(
        f"the certificate did not close within {max_rounds} rounds (violated arcs added per round: {added})"
    )


def _result(perm, cost, p, shift, rounds, arcs, k, relative_gap, added, seconds, started):
    """Undo the scaling: W_p scales by 2^shift, W_p^p by 2^(p shift)."""
    distance = math.ldexp(cost ** (1.0 / p), shift)
    return SparseAssignment(
        perm=perm,
        cost=math.ldexp(cost, int(p) * shift),
        distance=distance,
        p=p,
        rounds=rounds,
        arcs=int(arcs),
        info={
            "k": k,
            "certified_relative_gap": relative_gap,
            "arcs_added_per_round": added,
            "seconds": {**seconds, "total": time.perf_counter() - started},
        },
    )
