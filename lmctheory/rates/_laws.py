r"""Probability laws to sample point clouds from, for rate experiments.

A law is any callable ``sampler(n, rng) -> ndarray (n, d)``; the classes here
are such callables that also know their dimension, their intrinsic dimension,
the half-side of a cube containing their support (for the explicit
Fournier–Guillin bound) and, where it exists, an *exact* one-sample reference
:math:`W_p^p(\mu_N, \mu)`:

* discrete laws (:class:`TwoAtom`, :class:`Discrete`): exact optimal transport
  between the empirical measure and the atoms of the law;
* laws on the line with a quantile function (:class:`UniformCube` and
  :class:`Gaussian` with d = 1): :math:`W_p^p = \sum_i \int_{(i-1)/N}^{i/N}
  |x_{(i)} - Q(u)|^p du`, integrated by Gauss–Legendre quadrature on each
  piece, split where :math:`Q(u) = x_{(i)}` so that the integrand is smooth,
  with an end-point substitution where Q diverges. Exact (to rounding) for the uniform law with p = 2; relative
  error below 1e-8 against independent quadrature of the CDF in our tests.

All randomness comes from the ``rng`` passed in; a law's own fixed structure
(e.g. the random subspace of :class:`Subspace`) comes from its ``basis_seed``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ..utils.validation import as_points, as_weights, check_p, check_positive_int, check_positive_real

__all__ = [
    "Law",
    "UniformCube",
    "Gaussian",
    "UniformBall",
    "Subspace",
    "TwoAtom",
    "Discrete",
    "make_law",
    "LAW_NAMES",
]


class Law:
    r"""Base class of the built-in laws: a sampler with metadata.

    Subclasses implement ``sample(n, rng)`` (an (n, d) array), and may provide ``cost_to_law(x, p)``
    (the exact :math:`W_p^p(\mu_N, \mu)`, when ``has_exact_reference``), ``support_radius`` and
    ``bound_geometry`` (the dimension and half-side of a cube holding the support, used by the
    explicit bound). Calling a law samples it, so a law is a sampler for :func:`~lmctheory.rates.rate_curve`.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.rates import Law
    >>> class Corner(Law):
    ...     name = "corner"
    ...     dim = intrinsic_dim = 2
    ...     def sample(self, n, rng):
    ...         return np.ones((n, 2))
    >>> Corner()(3, np.random.default_rng(0)).shape
    (3, 2)
    """

    #: short name used by the CLI and recorded in results
    name = "law"
    dim: int
    intrinsic_dim: int

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.sample(check_positive_int(n, "n"), rng)

    @property
    def support_radius(self) -> float:
        """Half-side of a cube containing the support (``inf`` if unbounded)."""
        return math.inf

    @property
    def bound_geometry(self) -> tuple[int, float]:
        """``(d, radius)``: the support lies, up to a rotation, in a cube of side
        ``2 * radius`` in R^d. The tightest known pair is used by the explicit
        Fournier–Guillin bound (W_p is rotation and translation invariant)."""
        return self.dim, self.support_radius

    @property
    def has_exact_reference(self) -> bool:
        """Whether :meth:`cost_to_law` gives the exact one-sample W_p^p."""
        return False

    def cost_to_law(self, x: np.ndarray, p: float) -> float:
        """Exact :math:`W_p^p(\\mu_x, \\mu)` between the uniform empirical measure of x and the law."""
        raise NotImplementedError(
            f"the {self.name} law in d={self.dim} has no exact one-sample reference "
            "(available for discrete laws and laws on the line); use two_sample=True"
        )

    def describe(self) -> dict:
        """Plain-data description recorded in results."""
        return {"law": self.name, "d": self.dim, "intrinsic_dim": self.intrinsic_dim}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.describe().items() if k != "law")
        return f"{type(self).__name__}({params})"


class _QuantileLaw1D(Law):
    """Mixin: exact one-sample reference in d = 1 from a scipy frozen distribution."""

    _NODES, _WEIGHTS = np.polynomial.legendre.leggauss(24)
    _S, _W = (_NODES + 1) / 2, _WEIGHTS / 2  # Gauss-Legendre rule on [0, 1]
    _M = 6  # power of the end-point substitution

    def _frozen(self):
        raise NotImplementedError

    @property
    def has_exact_reference(self) -> bool:
        return self.dim == 1

    def cost_to_law(self, x, p):
        r"""Exact :math:`W_p^p(\mu_x, \mu)` on the line.

        :math:`\sum_i \int_{(i-1)/N}^{i/N} |x_{(i)} - Q(u)|^p du`, each interval split
        at :math:`u = F(x_{(i)})` (the kink of the integrand) and integrated by
        24-point Gauss-Legendre. On the two outermost pieces, where Q diverges for
        unbounded laws, the substitution :math:`u = h s^6` (clustering nodes at the
        end point; in :math:`1 - u` with the inverse survival function at the upper
        end) removes the singularity: relative error ~1e-13 for the Gaussian.
        """
        if self.dim != 1:
            return super().cost_to_law(x, p)
        p = check_p(p)
        x = np.sort(as_points(x, "x")[:, 0])
        dist = self._frozen()
        n = x.shape[0]
        lo = np.arange(n) / n
        hi = np.arange(1, n + 1) / n
        split = np.clip(dist.cdf(x), lo, hi)
        s, w, m = self._S, self._W, self._M

        def pieces(xi, left, right, g, dg, quantile=dist.ppf):
            nodes = left[:, None] + (right - left)[:, None] * g[None, :]
            return (right - left) * ((np.abs(xi[:, None] - quantile(nodes)) ** p) @ (w * dg))

        plain = np.ones_like(s)
        total = pieces(x, lo, split, s, plain) + pieces(x, split, hi, s, plain)
        # outermost pieces again with nodes clustered at the end point; near u = 1 work
        # in t = 1 - u with the inverse survival function, so nodes never round to 1
        end = np.zeros(1)
        total[0] += (
            pieces(x[:1], end, split[:1], s**m, m * s ** (m - 1)) - pieces(x[:1], lo[:1], split[:1], s, plain)
        )[0]
        total[-1] += (
            pieces(x[-1:], end, 1 - split[-1:], s**m, m * s ** (m - 1), quantile=dist.isf)
            - pieces(x[-1:], split[-1:], hi[-1:], s, plain)
        )[0]
        return float(total.sum())


class UniformCube(_QuantileLaw1D):
    """Uniform law on the cube ``[low, high]^d`` (the sharp case of Fournier–Guillin).

    The one-sample cost against the law is exact in d = 1 (quantile coupling).

    Parameters
    ----------
    d : int
        Dimension.
    low, high : float, default 0 and 1
        Bounds of every coordinate.

    Raises
    ------
    ValueError
        A non-positive d or not ``low < high`` (finite).

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.rates import UniformCube
    >>> x = UniformCube(3, -1.0, 1.0).sample(1000, np.random.default_rng(0))
    >>> x.shape, bool(np.abs(x).max() <= 1.0)
    ((1000, 3), True)
    """

    name = "uniform"

    def __init__(self, d: int, low: float = 0.0, high: float = 1.0):
        self.dim = self.intrinsic_dim = check_positive_int(d, "d")
        if not (np.isfinite(low) and np.isfinite(high) and high > low):
            raise ValueError(f"need finite low < high, got low={low}, high={high}")
        self.low, self.high = float(low), float(high)

    def sample(self, n, rng):
        return rng.uniform(self.low, self.high, size=(n, self.dim))

    @property
    def support_radius(self):
        return (self.high - self.low) / 2

    def _frozen(self):
        return stats.uniform(loc=self.low, scale=self.high - self.low)

    def describe(self):
        return {**super().describe(), "low": self.low, "high": self.high}


class Gaussian(_QuantileLaw1D):
    """Isotropic Gaussian ``N(0, scale^2 I_d)`` (unbounded support).

    Parameters
    ----------
    d : int
        Dimension.
    scale : float, default 1
        Standard deviation of every coordinate.

    Raises
    ------
    ValueError
        A non-positive d or scale.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.rates import Gaussian
    >>> law = Gaussian(2, scale=3.0)
    >>> round(float(law.sample(100_000, np.random.default_rng(0)).std()), 1)
    3.0
    """

    name = "gaussian"

    def __init__(self, d: int, scale: float = 1.0):
        self.dim = self.intrinsic_dim = check_positive_int(d, "d")
        self.scale = check_positive_real(scale, "scale")

    def sample(self, n, rng):
        return self.scale * rng.standard_normal((n, self.dim))

    def _frozen(self):
        return stats.norm(scale=self.scale)

    def describe(self):
        return {**super().describe(), "scale": self.scale}


def _uniform_in_ball(n: int, d: int, radius: float, rng: np.random.Generator) -> np.ndarray:
    direction = rng.standard_normal((n, d))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    return radius * rng.uniform(size=(n, 1)) ** (1.0 / d) * direction


class UniformBall(Law):
    """Uniform law on the Euclidean ball of radius ``radius`` centred at 0.

    Parameters
    ----------
    d : int
        Dimension.
    radius : float, default 1
        Radius of the ball.

    Raises
    ------
    ValueError
        A non-positive d or radius.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.rates import UniformBall
    >>> x = UniformBall(4, radius=2.0).sample(500, np.random.default_rng(0))
    >>> bool(np.linalg.norm(x, axis=1).max() <= 2.0)
    True
    """

    name = "ball"

    def __init__(self, d: int, radius: float = 1.0):
        self.dim = self.intrinsic_dim = check_positive_int(d, "d")
        self.radius = check_positive_real(radius, "radius")

    def sample(self, n, rng):
        return _uniform_in_ball(n, self.dim, self.radius, rng)

    @property
    def support_radius(self):
        return self.radius

    def describe(self):
        return {**super().describe(), "radius": self.radius}


class Subspace(Law):
    r"""Uniform law on a unit cube of a random k-dim subspace of R^d, plus eta noise.

    :math:`X = B Z + \eta\, U`, with ``B`` a fixed random orthonormal d x k frame
    (from ``basis_seed``), :math:`Z \sim U[0,1]^k` and ``U`` uniform in the unit
    ball of R^d: every point lies within ``eta`` of the subspace (the setting of
    Ferbach et al., Thm 5.4). With ``eta = 0`` the rate is :math:`N^{-1/k}`
    (intrinsic, not ambient, dimension; Weed & Bach 2019); with ``eta > 0`` it
    returns towards :math:`N^{-1/d}` once the matching error reaches the eta floor
    (:ref:`theory-intrinsic-rates`).

    Parameters
    ----------
    d : int
        Ambient dimension.
    k : int
        Dimension of the subspace, ``k <= d``.
    eta : float, default 0
        Distance from the subspace, >= 0.
    basis_seed : int, default 0
        Seed of the frame B.

    Raises
    ------
    ValueError
        ``k > d``, non-positive d or k, or a negative eta.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.rates import Subspace
    >>> x = Subspace(10, 2).sample(50, np.random.default_rng(0))
    >>> int(np.linalg.matrix_rank(x))
    2
    """

    name = "subspace"

    def __init__(self, d: int, k: int, eta: float = 0.0, basis_seed: int = 0):
        self.dim = check_positive_int(d, "d")
        self.k = check_positive_int(k, "k")
        if self.k > self.dim:
            raise ValueError(f"k must be <= d, got k={k} > d={d}")
        self.eta = check_positive_real(eta, "eta", allow_zero=True)
        self.basis_seed = basis_seed
        gauss = np.random.default_rng(basis_seed).standard_normal((self.dim, self.k))
        self.basis, _ = np.linalg.qr(gauss)
        self.intrinsic_dim = self.k if self.eta == 0 else self.dim

    def sample(self, n, rng):
        z = rng.uniform(size=(n, self.k))
        x = z @ self.basis.T
        if self.eta > 0:
            x += _uniform_in_ball(n, self.dim, self.eta, rng)
        return x

    @property
    def support_radius(self):
        # coordinate i of B z ranges over [sum_j min(0, B_ij), sum_j max(0, B_ij)]
        span = np.clip(self.basis, 0, None).sum(1) - np.clip(self.basis, None, 0).sum(1)
        return float(span.max() / 2 + self.eta)

    @property
    def bound_geometry(self):
        if self.eta == 0:  # in the frame's coordinates the law is uniform on [0, 1]^k
            return self.k, 0.5
        return self.dim, self.support_radius

    def describe(self):
        return {**super().describe(), "k": self.k, "eta": self.eta, "basis_seed": self.basis_seed}


class Discrete(Law):
    """A discrete law on given atoms with given weights; exact one-sample reference.

    Parameters
    ----------
    atoms : array_like, shape (k, d) or (k,)
        The atoms.
    weights : array_like, shape (k,), optional
        Probabilities (non-negative, summing to one); uniform by default.

    Raises
    ------
    ValueError, TypeError
        Non-finite or empty atoms, or invalid weights.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.rates import Discrete
    >>> law = Discrete([[0.0], [1.0]], weights=[0.25, 0.75])
    >>> law.cost_to_law(np.array([[0.0], [1.0]]), p=1)      # 1/4 of the mass moves by 1
    0.25
    """

    name = "discrete"

    def __init__(self, atoms, weights=None):
        self.atoms = as_points(atoms, "atoms")
        k = self.atoms.shape[0]
        self.weights = as_weights(weights, k, "weights")
        if self.weights is None:
            self.weights = np.full(k, 1.0 / k)
        self.dim = self.atoms.shape[1]
        self.intrinsic_dim = 0

    def sample(self, n, rng):
        idx = rng.choice(self.atoms.shape[0], size=n, p=self.weights)
        return self.atoms[idx].copy()

    @property
    def support_radius(self):
        return float((self.atoms.max(0) - self.atoms.min(0)).max() / 2)

    @property
    def has_exact_reference(self) -> bool:
        return True

    def cost_to_law(self, x, p):
        from ..ot import transport

        x = as_points(x, "x")
        support, counts = np.unique(x, axis=0, return_counts=True)
        return transport(support, self.atoms, p, a=counts / counts.sum(), b=self.weights).cost

    def describe(self):
        return {
            **super().describe(),
            "atoms": self.atoms.tolist(),
            "weights": self.weights.tolist(),
        }


class TwoAtom(Discrete):
    r"""Two atoms, 0 and ``separation * e_1`` in R^d, with weights ``(w, 1 - w)``.

    Exact one-sample cost: if the sample puts a fraction f on the first atom,
    :math:`W_p^p(\mu_N, \mu) = |f - w|\,\text{separation}^p` (the excess mass
    moves across), so :math:`\mathbb{E}\,W_p^p \sim N^{-1/2}` in every d.

    Parameters
    ----------
    d : int, default 1
        Dimension.
    w : float in (0, 1), default 0.5
        Weight of the atom at 0.
    separation : float, default 1
        Distance between the atoms.

    Raises
    ------
    ValueError
        w outside (0, 1), or a non-positive d or separation.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.rates import TwoAtom
    >>> law = TwoAtom(d=2, w=0.5, separation=2.0)
    >>> law.cost_to_law(np.array([[0.0, 0.0]] * 3 + [[2.0, 0.0]]), p=1)   # f = 3/4: |3/4 - 1/2| * 2
    0.5
    """

    name = "two-atom"

    def __init__(self, d: int = 1, w: float = 0.5, separation: float = 1.0):
        d = check_positive_int(d, "d")
        if not 0 < w < 1:
            raise ValueError(f"w must be in (0, 1), got {w}")
        self.w = float(w)
        self.separation = check_positive_real(separation, "separation")
        atoms = np.zeros((2, d))
        atoms[1, 0] = self.separation
        super().__init__(atoms, [self.w, 1 - self.w])

    @property
    def bound_geometry(self):
        return 1, self.separation / 2  # both atoms lie on a segment

    def describe(self):
        return {
            "law": self.name,
            "d": self.dim,
            "intrinsic_dim": 0,
            "w": self.w,
            "separation": self.separation,
        }


LAW_NAMES = ("uniform", "gaussian", "ball", "subspace", "two-atom")


def make_law(name: str, d: int, *, k: int | None = None, eta: float = 0.0, basis_seed: int = 0) -> Law:
    """Build a built-in law by name (used by the CLI): one of :data:`LAW_NAMES`.

    Parameters
    ----------
    name : str
        ``"uniform"``, ``"gaussian"``, ``"ball"``, ``"subspace"`` or ``"two-atom"``.
    d : int
        Dimension.
    k, eta, basis_seed
        For ``"subspace"`` (k required there).

    Returns
    -------
    Law
        The law.

    Raises
    ------
    ValueError
        An unknown name, or invalid parameters for the law.

    Examples
    --------
    >>> from lmctheory.rates import make_law
    >>> make_law("subspace", 10, k=3).describe()["k"]
    3
    """
    if name == "uniform":
        return UniformCube(d)
    if name == "gaussian":
        return Gaussian(d)
    if name == "ball":
        return UniformBall(d)
    if name == "subspace":
        if k is None:
            raise ValueError("the subspace law needs k (the subspace dimension), e.g. --k 5")
        return Subspace(d, k, eta=eta, basis_seed=basis_seed)
    if name == "two-atom":
        return TwoAtom(d)
    raise ValueError(f"unknown law {name!r}; choose one of {', '.join(LAW_NAMES)}")
