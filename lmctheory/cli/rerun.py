"""The ``rerun`` subcommand: recompute one result from its JSON file and compare."""

from __future__ import annotations

from .common import add_output_options


def register(sub) -> None:
    p = sub.add_parser(
        "rerun",
        help="re-run one result from its JSON file alone (a sweep record or a --json/--out document) and compare",
        description="Recomputes the result recorded in FILE (sweep records name their function and config; CLI "
        "documents their command line) and lists every difference; exit 1 when they differ.",
    )
    p.add_argument("file", help="a result JSON file")
    p.add_argument("--rtol", type=float, default=0.0, help="relative tolerance for numbers (default 0: identical)")
    add_output_options(p)
    p.set_defaults(func=cmd_rerun)


def cmd_rerun(args):
    from ..rerun import compare, rerun

    if not args.rtol >= 0:
        raise ValueError(f"--rtol must be >= 0, got {args.rtol}")
    recorded, recomputed = rerun(args.file)
    diffs = compare(recorded["result"], recomputed, rtol=args.rtol)
    doc = {"command": "rerun", "config": {"file": args.file, "rtol": args.rtol},
           "result": {"identical": not diffs, "differences": diffs[:50], "n_differences": len(diffs),
                      "recomputed": recomputed, "recorded_versions": recorded.get("versions")}}
    if diffs:
        doc["exit_code"] = 1
        text = f"{args.file}: {len(diffs)} difference(s):\n" + "\n".join(diffs[:20])
    else:
        text = f"{args.file}: recomputed result identical to the recorded one" + (
            f" (rtol {args.rtol:g})" if args.rtol else "")
    return doc, text
