"""Every width bound of the theory for one network shape, as a report (``lmctheory bounds`` prints it;
Python users get the same object)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._width import (
    deep_recursion,
    entezari_two_layer,
    ferbach_two_layer,
    low_dimensional,
    matching_error_lower_bound,
    matching_error_upper_bound,
    matching_lower_bound,
    width_table,
)

__all__ = ["WidthReport", "width_report"]


@dataclass
class WidthReport:
    """The width bounds of one network shape (returned by :func:`width_report`).

    Parameters
    ----------
    bounds : dict
        Name -> symbolic bound (``ferbach``, ``entezari``, ``deep``, ``lower`` and, with a low-dimensional
        support, ``low-dimensional``).
    constants : dict
        Name -> the constants each bound is evaluated with.
    layers : list of dict
        Per hidden layer, the rows of :func:`width_table`.
    two_layer : dict
        Name -> the width a two-layer bound asks for.
    epsilon_at_width : dict or None
        With a width: name -> the epsilon each upper bound guarantees there, and the explicit matching-error
        bounds.
    definitions : dict
        What each bound is (formula, constants).

    Examples
    --------
    >>> from lmctheory.bounds import width_report
    >>> report = width_report(0.1, 5, 2)
    >>> sorted(report.bounds), len(report.layers)
    (['deep', 'entezari', 'ferbach', 'lower'], 2)
    """

    bounds: dict
    constants: dict
    layers: list
    two_layer: dict
    epsilon_at_width: dict | None
    definitions: dict

    def latex(self) -> dict[str, str]:
        """Each bound's formula in LaTeX."""
        return {name: b.latex() for name, b in self.bounds.items()}

    def to_dict(self) -> dict:
        """Plain data (JSON)."""
        out = {"layers": self.layers, "two_layer": self.two_layer}
        if self.epsilon_at_width is not None:
            out["epsilon_at_width"] = self.epsilon_at_width
        return out


def width_report(
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
) -> WidthReport:
    """The widths that the theory asks for an epsilon-LMC network of input dimension ``m0`` and ``depth``
    hidden layers: the per-layer table (:func:`width_table`), the two-layer bounds solved for epsilon
    (:func:`ferbach_two_layer`, :func:`entezari_two_layer`, :func:`low_dimensional` with a low-dimensional
    support) and, for a given ``width``, the epsilon each bound guarantees there.

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
        Constants of the two-layer and deep bounds (shape only unless calibrated).
    radius : float, default 1
        Incoming weights in [-radius, radius]^m0 (the explicit bounds).
    F : float, optional
        Density bound of the lower bound (default (2 radius)^-m0).

    Returns
    -------
    WidthReport
        The bounds, the table and the definitions.

    Raises
    ------
    ValueError, TypeError
        Only one of ``k`` and ``eta``; invalid epsilon, sizes or constants (as the bounds).

    Examples
    --------
    >>> from lmctheory.bounds import width_report
    >>> report = width_report(0.1, 5, 1, width=10**6)
    >>> sorted(report.epsilon_at_width)[:2]
    ['deep', 'entezari']
    """
    if (k is None) != (eta is None):
        raise ValueError(
            f"k and eta go together (a support of dimension k within eta), got k={k!r}, eta={eta!r}"
        )
    bounds = {
        "ferbach": ferbach_two_layer(m0, p),
        "entezari": entezari_two_layer(m0),
        "deep": deep_recursion(m0, depth),
        "lower": matching_lower_bound(m0),
    }
    if k is not None:
        bounds["low-dimensional"] = low_dimensional(k, eta, m0, p)
    constants = {
        "ferbach": {"C": C},
        "entezari": {"C": C},
        "deep": {"T": T},
        "low-dimensional": {"C": C},
        "lower": {"F": F} if F is not None else {},
    }
    layers = width_table(epsilon, m0, depth, k=k, eta=eta, width=width, p=p, C=C, T=T, radius=radius, F=F)
    two_layer = {
        name: bounds[name].solve_width(epsilon, **constants[name])
        for name in ("ferbach", "entezari") + (("low-dimensional",) if "low-dimensional" in bounds else ())
    }
    at_width = None
    if width is not None:
        at_width = {
            name: b.solve_epsilon(width, **constants[name]) for name, b in bounds.items() if name != "lower"
        }
        at_width["explicit_matching_error_upper"] = matching_error_upper_bound(width, m0, radius=radius)
        at_width["explicit_matching_error_lower"] = matching_error_lower_bound(
            width, m0, density_bound=F, cube_radius=None if F is not None else radius
        )
    definitions = {name: b.describe(**constants[name]) for name, b in bounds.items()}
    # the lower bound's density bound is the one the table used: (2 radius)^-m0 unless F (log10: it
    # underflows floats for large m0)
    log10_F = math.log10(F) if F is not None else -m0 * math.log10(2 * radius)
    definitions["lower"]["constants"]["F"].update(
        value=10.0**log10_F if log10_F > -300 else None, log10_value=log10_F
    )
    definitions["widths"] = (
        "Tower numbers: {'log10': x} means 10^x, {'log10log10': y} means 10^10^y, ...; "
        "explicit_upper/lower are rigorous (derived constants), the others shape only "
        "unless C, T are calibrated"
    )
    return WidthReport(bounds, constants, layers, two_layer, at_width, definitions)
