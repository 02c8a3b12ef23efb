"""Figure 2 — intrinsic-dimension estimators: on manifolds of known dimension, and on neuron clouds.

Left: estimate vs true dimension for MLE (Levina–Bickel), TwoNN, correlation dimension and local
PCA on the benchmark manifolds (:func:`lmctheory.dimension.sample_manifold`, randomly rotated
into R^D), with y = x. Right: per hidden layer of an MLP on digits, at initialisation and after
SGD training: Ferbach's approximate dimensions (participation ratios of W^T W, W Sigma W^T and
H^T H / n) and the MLE / TwoNN estimates on the neuron-weight cloud (rows of W). With n neurons
per layer, kNN estimates above log2 n (dashed) are biased low, not capped: those bars are hatched and
pale. This figure runs its own resumable sweep (``<results>/figure-dimension-<preset>``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from lmctheory.dimension import (
    BENCHMARK_SUITE,
    MLE,
    CorrelationDimension,
    PCADimension,
    TwoNN,
    sample_manifold,
)

from ._common import decorate, figure_sweep, save, subplots

NAME = "fig2_dimension"
TITLE = "Intrinsic-dimension estimators: known manifolds, and neuron clouds of random and trained layers"
USES = ()  # the validation experiments whose records it draws
ESTIMATORS = {"MLE": MLE, "TwoNN": TwoNN, "CorrInt": CorrelationDimension, "lPCA": PCADimension}
LAYER_METHODS = ("weights", "weighted", "activations")


def _grid(suite, n, D, width, epochs):
    configs = [{"kind": "manifold", "name": name, "d": d, "n": n, "D": D, "seed": 0} for name, d in suite]
    return configs + [
        {"kind": "layers", "trained": t, "width": width, "epochs": epochs, "seed": 0} for t in (False, True)
    ]


PRESETS = {
    "smoke": _grid([("sphere", 2), ("ball", 5), ("swiss-roll", None)], 400, 10, 64, 2),
    "quick": _grid(list(BENCHMARK_SUITE), 1500, 20, 256, 20),
    "full": _grid(list(BENCHMARK_SUITE), 4000, 50, 512, 50),
}


def run_config(config: dict) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reliability warnings: the thresholds are drawn with the estimates
        if config["kind"] == "manifold":
            x, truth = sample_manifold(
                config["name"], config["n"], config["D"], config["d"], seed=config["seed"]
            )
            return {
                "truth": truth,
                "estimates": {k: float(e().fit(x).dimension_) for k, e in ESTIMATORS.items()},
            }
        return _layers(config)


#: trained results reproduce bit for bit only on the machine and build that wrote them, in distribution elsewhere
#: (lmctheory.runs.reproduction_tolerance)
run_config.trained = True


def _layers(config):
    import torch

    from lmctheory.lmc import layer_dimensions
    from lmctheory.nn import MLP, TrainConfig, load_dataset, train

    data = load_dataset("digits")
    widths = [data.n_features, config["width"], config["width"], data.n_classes]
    if config["trained"]:
        cfg = TrainConfig(
            lr=0.05, epochs=config["epochs"], batch_size=64, init_seed=config["seed"], device="cpu"
        )
        model = train(lambda: MLP(widths), data, cfg).model
    else:
        torch.manual_seed(config["seed"])
        model = MLP(widths)
    x = data.x_train.flatten(1).double().numpy()
    out = {m: [d.participation_ratio for d in layer_dimensions(model, x, m)] for m in LAYER_METHODS}
    clouds = [layer.weight.detach().double().numpy() for layer in model.layers[:-1]]
    for name in ("MLE", "TwoNN"):
        out[name] = [float(ESTIMATORS[name]().fit(c).dimension_) for c in clouds]
    return out


def sweep(preset: str, results_dir, fallback_dirs=()):
    """This figure's own :class:`lmctheory.runs.Sweep` (``<results>/figure-dimension-<preset>``)."""
    from lmctheory.runs import Sweep

    sub = f"figure-dimension-{preset}"
    return Sweep(
        run_config,
        PRESETS[preset],
        Path(results_dir) / sub,
        "figures.dimension",
        tuple(Path(d) / sub for d in fallback_dirs),
        cost,
    )


def cost(config: dict) -> float:
    """Relative compute time (an ordering hint for the sweep engine)."""
    return 0.3 if config["kind"] == "manifold" else 0.05 * config["epochs"] * (config["width"] / 256) ** 2


def draw(preset: str, results_dir, out_dir, **sweep_options):
    res = figure_sweep(sweep(preset, results_dir, sweep_options.pop("fallback_dirs", ())), **sweep_options)
    done = [r for r in res.records if r.get("status") == "done"]
    fig, axes = subplots(1, 2)
    ax = axes[0, 0]
    manifolds = [r for r in done if r["config"]["kind"] == "manifold"]
    truth = np.array([r["result"]["truth"] for r in manifolds], dtype=float)
    for i, name in enumerate(ESTIMATORS):
        est = [r["result"]["estimates"][name] for r in manifolds]
        ax.scatter(truth + (i - 1.5) * 0.08, est, s=14, label=name)
    lim = [0, max(truth.max(), 1) + 1]
    ax.plot(lim, lim, "k--", lw=0.8, label="y = x")
    decorate(ax, xlabel="true intrinsic dimension", ylabel="estimated dimension", title="benchmark manifolds")
    ax = axes[0, 1]
    layers = {r["config"]["trained"]: r["result"] for r in done if r["config"]["kind"] == "layers"}
    width = next((r["config"]["width"] for r in done if r["config"]["kind"] == "layers"), None)
    labels = [*LAYER_METHODS, "MLE", "TwoNN"]
    knn = np.array([m in ("MLE", "TwoNN") for m in labels])
    threshold = np.log2(width) if width else np.inf
    n_layers = len(next(iter(layers.values()))[labels[0]]) if layers else 0
    bar = 0.8 / max(1, 2 * n_layers)
    x = np.arange(len(labels))
    k = 0
    for trained, res_ in sorted(layers.items()):
        for layer in range(n_layers):
            values = np.array([res_[m][layer] for m in labels])
            beyond = knn & (values > threshold)
            bars = ax.bar(
                x + (k - (2 * n_layers - 1) / 2) * bar,
                values,
                bar,
                label=f"{'trained' if trained else 'random'} layer {layer + 1}",
            )
            for patch, faint in zip(bars, beyond, strict=True):
                if faint:
                    patch.set_alpha(0.35)
                    patch.set_hatch("//")
            k += 1
    if width:
        ax.hlines(
            threshold,
            x[knn].min() - 0.45,
            x[knn].max() + 0.45,
            colors="k",
            linestyles="--",
            lw=0.9,
            label=f"kNN reliability threshold log2 n = {threshold:.0f} (hatched: beyond it)",
        )
    ax.set_xticks(x, ["PR W^T W", "PR W Σ W^T", "PR H^T H", "MLE", "TwoNN"])
    decorate(
        ax, xlabel="definition", ylabel="dimension", title="hidden layers of an MLP on digits", yscale="log"
    )
    return save(fig, out_dir, NAME)


if __name__ == "__main__":
    from .cli import script_main

    script_main(draw)
