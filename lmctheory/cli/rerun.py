"""The ``rerun`` subcommand: recompute one result from its JSON file and compare.

Sweep records go through :func:`lmctheory.runs.rerun` (registered experiments only). CLI documents
are re-run here, from their ``argv``: parsed by lmctheory's own parser (which accepts no
abbreviated options), only for the subcommands that read their inputs, and with every option that
writes a file removed.
"""

from __future__ import annotations

import functools

from .common import UsageError, add_output_options, validating

#: subcommands whose documents can be recomputed (they only read their inputs)
RERUNNABLE_COMMANDS = ("bounds", "barrier", "dimension", "rate-bound", "rates", "wasserstein")
_WRITING_OPTIONS = ("--out", "--plot")


def register(sub, build_parser) -> None:
    """Add ``rerun``; ``build_parser`` makes the full parser that re-parses a document's ``argv``."""
    p = sub.add_parser(
        "rerun",
        help="re-run one result from its JSON file alone (a sweep record or a --json/--out document) and compare",
        description="Recomputes the result recorded in FILE (sweep records of lmctheory's experiments name their "
        "function and config; CLI documents of "
        + ", ".join(RERUNNABLE_COMMANDS)
        + " their command line) and "
        "lists every difference; exit 1 when they differ. Only --out writes a file (this comparison).",
    )
    p.add_argument("file", help="a result JSON file")
    p.add_argument(
        "--rtol", type=float, default=0.0, help="relative tolerance for numbers (default 0: identical)"
    )
    p.add_argument(
        "--across-machines",
        action="store_true",
        help="compare as a rerun on another machine can: computed results within rtol 1e-9, atol 1e-12; trained "
        "results by structure only (keys, lengths, finiteness; their values reproduce in distribution), "
        "instead of bit for bit",
    )
    add_output_options(p)
    p.set_defaults(func=functools.partial(cmd_rerun, build_parser=build_parser))


def _without_outputs(argv: list[str]) -> list[str]:
    """``argv`` without the options that write files (``--out FILE``, ``--plot FILE``), matched exactly."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _WRITING_OPTIONS:
            skip = True
        elif not arg.startswith(tuple(f"{o}=" for o in _WRITING_OPTIONS)):
            out.append(arg)
    return out


def rerun_document(doc: dict, path, build_parser) -> object:
    """The result recomputed from a CLI document's ``argv`` (parsed by ``build_parser()``); ValueError when
    it cannot be re-run."""

    with validating():
        args = _parsed(doc, path, build_parser)
    new_doc, _ = args.func(args)
    return new_doc["result"]


def _parsed(doc: dict, path, build_parser):
    """The recorded command line, checked and parsed by lmctheory's own parser (options that write removed)."""
    argv = doc["argv"]
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise ValueError(f"{path}: 'argv' must be a non-empty list of strings, got {argv!r}")
    if argv[0] not in RERUNNABLE_COMMANDS:
        raise ValueError(
            f"{path}: `lmctheory {argv[0]}` cannot be re-run from a document; re-runnable: "
            f"{', '.join(RERUNNABLE_COMMANDS)} (validate and figures: re-run their sweep records)"
        )
    if any(a in ("-h", "--help", "--version") for a in argv):
        raise ValueError(f"{path}: 'argv' asks for help or the version: nothing to recompute")
    import contextlib
    import io

    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):  # the parser's own message goes into ours: one line
            args = build_parser().parse_args(_without_outputs(argv))
    except SystemExit:
        reason = captured.getvalue().strip().split(": error: ")[-1].split(" (see ")[0]
        raise ValueError(
            f"{path}: 'argv' is not a valid lmctheory command line ({reason}): {argv!r}"
        ) from None
    return args


def _check_experiment(recorded: dict, path) -> None:
    """A sweep record is re-run only when it names an installed experiment (never a name read from a file)."""
    from ..runs import experiments

    spec = recorded.get("function")
    if not isinstance(spec, str):
        raise UsageError(
            f"{path} names no function (no 'function' and no 'argv'): not a sweep record or a CLI document"
        )
    if spec not in experiments():
        raise UsageError(
            f"{path} names the function {spec!r}, which is not a registered experiment; lmctheory rerun calls only "
            "the installed experiments (entry points 'lmctheory.experiments'; from Python, register_experiment(fn))"
        )


def cmd_rerun(args, *, build_parser):
    from ..runs import (
        code_changed,
        compare,
        load_document,
        reproduction_tolerance,
        rerun,
        structure_differences,
    )

    with validating():
        if not args.rtol >= 0:
            raise UsageError(f"--rtol must be >= 0, got {args.rtol}")
        recorded = load_document(args.file)
        if "argv" not in recorded:
            _check_experiment(recorded, args.file)
    if "argv" in recorded:
        recomputed = rerun_document(recorded, args.file, build_parser)
    else:
        recorded, recomputed = rerun(args.file)
    tolerance = reproduction_tolerance(recorded) if args.across_machines else (args.rtol, 0.0)
    in_distribution = tolerance is None  # a trained result on another machine: only its structure must agree
    rtol, atol = (0.0, 0.0) if in_distribution else (max(tolerance[0], args.rtol), tolerance[1])
    values = compare(recorded["result"], recomputed, rtol=rtol, atol=atol)
    diffs = structure_differences(recorded["result"], recomputed) if in_distribution else values
    changed = code_changed(recorded)
    doc = {
        "command": "rerun",
        "config": {"file": args.file, "rtol": rtol, "atol": atol, "across_machines": args.across_machines},
        "result": {
            "identical": not diffs,
            "compared": "structure only (a trained result on another machine)"
            if in_distribution
            else "values",
            "values_differing": len(values),
            "differences": diffs[:50],
            "n_differences": len(diffs),
            "recomputed": recomputed,
            "recorded_versions": recorded.get("versions"),
            "code_changed_since_recorded": changed,
        },
    }
    note = " (the code has changed since the record was written)" if changed else ""
    if diffs:
        doc["exit_code"] = 1
        text = f"{args.file}: {len(diffs)} difference(s){note}:\n" + "\n".join(diffs[:20])
    elif in_distribution:
        text = (
            f"{args.file}: recomputed result identical in structure to the recorded one; {len(values)} value(s) "
            "differ, as trained results do on another machine (training follows another trajectory: they "
            f"reproduce in distribution, bit for bit only where they were written){note}"
        )
    else:
        text = (
            f"{args.file}: recomputed result identical to the recorded one"
            + (f" (rtol {rtol:g}, atol {atol:g})" if rtol or atol else "")
            + note
        )
    return doc, text
