"""Figure 5 — two-layer nets at initialisation: matching error, output gap and barrier vs width.

Data: the ``two_layer`` validation experiment (weights uniform in [-1, 1]^m0, output weights
matched jointly, D = m0 + 1). Left: matching error W_2 vs width with the predicted slope -1/D
(dashed). Middle: mean output gap at t = 1/2 with the mean-field averaging prediction -1/2 - 2/D
(dashed). Right: the loss barrier above the chord over every t in [0, 1] (certified upper end of its
enclosure, :ref:`theory-certified-sup`), the endpoint bound (:ref:`theory-endpoint-bound`) and the
baseline certificate from the matching error (:ref:`theory-certified-bound`), same widths. Bands: ±
std over seeds.
"""

from __future__ import annotations

import numpy as np

from ._common import band, decorate, group, records, save, subplots

NAME = "fig5_barrier_width"
TITLE = (
    "Two-layer nets at initialisation: matching error, output gap and barrier vs width, with predicted slopes"
)
USES = ("two_layer",)  # the validation experiments whose records it draws


def draw(preset: str, results_dir, out_dir, **sweep_options):
    uniform = [
        r
        for r in records("two_layer", preset, results_dir, **sweep_options)
        if r["config"]["law"] == "uniform"
    ]
    joint = [r for r in uniform if r["config"]["joint"]]
    recs = joint or uniform  # presets without joint matching: incoming weights only (D = m0)
    fig, axes = subplots(1, 3, width=4.2)
    for (m0, joint), res in group(recs, "m0", "joint").items():
        widths = np.asarray(next(r for r in recs if r["config"]["m0"] == m0)["config"]["widths"], dtype=float)
        dim = m0 + int(joint)
        for ax, key, slope in (
            (axes[0, 0], "w2", -1 / dim),
            (axes[0, 1], "gap", -0.5 - (2 if joint else 1) / dim),
        ):
            vals = [x[key] for x in res]
            line = band(ax, widths, vals, label=f"m0 = {m0} (D = {dim})")
            ax.plot(
                widths,
                np.mean(vals, 0)[0] * (widths / widths[0]) ** slope,
                "--",
                lw=0.9,
                color=line.get_color(),
            )
        line = band(axes[0, 2], widths, [x["barrier"] for x in res], label=f"m0 = {m0}")
        for key, style, marker in (("endpoint_bound", "--", "D"), ("certificate", ":", "s")):
            band(
                axes[0, 2],
                widths,
                [x[key] for x in res],
                color=line.get_color(),
                linestyle=style,
                marker=marker,
            )
    titles = (
        "matching error (dashed: -1/D)",
        "output gap at t = 1/2 (dashed: -1/2 - 2/D)",
        "barrier over [0, 1] (solid), endpoint bound (dashed),\nbaseline certificate (dotted)",
    )
    ylabels = ("W_2 between neuron clouds", "E|f_1/2 - (f_A + f_B)/2|", "loss barrier")
    for ax, title, ylabel in zip(axes[0], titles, ylabels, strict=True):
        decorate(ax, xlabel="width N", ylabel=ylabel, title=title, xscale="log", xbase=2, yscale="log")
    return save(fig, out_dir, NAME)


if __name__ == "__main__":
    from .cli import script_main

    script_main(draw)
