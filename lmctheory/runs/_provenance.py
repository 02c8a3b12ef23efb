"""Provenance records, code identity and atomic JSON output.

Every result lmctheory writes is one JSON document holding the command, the full configuration,
the seed, the definitions (conventions) the numbers depend on, the code that produced it and the
versions of every library that shapes the numbers, and timings, so that a reader can tell exactly
what was computed and re-run it.

Code identity
-------------
:func:`code_identity` names the code a function runs: the SHA-256 of the source of the function's
module and of every first-party module (``lmctheory``, ``lmctheory_paper.validation``,
``lmctheory_paper.figures``) it imports, transitively (read from the ``import`` statements of each
module, including those inside functions). Each source is hashed as code: its syntax tree printed
back (``ast.unparse``) without docstrings, so comments, docstrings and formatting do not count and
any other edit to that code does; edits elsewhere (the CLI, other experiments) do not. (The
printed form is stable within a Python version; another version may, rarely, print a construct
differently and so see records as stale: they are then recomputed, never misused.) The sweep cache
(:mod:`lmctheory.runs`) reuses a record only when this hash matches. The package version (from
git, via setuptools-scm) and the git commit are recorded next to it for the reader; they are not
part of the cache key, because they change with every commit, the one that stores a cache
included.
"""

from __future__ import annotations

import ast
import datetime as _dt
import functools
import hashlib
import importlib.util
import json
import marshal
import math
import os
import platform
import subprocess
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from ._machine import machine_info

__all__ = [
    "record",
    "write_json",
    "to_jsonable",
    "library_versions",
    "code_identity",
    "function_id",
    "git_revision",
    "tracked_records_dir",
    "checkout_root",
    "FIRST_PARTY",
    "dumps",
]

#: distributions whose versions shape numerical results (recorded in every document)
_LIBRARIES = (
    "numpy",
    "scipy",
    "pot",
    "scikit-learn",
    "torch",
    "sympy",
    "mnist1d",
    "lapjv",
    "joblib",
    "threadpoolctl",
)

#: top-level packages whose source counts as the project's own code; the top-level package of the function
#: being identified counts too (an experiment package such as lmctheory_paper, or a user's own)
FIRST_PARTY = ("lmctheory",)


def library_versions() -> dict:
    """Versions of lmctheory and of every library that shapes results (None where not installed).

    Returns
    -------
    dict of str to str or None
        lmctheory, numpy, scipy, POT, scikit-learn, torch, sympy, mnist1d, lapjv, joblib,
        threadpoolctl.

    Examples
    --------
    >>> from lmctheory.runs import library_versions
    >>> versions = library_versions()
    >>> versions["numpy"] is not None and "pot" in versions
    True
    """
    from .. import __version__

    out = {"lmctheory": __version__}
    for name in _LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def checkout_root() -> Path | None:
    """The root of the git checkout lmctheory runs from, or None (an installed wheel).

    Returns
    -------
    Path or None

    Examples
    --------
    >>> from lmctheory.runs import checkout_root
    >>> root = checkout_root()
    >>> root is None or (root / ".git").exists()
    True
    """
    root = (
        Path(sys.modules["lmctheory"].__file__).resolve().parent.parent
    )  # the directory holding the package
    return root if (root / ".git").exists() else None


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30, check=True
    ).stdout


@functools.lru_cache(maxsize=16)
def git_revision(exclude: tuple[str, ...] = ()) -> dict | None:
    """``{"commit", "dirty"}`` of the git checkout lmctheory runs from, or None outside one.

    ``dirty`` is True when tracked files differ from the commit (untracked files are ignored), not
    counting those under ``exclude``: a sweep that writes its records into a tracked directory
    excludes that directory, whose records change as it runs and are not code.

    Parameters
    ----------
    exclude : tuple of str, default ()
        Directories inside the checkout whose changes do not count (others are ignored).

    Returns
    -------
    dict or None
    """
    root = checkout_root()
    if root is None:
        return None
    specs = [f":(exclude){rel}" for rel in _inside(root, exclude)]
    try:
        commit = _git(root, "rev-parse", "HEAD").strip()
        status = _git(root, "status", "--porcelain", "--untracked-files=no", "--", ".", *specs)
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status.strip())}


def _inside(root: Path, directories) -> list[str]:
    """The directories that lie inside ``root``, relative to it (POSIX form)."""
    out = []
    for directory in directories:
        try:
            rel = Path(directory).resolve().relative_to(root)
        except ValueError:
            continue
        out.append(rel.as_posix() or ".")
    return out


