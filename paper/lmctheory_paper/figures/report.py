"""REPORT.md: every figure drawn, next to the full table of rows of the validation experiments."""

from __future__ import annotations

#: writes the report from rows and records: this module does not shape a record
__shapes_results__ = False

import datetime
import sys
from pathlib import Path

from lmctheory import __version__

from ._common import RUNS


def _caption(module) -> str:
    doc = (module.__doc__ or "").strip().split("\n\n")
    return " ".join(doc[1].split()) if len(doc) > 1 else ""


def _timings(preset: str, results_dir, names) -> list[tuple[str, int, float]]:
    from lmctheory.runs import load_results

    out = []
    for name in names:
        recs = load_results(Path(results_dir) / f"{name}-{preset}")
        if recs:
            out.append((name, len(recs), float(sum(r.get("seconds") or 0.0 for r in recs))))
    total = (f"total ({len(out)} sweeps)", sum(n for _, n, _ in out), sum(s for _, _, s in out))
    return [*out, total]


def _rows(preset: str, results_dir, complete: bool, sweep_options) -> tuple[list, list[str]]:
    """Rows of every experiment; when only some figures were drawn (``complete`` False), experiments
    without current records are listed as skipped instead of being computed."""
    from lmctheory.exceptions import CacheMissError
    from lmctheory_paper.validation import EXPERIMENTS

    rows, skipped = [], []
    options = dict(sweep_options) if complete else dict(sweep_options, cached_only=True)
    for name, module in EXPERIMENTS.items():
        try:
            rows += module.run(preset, str(results_dir), **options)
        except CacheMissError:
            skipped.append(name)
    return rows, skipped


def _comparisons(preset: str, results_dir, skipped) -> dict:
    """``{experiment: compare_with_committed(...)}`` of the records in ``results_dir`` against the committed
    ones (none when ``results_dir`` is the committed cache itself)."""
    from lmctheory.runs import load_results
    from lmctheory_paper.validation import EXPERIMENTS
    from lmctheory_paper.validation.report import compare_with_committed

    from . import CACHE

    if Path(results_dir).resolve() == Path(CACHE).resolve():
        return {}
    out = {}
    for name, module in EXPERIMENTS.items():
        sub = Path(results_dir) / f"{name}-{preset}"
        if name not in skipped and sub.is_dir():
            out[name] = compare_with_committed(module, preset, load_results(sub), CACHE)
    return out


def write(
    preset: str, results_dir, out_dir, figures: dict, *, complete: bool = True, **sweep_options
) -> Path:
    """Write ``out_dir/REPORT.md`` (and validation.json/.md); rows come from the (cached) experiments."""
    from lmctheory_paper.validation.report import (
        comparison_lines,
        counts_table,
        markdown_table,
        summary_line,
        write_report,
    )

    rows, skipped = _rows(preset, results_dir, complete, sweep_options)
    out = Path(out_dir)
    comparisons = _comparisons(preset, results_dir, skipped)
    write_report(
        rows,
        out,
        config={
            "preset": preset,
            "results_dir": str(results_dir),
            "source": "lmctheory figures",
            "experiments_without_records": skipped,
        },
        comparisons=comparisons,
    )
    compared = [line for name, c in comparisons.items() for line in comparison_lines(name, c)]
    if compared:
        print(
            "differences from the committed records (paper/lmctheory_paper/figures/cache):",
            *compared,
            sep="\n",
            file=sys.stderr,
        )
    ran = sum(r for _, r, _ in RUNS)
    cached = sum(c for _, _, c in RUNS)
    lines = [
        "# lmctheory: figures and predictions",
        "",
        f"lmctheory {__version__}, preset `{preset}`, generated "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}. Results read from `{results_dir}` "
        f"({ran} configurations computed, {cached} read from records).",
        "",
    ]
    for number, module in figures.items():
        lines += [
            f"## Figure {number}. {module.TITLE}",
            "",
            f"![{module.TITLE}]({module.NAME}.png)",
            "",
            _caption(module),
            "",
            f"PDF: [{module.NAME}.pdf]({module.NAME}.pdf)",
            "",
        ]
    lines += [
        "## Compute time per experiment",
        "",
        "Sum of the per-configuration wall times recorded in the sweep records (the time to recompute "
        "them with one thread per configuration; cached configurations cost nothing on a re-run).",
        "",
        "| sweep | configurations | compute seconds |",
        "|---|---|---|",
    ]
    from lmctheory_paper.validation import EXPERIMENTS

    for sweep, n, seconds in _timings(preset, results_dir, [*EXPERIMENTS, "figure-dimension"]):
        lines.append(f"| {sweep} | {n} | {seconds:.1f} |")
    if compared:
        lines += ["", "## Differences from the committed records", "", "```", *compared, "```"]
    lines += ["", f"## Rows: {summary_line(rows)}", ""]
    if skipped:
        lines += [
            f"Not in this report (no current records, not computed because only some figures were drawn): "
            f"{', '.join(skipped)}. `lmctheory validate --{preset} --only {','.join(skipped)}` computes them.",
            "",
        ]
    lines += [
        "Kinds: *prediction* (the theory's claim on data it has not seen: could fail, the last column says "
        "how), *check* (an identity, rigorous bound or consistency condition of the code), *measurement* "
        "(reported without a claim). Verdicts come from statistical rules at level 5 % (one-sided t-test, "
        "TOST equivalence test, permutation trend test; exact per-instance comparison for rigorous bounds): "
        "see `lmctheory.claims.verdicts`. Per-experiment protocols: the docstrings of `lmctheory_paper/validation/*.py`.",
        "",
        *counts_table(rows),
        "",
        *markdown_table(rows),
        "",
    ]
    path = out / "REPORT.md"
    tmp = out / ".REPORT.md.tmp"
    tmp.write_text("\n".join(lines))
    tmp.replace(path)
    return path
