"""Theoretical predictions as checkable claims.

Rows that compare a measured value with a prediction (:func:`equivalent`, :func:`direction`,
:func:`trend`, :func:`measurement`), their verdicts (hold / fail / inconclusive, with the alternative each
one rules out) and reports (:func:`markdown_table`, :func:`write_report`). The statistical decisions
behind the verdicts are in :mod:`lmctheory.claims.verdicts`.
"""

#: claims and verdicts read results, they shape none (records do not depend on this code)
__shapes_results__ = False

from ._rows import (
    KINDS,
    VERDICTS,
    Row,
    compare_to_baseline,
    counts,
    counts_table,
    direction,
    equivalent,
    every_at_most,
    markdown_table,
    mean_at_most,
    measurement,
    spearman,
    summary_line,
    trend,
    write_report,
)

__all__ = [
    "Row",
    "VERDICTS",
    "KINDS",
    "equivalent",
    "direction",
    "trend",
    "mean_at_most",
    "every_at_most",
    "measurement",
    "spearman",
    "counts",
    "summary_line",
    "markdown_table",
    "counts_table",
    "write_report",
    "compare_to_baseline",
]
