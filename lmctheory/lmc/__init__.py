"""Linear mode connectivity: alignment, barriers along the linear path and certified bounds on them
(needs the ``[nn]`` extra).

Permutation alignment (:func:`match`, :func:`apply_permutation`; specs of any network by
:func:`lmctheory.nn.trace_permutation_spec`), the loss and accuracy along the path (:func:`evaluate_path`,
:func:`barriers`), renormalised paths (:func:`renormalized_path`), both at once (:func:`align_and_evaluate`),
and three upper bounds on the barrier, all following :class:`CertifiedBound`: on a grid with certified
interpolation error (:func:`certified_barrier_bound`), over the whole segment by interval arithmetic
(:func:`certified_path_sup`) and from the endpoints alone (:func:`endpoint_barrier_bound`); per-layer
dimensions of neuron clouds (:func:`layer_dimensions`).
"""

try:  # the models, training and paths need PyTorch, an optional dependency
    import torch  # noqa: F401
except ModuleNotFoundError:  # pragma: no cover - exercised by the torch-free wheel test
    raise ModuleNotFoundError("lmctheory.lmc needs PyTorch: pip install 'lmctheory[nn]'") from None

from ._align import (
    METHODS,
    Permutation,
    apply_permutation,
    check_functional_equivalence,
    functional_difference,
    match,
    permutation_spec,
    validate_spec,
)
from ._alignment_report import (
    AlignmentReport,
    align_and_evaluate,
)
from ._barrier import (
    evaluate_path,
)
from ._endpoint_bound import (
    EndpointBound,
    endpoint_barrier_bound,
)
from ._grid_bound import (
    BarrierBound,
    certified_barrier_bound,
    layer_report,
    measured_and_certified,
)
from ._layer_dimensions import (
    ACTIVATIONS,
    LayerDimension,
    layer_dimensions,
    linear_layers,
)
from ._path import (
    DEFINITIONS,
    PATH_CONVENTION,
    CertifiedBound,
    PathResult,
    barrier,
    barriers,
    default_grid,
)
from ._path_sup import (
    REFERENCES,
    PathSup,
    box_loss_max,
    certified_path_sup,
    softmax_range,
)
from ._renormalize import (
    RENORMALIZATIONS,
    interpolate,
    renormalized_path,
    repair,
    reset_batchnorm,
)

__all__ = [
    "Permutation",
    "METHODS",
    "permutation_spec",
    "validate_spec",
    "match",
    "apply_permutation",
    "functional_difference",
    "check_functional_equivalence",
    "PATH_CONVENTION",
    "DEFINITIONS",
    "PathResult",
    "barrier",
    "barriers",
    "default_grid",
    "CertifiedBound",
    "evaluate_path",
    "RENORMALIZATIONS",
    "interpolate",
    "renormalized_path",
    "repair",
    "reset_batchnorm",
    "BarrierBound",
    "certified_barrier_bound",
    "layer_report",
    "measured_and_certified",
    "REFERENCES",
    "PathSup",
    "box_loss_max",
    "certified_path_sup",
    "softmax_range",
    "EndpointBound",
    "endpoint_barrier_bound",
    "LayerDimension",
    "layer_dimensions",
    "linear_layers",
    "ACTIVATIONS",
    "AlignmentReport",
    "align_and_evaluate",
]
