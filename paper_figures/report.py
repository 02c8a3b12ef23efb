"""REPORT.md: every figure drawn, next to the full prediction table of the validation experiments."""

from __future__ import annotations

import datetime
from pathlib import Path

from lmctheory import __version__

from ._common import RUNS


def _caption(module) -> str:
    doc = (module.__doc__ or "").strip().split("\n\n")
    return " ".join(doc[1].split()) if len(doc) > 1 else ""


def _timings(preset: str, results_dir, names) -> list[tuple[str, int, float]]:
    from lmctheory.sweep import load_results

    out = []
    for name in names:
        recs = load_results(Path(results_dir) / f"{name}-{preset}")
        if recs:
            out.append((name, len(recs), float(sum(r.get("seconds") or 0.0 for r in recs))))
    total = (f"total ({len(out)} sweeps)", sum(n for _, n, _ in out), sum(s for _, _, s in out))
    return [*out, total]


def write(preset: str, results_dir, out_dir, figures: dict, **sweep_options) -> Path:
    """Write ``out_dir/REPORT.md`` (and validation.json/.md); rows come from the (cached) experiments."""
    from lmctheory_validation import EXPERIMENTS
    from lmctheory_validation.report import markdown_table, write_report

    rows = []
    for module in EXPERIMENTS.values():
        rows += module.run(preset, str(results_dir), **sweep_options)
    out = Path(out_dir)
    write_report(rows, out, config={"preset": preset, "results_dir": str(results_dir), "source": "lmctheory figures"})
    counts = {v: sum(r.verdict == v for r in rows) for v in ("holds", "fails", "inconclusive")}
    ran = sum(r for _, r, _ in RUNS)
    cached = sum(c for _, _, c in RUNS)
    lines = ["# lmctheory: figures and predictions", "",
             f"lmctheory {__version__}, preset `{preset}`, generated "
             f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}. Results read from `{results_dir}` "
             f"(this run: {ran} configurations computed, {cached} read from the cache).", ""]
    for number, module in figures.items():
        lines += [f"## Figure {number}. {module.TITLE}", "", f"![{module.TITLE}]({module.NAME}.png)", "",
                  _caption(module), "", f"PDF: [{module.NAME}.pdf]({module.NAME}.pdf)", ""]
    lines += ["## Compute time per experiment", "",
              "Sum of the per-configuration wall times recorded in the sweep records (the time to recompute "
              "them on one core; cached configurations cost nothing on a re-run).", "",
              "| sweep | configurations | compute seconds |", "|---|---|---|"]
    for sweep, n, seconds in _timings(preset, results_dir, [*EXPERIMENTS, "figure-dimension"]):
        lines.append(f"| {sweep} | {n} | {seconds:.1f} |")
    lines += [""]
    lines += [f"## Predictions ({len(rows)} rows: {counts['holds']} hold, {counts['fails']} fail, "
              f"{counts['inconclusive']} inconclusive)", "",
              "Verdict rules: *within* (|mean - predicted| <= tolerance; inconclusive where the theory makes no "
              "sharp claim), *at most* (every measured value <= a rigorous bound), *direction* (mean ± 2 SE "
              "wholly on the predicted side). Per-experiment protocols: the docstrings of `validation/*.py`.", "",
              *markdown_table(rows), ""]
    path = out / "REPORT.md"
    path.write_text("\n".join(lines))
    return path
