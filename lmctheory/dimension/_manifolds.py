"""Point clouds with a known intrinsic dimension, for testing dimension estimators.

Each generator returns an ``(n, D)`` array sampled from a d-dimensional
manifold placed in R^D by a random rotation (from ``rng``), so estimators
cannot rely on axis alignment. ``MANIFOLDS`` maps a name to
``(generator, intrinsic_dimension(d))``.
"""

from __future__ import annotations

import numpy as np

from ..rates import UniformBall
from ..utils.validation import as_rng, check_positive_int

__all__ = ["MANIFOLDS", "BENCHMARK_SUITE", "sample_manifold", "benchmark_suite", "embed"]


def embed(Z: np.ndarray, D: int, rng: np.random.Generator) -> np.ndarray:
    """Place the rows of Z (n, k) in R^D (D >= k) by a random orthonormal frame.

    Distances are preserved exactly up to rounding, so intrinsic dimension and neighbour
    structure are those of Z.

    Parameters
    ----------
    Z : ndarray, shape (n, k)
        The points.
    D : int
        Ambient dimension, >= k.
    rng : numpy.random.Generator
        Randomness of the frame.

    Returns
    -------
    ndarray, shape (n, D)
        The embedded points.

    Raises
    ------
    ValueError
        D < k.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.dimension import embed
    >>> Z = np.array([[0.0, 0.0], [3.0, 4.0]])
    >>> X = embed(Z, 5, np.random.default_rng(0))
    >>> X.shape, round(float(np.linalg.norm(X[1] - X[0])), 12)
    ((2, 5), 5.0)
    """
    k = Z.shape[1]
    if D < k:
        raise ValueError(f"ambient dimension D={D} is smaller than the embedding dimension {k}")
    frame, _ = np.linalg.qr(rng.standard_normal((D, k)))
    return Z @ frame.T


def _sphere(n, d, rng):  # S^d in R^{d+1}
    z = rng.standard_normal((n, d + 1))
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def _ball(n, d, rng):
    return UniformBall(d).sample(n, rng)


def _affine(n, d, rng):  # unit cube of a d-dim affine subspace (offset added after embedding)
    return rng.uniform(size=(n, d))


def _gaussian(n, d, rng):
    return rng.standard_normal((n, d))


def _swiss_roll(n, d, rng):  # d = 2 in R^3
    t = 1.5 * np.pi * (1 + 2 * rng.uniform(size=n))
    h = 21 * rng.uniform(size=n)
    return np.column_stack([t * np.cos(t), h, t * np.sin(t)])


def _helix(n, d, rng):  # d = 1 in R^3
    t = 4 * np.pi * rng.uniform(size=n)
    return np.column_stack([np.cos(t), np.sin(t), 0.2 * t])


def _curve(n, d, rng):  # d = 1: a closed smooth curve in R^6 with three frequencies
    t = 2 * np.pi * rng.uniform(size=n)
    return np.column_stack([np.cos(k * t) / k for k in (1, 2, 3)] + [np.sin(k * t) / k for k in (1, 2, 3)])


#: name -> (generator(n, d, rng) -> (n, k) array, fixed dimension or None when d is free)
MANIFOLDS = {
    "sphere": (_sphere, None),
    "ball": (_ball, None),
    "affine": (_affine, None),
    "gaussian": (_gaussian, None),
    "swiss-roll": (_swiss_roll, 2),
    "helix": (_helix, 1),
    "curve": (_curve, 1),
}


def sample_manifold(name: str, n: int, D: int, d: int | None = None, seed=None) -> tuple[np.ndarray, int]:
    """Sample n points of a named manifold of dimension d, randomly rotated into R^D.

    Parameters
    ----------
    name : str
        One of ``MANIFOLDS``: sphere, ball, affine, gaussian (free dimension), swiss-roll (2),
        helix and curve (1).
    n : int
        Number of points.
    D : int
        Ambient dimension.
    d : int, optional
        Required for the families of free dimension; must be omitted (or equal the fixed value)
        for the others.
    seed : int, SeedSequence, Generator or None
        Randomness.

    Returns
    -------
    X : ndarray, shape (n, D)
        The points.
    d : int
        The true intrinsic dimension.

    Raises
    ------
    ValueError
        An unknown name, a missing or wrong d, or D too small for the manifold.

    Examples
    --------
    >>> from lmctheory.dimension import sample_manifold
    >>> X, d = sample_manifold("swiss-roll", 100, D=8, seed=0)
    >>> X.shape, d
    ((100, 8), 2)
    """
    if name not in MANIFOLDS:
        raise ValueError(f"unknown manifold {name!r}; choose one of {', '.join(MANIFOLDS)}")
    n = check_positive_int(n, "n")
    D = check_positive_int(D, "D")
    gen, fixed = MANIFOLDS[name]
    if fixed is None:
        if d is None:
            raise ValueError(f"manifold {name!r} needs its dimension d")
        d = check_positive_int(d, "d")
    elif d is not None and d != fixed:
        raise ValueError(f"manifold {name!r} has dimension {fixed}, got d={d}")
    else:
        d = fixed
    from ..ot import check_memory

    check_memory(
        8.0 * (n * (D + d) + D * D), f"sampling {n} points of a {name} in R^{D}", "Use smaller n or D."
    )
    rng = as_rng(seed)
    X = embed(gen(n, d, rng), D, rng)
    if name == "affine":
        X = X + rng.standard_normal(D)
    return X, d


#: (manifold, d) pairs of the built-in truth-vs-estimate suite (``lmctheory dimension --benchmark``)
BENCHMARK_SUITE = (
    ("sphere", 2),
    ("sphere", 4),
    ("ball", 3),
    ("ball", 5),
    ("affine", 3),
    ("affine", 6),
    ("gaussian", 5),
    ("swiss-roll", None),
    ("helix", None),
    ("curve", None),
)


def benchmark_suite(ns=(500, 2000), Ds=(10, 50), seed=0):
    """Yield ``(name, d, n, D, X)`` for every suite manifold, size and ambient dimension.

    The suite (``BENCHMARK_SUITE``) is the set of manifolds the estimator benchmarks and the
    accuracy tests use; seeds derive from ``seed`` and the manifold, size and ambient dimension.

    Parameters
    ----------
    ns : sequence of int
        Sizes.
    Ds : sequence of int
        Ambient dimensions.
    seed : int
        Root seed.

    Returns
    -------
    generator of (str, int, int, int, ndarray)
        Name, true dimension, n, D and the points.

    Raises
    ------
    ValueError
        An ambient dimension too small for a suite manifold.

    Examples
    --------
    >>> from lmctheory.dimension import benchmark_suite
    >>> name, d, n, D, X = next(benchmark_suite(ns=(100,), Ds=(10,)))
    >>> name, d, X.shape
    ('sphere', 2, (100, 10))
    """
    for i, (name, d) in enumerate(BENCHMARK_SUITE):
        for n in ns:
            for D in Ds:
                X, truth = sample_manifold(name, n, D, d, seed=np.random.SeedSequence([seed, i, n, D]))
                yield name, truth, n, D, X
