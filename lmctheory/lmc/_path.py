r"""Values along the linear path between two networks, and the named barriers defined on them.

Path convention: :math:`\theta(t) = (1 - t)\,\theta_A + t\,\theta_B`, t in [0, 1]
(t = 0 is model A, t = 1 is model B; align B to A first for LMC *modulo
permutation*). Networks built from linear operators (MLP, mean-field, logistic,
CNN, LCN) are evaluated for all t at once by :func:`lmctheory.nn.path_outputs`
(the first layer computed for A and B only, the rest batched over groups of t);
any other model through its interpolated parameters, stacked once, with
:func:`torch.func.functional_call` vectorised by :func:`torch.vmap` over t (chunked
so that the stacked outputs fit in memory) or one call per t (``strategy``).

Barrier definitions (:ref:`theory-barrier-definitions`), each a function of the grid ``ts`` and the
values along it (the grid must contain t = 0 and t = 1):

==================  ==========================================================  =====================
name                formula                                                     used by
==================  ==========================================================  =====================
above_chord         max_t [v(t) - ((1-t) v(0) + t v(1))]                        Entezari et al. 2022
max_minus_mean      max_t v(t) - (v(0) + v(1))/2                                Git Re-Basin, Frankle
midpoint_value      v(1/2)                                                      Ferbach's "LMC error"
midpoint_barrier    v(1/2) - (v(0) + v(1))/2                                    Entezari's code
normalized          max_minus_mean(error) / mean endpoint accuracy              Altıntaş et al.
==================  ==========================================================  =====================

``normalized`` is our reading of Altıntaş et al.'s performance-aware barrier
(their exact formula is not public): the error barrier divided by the mean
accuracy of the endpoints, so that datasets of different difficulty compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import torch

__all__ = [
    "PATH_CONVENTION",
    "DEFINITIONS",
    "PathResult",
    "barrier",
    "barriers",
    "default_grid",
    "CertifiedBound",
]

PATH_CONVENTION = "theta(t) = (1 - t) * theta_A + t * theta_B"

DEFINITIONS = {
    "above_chord": "max_t [v(t) - ((1-t) v(0) + t v(1))]",
    "max_minus_mean": "max_t v(t) - (v(0) + v(1))/2",
    "midpoint_value": "v(1/2)",
    "midpoint_barrier": "v(1/2) - (v(0) + v(1))/2",
    "normalized": "max_minus_mean of the error / ((accuracy(0) + accuracy(1))/2)",
}


def default_grid(points: int = 25) -> np.ndarray:
    """``points`` equally spaced t in [0, 1] (Git Re-Basin uses 25); odd counts include 1/2.

    Parameters
    ----------
    points : int, default 25
        At least 2.

    Returns
    -------
    ndarray
        The grid.

    Raises
    ------
    ValueError
        Fewer than 2 points.

    Examples
    --------
    >>> from lmctheory.lmc import default_grid
    >>> default_grid(5).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if points < 2:
        raise ValueError(f"a path grid needs at least 2 points, got {points}")
    return np.linspace(0.0, 1.0, points)


@dataclass
class PathResult:
    """Metrics along a path (returned by :func:`evaluate_path`): ``values[metric]`` has one entry per
    t in ``ts``; ``barrier(definition, metric="loss")`` applies :func:`barrier`.

    Parameters
    ----------
    ts : ndarray
        The grid of t.
    values : dict of str to ndarray
        ``"loss"`` and/or ``"error"`` per t.
    split : str
        Name of the data split.
    n_examples : int
        Examples evaluated.
    loss : str
        ``"cross_entropy"`` or ``"mse"``.
    info : dict
        Strategy and timings.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.lmc import PathResult
    >>> res = PathResult(np.array([0.0, 0.5, 1.0]), {"loss": np.array([0.2, 0.9, 0.4])})
    >>> round(res.barrier("above_chord"), 12)
    0.6
    """

    ts: np.ndarray
    values: dict[str, np.ndarray]
    split: str = "given"
    n_examples: int = 0
    loss: str = "cross_entropy"
    info: dict = field(default_factory=dict)

    def barrier(self, definition: str, metric: str = "loss") -> float:
        if definition == "normalized":
            return barrier(self.ts, self.values["error"], "normalized")
        if metric not in self.values:
            raise ValueError(f"metric {metric!r} was not evaluated; have {sorted(self.values)}")
        return barrier(self.ts, self.values[metric], definition)

    def to_dict(self) -> dict:
        out = {
            "path": PATH_CONVENTION,
            "ts": self.ts.tolist(),
            "split": self.split,
            "n_examples": self.n_examples,
            "loss_function": self.loss,
            "values": {k: v.tolist() for k, v in self.values.items()},
            "barriers": {m: barriers(self.ts, v, with_normalized=False) for m, v in self.values.items()},
            "definitions": DEFINITIONS,
            **self.info,
        }
        if "error" in self.values:
            out["barriers"]["normalized"] = self.barrier("normalized")
        return out


