"""Intrinsic dimension of point clouds (neuron-weight clouds in particular).

scikit-learn estimators (:class:`MLE`, :class:`TwoNN`, :class:`CorrelationDimension`,
:class:`PCADimension`, :class:`ParticipationRatio`, :class:`WassersteinDimension`), the exact k-nearest-
neighbour search they share (:func:`nearest_neighbors`) and manifolds of known dimension to test them on
(:func:`sample_manifold`, :func:`benchmark_suite`).
"""

from ._estimators import (
    ESTIMATORS,
    MLE,
    CorrelationDimension,
    ParticipationRatio,
    PCADimension,
    TwoNN,
    UnreliableEstimateWarning,
    WassersteinDimension,
    knn_distances,
    levina_bickel,
    make_estimator,
    participation_ratio_of_matrix,
    twonn_from_ratios,
)
from ._manifolds import (
    BENCHMARK_SUITE,
    MANIFOLDS,
    benchmark_suite,
    embed,
    sample_manifold,
)
from ._neighbors import (
    nearest_neighbors,
)

__all__ = [
    "UnreliableEstimateWarning",
    "participation_ratio_of_matrix",
    "knn_distances",
    "levina_bickel",
    "twonn_from_ratios",
    "ParticipationRatio",
    "PCADimension",
    "MLE",
    "TwoNN",
    "CorrelationDimension",
    "WassersteinDimension",
    "ESTIMATORS",
    "make_estimator",
    "nearest_neighbors",
    "MANIFOLDS",
    "BENCHMARK_SUITE",
    "sample_manifold",
    "benchmark_suite",
    "embed",
]