def tracked_records_dir(directory) -> bool:
    """Whether ``directory`` holds files tracked by the checkout lmctheory runs from (committed records).

    Parameters
    ----------
    directory : str or Path
        The directory (need not exist).

    Returns
    -------
    bool
        False outside a checkout, outside its tree, or where git tracks nothing under it.

    Raises
    ------
    TypeError
        ``directory`` is not a path.

    Examples
    --------
    >>> import tempfile
    >>> from lmctheory.runs import tracked_records_dir
    >>> tracked_records_dir(tempfile.mkdtemp())
    False
    """
    root = checkout_root()
    rel = _inside(root, [directory]) if root is not None else []
    if not rel:
        return False
    try:
        return bool(_git(root, "ls-files", "--", rel[0]).strip())
    except (OSError, subprocess.SubprocessError):
        return False


def function_id(fn) -> str:
    """``module:qualname`` of a module-level function.

    Parameters
    ----------
    fn : callable
        A module-level function.

    Returns
    -------
    str
        Its identity, as records store it.

    Raises
    ------
    TypeError
        Lambdas and local functions, whose names do not identify them.

    Examples
    --------
    >>> from lmctheory.runs import function_id
    >>> from lmctheory.rates import fit_rate
    >>> function_id(fit_rate)  # where it is defined (a private module of lmctheory.rates)
    'lmctheory.rates._rates:fit_rate'
    """
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    if not callable(fn) or not module or not qualname or "<" in qualname:
        raise TypeError(
            f"expected a module-level function (its module:qualname identifies it in every record), "
            f"got {fn!r}"
        )
    return f"{module}:{qualname}"


def _is_first_party(name: str, roots) -> bool:
    """A module of the project's own code, under one of the top-level packages ``roots`` (the version file
    written by setuptools-scm at install time holds a version string, not code: it is not part of any code
    identity)."""
    return name.split(".", 1)[0] in roots and not name.endswith("._version")


def _module_file(name: str) -> Path | None:
    module = sys.modules.get(name)
    file = getattr(module, "__file__", None)
    if file is None:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            return None
        file = getattr(spec, "origin", None) if spec is not None else None
    if file is None or not str(file).endswith(".py"):
        return None
    return Path(file)


def _imports(name: str, tree: ast.AST, is_package: bool) -> set[str]:
    """Every module named by the import statements of module ``name`` (anywhere in it), absolute."""
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)  # submodules imported by name
    return {m for m in found if m}


def _code_digest(tree: ast.Module) -> str:
    """SHA-256 of a module's code without its docstrings, comments and formatting: the source printed
    back from its syntax tree (``ast.unparse``) after every docstring is removed."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.unparse(tree).encode()).hexdigest()


def _reads_results_only(tree: ast.Module) -> bool:
    """Whether a module declares ``__shapes_results__ = False`` at top level."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__shapes_results__" for t in node.targets
        ):
            return isinstance(node.value, ast.Constant) and node.value.value is False
    return False


