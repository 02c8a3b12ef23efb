"""Network subcommands: train, barrier."""

from __future__ import annotations

from pathlib import Path

from .common import UsageError, add_output_options, parse_int_list, validating
from .names import DATASETS


def record(*args, **kwargs):
    from ..runs import record as make

    return make(*args, **kwargs)


def register(sub) -> None:
    """Add the network subcommands to the ``sub`` parsers."""
    p = sub.add_parser(
        "train",
        help="train a model or a checkpoint pair (same-init or independent) on a built-in or user dataset",
        description="Train and write checkpoints (state_dict .pt + JSON sidecar with the full config).",
    )
    _data_args(p)
    p.add_argument("--model", choices=["mlp", "logistic"], default="mlp")
    p.add_argument("--widths", help="MLP widths including input and output, e.g. 64,512,10")
    p.add_argument("--activation", default="relu", choices=["relu", "leaky_relu", "tanh", "gelu", "identity"])
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--warmup", type=int, default=0, help="linear warm-up steps")
    p.add_argument("--schedule", choices=["constant", "cosine"], default="constant")
    p.add_argument("--pair", choices=["same-init", "independent"], help="train two models (default: one)")
    p.add_argument("--seeds", default="0,1", help="seeds of the runs (data order; init too when independent)")
    p.add_argument("--init-seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--out-dir", required=True, help="directory for the checkpoints")
    add_output_options(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "barrier",
        help="loss/error along the path between two checkpoints, every named barrier and the certified bound",
        description="Evaluate theta(t) = (1-t) theta_A + t theta_B on train and test splits, after aligning B to "
        "A (--align), and print the path, the named barriers and the certified bound (docs: theory-certified-bound).",
    )
    p.add_argument("ckpt_a")
    p.add_argument("ckpt_b")
    _data_args(p, default=None, help_default="the dataset recorded with the checkpoints")
    p.add_argument("--align", choices=["none", "naive", "full", "weighted", "activation"], default="full")
    p.add_argument("--points", type=int, default=25, help="points on the path (default 25)")
    p.add_argument(
        "--over-segment",
        action="store_true",
        help="also the barrier over every t in [0, 1] (certified enclosure of loss and error, "
        "docs: theory-certified-sup) and the endpoint bound on it (theory-endpoint-bound)",
    )
    add_output_options(p)
    p.set_defaults(func=cmd_barrier)


def _over_segment(model_a, model_b, data, split: str) -> tuple[dict, list[str]]:
    """The barrier over every t in [0, 1] (certified enclosure, loss and error above the chord) and the
    endpoint bound on the loss barrier: the JSON part and the lines to print."""
    from ..lmc import certified_path_sup, endpoint_barrier_bound

    sups = certified_path_sup(model_a, model_b, data)
    endpoint = endpoint_barrier_bound(model_a, model_b, data)
    lines = [
        f"[{split}] {m} barrier above chord over [0, 1]: [{s.lower:.4g}, {s.upper:.4g}] (certified; "
        f"{s.intervals} sub-intervals, {'converged' if s.converged else 'NOT converged: budget spent'})"
        for m, s in sups.items()
    ]
    lines.append(f"[{split}] endpoint bound on the loss barrier over [0, 1]: {endpoint.upper:.4g}")
    return {
        "certified_sup": {m: s.to_dict() for m, s in sups.items()},
        "endpoint_bound": endpoint.to_dict(),
    }, lines


def _data_args(p, default="digits", help_default="digits"):
    p.add_argument("--data", choices=DATASETS, default=default, help=f"dataset (default: {help_default})")
    p.add_argument("--data-path", help="file (npz) or directory of MNIST IDX files (idx)")


def _load_data(args):
    from ..nn import load_dataset_spec

    if args.data in ("npz", "idx"):
        if not args.data_path:
            raise ValueError(
                f"--data {args.data} needs --data-path "
                f"({'a .npz file' if args.data == 'npz' else 'DIR holding the four MNIST IDX files'})"
            )
        return load_dataset_spec(f"{args.data}:{args.data_path}")
    return load_dataset_spec(args.data)


def _recorded_data(args, side_a: dict, side_b: dict):
    """The dataset recorded in the checkpoints' sidecars (the same for both), reloaded from its spec."""
    from ..nn import load_dataset_spec

    specs = [(side.get("dataset") or {}).get("spec") for side in (side_a, side_b)]
    if specs[0] is None:
        raise ValueError(f"{args.ckpt_a} records no reloadable dataset: give --data (and --data-path)")
    if specs[0] != specs[1]:
        raise ValueError(
            f"the checkpoints were trained on different datasets ({specs[0]} and {specs[1]}): give --data"
        )
    return load_dataset_spec(specs[0])


def _input_size(model) -> int:
    import math

    first = next(p for p in model.parameters() if p.dim() >= 2)
    config = model.config() if hasattr(model, "config") else {}
    if "input_shape" in config:
        return int(math.prod(config["input_shape"]))
    return int(first.shape[1])


