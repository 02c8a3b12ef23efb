"""Paper figures, installed as ``lmctheory_paper.figures`` and drawn by ``lmctheory figures``.

One module per figure (``figN_*.py``), each with ``NAME``, ``TITLE`` and
``draw(preset, results_dir, out_dir, **sweep_options) -> [png, pdf]``; each reads the records of
the sweep engine under ``results_dir`` and runs only the configurations that are missing. Every
module also runs as a script: ``python -m lmctheory_paper.figures.fig1_rates --quick --results DIR``.
:func:`draw_all` draws the selection and writes ``REPORT.md`` (figures next to the prediction
table). ``cache/`` holds committed quick-preset records (read-only: current ones are copied into the
results directory), so figures redraw without training.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import (
    fig1_rates,
    fig2_dimension,
    fig3_bounds,
    fig4_ferbach_fig2,
    fig5_barrier_width,
    fig6_disentangle,
    fig7_predicted_vs_measured,
    fig8_verdicts,
)

FIGURES = {
    i: m
    for i, m in enumerate(
        (
            fig1_rates,
            fig2_dimension,
            fig3_bounds,
            fig4_ferbach_fig2,
            fig5_barrier_width,
            fig6_disentangle,
            fig7_predicted_vs_measured,
            fig8_verdicts,
        ),
        start=1,
    )
}
CACHE = Path(__file__).resolve().parent / "cache"

__all__ = ["FIGURES", "CACHE", "draw_all", "figure_numbers"]


def figure_numbers(only=None) -> list[int]:
    """The figure numbers ``only`` asks for (default: all), or ValueError naming the unknown ones."""
    numbers = sorted(FIGURES) if not only else list(only)
    unknown = [n for n in numbers if n not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure number(s) {unknown}; choose from {sorted(FIGURES)}")
    return numbers


def _compute(preset: str, results_dir, numbers, sweep_options) -> None:
    """Every configuration the selected figures (and, with all of them, the report) need that has no current
    record, in one pool of workers (:func:`lmctheory.runs.run_sweeps`), before anything is drawn."""
    from lmctheory.runs import run_sweeps
    from lmctheory_paper.validation import EXPERIMENTS
    from lmctheory_paper.validation.report import experiment_sweep

    fallback = sweep_options.get("fallback_dirs", ())
    names = (
        list(EXPERIMENTS)
        if set(numbers) == set(FIGURES)
        else list(dict.fromkeys(e for n in numbers for e in FIGURES[n].USES))
    )
    sweeps = [experiment_sweep(EXPERIMENTS[e], preset, results_dir, fallback_dirs=fallback) for e in names]
    if 2 in numbers:
        sweeps.append(fig2_dimension.sweep(preset, results_dir, fallback))
    options = {k: v for k, v in sweep_options.items() if k != "fallback_dirs"}
    from ._common import RUNS

    for sweep, result in zip(sweeps, run_sweeps(sweeps, label="figures", **options), strict=True):
        RUNS.append((Path(sweep.results_dir).name.rsplit("-", 1)[0], result.ran, result.skipped))


def draw_all(
    preset: str = "quick",
    results_dir=None,
    out_dir="lmctheory-figures",
    only=None,
    fallback_dirs=(CACHE,),
    **sweep_options,
) -> dict:
    """Draw the figures ``only`` (numbers; default all) and write ``out_dir/REPORT.md``.

    Records are read from (and missing or stale ones computed into) ``results_dir`` (default
    ``out_dir/results``); current records found in ``fallback_dirs`` (default: the records shipped
    with lmctheory, read-only) are copied there instead of being computed. Other keywords go to
    :func:`lmctheory.runs.run_sweep` (``n_jobs``, ``cached_only``, ...).
    """
    from lmctheory.plotting import style_context

    from ._common import COLORS
    from .report import write

    numbers = figure_numbers(only)
    out = Path(out_dir)
    results_dir = out / "results" if results_dir is None else Path(results_dir)
    sweep_options["fallback_dirs"] = [Path(d) for d in fallback_dirs]
    out.mkdir(parents=True, exist_ok=True)
    _compute(preset, results_dir, numbers, sweep_options)
    sweep_options.pop("prune", None)  # only the compute step, which sees every configuration, may prune
    drawn = {}
    for n in numbers:
        if sweep_options.get("progress"):
            print(f"[figure {n}/{len(FIGURES)}] {FIGURES[n].NAME}", file=sys.stderr, flush=True)
        with style_context(COLORS):
            drawn[n] = [str(p) for p in FIGURES[n].draw(preset, results_dir, out, **sweep_options)]
    report = write(
        preset,
        results_dir,
        out,
        {n: FIGURES[n] for n in numbers},
        complete=set(numbers) == set(FIGURES),
        **sweep_options,
    )
    return {"figures": drawn, "report": str(report)}
