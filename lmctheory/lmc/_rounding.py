r"""Bounds on floating-point rounding, for the certified quantities (:ref:`theory-rounding`).

Every certified result of lmctheory is computed in IEEE-754 double precision with round-to-nearest,
and its rounding errors are bounded with the standard model of floating-point arithmetic
(Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., 2002, sections 2.2 and 3.1):

* one operation: :math:`\mathrm{fl}(a \circ b) = (a \circ b)(1 + \delta)`, :math:`|\delta| \le u = 2^{-53}`,
  plus an absolute :math:`2^{-1075}` where the result underflows;
* a sum of n products, in any order and with or without fused multiply-adds (so every BLAS kernel and
  convolution): :math:`|\mathrm{fl}(a^\top b) - a^\top b| \le \gamma_n |a|^\top |b|`,
  :math:`\gamma_n = nu / (1 - nu)`;
* the elementary functions (exp, log, log1p, tanh, cosh) of the platform's math library are assumed
  accurate to :data:`LIBM_ULPS` units in the last place (glibc and SLEEF, which PyTorch uses on CPU,
  document at most 1 to 2; ``tests/test_rounding.py`` checks torch's against mpmath on this machine).

:func:`up` and :func:`down` move a computed value past the exact one it approximates; :func:`inflate`
turns a nonnegative quantity computed in floating point into a bound on the exact one.
"""

from __future__ import annotations

import torch

__all__ = ["U", "TINY", "LIBM_ULPS", "gamma", "up", "down", "inflate"]

#: unit roundoff of float64
U = 2.0**-53
#: the smallest positive subnormal float64: a bound on the absolute error of one underflowing operation
TINY = 2.0**-1074
#: assumed accuracy of exp, log, log1p, tanh and cosh, in units in the last place
LIBM_ULPS = 4


def gamma(n: int) -> float:
    r""":math:`\gamma_n = nu / (1 - nu)` rounded up: the relative error of n chained roundings.

    Parameters
    ----------
    n : int
        Number of operations (for an inner product: its length).

    Returns
    -------
    float
        An upper bound on :math:`\gamma_n`.

    Raises
    ------
    ValueError
        ``n`` so large that :math:`nu \ge 0.01` (the bound would no longer be small).

    Examples
    --------
    >>> from lmctheory.lmc._rounding import U, gamma
    >>> gamma(10) >= 10 * U / (1 - 10 * U)
    True
    """
    if n * U >= 0.01:
        raise ValueError(f"gamma: {n} operations are too many for a rounding bound")
    return 1.02 * n * U


def up(x: torch.Tensor, ulps: int = 1) -> torch.Tensor:
    """A value at least the exact one, when ``x`` is a computed approximation within ``ulps`` units in
    the last place of it (one correctly rounded operation: ``ulps=1``).

    It adds :math:`4\\,\\mathrm{ulps}\\,u|x|` (at least 2 ulps of x per ulp asked) plus as many
    subnormal units; the rounding of that addition costs at most one ulp.

    Parameters
    ----------
    x : torch.Tensor
        Computed values (float64).
    ulps : int, default 1
        How far from the exact values ``x`` may be.

    Returns
    -------
    torch.Tensor
        Upper bounds.

    Notes
    -----
    ``x`` is not checked (this runs inside every certified evaluation): the bound holds for float64 values
    only, and an integer tensor is silently promoted to float32.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.lmc._rounding import up
    >>> bool(up(torch.tensor([1.0], dtype=torch.float64)) > 1.0)
    True
    """
    k = 4 * ulps
    return x + (x.abs() * (k * U) + k * TINY)


def down(x: torch.Tensor, ulps: int = 1) -> torch.Tensor:
    """A value at most the exact one (the mirror of :func:`up`).

    Parameters
    ----------
    x : torch.Tensor
        Computed values (float64).
    ulps : int, default 1
        How far from the exact values ``x`` may be.

    Returns
    -------
    torch.Tensor
        Lower bounds.

    Notes
    -----
    ``x`` is not checked (this runs inside every certified evaluation): the bound holds for float64 values
    only, and an integer tensor is silently promoted to float32.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.lmc._rounding import down
    >>> bool(down(torch.tensor([1.0], dtype=torch.float64)) < 1.0)
    True
    """
    k = 4 * ulps
    return x - (x.abs() * (k * U) + k * TINY)


def inflate(x: torch.Tensor, operations: int) -> torch.Tensor:
    r"""An upper bound on the exact value of a nonnegative quantity computed with at most
    ``operations`` chained roundings of nonnegative terms (sums and products; an inner product of
    length n counts n): :math:`x (1 + \gamma_{2m + 4}) + (m + 1)\,2^{-1074}`.

    Parameters
    ----------
    x : torch.Tensor
        The computed quantity (nonnegative).
    operations : int
        m, the longest chain of roundings that produced it.

    Returns
    -------
    torch.Tensor
        Upper bounds.

    Raises
    ------
    ValueError
        As :func:`gamma`.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.lmc._rounding import inflate
    >>> bool(inflate(torch.tensor([3.0], dtype=torch.float64), 100) > 3.0)
    True
    """
    return x * (1.0 + gamma(2 * operations + 4)) + (operations + 1) * TINY
