"""Rows, reports (JSON + Markdown) and regression against a baseline.

A row is one claim next to what was measured. Every row has a ``kind``:

* ``prediction`` -- what the theory says about data it has not seen; it could fail on some data,
  and ``fails_if`` says which outcome would make it fail. Verdict: holds | fails | inconclusive,
  from one of the calibrated rules of :mod:`lmctheory_validation.verdicts`;
* ``check`` -- an identity, a rigorous bound or a consistency condition of the code (it fails only
  if the code, or a derivation, is wrong). Verdict: holds | fails (| inconclusive for statistical
  checks that cannot decide);
* ``measurement`` -- a quantity reported without a claim (where the theory makes no sharp
  prediction, or the claim is a paper's number on other data). Verdict: ``reported``.

Reports count the kinds separately.
"""

from __future__ import annotations

#: rows are recomputed from the sweep records on every run: this module does not shape a record
__shapes_results__ = False

import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from lmctheory.provenance import record, write_json

from . import verdicts

__all__ = [
    "Row",
    "VERDICTS",
    "KINDS",
    "equivalent",
    "rate_row",
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
    "spearman",
    "markdown_table",
    "counts",
]

VERDICTS = ("holds", "fails", "inconclusive", "reported")
KINDS = ("prediction", "check", "measurement")


@dataclass
class Row:
    """One claim: what theory (or the code's own identities) says, what was measured, the verdict.

    ``measured``/``measured_std``/``n_seeds``: mean, sample standard deviation and number of the
    independent values the verdict uses (NaN mean when there are none). ``statistic``: the rule's
    numbers (band, the p-values of the prediction and of its contradiction). ``borderline``: the
    verdict would change at half or twice the 5 % level (:func:`lmctheory_validation.verdicts.borderline`).
    """

    experiment: str
    prediction: str
    kind: str
    formula: str
    predicted: float | None
    measured: float
    measured_std: float
    n_seeds: int
    verdict: str
    rule: str
    fails_if: str = ""
    statistic: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "prediction" and not self.fails_if:
            raise ValueError(f"prediction row {self.prediction!r} must say which outcome would make it fail")

    @property
    def borderline(self) -> bool:
        return verdicts.borderline(self.statistic or {})

    def to_dict(self) -> dict:
        return {**asdict(self), "borderline": self.borderline}

    @classmethod
    def from_dict(cls, doc: dict) -> Row:
        """The row :meth:`to_dict` wrote (derived fields such as ``borderline`` are recomputed)."""
        return cls(**{f.name: doc[f.name] for f in fields(cls) if f.name in doc})


def _stats(values) -> tuple[float, float, int]:
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size == 0:
        return math.nan, math.nan, 0
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else 0.0, int(arr.size)


def _row(experiment, claim, kind, formula, predicted, values, decision, fails_if, details) -> Row:
    mean, std, n = _stats(values)
    return Row(
        experiment,
        claim,
        kind,
        formula,
        None if predicted is None else float(predicted),
        mean,
        std,
        n,
        decision.verdict,
        decision.rule,
        fails_if,
        decision.statistic,
        details or {},
    )


def equivalent(
    experiment, claim, formula, predicted, values, tol, *, fails_if="", kind="prediction", details=None
) -> Row:
    """``value = predicted within tol`` (TOST, :func:`lmctheory_validation.verdicts.equivalence`)."""
    return _row(
        experiment,
        claim,
        kind,
        formula,
        predicted,
        values,
        verdicts.equivalence(values, predicted=predicted, tol=tol),
        fails_if,
        details,
    )


def rate_row(
    experiment, claim, formula, predicted, values, tol, *, sharp: bool, not_sharp: str, details=None
) -> Row:
    """A fitted slope (or exponent) against the theory's: an :func:`equivalent` prediction where the rate
    is sharp, failing when the band lies wholly outside predicted ± tol; else a measurement saying why
    there is no claim (``not_sharp``)."""
    if sharp:
        return equivalent(
            experiment,
            claim,
            formula,
            predicted,
            values,
            tol,
            details=details,
            fails_if=f"the band lies wholly outside {predicted:.3g} ± {tol:.3g}",
        )
    return measurement(experiment, claim, formula, values, why=not_sharp, details=details)


def direction(
    experiment,
    claim,
    formula,
    values,
    *,
    sense=">",
    threshold=0.0,
    fails_if="",
    kind="prediction",
    details=None,
) -> Row:
    """A sign, ``mean > threshold`` (or <): one-sided t-test (:func:`lmctheory_validation.verdicts.direction`)."""
    return _row(
        experiment,
        claim,
        kind,
        formula,
        threshold,
        values,
        verdicts.direction(values, sense=sense, threshold=threshold),
        fails_if,
        details,
    )


