"""Run one figure module as a script: ``python -m lmctheory_figures.figN_name [--smoke|--quick|--full]``."""

from __future__ import annotations

import argparse
import sys


def script_main(draw, argv=None) -> None:
    from . import CACHE

    p = argparse.ArgumentParser(description=(sys.modules[draw.__module__].__doc__ or "").split("\n")[0])
    group = p.add_mutually_exclusive_group()
    for preset in ("smoke", "quick", "full"):
        group.add_argument(f"--{preset}", dest="preset", action="store_const", const=preset)
    p.set_defaults(preset="quick")
    p.add_argument("--results", default=str(CACHE), help="results directory of the sweeps (default: the committed cache)")
    p.add_argument("--out", default="paper_figures/out", help="output directory (PNG + PDF)")
    p.add_argument("--n-jobs", type=int, default=1)
    args = p.parse_args(argv)
    for path in draw(args.preset, args.results, args.out, n_jobs=args.n_jobs):
        print(path)
