r"""Exact linear assignment: a fast float32 candidate, certified optimal in float64.

Problem. For a square cost matrix :math:`C \in \mathbb{R}^{n \times n}` find the
permutation :math:`\sigma` minimising :math:`\sum_i C_{i\sigma(i)}` (or
maximising it: the minimum of :math:`-C`). It is the solver behind every exact
matching in lmctheory (W_p between equal uniform clouds by Birkhoff's theorem,
neuron matching between networks).

Method (``solver="auto"`` when the ``lapjv`` package imports):

0. **Shortcut.** If the row minima :math:`\arg\min_j C_{ij}` fall in distinct
   columns, they form an optimal permutation (the potentials
   :math:`u_i = \min_j C_{ij}`, :math:`v = 0` certify it). This is common in
   neuron matching once the networks are nearly aligned.
1. **Candidate.** The Jonker–Volgenant shortest-augmenting-path solver of the
   ``lapjv`` package (Jonker & Volgenant 1987; SIMD, single precision) runs on
   the reduced matrix :math:`(C_{ij} - r_i - c_j) / s` (row, then column minima
   subtracted in float64; s its largest entry) rounded to float32. Single precision
   halves the memory traffic that dominates a dense O(n^3) solve, but its answer
   is only optimal for the *rounded* matrix.
2. **Certificate (LP duality, in float64 on the original C).** :math:`\sigma` is
   optimal iff there are potentials with :math:`u_i + v_j \le C_{ij}` for all
   i, j and equality on every pair :math:`(i, \sigma(i))`. Starting from the
   candidate's column potentials (mapped back to the scale of C), set
   :math:`u_i = C_{i\sigma(i)} - v_{\sigma(i)}` and lower every violated column,
   :math:`v_j \leftarrow \min_i (C_{ij} - u_i)`, rescanning only the rows whose
   :math:`u_i` changed (label-correcting shortest paths on the residual graph,
   which terminates iff the residual graph has no negative cycle, i.e. iff
   :math:`\sigma` is optimal). It stops when no column drops by more than
   :math:`\tau = 64\,\varepsilon_{64} \max |C|`; then every reduced cost is at least
   :math:`-\tau` and for every permutation :math:`\pi`,
   :math:`\sum_i C_{i\sigma(i)} \le \sum_i C_{i\pi(i)} + n\tau`: optimal to
   float64 rounding, the same guarantee SciPy's solver gives.
3. **Fallback.** If the candidate is not a permutation, or the certificate does
   not close within a work budget (16 full passes over C), SciPy's exact
   :func:`scipy.optimize.linear_sum_assignment` (Crouse 2016) solves C in
   float64. ``solver="scipy"`` always uses it.

Measured (README "Performance"): 2-5x faster than SciPy for n = 1000..8000 in
d = 10, the certificate costing a fraction of the solve.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["SOLVERS", "available_solvers", "solve_assignment"]

SOLVERS = ("auto", "lapjv", "scipy")

#: The certificate accepts reduced costs down to -_TOL_ULPS * eps * max|C|.
_TOL_ULPS = 64
#: Work budget of the certificate, in full passes over C.
_MAX_PASSES = 16
#: Entries per block when scanning C (float64 temporaries of 512 KiB stay in cache).
_BLOCK = 1 << 16

try:  # the fast candidate solver; optional (x86-64 wheels), SciPy otherwise
    from lapjv import lapjv as _lapjv
except ImportError:  # pragma: no cover - exercised on platforms without the wheel
    _lapjv = None


def available_solvers() -> tuple[str, ...]:
    """Solvers usable on this machine (``"lapjv"`` needs the ``lapjv`` package)."""
    return SOLVERS if _lapjv is not None else ("auto", "scipy")


def _check_cost(cost, maximize: bool = False) -> np.ndarray:
    """The float64 matrix to minimise: ``cost`` (or ``-cost`` to maximise), checked."""
    cost = np.asarray(cost)
    if cost.ndim != 2 or cost.shape[0] != cost.shape[1] or cost.shape[0] == 0:
        raise ValueError(f"cost must be a non-empty square matrix, got shape {cost.shape}")
    if not np.isfinite(cost).all():
        raise ValueError("cost contains non-finite values (NaN or inf)")
    return np.negative(cost, dtype=np.float64) if maximize else cost.astype(np.float64, copy=False)


def _scipy(C: np.ndarray) -> np.ndarray:
    rows, cols = linear_sum_assignment(C)
    perm = np.empty(C.shape[0], dtype=np.intp)
    perm[rows] = cols
    return perm


def _float32_candidate(C: np.ndarray):
    """lapjv on the reduced matrix in float32: (perm, column potentials of C).

    The row minima r and then the column minima c are subtracted in float64
    first, so that the entries that decide the assignment (reduced costs near 0)
    keep their relative precision when rounded to float32; the matrix is divided
    by its largest entry s so that nothing overflows. Subtracting constants from
    rows or columns does not change the optimal assignment, and the duals of C
    are v_j = s v'_j + c_j (row constants are absorbed by u in :func:`certify`).
    """
    n = C.shape[0]
    step = max(1, _BLOCK // n)
    blocks = [slice(s, s + step) for s in range(0, n, step)]
    r = C.min(axis=1)
    c = np.full(n, np.inf)
    span = 0.0  # the largest row-reduced entry bounds the reduced matrix
    for b in blocks:
        block = C[b] - r[b, None]
        np.minimum(c, block.min(axis=0), out=c)
        span = max(span, float(block.max()))
    scale = 1.0 / span if span > 1e-300 else 1.0  # else: certify() rejects, SciPy solves
    C32 = np.empty(C.shape, dtype=np.float32)
    for b in blocks:
        block = C[b] - r[b, None]
        block -= c
        block *= scale
        C32[b] = block
    row_to_col, _, (_, _, v32) = _lapjv(C32)
    return np.asarray(row_to_col, dtype=np.intp), np.asarray(v32, dtype=np.float64) / scale + c


def _is_permutation(perm: np.ndarray, n: int) -> bool:
    return perm.shape == (n,) and perm.min() >= 0 and perm.max() < n and np.unique(perm).size == n


def certify(C: np.ndarray, perm: np.ndarray, v: np.ndarray | None = None,
            max_passes: float = _MAX_PASSES) -> bool:
    r"""True iff ``perm`` is certified optimal for ``C`` (see the module docstring).

    ``v`` are starting column potentials (zeros if None); the closer to optimal
    duals, the less work. Returns False when the work budget (``max_passes`` full
    scans of C) runs out, which is what a suboptimal ``perm`` leads to.
    """
    n = C.shape[0]
    diag = C[np.arange(n), perm]
    v = np.zeros(n) if v is None else np.array(v, dtype=np.float64)
    largest = max(-float(C.min()), float(C.max()), np.finfo(float).tiny)  # max |C|, no n x n temporary
    tol = _TOL_ULPS * np.finfo(np.float64).eps * largest
    row_of_col = np.empty(n, dtype=np.intp)
    row_of_col[perm] = np.arange(n)
    u = diag - v[perm]
    rows = np.arange(n)
    budget = max_passes * n
    step = max(1, _BLOCK // n)
    while rows.size:
        budget -= rows.size
        if budget < 0:
            return False
        lowest = np.full(n, np.inf)
        for s in range(0, rows.size, step):
            r = rows[s:s + step]
            np.minimum(lowest, (C[r] - u[r, None]).min(axis=0), out=lowest)
        dropped = np.flatnonzero(v - lowest > tol)
        v[dropped] = lowest[dropped]
        rows = row_of_col[dropped]
        u[rows] = diag[rows] - v[dropped]
    return True


def solve_assignment(cost, *, maximize: bool = False, solver: str = "auto") -> np.ndarray:
    """Exact linear assignment on a square matrix: ``perm`` with row i assigned to column perm[i].

    Minimises (``maximize=False``) or maximises ``sum_i cost[i, perm[i]]``.
    ``solver``: ``"auto"`` (certified float32 Jonker–Volgenant candidate with SciPy
    fallback, SciPy alone where ``lapjv`` is unavailable), ``"lapjv"`` (same, but
    an error if ``lapjv`` is missing) or ``"scipy"``. Every route is exact to
    float64 rounding; see the module docstring for the certificate.
    """
    return _solve(cost, maximize=maximize, solver=solver)[0]


def _solve(cost, *, maximize: bool = False, solver: str = "auto"):
    """(perm, route) with route one of "row-minima", "lapjv", "scipy", "scipy-fallback"."""
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    if solver == "lapjv" and _lapjv is None:
        raise ImportError("solver='lapjv' needs the lapjv package (pip install lapjv); "
                          "solver='auto' falls back to SciPy")
    C = _check_cost(cost, maximize)
    n = C.shape[0]
    if solver == "scipy":
        return _scipy(C), "scipy"
    perm = C.argmin(axis=1)
    if _is_permutation(perm, n):  # every row gets its own minimum: optimal (u_i = row minimum, v = 0)
        return perm, "row-minima"
    if _lapjv is None:
        return _scipy(C), "scipy"
    perm, v = _float32_candidate(C)
    if _is_permutation(perm, n) and certify(C, perm, v):
        return perm, "lapjv"
    return _scipy(C), "scipy-fallback"