def _endpoints(ts: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    i0, i1 = np.nonzero(ts == 0.0)[0], np.nonzero(ts == 1.0)[0]
    if not len(i0) or not len(i1):
        raise ValueError("the grid ts must contain both end points t = 0 and t = 1")
    return float(values[i0[0]]), float(values[i1[0]])


def _midpoint(ts, values) -> float:
    idx = np.nonzero(np.isclose(ts, 0.5, rtol=0, atol=1e-12))[0]
    if not len(idx):
        raise ValueError("midpoint definitions need t = 1/2 in the grid (use an odd number of points)")
    return float(values[idx[0]])


def barrier(ts, values, definition: str = "above_chord") -> float:
    r"""One named barrier of ``values`` along the grid ``ts`` (:ref:`theory-barrier-definitions`).

    Definitions (``DEFINITIONS``): ``above_chord`` :math:`\max_t [v(t) - ((1-t)v(0) + t v(1))]`,
    ``max_minus_mean`` :math:`\max_t v(t) - (v(0)+v(1))/2`, ``midpoint_value`` :math:`v(1/2)`,
    ``midpoint_barrier`` :math:`v(1/2) - (v(0)+v(1))/2`, and ``normalized``: max_minus_mean of the
    error divided by the mean endpoint accuracy. Each is a maximum over the grid, not a supremum
    over [0, 1].

    Parameters
    ----------
    ts : array_like
        Grid of t, containing 0 and 1 (and 1/2 for the midpoint definitions).
    values : array_like
        The metric at each t (for ``"normalized"``: the *error*).
    definition : str, default "above_chord"
        One of ``DEFINITIONS``.

    Returns
    -------
    float
        The barrier.

    Raises
    ------
    ValueError
        Shapes that differ, non-finite values, a grid without its endpoints (or 1/2 when needed),
        an unknown definition, or zero endpoint accuracy for ``"normalized"``.

    Examples
    --------
    >>> from lmctheory.lmc import barrier
    >>> barrier([0.0, 0.5, 1.0], [0.2, 0.9, 0.4])                    # 0.9 - 0.3
    0.6
    >>> round(barrier([0.0, 0.5, 1.0], [0.2, 0.9, 0.4], "max_minus_mean"), 12)
    0.6
    """
    ts = np.asarray(ts, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if ts.ndim != 1 or values.shape != ts.shape:
        raise ValueError(f"ts and values must be 1-D of equal length, got {ts.shape} and {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError("values along the path contain NaN or inf (a diverged model?)")
    v0, v1 = _endpoints(ts, values)
    if definition == "above_chord":
        return float(np.max(values - ((1 - ts) * v0 + ts * v1)))
    if definition == "max_minus_mean":
        return float(np.max(values) - (v0 + v1) / 2)
    if definition == "midpoint_value":
        return _midpoint(ts, values)
    if definition == "midpoint_barrier":
        return _midpoint(ts, values) - (v0 + v1) / 2
    if definition == "normalized":
        mean_accuracy = 1.0 - (v0 + v1) / 2
        if mean_accuracy <= 0:
            raise ValueError("normalized barrier undefined: both endpoints have zero accuracy")
        return float(np.max(values) - (v0 + v1) / 2) / mean_accuracy
    raise ValueError(f"definition must be one of {tuple(DEFINITIONS)}, got {definition!r}")


def barriers(ts, values, *, with_normalized: bool = False) -> dict[str, float | None]:
    """Every named barrier of :data:`DEFINITIONS` (midpoint ones None when 1/2 is not on the grid).

    Parameters
    ----------
    ts, values : array_like
        As :func:`barrier`.
    with_normalized : bool, default False
        Include ``"normalized"`` (``values`` is then the error).

    Returns
    -------
    dict of str to float or None
        One entry per definition.

    Raises
    ------
    ValueError
        As :func:`barrier`.

    Examples
    --------
    >>> from lmctheory.lmc import barriers
    >>> barriers([0.0, 1.0], [0.0, 0.0])
    {'above_chord': 0.0, 'max_minus_mean': 0.0, 'midpoint_value': None, 'midpoint_barrier': None}
    """
    out = {}
    for name in DEFINITIONS:
        if name == "normalized" and not with_normalized:
            continue
        try:
            out[name] = barrier(ts, values, name)
        except ValueError as exc:
            if "midpoint" not in str(exc):
                raise
            out[name] = None
    return out


@runtime_checkable
class CertifiedBound(Protocol):
    """What every certified barrier bound of :mod:`lmctheory.lmc` offers (:class:`BarrierBound`,
    :class:`EndpointBound`, :class:`PathSup`): the bounded barrier's ``definition`` (a name of
    :data:`DEFINITIONS`), its ``metric`` ("loss" or "error"), a certified ``upper`` bound, a ``lower`` value
    the path attains (None when the bound computes none) and ``to_dict()``.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.lmc import CertifiedBound, EndpointBound
    >>> bound = EndpointBound(np.array([0.0, 1.0]), np.array([0.2]), 0.2, "mse", "relu", np.zeros(1))
    >>> isinstance(bound, CertifiedBound), bound.metric, bound.definition, bound.lower
    (True, 'loss', 'above_chord', None)
    """

    upper: float
    lower: float | None
    metric: str
    definition: str

    def to_dict(self) -> dict: ...


def model_device(model) -> torch.device:
    """The device of ``model``'s parameters (CPU for a model without any): where its data must go."""
    for parameter in model.parameters():
        return parameter.device
    return torch.device("cpu")