@functools.lru_cache(maxsize=64)
def _closure(name: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """``(((module, sha256 of its source), ...), external packages)`` for ``name`` and its first-party
    imports, transitively, sorted; external packages are the top-level names of the other imports. First-party:
    :data:`FIRST_PARTY` and the top-level package of ``name`` itself."""
    roots = {*FIRST_PARTY, name.split(".", 1)[0]}
    seen: dict[str, str] = {}
    external: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        file = _module_file(current)
        if file is None:
            continue  # a name imported from a module (a function, a class), not a module itself
        tree = ast.parse(file.read_bytes())
        if current != name and _reads_results_only(tree):
            continue
        seen[current] = _code_digest(tree)
        imported = _imports(current, tree, file.name == "__init__.py")
        external.update(m.split(".", 1)[0] for m in imported if not _is_first_party(m, roots))
        todo += [m for m in imported if _is_first_party(m, roots) and m not in seen]
    # a module's parent packages run first on import: their own source counts, not what they import
    for current in list(seen):
        for i in range(1, current.count(".") + 1):
            parent = current.rsplit(".", i)[0]
            file = _module_file(parent)
            if parent not in seen and file is not None:
                seen[parent] = _code_digest(ast.parse(file.read_bytes()))
    return tuple(sorted(seen.items())), tuple(sorted(external - {"__future__"}))


def code_identity(fn) -> dict:
    """The code a function runs: ``{"hash", "modules", "imports"}`` (see the module docstring).

    ``hash`` is the SHA-256 over the code (docstrings, comments and formatting aside) of ``fn``'s
    module and of every first-party module it imports transitively (16 hex digits); ``modules`` lists
    them; ``imports`` the other packages they import (top-level names). Where the module's source is
    not available (a function typed into an interpreter), the hash covers the function's own bytecode.

    Parameters
    ----------
    fn : callable
        A function.

    Returns
    -------
    dict
        ``hash``, ``modules`` and ``imports``.

    Raises
    ------
    OSError
        A module file that cannot be read.

    Examples
    --------
    >>> from lmctheory.runs import code_identity
    >>> from lmctheory.rates import fit_rate
    >>> identity = code_identity(fit_rate)
    >>> len(identity["hash"]), "lmctheory.rates" in identity["modules"], "numpy" in identity["imports"]
    (16, True, True)
    """
    module = getattr(fn, "__module__", None)
    closure, external = _closure(module) if module else ((), ())
    digest = hashlib.sha256()
    for name, sha in closure:
        digest.update(f"{name}\0{sha}\n".encode())
    if module not in dict(closure):  # no source file: the function's code object stands for it
        digest.update(marshal.dumps(fn.__code__) if hasattr(fn, "__code__") else repr(fn).encode())
    return {
        "hash": digest.hexdigest()[:16],
        "modules": [name for name, _ in closure],
        "imports": list(external),
    }


def to_jsonable(obj):
    """Convert NumPy scalars/arrays and dataclass-like objects to plain JSON data.

    Non-finite floats become ``None`` (JSON has no NaN/inf; strict parsers reject them); objects
    with ``to_dict()`` are converted through it, paths become strings.

    Parameters
    ----------
    obj : object
        Anything built from dicts, lists, tuples, NumPy values and objects with ``to_dict``.

    Returns
    -------
    object
        Plain Python data.

    Raises
    ------
    RecursionError
        A self-referencing structure.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.runs import to_jsonable
    >>> to_jsonable({"x": np.float32(1.5), "y": float("nan"), "z": np.arange(2)})
    {'x': 1.5, 'y': None, 'z': [0, 1]}
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


def record(
    command: str,
    config: dict,
    result,
    *,
    seed=None,
    definitions: dict | None = None,
    seconds: float | None = None,
) -> dict:
    """A self-describing result document: command, config, seed, definitions, result, timings,
    library versions, git revision, Python, platform and the machine (:func:`lmctheory.runs.machine_info`:
    CPU, instruction sets, BLAS/OpenMP libraries and threads, torch build and devices).

    Parameters
    ----------
    command : str
        What produced it (a CLI command or ``module:qualname``).
    config : dict
        The configuration.
    result : object
        The result (converted with :func:`to_jsonable`).
    seed : int, optional
        The seed.
    definitions : dict, optional
        The conventions the numbers follow (e.g. barrier definitions).
    seconds : float, optional
        Wall time.

    Returns
    -------
    dict
        JSON data.

    Raises
    ------
    RecursionError
        A self-referencing result (from :func:`to_jsonable`); objects JSON cannot hold pass through
        and fail at :func:`write_json`.

    Examples
    --------
    >>> from lmctheory.runs import record
    >>> doc = record("demo", {"n": 10}, {"w2": 0.5}, seed=0)
    >>> sorted(doc)[:5], doc["versions"]["lmctheory"] is not None
    (['command', 'config', 'created', 'definitions', 'git'], True)
    """
    return to_jsonable(
        {
            "command": command,
            "config": config,
            "seed": seed,
            "definitions": definitions or {},
            "result": result,
            "seconds": seconds,
            "versions": library_versions(),
            "git": git_revision(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "machine": machine_info(),
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
    )


def dumps(doc) -> str:
    """``doc`` as the JSON text records hold: :func:`to_jsonable` applied, indented, NaN and infinities refused.

    Parameters
    ----------
    doc : object
        A result document (dicts, lists, NumPy values, dataclasses, ...).

    Returns
    -------
    str
        The JSON text.

    Raises
    ------
    ValueError
        A NaN or an infinity anywhere in ``doc`` (JSON has neither).
    TypeError
        An object that has no JSON form.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.runs import dumps
    >>> print(dumps({"x": np.float64(0.5)}))
    {
      "x": 0.5
    }
    """
    return json.dumps(to_jsonable(doc), indent=2, allow_nan=False)


def write_json(path, doc) -> Path:
    """Write ``doc`` as JSON atomically: temp file in the same directory, fsync, rename.

    A reader never sees a half-written file; on failure the temp file is removed.

    Parameters
    ----------
    path : str or Path
        Destination (parent directories are created).
    doc : object
        JSON data (NaN and inf are written as null).

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    OSError
        The directory is not writable (the message names the path).
    TypeError
        Objects JSON cannot encode.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> from lmctheory.runs import write_json
    >>> path = write_json(pathlib.Path(tempfile.mkdtemp()) / "out.json", {"x": float("nan")})
    >>> json.loads(path.read_text())
    {'x': None}
    """
    path = Path(path)
    text = dumps(doc)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise type(exc)(f"cannot write {path} ({exc.strerror or exc})") from None
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
