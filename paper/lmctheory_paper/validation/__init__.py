"""Validation experiments: theoretical predictions next to the same quantities measured.

Installed as ``lmctheory_paper.validation``. Each experiment module exposes ``NAME``, ``PRESETS``
(``"smoke"``, ``"quick"``, ``"full"``) and ``run(preset, results_dir, **sweep_options) -> list[Row]``;
``lmctheory validate`` runs them and writes the report (see :mod:`lmctheory_paper.validation.report`).
"""

from . import depth, disentangle, fig2, low_dim, mean_field, rates, rates_large, two_layer

EXPERIMENTS = {
    m.NAME: m for m in (rates, rates_large, two_layer, low_dim, depth, mean_field, fig2, disentangle)
}

__all__ = ["EXPERIMENTS"]
