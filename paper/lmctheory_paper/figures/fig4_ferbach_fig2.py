"""Figure 4 — Ferbach et al. Fig. 2 analogue: LMC error and approximate dimension vs learning rate.

Data: the ``fig2`` validation experiment (MLP with 3 hidden layers, SGD momentum 0.9, warm-up +
cosine, independent pairs). Left: LMC error (test loss at t = 1/2) vs learning rate for no
alignment and the four matchers (mean ± std over pairs). Right: approximate dimension
(participation ratio) vs learning rate per hidden layer (line style) and matcher's matrix (colour):
W^T W for naive/full weight matching, W Sigma W^T for weighted, H^T H / n for activation matching.
One row per dataset. Learning rates at which a pair's endpoints never learned (test accuracy below
twice chance: the loss stays near ln 10) are shaded grey: the validation rows leave them out.
"""

from __future__ import annotations

import numpy as np

from lmctheory_paper.validation.fig2 import trained

from ._common import COLORS, band, decorate, records, save, subplots

NAME = "fig4_ferbach_fig2"
TITLE = "Ferbach et al. Fig. 2 analogue: LMC error and approximate dimension vs learning rate"
USES = ("fig2",)  # the validation experiments whose records it draws
MATCHERS = ("none", "naive", "full", "weighted", "activation")
LAYER_STYLES = ("-", "--", ":", "-.")


def _table(recs, lrs, get) -> np.ndarray:
    """pairs x learning rates of ``get(result)`` (pairs missing a rate are dropped)."""
    pairs = sorted({r["config"]["pair"] for r in recs})
    out = np.full((len(pairs), len(lrs)), np.nan)
    for r in recs:
        out[pairs.index(r["config"]["pair"]), lrs.index(r["config"]["lr"])] = get(r["result"])
    return out[~np.isnan(out).any(1)]


def draw(preset: str, results_dir, out_dir, **sweep_options):
    recs = [
        r
        for r in records("fig2", preset, results_dir, **sweep_options)
        if r["config"]["kind"] == "pair" and not any(r["result"]["diverged"])
    ]
    datas = sorted({r["config"]["data"] for r in recs})
    fig, axes = subplots(max(1, len(datas)), 2)
    for row, data in enumerate(datas):
        mine = [r for r in recs if r["config"]["data"] == data]
        lrs = sorted({r["config"]["lr"] for r in mine})

        def table(get, mine=mine, lrs=lrs):
            return _table(mine, lrs, get)

        untrained = sorted({r["config"]["lr"] for r in mine if not trained(r["result"])})
        ax = axes[row, 0]
        for color, m in zip(COLORS, MATCHERS, strict=False):
            band(ax, lrs, table(lambda x, m=m: x["lmc_error"][m]), label=m, color=color)
        for i, lr in enumerate(untrained):
            ax.axvspan(
                lr / 1.4,
                lr * 1.4,
                color="0.85",
                lw=0,
                zorder=0,
                label="endpoints not trained (< 2x chance accuracy)" if i == 0 else None,
            )
        decorate(
            ax,
            xlabel="learning rate",
            ylabel="test loss at t = 1/2",
            title=f"{data}: LMC error (test loss at t = 1/2)",
            xscale="log",
            fontsize=7,
        )
        ax = axes[row, 1]
        n_layers = len(mine[0]["result"]["dimension_layers"]["naive"])
        for color, m in zip(COLORS[1:], MATCHERS[1:], strict=False):
            if m == "full":  # same matrix (W^T W) as naive
                continue
            for layer in range(n_layers):
                vals = table(lambda x, m=m, layer=layer: x["dimension_layers"][m][layer])
                ax.plot(
                    lrs,
                    vals.mean(0),
                    LAYER_STYLES[layer % 4],
                    marker="o",
                    ms=3,
                    color=color,
                    label=f"{m}, layer {layer + 1}" if layer == 0 or m == "naive" else None,
                )
        decorate(
            ax,
            xlabel="learning rate",
            ylabel="participation ratio",
            xscale="log",
            yscale="log",
            title=f"{data}: approximate dimension per layer",
            fontsize=7,
        )
    return save(fig, out_dir, NAME)


if __name__ == "__main__":
    from .cli import script_main

    script_main(draw)
