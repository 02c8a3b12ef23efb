"""Provenance records and atomic JSON output.

Every result lmctheory writes is one JSON document holding the command, the
full configuration, the seed, the definitions (conventions) the numbers depend
on, the package and library versions, and timings, so that a reader can tell
exactly what was computed and re-run it.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

__all__ = ["record", "write_json", "to_jsonable", "library_versions"]

_LIBRARIES = ("numpy", "scipy", "pot", "scikit-learn", "torch", "sympy")


def library_versions() -> dict:
    out = {}
    for name in ("lmctheory", *_LIBRARIES):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def to_jsonable(obj):
    """Convert NumPy scalars/arrays and dataclass-like objects to plain JSON data.

    Non-finite floats become ``None`` (JSON has no NaN/inf; strict parsers reject them).
    """
    if hasattr(obj, "to_dict"):
        return to_jsonable(obj.to_dict())
    if hasattr(obj, "describe") and hasattr(obj, "solve_width"):  # a WidthBound
        return to_jsonable(obj.describe())
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def record(command: str, config: dict, result, *, seed=None, definitions: dict | None = None,
           seconds: float | None = None) -> dict:
    """A self-describing result document."""
    return to_jsonable({
        "command": command,
        "config": config,
        "seed": seed,
        "definitions": definitions or {},
        "result": result,
        "seconds": seconds,
        "versions": library_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    })


def dumps(doc) -> str:
    return json.dumps(to_jsonable(doc), indent=2, allow_nan=False)


def write_json(path, doc) -> Path:
    """Write ``doc`` as JSON atomically: temp file in the same directory, fsync, rename.

    A reader never sees a half-written file; on failure the temp file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dumps(doc)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
