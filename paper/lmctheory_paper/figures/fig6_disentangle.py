"""Figure 6 — disentangling LMC: error along the path for each ingredient, and barrier summaries.

Data: the ``disentangle`` validation experiment (same initialisation, different SGD noise, no
alignment). One panel per ingredient (depth, leaky-ReLU slope, architecture, optimizer, dataset):
test error along the path minus the mean endpoint error (so datasets of different difficulty
compare), mean over seeds. Last panel: error barrier (max_minus_mean) per variant, mean ± std over
seeds, with the LMC threshold 0.02.
"""

from __future__ import annotations

import numpy as np

from ._common import decorate, records, save, subplots

NAME = "fig6_disentangle"
TITLE = "Disentangling LMC: excess test error along the path per ingredient, and error barriers"
USES = ("disentangle",)  # the validation experiments whose records it draws
RUNGS = ("depth", "leaky", "architecture", "optimizer", "dataset")


def draw(preset: str, results_dir, out_dir, **sweep_options):
    from lmctheory_paper.validation.disentangle import LMC_THRESHOLD, _by_rung

    rungs = _by_rung(records("disentangle", preset, results_dir, **sweep_options))
    fig, axes = subplots(2, 3, width=4.2)
    panels = list(axes.flat)
    summary = []
    for ax, rung in zip(panels, RUNGS, strict=False):
        for label, items in rungs.get(rung, {}).items():
            curves = []
            for _, res in items:
                err = np.asarray(res["path"]["values"]["error"])
                curves.append(err - (err[0] + err[-1]) / 2)
            ts = items[0][1]["path"]["ts"]
            ax.plot(ts, np.mean(curves, 0), marker="o", ms=2.5, label=label[:28])
            summary.append((f"{rung}: {label}"[:34], [res["error_barrier"] for _, res in items]))
        decorate(
            ax,
            xlabel="t (path from A to B)",
            ylabel="test error - mean endpoint error",
            title=rung,
            fontsize=6.5,
        )
        if not rungs.get(rung):
            ax.text(0.5, 0.5, "not in this preset", ha="center", va="center", transform=ax.transAxes)
    for label, items in rungs.get("logistic", {}).items():
        summary.insert(0, (f"logistic: {label}", [res["error_barrier"] for _, res in items]))
    ax = panels[-1]
    y = np.arange(len(summary))
    means = [np.mean(v) for _, v in summary]
    stds = [np.std(v, ddof=1) if len(v) > 1 else 0.0 for _, v in summary]
    ax.barh(y, means, xerr=stds, height=0.7, color="#1b6ca8", alpha=0.8)
    ax.axvline(LMC_THRESHOLD, color="#d1495b", ls="--", lw=0.9, label="LMC threshold 0.02")
    ax.set_yticks(y, [s for s, _ in summary], fontsize=6)
    ax.invert_yaxis()
    decorate(
        ax,
        xlabel="error barrier (max_minus_mean)",
        ylabel="variant",
        title="error barriers, mean ± std over seeds",
        fontsize=7,
    )
    return save(fig, out_dir, NAME)


if __name__ == "__main__":
    from .cli import script_main

    script_main(draw)
