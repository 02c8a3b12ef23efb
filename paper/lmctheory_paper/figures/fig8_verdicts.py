"""Figure 8 — every prediction's verdict and how far it is from changing.

One point per decided or undecided prediction row of the validation experiments: x is the p-value of the
claim (the larger TOST p-value for an equivalence; the one-sided p-value for a direction or a trend), y the
experiment. The rule says "holds" at p < 5 % (dashed line). Rows whose verdict would change at half or twice
that level (either p-value in [2.5 %, 10 %], :func:`lmctheory.claims.verdicts.borderline`) sit in the shaded band
and are ringed: those are the *borderline* rows of the report and the README. Filled circles hold, crosses
fail, hollow circles are inconclusive.
"""

from __future__ import annotations

import numpy as np

from ._common import decorate, records, save, subplots

NAME = "fig8_verdicts"
TITLE = "Every prediction's verdict, its p-value and the borderline band"
USES = ("rates", "rates_large", "two_layer", "low_dim", "depth", "mean_field", "fig2", "disentangle")
FLOOR = 1e-6  # p-values below are drawn at the floor (the axis says so)


def prediction_rows(preset: str, results_dir, **sweep_options) -> dict[str, list]:
    """experiment -> its prediction rows (from the same records as the report)."""
    from lmctheory_paper.validation import EXPERIMENTS

    return {
        name: [
            r
            for r in EXPERIMENTS[name].rows_from(records(name, preset, results_dir, **sweep_options))
            if r.kind == "prediction"
        ]
        for name in USES
    }


def draw(preset: str, results_dir, out_dir, **sweep_options):
    rows = {name: rs for name, rs in prediction_rows(preset, results_dir, **sweep_options).items() if rs}
    fig, axes = subplots(1, 1, width=6.4, height=0.42 * len(rows) + 1.4)
    ax = axes[0, 0]
    ax.axvspan(0.025, 0.10, color="0.88", zorder=0, label="borderline: p in [2.5 %, 10 %]")
    ax.axvline(0.05, color="k", ls="--", lw=0.8, label="5 % level")
    style = {
        "holds": {"marker": "o", "facecolors": "tab:green", "edgecolors": "tab:green"},
        "fails": {"marker": "x", "c": "tab:red"},
        "inconclusive": {"marker": "o", "facecolors": "none", "edgecolors": "tab:blue"},
    }
    jitter = np.random.default_rng(0)
    seen = set()
    for y, rs in enumerate(rows.values()):
        for r in rs:
            p = (r.statistic or {}).get("p_value")
            if p is None:
                continue
            x = max(float(p), FLOOR)
            yy = y + jitter.uniform(-0.25, 0.25)
            label = None if r.verdict in seen else r.verdict
            seen.add(r.verdict)
            ax.scatter([x], [yy], s=18, label=label, zorder=3, **style[r.verdict])
            if r.borderline:
                ax.scatter([x], [yy], s=70, facecolors="none", edgecolors="k", linewidths=0.9, zorder=2)
    counts = {name: sum(r.borderline for r in rs) for name, rs in rows.items()}
    ax.set_yticks(
        range(len(rows)), [f"{name} ({len(rows[name])}, {counts[name]} borderline)" for name in rows]
    )
    ax.set_ylim(-0.6, len(rows) - 0.4)
    decorate(
        ax,
        xlabel=f"p-value of the claim (values below {FLOOR:g} drawn at it)",
        ylabel="",
        xscale="log",
        title="prediction rows: holds at p < 5 %; ringed: borderline",
        fontsize=7,
        loc="lower right",
    )
    ax.set_xlim(FLOOR / 2, 1.5)
    return save(fig, out_dir, NAME)


if __name__ == "__main__":
    from .cli import script_main

    script_main(draw)
