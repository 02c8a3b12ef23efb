"""Exact optimal transport between empirical measures.

W_p between point clouds (:func:`wasserstein`, :func:`transport`), the optimal matching of two clouds of
equal size (:func:`optimal_matching`), sliced W_p, exact linear assignment with an LP-duality certificate
(:func:`solve_assignment`, :func:`certify`), the exact sparse route for large clouds
(:func:`sparse_assignment`) and the bottleneck (W_infinity) assignment. Every cost is the exact optimum
of the problem in floating point: the solvers' answers are certified, not trusted.
"""

from ._assignment import (
    RTOL,
    SOLVERS,
    available_solvers,
    certify,
    solve_assignment,
)
from ._bottleneck import (
    bottleneck_assignment,
)
from ._exact import (
    METHODS,
    TransportResult,
    assignment_cost,
    check_memory,
    cost_matrix,
    dense_problem_bytes,
    memory_budget,
    optimal_matching,
    random_directions,
    sliced_wasserstein,
    transport,
    wasserstein,
)
from ._sparse import (
    SparseAssignment,
    pair_costs,
    sparse_assignment,
)

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
    "memory_budget",
    "dense_problem_bytes",
    "check_memory",
    "SOLVERS",
    "RTOL",
    "available_solvers",
    "solve_assignment",
    "certify",
    "SparseAssignment",
    "pair_costs",
    "sparse_assignment",
    "bottleneck_assignment",
]
