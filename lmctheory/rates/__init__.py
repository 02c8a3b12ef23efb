"""Wasserstein convergence rates of empirical measures and the laws they are drawn from.

Fournier–Guillin rates and explicit bounds on E W_p(mu_N, mu) (:func:`fg_rate`, :func:`fg_explicit_bound`),
the predicted log-log slope -p/d (:func:`predicted_slope`), Monte-Carlo rate curves (:func:`rate_curve`)
and bootstrap slope fits (:func:`fit_rate`); samplers with exact references (:class:`UniformCube`,
:class:`Gaussian`, :class:`UniformBall`, :class:`Subspace`, :class:`Discrete`, :func:`make_law`).
"""

from ._laws import (
    LAW_NAMES,
    Discrete,
    Gaussian,
    Law,
    Subspace,
    TwoAtom,
    UniformBall,
    UniformCube,
    make_law,
)
from ._rates import (
    RateCurve,
    RateFit,
    fg_explicit_bound,
    fg_explicit_bound_w,
    fg_rate,
    fg_regime,
    fit_rate,
    log10_fg_explicit_bound,
    predicted_slope,
    rate_curve,
)
from ._report import (
    RateReport,
    rate_report,
)

__all__ = [
    "fg_regime",
    "fg_rate",
    "fg_explicit_bound",
    "log10_fg_explicit_bound",
    "predicted_slope",
    "RateFit",
    "fit_rate",
    "RateCurve",
    "rate_curve",
    "fg_explicit_bound_w",
    "Law",
    "UniformCube",
    "Gaussian",
    "UniformBall",
    "Subspace",
    "TwoAtom",
    "Discrete",
    "make_law",
    "LAW_NAMES",
    "RateReport",
    "rate_report",
]
