r"""Bottleneck assignment: the permutation minimising the largest matched entry.

For a square matrix :math:`D \ge 0` it finds :math:`\min_\sigma \max_i D_{i\sigma(i)}`. For the
distance matrix of two equal-size uniform clouds this is :math:`W_\infty`, the limit of
:math:`W_p` as :math:`p \to \infty`, and for every p

.. math:: W_\infty\, n^{-1/p} \le W_p \le W_\infty,

because the optimal :math:`W_p` permutation uses an edge at least :math:`W_\infty` long and the
bottleneck permutation's p-th powers are all at most :math:`W_\infty^p`. Scaling a cost matrix by
:math:`W_\infty^p` therefore puts the optimum of :math:`\sum_i (D_{i\sigma(i)}/W_\infty)^p` in
[1, n] whatever p, which is what keeps exact :math:`W_p` finite and accurate for large p
(:mod:`lmctheory.ot`).

Method: the threshold is the smallest entry t for which the bipartite graph
:math:`\{(i, j) : D_{ij} \le t\}` has a perfect matching (Hopcroft–Karp,
:func:`scipy.sparse.csgraph.maximum_bipartite_matching`), found by bisection over the sorted
distinct entries between a lower bound (every row and column must be matched:
:math:`\max(\max_i \min_j D_{ij}, \max_j \min_i D_{ij})`) and an upper bound (the largest entry of
a greedy permutation). Exact: it compares entries, never adds them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bottleneck_assignment"]


def _perfect_matching(D: np.ndarray, threshold: float) -> np.ndarray | None:
    """A perfect matching (row -> column) of the graph D <= threshold, or None."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    graph = csr_matrix(D <= threshold)
    match = maximum_bipartite_matching(graph, perm_type="column")
    return None if (match < 0).any() else np.asarray(match, dtype=np.intp)


def _greedy_upper_bound(D: np.ndarray) -> float:
    """The largest entry of a permutation built by taking each row's cheapest free column."""
    n = D.shape[0]
    free = np.ones(n, dtype=bool)
    worst = 0.0
    for i in np.argsort(D.min(axis=1)):
        j = int(np.argmin(np.where(free, D[i], np.inf)))
        free[j] = False
        worst = max(worst, float(D[i, j]))
    return worst


def bottleneck_assignment(D) -> tuple[np.ndarray, float]:
    """A permutation minimising the largest matched entry, ``max_i D[i, perm[i]]``, and that minimum.

    Parameters
    ----------
    D : array_like, shape (n, n)
        Finite, non-negative numbers (e.g. distances between two clouds).

    Returns
    -------
    perm : ndarray of int, shape (n,)
        Row i is matched to column ``perm[i]``.
    value : float
        The bottleneck value, an entry of D.

    Raises
    ------
    ValueError
        D is not a non-empty square matrix of finite, non-negative numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.ot import bottleneck_assignment
    >>> perm, value = bottleneck_assignment(np.array([[1.0, 5.0], [2.0, 9.0]]))
    >>> perm.tolist(), value
    ([1, 0], 5.0)
    """
    D = np.asarray(D, dtype=np.float64)
    if D.ndim != 2 or D.shape[0] != D.shape[1] or D.shape[0] == 0:
        raise ValueError(f"D must be a non-empty square matrix, got shape {D.shape}")
    if not np.isfinite(D).all() or (D < 0).any():
        raise ValueError("D must hold finite, non-negative numbers")
    low = max(float(D.min(axis=1).max()), float(D.min(axis=0).max()))
    high = _greedy_upper_bound(D)
    candidates = np.unique(D[(D >= low) & (D <= high)])
    lo, hi = 0, len(candidates) - 1  # the answer is candidates[hi]: feasible at hi, searched down to lo
    best = _perfect_matching(D, candidates[hi])
    while lo < hi:
        mid = (lo + hi) // 2
        match = _perfect_matching(D, candidates[mid])
        if match is None:
            lo = mid + 1
        else:
            hi, best = mid, match
    return best, float(candidates[hi])