def trend(
    experiment, claim, formula, blocks, *, sense=">", fails_if="", kind="prediction", details=None
) -> Row:
    """A monotone relation within blocks (permutation test, :func:`lmctheory_validation.verdicts.trend`).
    ``measured`` is the mean per-block Spearman correlation."""
    blocks = [(list(x), list(y)) for x, y in blocks]
    per_block = [spearman(x, y) for x, y in blocks]
    return _row(
        experiment,
        claim,
        kind,
        formula,
        None,
        per_block,
        verdicts.trend(blocks, sense=sense),
        fails_if,
        details,
    )


def mean_at_most(
    experiment, claim, formula, bound, values, *, fails_if="", kind="check", details=None
) -> Row:
    """A bound on an expectation checked with Monte-Carlo means (one-sided t-test)."""
    return _row(
        experiment,
        claim,
        kind,
        formula,
        bound,
        values,
        verdicts.mean_at_most(values, bound=bound),
        fails_if,
        details,
    )


def every_at_most(
    experiment, claim, formula, bound, values, *, fails_if="", kind="check", details=None
) -> Row:
    """A rigorous per-instance bound: every value <= bound (exact)."""
    return _row(
        experiment,
        claim,
        kind,
        formula,
        bound,
        values,
        verdicts.every_at_most(values, bound=bound),
        fails_if,
        details,
    )


def measurement(experiment, claim, formula, values, *, why: str = "measurement only", details=None) -> Row:
    """A reported quantity, no claim (``why`` says why it is not a prediction)."""
    mean, std, n = _stats(values)
    return Row(
        experiment, claim, "measurement", formula, None, mean, std, n, "reported", why, "", {}, details or {}
    )


