"""Figure 1 — empirical-measure rates: E W_p vs N (log-log) for several d, FG slopes, explicit bound.

Data: the ``rates`` validation experiment (two-sample W_p of uniform laws on [0, 1]^d). Solid: mean
over seeds of the Monte-Carlo mean, band: ± std over seeds; dashed: the Fournier–Guillin slope
(-1/d for d > 2p, -1/(2p) below) anchored at the first point; dotted: the explicit two-sample bound
on E W_p^p raised to 1/p (a bound on E W_p by Jensen), capped at the cube's diameter sqrt(d) (which
bounds every W_p: above it the explicit bound says nothing).
"""

from __future__ import annotations

import numpy as np

from lmctheory.rates import fg_explicit_bound_w, make_law

from ._common import band, decorate, group, records, save, subplots

NAME = "fig1_rates"
TITLE = "Empirical-measure rates: E W_p vs N with the Fournier–Guillin slopes and the explicit bound"
USES = ("rates",)  # the validation experiments whose records it draws


def draw(preset: str, results_dir, out_dir, **sweep_options):
    recs = records("rates", preset, results_dir, **sweep_options)
    fig, axes = subplots(1, 2)
    for ax, p in zip(axes[0], (1, 2), strict=True):
        for (law, d, k), res in group([r for r in recs if r["config"]["p"] == p], "law", "d", "k").items():
            if law != "uniform":
                continue
            ns = np.asarray(res[0]["curve"]["ns"], dtype=float)
            means = [x["curve"]["mean"] for x in res]
            line = band(ax, ns, means, label=f"d = {d} (slope {np.mean([x['slope'] for x in res]):.2f})")
            anchor = np.mean(means, 0)[0]
            ax.plot(
                ns, anchor * (ns / ns[0]) ** res[0]["predicted_slope"], "--", lw=0.9, color=line.get_color()
            )
            d_bound, radius = make_law(law, d, k=k).bound_geometry
            bound = fg_explicit_bound_w(ns.astype(int), d_bound, p, two_sample=True, radius=radius)
            diameter = 2 * radius * np.sqrt(d_bound)  # every W_p is at most the support's diameter
            ax.plot(ns, np.minimum(bound, diameter), ":", lw=0.9, color=line.get_color())
        decorate(
            ax,
            xlabel="N (points per cloud)",
            ylabel=f"E W_{p} (two-sample)",
            xscale="log",
            xbase=2,
            yscale="log",
            title=f"p = {p}: dashed FG slope, dotted min(explicit bound, diameter)",
            ncol=2,
        )
    return save(fig, out_dir, NAME)


if __name__ == "__main__":
    from .cli import script_main

    script_main(draw)
