r"""Rigorous enclosures of a network along segments of the linear path (:ref:`theory-certified-sup`).

On a segment :math:`[t_c - r, t_c + r]` of :math:`\theta(t) = (1 - t)\theta_A + t\theta_B` write
:math:`t = t_c + r s`, :math:`s \in [-1, 1]`. Every pre-activation and layer output q is enclosed by
a *first-order Taylor model* in s,

.. math:: q(s) \in c + s\,g + [-e, e] \quad \text{for every } s \in [-1, 1],

with floating-point tensors c, g and e >= 0 and the inclusion holding in exact real arithmetic for the
network the parameters define (weights and inputs as stored, taken as exact numbers). A point
(r = 0) has g = 0. The rules (derived in :ref:`theory-certified-sup`):

* **first operator**: for a fixed input it is affine in its parameters, so
  :math:`z_1(t) = z_1^A + t (z_1^B - z_1^A)` exactly; :math:`z_1^A, z_1^B` are computed once, their
  rounding bounded by :math:`\gamma_n (|W||x| + |b|)`;
* **later operators**: with :math:`W_c = W_A + t_c\Delta W`,
  :math:`W(s) h(s) = W_c h_c + s\,(W_c h_g + r\Delta W h_c) + s^2\,r\Delta W h_g + W(s)\epsilon`,
  :math:`|\epsilon| \le e`; the :math:`s^2` term is centred (:math:`s^2 \in [0, 1]`) and
  :math:`|W(s)\epsilon| \le (|W_c| + r|\Delta W|)\,e`. The centre :math:`W_c h_c` is a float64 product;
  the terms that scale with r (the generator, the :math:`s^2` term and the error's spread) are float32
  products, whose rounding (relative :math:`2^{-24}`) is then also of order r. Every rounding is
  bounded by a term :math:`\kappa\,(|W_A| + |\Delta W|)\mathbf{1} \cdot \max_i(\ldots)_i`;
* **ReLU and leaky ReLU of any slope a** (:math:`\sigma(z) = az + (1 - a)\,\mathrm{relu}(z)`): a unit
  whose sign is certified on the segment is exact (:math:`\sigma(z) = z` or :math:`az`); on a unit
  that may cross zero, :math:`z \in [l, u]`, :math:`\mathrm{relu}(z) = \lambda z + \delta` with
  :math:`\lambda = u / (u - l)` and :math:`\delta \in [0, \max((1 - \lambda) u, -\lambda l)]`;
* **tanh**: with :math:`\lambda = \mathrm{sech}^2(\max(|l|, |u|))`, the smallest slope on [l, u],
  :math:`\tanh(z) - \lambda z` is nondecreasing, so :math:`\tanh(z) \in \lambda z + [\phi(l), \phi(u)]`;
* **identity**: unchanged.

Rounding is bounded as :mod:`lmctheory.lmc` describes: the enclosures are certificates, not
estimates. Shapes: a batch of K segments holds tensors of shape (K, n, units...).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import torch

from ..nn import Op, ScratchBuffers, dense
from ._rounding import LIBM_ULPS, TINY, U, down, gamma, inflate, up

__all__ = ["ACTIVATIONS", "Form", "PathEnclosure"]

#: activations enclosed (any leaky-ReLU slope, negative ones included; GELU through its Lipschitz constant
#: alone, which loses the dependence on t: loose)
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "identity", "gelu")
#: unit roundoff of float32, and the smallest normal float32 (what a flushed subnormal loses)
U32 = 2.0**-24
NORMAL32 = 2.0**-126


def _gamma32(n: int) -> float:
    r""":math:`\gamma_n` of float32 arithmetic, rounded up."""
    if n * U32 >= 0.01:
        raise ValueError(f"gamma: {n} float32 operations are too many for a rounding bound")
    return 1.02 * n * U32


def _to_f32_up(x: torch.Tensor) -> torch.Tensor:
    """Nonnegative float64 values as float32 values at least as large (rounded, then raised by 4 units
    of float32 roundoff and a normal float32, which covers a flushed subnormal)."""
    return x.float().mul_(1 + 4 * U32).add_(NORMAL32)


@dataclass
class Form:
    """A first-order Taylor model :math:`c + s g + [-e, e]` per segment, example and unit
    (``g`` is None at points).

    Parameters
    ----------
    c : torch.Tensor
        Centre, float64, shape (K, n, ...).
    g : torch.Tensor or None
        Coefficient of s, float32 (None: zero, the segments are points).
    e : torch.Tensor
        Error radius, float32, an upper bound of the exact radius.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.lmc._enclosure import Form
    >>> f = Form(torch.zeros(1, 2, 3, dtype=torch.float64), None, torch.ones(1, 2, 3))
    >>> lo, hi = f.bounds()
    >>> bool((lo < -1).all() and (hi > 1).all())
    True
    """

    c: torch.Tensor
    g: torch.Tensor | None
    e: torch.Tensor

    def radius(self) -> torch.Tensor:
        """:math:`|g| + e` in float32, within one float32 rounding of the exact sum (from below)."""
        return self.e if self.g is None else torch.add(self.e, self.g.abs())

    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Rigorous lower and upper bounds over the segment (float64)."""
        m = self.radius().double() * (1 + 2 * U32)
        return down(self.c - m), up(self.c + m)


