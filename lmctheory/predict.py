r"""Theory to numbers for a given pair of networks (THEORY.md §4).

:func:`certified_barrier_bound` computes, from the two endpoint networks only
(never by running an interpolated network), a bound on the loss barrier
above the chord along :math:`\theta(t) = (1-t)\theta_A + t\theta_B`. For each
input and t, with :math:`h^A, h^B` the layer outputs of A and B, :math:`z` the
pre-activations, :math:`W^t = (1-t)W^A + tW^B`, and the activation L-Lipschitz
with convexity gap :math:`\kappa`:

.. math::
    u_0 = 0, \qquad
    u_l = L\big(|W^t_l|\,u_{l-1} + t(1-t)\,|(W^A_l - W^B_l)(h^A_{l-1} - h^B_{l-1})|\big)
          + \kappa\,t(1-t)\,|z^A_l - z^B_l|

(absolute values entrywise; no activation term at the output layer, where
:math:`u_L` bounds the output defect :math:`|f_t - ((1-t)f_A + t f_B)|`
entrywise). This follows from the exact identity
:math:`W^t h^t - (1-t)W^A h^A - tW^B h^B = W^t e - t(1-t)(W^A - W^B)(h^A - h^B)`
(biases cancel). A loss convex in the outputs then gives, per example,
:math:`\ell(f_t) - [(1-t)\ell(f_A) + t\ell(f_B)] \le \mathrm{Lip}\,\|u_L\|_2` for
cross-entropy (:math:`\mathrm{Lip} = \sqrt2`: the gradient is softmax minus
one-hot) and :math:`\le 2\|c - y\|\,\|u_L\| + \|u_L\|^2` for squared error
(c the chord output). The bound at t is the mean over the data; a measured
barrier above it is a bug.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .barrier import PATH_CONVENTION, default_grid, evaluate_path
from .nn.models import MLP, LogisticRegression, MeanFieldTwoLayer, activation_constants

__all__ = ["BarrierBound", "certified_barrier_bound", "linear_stack", "layer_report", "measured_and_certified"]


def linear_stack(model) -> tuple[list[tuple[torch.Tensor, torch.Tensor | None]], str, float]:
    """``([(W, b), ...], activation name, leaky slope)`` of a supported model, as float64 tensors.

    The mean-field net's 1/N output scaling is folded into its last weight.
    """
    def d(t):
        return None if t is None else t.detach().double()

    if isinstance(model, MLP):
        return [(d(layer.weight), d(layer.bias)) for layer in model.layers], model.activation_name, model.slope
    if isinstance(model, MeanFieldTwoLayer):
        return ([(d(model.hidden_layer.weight), None), (d(model.out.weight) / model.width_, None)],
                model.activation_name, 0.01)
    if isinstance(model, LogisticRegression):
        return [(d(model.linear.weight), d(model.linear.bias))], "identity", 0.01
    raise NotImplementedError(
        f"certified bounds are implemented for MLP, MeanFieldTwoLayer and LogisticRegression, not "
        f"{type(model).__name__} (attention layers are not covered by the linear-layer recursion)")


def _forward(stack, act, x):
    """Pre-activations z_l and layer outputs h_l (h_0 = x; no activation at the output)."""
    hs, zs = [x], []
    for i, (W, b) in enumerate(stack):
        z = hs[-1] @ W.T + (0 if b is None else b)
        zs.append(z)
        hs.append(act(z) if i < len(stack) - 1 else z)
    return hs, zs


@dataclass
class BarrierBound:
    """Certified bound on the loss barrier above the chord, per t and overall (max over ts)."""

    ts: np.ndarray
    per_t: np.ndarray
    bound: float
    loss: str
    activation: str
    lipschitz: float
    convexity_gap: float
    info: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"path": PATH_CONVENTION, "ts": self.ts.tolist(), "per_t": self.per_t.tolist(), "bound": self.bound,
                "quantity": "loss barrier above chord: max_t [L(t) - ((1-t) L(0) + t L(1))]", "loss": self.loss,
                "activation": self.activation, "lipschitz": self.lipschitz, "convexity_gap": self.convexity_gap,
                **self.info}


def certified_barrier_bound(model_a, model_b, data, ts=None, *, loss: str = "auto",
                            batch_size: int = 4096) -> BarrierBound:
    """The certified loss-barrier bound of THEORY §4 for the path from ``model_a`` to ``model_b``.

    ``model_b`` should already be aligned to ``model_a`` (the bound holds for
    any pair; alignment is what makes it small). ``data`` is an ``(x, y)``
    pair of tensors; the bound is on the mean loss over these examples.
    """
    ts = default_grid() if ts is None else np.asarray(ts, dtype=np.float64)
    sa, act_name, slope = linear_stack(model_a)
    sb, act_b, _ = linear_stack(model_b)
    if act_name != act_b or len(sa) != len(sb) or any(a[0].shape != b[0].shape for a, b in zip(sa, sb, strict=True)):
        raise ValueError("model_a and model_b must have the same architecture and activation")
    lip_act, kappa = activation_constants(act_name, slope)
    act = {"relu": torch.relu, "identity": lambda z: z, "tanh": torch.tanh,
           "gelu": torch.nn.functional.gelu,
           "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, slope)}[act_name]
    x_all, y_all = data
    x_all = x_all.detach().double().flatten(1).to(sa[0][0].device)
    y_all = y_all.to(sa[0][0].device)
    kind = ("mse" if y_all.is_floating_point() else "cross_entropy") if loss == "auto" else loss
    if kind not in ("cross_entropy", "mse"):
        raise ValueError(f"loss must be 'auto', 'cross_entropy' or 'mse', got {loss!r}")
    totals = np.zeros(ts.size)
    for start in range(0, len(x_all), batch_size):
        x, y = x_all[start:start + batch_size], y_all[start:start + batch_size]
        ha, za = _forward(sa, act, x)
        hb, zb = _forward(sb, act, x)
        for k, t in enumerate(ts):
            w = t * (1 - t)
            u = torch.zeros_like(x)
            for i, ((Wa, _), (Wb, _)) in enumerate(zip(sa, sb, strict=True)):
                Wt = (1 - t) * Wa + t * Wb
                defect = u @ Wt.abs().T + w * ((ha[i] - hb[i]) @ (Wa - Wb).T).abs()
                if i < len(sa) - 1:
                    u = lip_act * defect + kappa * w * (za[i] - zb[i]).abs()
                else:
                    u = defect
            norm = u.norm(dim=1)
            if kind == "cross_entropy":
                per_example = math.sqrt(2.0) * norm
            else:
                chord = (1 - t) * ha[-1] + t * hb[-1]
                resid = (chord - y.double().view(len(y), -1)).norm(dim=1)
                per_example = 2 * resid * norm + norm**2
            totals[k] += float(per_example.sum())
    per_t = totals / len(x_all)
    return BarrierBound(ts, per_t, float(per_t.max()), kind, act_name, lip_act, kappa,
                        {"n_examples": int(len(x_all))})


def layer_report(model_a, model_b, inputs) -> list[dict]:
    """Per hidden layer of an aligned pair: matching costs, dimension and predicted exponent.

    * ``weight_sq_distance``: mean_i |w~^A_i - w~^B_i|^2 over incoming parameters (weights and
      bias) as aligned; ``optimal_w2_sq``: the exact W_2^2 between the two neuron clouds
      (optimal matching; equal to the former when the alignment is optimal for it);
    * ``preactivation_gap``: mean_i E_x (z^A_i - z^B_i)^2, the covariance-weighted matching cost;
    * ``approximate_dimension``: participation ratio of A's W^T W (Ferbach's naive definition);
    * ``predicted_exponent``: -1/D for the matching error vs width, D = fan-in (+1 with bias).
    """
    from .dimension import participation_ratio_of_matrix
    from .wasserstein import optimal_matching

    sa, act_name, slope = linear_stack(model_a)
    sb, _, _ = linear_stack(model_b)
    act = {"relu": torch.relu, "identity": lambda z: z, "tanh": torch.tanh, "gelu": torch.nn.functional.gelu,
           "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, slope)}[act_name]
    x = inputs.detach().double().flatten(1)
    _, za = _forward(sa, act, x)
    _, zb = _forward(sb, act, x)
    rows = []
    for i in range(len(sa) - 1):
        (Wa, ba), (Wb, bb) = sa[i], sb[i]
        ca = torch.cat([Wa, ba[:, None]], 1) if ba is not None else Wa
        cb = torch.cat([Wb, bb[:, None]], 1) if bb is not None else Wb
        ca_np, cb_np = ca.cpu().numpy(), cb.cpu().numpy()
        rows.append({
            "layer": i + 1, "width": int(Wa.shape[0]), "fan_in": int(Wa.shape[1]),
            "weight_sq_distance": float(((ca - cb) ** 2).sum(1).mean()),
            "optimal_w2_sq": float(optimal_matching(ca_np, cb_np, 2)[1]),
            "preactivation_gap": float(((za[i] - zb[i]) ** 2).mean()),
            "approximate_dimension": participation_ratio_of_matrix((Wa.T @ Wa).cpu().numpy()),
            "predicted_exponent": -1.0 / ca.shape[1],
        })
    return rows


def measured_and_certified(model_a, model_b, data, ts=None) -> dict:
    """Measured loss barrier above chord next to the certified bound, on the same grid."""
    ts = default_grid() if ts is None else np.asarray(ts, dtype=np.float64)
    path = evaluate_path(model_a, model_b, data, ts, metrics=("loss",))
    bound = certified_barrier_bound(model_a, model_b, data, ts)
    measured = path.barrier("above_chord")
    # the measured path runs in the models' dtype: allow its rounding (a few ulps of the loss)
    eps = torch.finfo(next(model_a.parameters()).dtype).eps
    slack = 16 * eps * max(1.0, float(np.abs(path.values["loss"]).max()))
    return {"measured": measured, "bound": bound.bound, "ratio": bound.bound / measured if measured > 0 else None,
            "holds": measured <= bound.bound + slack, "slack": slack}
