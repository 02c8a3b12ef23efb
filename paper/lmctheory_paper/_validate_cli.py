"""The ``validate`` subcommand: predictions next to measurements, as a table, JSON and Markdown."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lmctheory.cli.common import (
    add_output_options,
    add_parallel_options,
    add_preset_options,
    sweep_options,
    validating,
)


def register(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="run the validation experiments and print predicted vs measured with verdicts",
        description="Each row (experiment, kind: prediction/check/measurement, claim, predicted, measured mean +- "
        "std, verdict with its rule) is written to OUT/validation.json and OUT/validation.md. Finished "
        "configurations are cached under OUT and skipped on re-runs while the code that made them is "
        "unchanged. With --only, the rows of the other experiments already in OUT/validation.json are kept.",
    )
    add_preset_options(p)
    p.add_argument("--only", help="comma-separated experiment names")
    p.add_argument(
        "--experiment",
        action="append",
        metavar="MODULE",
        help="your own experiment module (importable, e.g. mypkg.mymodule, or a module of the current "
        "directory) defining NAME, PRESETS, run_config and rows_from (see the user guide's 'Your own claims'); "
        "repeat for several; without --only, only these run",
    )
    p.add_argument(
        "--out",
        "--out-dir",
        dest="out_dir",
        metavar="DIR",
        default="results",
        help="directory for validation.json, validation.md and the cached configs (default ./results)",
    )
    p.add_argument(
        "--data",
        action="append",
        metavar="SPEC",
        help="dataset for the data-driven experiments (fig2: replaces its datasets; disentangle: joins "
        "the dataset ladder): digits, mnist1d, idx:DIR (MNIST IDX files), npz:FILE, or "
        "NAME:key=value,...; repeat for several",
    )
    p.add_argument("--baseline", help="earlier validation.json: exit 1 on regressions (read before any work)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run in OUT (resuming is what every run does: finished configurations "
        "are read, not recomputed; this flag checks that OUT holds an earlier run of the preset)",
    )
    p.add_argument(
        "--cached-only",
        action="store_true",
        help="compute nothing: rows from current records only; exit 1 listing what is missing or stale",
    )
    add_parallel_options(p)
    add_output_options(p, out_file=False)
    p.set_defaults(func=cmd_validate)


#: what an experiment module must define (run through the same sweep, cache and report as the built-in ones)
EXPERIMENT_PROTOCOL = ("NAME", "PRESETS", "run_config", "rows_from")


def load_experiment(name: str):
    """Import a user's experiment module by its dotted name (the current directory is searched too) and
    check it defines :data:`EXPERIMENT_PROTOCOL`: ``NAME`` (str), ``PRESETS`` (dict of preset name to a list
    of JSON configurations), ``run_config(config) -> dict`` (module level, so that workers can import it)
    and ``rows_from(records) -> list of lmctheory.claims.Row``.

    The current directory is added to ``sys.path`` for the import; worker processes started later inherit
    it. Workers of joblib's reusable pool already running in this process (an earlier sweep in the same
    Python session, started with the former ``sys.path``) could not import the module: when the directory is
    added, that pool is shut down, and the sweep starts fresh workers. (The ``lmctheory`` command starts a
    fresh process, so this concerns in-process calls such as ``lmctheory.cli.main([...])``.)

    Raises
    ------
    ValueError
        The module cannot be imported or misses part of the protocol (one line naming what).
    """
    import importlib
    import os

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)  # workers started with the former sys.path
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise ValueError(f"--experiment {name}: cannot import it ({exc})") from None
    missing = [attr for attr in EXPERIMENT_PROTOCOL if not hasattr(module, attr)]
    if missing:
        raise ValueError(f"--experiment {name}: the module does not define {', '.join(missing)}")
    if not isinstance(module.NAME, str) or not module.NAME.replace("_", "").replace("-", "").isalnum():
        raise ValueError(
            f"--experiment {name}: NAME must be a word (letters, digits, - and _), got {module.NAME!r}"
        )
    if not isinstance(module.PRESETS, dict) or not all(isinstance(c, list) for c in module.PRESETS.values()):
        raise ValueError(f"--experiment {name}: PRESETS must map preset names to lists of configurations")
    if not callable(module.run_config) or not callable(module.rows_from):
        raise ValueError(f"--experiment {name}: run_config and rows_from must be functions")
    return module


def _experiment_names(only, experiments) -> list[str]:
    if not only:
        return list(experiments)
    names = list(dict.fromkeys(n.strip() for n in only.split(",") if n.strip()))  # repeats run once
    unknown = [n for n in names if n not in experiments]
    if unknown or not names:
        raise ValueError(
            f"unknown experiment(s) {unknown or only!r} in --only; choose from {', '.join(experiments)}"
        )
    return names


def read_baseline(path) -> list[dict]:
    """The rows of an earlier ``validation.json``; ValueError naming the file when it is not one."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"--baseline: no such file: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"--baseline {path} is not a JSON document ({exc})") from None
    rows = doc.get("rows") if isinstance(doc, dict) else None
    needed = ("experiment", "prediction", "verdict", "measured")
    if not isinstance(rows, list) or not all(
        isinstance(r, dict) and all(k in r for k in needed) for r in rows
    ):
        raise ValueError(
            f"--baseline {path} is not a validation.json (a 'rows' list whose rows have {', '.join(needed)})"
        )
    return rows


