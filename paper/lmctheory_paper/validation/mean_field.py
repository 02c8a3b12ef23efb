"""Experiment 5 — trained mean-field two-layer nets (Ferbach et al., Thm 3.1).

Student f(x) = (1/N) sum_i a_i relu(w_i . x) (:class:`lmctheory.nn.MeanFieldTwoLayer`,
x in R^m0) trained by online SGD on fresh Gaussian inputs against a fixed mean-field teacher of
width 4 (:func:`lmctheory.nn.train_online`, squared loss, step lr * N). Two runs with
independent initialisations and sample streams are, by propagation of chaos, two N-samples of the
same law rho_t of neurons theta_i = (w_i, a_i) in R^(m0+1); their optimal matching error (exact W_2
assignment on theta) should decay like N^-1/D with D the dimension of rho_t's support.

Per width N: the matching error, the output gap and the squared-loss barrier above chord at
t = 1/2 on 2048 fresh inputs after matching (and without), and the certified bound (MSE).
D is estimated by TwoNN on the pooled trained clouds of the widest pair.

Rows (see :func:`rows_from`): the fitted matching-error slope vs -1/D_hat (sharp regime
D_hat > 4); D_hat next to m0 + 1 (measurement); the matched output gap decreases with N (a
permutation trend test within seeds); matching lowers the gap at the largest width; the certified
bound is never exceeded (a check).
"""

from __future__ import annotations

import sys
from collections import defaultdict

import numpy as np
import torch

from lmctheory.dimension import TwoNN
from lmctheory.lmc import Permutation, apply_permutation, measured_and_certified
from lmctheory.nn import MeanFieldTwoLayer, train_online
from lmctheory.ot import optimal_matching
from lmctheory.rates import fit_rate

from ._nets import midpoint_defect
from ._segment import segment_barrier, segment_rows
from .report import Row, direction, every_at_most, measurement, rate_row, run_experiment, trend

NAME = "mean_field"
TEACHER_WIDTH = 4


def _grid(m0s, widths, steps, seeds):
    return [
        {"m0": m0, "widths": widths, "steps": steps, "lr": 0.05, "batch_size": 16, "n_eval": 2048, "seed": s}
        for m0 in m0s
        for s in seeds
    ]


PRESETS = {
    "smoke": _grid([5], [32, 64, 128, 256], 300, [0]),
    "quick": _grid([5], [64, 128, 256, 512, 1024], 1000, [0, 1, 2]),
    "full": _grid([3, 5, 8], [64, 128, 256, 512, 1024, 2048], 5000, [0, 1, 2, 3, 4]),
}


def _cloud(model) -> np.ndarray:
    return np.c_[model.hidden_layer.weight.detach().cpu().numpy(), model.out.weight.detach().cpu().numpy().T]


def cost(config: dict) -> float:
    """Relative compute time of a config (an ordering hint for the sweep engine)."""
    return config["steps"] / 1000 * sum(config["widths"]) / 2000 * 4


def run_config(config: dict) -> dict:
    m0, seed = config["m0"], config["seed"]
    torch.manual_seed(10_000 + seed)
    teacher = MeanFieldTwoLayer(m0, TEACHER_WIDTH).double()
    x = torch.randn(
        config["n_eval"], m0, generator=torch.Generator().manual_seed(20_000 + seed), dtype=torch.float64
    )
    with torch.no_grad():
        y = teacher(x).squeeze(-1)
    out = defaultdict(list)
    for n in config["widths"]:
        runs = []
        for k in (0, 1):
            torch.manual_seed(2 * seed + k)
            student = MeanFieldTwoLayer(m0, n).double()
            res = train_online(
                student,
                teacher,
                steps=config["steps"],
                lr=config["lr"],
                batch_size=config["batch_size"],
                seed=1000 * (2 * seed + k) + n,
                device="cpu",
            )
            out["final_loss"].append(res.losses[-1] if res.losses else float("nan"))
            out["diverged"].append(res.diverged)
            runs.append(student)
        model_a, model_b = runs
        cloud_a, cloud_b = _cloud(model_a), _cloud(model_b)
        perm, w2_sq = optimal_matching(cloud_a, cloud_b, 2)  # joint (w_i, a_i): D = m0 + 1
        matched = apply_permutation(
            model_b, Permutation({"P_0": perm}, "optimal W_2 on (w, a)", model_b.permutation_spec(), {})
        )
        check = measured_and_certified(model_a, matched, (x, y), ts=np.linspace(0, 1, 11))
        out["w2"].append(float(np.sqrt(w2_sq)))
        out["gap"].append(midpoint_defect(model_a, matched, x, relative=False))
        out["gap_unmatched"].append(midpoint_defect(model_a, model_b, x, relative=False))
        out["barrier_grid"].append(check["measured"])
        out["bound"].append(check["upper"])
        for key, value in segment_barrier(model_a, matched, (x, y)).items():
            out[key].append(value)  # "barrier": the certified supremum over every t in [0, 1]
        if n == max(config["widths"]):
            out["dimension"] = float(TwoNN().fit(np.r_[cloud_a, cloud_b]).dimension_)
    return dict(out)


