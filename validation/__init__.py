"""Validation experiments: theoretical predictions next to the same quantities measured.

Installed as ``lmctheory_validation``. Each experiment module exposes ``NAME``, ``PRESETS``
(``"smoke"``, ``"quick"``, ``"full"``) and ``run(preset, results_dir, **sweep_options) -> list[Row]``;
``lmctheory validate`` runs them and writes the report (see :mod:`lmctheory_validation.report`).
"""

from . import rates

EXPERIMENTS = {rates.NAME: rates}

__all__ = ["EXPERIMENTS"]