def _kept_rows(out_dir: Path, preset: str, names: list[str]) -> list[dict]:
    """Rows of the experiments not run now, from an earlier report of the same preset in ``out_dir``."""
    try:
        doc = json.loads((out_dir / "validation.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return []
    if not isinstance(doc, dict) or (doc.get("config") or {}).get("preset") != preset:
        return []
    return [r for r in doc.get("rows") or [] if isinstance(r, dict) and r.get("experiment") not in names]


def _shipped_records() -> list:
    """The records shipped with the paper figures (their seconds estimate each configuration's cost: the
    schedule runs the longest first and the progress line's time left is in seconds)."""
    try:
        from lmctheory_paper.figures import CACHE
    except ImportError:  # pragma: no cover - a partial install
        return []
    return [CACHE]


def cmd_validate(args):
    try:
        from lmctheory_paper.validation import EXPERIMENTS
        from lmctheory_paper.validation.report import (
            Row,
            compare_to_baseline,
            compare_with_committed,
            comparison_lines,
            run_experiments,
            summary_line,
            write_report,
        )
    except ImportError as exc:  # pragma: no cover - broken install
        raise ImportError(
            "the validation experiments are not installed; reinstall with pip install -e ."
        ) from exc
    with validating():  # everything the command line says is checked before any experiment runs
        experiments = dict(EXPERIMENTS)
        own = [load_experiment(name) for name in args.experiment or ()]
        for module in own:
            if module.NAME in EXPERIMENTS:
                raise ValueError(
                    f"--experiment {module.__name__}: NAME {module.NAME!r} is a built-in experiment's"
                )
            if args.preset not in module.PRESETS:
                raise ValueError(
                    f"--experiment {module.__name__}: no {args.preset!r} preset (it has {', '.join(module.PRESETS)})"
                )
            experiments[module.NAME] = module
        names = _experiment_names(args.only, experiments) if args.only or not own else [m.NAME for m in own]
        options = sweep_options(args)
        baseline = read_baseline(args.baseline) if args.baseline else None
        takes_data = [n for n in EXPERIMENTS if getattr(EXPERIMENTS[n], "DATA_AWARE", False)]
        data_aware = [n for n in names if n in takes_data]
        if args.data:
            if not data_aware:
                raise ValueError(
                    f"--data is used by {', '.join(takes_data)}; none of them is selected ({', '.join(names)})"
                )
            from lmctheory.nn import load_dataset_spec

            for spec in args.data:  # fail fast, before any experiment runs: the dataset is built and checked
                if load_dataset_spec(spec).n_classes < 2:
                    raise ValueError(
                        f"--data {spec}: a regression data set; {', '.join(data_aware)} train classifiers"
                    )
        out_dir = Path(args.out_dir)
        if args.resume and not any(out_dir.glob(f"*-{args.preset}/*.json")):
            raise ValueError(
                f"--resume: {out_dir} holds no records of the {args.preset} preset to resume from"
            )
        kept = _kept_rows(out_dir, args.preset, names) if args.only else []
    if not args.quiet:
        print(
            f"validate: {len(names)} experiment(s), {args.preset} preset, into {out_dir}/: {', '.join(names)}",
            file=sys.stderr,
            flush=True,
        )
    records: dict = {}
    by_name = run_experiments(
        [experiments[n] for n in names],
        args.preset,
        args.out_dir,
        data={n: args.data for n in data_aware} if args.data else None,
        timing_dirs=_shipped_records(),
        records=records,
        **options,
    )
    rows = [row for n in names for row in by_name[n]]
    comparisons = {
        n: compare_with_committed(experiments[n], args.preset, records[n], committed)
        for committed in _shipped_records()
        if Path(committed).resolve() != out_dir.resolve()
        for n in names
    }
    all_rows = [Row.from_dict(r) for r in kept] + rows
    config = {
        "preset": args.preset,
        "experiments": names,
        "out_dir": args.out_dir,
        "data": args.data,
        "kept_from_earlier_report": sorted({r["experiment"] for r in kept}),
    }
    doc = write_report(all_rows, out_dir, config=config, comparisons=comparisons)
    lines = [
        f"{r.experiment:11s} {r.kind:11s} {r.verdict:12s} {r.prediction}: predicted "
        f"{'-' if r.predicted is None else f'{r.predicted:.4g}'}, measured {r.measured:.4g} ± {r.measured_std:.2g}"
        for r in rows
    ]
    compared = [line for n, c in comparisons.items() for line in comparison_lines(n, c)]
    if compared:
        lines += [
            "",
            "differences from the committed records (paper/lmctheory_paper/figures/cache):",
            *compared,
        ]
    lines.append(f"\n{summary_line(rows)}; report: {out_dir / 'validation.md'}")
    if kept:
        lines.append(
            f"(the report also keeps the earlier rows of {', '.join(config['kept_from_earlier_report'])})"
        )
    if baseline is not None:
        problems = compare_to_baseline([r.to_dict() for r in rows], baseline)
        doc["regressions"] = problems
        if problems:
            doc["exit_code"] = 1
            print("\n".join(f"regression: {p}" for p in problems), file=sys.stderr)
    return doc, "\n".join(lines)