#: trained results reproduce bit for bit only on the machine and build that wrote them, in distribution elsewhere
#: (lmctheory.runs.reproduction_tolerance)
run_config.trained = True


def rows_from(records: list[dict]) -> list[Row]:
    """Rows per (m0, widths), one value per seed:

    * prediction (D_hat > 4): the matching error's slope equals -1/D_hat, D_hat the TwoNN dimension of
      the trained clouds, within half the gap to the neighbouring dimensions' -1/(D_hat -+ 1) that it
      rules out (TOST; no finite-N correction: trained clouds have no calibration law). Fails when the
      band lies wholly outside.
    * measurement: D_hat next to the initial dimension m0 + 1.
    * prediction: the matched output gap at t = 1/2 decreases with the width (permutation trend test
      within seeds). Fails when it significantly increases.
    * prediction: matching lowers the output gap at the largest width (one-sided t-test). Fails when
      the matched gap is significantly larger.
    * check: the squared-loss barrier never exceeds the certified bound, both on the 11-point grid
      (every width and seed).
    * check: the barrier over [0, 1] (the largest value attained, located by the certified enclosure)
      never exceeds the endpoint bound; measurement: the certified barrier and the endpoint bound per
      width (their tightness).
    """
    groups = defaultdict(list)
    for r in records:
        groups[(r["config"]["m0"], tuple(r["config"]["widths"]))].append(r["result"])
    rows = []
    for (m0, widths), res in sorted(groups.items()):
        label = f"m0={m0}, D=m0+1={m0 + 1}"
        dims = [x["dimension"] for x in res]
        d_hat = float(np.mean(dims))
        slopes = [fit_rate(widths, x["w2"]).slope for x in res]
        rows.append(
            rate_row(
                NAME,
                f"matching error slope of trained nets vs -1/D_hat, {label}",
                "-1/D_hat, D_hat = TwoNN of the trained cloud",
                -1 / d_hat,
                slopes,
                (1 / d_hat - 1 / (d_hat + 1)) / 2,
                rules_out=[-1 / (d_hat - 1), -1 / (d_hat + 1)],
                sharp=d_hat > 4,
                not_sharp="the W_2 rate is not sharp for D_hat <= 4",
                details={"D_hat": dims, "init_prediction": -1 / (m0 + 1)},
            )
        )
        rows.append(
            measurement(
                NAME,
                f"dimension of the trained neuron cloud (init: {m0 + 1}), {label}",
                "TwoNN on (w_i, a_i) of both runs at the largest width",
                dims,
                why="an estimate, compared with nothing",
            )
        )
        rows.append(
            trend(
                NAME,
                f"matched output gap at t=1/2 decreases with width, {label}",
                "Spearman(N, gap) < 0 within seeds",
                [(widths, x["gap"]) for x in res],
                sense="<",
                details={
                    "gap_by_width": np.mean([x["gap"] for x in res], 0).tolist(),
                    "gap_slope": [fit_rate(widths, x["gap"]).slope for x in res],
                },
                fails_if="the matched gap significantly increases with the width",
            )
        )
        rows.append(
            direction(
                NAME,
                f"matching lowers the output gap at N={widths[-1]}, {label}",
                "unmatched - matched gap > 0",
                [x["gap_unmatched"][-1] - x["gap"][-1] for x in res],
                fails_if="the matched gap is significantly larger than the unmatched one",
            )
        )
        rows.append(
            every_at_most(
                NAME,
                f"loss barrier / certified bound (MSE), on the 11-point grid, {label}",
                "theory-certified-bound certificate (at each t of the grid)",
                1.0,
                [b / c for x in res for b, c in zip(x["barrier_grid"], x["bound"], strict=True)],
                details={"unit": "one (seed, width)"},
            )
        )
        rows += segment_rows(NAME, label, widths, res)
    return rows


def run(preset: str, results_dir, **sweep_options) -> list[Row]:
    """Run the preset's configs (resumably) and return the rows."""
    return run_experiment(sys.modules[__name__], preset, results_dir, **sweep_options)
