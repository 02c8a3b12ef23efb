"""Experiment 7 — disentangling LMC (Altıntaş et al.): what breaks it, one ingredient at a time.

Protocol: two models from the SAME initialisation trained with different SGD noise (data order),
no alignment; path theta(t) = (1 - t) theta_A + t theta_B on the test split. Barriers, over every t
in [0, 1] (:func:`lmctheory.lmc.certified_path_sup`: the certified upper end of the supremum,
its gap to the attained value closed to 1e-4 or 1 %; the 11-point grid maximum is kept as
``*_grid``): error barrier ``max_minus_mean`` of the test error (Frankle et al.; LMC when < 0.02),
the loss barrier above the chord, and the ``normalized`` barrier (error barrier / mean endpoint
accuracy: our reading of Altıntaş et al.'s performance-aware barrier; their exact formula is not
public). The attention model is not covered by the enclosure: its barriers are the grid maxima
(``barrier_over`` says which). The endpoint bound on the loss barrier
(:func:`lmctheory.lmc.endpoint_barrier_bound`) is computed for every covered pair. Base:
mnist1d, 1-hidden-layer ReLU MLP, SGD with momentum. Rungs (each changes one ingredient):

* ``logistic``: softmax regression — convex: loss barrier above chord exactly 0 and the error along
  the path <= Err_A + Err_B (exact invariants, :ref:`theory-invariants`);
* ``mlp1``: 1-hidden-layer ReLU MLP with SGD — robustly LMC (error barrier < 0.02);
* ``depth``: 1..4 hidden layers — barriers grow with depth;
* ``leaky``: leaky-ReLU slope 0..1 (1 = linear) on 2 hidden layers — a weaker non-linearity
  lowers the barrier;
* ``architecture``: CNN vs LCN (same receptive fields, no weight sharing) vs attention on the 8x8
  digit images, all three with SGD at 0.1 and cosine decay — weight sharing raises the barrier over
  locality alone; attention reported;
* ``optimizer``: SGD vs Adam vs Adam with warm-up (2 hidden layers) — Adam raises the barrier,
  warm-up lowers Adam's;
* ``dataset``: digits, mnist1d, Gaussian mixtures and a noisy teacher (and user files given with
  ``--data``) with a 2-hidden-layer MLP — the normalized barrier grows with difficulty (Spearman of
  mean endpoint error and normalized barrier > 0).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

import numpy as np

from lmctheory.nn import CNN, LCN, MLP, AttentionNet, LogisticRegression, TrainConfig, supports, train_pair

from ._nets import dataset, path_summary
from ._segment import bound_ratio, segment_barrier
from .report import Row, direction, every_at_most, measurement, run_experiment, trend

NAME = "disentangle"
DATA_AWARE = True
LMC_THRESHOLD = 0.02
#: a variant whose endpoints reach less than this multiple of chance accuracy never learned: it is reported,
#: and left out of every verdict (the dataset ladder's difficulty aside)
TRAINED_FACTOR = 2.0
#: the architecture rung compares CNN and LCN only when both reach this test accuracy on digits
ARCHITECTURE_ACCURACY = 0.9
BASE_DATA = "mnist1d"  # digits is so easy that every barrier is ~1 test example (measured); images: digits
DATA_LADDER = [
    "digits",
    "mnist1d",
    "gaussian_mixture:separation=2.5,d=20,classes=8",
    "teacher:d=20,noise=1.0",
]


def _rungs(width: int, epochs: int) -> dict[str, list[tuple[str, dict]]]:
    """rung -> [(label, {"model", "train", "data"})]; rungs share configurations (run once)."""
    sgd = {"optimizer": "sgd", "lr": 0.1, "warmup_steps": 0, "epochs": epochs}
    adam = dict(sgd, optimizer="adam", lr=1e-3)
    arch = dict(sgd, schedule="cosine")
    mlp = {"model": "mlp", "hidden": [width], "activation": "relu", "slope": 0.0}

    def deep(d, **kw):
        return dict(mlp, hidden=[width] * d, **kw)

    def cfg(model, train=sgd, data=BASE_DATA):
        return {"model": model, "train": train, "data": data}

    return {
        "logistic": [("logistic", cfg({"model": "logistic"}))],
        "depth": [(f"{d} hidden", cfg(deep(d))) for d in (1, 2, 3, 4)],
        "leaky": [
            (f"slope {s:g}", cfg(deep(2) if s == 0 else deep(2, activation="leaky_relu", slope=s)))
            for s in (0.0, 0.25, 0.5, 0.75, 1.0)
        ],
        # one optimizer, schedule and budget for every architecture (Adam for attention alone would confound the
        # two); cosine decay, because attention diverged at a constant 0.1 (5 of 8 full-preset seeds, measured)
        "architecture": [
            (k, cfg({"model": k, "channels": [8, 8]}, arch, data="digits")) for k in ("cnn", "lcn")
        ]
        + [("attention", cfg({"model": "attention"}, arch, data="digits"))],
        "optimizer": [
            ("sgd", cfg(deep(2))),
            ("adam", cfg(deep(2), adam)),
            ("adam+warmup", cfg(deep(2), dict(adam, warmup_steps=100))),
        ],
        "dataset": [(d, cfg(deep(2), data=d)) for d in DATA_LADDER],
    }


def _grid(width, epochs, seeds, rungs=None):
    unique = []
    for rung, variants in _rungs(width, epochs).items():
        if rungs is None or rung in rungs:
            unique += [v for _, v in variants if v not in unique]
    return [dict(v, width=width, epochs=epochs, seed=s) for v in unique for s in seeds]


PRESETS = {
    "smoke": _grid(64, 3, [0], rungs=("logistic", "architecture")),
    "quick": _grid(256, 10, [0, 1, 2, 3]),
    "full": [dict(c, device="auto") for c in _grid(512, 30, list(range(8)))],  # GPU when present
}


def _make(spec: dict, data):
    kind = spec["model"]
    if kind == "logistic":
        return lambda: LogisticRegression(data.n_features, data.n_classes)
    if kind == "mlp":
        widths = [data.n_features, *spec["hidden"], data.n_classes]
        return lambda: MLP(widths, spec["activation"], slope=spec["slope"])
    if len(data.input_shape) != 3:
        raise ValueError(
            f"model {kind!r} needs image data (C, H, W); {data.name} has shape {data.input_shape}"
        )
    if kind in ("cnn", "lcn"):
        cls = CNN if kind == "cnn" else LCN
        return lambda: cls(data.input_shape, spec["channels"], data.n_classes)
    if kind == "attention":
        return lambda: AttentionNet(data.input_shape, data.n_classes)
    raise ValueError(f"unknown model {kind!r}")


def cost(config: dict) -> float:
    """Relative compute time of a config (an ordering hint for the sweep engine)."""
    seeds = len(config["seeds"]) if "seeds" in config else 1
    return 0.3 + seeds * config["epochs"] / 10 * (config["width"] / 256) ** 2 * 1.2


def run_config(config: dict) -> dict:
    data = dataset(config["data"])
    make = _make(config["model"], data)
    t = config["train"]
    cfg = TrainConfig(
        optimizer=t["optimizer"],
        lr=t["lr"],
        momentum=0.9,
        batch_size=64,
        epochs=t["epochs"],
        warmup_steps=t["warmup_steps"],
        schedule=t.get("schedule", "constant"),
        init_seed=config["seed"],
        device=config.get("device", "cpu"),
    )
    run_a, run_b = train_pair(
        make, data, cfg, same_init=True, seeds=(100 + config["seed"], 200 + config["seed"])
    )
    run_a.model, run_b.model = run_a.model.cpu(), run_b.model.cpu()  # paths evaluated on CPU
    if run_a.diverged or run_b.diverged:
        raise FloatingPointError(f"training diverged (A at {run_a.diverged_at}, B at {run_b.diverged_at})")
    test = data.split("test")
    path = path_summary(run_a.model, run_b.model, test)
    train_path = path_summary(run_a.model, run_b.model, data.split("train"), split="train")
    err = np.asarray(path["values"]["error"])
    grid = {
        "error_barrier": path["barriers"]["error"]["max_minus_mean"],
        "loss_barrier": path["barriers"]["loss"]["above_chord"],
    }
    over = _over_segment(run_a.model, run_b.model, test) if supports(run_a.model) else {}
    barrier = over.get("error_barrier", grid["error_barrier"])
    return {
        **{f"{key}_grid": value for key, value in grid.items()},
        **grid,
        **over,
        "barrier_over": "[0, 1], certified"
        if over
        else f"grid of {len(path['ts'])} points (model not covered)",
        "normalized": float(barrier / (1 - (err[0] + err[-1]) / 2)),
        "endpoint_error": float((err[0] + err[-1]) / 2),
        "endpoint_errors": [float(err[0]), float(err[-1])],
        "n_test": int(len(data.y_test)),
        "n_classes": int(data.n_classes),
        "error_barrier_train": train_path["barriers"]["error"]["max_minus_mean"],
        "error_over_sum": float((barrier + (err[0] + err[-1]) / 2) / max(err[0] + err[-1], 1e-12)),
        "n_parameters": sum(p.numel() for p in run_a.model.parameters()),
        "path": path,
    }


#: trained results reproduce bit for bit only on the machine and build that wrote them, in distribution elsewhere
#: (lmctheory.runs.reproduction_tolerance)
run_config.trained = True


def _over_segment(model_a, model_b, test) -> dict:
    """The barriers over every t in [0, 1] (:func:`._segment.segment_barrier`): the certified upper ends of
    the error's ``max_minus_mean`` and the loss above the chord (``error_barrier``, ``loss_barrier``), the
    values attained (``*_attained``), ``barrier_converged``, ``sup_intervals`` and ``endpoint_bound``."""
    over = segment_barrier(model_a, model_b, test, error_reference="mean")
    over["loss_barrier"], over["loss_barrier_attained"] = over.pop("barrier"), over.pop("barrier_attained")
    return over


def _key(config: dict) -> str:
    return json.dumps({k: config[k] for k in ("model", "train", "data")}, sort_keys=True)


def _by_rung(records: list[dict]) -> dict[str, dict[str, list[tuple[dict, dict]]]]:
    """rung -> label -> [(config, result)], from the finished records (any preset, user datasets too)."""
    index = defaultdict(list)
    for r in records:
        index[_key(r["config"])].append((r["config"], r["result"]))
    if not records:
        return {}
    c0 = records[0]["config"]
    out = {}
    for rung, variants in _rungs(c0["width"], c0["epochs"]).items():
        groups = {label: index[_key(v)] for label, v in variants if index.get(_key(v))}
        if rung == "dataset":  # the base MLP on every dataset that ran, user files included
            base = variants[0][1]
            for recs in index.values():
                cfg = recs[0][0]
                if cfg["model"] == base["model"] and cfg["train"] == base["train"]:
                    groups[cfg["data"]] = recs
        if groups:
            out[rung] = groups
    return out


def _paired(groups, variants, key):
    """Per seed, the values of ``key`` for ``variants`` in order (seeds where all ran)."""
    by_seed = defaultdict(dict)
    for v in variants:
        for c, res in groups.get(v, []):
            by_seed[c["seed"]][v] = res[key]
    return [[vals[v] for v in variants] for _, vals in sorted(by_seed.items()) if len(vals) == len(variants)]


def _accuracy(results: list[dict]) -> float:
    return float(1 - np.mean([r["endpoint_error"] for r in results]))


def _untrained(rungs) -> dict[str, float]:
    """label -> mean endpoint accuracy of the variants (outside the dataset ladder) that never learned."""
    out = {}
    for rung, groups in rungs.items():
        for label, pairs in groups.items():
            results = [r for _, r in pairs]
            classes = results[0].get("n_classes")
            if rung != "dataset" and classes and _accuracy(results) < TRAINED_FACTOR / classes:
                out[label] = _accuracy(results)
    return out


def rows_from(records: list[dict]) -> list[Row]:
    """Rows, one value per seed (same-init pairs); variants outside the dataset ladder whose endpoints
    never learned (mean test accuracy below twice chance) are reported and left out of the predictions:

    * checks (logistic regression, convex): loss barrier above chord over [0, 1] <= 1e-6 and max error
      along the path <= Err_A + Err_B on every pair.
    * check: the loss barrier attained on [0, 1] never exceeds the endpoint bound (every covered pair).
    * measurement: the endpoint bound's tightness, bound / certified loss barrier (pairs whose barrier
      is at least 1e-4; median per variant in the details).
    * prediction: the 1-hidden-layer ReLU MLP trained with SGD is LMC, error barrier < 0.02
      (one-sided t-test). Fails when the barrier is significantly above 0.02.
    * prediction: the error barrier grows with depth (permutation trend test within seeds). Fails
      when it significantly decreases.
    * prediction: the error barrier falls as the leaky-ReLU slope goes to 1. Fails when it
      significantly rises.
    * prediction: CNN - LCN error barrier > 0 (weight sharing), when both reach 90 % test accuracy
      with the same optimizer and budget. Fails when significantly negative.
    * measurement: the error barrier of each architecture (with its test accuracy).
    * prediction: Adam - SGD error barrier > 0. Fails when significantly negative.
    * prediction: Adam with warm-up - Adam < 0. Fails when significantly positive.
    * prediction: the normalized barrier grows with the mean endpoint error across datasets
      (permutation trend test within seeds). Fails when it significantly decreases.
    """
    rungs = _by_rung(records)
    rows = []
    untrained = _untrained(rungs)
    if untrained:
        rows.append(
            measurement(
                NAME,
                f"variants not trained (endpoint accuracy below {TRAINED_FACTOR:g}x chance), "
                "left out of the predictions",
                "count",
                [len(untrained)],
                why="a count",
                details={"accuracy": untrained},
            )
        )
        rungs = {
            rung: {label: pairs for label, pairs in groups.items() if label not in untrained}
            for rung, groups in rungs.items()
        }
    if "logistic" in _by_rung(records):  # identities of a convex model: checked whether or not it learned
        res = [r for _, r in _by_rung(records)["logistic"]["logistic"]]
        rows.append(
            every_at_most(
                NAME,
                "logistic regression: loss barrier above chord (convex)",
                "exactly 0 (float32: <= 1e-6)",
                1e-6,
                [x["loss_barrier"] for x in res],
            )
        )
        rows.append(
            every_at_most(
                NAME,
                "logistic regression: max error on the path / (Err_A + Err_B)",
                "<= 1 (convexity)",
                1.0,
                [x["error_over_sum"] for x in res],
            )
        )
    rows += _segment_rows(records)
    if "1 hidden" in rungs.get("depth", {}):
        res = [r for _, r in rungs["depth"]["1 hidden"]]
        rows.append(
            direction(
                NAME,
                f"1-hidden-layer ReLU MLP, SGD, same init: error barrier < 0.02 ({BASE_DATA})",
                "error barrier < LMC threshold 0.02",
                [x["error_barrier"] for x in res],
                sense="<",
                threshold=LMC_THRESHOLD,
                details={"normalized": [x["normalized"] for x in res]},
                fails_if="the error barrier is significantly above 0.02",
            )
        )
    if "depth" in rungs:
        g = rungs["depth"]
        variants = sorted(g, key=lambda v: int(v.split()[0]))
        depths = [int(v.split()[0]) for v in variants]
        vals = _paired(g, variants, "error_barrier")
        rows.append(
            trend(
                NAME,
                f"error barrier grows with depth ({', '.join(map(str, depths))} hidden layers)",
                "Spearman(depth, barrier) > 0 within seeds",
                [(depths, v) for v in vals],
                details={
                    "barrier_by_depth": np.mean(vals, 0).tolist(),
                    "normalized_by_depth": np.mean(_paired(g, variants, "normalized"), 0).tolist(),
                },
                fails_if="the error barrier significantly decreases with depth",
            )
        )
    if "leaky" in rungs:
        g = rungs["leaky"]
        variants = sorted(g, key=lambda v: float(v.split()[1]))
        slopes = [float(v.split()[1]) for v in variants]
        vals = _paired(g, variants, "error_barrier")
        rows.append(
            trend(
                NAME,
                "error barrier falls as the leaky-ReLU slope goes to 1 (linear)",
                "Spearman(slope, barrier) < 0 within seeds",
                [(slopes, v) for v in vals],
                sense="<",
                details={"slopes": slopes, "barrier_by_slope": np.mean(vals, 0).tolist()},
                fails_if="the error barrier significantly rises with the slope",
            )
        )
    if "architecture" in rungs:
        g = rungs["architecture"]
        accuracy = {v: _accuracy([r for _, r in g[v]]) for v in g}
        if "cnn" in g and "lcn" in g and min(accuracy["cnn"], accuracy["lcn"]) >= ARCHITECTURE_ACCURACY:
            vals = _paired(g, ["cnn", "lcn"], "error_barrier")
            n_test = g["cnn"][0][1].get("n_test")
            rows.append(
                direction(
                    NAME,
                    "weight sharing breaks LMC more than locality: CNN - LCN error barrier",
                    "> 0",
                    [a - b for a, b in vals],
                    details={
                        "n_parameters": {v: g[v][0][1]["n_parameters"] for v in g},
                        "test_accuracy": accuracy,
                        "n_test_images": n_test,
                        "train_split_difference": [
                            a - b for a, b in _paired(g, ["cnn", "lcn"], "error_barrier_train")
                        ]
                        if all("error_barrier_train" in r for _, r in g["cnn"])
                        else None,
                    },
                    fails_if="the CNN's barrier is significantly below the LCN's",
                )
            )
        for v in sorted(g):
            rows.append(
                measurement(
                    NAME,
                    f"error barrier, {v} (digits images, test accuracy {accuracy[v]:.2f})",
                    "max_minus_mean of the test error",
                    [r["error_barrier"] for _, r in g[v]],
                    why="reported per architecture"
                    + (
                        ""
                        if accuracy[v] >= ARCHITECTURE_ACCURACY
                        else f" (below the rung's {ARCHITECTURE_ACCURACY:g} test accuracy: not compared)"
                    ),
                    details={"normalized": [r["normalized"] for _, r in g[v]]},
                )
            )
    if len(rungs.get("optimizer", {})) == 3:
        vals = _paired(rungs["optimizer"], ["sgd", "adam", "adam+warmup"], "error_barrier")
        rows.append(
            direction(
                NAME,
                "Adam raises the error barrier over SGD",
                "Adam - SGD > 0",
                [b - a for a, b, _ in vals],
                fails_if="Adam's barrier is significantly below SGD's",
            )
        )
        rows.append(
            direction(
                NAME,
                "warm-up lowers Adam's error barrier",
                "Adam+warm-up - Adam < 0",
                [c - b for _, b, c in vals],
                sense="<",
                details={"barriers": np.mean(vals, 0).tolist()},
                fails_if="warm-up significantly raises Adam's barrier",
            )
        )
    if len(rungs.get("dataset", {})) >= 3:
        g = rungs["dataset"]
        variants = sorted(g)
        errs, norm = _paired(g, variants, "endpoint_error"), _paired(g, variants, "normalized")
        rows.append(
            trend(
                NAME,
                f"normalized barrier grows with dataset difficulty ({len(variants)} datasets)",
                "Spearman(mean endpoint error, normalized barrier) > 0 within seeds",
                list(zip(errs, norm, strict=True)),
                details={
                    "datasets": variants,
                    "endpoint_error": np.mean(errs, 0).tolist(),
                    "normalized": np.mean(norm, 0).tolist(),
                },
                fails_if="the normalized barrier significantly decreases with the endpoint error",
            )
        )
    return rows


def _segment_rows(records: list[dict]) -> list[Row]:
    """The endpoint bound against the loss barrier over [0, 1], on every record where both were computed
    (trained or not: the bound holds for any pair): a check (the attained barrier never exceeds the
    bound) and its tightness (bound / certified barrier, pairs whose barrier is at least 1e-4)."""
    covered = [(_label(r["config"]), r["result"]) for r in records if "endpoint_bound" in r["result"]]
    if not covered:
        return []
    ratios = defaultdict(list)
    for label, res in covered:
        if res["loss_barrier"] >= 1e-4:
            ratios[label].append(res["endpoint_bound"] / res["loss_barrier"])
    pooled = [v for values in ratios.values() for v in values]
    rows = [
        every_at_most(
            NAME,
            "loss barrier over [0, 1] / endpoint bound, every covered variant",
            "theory-endpoint-bound (every t in [0, 1])",
            1.0,
            [bound_ratio(res["loss_barrier_attained"], res["endpoint_bound"]) for _, res in covered],
            details={
                "unit": "one pair",
                "all_sup_converged": all(res["barrier_converged"] for _, res in covered),
            },
        )
    ]
    if pooled:
        rows.append(
            measurement(
                NAME,
                "endpoint bound / certified loss barrier over [0, 1] (pairs with barrier >= 1e-4)",
                "tightness ratio, >= 1 (median per variant in the details)",
                pooled,
                why="tightness of a rigorous bound: nothing to compare it with",
                details={"median_by_variant": {k: float(np.median(v)) for k, v in sorted(ratios.items())}},
            )
        )
    return rows


def _label(config: dict) -> str:
    """A short name of a config's variant (model, optimizer, data)."""
    m = config["model"]
    name = m["model"]
    if name == "mlp":
        name = f"mlp {len(m['hidden'])}x{m['hidden'][0]} {m['activation']}" + (
            f" {m['slope']:g}" if m["activation"] == "leaky_relu" else ""
        )
    t = config["train"]
    return f"{name}, {t['optimizer']}{'+warmup' if t['warmup_steps'] else ''}, {config['data']}"


def configs_for(preset: str, data: list[str] | None) -> list[dict]:
    """The preset's configs; user ``data`` specs join the dataset ladder (base MLP)."""
    configs = list(PRESETS[preset])
    if data:
        c0 = configs[0]
        base = _rungs(c0["width"], c0["epochs"])["dataset"][0][1]
        seeds = sorted({c["seed"] for c in configs})
        extra = {"device": c0["device"]} if "device" in c0 else {}
        configs += [
            dict(base, data=d, width=c0["width"], epochs=c0["epochs"], seed=s, **extra)
            for d in data
            for s in seeds
        ]
    return configs


def run(preset: str, results_dir, data: list[str] | None = None, **sweep_options) -> list[Row]:
    """Run the preset's configs (resumably) and return the rows."""
    return run_experiment(sys.modules[__name__], preset, results_dir, data=data, **sweep_options)
