"""Wasserstein convergence rates of empirical measures and the laws they are drawn from.

Fournier–Guillin rates and explicit bounds on E W_p(mu_N, mu) (:func:`fg_rate`, :func:`fg_explicit_bound`),
the predicted log-log slope -p/d (:func:`predicted_slope`), Monte-Carlo rate curves (:func:`rate_curve`)
and bootstrap slope fits (:func:`fit_rate`); samplers with exact references (:class:`UniformCube`,
:class:`Gaussian`, :class:`UniformBall`, :class:`Subspace`, :class:`Discrete`, :func:`make_law`).
"""

from ._rates import (
    fg_regime,
    fg_rate,
    fg_explicit_bound,
    log10_fg_explicit_bound,
    predicted_slope,
    RateFit,
    fit_rate,
    RateCurve,
    rate_curve,
    fg_explicit_bound_w,
)
from ._laws import (
    Law,
    UniformCube,
    Gaussian,
    UniformBall,
    Subspace,
    TwoAtom,
    Discrete,
    make_law,
    LAW_NAMES,
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
]
