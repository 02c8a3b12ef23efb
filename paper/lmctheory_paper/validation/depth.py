"""Experiment 4 — depth at fixed width: errors compound through the layers (Ferbach et al., Lemma 4.1).

Two independent ReLU MLPs m0 -> width x L -> classes at initialisation (He-normal weights, zero
biases: the neurons of each layer are iid, the setting of Lemma 4.1 / Thm 5.2) are aligned layer by
layer by optimal matching of incoming weights (``naive`` weight matching: exactly Ferbach's
construction). Inputs are Gaussian in R^m0 with a teacher's labels (test split of
``teacher:d=m0``). Measured per depth L: the relative output defect at t = 1/2
E|f_1/2 - (f_A + f_B)/2| / E|f_A| (e_L of :ref:`theory-certified-bound`), with and without alignment, the loss
barrier above chord on an 11-point grid, and the certified bounds on the same grid: on the loss
barrier and on the mean output defect E|f_t - chord| (``BarrierBound.defect_per_t``). At
initialisation the cross-entropy along the path mostly stays below the chord (averaged logits are
smaller), so the loss barrier is exactly 0 (recorded on the grid, not a row); the defect bound is the
informative check. The barrier over every t in [0, 1] (:func:`lmctheory.lmc.certified_path_sup`) is
not computed: for these far-apart deep pairs at initialisation its interval enclosure widens layer by
layer and says nothing within an affordable budget (3 hidden layers of 512, 32 sub-intervals: upper
end 193 against a barrier of 0; :ref:`theory-certified-sup`).

Rows (see :func:`rows_from`): the certified defect bound is never exceeded (a check); matching
lowers the defect at every depth; the matched defect grows with depth (a permutation trend test
within seeds: the first layer's matching error shrinks like N^-1/m0, deeper layers' incoming
weights live in R^width and their matching error does not, so the error compounds); and the
certified bound grows with depth (a check: its recursion multiplies by |W^t| per layer).
"""

from __future__ import annotations

import sys
from collections import defaultdict

import numpy as np
import torch

from lmctheory.lmc import measured_and_certified
from lmctheory.nn import MLP, load_dataset

from ._nets import aligned, midpoint_defect
from .report import Row, direction, every_at_most, run_experiment, trend

NAME = "depth"


def _grid(m0s, width, depths, seeds):
    return [
        {"m0": m0, "width": width, "depths": depths, "classes": 10, "seed": s} for m0 in m0s for s in seeds
    ]


PRESETS = {
    "smoke": _grid([5], 64, [1, 2, 3], [0, 1]),
    "quick": _grid([5], 256, [1, 2, 3, 4], [0, 1, 2]),
    "full": _grid([5, 10], 512, [1, 2, 3, 4, 5, 6], [0, 1, 2, 3, 4]),
}


def _init_mlp(widths, seed):
    torch.manual_seed(seed)
    model = MLP(widths).double()
    with torch.no_grad():
        for layer in model.layers:
            torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            layer.bias.zero_()
    return model


def cost(config: dict) -> float:
    """Relative compute time of a config (an ordering hint for the sweep engine)."""
    return 0.1 + 0.1 * sum(config["depths"]) * (config["width"] / 256) ** 2


def run_config(config: dict) -> dict:
    data = load_dataset("teacher", d=config["m0"], classes=config["classes"], seed=config["seed"])
    x, y = (t.double() if t.is_floating_point() else t for t in data.split("test"))
    out = defaultdict(list)
    for depth in config["depths"]:
        widths = [config["m0"], *[config["width"]] * depth, config["classes"]]
        model_a = _init_mlp(widths, 2 * config["seed"])
        model_b = _init_mlp(widths, 2 * config["seed"] + 1)
        matched = aligned(model_a, model_b, "naive")
        ts = np.linspace(0, 1, 11)
        check = measured_and_certified(model_a, matched, (x, y), ts=ts)
        out["defect_bound"].append(check["defect_per_t"][5])  # t = 1/2
        out["defect_absolute"].append(midpoint_defect(model_a, matched, x, relative=False))
        out["defect_matched"].append(midpoint_defect(model_a, matched, x))
        out["defect_unmatched"].append(midpoint_defect(model_a, model_b, x))
        out["barrier"].append(check["measured"])
        out["bound"].append(check["upper"])
    return dict(out)


def rows_from(records: list[dict]) -> list[Row]:
    """Rows per (m0, width), one value per seed:

    * check, per depth: the midpoint output defect never exceeds the certified defect bound.
    * prediction, per depth: matching lowers the midpoint defect (unmatched - matched relative
      defect > 0, one-sided t-test). Fails when the matched defect is significantly larger.
    * prediction: the matched defect grows with depth (permutation trend test over seeds, Lemma 4.1
      compounding). Fails when it significantly decreases with depth.
    * check: the certified bound grows with depth (its recursion multiplies by |W^t| per layer, so
      this follows from the formula: a consistency check of the code, not evidence).

    The loss barrier at initialisation is not a row: averaged logits are smaller, the cross-entropy
    stays below the chord and the barrier is exactly 0, so "barrier <= bound" could not fail.
    """
    groups = defaultdict(list)
    for r in records:
        groups[(r["config"]["m0"], r["config"]["width"], tuple(r["config"]["depths"]))].append(r["result"])
    rows = []
    for (m0, width, depths), res in sorted(groups.items()):
        label = f"m0={m0}, width {width}"
        for i, depth in enumerate(depths):
            rows.append(
                every_at_most(
                    NAME,
                    f"midpoint output defect / certified defect bound, depth {depth}, {label}",
                    "theory-certified-bound: recursion u_L at t = 1/2",
                    1.0,
                    [x["defect_absolute"][i] / x["defect_bound"][i] for x in res],
                    details={
                        "loss_barrier": [x["barrier"][i] for x in res],
                        "loss_bound": [x["bound"][i] for x in res],
                    },
                )
            )
            rows.append(
                direction(
                    NAME,
                    f"matching lowers the midpoint defect, depth {depth}, {label}",
                    "unmatched - matched relative defect > 0",
                    [x["defect_unmatched"][i] - x["defect_matched"][i] for x in res],
                    details={"matched": [x["defect_matched"][i] for x in res]},
                    fails_if="the matched defect is significantly larger than the unmatched one",
                )
            )
        rows.append(
            trend(
                NAME,
                f"matched midpoint defect grows with depth, {label}",
                "Spearman(depth, defect) > 0 within seeds (Lemma 4.1 compounding)",
                [(depths, x["defect_matched"]) for x in res],
                details={"defect_by_depth": np.mean([x["defect_matched"] for x in res], 0).tolist()},
                fails_if="the matched defect significantly decreases with depth",
            )
        )
        rows.append(
            trend(
                NAME,
                f"certified bound grows with depth, {label}",
                "Spearman(depth, bound) > 0",
                [(depths, x["bound"]) for x in res],
                kind="check",
                details={"bound_by_depth": np.mean([x["bound"] for x in res], 0).tolist()},
            )
        )
    return rows


def run(preset: str, results_dir, **sweep_options) -> list[Row]:
    """Run the preset's configs (resumably) and return the rows."""
    return run_experiment(sys.modules[__name__], preset, results_dir, **sweep_options)