class _Buffers:
    """Work tensors reused from one batch of segments to the next (per thread, keyed by layer and role):
    allocating them afresh costs page faults that, for tensors of a few megabytes, can take longer than the
    arithmetic. ``None`` keys (or ``pool=None``) allocate: the returned outputs own their memory."""

    def __init__(self):
        self.scratch = {}

    def get(self, key, shape, dtype) -> torch.Tensor:
        if key is None:
            return torch.empty(shape, dtype=dtype)
        if dtype not in self.scratch:
            self.scratch[dtype] = ScratchBuffers(dtype, torch.device("cpu"))
        return self.scratch[dtype].get(key, tuple(shape))


_LOCAL = threading.local()


def _buffers() -> _Buffers:
    if not hasattr(_LOCAL, "buffers"):
        _LOCAL.buffers = _Buffers()
    return _LOCAL.buffers


def _largest(t: torch.Tensor) -> torch.Tensor:
    """Per segment and example, the largest |value| over the units: shape (K, n), float64."""
    flat = t.flatten(2)
    return torch.maximum(flat.amax(2), flat.amin(2).neg_()).double()


def _piecewise_linear(form: Form, a: float, pool=None) -> Form:
    """:math:`\\sigma(z) = az + (1 - a)\\,\\mathrm{relu}(z)` (ReLU: a = 0), units of certified sign exactly,
    the others by the parallelogram :math:`\\lambda z + [0, \\delta]` of relu."""
    # (in place through flat views below: contiguous, a copy where a broadcast left another layout)
    c, e = form.c.contiguous(), form.e.contiguous()
    g = None if form.g is None else form.g.contiguous()
    key = (lambda role: None) if pool is None else pool[1]
    if g is None:
        m = e
    else:
        m = torch.abs(g, out=_new(pool, key("m"), e)).add_(e)
    threshold = torch.mul(m, 1 + 4 * U32, out=_new(pool, key("threshold"), e))  # >= the exact |g| + e
    active = torch.gt(c, threshold, out=_new(pool, key("active"), c, torch.bool))
    inactive = torch.lt(c, threshold.neg_(), out=_new(pool, key("inactive"), c, torch.bool))
    crossing = torch.logical_or(active, inactive, out=_new(pool, key("crossing"), c, torch.bool))
    flat = crossing.logical_not_().reshape(-1).nonzero().squeeze(1)
    if flat.numel():  # read before the form's own tensors are overwritten below
        cc = c.reshape(-1)[flat]
        mm = m.reshape(-1)[flat].double() * (1 + 2 * U32)
        ee = e.reshape(-1)[flat].double()
        gg = None if g is None else g.reshape(-1)[flat].double()
    if a == 0.0:
        # in place (the form owns its tensors); a product with the mask is several times faster than
        # torch.where with a scalar
        c_out, e_out = c.mul_(active), e.mul_(active)
        g_out = None if g is None else g.mul_(active)
    else:
        c_out = torch.where(active, c, c * a)  # float64
        # a g and |a| e in float32: a itself rounds to float32, then the product (2 units; 3 allowed)
        g_out = None if g is None else torch.where(active, g, g * a)
        e_out = e * torch.where(active, 1.0, abs(a) * (1 + 4 * U32))
        slack = c_out.abs().mul_(2 * U)
        if g_out is not None:
            slack.add_(g_out.abs(), alpha=3 * U32)
        e_out.add_(_to_f32_up(slack * inactive))
    if flat.numel():
        lo, hi = down(cc - mm), up(cc + mm)
        lam = (hi / (hi - lo)).clamp_(0.0, 1.0).nan_to_num_(nan=0.5)
        # relu(z) - lam z lies in [0, delta] for z in [lo, hi]
        delta = up(torch.maximum((1 - lam) * hi.clamp(min=0), lam * (-lo).clamp(min=0)), 2)
        b = 1.0 - a
        mu = lam if a == 0.0 else a + b * lam  # sigma(z) = mu z + (1 - a) delta'
        centre = mu * cc
        size = centre.abs() + delta * (1 + abs(a))
        err = mu.abs() * ee + (abs(b) * (1 + 2 * U) / 2) * delta
        if a != 0.0:  # mu rounds: |mu - (a + b lam)| <= 4u(|a| + |b|), times |z| <= max(|lo|, |hi|)
            err = err + 4 * U * (abs(a) + abs(b)) * torch.maximum(lo.abs(), hi.abs())
        if gg is not None:
            gen = mu * gg
            g_out.view(-1)[flat] = gen32 = gen.float()
            err = err + (gen - gen32.double()).abs() + 3 * U * gen.abs()
        c_out.view(-1)[flat] = centre + (b / 2) * delta
        e_out.view(-1)[flat] = _to_f32_up(inflate(err + 3 * U * size, 6))
    return Form(c_out, g_out, e_out)


