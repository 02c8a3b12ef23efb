"""The ``figures`` subcommand: draw the paper figures and REPORT.md from (cached) sweep results."""

from __future__ import annotations

import sys

from .common import (
    add_output_options,
    add_parallel_options,
    add_preset_options,
    parse_int_list,
    sweep_options,
)


def register(sub) -> None:
    p = sub.add_parser(
        "figures",
        help="draw every paper figure (PNG + PDF) and REPORT.md with the prediction table",
        description="Figures read the validation sweeps' records under --results and run only what is missing. "
        "The default --results is the committed cache of quick-preset records, so the figures redraw in seconds "
        "without training; point it at `lmctheory validate --out DIR` to draw a fresh run.",
    )
    add_preset_options(p)
    p.add_argument("--only", help="comma-separated figure numbers (1-7)")
    p.add_argument("--results", help="results directory of the sweeps (default: the committed cache)")
    p.add_argument("--out", "--out-dir", dest="out_dir", metavar="DIR", default="paper_figures/out",
                   help="output directory for the PNG/PDF files and REPORT.md (default paper_figures/out)")
    add_parallel_options(p)
    add_output_options(p, out_file=False)
    p.set_defaults(func=cmd_figures)


def cmd_figures(args):
    try:
        import lmctheory_figures as figures
        from lmctheory_figures._common import RUNS
    except ImportError as exc:  # pragma: no cover - broken install
        raise ImportError("the paper figures are not installed; reinstall with pip install -e .") from exc
    only = parse_int_list(args.only, "--only", 1) if args.only else None
    figures.figure_numbers(only)  # checked before any output: a bad request is one line
    results = args.results or str(figures.CACHE)
    RUNS.clear()
    options = sweep_options(args)
    if not args.quiet:
        print(f"drawing figures from {results} ({args.preset} preset); missing configurations are computed",
              file=sys.stderr, flush=True)
    out = figures.draw_all(args.preset, results, args.out_dir, only=only, **options)
    doc = {"command": "figures", "config": {"preset": args.preset, "results": results, "out": args.out_dir,
                                            "only": only},
           "result": {**out, "sweeps": [{"sweep": s, "ran": r, "cached": c} for s, r, c in RUNS]}}
    lines = [f"figure {n}: {paths[0]}" for n, paths in out["figures"].items()]
    ran = sum(r for _, r, _ in RUNS)
    lines.append(f"report: {out['report']} ({ran} configurations computed, "
                 f"{sum(c for _, _, c in RUNS)} read from {results})")
    return doc, "\n".join(lines)
