"""Run one figure module as a script: ``python -m lmctheory_paper.figures.figN_name [--smoke|--quick|--full]``."""

from __future__ import annotations

import argparse
import sys


def script_main(draw, argv=None) -> None:
    from . import CACHE

    p = argparse.ArgumentParser(
        description=(sys.modules[draw.__module__].__doc__ or "").split("\n")[0], allow_abbrev=False
    )
    group = p.add_mutually_exclusive_group()
    for preset in ("smoke", "quick", "full"):
        group.add_argument(f"--{preset}", dest="preset", action="store_const", const=preset)
    p.set_defaults(preset="quick")
    p.add_argument(
        "--out", default="lmctheory-figures", help="output directory (PNG + PDF; default ./lmctheory-figures)"
    )
    p.add_argument(
        "--results",
        help="results directory of the sweeps (default OUT/results); current records "
        "shipped with lmctheory are reused",
    )
    p.add_argument("--n-jobs", type=int, default=1)
    args = p.parse_args(argv)
    results = args.results or f"{args.out}/results"
    from lmctheory.plotting import style_context

    from ._common import COLORS

    with style_context(COLORS):
        paths = draw(args.preset, results, args.out, n_jobs=args.n_jobs, fallback_dirs=[CACHE])
    for path in paths:
        print(path)
