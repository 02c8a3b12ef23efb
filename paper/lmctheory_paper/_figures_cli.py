"""The ``figures`` subcommand: draw the paper figures and REPORT.md from (cached) sweep results."""

from __future__ import annotations

import sys

from lmctheory.cli.common import (
    add_output_options,
    add_parallel_options,
    add_preset_options,
    parse_int_list,
    sweep_options,
    validating,
)

DEFAULT_OUT = "lmctheory-figures"


def register(sub) -> None:
    p = sub.add_parser(
        "figures",
        help="draw every paper figure (PNG + PDF) and REPORT.md with the prediction table",
        description="Figures read the validation sweeps' records under --results and compute only what is "
        "missing or stale. Records shipped with lmctheory (the committed cache) are used when they are "
        "current for this code (same function, config and code hash), so a fresh install redraws in seconds; "
        "everything is written under --out (default ./"
        + DEFAULT_OUT
        + "), never into the installed package.",
    )
    add_preset_options(p)
    p.add_argument("--only", help="comma-separated figure numbers (1-7)")
    p.add_argument(
        "--out",
        "--out-dir",
        dest="out_dir",
        metavar="DIR",
        default=DEFAULT_OUT,
        help=f"output directory for the PNG/PDF files and REPORT.md (default ./{DEFAULT_OUT})",
    )
    p.add_argument(
        "--results",
        metavar="DIR",
        help="results directory of the sweeps (default OUT/results); e.g. the --out of `lmctheory validate`",
    )
    p.add_argument("--no-cache", action="store_true", help="do not use the records shipped with lmctheory")
    p.add_argument(
        "--cached-only",
        action="store_true",
        help="compute nothing: fail (exit 1) listing the configurations without a current record",
    )
    add_parallel_options(p)
    add_output_options(p, out_file=False)
    p.set_defaults(func=cmd_figures)


def cmd_figures(args):
    from pathlib import Path

    try:
        import lmctheory_paper.figures as figures
        from lmctheory_paper.figures._common import RUNS
    except ImportError as exc:  # pragma: no cover - broken install
        raise ImportError("the paper figures are not installed; reinstall with pip install -e .") from exc
    with validating():
        only = parse_int_list(args.only, "--only", 1) if args.only else None
        figures.figure_numbers(only)  # checked before any output: a bad request is one line
        results = args.results or str(Path(args.out_dir) / "results")
        RUNS.clear()
        options = sweep_options(args)
    fallback = [] if args.no_cache else [str(figures.CACHE)]
    if not args.quiet:
        print(
            f"drawing figures into {args.out_dir}/ from {results} ({args.preset} preset"
            + ("; records shipped with lmctheory are reused when current" if fallback else "")
            + ("; computing nothing" if args.cached_only else "; missing configurations are computed")
            + ")",
            file=sys.stderr,
            flush=True,
        )
    out = figures.draw_all(args.preset, results, args.out_dir, only=only, fallback_dirs=fallback, **options)
    doc = {
        "command": "figures",
        "config": {
            "preset": args.preset,
            "results": results,
            "out": args.out_dir,
            "only": only,
            "cache": fallback,
            "cached_only": args.cached_only,
        },
        "result": {**out, "sweeps": [{"sweep": s, "ran": r, "cached": c} for s, r, c in RUNS]},
    }
    lines = [f"figure {n}: {paths[0]}" for n, paths in out["figures"].items()]
    ran = sum(r for _, r, _ in RUNS)
    lines.append(
        f"report: {out['report']} ({ran} configurations computed, "
        f"{sum(c for _, _, c in RUNS)} read from records)"
    )
    lines.append(f"everything written under {args.out_dir}/")
    return doc, "\n".join(lines)
