"""Experiment 1 — empirical-measure rates: fitted vs predicted slopes, explicit bound never exceeded.

For each law, dimension d and order p: the two-sample Monte-Carlo curve of E W_p against N
(:func:`lmctheory.rates.rate_curve`), its fitted log-log slope against the Fournier–Guillin
prediction (verdicts only in the sharp regime d > 2p, tolerance 0.06: pre-asymptotic steepening
at N <= 2^11 is expected), and, for bounded laws, the measured E W_p^p against the explicit bound.
"""

from __future__ import annotations

import sys
from collections import defaultdict

import numpy as np

from lmctheory.laws import make_law
from lmctheory.rates import fg_explicit_bound, fg_regime, predicted_slope, rate_curve

from .report import Row, at_most, run_experiment, within

NAME = "rates"
SLOPE_TOL = 0.06


def _grid(laws, ps, ns, reps, seeds):
    return [{"law": law, "d": d, "k": k, "p": p, "ns": ns, "reps": reps, "seed": s}
            for law, d, k in laws for p in ps for s in seeds if not (law == "subspace" and k is None)]


PRESETS = {
    "smoke": _grid([("uniform", 1, None), ("uniform", 5, None)], [2], [64, 128, 256, 512], 3, [0]),
    "quick": _grid([("uniform", d, None) for d in (1, 2, 3, 5, 6, 8)] + [("gaussian", 5, None),
                   ("subspace", 10, 5)], [1, 2], [64, 128, 256, 512, 1024], 4, [0, 1]),
    "full": _grid([("uniform", d, None) for d in range(1, 11)] + [("gaussian", d, None) for d in (1, 5, 8)]
                  + [("subspace", 10, 5), ("subspace", 10, 7)], [1, 2],
                  [64, 128, 256, 512, 1024, 2048, 4096], 8, [0, 1, 2]),
}


def run_config(config: dict) -> dict:
    """One (law, d, p, seed): the rate curve, its fit and the explicit-bound check."""
    law = make_law(config["law"], config["d"], k=config["k"])
    curve = rate_curve(law, config["ns"], p=config["p"], reps=config["reps"], seed=config["seed"])
    fit = curve.fit(seed=config["seed"])
    d_eff = law.intrinsic_dim
    d_bound, radius = law.bound_geometry
    out = {"slope": fit.slope, "ci": [fit.ci_low, fit.ci_high], "predicted_slope": predicted_slope(d_eff, config["p"]),
           "regime": fg_regime(d_eff, config["p"]), "slope_dimension": d_eff, "curve": curve.to_dict()}
    if np.isfinite(radius):
        bound = fg_explicit_bound(curve.ns, d_bound, config["p"], two_sample=True, radius=radius)
        out["max_ratio_to_bound"] = float(np.max(curve.mean_cost / bound))
    return out


def rows_from(records: list[dict]) -> list[Row]:
    """Rows from the records of finished configurations (failures are added by run_experiment)."""
    groups = defaultdict(list)
    for r in records:
        c = r["config"]
        key = (c["law"], c["d"], c["k"], c["p"])
        groups[key].append(r)
    rows = []
    for (law, d, k, p), recs in sorted(groups.items(), key=lambda kv: str(kv[0])):
        res = [r["result"] for r in recs]
        label = f"{law} d={d}" + (f" k={k}" if k else "")
        sharp = res[0]["regime"] == "d>2p"
        rows.append(within(NAME, f"slope of E W_{p} vs N, {label}", "FG: -1/d if d > 2p else -1/(2p)",
                           res[0]["predicted_slope"], [x["slope"] for x in res], SLOPE_TOL, applies=sharp,
                           details={"regime": res[0]["regime"], "dimension": res[0]["slope_dimension"]}))
        if "max_ratio_to_bound" in res[0]:
            rows.append(at_most(NAME, f"E W_{p}^{p} / explicit bound, {label}", "fg_explicit_bound (derived)",
                                1.0, [x["max_ratio_to_bound"] for x in res]))
    return rows


def run(preset: str, results_dir, **sweep_options) -> list[Row]:
    """Run the preset's configs (resumably) and return the rows."""
    return run_experiment(sys.modules[__name__], preset, results_dir, **sweep_options)
