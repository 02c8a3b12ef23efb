"""Claims as rows: a prediction next to its measurement, the verdict of a calibrated rule, and reports.

A row is one claim next to what was measured. Every row has a ``kind``:

* ``prediction`` -- what the theory says about data it has not seen; it could fail on some data,
  and ``fails_if`` says which outcome would make it fail. Verdict: holds | fails | inconclusive,
  from one of the calibrated rules of :mod:`lmctheory.verdicts`;
* ``check`` -- an identity, a rigorous bound or a consistency condition of the code (it fails only
  if the code, or a derivation, is wrong). Verdict: holds | fails (| inconclusive for statistical
  checks that cannot decide);
* ``measurement`` -- a quantity reported without a claim (where the theory makes no sharp
  prediction, or the claim is a paper's number on other data). Verdict: ``reported``.

The builders (:func:`direction`, :func:`equivalent`, :func:`trend`, :func:`mean_at_most`,
:func:`every_at_most`, :func:`measurement`) take the values of independent repetitions (seeds, pairs)
and return a :class:`Row`; :func:`write_report` writes rows as JSON (with provenance) and Markdown;
:func:`compare_to_baseline` lists regressions against an earlier report. The validation experiments
of the paper package and a user's own claims (the ``lmctheory`` pytest plugin,
:mod:`lmctheory.pytest_plugin`) use the same rows. Reports count the kinds separately.

Examples
--------
>>> from lmctheory.claims import direction
>>> row = direction("my-study", "wider nets have lower barriers", "barrier(64) - barrier(256) > 0",
...                 [0.021, 0.034, 0.018, 0.027, 0.030], fails_if="the mean difference is <= 0")
>>> row.verdict, row.borderline
('holds', False)
"""

from __future__ import annotations

#: rows are computed from records on every run: this module does not shape a record
__shapes_results__ = False

import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from . import verdicts
from .provenance import record, write_json

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

VERDICTS = ("holds", "fails", "inconclusive", "reported")

KINDS = ("prediction", "check", "measurement")


@dataclass
class Row:
    """One claim: what theory (or the code's own identities) says, what was measured, the verdict.

    ``measured``/``measured_std``/``n_seeds``: mean, sample standard deviation and number of the
    independent values the verdict uses (NaN mean when there are none). ``statistic``: the rule's
    numbers (band, the p-values of the prediction and of its contradiction). ``borderline``: the
    verdict would change at half or twice the 5 % level (:func:`lmctheory.verdicts.borderline`).
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
    """``value = predicted within tol`` (TOST, :func:`lmctheory.verdicts.equivalence`)."""
    decision = verdicts.equivalence(values, predicted=predicted, tol=tol)
    return _row(experiment, claim, kind, formula, predicted, values, decision, fails_if, details)


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
    """A sign, ``mean > threshold`` (or <): one-sided t-test (:func:`lmctheory.verdicts.direction`)."""
    decision = verdicts.direction(values, sense=sense, threshold=threshold)
    return _row(experiment, claim, kind, formula, threshold, values, decision, fails_if, details)


def trend(
    experiment, claim, formula, blocks, *, sense=">", fails_if="", kind="prediction", details=None
) -> Row:
    """A monotone relation within blocks (permutation test, :func:`lmctheory.verdicts.trend`).
    ``measured`` is the mean per-block Spearman correlation."""
    blocks = [(list(x), list(y)) for x, y in blocks]
    per_block = [spearman(x, y) for x, y in blocks]
    decision = verdicts.trend(blocks, sense=sense)
    return _row(experiment, claim, kind, formula, None, per_block, decision, fails_if, details)


def mean_at_most(
    experiment, claim, formula, bound, values, *, fails_if="", kind="check", details=None
) -> Row:
    """A bound on an expectation checked with Monte-Carlo means (one-sided t-test)."""
    decision = verdicts.mean_at_most(values, bound=bound)
    return _row(experiment, claim, kind, formula, bound, values, decision, fails_if, details)


def every_at_most(
    experiment, claim, formula, bound, values, *, fails_if="", kind="check", details=None
) -> Row:
    """A rigorous per-instance bound: every value <= bound (exact)."""
    decision = verdicts.every_at_most(values, bound=bound)
    return _row(experiment, claim, kind, formula, bound, values, decision, fails_if, details)


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


def write_report(
    rows: list[Row],
    out_dir,
    *,
    config: dict,
    name: str = "validation",
    title: str = "lmctheory validation",
    extra: dict | None = None,
    sections=(),
) -> dict:
    """Write ``<name>.json`` (the rows, their counts and provenance) and ``<name>.md`` (a summary line, the
    counts per experiment, every row) into ``out_dir``, atomically; return the JSON document.

    Parameters
    ----------
    rows : list of Row
        The rows.
    out_dir : str or Path
        An existing directory.
    config : dict
        What produced the rows (recorded).
    name : str, default "validation"
        The files' stem.
    title : str
        The Markdown page's title.
    extra : dict, optional
        More result fields stored next to the rows.
    sections : sequence of (str, list of str)
        More Markdown sections (heading, lines) after the rows.

    Returns
    -------
    dict
        The JSON document (``rows`` also at top level).
    """
    out = Path(out_dir)
    doc = record(
        "validate",
        config,
        {"rows": [r.to_dict() for r in rows], "counts": counts(rows), **(extra or {})},
        definitions={
            "kinds": "prediction (could fail on some data) | check (identity, rigorous bound or "
            "consistency condition of the code) | measurement (reported, no claim)",
            "verdicts": "holds | fails | inconclusive (reported for measurements), each from a "
            "rule of lmctheory.verdicts at level 5 %; borderline: the verdict would change at 2.5 % or 10 %",
        },
    )
    doc["rows"] = doc["result"]["rows"]
    write_json(out / f"{name}.json", doc)
    text = [f"# {title}", "", summary_line(rows), "", *counts_table(rows), "", *markdown_table(rows)]
    for heading, lines in sections:
        text += ["", f"## {heading}", "", *lines]
    tmp = out / f".{name}.md.tmp"
    tmp.write_text("\n".join(text) + "\n")
    tmp.replace(out / f"{name}.md")
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
