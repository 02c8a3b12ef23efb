"""One Monte-Carlo rate study as a report: the measured curve, its fitted slope, the Fournier–Guillin
prediction and explicit bound, and the verdict (``lmctheory rates`` prints it; Python users get the same
object)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._rates import (
    RateCurve,
    RateFit,
    fg_explicit_bound,
    fg_explicit_bound_w,
    fg_regime,
    predicted_slope,
    rate_curve,
)

__all__ = ["RateReport", "rate_report"]

#: what each reported quantity is
RATE_DEFINITIONS = {
    "W_p": "(min over couplings of sum gamma_ij |x_i - y_j|_2^p)^(1/p): a distance, not its p-th power",
    "T_p": "W_p^p, the optimal transport cost",
    "slope": "OLS slope of log(mean_W) on log(N); CI: percentile bootstrap over replicates",
    "predicted_slope": "Fournier-Guillin exponent of E W_p^p divided by p (-1/d if d > 2p)",
    "bound_W_pow_p": "explicit FG bound on E W_p^p (docs: theory-fg-explicit, derived constants)",
    "bound_W": "(bound_W_pow_p)^(1/p), a bound on E W_p by Jensen",
}


@dataclass
class RateReport:
    """A measured Wasserstein rate next to its prediction (returned by :func:`rate_report`).

    Parameters
    ----------
    curve : RateCurve
        The measured E W_p per N.
    fit : RateFit
        The fitted log-log slope with its bootstrap interval.
    predicted_slope : float
        The Fournier–Guillin slope of E W_p in the law's intrinsic dimension.
    regime : str
        ``"d<2p"``, ``"d=2p"`` or ``"d>2p"`` (only the last is sharp).
    slope_dimension : int
        The dimension the prediction uses (intrinsic when the law has one).
    bound_cost, bound_w : numpy.ndarray or None
        The explicit bounds on E W_p^p and E W_p per N (None for unbounded laws).
    bound_geometry : dict
        Dimension and radius of the support the bounds use.
    definitions : dict
        What each quantity is.

    Examples
    --------
    >>> from lmctheory.rates import UniformCube, rate_report
    >>> report = rate_report(UniformCube(3), [32, 64, 128], reps=3, seed=0)
    >>> report.regime, report.bound_respected, len(report.to_dict()["rows"])
    ('d<2p', True, 3)
    """

    curve: RateCurve
    fit: RateFit
    predicted_slope: float
    regime: str
    slope_dimension: int
    bound_cost: np.ndarray | None
    bound_w: np.ndarray | None
    bound_geometry: dict
    definitions: dict = field(default_factory=dict)

    @property
    def sharp(self) -> bool:
        """Whether the predicted rate is sharp (regime d > 2p): only then is the slope a prediction."""
        return self.regime == "d>2p"

    @property
    def bound_respected(self) -> bool | None:
        """Whether the mean measured cost is below the explicit bound at every N (None without a bound)."""
        return None if self.bound_cost is None else bool(np.all(self.curve.mean_cost <= self.bound_cost))

    @property
    def prediction_inside(self) -> bool | None:
        """Whether the predicted slope lies in the fitted slope's interval (None outside the sharp regime)."""
        return self.fit.ci_low <= self.predicted_slope <= self.fit.ci_high if self.sharp else None

    def rows(self) -> list[dict]:
        """One row per N: mean and spread of W_p, mean cost, the bounds."""
        return [
            {
                "n": int(n),
                "mean_W": float(self.curve.mean[i]),
                "std_W": float(self.curve.std[i]),
                "mean_W_pow_p": float(self.curve.mean_cost[i]),
                "bound_W": None if self.bound_w is None else float(self.bound_w[i]),
                "bound_W_pow_p": None if self.bound_cost is None else float(self.bound_cost[i]),
            }
            for i, n in enumerate(self.curve.ns)
        ]

    def to_dict(self) -> dict:
        """Plain data (JSON)."""
        return {
            "rows": self.rows(),
            "fit": self.fit.to_dict(),
            "predicted_slope": self.predicted_slope,
            "regime": self.regime,
            "sharp": self.sharp,
            "slope_dimension": self.slope_dimension,
            "bound_geometry": self.bound_geometry,
            "bound_respected": self.bound_respected,
            "curve": self.curve.to_dict(),
        }


def rate_report(
    law,
    ns,
    *,
    p: float = 2,
    reps: int = 10,
    two_sample: bool = True,
    seed=0,
    n_jobs: int = 1,
    method: str = "auto",
    progress: bool = False,
) -> RateReport:
    """Measure E W_p(mu_N, nu_N) (or against the law) over ``ns`` and put it next to its prediction: the
    fitted slope of log E W_p against log N (:func:`fit_rate`), the Fournier–Guillin slope
    (:func:`predicted_slope`) in the law's intrinsic dimension, and the explicit bound
    (:func:`fg_explicit_bound`) where the law's support is bounded.

    Parameters
    ----------
    law : Law
        The law sampled (:func:`make_law`).
    ns : sequence of int
        Sample sizes N.
    p : float, default 2
        Order of W_p.
    reps : int, default 10
        Replicates per N.
    two_sample : bool, default True
        W_p between two N-samples (else one N-sample against the law, which needs an exact reference).
    seed : None, int, SeedSequence or Generator, default 0
        Root of the replicates' seeds and of the bootstrap.
    n_jobs : int, default 1
        Worker processes of the curve.
    method : str, default "auto"
        Transport solver (:func:`lmctheory.ot.transport`).
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    RateReport
        The curve, fit, prediction, bounds and definitions.

    Raises
    ------
    ValueError, TypeError
        As :func:`rate_curve` (invalid sizes, p, reps, seed or law).

    Examples
    --------
    >>> from lmctheory.rates import Gaussian, rate_report
    >>> report = rate_report(Gaussian(6), [64, 128, 256], reps=3, p=1, seed=0)
    >>> report.sharp, report.bound_cost is None, report.predicted_slope == -1 / 6
    (True, True, True)
    """
    curve = rate_curve(
        law,
        ns,
        p=p,
        reps=reps,
        two_sample=two_sample,
        seed=seed,
        n_jobs=n_jobs,
        method=method,
        progress=progress,
    )
    fit = curve.fit(seed=seed)
    d_bound, radius = law.bound_geometry
    bound_cost = bound_w = None
    if math.isfinite(radius):
        bound_cost = fg_explicit_bound(curve.ns, d_bound, p, two_sample=two_sample, radius=radius)
        bound_w = fg_explicit_bound_w(curve.ns, d_bound, p, two_sample=two_sample, radius=radius)
    d_eff = law.intrinsic_dim if law.intrinsic_dim > 0 else law.dim
    sample = (
        " (mu_N, nu_N), two independent N-samples"
        if two_sample
        else " (mu_N, mu), one N-sample against the law"
    )
    return RateReport(
        curve=curve,
        fit=fit,
        predicted_slope=predicted_slope(d_eff, p),
        regime=fg_regime(d_eff, p),
        slope_dimension=d_eff,
        bound_cost=bound_cost,
        bound_w=bound_w,
        bound_geometry={"d": d_bound, "radius": radius if math.isfinite(radius) else None},
        definitions={**RATE_DEFINITIONS, "mean_W": "mean over replicates of W_p" + sample},
    )
