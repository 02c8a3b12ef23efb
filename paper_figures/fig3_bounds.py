"""Figure 3 — width bounds for LMC: required width vs epsilon (log scales).

Left: log10 of the width that the two-layer bounds require for a barrier epsilon, m0 = 5: Ferbach
et al. (C/eps)^m0, Entezari et al. (C/eps)^(2 m0 + 4) (shapes, C = 1: constants not published), the
derived necessary width for a matching error epsilon (weights uniform in [-1, 1]^m0,
:func:`lmctheory.bounds.matching_lower_bound`) and the low-dimensional bound (k = 5 in a larger
ambient space). Right: the deep recursion m_l = (T/eps)^(m_{l-1}) for depth 1..3 as log10 log10
width on a log axis (towers of exponentials: depth 3 at eps = 0.01 is 10^10^(2e10)). No sweep:
closed forms.
"""

from __future__ import annotations

import numpy as np

from lmctheory.bounds import (
    deep_recursion,
    entezari_two_layer,
    ferbach_two_layer,
    low_dimensional,
    matching_lower_bound,
)

from ._common import decorate, save, subplots

NAME = "fig3_bounds"
TITLE = "Width bounds: required width vs epsilon (two-layer Ferbach vs Entezari, deep recursion, lower bound)"
USES = ()  # the validation experiments whose records it draws
M0 = 5


def draw(preset: str, results_dir, out_dir, **sweep_options):
    eps = np.logspace(-3, -0.05, 40)
    fig, axes = subplots(1, 2)
    ax = axes[0, 0]
    curves = {f"Ferbach two-layer (C/eps)^{M0}": ferbach_two_layer(M0),
              f"Entezari (C/eps)^{2 * M0 + 4}": entezari_two_layer(M0),
              "low-dimensional, k = 5 (C/eps)^5": low_dimensional(5, 1e-3, m0=20),
              f"necessary (derived), uniform [-1, 1]^{M0}": matching_lower_bound(M0)}
    for label, bound in curves.items():
        ax.plot(eps, [bound.solve_width(e).log10_float() for e in eps], label=label)
    decorate(ax, xlabel="epsilon (barrier / matching error)", ylabel="log10 required width",
             title=f"two layers, m0 = {M0}", xscale="log")
    ax = axes[0, 1]
    small = eps[eps <= 0.1]
    for depth in (1, 2, 3):
        ax.plot(small, [deep_recursion(M0, depth).solve_width(e).log10().log10_float() for e in small],
                label=f"deep recursion, depth {depth}")
    decorate(ax, xlabel="epsilon (barrier)", ylabel="log10 log10 required width (log scale)",
             title="deep recursion m_l = (T/eps)^(m_{l-1})", xscale="log", yscale="log")
    return save(fig, out_dir, NAME)


if __name__ == "__main__":
    from .cli import script_main

    script_main(draw)
