"""Figure 7 — predicted vs measured: every (certified bound, measured value) pair, log-log, y = x.

Pairs from the validation experiments. Baselines (:ref:`theory-certified-bound`): two-layer nets at
initialisation (the barrier over [0, 1] vs the certificate from the matching error, per width), depth
(loss barrier vs certified bound on the grid, and output defect at t = 1/2 vs its certified bound, per
depth), trained mean-field nets (squared-loss barrier vs certified bound on the grid, per width). The
endpoint bound (:ref:`theory-endpoint-bound`) for the two-layer and mean-field nets, against the
barrier over [0, 1] (the largest value attained, located by the certified enclosure): the closer to
y = x, the tighter. Every point must lie below y = x (a point above is a bug).
Measured values of exactly 0 (a path below its chord) cannot sit on log axes: they are drawn at
the bottom edge with a triangle marker.
"""

from __future__ import annotations

import numpy as np

from ._common import COLORS, decorate, records, save, subplots

NAME = "fig7_predicted_vs_measured"
TITLE = "Predicted (certified bound) vs measured, every pair from the validation experiments"
USES = ("two_layer", "depth", "mean_field")  # the validation experiments whose records it draws


def pairs(preset: str, results_dir, **sweep_options) -> dict[str, tuple[list[float], list[float]]]:
    """label -> (bounds, measured)."""
    # (label, experiment, key of the bound, key of the measured value), one point per stored pair of values
    sources = (
        (
            "baseline: two-layer at init, certificate from the matching error",
            "two_layer",
            "certificate",
            "barrier_attained",
        ),
        ("baseline: depth, loss barrier (11-point grid)", "depth", "bound", "barrier"),
        ("baseline: depth, output defect at t = 1/2", "depth", "defect_bound", "defect_absolute"),
        ("baseline: trained mean-field, MSE (11-point grid)", "mean_field", "bound", "barrier_grid"),
        ("endpoint bound: two-layer at init", "two_layer", "endpoint_bound", "barrier_attained"),
        ("endpoint bound: trained mean-field, MSE", "mean_field", "endpoint_bound", "barrier_attained"),
    )
    results = {
        name: records(name, preset, results_dir, **sweep_options)
        for name in ("two_layer", "depth", "mean_field")
    }
    return {
        label: (
            [v for r in results[name] for v in r["result"][bound]],
            [v for r in results[name] for v in r["result"][measured]],
        )
        for label, name, bound, measured in sources
    }


def draw(preset: str, results_dir, out_dir, **sweep_options):
    data = pairs(preset, results_dir, **sweep_options)
    fig, axes = subplots(1, 1, width=6.4, height=5.0)
    ax = axes[0, 0]
    positive = [v for b, m in data.values() for v in (*b, *m) if v > 0]
    lo, hi = min(positive) / 3, max(positive) * 3
    for color, (label, (bounds, measured)) in zip(COLORS, data.items(), strict=False):
        b, m = np.asarray(bounds), np.asarray(measured)
        ok = m > 0
        above = int(np.sum(m > b))
        marker = "o" if label.startswith("baseline") else "D"
        ax.scatter(
            b[ok],
            m[ok],
            s=12,
            marker=marker,
            color=color,
            label=f"{label} ({len(b)} pairs, {above} above y = x)",
        )
        if (~ok).any():
            ax.scatter(b[~ok], np.full((~ok).sum(), lo), s=14, marker="v", color=color)
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.9, label="y = x")
    decorate(
        ax,
        xlabel="certified bound (predicted)",
        ylabel="measured",
        xscale="log",
        yscale="log",
        title="every point must lie below y = x (triangles: measured 0)",
        fontsize=7,
    )
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo / 1.5, hi)
    return save(fig, out_dir, NAME)


if __name__ == "__main__":
    from .cli import script_main

    script_main(draw)
