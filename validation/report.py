"""Prediction rows, verdicts, reports (JSON + Markdown) and regression against a baseline."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from lmctheory.provenance import record, write_json

__all__ = ["Row", "VERDICTS", "within", "at_most", "direction", "measurement", "failed_rows", "run_experiment",
           "write_report", "compare_to_baseline", "spearman", "experiment_records", "markdown_table"]

VERDICTS = ("holds", "fails", "inconclusive")


@dataclass
class Row:
    """One prediction: what theory says, what was measured, and the verdict with its rule."""

    experiment: str
    prediction: str
    formula: str
    predicted: float | None
    measured: float
    measured_std: float
    n_seeds: int
    verdict: str
    rule: str
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _stats(values) -> tuple[float, float, int]:
    arr = np.asarray(values, dtype=float).ravel()
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else 0.0, int(arr.size)


def within(experiment, prediction, formula, predicted, values, tol, *, applies=True, details=None) -> Row:
    """Verdict 'holds' when |mean - predicted| <= tol ('inconclusive' where the theory makes no sharp claim)."""
    mean, std, n = _stats(values)
    ok = abs(mean - predicted) <= tol
    verdict = ("holds" if ok else "fails") if applies else "inconclusive"
    rule = f"|measured - predicted| <= {tol:g}" + ("" if applies else " (not a sharp prediction here: reported only)")
    return Row(experiment, prediction, formula, float(predicted), mean, std, n, verdict, rule, details or {})


def at_most(experiment, prediction, formula, bound, values, *, details=None) -> Row:
    """Verdict 'holds' when every measured value is <= the bound (a rigorous upper bound)."""
    mean, std, n = _stats(values)
    ok = bool(np.all(np.asarray(values, dtype=float) <= bound))
    return Row(experiment, prediction, formula, float(bound), mean, std, n, "holds" if ok else "fails",
               "every measured value <= predicted bound", details or {})


def direction(experiment, prediction, formula, values, *, sense: str = ">", threshold: float = 0.0,
              details=None) -> Row:
    """A directional prediction ``measured > threshold`` (``sense=">"``) or ``< threshold``.

    Verdict from the mean and its standard error over seeds (SE = std / sqrt(n)): 'holds' when
    the whole band mean +- 2 SE lies on the predicted side, 'fails' when it lies wholly on the
    other side, 'inconclusive' when the band straddles the threshold.
    """
    if sense not in (">", "<"):
        raise ValueError(f"sense must be '>' or '<', got {sense!r}")
    mean, std, n = _stats(values)
    half = 2 * std / np.sqrt(n) if n > 1 else 0.0
    lo, hi = mean - half, mean + half
    above, below = lo > threshold, hi < threshold
    if sense == ">":
        verdict = "holds" if above else "fails" if below else "inconclusive"
    else:
        verdict = "holds" if below else "fails" if above else "inconclusive"
    rule = (f"mean ± 2 SE {sense} {threshold:g}: holds if the band is wholly on the predicted side, "
            "fails if wholly on the other, else inconclusive")
    return Row(experiment, prediction, formula, float(threshold), mean, std, n, verdict, rule, details or {})


def spearman(x, y) -> float:
    """Spearman rank correlation (average ranks for ties); 0 when either side is constant."""
    from scipy.stats import spearmanr

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    return float(spearmanr(x, y).statistic)


def measurement(experiment, prediction, formula, values, *, details=None) -> Row:
    mean, std, n = _stats(values)
    return Row(experiment, prediction, formula, None, mean, std, n, "inconclusive", "measurement only",
               details or {})


def failed_rows(experiment: str, records: list[dict]) -> list[Row]:
    """One failing row per configuration that raised (the sweep recorded its error)."""
    return [Row(experiment, f"config {r['config']} ran", "-", None, float("nan"), 0.0, 0, "fails",
                f"the configuration raised: {r['error']['type']}: {r['error']['message']}")
            for r in records if r.get("status") == "failed"]


def experiment_records(module, preset: str, results_dir, *, data=None, **sweep_options):
    """The :class:`lmctheory.sweep.SweepResult` of an experiment module's preset, run resumably
    (:func:`lmctheory.sweep.run_sweep`, cached under ``<results_dir>/<NAME>-<preset>``): finished
    configs are read, missing ones are run. ``data`` specs go to the module's ``configs_for``."""
    from lmctheory.sweep import run_sweep

    if preset not in module.PRESETS:
        raise ValueError(f"preset must be one of {sorted(module.PRESETS)}, got {preset!r}")
    if hasattr(module, "configs_for"):
        configs = module.configs_for(preset, data)
    elif data:
        raise ValueError(f"experiment {module.NAME!r} takes no data specs")
    else:
        configs = module.PRESETS[preset]
    return run_sweep(module.run_config, configs, f"{results_dir}/{module.NAME}-{preset}",
                     name=f"validation.{module.NAME}", **sweep_options)


def run_experiment(module, preset: str, results_dir, *, data=None, **sweep_options) -> list[Row]:
    """The rows of an experiment module's preset (:func:`experiment_records` through the module's
    ``rows_from``), with one failing row per configuration that raised."""
    res = experiment_records(module, preset, results_dir, data=data, **sweep_options)
    return module.rows_from([r for r in res.records if r.get("status") == "done"]) + \
        failed_rows(module.NAME, res.records)


def markdown_table(rows: list[Row]) -> list[str]:
    """The prediction table as Markdown lines (one row per prediction, with its rule)."""
    lines = ["| experiment | prediction | predicted | measured (mean ± std, n) | verdict | rule |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        pred = "-" if r.predicted is None else f"{r.predicted:.4g} ({r.formula})"
        lines.append(f"| {r.experiment} | {r.prediction} | {pred} | {r.measured:.4g} ± {r.measured_std:.2g} "
                     f"(n={r.n_seeds}) | {r.verdict} | {r.rule} |")
    return lines


def write_report(rows: list[Row], out_dir, *, config: dict) -> dict:
    """``validation.json`` (rows + provenance) and ``validation.md`` in ``out_dir``; returns the JSON doc."""
    out = Path(out_dir)
    doc = record("validate", config, {"rows": [r.to_dict() for r in rows]},
                 definitions={"verdicts": "holds | fails | inconclusive, each with its rule"})
    doc["rows"] = doc["result"]["rows"]
    write_json(out / "validation.json", doc)
    (out / "validation.md").write_text("\n".join(["# lmctheory validation", "", *markdown_table(rows)]) + "\n")
    return doc


def compare_to_baseline(rows: list[dict], baseline: list[dict], *, sigmas: float = 3.0) -> list[str]:
    """Regressions: a verdict that turned from holds to fails, or a measured mean outside the
    baseline's band (mean +- sigmas * std / sqrt(n), at least 1e-12 wide). Rows match on
    (experiment, prediction)."""
    base = {(b["experiment"], b["prediction"]): b for b in baseline}
    problems = []
    for r in rows:
        b = base.get((r["experiment"], r["prediction"]))
        if b is None:
            continue
        if b["verdict"] == "holds" and r["verdict"] == "fails":
            problems.append(f"{r['experiment']}: {r['prediction']}: verdict holds -> fails")
        half = max(sigmas * b["measured_std"] / math.sqrt(max(b["n_seeds"], 1)), 1e-12)
        if abs(r["measured"] - b["measured"]) > half:
            problems.append(f"{r['experiment']}: {r['prediction']}: measured {r['measured']:.4g} outside the "
                            f"baseline band {b['measured']:.4g} ± {half:.2g}")
    return problems
