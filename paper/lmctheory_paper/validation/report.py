"""The validation experiments' plumbing: each experiment's sweep and its rows, comparisons with the
committed records, and the report.

Rows, their builders and the Markdown/JSON report are the library's (:mod:`lmctheory.claims`, with the
verdict rules of :mod:`lmctheory.claims.verdicts`); they are re-exported here for the experiments.
"""

from __future__ import annotations

#: rows are recomputed from the sweep records on every run: this module does not shape a record
__shapes_results__ = False

import math
from pathlib import Path

import numpy as np

from lmctheory.claims import (
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
)
from lmctheory.claims import write_report as _write_report

__all__ = [
    "Row",
    "VERDICTS",
    "KINDS",
    "equivalent",
    "rate_row",
    "finite_n_bias",
    "calibrated_slope_row",
    "direction",
    "trend",
    "mean_at_most",
    "every_at_most",
    "measurement",
    "failed_rows",
    "run_experiment",
    "run_experiments",
    "experiment_sweep",
    "experiment_records",
    "write_report",
    "compare_to_baseline",
    "compare_with_committed",
    "comparison_lines",
    "spearman",
    "markdown_table",
    "counts_table",
    "counts",
    "summary_line",
]


def rate_row(
    experiment,
    claim,
    formula,
    predicted,
    values,
    tol,
    *,
    sharp: bool,
    not_sharp: str,
    rules_out,
    details=None,
) -> Row:
    """A fitted slope (or exponent) against the theory's: an :func:`equivalent` prediction that rules out
    ``rules_out`` where the rate is sharp, failing when the band lies wholly outside predicted ± tol;
    else a measurement saying why there is no claim (``not_sharp``)."""
    if sharp:
        return equivalent(
            experiment,
            claim,
            formula,
            predicted,
            values,
            tol,
            rules_out=rules_out,
            details=details,
            fails_if=f"the band lies wholly outside {predicted:.4g} ± {tol:.3g}",
        )
    return measurement(experiment, claim, formula, values, why=not_sharp, details=details)


def finite_n_bias(mean_slopes: dict, dim: int) -> tuple[float | None, list[int]]:
    """The finite-N bias of a fitted log-log slope in dimension ``dim``, calibrated on the *other*
    dimensions of the same law family over the same size range: the median over d' != dim of
    (mean slope in d') + 1/d'.

    Over a fixed range of N, the slopes of E W_p for the uniform cube are steeper than -1/d by an amount
    that hardly depends on d (``docs/user_guide/wasserstein.md`` tabulates it), so the other dimensions
    predict it without using the data the row tests. Returns ``(None, [])`` without another dimension.
    """
    others = sorted(k for k in mean_slopes if k != dim)
    if not others:
        return None, []
    return float(np.median([mean_slopes[k] + 1 / k for k in others])), others


def calibrated_slope_row(
    experiment, claim, formula, dim: int, values, mean_slopes: dict, *, ambient=None, details=None
) -> Row:
    """The slope of a rate in dimension ``dim`` at the sizes fitted: a prediction -1/dim + b, with b the
    finite-N bias calibrated on the other dimensions (:func:`finite_n_bias`), ruling out the rates of the
    neighbouring dimensions -1/(dim -+ 1) + b (and the ambient -1/``ambient`` + b), with tolerance half the
    gap to the nearest of them: data from dimension dim +- 1 make it fail. Without another dimension to
    calibrate on: a measurement.

    ``mean_slopes``: {dimension: mean fitted slope} of the law family (``dim`` itself is left out).
    """
    bias, calibration = finite_n_bias(mean_slopes, dim)
    details = {**(details or {}), "asymptotic_slope": -1 / dim}
    if bias is None:
        return measurement(
            experiment,
            claim,
            formula,
            values,
            why="no other dimension of this law to calibrate the finite-N bias on",
            details=details,
        )
    predicted = -1 / dim + bias
    alternatives = [-1 / e + bias for e in (dim - 1, dim + 1) if e >= 1]
    if ambient is not None and ambient not in (dim - 1, dim, dim + 1):
        alternatives.append(-1 / ambient + bias)
    tol = min(abs(a - predicted) for a in alternatives) / 2
    details.update(finite_n_bias=bias, calibration_dimensions=calibration, tolerance="half the nearest gap")
    return equivalent(
        experiment,
        claim,
        formula + " + finite-N bias",
        predicted,
        values,
        tol,
        rules_out=alternatives,
        details=details,
        fails_if=f"the band lies wholly outside {predicted:.4g} ± {tol:.3g}",
    )