def spearman(x, y) -> float:
    """Spearman rank correlation (average ranks for ties); 0 when either side is constant."""
    from scipy.stats import spearmanr

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    return float(spearmanr(x, y).statistic)


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
    """The :class:`lmctheory.sweep.Sweep` of an experiment module's preset, cached under
    ``<results_dir>/<NAME>-<preset>`` (read-only caches under the same sub-directory of each
    ``fallback_dirs``; earlier records whose seconds estimate the costs under that of each ``timing_dirs``);
    ``data`` specs go to the module's ``configs_for``."""
    from lmctheory.sweep import Sweep

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
    """The :class:`lmctheory.sweep.SweepResult` of an experiment module's preset, run resumably: current
    records are read, missing or stale ones are run (:func:`experiment_sweep`)."""
    from lmctheory.sweep import run_sweeps

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
    workers (:func:`lmctheory.sweep.run_sweeps`: workers stay busy across experiments); ``data`` maps an
    experiment name to its data specs; ``records``, a dict, receives ``{name: the sweep's records}``."""
    from lmctheory.sweep import run_sweeps

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
    bit for bit and within the tolerance they reproduce to on another machine
    (:func:`lmctheory.rerun.reproduction_tolerance`); the rows the experiment derives from the matched
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
        ``{"key", "differences"}``, the first differences of each), ``within_tolerance`` (count of the
        others that differ), ``verdicts`` (list of ``{"claim", "committed", "now"}``), ``code`` (how many
        committed records were written by other code).
    """
    from lmctheory.rerun import compare, reproduction_tolerance
    from lmctheory.sweep import load_results

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
        rtol, atol = reproduction_tolerance(new)
        beyond = compare(old["result"], new["result"], rtol=rtol, atol=atol)
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


def counts(rows) -> dict:
    """``{kind: {verdict: count}}`` with every kind and its verdicts present (zeros included)."""
    out = {kind: {v: 0 for v in (("reported",) if kind == "measurement" else VERDICTS[:3])} for kind in KINDS}
    for r in rows:
        kind, verdict = (r.kind, r.verdict) if isinstance(r, Row) else (r["kind"], r["verdict"])
        out[kind][verdict] = out[kind].get(verdict, 0) + 1
    return out


def summary_line(rows) -> str:
    """One line: rows per kind and their verdicts."""
    c = counts(rows)
    pred, check = c["prediction"], c["check"]
    return (
        f"{sum(pred.values())} predictions ({pred['holds']} hold, {pred['fails']} fail, "
        f"{pred['inconclusive']} inconclusive), {sum(check.values())} checks ({check['holds']} hold, "
        f"{check['fails']} fail"
        + (f", {check['inconclusive']} inconclusive" if check["inconclusive"] else "")
        + f"), {c['measurement']['reported']} measurements"
    )


def _fmt(value, spec=".4g") -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def markdown_table(rows: list[Row]) -> list[str]:
    """The rows as Markdown lines (one per row, with its kind, rule and what would make it fail)."""
    lines = [
        "| experiment | kind | claim | predicted | measured (mean ± std, n) | verdict | rule | fails if |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        pred = "-" if r.predicted is None else f"{r.predicted:.4g} ({r.formula})"
        stat = r.statistic or {}
        extra = f"; p = {stat['p_value']:.3g}" if stat.get("p_value") is not None else ""
        if stat.get("p_value_opposite") is not None:
            extra += f", opposite p = {stat['p_value_opposite']:.3g}"
        if r.verdict == "inconclusive" and stat.get("values_to_decide") is not None:
            need = stat["values_to_decide"]
            extra += (
                "; no difference to resolve"
                if need == math.inf
                else f"; about {int(need)} independent values (now {r.n_seeds}) would decide it at this effect and spread"
            )
        lines.append(
            f"| {r.experiment} | {r.kind} | {r.prediction} | {pred} | {_fmt(r.measured)} ± "
            f"{_fmt(r.measured_std, '.2g')} (n={r.n_seeds}) | {r.verdict}{' (borderline)' if r.borderline else ''} | "
            f"{r.rule}{extra} | "
            f"{r.fails_if or '-'} |"
        )
    return lines


def counts_table(rows: list[Row]) -> list[str]:
    """Per experiment: predictions (holds / fails / inconclusive, and how many of them are borderline),
    checks, measurements."""
    lines = [
        "| experiment | predictions | hold | fail | inconclusive | borderline | checks (hold / fail) | measurements |",
        "|---|---|---|---|---|---|---|---|",
    ]
    experiments = list(dict.fromkeys(r.experiment for r in rows))
    for name in [*experiments, "all"]:
        sub = rows if name == "all" else [r for r in rows if r.experiment == name]
        c = counts(sub)
        p, ch = c["prediction"], c["check"]
        edge = sum(r.kind == "prediction" and r.borderline for r in sub)
        lines.append(
            f"| {name} | {sum(p.values())} | {p['holds']} | {p['fails']} | {p['inconclusive']} | {edge} | "
            f"{sum(ch.values())} ({ch['holds']} / {ch['fails']}) | {c['measurement']['reported']} |"
        )
    return lines


def write_report(rows: list[Row], out_dir, *, config: dict, comparisons: dict | None = None) -> dict:
    """``validation.json`` (rows + provenance) and ``validation.md`` in ``out_dir``; returns the JSON doc.
    ``comparisons``: ``{experiment: compare_with_committed(...)}``, stored and listed in the report."""
    out = Path(out_dir)
    doc = record(
        "validate",
        config,
        {"rows": [r.to_dict() for r in rows], "counts": counts(rows), "committed": comparisons or {}},
        definitions={
            "kinds": "prediction (could fail on some data) | check (identity, rigorous bound or "
            "consistency condition of the code) | measurement (reported, no claim)",
            "verdicts": "holds | fails | inconclusive (reported for measurements), each from a "
            "rule of lmctheory_validation.verdicts at level 5 %",
        },
    )
    doc["rows"] = doc["result"]["rows"]
    write_json(out / "validation.json", doc)
    text = [
        "# lmctheory validation",
        "",
        summary_line(rows),
        "",
        *counts_table(rows),
        "",
        *markdown_table(rows),
    ]
    compared = [line for name, c in (comparisons or {}).items() for line in comparison_lines(name, c)]
    if compared:
        text += ["", "## Differences from the committed records", "", "```", *compared, "```"]
    tmp = out / ".validation.md.tmp"
    tmp.write_text("\n".join(text) + "\n")
    tmp.replace(out / "validation.md")
    return doc


def compare_to_baseline(rows: list[dict], baseline: list[dict], *, sigmas: float = 3.0) -> list[str]:
    """Regressions: a verdict that turned from holds to fails, or a measured mean outside the
    baseline's band (mean +- sigmas * std / sqrt(n), at least 1e-12 wide). Rows match on
    (experiment, prediction); rows without a measured value (failed configurations) are compared
    by verdict only."""
    base = {(b["experiment"], b["prediction"]): b for b in baseline}
    problems = []
    for r in rows:
        b = base.get((r["experiment"], r["prediction"]))
        if b is None:
            continue
        if b["verdict"] == "holds" and r["verdict"] == "fails":
            problems.append(f"{r['experiment']}: {r['prediction']}: verdict holds -> fails")
        measured, reference = r.get("measured"), b.get("measured")
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (measured, reference)):
            continue
        std = b.get("measured_std") if isinstance(b.get("measured_std"), (int, float)) else 0.0
        half = max(
            sigmas * (std if math.isfinite(std) else 0.0) / math.sqrt(max(b.get("n_seeds") or 1, 1)), 1e-12
        )
        if abs(measured - reference) > half:
            problems.append(
                f"{r['experiment']}: {r['prediction']}: measured {measured:.4g} outside the "
                f"baseline band {reference:.4g} ± {half:.2g}"
            )
    return problems
