"""Shared figure plumbing: one style, mean ± std bands, PNG + PDF output, experiment records."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from lmctheory.plotting import new_figure, save_figure

COLORS = ["#1b6ca8", "#d1495b", "#3f8f29", "#edae49", "#6a4c93", "#00798c", "#8c564b", "#444444"]


def subplots(nrows=1, ncols=1, *, width=5.0, height=3.6, **kw):
    """``(figure, axes)``, ``width`` x ``height`` inches per panel (no pyplot; the shared style comes from
    :func:`lmctheory.plotting.style_context`, which :func:`lmctheory_paper.figures.draw_all` wraps around each figure)."""
    return new_figure(nrows, ncols, figsize=(width * ncols, height * nrows), **kw)


def band(ax, x, values, *, label=None, color=None, marker="o", linestyle="-"):
    """Mean over axis 0 of ``values`` (seeds x points) with a mean ± std band."""
    arr = np.asarray(values, dtype=float)
    arr = arr[None] if arr.ndim == 1 else arr
    mean = arr.mean(0)
    std = arr.std(0, ddof=1) if arr.shape[0] > 1 else np.zeros_like(mean)
    (line,) = ax.plot(x, mean, marker=marker, ms=3.5, linestyle=linestyle, label=label, color=color)
    ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2, lw=0)
    return line


def decorate(
    ax,
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    xscale: str | None = None,
    yscale: str | None = None,
    xbase: int = 10,
    **legend_kw,
):
    """Labels, title, scales and (when there are labelled artists) the legend of one panel."""
    if xscale:
        ax.set_xscale(xscale, **({"base": xbase} if xscale == "log" else {}))
    if yscale:
        ax.set_yscale(yscale)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    legend(ax, **legend_kw)


def legend(ax, **kw):
    """A legend when the axes have labelled artists (empty panels stay quiet)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kw)


def save(fig, out_dir, name: str) -> list[Path]:
    """``<out_dir>/<name>.png`` (200 dpi) and ``.pdf``."""
    fig.tight_layout()
    return save_figure(fig, Path(out_dir) / f"{name}.png")


def records(experiment: str, preset: str, results_dir, **sweep_options) -> list[dict]:
    """Finished records of a validation experiment's preset; only missing configs are run."""
    from lmctheory_paper.validation import EXPERIMENTS
    from lmctheory_paper.validation.report import experiment_records

    res = experiment_records(EXPERIMENTS[experiment], preset, results_dir, **sweep_options)
    return [r for r in res.records if r.get("status") == "done"]


def figure_sweep(sweep, **sweep_options):
    """Run a figure's own :class:`lmctheory.runs.Sweep` (only what is missing)."""
    from lmctheory.runs import run_sweeps

    return run_sweeps([sweep], label="figures", **sweep_options)[0]


#: (sweep, configurations computed, configurations read from records) of draw_all's compute step
RUNS: list[tuple[str, int, int]] = []


def group(recs, *keys):
    """``{(config[k] for k in keys): [result, ...]}``."""
    out = defaultdict(list)
    for r in recs:
        out[tuple(r["config"][k] for k in keys)].append(r["result"])
    return dict(sorted(out.items(), key=lambda kv: str(kv[0])))
