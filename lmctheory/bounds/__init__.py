"""Width bounds for linear mode connectivity.

Symbolic bounds on the width N that makes two networks epsilon-connected after matching
(:func:`ferbach_two_layer`, :func:`deep_recursion`, :func:`low_dimensional`, :func:`entezari_two_layer`),
solved in log space, explicit numeric matching-error bounds (:func:`matching_error_upper_bound`,
:func:`explicit_width`) and :class:`Tower`, numbers beyond floating point (10^10^784 and above).
"""

from ._report import (
    WidthReport,
    width_report,
)
from ._towers import (
    Tower,
    power_of,
)
from ._width import (
    Constant,
    DeepRecursionBound,
    WidthBound,
    as_tower,
    barrier_bound_from_matching,
    barrier_upper_bound,
    deep_recursion,
    entezari_two_layer,
    explicit_width,
    ferbach_two_layer,
    log10_unit_ball_volume,
    low_dimensional,
    matching_error_lower_bound,
    matching_error_upper_bound,
    matching_lower_bound,
    width_table,
)

__all__ = [
    "Constant",
    "WidthBound",
    "ferbach_two_layer",
    "entezari_two_layer",
    "deep_recursion",
    "DeepRecursionBound",
    "low_dimensional",
    "matching_lower_bound",
    "log10_unit_ball_volume",
    "matching_error_upper_bound",
    "matching_error_lower_bound",
    "barrier_bound_from_matching",
    "barrier_upper_bound",
    "explicit_width",
    "width_table",
    "as_tower",
    "Tower",
    "power_of",
    "WidthReport",
    "width_report",
]
