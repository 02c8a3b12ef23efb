"""lmctheory: the theory of linear mode connectivity, computable and testable.

Subpackages (each with its public names in ``__all__``; the modules inside are private):

ot         exact optimal transport: W_p, optimal matchings, certified assignment, sparse exact route
rates      Fournier–Guillin rates and bounds, Monte-Carlo rate curves and slope fits, laws to sample
dimension  intrinsic-dimension estimators (scikit-learn API), exact k-NN, manifolds of known dimension
bounds     width bounds for LMC, symbolic (sympy) and explicit; numbers beyond floating point
nn         models, data, training, operator sequences (needs the ``[nn]`` extra: PyTorch)
lmc        alignment, barriers along the path, renormalisation, certified barrier bounds (``[nn]``)
runs       sweeps with self-describing records, provenance, re-runs, thread policy
claims     theoretical predictions as checkable claims, with their verdicts
cli        the ``lmctheory`` command

The functions of the README are importable from the top level too (``from lmctheory import wasserstein``);
they are loaded on first use, so ``import lmctheory`` stays light and needs no torch.
"""

from __future__ import annotations

import importlib

try:  # written from git by setuptools-scm when the package is built or installed
    from ._version import __version__
except ImportError:  # pragma: no cover - a source tree that was never installed
    from importlib.metadata import PackageNotFoundError, version

    try:
        __version__ = version("lmctheory")
    except PackageNotFoundError:
        __version__ = "0.0.0+unknown"

#: name -> subpackage, for the names importable from the top level (loaded on first access)
_LAZY = {
    **dict.fromkeys(["wasserstein", "transport", "optimal_matching", "sliced_wasserstein"], "ot"),
    **dict.fromkeys(
        [
            "UniformCube",
            "Gaussian",
            "make_law",
            "fg_explicit_bound",
            "predicted_slope",
            "rate_curve",
            "fit_rate",
        ],
        "rates",
    ),
    **dict.fromkeys(["MLE", "TwoNN", "PCADimension", "WassersteinDimension", "sample_manifold"], "dimension"),
    **dict.fromkeys(["ferbach_two_layer", "deep_recursion", "matching_error_upper_bound"], "bounds"),
    **dict.fromkeys(["MLP", "TrainConfig", "train", "train_pair", "load_dataset"], "nn"),
    **dict.fromkeys(
        [
            "match",
            "apply_permutation",
            "evaluate_path",
            "certified_barrier_bound",
            "certified_path_sup",
            "endpoint_barrier_bound",
        ],
        "lmc",
    ),
    **dict.fromkeys(["run_sweep", "run_sweeps", "rerun"], "runs"),
}
_SUBPACKAGES = ("ot", "rates", "dimension", "bounds", "nn", "lmc", "runs", "claims", "cli", "utils")

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    """Subpackages and the README's functions, imported on first access (PEP 562)."""
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBPACKAGES})
