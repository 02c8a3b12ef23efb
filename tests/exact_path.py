"""A reference for the path between two small dense networks, every weight, input and t taken as the exact
number it is. Networks with piecewise-linear activations (ReLU, leaky ReLU, identity) are evaluated in exact
rational arithmetic (``fractions.Fraction``), and so are the error and the squared error; tanh, exp and log
are evaluated with mpmath at 400 bits, far below any float64 rounding (the enclosures' errors are of order
2**-53 relative, these of order 2**-390).
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import torch

PRECISION = 400
#: the reference's own relative error where it is not exact (cross-entropy, tanh)
SLACK = mpmath.mpf(2) ** -300


def _q(value) -> Fraction:
    return Fraction(value) if isinstance(value, (Fraction, int)) else Fraction(float(value))


def _mpf(q: Fraction) -> mpmath.mpf:
    return mpmath.mpf(q.numerator) / q.denominator


def _layers(model):
    """(weight rows, bias) of each dense layer, as exact rationals (mean-field: the 1/N scale folded in)."""
    if hasattr(model, "layers"):
        linears, scales = list(model.layers), [1] * len(model.layers)
    elif hasattr(model, "hidden_layer"):
        linears, scales = [model.hidden_layer, model.out], [1, Fraction(1, model.width_)]
    else:
        linears, scales = [model.linear], [1]
    out = []
    for layer, s in zip(linears, scales, strict=True):
        w = [[_q(v) * s for v in row] for row in layer.weight.detach().double().tolist()]
        b = None if layer.bias is None else [_q(v) * s for v in layer.bias.detach().double().tolist()]
        out.append((w, b))
    return out


def _activation(model, z):
    name = getattr(model, "activation_name", "identity")
    if name == "relu":
        return z if z > 0 else 0 * z
    if name == "leaky_relu":
        return z if z > 0 else _q(getattr(model, "slope", 0.01)) * z
    if name == "tanh":
        return mpmath.tanh(z)
    if name == "gelu":
        return z / 2 * (1 + mpmath.erf(z / mpmath.sqrt(2)))
    if name == "identity":
        return z
    raise ValueError(name)


def outputs(model_a, model_b, x: torch.Tensor, t) -> list[list]:
    """The outputs of theta(t) = (1 - t) theta_A + t theta_B on every row of ``x``: Fractions (exact) for
    piecewise-linear activations, mpf at 400 bits for tanh."""
    with mpmath.workprec(PRECISION):
        exact = getattr(model_a, "activation_name", "identity") not in ("tanh", "gelu")
        conv = (lambda q: q) if exact else _mpf
        tt = conv(_q(t))
        mixed = []
        for (wa, ba), (wb, bb) in zip(_layers(model_a), _layers(model_b), strict=True):
            w = [
                [(1 - tt) * conv(a) + tt * conv(b) for a, b in zip(ra, rb, strict=True)]
                for ra, rb in zip(wa, wb, strict=True)
            ]
            bias = (
                None
                if ba is None
                else [(1 - tt) * conv(a) + tt * conv(b) for a, b in zip(ba, bb, strict=True)]
            )
            mixed.append((w, bias))
        rows = []
        for xi in x.detach().double().flatten(1).tolist():
            h = [conv(_q(v)) for v in xi]
            for index, (w, bias) in enumerate(mixed):
                z = [sum((wj * hj for wj, hj in zip(row, h, strict=True)), conv(Fraction(0))) for row in w]
                if bias is not None:
                    z = [zj + bj for zj, bj in zip(z, bias, strict=True)]
                h = z if index == len(mixed) - 1 else [_activation(model_a, zj) for zj in z]
            rows.append(h)
        return rows


def metric(model_a, model_b, data, t, name: str, loss: str):
    """The mean loss (``name="loss"``) or error (ties count as errors) at t: a Fraction where exact."""
    x, y = data
    with mpmath.workprec(PRECISION):
        out = outputs(model_a, model_b, x, t)
        values = []
        for z, target in zip(out, y.tolist(), strict=True):
            if name == "error":
                values.append(Fraction(int(any(zj >= z[target] for j, zj in enumerate(z) if j != target))))
            elif loss == "cross_entropy":
                zm = [_mpf(v) if isinstance(v, Fraction) else v for v in z]
                top = max(zm)
                values.append(top + mpmath.log(mpmath.fsum(mpmath.exp(zj - top) for zj in zm)) - zm[target])
            else:
                target = target if isinstance(target, list) else [target]
                values.append(sum(((zj - _q(tj)) ** 2 for zj, tj in zip(z, target, strict=True)), 0 * z[0]))
        total = sum(values[1:], values[0])
        return total / len(values)


def endpoints(model_a, model_b, data, name: str, loss: str):
    """The metric at t = 0 and t = 1."""
    return tuple(metric(model_a, model_b, data, t, name, loss) for t in (0, 1))


def barrier_at(model_a, model_b, data, t, name: str, loss: str, reference: str = "chord", ends=None):
    """g(t): the metric at t above the chord (or the endpoints' mean); ``ends`` caches the endpoints."""
    with mpmath.workprec(PRECISION):
        v0, v1 = ends if ends is not None else endpoints(model_a, model_b, data, name, loss)
        value = metric(model_a, model_b, data, t, name, loss)
        exact = all(isinstance(v, Fraction) for v in (v0, v1, value))
        tt = _q(t) if exact else _mpf(_q(t))
        if not exact:
            v0, v1, value = (_mpf(v) if isinstance(v, Fraction) else v for v in (v0, v1, value))
        line = (1 - tt) * v0 + tt * v1 if reference == "chord" else (v0 + v1) / 2
        return value - line


def at_most(value, bound: float) -> bool:
    """``value <= bound``, exactly for a Fraction, within the reference's own error for an mpf."""
    if isinstance(value, Fraction):
        return value <= Fraction(bound) if bound != float("inf") else True
    with mpmath.workprec(PRECISION):
        return value <= mpmath.mpf(bound) + SLACK * (1 + abs(value))


def at_least(value, bound: float) -> bool:
    """``value >= bound`` (as :func:`at_most`)."""
    if isinstance(value, Fraction):
        return value >= Fraction(bound) if bound != float("-inf") else True
    with mpmath.workprec(PRECISION):
        return value >= mpmath.mpf(bound) - SLACK * (1 + abs(value))
