"""Helpers shared by the subcommands: argument parsing, tables, point files, output options."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

EXIT_USAGE = 2  # invalid options or input files
EXIT_FAILURE = 1  # a runtime failure
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
MAX_SIZES = 10_000  # sizes one --ns may list
MAX_SIZE = 10**9  # points per cloud (far beyond what any exact solver here reaches)


class UsageError(ValueError):
    """An invalid command line (an option value, a combination of options, an input file): exit 2. Raised
    only while a command validates its arguments (:func:`validating`); errors of the computation that
    follows are runtime failures (exit 1)."""


@contextlib.contextmanager
def validating():
    """The arguments' validation: a ValueError, TypeError or KeyError raised inside (by the command's own
    checks or by the library's argument checks it calls) is a usage error, exit 2."""
    try:
        yield
    except UsageError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        raise UsageError(str(message)) from exc


DEFINITIONS_W = {
    "W_p": "(min over couplings of sum gamma_ij |x_i - y_j|_2^p)^(1/p): a distance, not its p-th power",
    "T_p": "W_p^p, the optimal transport cost",
}


def parse_sizes(text: str) -> list[int]:
    """Parse a list of sample sizes.

    ``"64,128,256"`` lists them; ``"64,128,...,4096"`` continues the progression
    fixed by the first two terms up to the last: geometric when the last term
    lies on the geometric progression, otherwise arithmetic.
    """
    parts = [s.strip() for s in text.split(",") if s.strip()]
    if not parts:
        raise ValueError("--ns is empty; give sizes such as 64,128,...,4096")
    if "..." in parts:
        if len(parts) != 4 or parts[2] != "...":
            raise ValueError(f"--ns with '...' must look like a,b,...,c (e.g. 64,128,...,4096), got {text!r}")
        a, b, c = (_parse_int(parts[i]) for i in (0, 1, 3))
        if not a < b <= c:
            raise ValueError(f"--ns a,b,...,c needs a < b <= c, got {a},{b},...,{c}")
        _check_size(c)
        sizes = _geometric(a, b, c)
        if sizes is None:
            if (c - a) % (b - a):
                raise ValueError(
                    f"--ns: {c} lies on neither the geometric nor the arithmetic progression from {a},{b}"
                )
            if (c - a) // (b - a) + 1 > MAX_SIZES:
                raise ValueError(
                    f"--ns {a},{b},...,{c} lists {(c - a) // (b - a) + 1} sizes; at most {MAX_SIZES}"
                )
            sizes = list(range(a, c + 1, b - a))
    else:
        if len(parts) > MAX_SIZES:
            raise ValueError(f"--ns lists {len(parts)} sizes; at most {MAX_SIZES}")
        sizes = [_parse_int(s) for s in parts]
        for n in sizes:
            _check_size(n)
    if any(n < 1 for n in sizes):
        raise ValueError(f"--ns sizes must be >= 1, got {sizes}")
    if len(set(sizes)) != len(sizes):
        raise ValueError(f"--ns has repeated sizes: {sizes}")
    return sizes


def parse_int_list(text: str, option: str, minimum: int = 0) -> list[int]:
    """Comma-separated integers >= ``minimum`` (repeats allowed), e.g. seeds ``0,1`` or widths ``64,512,512,10``."""
    values = [_parse_int(s.strip()) for s in text.split(",") if s.strip()]
    if not values or any(v < minimum for v in values):
        raise ValueError(f"{option} must be integers >= {minimum} separated by commas; got {text!r}")
    return values


def _parse_int(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"not a size: {text!r}") from None
    if not value.is_integer():
        raise ValueError(f"sizes must be integers, got {text!r}")
    return int(value)


def _check_size(n: int) -> None:
    if n > MAX_SIZE:
        raise ValueError(f"--ns: {n:.3g} points per cloud is too large (at most {MAX_SIZE:.0e})")


def _geometric(a: int, b: int, c: int):
    if a <= 0 or b % a:
        return None
    ratio, out = b // a, [a]
    while out[-1] < c:
        out.append(out[-1] * ratio)
    return out if out[-1] == c else None


