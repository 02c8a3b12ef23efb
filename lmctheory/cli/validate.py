"""The ``validate`` subcommand: predictions next to measurements, as a table, JSON and Markdown."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .common import add_output_options, add_parallel_options, add_preset_options, sweep_options


def register(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="run the validation experiments and print predicted vs measured with verdicts",
        description="Each prediction is a row (experiment, prediction, predicted, measured mean +- std, "
        "verdict with its rule), written to OUT/validation.json and OUT/validation.md. Finished "
        "configurations are cached under OUT and skipped on re-runs.",
    )
    add_preset_options(p)
    p.add_argument("--only", help="comma-separated experiment names")
    p.add_argument("--out", "--out-dir", dest="out_dir", metavar="DIR", default="results",
                   help="directory for validation.json, validation.md and the cached configs (default ./results)")
    p.add_argument("--data", action="append", metavar="SPEC",
                   help="dataset for the data-driven experiments (fig2: replaces its datasets; disentangle: joins "
                   "the dataset ladder): digits, mnist1d, idx:DIR (MNIST IDX files), npz:FILE, or "
                   "NAME:key=value,...; repeat for several")
    p.add_argument("--baseline", help="earlier validation.json: exit 1 on regressions")
    add_parallel_options(p)
    add_output_options(p, out_file=False)
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
    options = sweep_options(args)
    takes_data = [n for n in EXPERIMENTS if getattr(EXPERIMENTS[n], "DATA_AWARE", False)]
    data_aware = [n for n in names if n in takes_data]
    if args.data:
        if not data_aware:
            raise ValueError(f"--data is used by {', '.join(takes_data)}; none of them is selected ({', '.join(names)})")
        from lmctheory.nn.data import parse_dataset_spec

        for spec in args.data:  # fail fast, before any experiment runs (checked, not loaded)
            parse_dataset_spec(spec)
    rows = []
    for i, name in enumerate(names, start=1):
        extra = {"data": args.data} if args.data and name in data_aware else {}
        if not args.quiet:
            print(f"[{i}/{len(names)}] {name} ({args.preset} preset)", file=sys.stderr, flush=True)
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
