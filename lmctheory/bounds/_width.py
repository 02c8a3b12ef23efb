r"""Width bounds for linear mode connectivity (LMC), symbolic and numeric.

"How wide must the layers be for two networks to be epsilon-linearly connected
modulo permutation?" (:ref:`theory-width-bounds`). Two kinds of objects:

Symbolic bounds (:class:`WidthBound`), with every constant a named symbol:

* :func:`ferbach_two_layer`: width :math:`\ge (C/\varepsilon)^{m_0}` (Ferbach et
  al. 2024; matching error of incoming weights decays as :math:`m^{-1/m_0}` in
  the sharp regime :math:`m_0 > 2p`),
* :func:`entezari_two_layer`: :math:`(C/\varepsilon)^{2 m_0 + 4}` (Entezari et al. 2022),
* :func:`deep_recursion`: :math:`\tilde m_0 = m_0`,
  :math:`\tilde m_l = (T_l/\varepsilon)^{\tilde m_{l-1}}` (Ferbach et al., Thm 5.2;
  log factors omitted),
* :func:`low_dimensional`: exponent k instead of :math:`m_0` for weights within
  :math:`\eta` of a k-dim subspace, valid up to widths :math:`\sim\eta^{-k}` (Thm 5.4),
* :func:`matching_lower_bound`: the width *necessary for a matching error* below epsilon, from
  the lower bound :math:`\mathbb{E}\,\mathrm{err} \ge \frac{d}{d+1}(m F V_d)^{-1/d}` (derived).
  It is necessary for the weight-matching construction to reach that error, not for
  epsilon-LMC itself: two narrower networks may still be linearly connected by other means.

The papers do not publish the constants C, T_l: they are parameters whose
default 1 gives the *shape* of the bound only, and every result records which
constants were used. Each bound has ``.expr`` (sympy), ``.latex()``,
``.solve_width(epsilon, **constants)`` (a :class:`~lmctheory.bounds.Tower`:
widths like :math:`10^{784}` or :math:`10^{10^{784}}` never overflow) and
``.solve_epsilon(width, **constants)``.

Explicit numeric bounds (all constants known, :ref:`theory-fg-explicit`, :ref:`theory-certified-bound`; derived by us):
:func:`matching_error_upper_bound`, :func:`matching_error_lower_bound`,
:func:`barrier_bound_from_matching`, :func:`barrier_upper_bound`, and
:func:`explicit_width` to turn any of them into a prescribed width.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from scipy.special import gammaln

from ..rates import log10_fg_explicit_bound
from ..utils.validation import check_positive_int, check_positive_real
from ._towers import Tower, power_of

__all__ = [
    "Constant",
    "WidthBound",
    "ferbach_two_layer",
    "entezari_two_layer",
    "deep_recursion",
    "DeepRecursionBound",
    "low_dimensional",
    "matching_lower_bound",
    "log10_unit_ball_volume",
    "matching_error_upper_bound",
    "matching_error_lower_bound",
    "barrier_bound_from_matching",
    "barrier_upper_bound",
    "explicit_width",
    "width_table",
    "as_tower",
]

EPS = sp.Symbol("epsilon", positive=True)
WIDTH = sp.Symbol("m", positive=True)


@dataclass(frozen=True)
class Constant:
    """A named constant of a bound: its default and whether a paper publishes it.

    Parameters
    ----------
    name : str
        Symbol, e.g. ``"C"``.
    default : float or None
        Default value (None: the caller must give it).
    description : str
        What it stands for.
    published : bool, default False
        Whether a paper gives its value (otherwise only the shape of the bound is meaningful).

    Examples
    --------
    >>> from lmctheory.bounds import ferbach_two_layer
    >>> (c,) = ferbach_two_layer(5).constants
    >>> c.name, c.default, c.published
    ('C', 1.0, False)
    """

    name: str
    default: float | None
    description: str
    published: bool = False


@dataclass(frozen=True)
class WidthBound:
    r"""A width bound: ``width >= expr(epsilon)`` (``kind="upper"``: sufficient width) or a necessary
    width (``kind="lower"``) (:ref:`theory-width-bounds`).

    Built by the functions of this module, not by hand. ``solve_width(epsilon, **constants)`` is the
    width (a :class:`~lmctheory.bounds.Tower`, never an overflow), ``solve_epsilon(width, **constants)``
    the epsilon guaranteed (upper) or unreachable (lower) at a width, ``latex()`` the formula and
    ``describe()`` everything as JSON data.

    Parameters
    ----------
    name, kind : str
        Name and ``"upper"`` or ``"lower"``.
    expr : sympy.Expr
        The width as a function of epsilon and the constants.
    constants : tuple of Constant
        Its constants.
    assumptions : tuple of str
        Conditions under which it holds.
    provenance, source : str
        Whether it is published or derived here, and where.

    Raises
    ------
    ValueError, TypeError
        From ``solve_width``/``solve_epsilon``: an invalid epsilon or width, an unknown constant or a
        missing value.

    Examples
    --------
    >>> from lmctheory.bounds import ferbach_two_layer
    >>> bound = ferbach_two_layer(5)
    >>> bound.latex()
    'm \\geq \\left(\\frac{C}{\\epsilon}\\right)^{m_{0}}'
    >>> str(bound.solve_width(0.1)), round(bound.solve_epsilon(1e5), 12)
    ('1e+05', 0.1)
    """

    name: str
    kind: str
    expr: sp.Expr
    constants: tuple[Constant, ...]
    assumptions: tuple[str, ...]
    provenance: str
    source: str
    _log10_width: Callable = field(repr=False, compare=False)
    _epsilon: Callable = field(repr=False, compare=False)
    valid_up_to: Callable | None = field(default=None, repr=False, compare=False)

    def latex(self) -> str:
        return f"m \\geq {sp.latex(self.expr)}"

    def _values(self, constants: dict) -> dict:
        known = {c.name: c for c in self.constants}
        unknown = set(constants) - set(known)
        if unknown:
            raise TypeError(f"{self.name}: unknown constant(s) {sorted(unknown)}; known: {sorted(known)}")
        values = {}
        for name, const in known.items():
            value = constants.get(name, const.default)
            if value is None:
                raise ValueError(f"{self.name}: constant {name} has no default; pass {name}=...")
            values[name] = check_positive_real(value, name)
        return values

    def solve_width(self, epsilon: float, **constants) -> Tower:
        """The width the bound prescribes for ``epsilon`` (as a Tower: never overflows)."""
        epsilon = _check_epsilon(epsilon)
        return self._log10_width(epsilon, self._values(constants))

    def solve_epsilon(self, width, **constants) -> float:
        """The epsilon the bound guarantees (upper) or cannot beat (lower) at ``width``."""
        return float(self._epsilon(as_tower(width), self._values(constants)))

    def describe(self, **constants) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "latex": self.latex(),
            "constants": {
                c.name: {
                    "value": self._values(constants)[c.name],
                    "default": c.default,
                    "published": c.published,
                    "description": c.description,
                }
                for c in self.constants
            },
            "assumptions": list(self.assumptions),
            "provenance": self.provenance,
            "source": self.source,
        }


def _check_epsilon(epsilon) -> float:
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.floating, np.integer)):
        raise TypeError(f"epsilon must be a real number > 0, got {epsilon!r}")
    epsilon = float(epsilon)
    if not math.isfinite(epsilon) or epsilon <= 0:
        raise ValueError(f"epsilon must be a finite real number > 0, got {epsilon}")
    return epsilon


def as_tower(width) -> Tower:
    """A width given as a number >= 1, a Tower or a dict such as ``{"log10": 784}``.

    Parameters
    ----------
    width : number, Tower or dict
        The width.

    Returns
    -------
    Tower
        The same number.

    Raises
    ------
    ValueError, TypeError
        Below 1, non-finite, or a dict with other than one ``log10``-style key.

    Examples
    --------
    >>> from lmctheory.bounds import as_tower
    >>> str(as_tower({"log10": 784})), str(as_tower(5))
    ('10^784', '5')
    """
    if isinstance(width, Tower):
        t = width
    elif isinstance(width, dict):
        if len(width) != 1:
            raise ValueError(f"width dict must have one key such as 'log10', got {width}")
        ((key, value),) = width.items()
        if key == "value":
            return as_tower(value)
        level = key.count("log10")
        if not key or key != "log10" * level:
            raise ValueError(f"width dict keys are 'log10', 'log10log10', ...; got {key!r}")
        t = Tower(level, float(value))
    else:
        if isinstance(width, bool) or not isinstance(width, (int, float, np.floating, np.integer)):
            raise TypeError(f"width must be a number >= 1, a Tower or {{'log10': x}}, got {width!r}")
        t = Tower(0, float(width)) if math.isfinite(float(width)) else None
        if t is None:
            raise ValueError(f"width must be finite, got {width}")
    t = t.normalised()
    if t.level == 0 and t.value < 1:
        raise ValueError(f"width must be >= 1, got {t.value}")
    return t


def _rate_exponent_check(m0: int, p: float) -> None:
    if m0 <= 2 * p:
        raise ValueError(
            f"the rate m^(-1/m0) needs the sharp Fournier-Guillin regime m0 > 2p; got m0={m0}, p={p:g} "
            "(Ferbach et al. assume m0 >= 5 for p = 2)"
        )


def _power_bound(
    name,
    exponent_expr,
    exponent_value: float,
    *,
    kind="upper",
    constants,
    assumptions,
    provenance,
    source,
    valid_up_to=None,
) -> WidthBound:
    """Bounds of the form width = (C/epsilon)^exponent."""
    C = sp.Symbol("C", positive=True)

    def log10_width(eps, v):  # a width is at least 1: epsilon >= C is met by every width
        return Tower.from_log10(max(0.0, exponent_value * _log10_ratio(v["C"], eps)))

    def epsilon_of(width: Tower, v):
        lw = width.log10_float()  # log10 width
        return v["C"] * 10.0 ** (-lw / exponent_value) if math.isfinite(lw) else 0.0

    return WidthBound(
        name,
        kind,
        (C / EPS) ** exponent_expr,
        constants,
        assumptions,
        provenance,
        source,
        log10_width,
        epsilon_of,
        valid_up_to,
    )


_C_TWO_LAYER = Constant(
    "C",
    1.0,
    "constant of the matching-error rate times the loss/activation Lipschitz "
    "constants (not published; 1 gives the shape only)",
)


def ferbach_two_layer(m0: int, p: float = 2.0) -> WidthBound:
    r"""Two-layer upper bound of Ferbach et al. (2024): width :math:`\ge (C/\varepsilon)^{m_0}`.

    Parameters
    ----------
    m0 : int
        Input dimension (fan-in of the hidden layer), ``m0 > 2p``.
    p : float, default 2
        Order of the Wasserstein rate.

    Returns
    -------
    WidthBound
        ``kind="upper"``; its constant C is unpublished (default 1: the shape).

    Raises
    ------
    ValueError, TypeError
        Invalid arguments (non-positive integers, p outside the sharp regime where the rate needs it).

    Examples
    --------
    >>> from lmctheory.bounds import ferbach_two_layer
    >>> str(ferbach_two_layer(784).solve_width(0.1))
    '10^784'
    """
    m0 = check_positive_int(m0, "m0")
    _rate_exponent_check(m0, p)
    sym = sp.Symbol("m_0", positive=True, integer=True)
    b = _power_bound(
        "ferbach-two-layer",
        sym,
        float(m0),
        constants=(_C_TWO_LAYER,),
        assumptions=(
            f"two-layer network, input dimension m0 = {m0}",
            "incoming weights iid from a law with bounded support (dimension m0)",
            f"sharp Fournier-Guillin regime m0 > 2p (p = {p:g})",
            "log factors omitted",
        ),
        provenance="paper statement (shape); constant C not published",
        source="Ferbach, Goujaud, Gidel, Dieuleveut, AISTATS 2024 (arXiv 2310.19103)",
    )
    return b


def entezari_two_layer(m0: int) -> WidthBound:
    r"""Two-layer bound of Entezari et al. (2022): width :math:`\ge (C/\varepsilon)^{2 m_0 + 4}`.

    Parameters
    ----------
    m0 : int
        Input dimension.

    Returns
    -------
    WidthBound
        ``kind="upper"`` (C unpublished, default 1).

    Raises
    ------
    ValueError, TypeError
        Invalid arguments (non-positive integers, p outside the sharp regime where the rate needs it).

    Examples
    --------
    >>> from lmctheory.bounds import entezari_two_layer
    >>> str(entezari_two_layer(3).solve_width(0.1))
    '1e+10'
    """
    m0 = check_positive_int(m0, "m0")
    sym = sp.Symbol("m_0", positive=True, integer=True)
    b = _power_bound(
        "entezari-two-layer",
        2 * sym + 4,
        float(2 * m0 + 4),
        constants=(_C_TWO_LAYER,),
        assumptions=(f"two-layer network, input dimension m0 = {m0}", "log factors omitted"),
        provenance="paper statement (shape); constant C not published",
        source="Entezari, Sedghi, Saukh, Neyshabur, ICLR 2022",
    )
    return b


def low_dimensional(k: int, eta: float, m0: int | None = None, p: float = 2.0) -> WidthBound:
    r"""Low-dimensional support (Ferbach et al., Thm 5.4): width :math:`\ge (C/\varepsilon)^k`,
    valid while the width stays below about :math:`\eta^{-k}` (weights within
    :math:`\eta` of a k-dim subspace; beyond, the full dimension returns).

    Parameters
    ----------
    k : int
        Dimension of the subspace, ``k > 2p``.
    eta : float
        Distance of the weights from it, > 0.
    m0 : int, optional
        Ambient dimension (checked: ``k <= m0``).
    p : float, default 2
        Order.

    Returns
    -------
    WidthBound
        ``kind="upper"`` with ``valid_up_to(epsilon)`` the largest width it covers.

    Raises
    ------
    ValueError, TypeError
        ``k > m0``, k outside the sharp regime, or a non-positive eta.

    Examples
    --------
    >>> from lmctheory.bounds import low_dimensional
    >>> str(low_dimensional(5, 0.01, m0=784).solve_width(0.1))     # instead of 10^784
    '1e+05'
    """
    k = check_positive_int(k, "k")
    eta = check_positive_real(eta, "eta")
    if m0 is not None and k > m0:
        raise ValueError(f"k must be <= m0, got k={k} > m0={m0}")
    _rate_exponent_check(k, p)
    sym = sp.Symbol("k", positive=True, integer=True)
    return _power_bound(
        "low-dimensional",
        sym,
        float(k),
        constants=(_C_TWO_LAYER,),
        assumptions=(
            f"weights within eta = {eta:g} of a k = {k} dimensional subspace",
            f"valid for widths up to eta^-k = 10^{-k * math.log10(eta):.4g}",
            "log factors omitted",
        ),
        provenance="paper statement (shape); constant C not published",
        source="Ferbach et al. 2024, Thm 5.4",
        valid_up_to=lambda: Tower.from_log10(-k * math.log10(eta)),
    )


def deep_recursion(m0: int, depth: int) -> WidthBound:
    r"""Deep recursion (Ferbach et al., Lemma 4.1 / Thm 5.2, log factors omitted; :ref:`theory-width-bounds`):
    :math:`\tilde m_0 = m_0`, :math:`\tilde m_l = (T/\varepsilon)^{\tilde m_{l-1}}`, l = 1..depth.

    ``solve_width`` gives the last hidden layer's width, :meth:`DeepRecursionBound.layer_widths`
    every layer's; widths come out as Towers (:math:`\log_{10}` of layer 2 is itself :math:`\sim 10^{m_0}`).

    Parameters
    ----------
    m0 : int
        Input dimension.
    depth : int
        Hidden layers, at most ``MAX_DEPTH``.

    Returns
    -------
    DeepRecursionBound
        ``kind="upper"`` (T unpublished, default 1).

    Raises
    ------
    ValueError, TypeError
        Invalid arguments (non-positive integers, p outside the sharp regime where the rate needs it).

    Examples
    --------
    >>> from lmctheory.bounds import deep_recursion
    >>> [str(w) for w in deep_recursion(3, 2).layer_widths(0.5)]      # 2^3, then 2^8
    ['8', '256']
    """
    m0 = check_positive_int(m0, "m0")
    depth = check_positive_int(depth, "depth")
    if depth > MAX_DEPTH:
        raise ValueError(f"depth must be at most {MAX_DEPTH} hidden layers, got {depth}")
    T = sp.Symbol("T", positive=True)
    if depth <= _NESTED_DEPTH:  # the nested tower, written out
        expr = sp.Symbol("m_0", positive=True, integer=True)
        for _ in range(depth):
            expr = (T / EPS) ** expr
    else:  # the last step of the recursion, in terms of the previous layer's width
        expr = (T / EPS) ** sp.Symbol(f"\\tilde m_{{{depth - 1}}}", positive=True)

    def widths(eps, v):
        return _deep_widths(_log10_ratio(v["T"], eps), m0, depth)

    def epsilon_of(width: Tower, v):
        # the smallest epsilon whose last-layer width fits in `width`: the widths increase
        # with a = log10(T/epsilon) and tend to 1 as a -> 0+, so bisect on a > 0
        def fits(a):
            return _deep_widths(a, m0, depth)[-1] <= width

        lo, hi = 0.0, 1.0
        while fits(hi):
            lo, hi = hi, 2 * hi
            if hi > 1e300:
                return 0.0
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if fits(mid) else (lo, mid)
            if hi - lo <= 1e-15 * hi:
                break
        return v["T"] * 10.0 ** (-lo)

    return DeepRecursionBound(
        f"deep-recursion-depth{depth}",
        "upper",
        expr,
        (Constant("T", 1.0, "per-layer constant T_l (not published; 1 gives the shape only)"),),
        (
            f"MLP with {depth} hidden layer(s), input dimension m0 = {m0}",
            "iid neuron weights per layer (exact at initialisation)",
            "log factors omitted",
            "the same T for every layer",
        ),
        "paper statement (structure of the recursion); constants T_l not published",
        "Ferbach et al. 2024, Lemma 4.1 and Thm 5.2",
        lambda eps, v: widths(eps, v)[-1],
        epsilon_of,
        None,
        widths,
    )


@dataclass(frozen=True)
class DeepRecursionBound(WidthBound):
    """The deep recursion: ``solve_width`` is the last layer's width, ``layer_widths(epsilon)`` every layer's.

    Built by :func:`deep_recursion`; the parameters are those of :class:`WidthBound`.

    Parameters
    ----------
    name, kind, expr, constants, assumptions, provenance, source
        As for :class:`WidthBound`.

    Raises
    ------
    ValueError, TypeError
        From ``solve_width``/``layer_widths``: an invalid epsilon or constant.

    Examples
    --------
    >>> from lmctheory.bounds import deep_recursion
    >>> bound = deep_recursion(784, 2)
    >>> bound.layer_widths(0.1)[1].to_dict()          # layer 2: 10^(10^784)
    {'log10log10': 784.0}
    """

    _widths: Callable | None = field(default=None, repr=False, compare=False)

    def layer_widths(self, epsilon: float, **constants) -> list[Tower]:
        """Widths m~_1, ..., m~_depth (Towers) for ``epsilon``."""
        return self._widths(_check_epsilon(epsilon), self._values(constants))


#: deepest network the recursion is computed for (hidden layers)
MAX_DEPTH = 10_000
#: up to this depth the sympy expression is the nested tower written out
_NESTED_DEPTH = 8


def _log10_ratio(numerator: float, epsilon: float) -> float:
    """log10(numerator / epsilon) without forming the ratio (no overflow or underflow)."""
    return math.log10(numerator) - math.log10(epsilon)


def _deep_widths(a: float, m0: int, depth: int) -> list[Tower]:
    """Towers of m~_1..m~_depth for a = log10(T/epsilon)."""
    if a <= 0:  # epsilon >= T: every width satisfies the shape; a width is at least 1
        return [Tower(0, 1.0)] * depth
    out, m = [], Tower(0, float(m0))
    for _ in range(depth):
        m = power_of(a, m)
        out.append(m)
    return out


def log10_unit_ball_volume(d: int) -> float:
    r""":math:`\log_{10} V_d`, :math:`V_d = \pi^{d/2} / \Gamma(d/2 + 1)` (no overflow for any d).

    Parameters
    ----------
    d : int
        Dimension, >= 1.

    Returns
    -------
    float
        :math:`\log_{10}` of the volume of the unit ball of R^d.

    Raises
    ------
    ValueError
        A non-positive d.

    Examples
    --------
    >>> import math
    >>> from lmctheory.bounds import log10_unit_ball_volume
    >>> math.isclose(10 ** log10_unit_ball_volume(2), math.pi)
    True
    """
    d = check_positive_int(d, "d")
    return float((d / 2 * math.log(math.pi) - gammaln(d / 2 + 1)) / math.log(10))


def matching_lower_bound(d: int) -> WidthBound:
    r"""Width necessary for a small matching error, from its lower bound (derived; cf. Ferbach et al., Thm 5.3;
    :ref:`theory-lower-bound`).

    For weights with density bounded by F, the expected matching error satisfies
    :math:`\mathbb{E}\,\min_\pi \frac1m\sum_i|w_i - w'_{\pi(i)}| \ge \frac{d}{d+1}(m F V_d)^{-1/d}`
    (each :math:`w_i` is at least as far as its nearest :math:`w'_j`, and
    :math:`P(\min_j |w - w'_j| \le t) \le m F V_d t^d`). So an error below
    :math:`\varepsilon` *needs* :math:`m \ge (\frac{d}{(d+1)\varepsilon})^d / (F V_d)`.

    Necessary for the *matching error* (so for the barrier bounds built on it), not for
    epsilon-LMC: the barrier of two networks can be small for reasons the matching error does not see.

    Parameters
    ----------
    d : int
        Dimension of the weight law (with a density).

    Returns
    -------
    WidthBound
        ``kind="lower"``; constant F (density bound, default 1).

    Raises
    ------
    ValueError, TypeError
        Invalid arguments (non-positive integers, p outside the sharp regime where the rate needs it).

    Examples
    --------
    >>> from lmctheory.bounds import matching_lower_bound
    >>> round(matching_lower_bound(3).solve_width(0.1).value, 1)
    100.7
    """
    d = check_positive_int(d, "d")
    F = sp.Symbol("F", positive=True)
    dsym = sp.Symbol("d", positive=True, integer=True)
    Vd = sp.pi ** (dsym / 2) / sp.gamma(dsym / 2 + 1)
    expr = (dsym / ((dsym + 1) * EPS)) ** dsym / (F * Vd)

    def log10_width(eps, v):
        return _lower_bound_width(d, eps, math.log10(v["F"]))

    def epsilon_of(width: Tower, v):
        return _lower_bound_error(d, width, math.log10(v["F"]))

    return WidthBound(
        "matching-lower-bound",
        "lower",
        expr,
        (
            Constant(
                "F",
                1.0,
                "bound on the density of the weight law (1: uniform on a unit-volume set, "
                "e.g. [0,1]^d; (2r)^-d for the cube [-r,r]^d)",
                published=False,
            ),
        ),
        (
            f"incoming weights in R^d, d = {d}, with density bounded by F",
            "matching error = E min over permutations of the mean Euclidean distance (W_1)",
        ),
        "derived (nearest-neighbour argument); structure of Ferbach et al. Thm 5.3",
        "docs theory-lower-bound (derived)",
        log10_width,
        epsilon_of,
    )


def _lower_bound_width(d: int, eps: float, log10_F: float) -> Tower:
    """Necessary width (d/((d+1) eps))^d / (F V_d), in log space."""
    log10_width = d * (math.log10(d / (d + 1)) - math.log10(eps)) - log10_F - log10_unit_ball_volume(d)
    return Tower.from_log10(max(0.0, log10_width))  # a width is at least 1


def _lower_bound_error(d: int, width: Tower, log10_F: float) -> float:
    """Lower bound d/(d+1) (m F V_d)^(-1/d) on the expected matching error, in log space."""
    lw = width.log10_float()
    if not math.isfinite(lw):
        return 0.0
    return d / (d + 1) * 10.0 ** (-(lw + log10_F + log10_unit_ball_volume(d)) / d)


def _log10_density(d: int, density_bound, cube_radius) -> float:
    if (density_bound is None) == (cube_radius is None):
        raise ValueError(
            "give exactly one of density_bound (F) and cube_radius (uniform law on [-r, r]^d, F = (2r)^-d)"
        )
    if cube_radius is not None:
        return -d * math.log10(2 * check_positive_real(cube_radius, "cube_radius"))
    return math.log10(check_positive_real(density_bound, "density_bound"))


# --------------------------------------------------------- explicit numerics


def matching_error_upper_bound(width, m0: int, *, radius: float = 1.0, capped: bool = False) -> float:
    r"""Explicit bound on the expected optimal matching error of two random layers.

    :math:`\mathbb{E}\,\min_\pi \frac1m \sum_i |w_i - w'_{\pi(i)}| = \mathbb{E}\,W_1(\mu_m, \nu_m)`
    for two independent layers of m incoming-weight vectors iid from a law on a
    cube of side ``2 * radius`` in :math:`R^{m_0}`: the two-sample explicit
    Fournier–Guillin bound with p = 1 (:func:`lmctheory.rates.fg_explicit_bound`).

    The bound is rigorous but loose: it exceeds the cube's diameter :math:`2 r \sqrt{m_0}`, which
    bounds every matching error, for widths below about 449 (m0 = 3), 8,400 (m0 = 5), 370,000
    (m0 = 8) and 5.3 million (m0 = 10); there it says nothing. ``capped=True`` returns
    :math:`\min(\text{bound}, 2 r \sqrt{m_0})`, the rigorous number to use.

    Parameters
    ----------
    width : number >= 1, Tower or ``{"log10": x}``
        The width m (huge widths as Towers).
    m0 : int
        Fan-in (dimension of the weight vectors).
    radius : float, default 1
        Half-side of the cube holding the weights.
    capped : bool, default False
        Cap at the diameter.

    Returns
    -------
    float
        The bound.

    Raises
    ------
    ValueError, TypeError
        An invalid width, m0 or radius.

    Examples
    --------
    >>> from lmctheory.bounds import matching_error_upper_bound
    >>> round(matching_error_upper_bound(100, 3, capped=True), 6)     # the diameter 2 sqrt(3)
    3.464102
    >>> round(matching_error_upper_bound(10**6, 3), 6)
    0.338004
    """
    m0 = check_positive_int(m0, "m0")
    radius = check_positive_real(radius, "radius")
    lw = as_tower(width).log10_float()
    if not math.isfinite(lw):
        return 0.0
    bound = 10.0 ** log10_fg_explicit_bound(lw, m0, 1.0, two_sample=True, radius=radius)
    return min(bound, 2 * radius * math.sqrt(m0)) if capped else bound


def matching_error_lower_bound(
    width, d: int, *, density_bound: float | None = None, cube_radius: float | None = None
) -> float:
    r"""Explicit lower bound :math:`\frac{d}{d+1}(m F V_d)^{-1/d}` on the expected matching error
    (:ref:`theory-lower-bound`).

    The same quantity as :func:`matching_error_upper_bound`. Give ``density_bound``
    (F, a bound on the density of the weight law) or ``cube_radius`` r for the
    uniform law on :math:`[-r, r]^d` (:math:`F = (2r)^{-d}`, handled in log space:
    it underflows floats for large d).

    Parameters
    ----------
    width : number >= 1, Tower or ``{"log10": x}``
        The width m.
    d : int
        Dimension.
    density_bound : float, optional
        F.
    cube_radius : float, optional
        r (instead of F).

    Returns
    -------
    float
        The lower bound.

    Raises
    ------
    ValueError
        Both or neither of ``density_bound`` and ``cube_radius``, or invalid values.

    Examples
    --------
    >>> from lmctheory.bounds import matching_error_lower_bound, matching_error_upper_bound
    >>> lo = matching_error_lower_bound(10**6, 3, cube_radius=1.0)
    >>> round(lo, 6), lo <= matching_error_upper_bound(10**6, 3)
    (0.009305, True)
    """
    d = check_positive_int(d, "d")
    return _lower_bound_error(d, as_tower(width), _log10_density(d, density_bound, cube_radius))


def barrier_bound_from_matching(
    matching_error: float,
    *,
    input_radius: float,
    output_bound: float,
    activation_lipschitz: float = 1.0,
    convexity_gap: float = 1.0,
    loss_lipschitz: float = 1.0,
) -> float:
    r"""Certified loss barrier of two matched two-layer nets, from their matching error.

    For :math:`f(x) = \frac1m \sum_i a_i \sigma(w_i \cdot x)` with
    :math:`|a_i| \le A` (``output_bound``), :math:`|x| \le R` (``input_radius``),
    :math:`\sigma` L-Lipschitz with convexity gap :math:`\kappa` (1 for ReLU,
    1 - s for leaky ReLU of slope s, 0 for identity) and a loss convex and
    ``loss_lipschitz``-Lipschitz in the output, :ref:`theory-certified-bound` gives on the
    path :math:`\theta(t) = t\theta_A + (1-t)\pi(\theta_B)`:

    .. math:: L(\theta(t)) - [t L_A + (1-t) L_B] \le \mathrm{Lip}\; t(1-t)\, R\, A\,
              (\kappa + 2L)\; \frac1m \sum_i |w^A_i - w^B_{\pi(i)}|,

    maximal at t = 1/2 (factor 1/4). The matching uses incoming weights only,
    so output weights differ by at most 2A. Deterministic: it holds for every
    realisation, with the realised matching error.

    Parameters
    ----------
    matching_error : float
        :math:`\frac1m \sum_i |w^A_i - w^B_{\pi(i)}|`, >= 0.
    input_radius, output_bound : float
        R and A.
    activation_lipschitz, convexity_gap, loss_lipschitz : float, default 1
        L, :math:`\kappa` and Lip.

    Returns
    -------
    float
        The bound on the loss barrier above the chord.

    Raises
    ------
    ValueError
        Negative or non-finite arguments.

    Examples
    --------
    >>> from lmctheory.bounds import barrier_bound_from_matching
    >>> round(barrier_bound_from_matching(0.1, input_radius=1.0, output_bound=1.0), 12)   # 1/4 * 3 * 0.1
    0.075
    """
    for name, value in (
        ("input_radius", input_radius),
        ("output_bound", output_bound),
        ("activation_lipschitz", activation_lipschitz),
        ("loss_lipschitz", loss_lipschitz),
    ):
        check_positive_real(value, name)
    check_positive_real(convexity_gap, "convexity_gap", allow_zero=True)
    check_positive_real(matching_error, "matching_error", allow_zero=True)
    return (
        loss_lipschitz
        * input_radius
        * output_bound
        * (convexity_gap + 2 * activation_lipschitz)
        / 4
        * matching_error
    )


def barrier_upper_bound(
    width,
    m0: int,
    *,
    radius: float = 1.0,
    input_radius: float,
    output_bound: float,
    activation_lipschitz: float = 1.0,
    convexity_gap: float = 1.0,
    loss_lipschitz: float = 1.0,
) -> float:
    """Explicit bound on the expected loss barrier of two random two-layer nets after optimal
    matching: :func:`barrier_bound_from_matching` applied to :func:`matching_error_upper_bound`
    (capped at the cube's diameter, which bounds every matching error).

    Parameters
    ----------
    width : number >= 1, Tower or ``{"log10": x}``
        The width m.
    m0 : int
        Fan-in.
    radius : float, default 1
        Half-side of the cube holding the weights.
    input_radius, output_bound, activation_lipschitz, convexity_gap, loss_lipschitz : float
        As :func:`barrier_bound_from_matching`.

    Returns
    -------
    float
        The bound.

    Raises
    ------
    ValueError, TypeError
        Invalid arguments.

    Examples
    --------
    >>> from lmctheory.bounds import barrier_upper_bound
    >>> round(barrier_upper_bound(10**6, 3, input_radius=1.0, output_bound=1.0), 6)
    0.253503
    """
    return barrier_bound_from_matching(
        matching_error_upper_bound(width, m0, radius=radius, capped=True),
        input_radius=input_radius,
        output_bound=output_bound,
        activation_lipschitz=activation_lipschitz,
        convexity_gap=convexity_gap,
        loss_lipschitz=loss_lipschitz,
    )


def explicit_width(epsilon: float, bound: Callable[[Tower], float], *, max_log10: float = 1e300) -> Tower:
    r"""Smallest width m (a Tower) with ``bound(m) <= epsilon``, for a bound decreasing in m.

    Brackets :math:`\log_{10} m` by doubling, then bisects to relative precision
    1e-15, finishing on integers when m < 10^15.

    Parameters
    ----------
    epsilon : float
        Target, > 0.
    bound : callable ``Tower -> float``
        Decreasing in the width.
    max_log10 : float, default 1e300
        Largest :math:`\log_{10} m` tried.

    Returns
    -------
    Tower
        The width.

    Raises
    ------
    ValueError
        An invalid epsilon, or even :math:`10^{max\_log10}` is not enough.

    Examples
    --------
    >>> from lmctheory.bounds import explicit_width, matching_error_upper_bound
    >>> m = explicit_width(0.5, lambda w: matching_error_upper_bound(w, 3))
    >>> str(m), matching_error_upper_bound(m, 3) <= 0.5
    ('2.706e+05', True)
    """
    epsilon = _check_epsilon(epsilon)

    def ok(log10_m):
        return bound(Tower.from_log10(log10_m)) <= epsilon

    if ok(0.0):
        return Tower(0, 1.0)
    lo, hi = 0.0, 1.0
    while not ok(hi):
        lo, hi = hi, 2 * hi
        if hi > max_log10:
            raise ValueError(f"no width up to 10^{max_log10:g} brings the bound below epsilon={epsilon}")
    while hi - lo > 1e-15 * hi:
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    if hi < 15:  # exact integer answer
        m = math.ceil(10.0**hi)
        while m > 1 and bound(Tower(0, float(m - 1))) <= epsilon:
            m -= 1
        while bound(Tower(0, float(m))) > epsilon:
            m += 1
        return Tower(0, float(m))
    return Tower.from_log10(hi)


def width_table(
    epsilon: float,
    m0: int,
    depth: int,
    *,
    k: int | None = None,
    eta: float | None = None,
    width=None,
    p: float = 2.0,
    C: float = 1.0,
    T: float = 1.0,
    radius: float = 1.0,
    F: float | None = None,
) -> list[dict]:
    """Per hidden layer: upper bounds, the necessary width, the effective width, and checks.

    Columns (Towers):

    * ``upper``: the deep recursion m~_l with constant T (shape only unless T is calibrated);
    * ``explicit_upper`` (layer 1): the smallest width whose *explicit* expected matching error
      (:func:`matching_error_upper_bound`, weights uniform in [-radius, radius]^m0) is <= epsilon;
    * ``lower``: the width needed for an expected matching error <= epsilon (necessary for the
      matching error, not for epsilon-LMC; :func:`matching_lower_bound`) with density bound F
      (default (2 radius)^-d, the uniform law of the explicit bound, so ``lower <= explicit_upper``);
      the fan-in is m0 for layer 1 and the given ``width`` for deeper layers (none without a width);
    * ``effective``: the low-dimensional bound (C/epsilon)^k for layer 1 when k and eta are
      given (``effective_valid``: below eta^-k), else the upper bound;
    * with ``width``: whether it satisfies each.

    Parameters
    ----------
    epsilon : float
        Target matching error / barrier, > 0.
    m0 : int
        Input dimension.
    depth : int
        Hidden layers.
    k, eta : int and float, optional
        Low-dimensional support (both or neither).
    width : number, Tower or dict, optional
        A network's width to check.
    p : float, default 2
        Order.
    C, T : float, default 1
        Constants of the two-layer and deep bounds.
    radius : float, default 1
        Half-side of the weights' cube.
    F : float, optional
        Density bound of the lower bound.

    Returns
    -------
    list of dict
        One row per hidden layer.

    Raises
    ------
    ValueError, TypeError
        Only one of k and eta, or invalid arguments.

    Examples
    --------
    >>> from lmctheory.bounds import width_table
    >>> row = width_table(0.1, 3, 2)[0]
    >>> sorted(row), str(row["upper"]), row["lower"] <= row["explicit_upper"]
    (['effective', 'explicit_upper', 'layer', 'lower', 'upper'], '1000', True)
    """
    epsilon = _check_epsilon(epsilon)
    m0 = check_positive_int(m0, "m0")
    depth = check_positive_int(depth, "depth")
    radius = check_positive_real(radius, "radius")
    if (k is None) != (eta is None):
        raise ValueError("give both k and eta for the low-dimensional bound, or neither")
    actual = None if width is None else as_tower(width)
    uppers = deep_recursion(m0, depth).layer_widths(epsilon, T=T)
    low = low_dimensional(k, eta, m0, p) if k is not None else None

    def lower_for(d):
        return _lower_bound_width(d, epsilon, _log10_density(d, F, None if F is not None else radius))

    rows = []
    for layer in range(1, depth + 1):
        row = {
            "layer": layer,
            "upper": uppers[layer - 1],
            "explicit_upper": None,
            "lower": None,
            "effective": uppers[layer - 1],
        }
        if layer == 1:
            row["explicit_upper"] = explicit_width(
                epsilon, lambda m: matching_error_upper_bound(m, m0, radius=radius), max_log10=1e300
            )
            row["lower"] = lower_for(m0)
            if low is not None:
                row["effective"] = low.solve_width(epsilon, C=C)
                row["effective_valid"] = row["effective"] <= low.valid_up_to()
        elif actual is not None and actual.level == 0:
            row["lower"] = lower_for(int(actual.value))
        if actual is not None:
            for key in ("upper", "explicit_upper", "lower", "effective"):
                row[f"satisfies_{key}"] = None if row[key] is None else row[key] <= actual
        rows.append(row)
    return rows