def cmd_train(args):
    from ..nn import MLP, LogisticRegression, TrainConfig, save_checkpoint, train, train_pair

    with validating():
        data = _load_data(args)
        if args.model == "mlp":
            widths = (
                parse_int_list(args.widths, "--widths", 1)
                if args.widths
                else [data.n_features, 512, data.n_classes]
            )
            if widths[0] != data.n_features or widths[-1] != data.n_classes:
                raise ValueError(
                    f"--widths must start with the input size {data.n_features} and end with the "
                    f"{data.n_classes} classes of {data.name}, got {widths}"
                )

            def make():
                return MLP(widths, activation=args.activation)
        else:

            def make():
                return LogisticRegression(data.n_features, data.n_classes)

        seeds = parse_int_list(args.seeds, "--seeds")
        seeds = seeds if args.pair else seeds[:1]
        cfg = TrainConfig(
            optimizer=args.optimizer,
            lr=args.lr,
            momentum=args.momentum,
            weight_decay=args.weight_decay,
            batch_size=args.batch_size,
            epochs=args.epochs,
            warmup_steps=args.warmup,
            schedule=args.schedule,
            init_seed=args.init_seed,
            data_seed=seeds[0],
            device=args.device,
        )
        if args.pair and len(seeds) != 2:
            raise UsageError(f"--pair needs two --seeds, got {seeds}")
    out = Path(args.out_dir)
    if args.pair:
        runs = train_pair(make, data, cfg, same_init=args.pair == "same-init", seeds=tuple(seeds))
        names = ["model_a.pt", "model_b.pt"]
    else:
        runs, names = [train(make, data, cfg)], ["model.pt"]
    paths = [
        str(save_checkpoint(r, out / n, dataset=data, extra={"pair": args.pair}))
        for r, n in zip(runs, names, strict=True)
    ]
    result = {"checkpoints": paths, "runs": [r.summary() for r in runs]}
    doc = record(
        "train",
        {
            "model": runs[0].model.config(),
            "train": cfg.to_dict(),
            "pair": args.pair,
            "seeds": seeds,
            "data": data.describe(),
        },
        result,
        seed=seeds,
    )
    lines = [
        f"{p}: {r.steps} steps, final loss {r.summary()['final_loss']}, "
        f"{'DIVERGED at step ' + str(r.diverged_at) if r.diverged else 'ok'}"
        for p, r in zip(paths, runs, strict=True)
    ]
    return doc, "\n".join(lines)


def cmd_barrier(args):
    from ..lmc import apply_permutation, certified_barrier_bound, default_grid, evaluate_path, match
    from ..nn import load_checkpoint

    with validating():
        model_a, side_a = load_checkpoint(args.ckpt_a)
        model_b, side_b = load_checkpoint(args.ckpt_b)
        data = _load_data(args) if args.data is not None else _recorded_data(args, side_a, side_b)
        if data.n_features != _input_size(model_a):
            raise ValueError(
                f"--data {data.name} has {data.n_features} input features but the checkpoints expect "
                f"{_input_size(model_a)}"
            )
    dtype = next(model_a.parameters()).dtype
    if args.align != "none":
        model_b = apply_permutation(
            model_b, match(model_a, model_b, method=args.align, inputs=data.x_train.to(dtype))
        )
    ts = default_grid(args.points)
    result = {"align": args.align, "splits": {}}
    lines = [f"path {args.ckpt_a} -> {args.ckpt_b} (aligned: {args.align}), {args.points} points"]
    for split in ("train", "test"):
        x, y = data.split(split)
        path = evaluate_path(model_a, model_b, (x.to(dtype), y), ts=ts, split=split)
        cert = certified_barrier_bound(model_a, model_b, (x, y), ts=ts)
        result["splits"][split] = {"path": path.to_dict(), "certified_bound": cert.to_dict()}
        b = path.to_dict()["barriers"]
        lines += [
            "",
            f"[{split}] t: " + " ".join(f"{t:.2f}" for t in ts),
            f"[{split}] loss: " + " ".join(f"{v:.3f}" for v in path.values["loss"]),
            f"[{split}] error: " + " ".join(f"{v:.3f}" for v in path.values["error"]),
            f"[{split}] loss barriers: "
            + ", ".join(f"{k} {v:.4g}" for k, v in b["loss"].items() if v is not None),
            f"[{split}] error barriers: "
            + ", ".join(f"{k} {v:.4g}" for k, v in b["error"].items() if v is not None)
            + f", normalized {b['normalized']:.4g}",
            f"[{split}] certified bound on the loss barrier above chord (baseline, at the {args.points} points): "
            f"{cert.upper:.4g}",
        ]
        if args.over_segment:
            result["splits"][split]["over_segment"], more = _over_segment(model_a, model_b, (x, y), split)
            lines += more
    doc = record(
        "barrier",
        {
            "ckpt_a": args.ckpt_a,
            "ckpt_b": args.ckpt_b,
            "align": args.align,
            "points": args.points,
            "data": data.describe(),
            "model_a": side_a,
            "model_b": side_b,
        },
        result,
    )
    return doc, "\n".join(lines)