def failed_rows(experiment: str, records: list[dict]) -> list[Row]:
    """One failing check per configuration that raised (the sweep recorded its error)."""
    rows = []
    for r in records:
        if r.get("status") != "failed":
            continue
        error = r.get("error") if isinstance(r.get("error"), dict) else {}
        rows.append(
            Row(
                experiment,
                f"config {r['config']} ran",
                "check",
                "-",
                None,
                math.nan,
                math.nan,
                0,
                "fails",
                f"the configuration raised: {error.get('type', '?')}: {error.get('message', '')}",
            )
        )
    return rows


def experiment_sweep(module, preset: str, results_dir, *, data=None, fallback_dirs=(), timing_dirs=()):
    """The :class:`lmctheory.runs.Sweep` of an experiment module's preset, cached under
    ``<results_dir>/<NAME>-<preset>`` (read-only caches under the same sub-directory of each
    ``fallback_dirs``; earlier records whose seconds estimate the costs under that of each ``timing_dirs``);
    ``data`` specs go to the module's ``configs_for``."""
    from lmctheory.runs import Sweep

    if preset not in module.PRESETS:
        raise ValueError(f"preset must be one of {sorted(module.PRESETS)}, got {preset!r}")
    if hasattr(module, "configs_for"):
        configs = module.configs_for(preset, data)
    elif data:
        raise ValueError(f"experiment {module.NAME!r} takes no data specs")
    else:
        configs = module.PRESETS[preset]
    sub = f"{module.NAME}-{preset}"
    return Sweep(
        module.run_config,
        configs,
        Path(results_dir) / sub,
        f"validation.{module.NAME}",
        tuple(Path(d) / sub for d in fallback_dirs),
        getattr(module, "cost", None),
        tuple(Path(d) / sub for d in timing_dirs),
    )


def experiment_records(module, preset: str, results_dir, *, data=None, fallback_dirs=(), **sweep_options):
    """The :class:`lmctheory.runs.SweepResult` of an experiment module's preset, run resumably: current
    records are read, missing or stale ones are run (:func:`experiment_sweep`)."""
    from lmctheory.runs import run_sweeps

    sweep = experiment_sweep(module, preset, results_dir, data=data, fallback_dirs=fallback_dirs)
    return run_sweeps([sweep], label=module.NAME, **sweep_options)[0]


def _rows(module, result) -> list[Row]:
    return module.rows_from([r for r in result.records if r.get("status") == "done"]) + failed_rows(
        module.NAME, result.records
    )


def run_experiments(
    modules,
    preset: str,
    results_dir,
    *,
    data: dict | None = None,
    fallback_dirs=(),
    timing_dirs=(),
    label: str = "validate",
    records: dict | None = None,
    **sweep_options,
) -> dict:
    """``{name: rows}`` of several experiment modules, their missing configurations run in one pool of
    workers (:func:`lmctheory.runs.run_sweeps`: workers stay busy across experiments); ``data`` maps an
    experiment name to its data specs; ``records``, a dict, receives ``{name: the sweep's records}``."""
    from lmctheory.runs import run_sweeps

    modules = list(modules)
    sweeps = [
        experiment_sweep(
            m,
            preset,
            results_dir,
            data=(data or {}).get(m.NAME),
            fallback_dirs=fallback_dirs,
            timing_dirs=timing_dirs,
        )
        for m in modules
    ]
    results = run_sweeps(sweeps, label=label, **sweep_options)
    if records is not None:
        records.update({m.NAME: r.records for m, r in zip(modules, results, strict=True)})
    return {m.NAME: _rows(m, r) for m, r in zip(modules, results, strict=True)}


