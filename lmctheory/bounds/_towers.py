r"""Numbers too large for floats, as towers of base-10 logarithms.

Width bounds for linear mode connectivity are astronomically large:
:math:`\varepsilon^{-m_0}` with :math:`m_0 = 784` is :math:`10^{784}`, and the
deep recursion :math:`\tilde m_l = (T/\varepsilon)^{\tilde m_{l-1}}` makes
:math:`\log_{10}` of layer 2 itself about :math:`10^{784}`. A :class:`Tower`
``(level, value)`` stands for :math:`\exp_{10}^{\,level}(value)`, with
``value`` a finite float: level 0 is the number itself, level 1 means
:math:`10^{value}`, level 2 :math:`10^{10^{value}}`, and so on. Levels are
raised only when a float would overflow, so values stay exact where floats can
hold them. ``to_dict()`` gives ``{"log10": x}`` (level 1), ``{"log10log10": y}``
(level 2), ... as recorded in results; never inf or NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Tower", "power_of"]

_MAX_LOG = 300.0  # above this a level-1 value no longer exponentiates into a float


@dataclass(frozen=True)
class Tower:
    r"""The number :math:`\exp_{10}^{\,level}(value)`: a tower of base-10 exponentials.

    Level 0 is the number itself, level 1 means :math:`10^{value}`, level 2 :math:`10^{10^{value}}`.
    Towers compare with ``<`` and ``<=``, print in scientific notation, and ``to_dict()`` gives
    ``{"log10": x}`` (numbers up to level 1), ``{"log10log10": x}`` (level 2), ... as recorded in
    results.

    Parameters
    ----------
    level : int
        Number of exponentiations, >= 0.
    value : float
        The finite float at the top of the tower.

    Raises
    ------
    ValueError
        A negative level or a non-finite value.

    Examples
    --------
    >>> from lmctheory.bounds import Tower
    >>> big = Tower.from_log10(784.0)      # 10^784, beyond float range
    >>> big.level, big.to_dict()
    (1, {'log10': 784.0})
    >>> Tower(0, 5.0) < big
    True
    """

    level: int
    value: float

    def __post_init__(self):
        if self.level < 0 or not math.isfinite(self.value):
            raise ValueError(f"invalid tower ({self.level}, {self.value})")

    @classmethod
    def from_log10(cls, log10_value: float) -> Tower:
        """The number :math:`10^{x}` for a finite float x."""
        return cls(1, float(log10_value)).normalised()

    def normalised(self) -> Tower:
        """The lowest level at which the value is a finite float."""
        level, value = self.level, self.value
        while level > 0 and value < _MAX_LOG:
            value, level = 10.0**value, level - 1
        return Tower(level, value)

    def log10(self) -> Tower:
        """:math:`\\log_{10}` of the number (which must be positive)."""
        if self.level == 0:
            if self.value <= 0:
                raise ValueError("log10 of a non-positive number")
            return Tower(0, math.log10(self.value))
        return Tower(self.level - 1, self.value).normalised()

    def log10_float(self) -> float:
        """:math:`\\log_{10}` as a float; ``inf`` only if it truly exceeds float range."""
        t = self.log10()
        return t.value if t.level == 0 else math.inf

    def _at_level(self, level: int) -> float:
        """The number written at a level >= its own (log10 applied); -inf when not positive."""
        t = self.normalised()
        value = t.value
        for _ in range(level - t.level):
            if value <= 0:
                return -math.inf
            value = math.log10(value)
        return value

    def __lt__(self, other: Tower) -> bool:
        level = max(self.normalised().level, other.normalised().level)
        return self._at_level(level) < other._at_level(level)

    def __le__(self, other: Tower) -> bool:
        return not other < self

    def to_dict(self) -> dict:
        """``{"value": x}`` at level 0, else ``{"log" * level: x}``, e.g. ``{"log10log10": 3.2}``."""
        t = self.normalised()
        if t.level == 0:
            if t.value > 0:
                return {"log10": math.log10(t.value)}
            return {"value": t.value}
        return {"log10" * t.level: t.value}

    def __str__(self) -> str:
        t = self.normalised()
        if t.level == 0:
            return f"{t.value:.4g}"
        if t.level == 1:
            return f"10^{t.value:.4g}"
        return "10^" * t.level + f"{t.value:.4g}"


def power_of(base_log10: float, exponent: Tower) -> Tower:
    r"""The tower of :math:`10^{a \cdot E}`, with :math:`a` = ``base_log10`` and E a tower.

    This is :math:`B^E` for :math:`B = 10^a`, the step of the deep recursion
    :math:`\tilde m_l = (T/\varepsilon)^{\tilde m_{l-1}}` with
    :math:`a = \log_{10}(T/\varepsilon)`. For :math:`a \le 0` the result is at most 1 and is
    returned at level 0: exactly 1 for a = 0, and 0.0 when :math:`10^{a E}` is below the smallest
    float (towers hold large numbers, not tiny ones).

    Parameters
    ----------
    base_log10 : float
        :math:`a = \log_{10} B`.
    exponent : Tower
        E, which must be >= 0.

    Returns
    -------
    Tower
        :math:`10^{a E}`.

    Raises
    ------
    ValueError
        A negative exponent or a non-finite ``base_log10``.

    Examples
    --------
    >>> from lmctheory.bounds import Tower, power_of
    >>> str(power_of(2.0, Tower(0, 3.0)))            # 100 ** 3
    '1e+06'
    >>> power_of(2.0, Tower(0, 784.0)).to_dict()     # 100 ** 784
    {'log10': 1568.0}
    """
    if not isinstance(exponent, Tower):
        raise TypeError(f"exponent must be a Tower, got {exponent!r}")
    if not math.isfinite(base_log10):
        raise ValueError(f"base_log10 must be finite, got {base_log10!r}")
    e = exponent.normalised()
    if e.level == 0 and e.value < 0:
        raise ValueError(f"the exponent must be >= 0, got {e.value!r}")
    if base_log10 == 0:
        return Tower(0, 1.0)
    if base_log10 < 0:  # 10^(a E) <= 1: a float, 0.0 once it underflows
        product = base_log10 * e.value if e.level == 0 else -math.inf
        return Tower(0, 10.0**product if product > -400 else 0.0)
    if e.level == 0:
        product = base_log10 * e.value
        return (
            Tower.from_log10(product)
            if math.isfinite(product)
            else Tower(2, math.log10(base_log10) + math.log10(e.value))
        )
    # log10(a * E) = log10(a) + log10(E); beyond float range log10(a) is negligible
    inner = Tower(e.level - 1, e.value).normalised()
    if inner.level == 0:
        return Tower(2, math.log10(base_log10) + inner.value).normalised()
    return Tower(inner.level + 2, inner.value)