def _new(pool, key, like: torch.Tensor, dtype=None) -> torch.Tensor:
    """A tensor shaped like ``like`` (reused from ``pool`` under ``key`` when both are given)."""
    dtype = like.dtype if dtype is None else dtype
    if pool is None or key is None:
        return torch.empty(like.shape, dtype=dtype)
    return pool[0].get(key, like.shape, dtype)


def _tanh(form: Form) -> Form:
    """tanh by the slope :math:`\\lambda = \\mathrm{sech}^2(\\max(|l|, |u|))` and the range of
    :math:`\\tanh(z) - \\lambda z` (nondecreasing on [l, u])."""
    lo, hi = form.bounds()
    far = torch.maximum(lo.abs(), hi.abs())
    lam = torch.cosh(far).reciprocal_().square_().mul_(1 - 2.0**-40)  # below the smallest slope
    k = 4 * LIBM_ULPS + 4
    phi_lo = down(down(torch.tanh(lo), k) - up(lam * lo))
    phi_hi = up(up(torch.tanh(hi), k) - down(lam * hi))
    centre = lam * form.c
    size = centre.abs() + phi_lo.abs() + phi_hi.abs()
    err = lam * form.e.double() + (phi_hi - phi_lo) / 2
    gen = None
    if form.g is not None:
        gen64 = lam * form.g.double()
        gen = gen64.float()
        err = err + (gen64 - gen.double()).abs() + 3 * U * gen64.abs()
    return Form(centre + (phi_lo + phi_hi) / 2, gen, _to_f32_up(inflate(err + 3 * U * size, 6)))


def _lipschitz(form: Form, fn, lip: float) -> Form:
    r"""Any L-Lipschitz activation, from its value at the centre: :math:`\sigma(z) \in \sigma(c) \pm L(|g| + e)`
    (the generator is lost: first-order forms of it would need its derivative's range). Used for GELU
    (L = 1.13, its largest slope 1.1289), whose value is computed to within 16u(|c| + 1) (erf to LIBM_ULPS)."""
    centre = fn(form.c)
    err = form.radius().double() * (lip * (1 + 4 * U32)) + (16 * U) * (form.c.abs() + 1)
    return Form(centre, None if form.g is None else torch.zeros_like(form.g), _to_f32_up(inflate(err, 4)))