def compare_with_committed(module, preset: str, records: list[dict], committed_dir) -> dict:
    """How this run's records of an experiment differ from committed records of the same configurations.

    Records match on their key (function and configuration). Results are compared number by number,
    bit for bit and, for computed results, within the tolerance they reproduce to on another machine
    (:func:`lmctheory.runs.reproduction_tolerance`; trained results that differ are counted: they reproduce
    in distribution); the rows the experiment derives from the matched
    records are then compared verdict by verdict (both built from the same configurations).

    Parameters
    ----------
    module : module
        The experiment (its ``NAME`` and ``rows_from``).
    preset : str
        The preset run.
    records : list of dict
        This run's records.
    committed_dir : path
        The directory of committed records (``<committed_dir>/<NAME>-<preset>/<key>.json``).

    Returns
    -------
    dict
        ``compared`` (matched records), ``identical`` (bit for bit), ``beyond_tolerance`` (list of
        ``{"key", "differences"}``, the first differences of each), ``trained_differ`` (trained records whose values differ), ``within_tolerance`` (count of the
        others that differ), ``verdicts`` (list of ``{"claim", "committed", "now"}``), ``code`` (how many
        committed records were written by other code).
    """
    from lmctheory.runs import compare, load_results, reproduction_tolerance

    sub = Path(committed_dir) / f"{module.NAME}-{preset}"
    committed = {doc["hash"]: doc for doc in load_results(sub)} if sub.is_dir() else {}
    pairs = [
        (committed[r["hash"]], r) for r in records if r.get("status") == "done" and r.get("hash") in committed
    ]
    out = {
        "compared": len(pairs),
        "identical": 0,
        "within_tolerance": 0,
        "beyond_tolerance": [],
        "verdicts": [],
    }
    out["code"] = sum(
        old.get("code", {}).get("hash") != new.get("code", {}).get("hash") for old, new in pairs
    )
    for old, new in pairs:
        if not compare(old["result"], new["result"]):
            out["identical"] += 1
            continue
        tolerance = reproduction_tolerance(new)
        if tolerance is None:  # trained: another machine trains along another trajectory
            out["trained_differ"] += 1
            continue
        beyond = compare(old["result"], new["result"], rtol=tolerance[0], atol=tolerance[1])
        if beyond:
            out["beyond_tolerance"].append({"key": new["hash"], "differences": beyond[:3]})
        else:
            out["within_tolerance"] += 1
    if pairs:
        before = {r.prediction: r for r in module.rows_from([old for old, _ in pairs])}
        for row in module.rows_from([new for _, new in pairs]):
            old = before.get(row.prediction)
            if old is not None and old.verdict != row.verdict:
                out["verdicts"].append(
                    {"claim": row.prediction, "committed": old.verdict, "now": row.verdict}
                )
    return out


def comparison_lines(name: str, comparison: dict) -> list[str]:
    """Plain-text lines saying how an experiment's records and verdicts differ from the committed ones."""
    c = comparison
    if not c["compared"]:
        return []
    head = f"{name}: {c['compared']} configurations also committed: {c['identical']} bit for bit"
    if c["within_tolerance"]:
        head += f", {c['within_tolerance']} within the cross-machine tolerance"
    if c["beyond_tolerance"]:
        head += f", {len(c['beyond_tolerance'])} beyond it"
    if c.get("trained_differ"):
        head += f", {c['trained_differ']} trained ones differ (compared through the verdicts)"
    if c["code"]:
        head += f" ({c['code']} committed records were written by other code)"
    lines = [head]
    for item in c["beyond_tolerance"]:
        lines.append(f"  {item['key']}: " + "; ".join(item["differences"]))
    for v in c["verdicts"]:
        lines.append(f"  verdict differs: {v['claim']}: committed {v['committed']}, now {v['now']}")
    if not c["verdicts"]:
        lines.append("  every verdict as committed")
    return lines


def run_experiment(module, preset: str, results_dir, *, data=None, **sweep_options) -> list[Row]:
    """The rows of an experiment module's preset (:func:`experiment_records` through the module's
    ``rows_from``), with one failing check per configuration that raised."""
    return _rows(module, experiment_records(module, preset, results_dir, data=data, **sweep_options))


def write_report(rows: list[Row], out_dir, *, config: dict, comparisons: dict | None = None) -> dict:
    """``validation.json`` and ``validation.md`` in ``out_dir`` (:func:`lmctheory.claims.write_report`);
    ``comparisons``: ``{experiment: compare_with_committed(...)}``, stored under ``committed`` and listed in
    a section of the Markdown report."""
    compared = [line for name, c in (comparisons or {}).items() for line in comparison_lines(name, c)]
    sections = [("Differences from the committed records", ["```", *compared, "```"])] if compared else []
    return _write_report(
        rows, out_dir, config=config, extra={"committed": comparisons or {}}, sections=sections
    )
