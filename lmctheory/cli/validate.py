"""The ``validate`` subcommand: predictions next to measurements, as a table, JSON and Markdown."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .common import add_output_options


def register(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="run the validation experiments and print predicted vs measured with verdicts",
        description="Each prediction is a row (experiment, prediction, predicted, measured mean +- std, "
        "verdict with its rule), written to OUT/validation.json and OUT/validation.md. Finished "
        "configurations are cached under OUT and skipped on re-runs.",
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--quick", dest="preset", action="store_const", const="quick", help="quick presets (default)")
    group.add_argument("--full", dest="preset", action="store_const", const="full", help="paper-scale presets")
    group.add_argument("--smoke", dest="preset", action="store_const", const="smoke", help="seconds-long presets")
    p.set_defaults(preset="quick")
    p.add_argument("--only", help="comma-separated experiment names")
    p.add_argument("--out-dir", default="results", help="directory for the report and cached configs")
    p.add_argument("--data", action="append", metavar="SPEC",
                   help="dataset for the data-driven experiments (fig2: replaces its datasets; disentangle: joins "
                   "the dataset ladder): digits, mnist1d, idx:DIR (MNIST IDX files), npz:FILE, or "
                   "NAME:key=value,...; repeat for several")
    p.add_argument("--baseline", help="earlier validation.json: exit 1 on regressions")
    p.add_argument("--n-jobs", type=int, default=1)
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    p.add_argument("--dask-local", type=int, help="start a local Dask cluster with N workers")
    add_output_options(p)
    p.set_defaults(func=cmd_validate)


def cmd_validate(args):
    try:
        from lmctheory_validation import EXPERIMENTS
        from lmctheory_validation.report import compare_to_baseline, write_report
    except ImportError as exc:  # pragma: no cover - broken install
        raise ImportError("the validation experiments are not installed; reinstall with pip install -e .") from exc
    names = list(EXPERIMENTS) if not args.only else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown or not names:
        raise ValueError(f"unknown experiment(s) {unknown or args.only!r}; choose from {', '.join(EXPERIMENTS)}")
    options = {"n_jobs": args.n_jobs, "scheduler": args.scheduler, "dask_local": args.dask_local,
               "progress": not args.quiet and sys.stderr.isatty()}
    data_aware = [n for n in names if getattr(EXPERIMENTS[n], "DATA_AWARE", False)]
    if args.data:
        if not data_aware:
            raise ValueError(f"--data is used by {', '.join(n for n in EXPERIMENTS if getattr(EXPERIMENTS[n], 'DATA_AWARE', False))}"
                             f"; none of them is selected ({', '.join(names)})")
        from lmctheory.nn.data import load_dataset_spec

        for spec in args.data:  # fail fast, before any experiment runs
            load_dataset_spec(spec)
    rows = []
    for name in names:
        extra = {"data": args.data} if args.data and name in data_aware else {}
        rows += EXPERIMENTS[name].run(args.preset, args.out_dir, **extra, **options)
    config = {"preset": args.preset, "experiments": names, "out_dir": args.out_dir, "data": args.data}
    doc = write_report(rows, Path(args.out_dir), config=config)
    lines = [f"{r.experiment:8s} {r.verdict:12s} {r.prediction}: predicted "
             f"{'-' if r.predicted is None else f'{r.predicted:.4g}'}, measured {r.measured:.4g} ± {r.measured_std:.2g}"
             for r in rows]
    counts = {v: sum(r.verdict == v for r in rows) for v in ("holds", "fails", "inconclusive")}
    lines.append(f"\n{len(rows)} predictions: {counts}; report: {Path(args.out_dir) / 'validation.md'}")
    if args.baseline:
        baseline = json.loads(Path(args.baseline).read_text())["rows"]
        problems = compare_to_baseline(doc["rows"], baseline)
        doc["regressions"] = problems
        if problems:
            doc["exit_code"] = 1
            print("\n".join(f"regression: {p}" for p in problems), file=sys.stderr)
    return doc, "\n".join(lines)
