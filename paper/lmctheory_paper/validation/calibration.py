"""Calibration of the verdict rules: their false-"holds" rate under their nulls, measured by simulation.

``python -m lmctheory_paper.validation.calibration`` prints the table the README shows. The simulations
are vectorised (:func:`t_rule_holds`, :func:`trend_holds`); the tests check that they agree with
the rules of :mod:`lmctheory.claims.verdicts` data set by data set.
"""

from __future__ import annotations

#: rows are recomputed from the sweep records on every run: this module does not shape a record
__shapes_results__ = False

import math

import numpy as np
from scipy import stats

from lmctheory.claims.verdicts import LEVEL, RULES, every_at_most, trend_holds

__all__ = ["false_holds_rate", "t_rule_holds", "trend_holds", "calibration_table"]


def _noise(kind: str, rng, shape):
    if kind == "gaussian":
        return rng.standard_normal(shape)
    if kind == "student_t3":
        return rng.standard_t(3, shape)
    if kind == "skewed":  # centred exponential, long tail to the right (flipped where the left is worse)
        return rng.exponential(size=shape) - 1.0
    raise ValueError(f"unknown noise {kind!r}")


def false_holds_rate(
    rule: str, n: int, *, sims: int = 20_000, noise: str = "gaussian", seed: int = 0, block_size: int = 4
) -> float:
    """Fraction of simulated data sets, drawn under the rule's null, on which ``rule`` says "holds".

    Nulls: ``direction`` -- values with mean exactly 0, claim "> 0"; ``equivalence`` -- values
    centred exactly ``tol`` from the prediction, the worst of noise scales 0.1, 1 and 10 x tol;
    ``mean_at_most`` -- values with mean exactly the bound; ``trend`` -- ``n`` blocks of
    ``block_size`` points with y independent of x; ``every_at_most`` -- one value in n above the
    bound. ``noise`` shapes the values of the t-based rules ("gaussian", "student_t3", "skewed":
    a centred exponential with its long tail pointing away from the claim, the hard case for a
    t-test: most samples sit on the claimed side with little spread).
    """
    rng = np.random.default_rng(seed)
    if rule == "trend":
        return float(
            np.mean(
                trend_holds(np.arange(block_size, dtype=float), rng.standard_normal((sims, n, block_size)))
            )
        )
    if rule == "every_at_most":
        values = rng.uniform(0, 1, size=(sims, n))
        values[:, 0] = 1.0 + rng.uniform(1e-9, 1, size=sims)
        return float(np.mean([every_at_most(v, bound=1.0).verdict == "holds" for v in values]))
    values = _noise(noise, rng, (sims, n))
    if rule == "equivalence":  # the truth sits exactly tol = 1 above the prediction 0
        return max(
            float(np.mean(t_rule_holds(rule, 1.0 + scale * values, tol=1.0))) for scale in (0.1, 1.0, 10.0)
        )
    if rule == "direction":  # claim "> 0": the hard skewed null has its long tail to the left
        return float(np.mean(t_rule_holds(rule, -values if noise == "skewed" else values)))
    if rule == "mean_at_most":  # claim "E X <= 0": the hard skewed null has its long tail to the right
        return float(np.mean(t_rule_holds(rule, values)))
    raise ValueError(f"unknown rule {rule!r}; choose from {RULES}")


def t_rule_holds(rule: str, values: np.ndarray, *, tol: float = 1.0) -> np.ndarray:
    """Vectorised "holds" of the t-based rules on each row of ``values`` (same arithmetic as
    :func:`direction` (> 0), :func:`equivalence` (predicted 0, ``tol``) and :func:`mean_at_most`
    (bound 0); the tests check that they agree row by row)."""
    n = values.shape[1]
    t_crit = stats.t.ppf(1 - LEVEL, n - 1)
    mean = values.mean(1)
    half = t_crit * values.std(1, ddof=1) / math.sqrt(n)
    if rule == "direction":
        hold = mean - half > 0.0
    elif rule == "equivalence":
        hold = (-tol <= mean - half) & (mean + half <= tol)
    elif rule == "mean_at_most":
        hold = mean + half <= 0.0
    else:
        raise ValueError(f"{rule!r} is not a t-based rule")
    return hold & (half > 0)


def calibration_table(ns=(2, 3, 4, 5, 8), *, sims: int = 20_000) -> list[str]:
    """Markdown table of the measured false-"holds" rates (README / docs), one row per rule."""
    lines = [
        "| rule | null (where the rule must not say holds) | "
        + " | ".join(f"n = {n}" for n in ns)
        + " | heavy tails (t3), n = 3 | skewed, n = 3 |",
        "|---|---|" + "---|" * (len(ns) + 2),
    ]
    nulls = {
        "direction": "true mean = threshold",
        "equivalence": "true value exactly tol from the prediction",
        "mean_at_most": "true mean = bound",
        "trend": "y independent of x (blocks of 4 points)",
        "every_at_most": "one instance above the bound",
    }
    for rule in RULES:
        cells = [f"{false_holds_rate(rule, n, sims=sims):.3f}" for n in ns]
        if rule in ("trend", "every_at_most"):
            extra = ["-", "-"]
        else:
            extra = [f"{false_holds_rate(rule, 3, sims=sims, noise=k):.3f}" for k in ("student_t3", "skewed")]
        lines.append(f"| `{rule}` | {nulls[rule]} | " + " | ".join(cells + extra) + " |")
    return lines


if __name__ == "__main__":  # pragma: no cover - prints the README table
    print("\n".join(calibration_table()))
