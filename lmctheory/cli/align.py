"""The ``align`` subcommand: align two checkpoints of any PyTorch model and write the permuted B and the path."""

from __future__ import annotations

from pathlib import Path

from .common import UsageError, add_output_options, validating
from .networks import _data_args, _load_data, record

METHODS = ("naive", "full", "weighted", "activation")


def register(sub) -> None:
    """Add the ``align`` subcommand to the ``sub`` parsers."""
    p = sub.add_parser(
        "align",
        help="align checkpoint B to A (any nn.Module: spec by tracing), write the permuted B and the path table",
        description="Load two state_dicts (torch.load with weights_only=True) into the model a factory builds, "
        "derive the permutation spec (the model's permutation_spec() or torch.fx tracing), match B to A, write "
        "the permuted B's state_dict and print the loss and error along the path before and after alignment "
        "(optionally with batch-norm statistics reset or REPAIR at every t).",
    )
    p.add_argument("ckpt_a", help="state_dict of model A (.pt)")
    p.add_argument("ckpt_b", help="state_dict of model B (.pt)")
    p.add_argument(
        "--model",
        help="MODULE:FACTORY building the architecture, e.g. lmctheory.nn:ResNet20 or mypkg.nets:make_net "
        "(default: checkpoints written by `lmctheory train`, rebuilt from their sidecars)",
    )
    p.add_argument(
        "--model-args", default="{}", help="JSON keyword arguments of the factory, e.g. '{\"width\": 4}'"
    )
    _data_args(
        p, default=None, help_default="the dataset recorded with the checkpoints; required with --model"
    )
    p.add_argument(
        "--method", choices=METHODS, default="full", help="matcher (default: full weight matching)"
    )
    p.add_argument("--points", type=int, default=25, help="points on the path (default 25)")
    p.add_argument(
        "--renormalize",
        choices=["none", "reset_bn", "repair"],
        default="none",
        help="at every t: nothing, batch-norm statistics recomputed on the training inputs, or REPAIR",
    )
    p.add_argument(
        "--stats-examples", type=int, default=2048, help="training inputs for statistics (default 2048)"
    )
    p.add_argument("--out-model", help="where to write the permuted B (default: B's name with .aligned.pt)")
    add_output_options(p)
    p.set_defaults(func=cmd_align)


def load_factory(spec: str, kwargs_json: str):
    """The callable named by ``MODULE:FACTORY`` and its JSON keyword arguments (errors name the option)."""
    import importlib
    import json

    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"--model must be MODULE:FACTORY, e.g. lmctheory.nn:ResNet20, got {spec!r}")
    try:
        kwargs = json.loads(kwargs_json)
    except json.JSONDecodeError as err:
        raise ValueError(f"--model-args is not JSON: {err}") from err
    if not isinstance(kwargs, dict):
        raise ValueError(f"--model-args must be a JSON object of keyword arguments, got {kwargs_json!r}")
    try:
        factory = importlib.import_module(module_name)
        for part in attr.split("."):
            factory = getattr(factory, part)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"--model {spec!r}: {err}") from err
    if not callable(factory):
        raise ValueError(f"--model {spec!r} is not callable")
    return factory, kwargs


def load_state(path, model):
    """``model`` with the state_dict of ``path`` loaded (weights_only; a {"state_dict": ...} wrapper accepted)."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises pickle, runtime and OS errors alike
        raise ValueError(f"{path}: not a weights-only state_dict ({err})") from err
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path}: expected a state_dict (names to tensors)")
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise ValueError(f"{path} does not fit the model: {str(err).splitlines()[0]}") from err
    if not all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point()):
        raise ValueError(f"{path}: non-finite weights")
    return model.eval()


def _models(args):
    """(model_a, model_b, dataset) from the options."""
    from ..nn import load_checkpoint
    from .networks import _recorded_data

    if args.model is None:
        (model_a, side_a), (model_b, side_b) = load_checkpoint(args.ckpt_a), load_checkpoint(args.ckpt_b)
        data = _load_data(args) if args.data is not None else _recorded_data(args, side_a, side_b)
        return model_a, model_b, data
    factory, kwargs = load_factory(args.model, args.model_args)
    if args.data is None:
        raise ValueError("--model needs --data (the inputs the model takes, for tracing and the path)")
    return (
        load_state(args.ckpt_a, factory(**kwargs)),
        load_state(args.ckpt_b, factory(**kwargs)),
        _load_data(args),
    )


def cmd_align(args):
    import torch

    from ..lmc import align_and_evaluate, default_grid

    with validating():
        if args.stats_examples < 1:
            raise UsageError(f"--stats-examples must be >= 1, got {args.stats_examples}")
        model_a, model_b, data = _models(args)
        dtype = next(model_a.parameters()).dtype

        def inputs(split):
            x, y = data.split(split)
            return x.reshape(x.shape[0], *data.input_shape).to(dtype), y

        x_train, _ = inputs("train")
        ts = default_grid(args.points)
    report = align_and_evaluate(
        model_a,
        model_b,
        inputs("test"),
        inputs=x_train,
        method=args.method,
        ts=ts,
        renormalize=args.renormalize,
        stats_examples=args.stats_examples,
    )
    out_model = Path(args.out_model) if args.out_model else Path(args.ckpt_b).with_suffix(".aligned.pt")
    torch.save(report.aligned.state_dict(), out_model)
    spec = report.spec
    sizes = getattr(spec, "sizes", None) or {k: len(v) for k, v in report.permutation.perms.items()}
    lines = [
        f"spec ({report.spec_source}): {len(spec)} permutations, {sum(sizes.values())} units; matcher "
        f"{args.method}; permuted B written to {out_model}",
        "[test] t: " + " ".join(f"{t:.2f}" for t in ts),
    ]
    result = {**report.to_dict(), "aligned_checkpoint": str(out_model)}
    for name, path in report.paths.items():
        lines += [
            f"[test, {name}] {metric}: " + " ".join(f"{v:.3f}" for v in path.values[metric])
            for metric in path.values
        ]
        lines.append(
            f"[test, {name}] loss barrier above chord {path.barrier('above_chord'):.4g} (max over the {args.points} "
            f"points), midpoint barrier {path.barrier('midpoint_barrier'):.4g}"
        )
    doc = record(
        "align",
        {
            "ckpt_a": args.ckpt_a,
            "ckpt_b": args.ckpt_b,
            "model": args.model,
            "model_args": args.model_args,
            "method": args.method,
            "points": args.points,
            "renormalize": args.renormalize,
            "stats_examples": int(min(args.stats_examples, len(x_train))),
            "data": data.describe(),
        },
        result,
    )
    return doc, "\n".join(lines)