def _activate(form: Form, name: str, slope: float, pool=None) -> Form:
    """The enclosure of the activation's output (``pool``: (buffers, role -> key) for the work tensors)."""
    if name == "identity":
        return form
    if name == "gelu":
        return _lipschitz(form, torch.nn.functional.gelu, 1.13)
    if name == "relu":
        return _piecewise_linear(form, 0.0, pool)
    if name == "leaky_relu":
        return _piecewise_linear(form, float(slope), pool)
    if name == "tanh":
        return _tanh(form)
    raise NotImplementedError(f"the certified enclosure covers {', '.join(ACTIVATIONS)}, not {name!r}")


def _fan_in(op: Op, params: dict) -> int:
    """Terms summed per output of the operator (its inner-product length)."""
    w = params["weight"]
    return int(w.shape[1]) if op.linear is dense else int(w[0].numel())


def _bias_like(bias: torch.Tensor, out: torch.Tensor, lead: int = 2) -> torch.Tensor:
    """``bias`` shaped to broadcast against ``out`` of shape (``lead`` batch dims, units...): one value per
    channel (dense, convolution) or per channel and position (locally connected)."""
    units = out.shape[lead:]
    if bias.ndim == 1 and bias.numel() == units[0]:
        return bias.view(*([1] * lead), -1, *([1] * (len(units) - 1)))
    return bias.reshape(*([1] * lead), *units)


