"""Optional dependencies: imported when a feature needs them, with the extra that installs them named."""

from __future__ import annotations

import importlib

#: top-level package -> the lmctheory extra that installs it
EXTRAS = {"matplotlib": "figures", "mnist1d": "data", "lapjv": "fast", "dask": "cluster", "rebasin": "bench"}


def require(module: str, purpose: str):
    """Import ``module`` or raise ImportError saying what needs it and which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".", 1)[0]
        extra = EXTRAS.get(package)
        hint = f"pip install 'lmctheory[{extra}]'" if extra else f"pip install {package}"
        raise ImportError(f"{purpose} needs the optional package {package!r}: {hint}") from exc
