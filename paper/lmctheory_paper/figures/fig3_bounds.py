"""Figure 3 — width bounds for LMC: required width vs epsilon (log scales).

Left: shapes stated by the papers, with their unpublished constants set to C = 1 (so only the slopes
in log-log mean anything): for inputs in R^10, Ferbach et al. (C/eps)^m0, Entezari et al.
(C/eps)^(2 m0 + 4), and the low-dimensional bound (C/eps)^k for weights within eta of a k = 5
dimensional subspace. Middle: rigorous widths with every constant derived, for incoming weights
uniform in [-1, 1]^5: the width at which the explicit bound on the expected matching error reaches
epsilon (sufficient), and the width below which the expected matching error must exceed epsilon
(necessary for the matching error, :func:`lmctheory.bounds.matching_lower_bound`). Right: the deep
recursion m_l = (T/eps)^(m_{l-1}) for depth 1..3 as log10 log10 width on a log axis (towers of
exponentials: depth 3 at eps = 0.01 is 10^10^(2e10)). No sweep: closed forms.
"""

from __future__ import annotations

import numpy as np

from lmctheory.bounds import (
    deep_recursion,
    entezari_two_layer,
    explicit_width,
    ferbach_two_layer,
    low_dimensional,
    matching_error_upper_bound,
    matching_lower_bound,
)

from ._common import decorate, save, subplots

NAME = "fig3_bounds"
TITLE = (
    "Width bounds: required width vs epsilon (shapes with C = 1, rigorous explicit widths, deep recursion)"
)
USES = ()  # the validation experiments whose records it draws
M0_SHAPE = 10  # ambient input dimension of the shape panel (the low-dimensional bound uses k = 5 in it)
M0_EXPLICIT = 5


def draw(preset: str, results_dir, out_dir, **sweep_options):
    eps = np.logspace(-3, -0.05, 40)
    fig, axes = subplots(1, 3, width=4.6)
    ax = axes[0, 0]
    shapes = {
        f"Ferbach (C/eps)^{M0_SHAPE}": (ferbach_two_layer(M0_SHAPE), "-", "o"),
        f"Entezari (C/eps)^{2 * M0_SHAPE + 4}": (entezari_two_layer(M0_SHAPE), "--", "s"),
        "low-dimensional, k = 5: (C/eps)^5": (low_dimensional(5, 1e-3, m0=M0_SHAPE), ":", "^"),
    }
    for label, (bound, style, marker) in shapes.items():
        ax.plot(
            eps,
            [bound.solve_width(e).log10_float() for e in eps],
            style,
            marker=marker,
            ms=3,
            markevery=6,
            label=label,
        )
    decorate(
        ax,
        xlabel="epsilon (barrier / matching error)",
        ylabel="log10 required width",
        title=f"shapes, C = 1 (m0 = {M0_SHAPE}): slopes only",
        xscale="log",
    )
    ax = axes[0, 1]
    small = eps[eps <= 1.0]
    upper = [
        explicit_width(e, lambda m: matching_error_upper_bound(m, M0_EXPLICIT, radius=1.0)).log10_float()
        for e in small
    ]
    lower = [
        matching_lower_bound(M0_EXPLICIT).solve_width(e, F=2.0**-M0_EXPLICIT).log10_float() for e in small
    ]
    ax.plot(small, upper, "-", marker="o", ms=3, markevery=6, label="sufficient: explicit E W_1 bound <= eps")
    ax.plot(small, lower, "--", marker="v", ms=3, markevery=6, label="necessary: matching lower bound")
    ax.fill_between(small, lower, upper, alpha=0.15, lw=0)
    decorate(
        ax,
        xlabel="epsilon (expected matching error)",
        ylabel="log10 required width",
        title=f"rigorous, weights uniform in [-1, 1]^{M0_EXPLICIT}",
        xscale="log",
    )
    ax = axes[0, 2]
    tiny = eps[eps <= 0.1]
    for depth in (1, 2, 3):
        ax.plot(
            tiny,
            [deep_recursion(M0_EXPLICIT, depth).solve_width(e).log10().log10_float() for e in tiny],
            label=f"deep recursion, depth {depth}",
        )
    decorate(
        ax,
        xlabel="epsilon (barrier)",
        ylabel="log10 log10 required width (log scale)",
        title="deep recursion m_l = (T/eps)^(m_{l-1})",
        xscale="log",
        yscale="log",
    )
    return save(fig, out_dir, NAME)


if __name__ == "__main__":
    from .cli import script_main

    script_main(draw)
