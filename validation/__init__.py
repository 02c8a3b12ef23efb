"""Validation experiments: theoretical predictions next to the same quantities measured.

Installed as ``lmctheory_validation``. Each experiment module exposes ``NAME``, ``PRESETS``
(``"smoke"``, ``"quick"``, ``"full"``) and ``run(preset, results_dir, **sweep_options) -> list[Row]``;
``lmctheory validate`` runs them and writes the report (see :mod:`lmctheory_validation.report`).
"""

from . import rates, two_layer

EXPERIMENTS = {rates.NAME: rates, two_layer.NAME: two_layer}

__all__ = ["EXPERIMENTS"]
