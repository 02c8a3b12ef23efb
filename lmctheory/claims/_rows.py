"""Claims as rows: a prediction next to its measurement, the verdict of a calibrated rule, and reports.

A row is one claim next to what was measured. Every row has a ``kind``:

* ``prediction`` -- what the theory says about data it has not seen; it could fail on some data,
  and ``fails_if`` says which outcome would make it fail. Verdict: holds | fails | inconclusive,
  from one of the calibrated rules of :mod:`lmctheory.claims.verdicts`;
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

from ..runs import record, write_json
from . import verdicts

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
    verdict would change at half or twice the 5 % level (:func:`lmctheory.claims.verdicts.borderline`).
    Build rows with the builders of this module rather than by hand.

    Parameters
    ----------
    experiment, prediction, kind, formula : str
        Who claims, the claim, "prediction" | "check" | "measurement", the quantity compared.
    predicted : float or None
        The theory's value (None for a trend or a measurement).
    measured, measured_std : float
        Mean and sample standard deviation of the values.
    n_seeds : int
        Number of independent values.
    verdict, rule : str
        The verdict and the rule that gave it.
    fails_if : str
        What would make a prediction fail (required for predictions).
    statistic, details : dict
        The rule's numbers; anything else.
    rules_out : list of float
        The competing values the claim rules out (the nearest alternatives: the rate of the neighbouring
        dimensions, the ambient rate, the null "no effect"); empty for checks and measurements.

    Raises
    ------
    ValueError
        An unknown ``kind``, or a prediction without ``fails_if``.

    Examples
    --------
    >>> from lmctheory.claims import Row, measurement
    >>> row = measurement("study", "a width", "N", [64, 128])
    >>> Row.from_dict(row.to_dict()) == row
    True
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
    rules_out: list = field(default_factory=list)

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


def _row(
    experiment, claim, kind, formula, predicted, values, decision, fails_if, details, rules_out=()
) -> Row:
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
        [float(v) for v in rules_out],
    )


def _alternatives(rules_out, predicted: float, tol: float, kind: str) -> list[float]:
    """``rules_out`` as floats, checked: a prediction names at least one alternative, and ``tol`` is at most
    half the distance from ``predicted`` to the nearest one (else the row would also hold for it)."""
    alternatives = (
        [] if rules_out is None else [float(v) for v in np.atleast_1d(np.asarray(rules_out, float))]
    )
    if kind == "prediction" and not alternatives:
        raise ValueError("rules_out must name the competing value(s) an equivalence prediction rules out")
    if not all(math.isfinite(v) for v in alternatives):
        raise ValueError(f"rules_out must be finite, got {alternatives}")
    if alternatives:
        gap = min(abs(v - predicted) for v in alternatives)
        if not tol <= gap / 2 * (1 + 1e-12):  # equality up to the rounding of gap and tol
            raise ValueError(
                f"tol must be at most half the distance to the nearest value ruled out ({gap:.4g} / 2 = "
                f"{gap / 2:.4g}), got {tol:.4g}: the row would also hold for that alternative"
            )
    return alternatives


def equivalent(
    experiment,
    claim,
    formula,
    predicted,
    values,
    tol,
    *,
    rules_out=None,
    fails_if="",
    kind="prediction",
    details=None,
) -> Row:
    """``value = predicted within tol``: a TOST row (:func:`lmctheory.claims.verdicts.equivalence`) that rules out
    the competing values ``rules_out``.

    A prediction must be sharp enough to be wrong: it names the alternative(s) it rules out, and ``tol`` is
    at most half the distance from ``predicted`` to the nearest of them, so that data drawn from an
    alternative cannot make the row hold (with enough values it fails).

    Parameters
    ----------
    experiment : str
        Who makes the claim (an experiment or study name).
    claim : str
        The claim in words.
    formula : str
        The formula or quantity compared.
    predicted : float
        The theory's value.
    values : array_like
        Independent repetitions of the measured value.
    tol : float
        Accepted distance from ``predicted`` (> 0), at most half the distance to the nearest ``rules_out``.
    rules_out : float or sequence of float
        The competing value(s) the claim rules out (required for ``kind="prediction"``).
    fails_if : str
        The outcome that would make a prediction fail (required for ``kind="prediction"``).
    kind : {"prediction", "check"}
        A prediction (could fail on some data) or a check of the code.
    details : dict, optional
        Anything else to keep with the row (JSON data).

    Returns
    -------
    Row

    Raises
    ------
    ValueError
        ``tol`` not > 0 or wider than half the gap to the nearest ``rules_out``, values not finite, or a
        prediction without ``fails_if`` or ``rules_out``.

    Examples
    --------
    >>> from lmctheory.claims import equivalent
    >>> row = equivalent("rates", "slope = -1/5", "slope", -0.2, [-0.201, -0.199, -0.2], 0.008,
    ...                  rules_out=[-1 / 4, -1 / 6], fails_if="the band lies outside -0.2 +- 0.008")
    >>> row.verdict, [round(v, 4) for v in row.rules_out]
    ('holds', [-0.25, -0.1667])
    """
    alternatives = _alternatives(rules_out, float(predicted), float(tol), kind)
    decision = verdicts.equivalence(values, predicted=predicted, tol=tol)
    return _row(
        experiment, claim, kind, formula, predicted, values, decision, fails_if, details, alternatives
    )


def direction(
    experiment,
    claim,
    formula,
    values,
    *,
    sense=">",
    threshold=0.0,
    rules_out=None,
    fails_if="",
    kind="prediction",
    details=None,
) -> Row:
    """A sign, ``mean > threshold`` (or <): a one-sided t-test row (:func:`lmctheory.claims.verdicts.direction`).

    The value ruled out is the threshold itself (no effect: for a comparison, the other architecture's or
    method's value), and with it everything on the other side; the row fails when the data show the
    opposite sign.

    Parameters
    ----------
    experiment : str
        Who makes the claim (an experiment or study name).
    claim : str
        The claim in words.
    formula : str
        The formula or quantity compared.
    values : array_like
        Independent repetitions of the effect.
    sense : {">", "<"}, default ">"
        The claimed sign.
    threshold : float, default 0
        What the mean is compared with (stored as ``predicted``).
    rules_out : sequence of float, optional
        The competing values ruled out; default ``[threshold]``. Each must lie on the far side of
        ``threshold`` (or on it).
    fails_if : str
        The outcome that would make a prediction fail (required for ``kind="prediction"``).
    kind : {"prediction", "check"}
        A prediction (could fail on some data) or a check of the code.
    details : dict, optional
        Anything else to keep with the row (JSON data).

    Returns
    -------
    Row

    Raises
    ------
    ValueError
        A bad ``sense``, values not finite, or a prediction without ``fails_if``.

    Examples
    --------
    >>> from lmctheory.claims import direction
    >>> direction("study", "matching helps", "gain > 0", [0.3, 0.4, 0.35], fails_if="gain <= 0").verdict
    'holds'
    """
    alternatives = [float(threshold)] if rules_out is None else [float(v) for v in np.atleast_1d(rules_out)]
    if sense in (">", "<") and any(
        (v > threshold) if sense == ">" else (v < threshold) for v in alternatives
    ):
        raise ValueError(f"rules_out must lie on the far side of threshold {threshold:g}, got {alternatives}")
    decision = verdicts.direction(values, sense=sense, threshold=threshold)
    return _row(
        experiment, claim, kind, formula, threshold, values, decision, fails_if, details, alternatives
    )


def trend(
    experiment, claim, formula, blocks, *, sense=">", fails_if="", kind="prediction", details=None
) -> Row:
    """A monotone relation within blocks: a permutation-test row (:func:`lmctheory.claims.verdicts.trend`).

    ``measured`` is the mean per-block Spearman correlation; the row rules out 0 (no monotone relation)
    and with it the opposite sense.

    Parameters
    ----------
    experiment : str
        Who makes the claim (an experiment or study name).
    claim : str
        The claim in words.
    formula : str
        The formula or quantity compared.
    blocks : sequence of (x, y)
        One pair of equal-length sequences per seed or pair.
    sense : {">", "<"}, default ">"
        y increases (">") or decreases ("<") with x.
    fails_if : str
        The outcome that would make a prediction fail (required for ``kind="prediction"``).
    kind : {"prediction", "check"}
        A prediction (could fail on some data) or a check of the code.
    details : dict, optional
        Anything else to keep with the row (JSON data).

    Returns
    -------
    Row

    Raises
    ------
    ValueError
        A bad ``sense`` or block, or a prediction without ``fails_if``.

    Examples
    --------
    >>> from lmctheory.claims import trend
    >>> trend("study", "barrier falls with width", "Spearman < 0", [([1, 2, 3, 4], [4, 3, 2, 1])] * 3,
    ...       sense="<", fails_if="it rises").measured
    -1.0
    """
    blocks = [(list(x), list(y)) for x, y in blocks]
    per_block = [spearman(x, y) for x, y in blocks]
    decision = verdicts.trend(blocks, sense=sense)
    return _row(experiment, claim, kind, formula, None, per_block, decision, fails_if, details, [0.0])


def mean_at_most(
    experiment, claim, formula, bound, values, *, fails_if="", kind="check", details=None
) -> Row:
    """A bound on an expectation checked with Monte-Carlo values: a one-sided t-test row.

    Parameters
    ----------
    experiment : str
        Who makes the claim (an experiment or study name).
    claim : str
        The claim in words.
    formula : str
        The formula or quantity compared.
    bound : float
        The claimed bound on E X (stored as ``predicted``).
    values : array_like
        Independent draws of X.
    fails_if : str
        The outcome that would make a prediction fail (required for ``kind="prediction"``).
    kind : {"check", "prediction"}, default "check"
        A prediction (could fail on some data) or a check of the code.
    details : dict, optional
        Anything else to keep with the row (JSON data).

    Returns
    -------
    Row

    Raises
    ------
    ValueError
        Values not finite, or a prediction without ``fails_if``.

    Examples
    --------
    >>> from lmctheory.claims import mean_at_most
    >>> mean_at_most("rates", "E W2 below its bound", "E W2 <= B", 0.5, [0.1, 0.12, 0.11]).verdict
    'holds'
    """
    decision = verdicts.mean_at_most(values, bound=bound)
    return _row(experiment, claim, kind, formula, bound, values, decision, fails_if, details)


def every_at_most(
    experiment, claim, formula, bound, values, *, fails_if="", kind="check", details=None
) -> Row:
    """A rigorous per-instance bound, every value <= bound, decided exactly.

    Parameters
    ----------
    experiment : str
        Who makes the claim (an experiment or study name).
    claim : str
        The claim in words.
    formula : str
        The formula or quantity compared.
    bound : float
        The bound each value must respect (stored as ``predicted``).
    values : array_like
        The instances' values.
    fails_if : str
        The outcome that would make a prediction fail (required for ``kind="prediction"``).
    kind : {"check", "prediction"}, default "check"
        A prediction (could fail on some data) or a check of the code.
    details : dict, optional
        Anything else to keep with the row (JSON data).

    Returns
    -------
    Row

    Raises
    ------
    ValueError
        Values not finite, or a prediction without ``fails_if``.

    Examples
    --------
    >>> from lmctheory.claims import every_at_most
    >>> every_at_most("nets", "bound / barrier >= 1", "ratio", 1.0, [0.4, 0.7]).verdict
    'holds'
    """
    decision = verdicts.every_at_most(values, bound=bound)
    return _row(experiment, claim, kind, formula, bound, values, decision, fails_if, details)


def measurement(experiment, claim, formula, values, *, why: str = "measurement only", details=None) -> Row:
    """A reported quantity without a claim: verdict "reported".

    Parameters
    ----------
    experiment : str
        Who makes the claim (an experiment or study name).
    claim : str
        The claim in words.
    formula : str
        The formula or quantity compared.
    values : array_like
        The measured values.
    why : str, default "measurement only"
        Why it is not a prediction (kept as the row's rule).
    details : dict, optional
        Anything else to keep with the row.

    Returns
    -------
    Row

    Raises
    ------
    ValueError
        Values that cannot be converted to floats.

    Examples
    --------
    >>> from lmctheory.claims import measurement
    >>> measurement("study", "a width", "N", [64, 128]).measured
    96.0
    """
    mean, std, n = _stats(values)
    return Row(
        experiment, claim, "measurement", formula, None, mean, std, n, "reported", why, "", {}, details or {}
    )


def spearman(x, y) -> float:
    """Spearman's rank correlation (average ranks for ties); 0 when either side is constant.

    Parameters
    ----------
    x, y : array_like
        Equal-length sequences.

    Returns
    -------
    float
        In [-1, 1].

    Raises
    ------
    ValueError
        x and y of different lengths.

    Examples
    --------
    >>> from lmctheory.claims import spearman
    >>> spearman([1, 2, 3], [30, 20, 10]), spearman([1, 2, 3], [5, 5, 5])
    (-1.0, 0.0)
    """
    from scipy.stats import spearmanr

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    return float(spearmanr(x, y).statistic)


def counts(rows) -> dict:
    """``{kind: {verdict: count}}`` with every kind and its verdicts present (zeros included).

    Parameters
    ----------
    rows : sequence of Row or dict
        Rows, or their ``to_dict()`` form.

    Returns
    -------
    dict

    Raises
    ------
    KeyError
        A row of an unknown kind or verdict.

    Examples
    --------
    >>> from lmctheory.claims import counts, measurement
    >>> counts([measurement("s", "x", "x", [1.0])])["measurement"]
    {'reported': 1}
    """
    out = {kind: {v: 0 for v in (("reported",) if kind == "measurement" else VERDICTS[:3])} for kind in KINDS}
    for r in rows:
        kind, verdict = (r.kind, r.verdict) if isinstance(r, Row) else (r["kind"], r["verdict"])
        out[kind][verdict] = out[kind].get(verdict, 0) + 1
    return out


def summary_line(rows) -> str:
    """One line: rows per kind and their verdicts.

    Parameters
    ----------
    rows : sequence of Row or dict
        The rows.

    Returns
    -------
    str

    Raises
    ------
    KeyError
        As :func:`counts`.

    Examples
    --------
    >>> from lmctheory.claims import measurement, summary_line
    >>> summary_line([measurement("s", "x", "x", [1.0])])
    '0 predictions (0 hold, 0 fail, 0 inconclusive), 0 checks (0 hold, 0 fail), 1 measurements'
    """
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


def _rules_out(row: Row) -> str:
    return ", ".join(format(v, ".4g") for v in row.rules_out) if row.rules_out else "-"


def markdown_table(rows: list[Row]) -> list[str]:
    """The rows as Markdown lines: kind, claim, predicted, the values ruled out, measured, verdict (flagged when borderline),
    the rule with both p-values, and what would make a prediction fail.

    Parameters
    ----------
    rows : sequence of Row
        The rows.

    Returns
    -------
    list of str
        The header, the separator, one line per row.

    Raises
    ------
    AttributeError
        Rows that are not :class:`Row` objects.

    Examples
    --------
    >>> from lmctheory.claims import markdown_table, measurement
    >>> len(markdown_table([measurement("s", "x", "x", [1.0])]))
    3
    """
    lines = [
        "| experiment | kind | claim | predicted | rules out | measured (mean ± std, n) | verdict | rule | fails if |",
        "|---|---|---|---|---|---|---|---|---|",
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
            f"| {r.experiment} | {r.kind} | {r.prediction} | {pred} | {_rules_out(r)} | {_fmt(r.measured)} ± "
            f"{_fmt(r.measured_std, '.2g')} (n={r.n_seeds}) | {r.verdict}{' (borderline)' if r.borderline else ''} | "
            f"{r.rule}{extra} | "
            f"{r.fails_if or '-'} |"
        )
    return lines


def counts_table(rows: list[Row]) -> list[str]:
    """Markdown lines, per experiment and in all: predictions (hold / fail / inconclusive / borderline),
    checks (hold / fail), measurements.

    Parameters
    ----------
    rows : sequence of Row
        The rows.

    Returns
    -------
    list of str

    Raises
    ------
    AttributeError
        Rows that are not :class:`Row` objects.

    Examples
    --------
    >>> from lmctheory.claims import counts_table, measurement
    >>> counts_table([measurement("s", "x", "x", [1.0])])[-1]
    '| all | 0 | 0 | 0 | 0 | 0 | 0 (0 / 0) | 1 |'
    """
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
    """Write ``<name>.json`` (the rows, their counts and provenance) and ``<name>.md`` (a summary line,
    the counts per experiment, every row) into ``out_dir``, atomically.

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

    Raises
    ------
    OSError
        ``out_dir`` missing or not writable.

    Examples
    --------
    >>> import tempfile
    >>> from lmctheory.claims import measurement, write_report
    >>> doc = write_report([measurement("s", "x", "x", [1.0])], tempfile.mkdtemp(), config={}, name="claims")
    >>> doc["rows"][0]["verdict"]
    'reported'
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
            "rule of lmctheory.claims.verdicts at level 5 %; borderline: the verdict would change at 2.5 % or 10 %",
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
    """Regressions against an earlier report: a verdict that turned from holds to fails, or a measured
    mean outside the baseline's band (mean +- sigmas * std / sqrt(n), at least 1e-12 wide).

    Rows match on (experiment, prediction); rows without a measured value (failed configurations)
    are compared by verdict only.

    Parameters
    ----------
    rows, baseline : list of dict
        Rows in their ``to_dict()`` form, now and before.
    sigmas : float, default 3
        Width of the baseline band in standard errors.

    Returns
    -------
    list of str
        One line per regression (empty: none).

    Raises
    ------
    KeyError
        Rows without experiment, prediction, verdict or measured.

    Examples
    --------
    >>> from lmctheory.claims import compare_to_baseline, measurement
    >>> rows = [measurement("s", "x", "x", [1.0, 1.1]).to_dict()]
    >>> compare_to_baseline(rows, rows)
    []
    """
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