class _Operator:
    """What a later operator needs for every segment: its endpoint weights and difference (float64,
    and the difference in float32), and the row sums of :math:`|W_A| + |\\Delta W|` that bound every
    rounding term."""

    def __init__(self, op: Op, in_shape: tuple, rounding: float):
        self.op = op
        pa, pb = op.params_a, op.params_b
        self.wa, self.dw = pa["weight"], pb["weight"] - pa["weight"]
        self.dw32, self.dw_abs = self.dw.float(), self.dw.abs()
        self.ba = pa.get("bias")
        self.db = None if self.ba is None else pb["bias"] - self.ba
        self.db32 = None if self.db is None else self.db.float()
        self.fan = _fan_in(op, pa)
        ones = torch.ones((1, *in_shape), dtype=self.wa.dtype)
        self.rowsum = inflate(op.linear({"weight": self.wa.abs() + self.dw_abs}, ones)[0], self.fan)
        self.rowsum32 = _to_f32_up(self.rowsum * (1 + 16 * U32))  # products with it round once in float32
        # the rows' Euclidean norms of dW: the float32 products dW h_c err by at most gamma |dW||h_c|, and
        # (Cauchy-Schwarz) |dW_j||h| <= ||dW_j||_2 ||h||_2
        squares = inflate(op.linear({"weight": self.dw.square()}, ones)[0], self.fan)
        self.dw_rownorm32 = _to_f32_up(up(squares.sqrt(), 2))
        # the float64 centre's roundings (its product, W_c, dW, the sums), relative to (|W_A| + |dW|)|h|;
        # the stored weights' own relative error ``rounding`` counts three times
        self.coef64 = (3 * gamma(self.fan) + 12 * U + 3 * rounding) * (1 + 8 * U)
        # the float32 products' roundings (conversions, products, sums): relative to (|W_c| + r|dW|)|h_g| for
        # W_c h_g and dW h_g, to r |dW| |h_c| for dW h_c
        self.coef32 = 1.5 * _gamma32(self.fan + 8)
        self.alpha32 = 1 + 2 * _gamma32(self.fan + 4)  # the float32 spread |W| e, rounded up
        # per output: the bias sums' rounding, and what flushed float32 subnormals can lose in the float32
        # products (one normal float32 per term)
        floor = (self.rowsum + self.fan) * (8 * NORMAL32)
        if self.ba is not None:
            floor = floor + _bias_like((12 * U) * (self.ba.abs() + self.db.abs()), floor[None], 1)[0]
        self.floor32 = _to_f32_up(floor)
        # the float32 generator's r db32 is off by at most r u32 |db|
        self.db_error32 = None if self.db is None else _to_f32_up(2 * U32 * self.db.abs())

    def out_channels(self) -> int:
        return int(self.wa.shape[0])

    def per_segment(self, weights: torch.Tensor, h: torch.Tensor, add: torch.Tensor | None = None, alpha=1.0):
        """``add + alpha op(weights[k], h[k])`` for every segment k (h: (K, n, ...))."""
        if self.op.linear is dense:
            w = weights.transpose(1, 2)
            if add is None:
                return torch.bmm(h, w)
            return torch.baddbmm(add, h, w, alpha=alpha)
        out = torch.stack([self.op.linear({"weight": weights[k]}, h[k]) for k in range(len(h))])
        return out if add is None else torch.add(add, out, alpha=alpha)  # (contiguous: the activations
        # write in place through flat views)

    def shared(self, weight: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``op(weight, h)`` for every segment with the same weights (h: (K, n, ...))."""
        k, n = h.shape[:2]
        out = self.op.linear({"weight": weight}, h.reshape(k * n, *h.shape[2:]))
        return out.reshape(k, n, *out.shape[1:]).contiguous()


class PathEnclosure:
    """Enclosures of the outputs of a pair of networks along segments of the path between them.

    Parameters
    ----------
    network : tuple
        :func:`lmctheory.nn.network_ops` of the pair, in float64.
    x : torch.Tensor
        The inputs (float64, already reshaped for the first operator); exact numbers.

    Raises
    ------
    NotImplementedError
        An activation not in :data:`ACTIVATIONS`.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.nn import network_ops
    >>> from lmctheory.lmc._enclosure import PathEnclosure
    >>> _ = torch.manual_seed(0)
    >>> a, b = MLP([3, 5, 2]).double(), MLP([3, 5, 2]).double()
    >>> x = torch.randn(4, 3, dtype=torch.float64)
    >>> enc = PathEnclosure(network_ops(a, b), x)
    >>> half = torch.tensor([0.5], dtype=torch.float64)
    >>> lo, hi = enc.outputs(half, half).bounds()  # every t in [0, 1]
    >>> mid = MLP([3, 5, 2]).double()
    >>> _ = mid.load_state_dict({k: (v + b.state_dict()[k]) / 2 for k, v in a.state_dict().items()})
    >>> bool((lo[0] <= mid(x)).all() and (mid(x) <= hi[0]).all())
    True
    """

    def __init__(self, network, x: torch.Tensor):
        ops, self.name, self.slope, _ = network
        if self.name not in ACTIVATIONS:
            raise NotImplementedError(
                f"the certified enclosure covers {', '.join(ACTIVATIONS)} activations, not {self.name!r}"
            )
        self.ops = ops
        first = ops[0]
        rounding = first.rounding
        with torch.no_grad():
            # (contiguous: the activations write in place through flat views)
            za, zb = (
                first.forward(first.params_a, x).contiguous(),
                first.forward(first.params_b, x).contiguous(),
            )
            fan = _fan_in(first, first.params_a) + 1
            absx = x.abs()

            def error(params):
                magnitude = first.linear({"weight": params["weight"].abs()}, absx)
                if "bias" in params:
                    magnitude = magnitude + _bias_like(params["bias"].abs(), magnitude, 1)
                return inflate(magnitude, fan) * (gamma(fan) + 2 * rounding)

            self.z_a, self.dz = za, zb - za
            self.dz32 = self.dz.float()
            self.dz_abs32 = _to_f32_up(self.dz.abs())
            # |z(t) - (z_A + t dz)| <= max(err_A, err_B) + |dz - (z_B - z_A)| + rounding of z_A + t dz, and
            # r dz in float32 is off by at most |r dz - r dz32| <= r |dz| u32 (covered by dz_abs32)
            self.z_err32 = _to_f32_up(
                inflate(
                    torch.maximum(error(first.params_a), error(first.params_b))
                    + 4 * U * (za.abs() + self.dz.abs())
                    + (TINY + 2.0**-149),
                    4,
                )
            )
            shape = tuple(za.shape[1:])
            #: the most values one example has in any layer (memory per segment and example)
            self.width = math.prod(shape)
            self.later = []
            for op in ops[1:]:
                self.later.append(_Operator(op, shape, op.rounding))
                probe = op.linear(op.params_a, torch.zeros((1, *shape), dtype=x.dtype))
                shape = tuple(probe.shape[1:])
                self.width = max(self.width, math.prod(shape))

    def first_form(self, tc: torch.Tensor, r: torch.Tensor | None) -> Form:
        """The first operator's output on the segments (tc, r): shape (K, n, ...)."""
        view = (-1, *([1] * self.z_a.ndim))
        c = torch.addcmul(self.z_a, tc.view(view), self.dz)
        if r is None:  # (forms own contiguous tensors: the activations work in place through flat views)
            return Form(c.contiguous(), None, self.z_err32.expand(c.shape).contiguous())
        # r dz is exact in float64; in float32 it rounds once
        g = self.dz32 * r.view(view).float()
        e = torch.addcmul(self.z_err32, self.dz_abs32, r.view(view).float(), value=2 * U32)
        return Form(c.contiguous(), g.contiguous(), e.contiguous())

    def outputs(self, tc: torch.Tensor, r: torch.Tensor | None = None) -> Form:
        """The enclosure of the network's outputs on each segment :math:`[t_c - r, t_c + r]` (points
        when ``r`` is None), shape (K, n, outputs...).

        ``tc`` and ``r`` are 1-D float64 tensors; ``tc - r`` and ``tc + r`` must lie in [0, 1] and be
        the exact ends (binary fractions make them so).
        """
        return self._propagate(tc, r, keep=False)[-1][1]

    def layers(self, tc: torch.Tensor, r: torch.Tensor | None = None) -> list[tuple[Form, Form]]:
        """Per operator, the enclosures of its pre-activations and of its output (after the activation;
        the same form where none follows), on each segment (points when ``r`` is None).

        Shapes and conditions as :meth:`outputs`.
        """
        return self._propagate(tc, r, keep=True)

    def _propagate(self, tc, r, keep: bool) -> list[tuple[Form, Form]]:
        out = []
        buffers = None if keep else _buffers()  # (reused work tensors: not where every form is kept)
        last = len(self.ops) - 1
        with torch.no_grad():
            form = self.first_form(tc, r)
            for index in range(len(self.ops)):
                # the returned outputs (the last operator's) own their memory
                pool = (
                    None if buffers is None or index == last else (buffers, lambda role, i=index: (i, role))
                )
                if index:
                    form = self._linear(self.later[index - 1], form, tc, r, pool)
                pre = form
                if self.ops[index].activation_after:
                    if keep:  # the activation works in place: keep a copy of its input
                        pre = Form(form.c.clone(), None if form.g is None else form.g.clone(), form.e.clone())
                    form = _activate(form, self.name, self.slope, pool)
                out.append((pre, form) if keep else (None, form))
        return out

    def _linear(
        self, layer: _Operator, form: Form, tc: torch.Tensor, r: torch.Tensor | None, pool=None
    ) -> Form:
        """The enclosure after a later operator (points when ``r`` is None; ``pool``: (buffers, role -> key)
        for the work tensors and the outputs, dense operators)."""
        if pool is not None and layer.op.linear is not dense:
            pool = None

        def buffer(role, shape, dtype):
            return (
                torch.empty(shape, dtype=dtype) if pool is None else pool[0].get(pool[1](role), shape, dtype)
            )

        k, n = form.c.shape[:2]
        w_view = (-1, *([1] * layer.wa.ndim))
        w_centre = torch.addcmul(
            layer.wa, tc.view(w_view), layer.dw, out=buffer("w_centre", (k, *layer.wa.shape), layer.wa.dtype)
        )  # W_c = W_A + tc dW per segment
        out_units = layer.out_channels()
        if layer.op.linear is dense:
            c = torch.bmm(form.c, w_centre.transpose(1, 2), out=buffer("c", (k, n, out_units), form.c.dtype))
        else:
            c = layer.per_segment(w_centre, form.c)
        if layer.ba is not None:  # b_A + tc db per segment
            bias = torch.addcmul(layer.ba, tc.view(-1, *([1] * layer.ba.ndim)), layer.db)
            c.add_(_bias_like_segments(layer.ba, bias, c))
        largest_c, largest_e = _largest(form.c), _largest(form.e)
        lead = (*c.shape[:2], *([1] * (c.ndim - 2)))
        if form.g is None:
            # a point: |W(t)| e <= rowsum(|W_A| + |dW|) max e
            scale = layer.coef64 * (largest_c + largest_e) + largest_e * (1 + 4 * U)
            err = torch.addcmul(layer.floor32, _to_f32_up(scale).view(lead), layer.rowsum32)
            return Form(c, None, err)
        g = form.g
        rv = r.view(-1, *([1] * (c.ndim - 1))).float()
        if layer.op.linear is dense:
            hc32 = buffer("hc32", form.c.shape, torch.float32).copy_(form.c)
            flat_out = (k * n, out_units)
            q_c = torch.mm(hc32.view(k * n, -1), layer.dw32.T, out=buffer("q_c", flat_out, torch.float32))
            q_g = torch.mm(g.view(k * n, -1), layer.dw32.T, out=buffer("q_g", flat_out, torch.float32))
            q_c, q_g = q_c.view(k, n, out_units), q_g.view(k, n, out_units)
        else:
            q_c, q_g = layer.shared(layer.dw32, form.c.float()), layer.shared(layer.dw32, g)  # dW h, float32
        half_square = q_g.mul_(rv / 2)  # s^2 r dW h_g = half_square + (2 s^2 - 1) half_square
        c.add_(half_square)
        # g = W_c h_g + r (dW h_c + db)
        rq = q_c.mul_(rv) if layer.db32 is None else q_c.mul_(rv).add_(_bias_like(layer.db32, q_c) * rv)
        w_centre32 = buffer("w_centre32", w_centre.shape, torch.float32).copy_(w_centre)
        if layer.op.linear is dense:
            g_out = torch.baddbmm(rq, g, w_centre32.transpose(1, 2), out=buffer("g", rq.shape, torch.float32))
        else:
            g_out = layer.per_segment(w_centre32, g, rq)
        # |W(s)| e <= (|W_c| + r |dW|) e, in float32, rounded up by alpha and beta
        w_abs = buffer("w_abs32", w_centre.shape, torch.float32).copy_(
            w_centre.abs_().addcmul_(r.view(w_view), layer.dw_abs)
        )
        # every float32 rounding that scales with |h_g| rides on the spread: (|W_c| + r|dW|)(e + kappa |h_g|)
        spread_in = (
            torch.abs(g, out=buffer("spread_in", g.shape, torch.float32)).mul_(layer.coef32).add_(form.e)
        )
        scale = layer.coef64 * (largest_c + _largest(g) + largest_e)
        norms = torch.linalg.vector_norm(form.c.flatten(2), dim=2) + torch.linalg.vector_norm(
            g.flatten(2), dim=2
        )
        scale_dw = (layer.coef32 * (1 + 4 * U) * r.view(-1, 1)) * norms.double() * (1 + gamma(layer.fan + 4))
        extra = torch.abs(half_square, out=buffer("extra", half_square.shape, torch.float32))
        extra.addcmul_(_to_f32_up(scale).view(lead), layer.rowsum32)
        extra.addcmul_(_to_f32_up(scale_dw).view(lead), layer.dw_rownorm32)
        extra.add_(layer.floor32)
        if layer.db_error32 is not None:
            extra.add_(_bias_like(layer.db_error32, extra) * rv)
        extra.mul_(1 + 4 * U32)
        if layer.op.linear is dense:
            err = torch.baddbmm(
                extra,
                spread_in,
                w_abs.transpose(1, 2),
                alpha=layer.alpha32,
                out=buffer("err", extra.shape, torch.float32),
            )
        else:
            err = layer.per_segment(w_abs, spread_in, extra, alpha=layer.alpha32)
        return Form(c, g_out, err)


def _bias_like_segments(template: torch.Tensor, bias: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """Per-segment biases (K, ...) shaped to broadcast against ``out`` (K, n, units...)."""
    units = out.shape[2:]
    k = bias.shape[0]
    if template.ndim == 1 and template.numel() == units[0]:
        return bias.reshape(k, 1, -1, *([1] * (len(units) - 1)))
    return bias.reshape(k, 1, *units)
