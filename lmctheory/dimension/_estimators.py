r"""Intrinsic-dimension (ID) estimators for point clouds, e.g. clouds of neuron weights.

Ferbach et al. (2024) tie the width needed for linear mode connectivity to the
dimension d of the support of the neuron-weight distribution: the matching
error shrinks like :math:`N^{-1/d}`. These estimators measure that d.

All estimators follow the scikit-learn API: ``Est(**params).fit(X)`` returns
``self`` and sets

* ``dimension_``: the estimate,
* ``n_points_``, ``n_features_``: n and the ambient dimension D actually used
  (after removing duplicate points for the nearest-neighbour estimators),
* ``reliability_threshold_``: the dimension above which an estimate from n
  points is unreliable (see below); an ``UnreliableEstimateWarning`` is emitted
  when ``dimension_`` exceeds 75% of it.

Reliability thresholds (:ref:`theory-reliability`) are not ceilings. With n points, kNN
estimators (MLE, TwoNN) underestimate strongly once d exceeds about
:math:`\log_2 n`, and the correlation dimension once d exceeds about
:math:`2\log_{10} n` (Eckmann–Ruelle); estimates keep rising past these
thresholds, biased low (at n = 1000: the correlation dimension gives 7.7, 13.2
and 23.8 for d = 10, 20, 50; MLE and TwoNN 27-30 for d = 50). PCA rules and
the participation ratio cannot exceed the rank, at most n - 1 (centred) or n:
for them the threshold is that cap, and they warn only when the number of
points, not the ambient D, is the binding one. Always report an ID together
with the estimator, n and D.

Estimators
----------
ParticipationRatio, PCADimension, MLE (Levina–Bickel), TwoNN (Facco et al.),
CorrelationDimension (Grassberger–Procaccia), WassersteinDimension (decay rate
of the two-sample optimal transport cost, the definition the LMC theory uses).
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, clone
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils.validation import as_rng, check_finite, check_positive_int, check_positive_real, to_numpy
from ._neighbors import nearest_neighbors

__all__ = [
    "UnreliableEstimateWarning",
    "participation_ratio_of_matrix",
    "knn_distances",
    "levina_bickel",
    "twonn_from_ratios",
    "ParticipationRatio",
    "PCADimension",
    "MLE",
    "TwoNN",
    "CorrelationDimension",
    "WassersteinDimension",
    "ESTIMATORS",
    "make_estimator",
]

#: fraction of the reliability threshold above which an UnreliableEstimateWarning is emitted
RELIABILITY_FRACTION = 0.75


class UnreliableEstimateWarning(UserWarning):
    """The estimate is near or above the dimension that n points can reliably reveal (biased low)."""


# ----------------------------------------------------------------- functions


def participation_ratio_of_matrix(S) -> float:
    r"""Participation ratio of a symmetric PSD matrix, :math:`\mathrm{tr}(S)^2 / \mathrm{tr}(S^2)`.

    Equals :math:`(\sum_i \lambda_i)^2 / \sum_i \lambda_i^2` over the eigenvalues;
    between 1 (rank one) and the rank (all non-zero eigenvalues equal).
    Invariant to the scale of S. Ferbach et al.'s "approximate dimension"
    (:ref:`theory-participation-ratio`).

    Parameters
    ----------
    S : array_like, shape (D, D)
        Symmetric positive semi-definite, not zero.

    Returns
    -------
    float
        The participation ratio, in [1, rank(S)].

    Raises
    ------
    ValueError
        Non-square, non-symmetric, non-PSD, non-finite or zero matrices.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.dimension import participation_ratio_of_matrix
    >>> participation_ratio_of_matrix(np.diag([1.0, 1.0, 1.0, 0.0]))
    3.0
    >>> round(participation_ratio_of_matrix(np.diag([4.0, 1.0, 0.0]) * 1e-30), 6)   # 25/17, any scale
    1.470588
    >>> round(participation_ratio_of_matrix(np.diag([4.0, 1.0, 0.0]) * 1e300), 6)   # no overflow
    1.470588
    """
    S = to_numpy(S, "S").astype(np.float64)
    if S.ndim != 2 or S.shape[0] != S.shape[1] or S.shape[0] == 0:
        raise ValueError(f"S must be a non-empty square matrix, got shape {S.shape}")
    if not np.isfinite(S).all():
        raise ValueError("S contains non-finite values (NaN or inf)")
    scale = float(np.abs(S).max())
    if scale == 0:
        raise ValueError("S is the zero matrix: the participation ratio is undefined")
    if not np.allclose(S, S.T, rtol=0, atol=1e-10 * scale):
        raise ValueError("S must be symmetric (e.g. a second-moment or covariance matrix)")
    S = (S + S.T) / (2 * scale)  # scale-free: trace(S)^2 and sum S^2 overflow above |S| ~ 1e154 otherwise
    scale = 1.0
    lam_min = float(np.linalg.eigvalsh(S)[0])
    if lam_min < -1e-10 * scale * S.shape[0]:
        raise ValueError(f"S must be positive semi-definite, smallest eigenvalue {lam_min:.3g}")
    return float(np.trace(S) ** 2 / np.sum(S * S))


def _pr_from_eigenvalues(lam: np.ndarray) -> float:
    return float(lam.sum() ** 2 / np.sum(lam**2))


def knn_distances(X: np.ndarray, k: int) -> np.ndarray:
    """Sorted distances from each point to its k nearest *other* points, shape (n, k).

    Exact (:func:`lmctheory.dimension.nearest_neighbors`: every pair screened in
    float32 with a rounding certificate, distances in float64); a point is never
    its own neighbour.

    Parameters
    ----------
    X : ndarray, shape (n, D)
        Finite points.
    k : int
        Neighbours per point, 1 <= k <= n - 1.

    Returns
    -------
    ndarray, shape (n, k)
        Column j - 1 holds the distance to the j-th neighbour.

    Raises
    ------
    ValueError
        Non-finite X or k outside 1..n-1.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.dimension import knn_distances
    >>> knn_distances(np.array([[0.0], [1.0], [3.0]]), 2).tolist()
    [[1.0, 3.0], [1.0, 2.0], [2.0, 3.0]]
    """
    return nearest_neighbors(X, k)[0]


def _check_k(k, name: str, minimum: int) -> int:
    return check_positive_int(k, name, minimum=minimum)


def levina_bickel(distances, k1: int, k2: int, *, unbiased: bool = False) -> np.ndarray:
    r"""Levina–Bickel pointwise estimates :math:`m_k(x)` for k = k1..k2 (:ref:`theory-mle`).

    With :math:`T_j(x)` the distance to the j-th neighbour,

    .. math:: m_k(x) = \frac{k - 1}{\sum_{j<k} \log(T_k(x)/T_j(x))}

    (``unbiased=True``: k - 2 in the numerator). For a homogeneous Poisson
    process of intensity in dimension m, :math:`S_k = \sum_{j<k}\log(T_k/T_j)`
    is Gamma(k - 1, scale 1/m): :math:`(k-2)/S_k` is unbiased for m and
    :math:`S_k/(k-1)` for 1/m (MacKay & Ghahramani 2005).

    Parameters
    ----------
    distances : array (n, >= k2)
        Sorted neighbour distances of n query points (column j-1 = T_j).
    k1, k2 : int
        Range of k (inclusive), ``2 <= k1 <= k2`` (``3 <=`` when unbiased).
    unbiased : bool, default False
        Use the k - 2 normalisation.

    Returns
    -------
    ndarray (n, k2 - k1 + 1)
        Column i holds :math:`m_{k1+i}(x)`; ``inf`` where all k neighbours are equidistant.

    Raises
    ------
    ValueError
        An invalid k range, too few columns, or distances that are not sorted, finite and positive.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.dimension import levina_bickel
    >>> T = np.array([[1.0, 2.0]])          # T_2 / T_1 = 2: m_2 = 1 / log 2
    >>> round(float(levina_bickel(T, 2, 2)[0, 0] * np.log(2)), 12)
    1.0
    """
    T = to_numpy(distances, "distances").astype(np.float64)
    k1 = _check_k(k1, "k1", 3 if unbiased else 2)
    k2 = _check_k(k2, "k2", k1)
    if T.ndim != 2 or T.shape[1] < k2:
        raise ValueError(f"distances must have shape (n, >= k2={k2}), got {T.shape}")
    logs = np.log(T[:, :k2])
    if not np.isfinite(logs).all():
        raise ValueError("distances must be finite and > 0 (remove duplicate points first)")
    cum = np.cumsum(logs, axis=1)  # cum[:, k-1] = sum_{j<=k} log T_j
    ks = np.arange(k1, k2 + 1)
    # S_k = (k-1) log T_k - sum_{j<k} log T_j
    S = (ks - 1) * logs[:, ks - 1] - cum[:, ks - 2]
    S = np.maximum(S, 0.0)
    numer = ks - 2 if unbiased else ks - 1
    with np.errstate(divide="ignore"):
        return numer / S


def twonn_from_ratios(mu, discard_fraction: float = 0.1, method: str = "linear") -> float:
    r"""TwoNN estimate from the ratios :math:`\mu_i = r_2(x_i)/r_1(x_i)` (Facco et al. 2017; :ref:`theory-twonn`).

    Under local uniformity :math:`\mu` is Pareto(1, d), i.e. :math:`\log\mu \sim
    \mathrm{Exp}(d)`. Sort the N ratios and keep the
    :math:`k = \lfloor N(1-f) \rfloor` smallest (f = ``discard_fraction``).

    * ``"linear"``: least squares through the origin of
      :math:`-\log(1 - F_i) = d \log \mu_{(i)}`, with the empirical CDF
      :math:`F_i = i/N` (Facco's convention, N counting every ratio);
      the point with :math:`F = 1` is never kept (its ordinate is infinite),
      so at most N - 1 ratios are used.
    * ``"ml"``: :math:`\hat d = (k-1) / (\sum_{i\le k}\log\mu_{(i)} + (N-k)\log\mu_{(k)})`,
      the unbiased estimator of the rate of a Type-II censored exponential sample
      (f = 0: :math:`(N-1)/\sum_i \log\mu_i`).

    Parameters
    ----------
    mu : array_like, shape (N,)
        Ratios, all >= 1 and finite.
    discard_fraction : float in [0, 1), default 0.1
        Fraction f of the largest ratios left out.
    method : {"linear", "ml"}
        The fit.

    Returns
    -------
    float
        The dimension estimate.

    Raises
    ------
    ValueError
        Ratios below 1 or non-finite, too few ratios kept, an invalid fraction or method, or
        ratios all equal to 1 (no information on d).

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.dimension import twonn_from_ratios
    >>> mu = np.random.default_rng(0).pareto(3.0, 20_000) + 1.0    # Pareto(1, d = 3)
    >>> round(twonn_from_ratios(mu, method="ml", discard_fraction=0.0), 1)
    3.0
    """
    mu = np.sort(to_numpy(mu, "mu").astype(np.float64).ravel())
    if mu.size == 0 or not np.isfinite(mu).all() or (mu < 1).any():
        raise ValueError("mu must be finite ratios r2/r1 >= 1 (remove duplicate points first)")
    discard_fraction = float(discard_fraction)
    if not 0 <= discard_fraction < 1:
        raise ValueError(f"discard_fraction must be in [0, 1), got {discard_fraction}")
    n = mu.size
    keep = int(math.floor(n * (1 - discard_fraction)))
    log_mu = np.log(mu)
    if method == "linear":
        keep = min(keep, n - 1)
        if keep < 1:
            raise ValueError(f"TwoNN needs at least 2 ratios after discarding, got {n} points")
        x = log_mu[:keep]
        y = -np.log1p(-np.arange(1, keep + 1) / n)
        denom = float(x @ x)
        if denom == 0:
            raise ValueError("all kept ratios r2/r1 equal 1 (equidistant neighbours): TwoNN is undefined")
        return float(x @ y / denom)
    if method == "ml":
        if keep < 2:
            raise ValueError(f"TwoNN (ml) needs at least 2 ratios after discarding, got {n} points")
        total = float(log_mu[:keep].sum() + (n - keep) * log_mu[keep - 1])
        if total == 0:
            raise ValueError("all kept ratios r2/r1 equal 1 (equidistant neighbours): TwoNN is undefined")
        return (keep - 1) / total
    raise ValueError(f"method must be 'linear' or 'ml', got {method!r}")


def _may_have_equal_rows(X: np.ndarray) -> bool:
    """False only when no two rows of X are equal; O(n D + n log n), no row sort.

    Every row is summed against one fixed random vector in the same order, so equal rows get equal
    keys and distinct keys prove distinct rows; equal keys answer True and leave the question to an
    exact ``np.unique``. X is first scaled by the power of two that brings max |X| into [1/2, 1)
    (exact, subnormal inputs included), so no product or sum can overflow (underflow only merges
    keys, which is safe).
    """
    top = float(np.abs(X).max()) if X.size else 0.0
    scaled = np.ldexp(X, -int(np.frexp(top)[1])) if top > 0 else X
    keys = (scaled * np.random.default_rng(0).standard_normal(X.shape[1])).sum(axis=1)
    keys.sort()
    return bool((keys[1:] == keys[:-1]).any())


def _rank_cap(n_effective: int, n_features: int) -> float:
    """Reliability threshold of spectral estimators: the number of points, when it (not D) caps the rank.

    A value near D only says the cloud fills the ambient space (a finding); a
    value near n - 1 < D says the sample is too small to see more directions.
    """
    return float(n_effective) if n_effective < n_features else math.inf


# ---------------------------------------------------------------- base class


class _DimensionEstimator(BaseEstimator):
    """Shared validation, bookkeeping and reliability warnings.

    scikit-learn conventions: parameters are checked against ``_parameter_constraints`` when ``fit``
    starts, ``fit`` sets ``n_features_in_`` and returns ``self``, and reading a fitted result before
    ``fit`` (e.g. :meth:`summary`) raises ``sklearn.exceptions.NotFittedError``.
    """

    _min_points = 2
    _deduplicate = False
    _parameter_constraints: dict = {}

    def _needed_points(self) -> int:
        """The fewest (distinct) points ``fit`` accepts."""
        return self._min_points

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "dimension_")

    def _validate(self, X) -> np.ndarray:
        """Parameters checked against ``_parameter_constraints``, then X through scikit-learn's
        ``validate_data`` (sets ``n_features_in_``; clear errors for sparse, complex, object, empty,
        non-finite input). Torch tensors (any device) are accepted; a 1-D array is n points on the line."""
        self._validate_params()
        if hasattr(X, "detach") and hasattr(X, "cpu"):
            X = to_numpy(X, "X")
        if not sparse.issparse(X) and np.ndim(X) == 1:
            X = np.reshape(X, (-1, 1))
        X = validate_data(
            self,
            X,
            dtype=np.float64,
            order="C",
            ensure_min_samples=self._needed_points(),
            accept_sparse=False,
            ensure_all_finite=False,
        )
        check_finite(X, "X")  # says how many values are bad and where the first is
        if self._deduplicate and _may_have_equal_rows(X):
            unique = np.unique(X, axis=0)
            if unique.shape[0] < X.shape[0]:
                warnings.warn(
                    f"X has {X.shape[0] - unique.shape[0]} duplicate point(s); they were removed "
                    "(nearest-neighbour estimators are undefined at zero distances)",
                    UserWarning,
                    stacklevel=3,
                )
                X = unique
        if X.shape[0] < self._needed_points():
            raise ValueError(
                f"{type(self).__name__} needs at least {self._needed_points()} distinct points (samples), "
                f"got {X.shape[0]}"
            )
        self.n_points_, self.n_features_ = X.shape
        if self._deduplicate:
            # distances via |x|^2 + |y|^2 - 2 x.y (scikit-learn's brute force) lose precision far
            # from the origin; centring makes them, and the estimates, translation invariant
            X = X - X.mean(axis=0)
        # every estimate is scale-invariant: an exact power-of-two rescaling into [-1, 1] keeps squares and
        # sums of squares (distances, second moments) inside float range whatever the data's scale
        top = float(np.abs(X).max())
        self._scale_exponent = int(np.frexp(top)[1]) if top > 0 else 0
        return np.ldexp(X, -self._scale_exponent)

    def _unscaled(self, values, power: float):
        """Quantities of the rescaled data (of degree ``power`` in the scale) back in the data's units
        (inf or 0 when they are out of float range there)."""
        values = np.asarray(values, dtype=np.float64)
        exponent = power * self._scale_exponent
        with np.errstate(over="ignore", under="ignore"):
            if float(exponent).is_integer():
                return np.ldexp(values, int(exponent))  # exact
            return np.exp(np.log(values) + exponent * math.log(2.0))

    def _threshold(self) -> float:
        return math.inf

    def _finish(self, dimension: float):
        self.dimension_ = float(dimension)
        self.reliability_threshold_ = float(self._threshold())
        if self.dimension_ >= RELIABILITY_FRACTION * self.reliability_threshold_:
            warnings.warn(
                f"{type(self).__name__} estimate {self.dimension_:.3g} is near or above the reliability threshold "
                f"{self.reliability_threshold_:.3g} at n={self.n_points_}, D={self.n_features_}: estimates there are "
                "biased low (the true dimension may be larger); use more points",
                UnreliableEstimateWarning,
                stacklevel=3,
            )
        return self

    def fit_dimension(self, X) -> float:
        """``fit(X).dimension_``."""
        return self.fit(X).dimension_

    def summary(self) -> dict:
        """Plain-data record of the estimate with its conventions."""
        check_is_fitted(self)
        return {
            "estimator": type(self).__name__,
            "params": self.get_params(),
            "dimension": self.dimension_,
            "n_points": self.n_points_,
            "n_features": self.n_features_,
            "reliability_threshold": self.reliability_threshold_,
        }


class _KNNEstimator(_DimensionEstimator):
    _deduplicate = True

    def _threshold(self):
        return math.log2(self.n_points_)

    def fit_pw(self, X, n_neighbors: int = 100):
        """Pointwise estimates ``dimension_pw_``: the estimator on each point's neighbourhood.

        The neighbourhood of a point is the point and its ``n_neighbors - 1``
        nearest neighbours. Also fits the global ``dimension_``.
        """
        X = self._validate(X)
        n_neighbors = check_positive_int(n_neighbors, "n_neighbors", minimum=3)
        if n_neighbors > X.shape[0]:
            raise ValueError(f"n_neighbors={n_neighbors} exceeds the number of points {X.shape[0]}")
        _, others = nearest_neighbors(X, n_neighbors - 1)
        idx = np.column_stack([np.arange(X.shape[0]), others])  # duplicates were removed: self first
        local = clone(self)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnreliableEstimateWarning)
            self.dimension_pw_ = np.array([local._fit_array(X[i]) for i in idx])
        self._finish(self._fit_array(X))
        return self


# -------------------------------------------------------------- estimators


class ParticipationRatio(_DimensionEstimator):
    r"""Participation ratio of the second-moment (or covariance) matrix of the rows of X.

    :math:`PR = (\sum\lambda_i)^2 / \sum\lambda_i^2` with :math:`\lambda` the
    eigenvalues of :math:`S = X^\top X / n` (``center=False``, Ferbach et al.'s
    uncentred convention) or of the covariance (``center=True``). For n iid
    isotropic Gaussian rows in R^d the ratio of expectations is
    :math:`(dn + 2)/(d + n + 1)`. Reliability threshold: the rank cap n (n - 1 centred) when
    smaller than D (:ref:`theory-participation-ratio`).

    Parameters
    ----------
    center : bool, default False
        Use the covariance instead of the second moment.

    Attributes
    ----------
    dimension_ : float
        The estimate.
    eigenvalues_ : ndarray
        Eigenvalues of S (descending).
    n_features_in_ : int
        D, the number of columns seen by ``fit``.

    Raises
    ------
    sklearn.utils._param_validation.InvalidParameterError
        At ``fit``: a hyper-parameter of the wrong type or range (a ``ValueError``).
    ValueError, TypeError
        At ``fit``: non-finite values, too few points for the estimator, a sparse matrix.
    sklearn.exceptions.NotFittedError
        ``summary()`` before ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.dimension import ParticipationRatio
    >>> X = np.kron(np.eye(3), np.ones((10, 1)))     # 30 points on 3 orthogonal axes
    >>> round(ParticipationRatio().fit(X).dimension_, 12)
    3.0
    """

    _min_points = 1
    _parameter_constraints = {"center": ["boolean"]}

    def __init__(self, center: bool = False):
        self.center = center

    def fit(self, X, y=None):
        X = self._validate(X)
        if self.center:
            if X.shape[0] < 2:
                raise ValueError("ParticipationRatio(center=True) needs at least 2 points")
            X = X - X.mean(axis=0)
        s = np.linalg.svd(X, compute_uv=False)
        lam = s**2 / (X.shape[0] - (1 if self.center else 0))
        if lam.max() == 0:
            raise ValueError("X is constant (zero second moment): the participation ratio is undefined")
        self.eigenvalues_ = self._unscaled(lam, 2)
        return self._finish(_pr_from_eigenvalues(lam))

    def _threshold(self):
        return _rank_cap(self.n_points_ - (1 if self.center else 0), self.n_features_)


class PCADimension(_DimensionEstimator):
    r"""Linear (PCA) dimension from the spectrum of the covariance of X.

    Rules on the eigenvalues :math:`\lambda_1 \ge \lambda_2 \ge \dots` of the
    covariance (``center=True``, as scikit-dimension's lPCA) or of
    :math:`X^\top X` (``center=False``):

    * ``"FO"`` (Fukunaga–Olsen): the number of :math:`\lambda_i > \alpha \lambda_1`
      (default :math:`\alpha` = 0.05);
    * ``"ratio"``: the smallest k whose leading eigenvalues explain at least a
      fraction :math:`\alpha` of the variance (default 0.95);
    * ``"maxgap"``: the k maximising :math:`\lambda_k / \lambda_{k+1}`.

    Eigenvalues below :math:`10^{-12}\lambda_1` are treated as exact zeros, so
    the rules are exact on linear subspaces. Reliability threshold: the rank cap n - 1 (centred) or n,
    when smaller than D.

    Parameters
    ----------
    rule : {"FO", "ratio", "maxgap"}
        The rule.
    alpha : float, optional
        Its threshold (defaults above).
    center : bool, default True
        Centre the points first.

    Attributes
    ----------
    dimension_ : int-valued float
        The estimate.
    eigenvalues_ : ndarray
        Eigenvalues (descending).

    Raises
    ------
    sklearn.utils._param_validation.InvalidParameterError
        At ``fit``: a hyper-parameter of the wrong type or range (a ``ValueError``).
    ValueError, TypeError
        At ``fit``: non-finite values, too few points for the estimator, a sparse matrix.
    sklearn.exceptions.NotFittedError
        ``summary()`` before ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.dimension import PCADimension
    >>> X = np.random.default_rng(0).normal(size=(200, 4)) @ np.random.default_rng(1).normal(size=(4, 20))
    >>> PCADimension().fit(X).dimension_      # a 4-dim linear subspace of R^20
    4.0
    """

    RULES = ("FO", "ratio", "maxgap")
    DEFAULT_ALPHA = {"FO": 0.05, "ratio": 0.95, "maxgap": None}
    _parameter_constraints = {
        "rule": [StrOptions(set(RULES))],
        "alpha": [Interval(Real, 0, 1, closed="right"), None],
        "center": ["boolean"],
    }

    def __init__(self, rule: str = "FO", alpha: float | None = None, center: bool = True):
        self.rule = rule
        self.alpha = alpha
        self.center = center

    def fit(self, X, y=None):
        self._validate_params()
        alpha = self.DEFAULT_ALPHA[self.rule] if self.alpha is None else float(self.alpha)
        if self.rule != "maxgap" and not 0 < alpha < 1 + (self.rule == "ratio") * 1e-12:
            raise ValueError(f"alpha must be in (0, 1) for rule {self.rule!r}, got {alpha}")
        X = self._validate(X)
        Xc = X - X.mean(axis=0) if self.center else X
        s = np.linalg.svd(Xc, compute_uv=False)
        lam = s**2 / (X.shape[0] - 1 if self.center else 1)
        if lam.max() == 0:
            raise ValueError("X is constant: no principal direction, the PCA dimension is undefined")
        lam = np.where(lam < 1e-12 * lam[0], 0.0, lam)
        self.eigenvalues_ = self._unscaled(lam, 2)
        if self.rule == "FO":
            d = int(np.sum(lam > alpha * lam[0]))
        elif self.rule == "ratio":
            frac = np.cumsum(lam) / lam.sum()
            d = int(np.sum(frac < alpha)) + 1
        else:
            if lam.size == 1:
                d = 1
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    gaps = lam[:-1] / lam[1:]
                d = int(np.nanargmax(gaps)) + 1
        return self._finish(min(d, lam.size))

    def _threshold(self):
        return _rank_cap(self.n_points_ - (1 if self.center else 0), self.n_features_)


class MLE(_KNNEstimator):
    r"""Levina–Bickel maximum-likelihood estimator, averaged over k = k1..k2 (:ref:`theory-mle`).

    Pointwise :math:`m_k(x)` as in :func:`levina_bickel`; for each k the
    pointwise values are aggregated over points, then averaged over k:

    * ``aggregate="harmonic"`` (default, MacKay & Ghahramani 2005):
      :math:`\hat m_k = 1/\overline{(1/m_k(x))}`;
    * ``aggregate="mean"``: the arithmetic mean (Levina & Bickel 2005).

    ``unbiased=True`` uses the (k - 2) normalisation. On Poisson data the
    (k - 1)/harmonic pair is unbiased for 1/m and the (k - 2)/mean pair for m.
    ``k1 == k2`` gives a single k (scikit-dimension's ``MLE`` with
    ``n_neighbors=k``, ``comb="mle"`` or ``"mean"``).

    Parameters
    ----------
    k1, k2 : int, default 10 and 20
        Range of neighbours, ``2 <= k1 <= k2`` (3 when unbiased).
    unbiased : bool, default False
        The k - 2 normalisation.
    aggregate : {"harmonic", "mean"}
        How pointwise values are combined.

    Attributes
    ----------
    dimension_ : float
        The estimate.
    dimension_pw_ : ndarray (n,)
        Pointwise estimates, mean over k of :math:`m_k(x)`.
    dimension_k_ : ndarray (k2 - k1 + 1,)
        The aggregated estimate for each k.

    Raises
    ------
    sklearn.utils._param_validation.InvalidParameterError
        At ``fit``: a hyper-parameter of the wrong type or range (a ``ValueError``).
    ValueError, TypeError
        At ``fit``: non-finite values, too few points for the estimator, a sparse matrix.
    sklearn.exceptions.NotFittedError
        ``summary()`` before ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.dimension import MLE
    >>> from lmctheory.dimension import sample_manifold
    >>> X, d = sample_manifold("ball", 2000, D=10, d=3, seed=0)
    >>> round(MLE().fit(X).dimension_)
    3
    """

    _parameter_constraints = {
        "k1": [Interval(Integral, 2, None, closed="left")],
        "k2": [Interval(Integral, 2, None, closed="left")],
        "unbiased": ["boolean"],
        "aggregate": [StrOptions({"harmonic", "mean"})],
    }

    def __init__(self, k1: int = 10, k2: int = 20, unbiased: bool = False, aggregate: str = "harmonic"):
        self.k1 = k1
        self.k2 = k2
        self.unbiased = unbiased
        self.aggregate = aggregate

    def _estimates(self, X):
        if self.aggregate not in ("harmonic", "mean"):
            raise ValueError(f"aggregate must be 'harmonic' or 'mean', got {self.aggregate!r}")
        k1 = _check_k(self.k1, "k1", 3 if self.unbiased else 2)
        k2 = _check_k(self.k2, "k2", k1)
        if X.shape[0] <= k2:
            raise ValueError(f"MLE with k2={k2} needs more than {k2} distinct points, got {X.shape[0]}")
        m = levina_bickel(knn_distances(X, k2), k1, k2, unbiased=self.unbiased)
        if self.aggregate == "harmonic":
            per_k = 1.0 / np.mean(1.0 / m, axis=0)
        else:
            finite = np.isfinite(m)
            if not finite.all():
                warnings.warn(
                    f"{int((~finite).sum())} pointwise estimates are infinite (equidistant "
                    "neighbours) and were left out of the mean",
                    UserWarning,
                    stacklevel=3,
                )
            per_k = np.array([m[finite[:, i], i].mean() for i in range(m.shape[1])])
        return m, per_k

    def _fit_array(self, X):
        return float(np.mean(self._estimates(X)[1]))

    def fit(self, X, y=None):
        X = self._validate(X)
        m, per_k = self._estimates(X)
        if not np.isfinite(per_k).all():
            raise ValueError(
                "MLE is undefined here: the k nearest neighbours of every point are equidistant "
                "(a lattice or a simplex: no local scaling of distances to read a dimension from)"
            )
        self.dimension_pw_ = m.mean(axis=1)
        self.dimension_k_ = per_k
        return self._finish(per_k.mean())

    def fit_pw(self, X, n_neighbors: int | None = None):
        """Pointwise estimates from each point's own neighbour distances (``dimension_pw_``)."""
        if n_neighbors is not None:
            return super().fit_pw(X, n_neighbors)
        return self.fit(X)


class TwoNN(_KNNEstimator):
    r"""TwoNN estimator (Facco, d'Errico, Rodriguez & Laio 2017; :ref:`theory-twonn`).

    Ratios :math:`\mu_i = r_2/r_1` of second to first neighbour distances;
    see :func:`twonn_from_ratios` for ``method`` ("linear": Facco's fit with
    the empirical CDF i/N; "ml": unbiased censored maximum likelihood) and
    ``discard_fraction``. Duplicate points are removed with a warning.

    Parameters
    ----------
    discard_fraction : float in [0, 1), default 0.1
        Fraction of the largest ratios left out.
    method : {"linear", "ml"}
        The fit.

    Attributes
    ----------
    dimension_ : float
        The estimate.
    ratios_ : ndarray (n,)
        The ratios of the (deduplicated) points.

    Raises
    ------
    sklearn.utils._param_validation.InvalidParameterError
        At ``fit``: a hyper-parameter of the wrong type or range (a ``ValueError``).
    ValueError, TypeError
        At ``fit``: non-finite values, too few points for the estimator, a sparse matrix.
    sklearn.exceptions.NotFittedError
        ``summary()`` before ``fit``.

    Examples
    --------
    >>> from lmctheory.dimension import TwoNN
    >>> from lmctheory.dimension import sample_manifold
    >>> X, d = sample_manifold("sphere", 2000, D=10, d=2, seed=0)
    >>> round(TwoNN().fit(X).dimension_)
    2
    """

    _parameter_constraints = {
        "discard_fraction": [Interval(Real, 0, 1, closed="left")],
        "method": [StrOptions({"linear", "ml"})],
    }

    def __init__(self, discard_fraction: float = 0.1, method: str = "linear"):
        self.discard_fraction = discard_fraction
        self.method = method

    def _fit_array(self, X):
        r = knn_distances(X, 2)
        self.ratios_ = r[:, 1] / r[:, 0]
        return twonn_from_ratios(self.ratios_, self.discard_fraction, self.method)

    def fit(self, X, y=None):
        X = self._validate(X)
        if X.shape[0] < 3:
            raise ValueError(f"TwoNN needs at least 3 distinct points, got {X.shape[0]}")
        return self._finish(self._fit_array(X))


class CorrelationDimension(_KNNEstimator):
    r"""Correlation dimension (Grassberger & Procaccia 1983) between two radii (:ref:`theory-correlation-dimension`).

    :math:`r_1, r_2` are the medians over points of the k1-th and k2-th
    neighbour distances; :math:`C(r) = \#\{(i, j): i \ne j, |x_i - x_j| < r\} / n^2`
    and :math:`\hat d = \log(C(r_2)/C(r_1)) / \log(r_2/r_1)` (the convention of
    scikit-dimension's ``CorrInt``). Reliability threshold :math:`2\log_{10} n` (Eckmann–Ruelle): above
    it the estimate is biased low, not capped.
    Pairs are counted in chunks (no n x n matrix in memory). A pair within a
    relative ``TIE_RTOL`` = 1e-9 of r counts as at distance r (not below): the
    median radius is often a realised pair distance, and this keeps the count
    independent of floating-point rounding (rotation invariance).

    Parameters
    ----------
    k1, k2 : int, default 10 and 20
        Neighbour ranks defining the two radii, ``1 <= k1 < k2``.

    Attributes
    ----------
    dimension_ : float
        The estimate.

    Raises
    ------
    sklearn.utils._param_validation.InvalidParameterError
        At ``fit``: a hyper-parameter of the wrong type or range (a ``ValueError``).
    ValueError, TypeError
        At ``fit``: non-finite values, too few points for the estimator, a sparse matrix.
    sklearn.exceptions.NotFittedError
        ``summary()`` before ``fit``.

    Examples
    --------
    >>> from lmctheory.dimension import CorrelationDimension
    >>> from lmctheory.dimension import sample_manifold
    >>> X, d = sample_manifold("helix", 2000, D=5, seed=0)
    >>> round(CorrelationDimension().fit(X).dimension_)
    1
    """

    TIE_RTOL = 1e-9

    _parameter_constraints = {
        "k1": [Interval(Integral, 1, None, closed="left")],
        "k2": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(self, k1: int = 10, k2: int = 20):
        self.k1 = k1
        self.k2 = k2

    def _threshold(self):
        return 2 * math.log10(self.n_points_)

    def _fit_array(self, X):
        from sklearn.metrics import pairwise_distances_chunked

        k1 = _check_k(self.k1, "k1", 1)
        k2 = _check_k(self.k2, "k2", k1 + 1)
        if X.shape[0] <= k2:
            raise ValueError(
                f"CorrelationDimension with k2={k2} needs more than {k2} distinct points, got {X.shape[0]}"
            )
        dist = knn_distances(X, k2)
        r1, r2 = float(np.median(dist[:, k1 - 1])), float(np.median(dist[:, k2 - 1]))
        if not r2 > r1:
            raise ValueError("the k1-th and k2-th neighbour radii coincide; increase k2 - k1")

        # The median radius is often itself a pair distance (two mutual k-th neighbours), so a
        # strict "< r" would hinge on rounding; pairs within TIE_RTOL of r count as "at r".
        below1, below2 = r1 * (1 - self.TIE_RTOL), r2 * (1 - self.TIE_RTOL)

        def count(chunk, start):  # per-row counts, as pairwise_distances_chunked requires
            return (chunk < below1).sum(axis=1), (chunk < below2).sum(axis=1)

        s1 = s2 = 0
        for rows1, rows2 in pairwise_distances_chunked(X, reduce_func=count):
            s1, s2 = s1 + int(rows1.sum()), s2 + int(rows2.sum())
        n = X.shape[0]
        c1, c2 = (s1 - n) / n**2, (s2 - n) / n**2  # the diagonal (distance 0) is not a pair
        if c1 <= 0:
            raise ValueError("no pair of points closer than r1; increase k1")
        self.radii_ = tuple(float(r) for r in self._unscaled([r1, r2], 1))
        return float(math.log(c2 / c1) / math.log(r2 / r1))

    def fit(self, X, y=None):
        X = self._validate(X)
        return self._finish(self._fit_array(X))


class WassersteinDimension(_DimensionEstimator):
    r"""Dimension from the decay rate of the two-sample optimal transport cost.

    For sizes m (default: powers of two from 32 up to n/2), draw ``reps``
    random subsets of 2m points, split each into two halves and compute
    :math:`T_p = W_p^p` between the halves exactly (optimal assignment). In
    the sharp Fournier–Guillin regime d > 2p,
    :math:`\mathbb{E}\,T_p \sim m^{-p/d}`, so the fitted log-log slope s of
    the mean cost gives :math:`\hat d = -p/s`. This is the definition the LMC
    theory uses: the matching error of two width-m layers decays at this rate.

    When it is reliable: only when the true d exceeds 2p (below, the rate is
    :math:`m^{-1/2}` and the estimate sits near 2p); the default p = 1/4 makes
    every d >= 1 sharp. Finite sizes steepen the slope, so the estimate is low
    for large d, and how low depends on the law (measured at n = 4096, three
    seeds: a standard Gaussian gives 4.8-4.9 for d = 5, 7.3-7.6 for d = 8 and
    8.5-9.5 for d = 10; the uniform cube 4.3-4.5, 6.5-6.7 and 7.9-8.0), and it
    needs n of a few thousand. The cost uses the Euclidean
    ground cost to the power p (p < 1 allowed: :math:`|x-y|^p` is then a metric
    and the assignment is still exact).

    Parameters
    ----------
    sizes : sequence of int, optional
        The sizes m (at least 2 distinct); ``fit`` needs ``2 * max(sizes)`` points.
    reps : int, default 5
        Random splits per size.
    p : float in (0, inf), default 0.25
        Exponent of the ground cost.
    confidence : float in (0, 1), default 0.95
        Level of the bootstrap interval.
    random_state : None, int, SeedSequence or Generator, default 0
        Seed of the subsets and of the bootstrap.

    Attributes
    ----------
    dimension_ : float
        :math:`-p/s`.
    rate_ : float
        Fitted slope of :math:`\log \mathbb{E}\,T_p` against :math:`\log m`.
    rate_ci_ : (float, float)
        Bootstrap confidence interval of the slope.
    dimension_ci_ : (float, float)
        The interval mapped through :math:`-p/s` (inf when the slope CI reaches 0).
    sizes_, costs_ : ndarray
        The sizes m and the (len(sizes), reps) costs.

    Raises
    ------
    sklearn.utils._param_validation.InvalidParameterError
        At ``fit``: a hyper-parameter of the wrong type or range (a ``ValueError``).
    ValueError, TypeError
        At ``fit``: non-finite values, too few points for the estimator, a sparse matrix.
    sklearn.exceptions.NotFittedError
        ``summary()`` before ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.dimension import WassersteinDimension
    >>> X = np.random.default_rng(0).random((512, 2))
    >>> est = WassersteinDimension(sizes=(32, 64, 128, 256), reps=3).fit(X)
    >>> 1.0 < est.dimension_ < 3.0
    True
    """

    _min_points = 64
    _parameter_constraints = {
        "sizes": ["array-like", None],
        "reps": [Interval(Integral, 2, None, closed="left")],
        "p": [Interval(Real, 0, None, closed="neither")],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
        "random_state": [
            Interval(Integral, 0, None, closed="left"),
            None,
            np.random.Generator,
            np.random.SeedSequence,
        ],
    }

    def _needed_points(self) -> int:
        if self.sizes is None:
            return self._min_points
        return 2 * max(check_positive_int(int(m), "sizes", minimum=2) for m in self.sizes)

    def __init__(self, sizes=None, reps: int = 5, p: float = 0.25, confidence: float = 0.95, random_state=0):
        self.sizes = sizes
        self.reps = reps
        self.p = p
        self.confidence = confidence
        self.random_state = random_state

    def _threshold(self):
        return math.inf

    def fit(self, X, y=None):
        from ..ot import assignment_cost
        from ..rates import fit_rate

        X = self._validate(X)
        p = check_positive_real(self.p, "p")
        reps = check_positive_int(self.reps, "reps", minimum=2)
        n = X.shape[0]
        if self.sizes is None:
            sizes = [2**j for j in range(5, 30) if 2 ** (j + 1) <= n]
        else:
            sizes = sorted({check_positive_int(int(s), "sizes", minimum=2) for s in self.sizes})
        if len(sizes) < 3 or 2 * sizes[-1] > n:
            raise ValueError(
                f"WassersteinDimension needs at least 3 sizes m with 2m <= n={n} "
                f"(got sizes {sizes}); the default needs n >= 256"
            )
        rng = as_rng(self.random_state, "random_state")
        costs = np.empty((len(sizes), reps))
        for i, m in enumerate(sizes):
            for r in range(reps):
                idx = rng.choice(n, size=2 * m, replace=False)
                costs[i, r] = assignment_cost(X[idx[:m]], X[idx[m:]], p)
        fit = fit_rate(sizes, costs, confidence=self.confidence, seed=rng)
        self.sizes_, self.costs_ = np.array(sizes), self._unscaled(costs, p)
        self.rate_ = fit.slope
        self.rate_ci_ = (fit.ci_low, fit.ci_high)
        self.dimension_ci_ = tuple(-p / s if s < 0 else math.inf for s in (fit.ci_low, fit.ci_high))
        if self.rate_ >= 0:  # no decay over these sizes: a dimension beyond what they resolve
            warnings.warn(
                f"the transport cost does not decrease with m (slope {self.rate_:.3g}): the dimension is "
                "beyond what these sizes resolve; dimension_ = inf",
                UnreliableEstimateWarning,
                stacklevel=2,
            )
            return self._finish(math.inf)
        return self._finish(-p / self.rate_)


ESTIMATORS = {
    "pr": ParticipationRatio,
    "pca": PCADimension,
    "mle": MLE,
    "twonn": TwoNN,
    "corr": CorrelationDimension,
    "wasserstein": WassersteinDimension,
}


def make_estimator(name: str, **params) -> _DimensionEstimator:
    """An estimator by its CLI name (one of :data:`ESTIMATORS`).

    Parameters
    ----------
    name : {"pr", "pca", "mle", "twonn", "corr", "wasserstein"}
        The estimator.
    **params
        Its hyper-parameters.

    Returns
    -------
    estimator
        An unfitted estimator (a scikit-learn ``BaseEstimator``).

    Raises
    ------
    ValueError
        An unknown name.
    TypeError
        A hyper-parameter the estimator does not have.

    Examples
    --------
    >>> from lmctheory.dimension import make_estimator
    >>> make_estimator("mle", k1=5, k2=8)
    MLE(k1=5, k2=8)
    """
    if name not in ESTIMATORS:
        raise ValueError(f"unknown estimator {name!r}; choose one of {', '.join(ESTIMATORS)}")
    return ESTIMATORS[name](**params)