def check_seed(seed, option: str = "--seed") -> int:
    """A non-negative integer seed, or ValueError naming the option."""
    if seed is None or isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"{option} must be a non-negative integer, got {seed!r}")
    return seed


def add_preset_options(parser: argparse.ArgumentParser) -> None:
    """--smoke | --quick (default) | --full, stored as ``preset``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--quick", dest="preset", action="store_const", const="quick", help="quick presets (default)"
    )
    group.add_argument(
        "--full", dest="preset", action="store_const", const="full", help="paper-scale presets"
    )
    group.add_argument(
        "--smoke", dest="preset", action="store_const", const="smoke", help="seconds-long presets"
    )
    parser.set_defaults(preset="quick")


def add_parallel_options(parser: argparse.ArgumentParser) -> None:
    """--n-jobs (local processes), --scheduler (a Dask cluster), --dask-local N (start one), --threads."""
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=-1,
        help="local worker processes (joblib; default -1: one per available core; 1 runs in this process)",
    )
    parser.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    parser.add_argument("--dask-local", type=int, help="start a local Dask cluster with N workers")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="intra-op threads per configuration (default 1: small networks run single-threaded, "
        "parallelism goes across configurations; results do not depend on the number of workers)",
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        help="first delete the records in the results directories of configurations this run no longer has "
        "(e.g. dropped from a preset); the records of its own configurations stay",
    )


def sweep_options(args) -> dict:
    """The sweep keywords of :func:`lmctheory.runs.run_sweep` from the parallel and output options
    (checked here, before any work)."""

    if args.n_jobs == 0:
        raise ValueError("--n-jobs must be a number of worker processes >= 1 (or -1 for all cores), got 0")
    if args.dask_local is not None and args.dask_local < 1:
        raise ValueError(f"--dask-local must be a number of workers >= 1, got {args.dask_local}")
    if args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    if args.scheduler is not None and args.dask_local is not None:
        raise ValueError(
            "give either --scheduler (an existing Dask cluster) or --dask-local N (start one), not both"
        )
    return {
        "n_jobs": args.n_jobs,
        "scheduler": args.scheduler,
        "dask_local": args.dask_local,
        "progress": not args.quiet,
        "cached_only": getattr(args, "cached_only", False),
        "threads": getattr(args, "threads", 1),
        "prune": getattr(args, "prune", False),
    }


def add_output_options(parser: argparse.ArgumentParser, *, out_file: bool = True) -> None:
    """--json, --quiet and (unless the command writes its own files) --out FILE."""
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    if out_file:
        parser.add_argument("--out", metavar="FILE", help="also write the JSON document to FILE (atomically)")
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress (otherwise a bar with ETA on a terminal, a line every 30 s in a log)",
    )


def table(headers: list[str], rows: list[list]) -> str:
    def fmt(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    cells = [[fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def load_points(path: str):
    """Read a point cloud, one point per row: .npy, .npz (array 'x' or the only array), .csv or
    whitespace text (a file of one line is one point; a file of one column is points on the line)."""
    import warnings

    import numpy as np

    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    suffix = file.suffix.lower()
    try:
        if suffix == ".npy":
            return np.load(file, allow_pickle=False)
        if suffix == ".npz":
            with np.load(file, allow_pickle=False) as data:
                if "x" in data.files:
                    return data["x"]
                if len(data.files) == 1:
                    return data[data.files[0]]
                raise ValueError(f"{path}: .npz holds {data.files}; name the points array 'x'")
    except Exception as exc:  # noqa: BLE001 - numpy raises many types for corrupt files
        if isinstance(exc, ValueError) and str(path) in str(exc):
            raise
        raise ValueError(f"{path}: not a readable {suffix} file ({type(exc).__name__}: {exc})") from None
    delimiter = "," if suffix == ".csv" else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy warns on empty input; the error below says it
            points = np.loadtxt(file, delimiter=delimiter, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{path}: not a numeric table ({exc})") from None
    if points.size == 0:
        raise ValueError(f"{path} is empty: no points")
    return points
