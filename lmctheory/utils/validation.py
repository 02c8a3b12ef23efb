"""Input validation at the public boundary (shared by every public module).

Public functions call these helpers once; inner code trusts its inputs.
Every error names the offending argument and says how to fix it.
"""

from __future__ import annotations

import numbers

import numpy as np


def to_numpy(value, name: str) -> np.ndarray:
    """Return ``value`` as a NumPy array, accepting torch tensors on any device."""
    if value is None:
        raise ValueError(f"{name} is None; pass an array of points")
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # torch.Tensor, any device
        value = value.detach().cpu()
        try:
            value = value.numpy()
        except TypeError:  # bfloat16 and other dtypes NumPy lacks: widened exactly
            value = value.double().numpy()
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise TypeError(f"{name} could not be converted to an array: {exc}") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    return arr


def as_points(value, name: str, *, min_points: int = 1) -> np.ndarray:
    """Validate a point cloud: float64 array of shape (n, d), finite, n >= min_points.

    A 1-D array of length n is read as n points in dimension d = 1.
    """
    arr = to_numpy(value, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 1-D array (points on the line) or a 2-D array of shape "
            f"(n_points, dim); got shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); need at least {min_points} point(s)")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has dimension 0 (shape {arr.shape}); need at least one coordinate")
    if arr.shape[0] < min_points:
        raise ValueError(f"{name} has {arr.shape[0]} point(s); need at least {min_points}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    check_finite(arr, name)
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise if ``arr`` holds NaN or +-inf, saying how many and where the first is."""
    finite = np.isfinite(arr)
    if not finite.all():
        bad = int(arr.size - finite.sum())
        first = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"{name} contains {bad} non-finite value(s) (NaN or inf), first at index {first}; "
            "remove or impute them"
        )


def check_same_dim(x: np.ndarray, y: np.ndarray, xname: str = "x", yname: str = "y") -> None:
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"{xname} and {yname} must live in the same dimension: {xname} has d={x.shape[1]}, "
            f"{yname} has d={y.shape[1]}"
        )


def check_p(p) -> float:
    """The Wasserstein order: a finite real p >= 1."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"p must be a real number >= 1, got {p!r}")
    p = float(p)
    if not np.isfinite(p) or p < 1.0:
        raise ValueError(f"p must be a finite real number >= 1 (W_p is a metric only for p >= 1), got {p}")
    return p


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def check_positive_real(value, name: str, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite real number {bound}, got {value}")
    return value


WEIGHT_SUM_ATOL = 1e-6


def as_weights(value, n: int, name: str) -> np.ndarray | None:
    """Validate probability weights of length n (None means uniform).

    Weights must be finite, non-negative and sum to one within ``WEIGHT_SUM_ATOL``;
    they are then renormalised exactly so that both marginals carry equal mass.
    """
    if value is None:
        return None
    w = to_numpy(value, name).astype(np.float64, copy=False)
    if w.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of weights, got shape {w.shape}")
    if w.shape[0] != n:
        raise ValueError(f"{name} has {w.shape[0]} weights but there are {n} points")
    check_finite(w, name)
    if (w < 0).any():
        raise ValueError(f"{name} contains negative weights (min {w.min():g}); weights must be >= 0")
    total = float(w.sum())
    if abs(total - 1.0) > WEIGHT_SUM_ATOL:
        raise ValueError(
            f"{name} must sum to 1 (probability weights), got sum {total:.12g}; "
            f"normalise with {name} / {name}.sum()"
        )
    return w / total


def _check_seed(seed, name: str) -> None:
    if isinstance(seed, bool) or not (
        seed is None or isinstance(seed, (numbers.Integral, np.random.SeedSequence, np.random.Generator))
    ):
        raise TypeError(
            f"{name} must be None, a non-negative int, a numpy SeedSequence or a numpy Generator, got {seed!r}"
        )
    if isinstance(seed, numbers.Integral) and int(seed) < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed}")


def as_rng(seed, name: str = "seed") -> np.random.Generator:
    """The one seed helper of lmctheory (as scikit-learn's ``check_random_state``): a NumPy Generator from
    None (fresh randomness), a non-negative int, a SeedSequence or a Generator (returned as is).

    Parameters
    ----------
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        The seed.
    name : str
        The argument's name, for the error.

    Returns
    -------
    numpy.random.Generator
        The generator.

    Raises
    ------
    TypeError, ValueError
        Any other type (a bool, a float, a legacy ``RandomState``), a negative int.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.utils.validation import as_rng
    >>> rng = np.random.default_rng(0)
    >>> as_rng(rng) is rng, int(as_rng(0).integers(10)) == int(np.random.default_rng(0).integers(10))
    (True, True)
    """
    _check_seed(seed, name)
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def as_seed_sequence(seed, name: str = "seed") -> np.random.SeedSequence:
    """A SeedSequence to spawn independent streams from (one per replicate or worker), from the same
    seeds as :func:`as_rng`: None, an int and a SeedSequence give ``SeedSequence(seed)``, a Generator gives
    a SeedSequence drawn from it (which advances it).

    Parameters
    ----------
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        The seed.
    name : str
        The argument's name, for the error.

    Returns
    -------
    numpy.random.SeedSequence
        The root of the streams.

    Raises
    ------
    TypeError, ValueError
        As :func:`as_rng`.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.utils.validation import as_seed_sequence
    >>> as_seed_sequence(5).entropy, len(as_seed_sequence(np.random.default_rng(0)).spawn(3))
    (5, 3)
    """
    _check_seed(seed, name)
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**63, size=4).tolist())
    return np.random.SeedSequence(None if seed is None else int(seed))
