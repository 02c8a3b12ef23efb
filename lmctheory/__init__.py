"""lmctheory: the theory of linear mode connectivity, computable and testable.

Modules (import the functions from them, e.g.
``from lmctheory.ot._exact import wasserstein``):

wasserstein  exact W_p between empirical measures, optimal matching, sliced W
rates        Fournier–Guillin rates, explicit bounds, Monte-Carlo rate curves, slope fits
laws         samplers (uniform cube, Gaussian, ball, subspace, discrete) with exact references
dimension    intrinsic-dimension estimators (scikit-learn API); layers: per-layer dimensions of MLPs
manifolds    point clouds of known intrinsic dimension
bounds       width bounds for LMC, symbolic (sympy) and explicit; towers: numbers beyond floats
provenance   self-describing JSON results, written atomically
cli          the ``lmctheory`` command
"""

try:  # written from git by setuptools-scm when the package is built or installed
    from ._version import __version__
except ImportError:  # pragma: no cover - a source tree that was never installed
    from importlib.metadata import PackageNotFoundError, version

    try:
        __version__ = version("lmctheory")
    except PackageNotFoundError:
        __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
