"""Re-run one result from its JSON file alone, and compare with what was recorded.

Two kinds of result files carry everything needed:

* sweep records (:mod:`lmctheory.sweep`): ``function`` (``module:qualname`` of the config
  function; older records are resolved from ``command``, e.g. ``validation.depth``) and ``config``;
* CLI documents (``lmctheory ... --json`` / ``--out``): ``argv``, the command line that made them.

:func:`rerun` recomputes the result and :func:`compare` lists the differences (timings and
paths of generated files aside). With the same seeds on CPU the results are identical.
"""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

__all__ = ["rerun", "compare", "IGNORED_KEYS"]

IGNORED_KEYS = frozenset({"seconds", "seconds_total", "created", "timings", "out", "plot", "paths"})
_NAMED = {"figures.dimension": "lmctheory_figures.fig2_dimension:run_config"}


def _function(doc: dict):
    spec = doc.get("function")
    if spec is None:
        command = doc.get("command", "")
        if command.startswith("validation."):
            spec = f"lmctheory_validation.{command.split('.', 1)[1]}:run_config"
        else:
            spec = _NAMED.get(command)
    if spec is None:
        raise ValueError(f"cannot tell which function produced this record (command {doc.get('command')!r}, "
                         "no 'function' and no 'argv')")
    module, _, name = spec.partition(":")
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def rerun(path) -> tuple[dict, object]:
    """``(recorded document, recomputed result)`` for a sweep record or a CLI JSON document."""
    file = Path(path)
    try:
        doc = json.loads(file.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {path}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not a JSON document ({exc})") from None
    if not isinstance(doc, dict) or "config" not in doc:
        raise ValueError(f"{path} is not an lmctheory result (no 'config')")
    if doc.get("status") == "failed":
        raise ValueError(f"{path} records a failed configuration ({doc['error']['type']}): nothing to compare")
    if "argv" in doc:
        from .cli import build_parser

        argv = _without_outputs(doc["argv"])
        args = build_parser().parse_args(argv)
        if args.command in ("rerun", "validate", "figures", "train"):
            raise ValueError(f"`lmctheory {args.command}` writes files of its own: re-run the per-configuration "
                             "sweep records in its results directory instead" if args.command != "rerun"
                             else "a rerun document cannot be re-run")
        new_doc, _ = args.func(args)
        return doc, new_doc["result"]
    return doc, _function(doc)(doc["config"])


def _without_outputs(argv: list[str]) -> list[str]:
    """``argv`` without the options that write files (``--out FILE``, ``--plot FILE``)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--out", "--plot"):
            skip = True
        elif not arg.startswith(("--out=", "--plot=")):
            out.append(arg)
    return out


def compare(recorded, recomputed, *, rtol: float = 0.0, path: str = "result") -> list[str]:
    """Differences between two JSON-like values (numbers within ``rtol``; ``IGNORED_KEYS`` skipped)."""
    if isinstance(recorded, dict) and isinstance(recomputed, dict):
        out = []
        for key in sorted(set(recorded) | set(recomputed)):
            if key in IGNORED_KEYS:
                continue
            if key not in recorded or key not in recomputed:
                out.append(f"{path}.{key}: present in only one of them")
                continue
            out += compare(recorded[key], recomputed[key], rtol=rtol, path=f"{path}.{key}")
        return out
    if isinstance(recorded, list) and isinstance(recomputed, list):
        if len(recorded) != len(recomputed):
            return [f"{path}: length {len(recorded)} != {len(recomputed)}"]
        out = []
        for i, (a, b) in enumerate(zip(recorded, recomputed, strict=True)):
            out += compare(a, b, rtol=rtol, path=f"{path}[{i}]")
        return out
    numbers = (int, float)
    if isinstance(recorded, numbers) and isinstance(recomputed, numbers) and not isinstance(recorded, bool):
        a, b = float(recorded), float(recomputed)
        same = (a == b) or (math.isnan(a) and math.isnan(b)) or abs(a - b) <= rtol * max(abs(a), abs(b))
        return [] if same else [f"{path}: recorded {a!r}, recomputed {b!r}"]
    return [] if recorded == recomputed else [f"{path}: recorded {recorded!r}, recomputed {recomputed!r}"]
