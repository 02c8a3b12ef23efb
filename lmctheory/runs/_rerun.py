"""Re-run one result from its JSON file alone, and compare with what was recorded.

Two kinds of result files carry everything needed:

* sweep records (:mod:`lmctheory.runs`): ``function`` (``module:qualname``) and ``config``. Only
  registered experiments are re-run: the validation experiments and figure sweeps named in
  :func:`experiments` (the installed entry points of the group ``lmctheory.experiments``), and functions registered in the running process with
  :func:`register_experiment`. A record naming any other function is refused: a JSON file is
  data, and a name read from it is never imported or called;
* CLI documents (``lmctheory ... --json`` / ``--out``): ``argv``, the command line that made them;
  ``lmctheory rerun`` re-parses it with its own parser (no abbreviated options), only for the
  subcommands that read their inputs, with every option that writes a file removed (this module
  does not import the CLI).

:func:`rerun` recomputes the result and :func:`compare` lists the differences (timings and
paths of generated files aside). Sweep records re-run with the thread count they were computed
with (:func:`lmctheory.runs.limited_threads`); with the same seeds on CPU the results are
identical.
"""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

from ._provenance import code_identity, dumps, function_id
from ._threads import limited_threads

__all__ = [
    "rerun",
    "compare",
    "load_document",
    "code_changed",
    "register_experiment",
    "experiments",
    "ENTRY_POINT_GROUP",
    "IGNORED_KEYS",
    "reproduction_tolerance",
    "structure_differences",
]

IGNORED_KEYS = frozenset({"seconds", "seconds_total", "created", "timings", "out", "plot", "paths"})

#: the entry-point group through which installed packages declare their experiments: each entry point names
#: a module-level function ``config -> result`` (``name = "package.module:function"``); the paper's
#: distribution, lmctheory-paper, declares its validation experiments and figure sweeps there
ENTRY_POINT_GROUP = "lmctheory.experiments"


def experiments() -> frozenset[str]:
    """The functions ``lmctheory rerun`` may call (``module:qualname``): the installed experiment entry points.

    Every installed distribution declaring entry points in the group :data:`ENTRY_POINT_GROUP` adds its
    functions; nothing else is ever imported from a name read in a record.

    Returns
    -------
    frozenset of str
        ``module:qualname`` of every registered experiment (entry-point values).

    Examples
    --------
    >>> from lmctheory.runs import experiments
    >>> all(":" in name for name in experiments())
    True
    """
    from importlib.metadata import entry_points

    return frozenset(ep.value.replace(" ", "") for ep in entry_points(group=ENTRY_POINT_GROUP))


#: (rtol, atol) of a rerun of a computed (untrained) result on another machine: float64 reductions whose order
#: follows the vector width differ in the last bits (measured between the AVX-512 and the generic kernels,
#: ATEN_CPU_CAPABILITY=default: 1.4e-10 relative on a value of 2e-15, 1e-16 on depth's defects)
COMPUTED_TOLERANCE = (1e-9, 1e-12)


def reproduction_tolerance(record: dict) -> tuple[float, float] | None:
    """``(rtol, atol)`` within which ``record``'s result reproduces on another machine, or None when no
    value-by-value tolerance holds there.

    A trained result (its function has the attribute ``trained = True``, as the paper's trained experiments
    do) is None: on another instruction set the first rounding difference sends
    training along another trajectory. Measured on the 109 quick records of fig2, disentangle, mean_field and
    figure 2's dimensions rerun with PyTorch's generic kernels (``ATEN_CPU_CAPABILITY=default``) against the
    AVX-512 ones that wrote them: an LMC error moved by 0.195 absolute (14 % relative), a midpoint barrier by
    59 %, an endpoint bound by 4 %. Such results reproduce in distribution (the verdicts over seeds), bit for
    bit only on the machine and build that wrote them. Computed results get :data:`COMPUTED_TOLERANCE`.

    Parameters
    ----------
    record : dict
        A sweep record (its ``function`` names the experiment).

    Returns
    -------
    tuple of (float, float) or None
        The relative and absolute tolerances, or None for a trained result.

    Raises
    ------
    None
        A record of an unknown function gets the computed tolerance.

    Examples
    --------
    >>> from lmctheory.runs import register_experiment, reproduction_tolerance
    >>> def trained_experiment(config):
    ...     return {}
    >>> trained_experiment.trained = True
    >>> _ = register_experiment(trained_experiment)
    >>> reproduction_tolerance({"function": "lmctheory.runs._rerun:trained_experiment"}) is None
    True
    >>> reproduction_tolerance({"function": "some.other:function"})
    (1e-09, 1e-12)
    """
    spec = record.get("function")
    if isinstance(spec, str) and (spec in _REGISTERED or spec in experiments()):
        if getattr(_function(record, "the record"), "trained", False):
            return None
    return COMPUTED_TOLERANCE


def structure_differences(recorded, recomputed, path: str = "result") -> list[str]:
    """Where two JSON-like results differ in shape, not in value: missing or extra keys, list lengths, types,
    a finite number that became null (NaN or inf) or the reverse.

    Parameters
    ----------
    recorded, recomputed : object
        JSON-like values.
    path : str
        Prefix of the reported locations.

    Returns
    -------
    list of str
        One line per difference (empty: the same structure).

    Raises
    ------
    TypeError
        Values that cannot be converted to JSON data.

    Examples
    --------
    >>> from lmctheory.runs import structure_differences
    >>> structure_differences({"x": [1.0, 2.0]}, {"x": [1.5, 2.5]}), structure_differences({"x": 1}, {})
    ([], ['result.x: missing in the recomputed result'])
    """
    return _differences(json.loads(dumps(recorded)), json.loads(dumps(recomputed)), None, path)


_REGISTERED: dict[str, object] = {}


def register_experiment(fn):
    """Allow :func:`rerun` to call ``fn`` (a module-level function) in this process.

    The CLI's ``lmctheory rerun`` only knows the installed entry points (:func:`experiments`).

    Parameters
    ----------
    fn : callable
        A module-level function ``config -> result``.

    Returns
    -------
    callable
        ``fn`` itself, so it also works as a decorator.

    Raises
    ------
    TypeError
        Lambdas and local functions (:func:`lmctheory.runs.function_id`).

    Examples
    --------
    >>> from lmctheory.runs import register_experiment
    >>> from lmctheory.runs import canonical_config
    >>> register_experiment(canonical_config) is canonical_config
    True
    """
    _REGISTERED[function_id(fn)] = fn
    return fn


def _function(doc: dict, path):
    spec = doc.get("function")
    if not isinstance(spec, str):
        raise ValueError(
            f"{path} names no function (no 'function' and no 'argv'): not a sweep record or a CLI document"
        )
    if spec in _REGISTERED:
        return _REGISTERED[spec]
    if spec not in experiments():
        raise ValueError(
            f"{path} names the function {spec!r}, which is not a registered experiment; lmctheory rerun "
            "calls only its own experiments (from Python, register_experiment(fn) allows yours)"
        )
    module, _, qualname = spec.partition(":")
    return getattr(importlib.import_module(module), qualname)


def _load(path) -> dict:
    file = Path(path)
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a directory, not a result file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not a JSON document ({exc})") from None
    if not isinstance(doc, dict) or "config" not in doc:
        raise ValueError(f"{path} is not an lmctheory result (no 'config')")
    if "result" not in doc and doc.get("status") != "failed":
        raise ValueError(f"{path} holds no 'result' to compare with")
    if doc.get("status") == "failed":
        error = doc.get("error") if isinstance(doc.get("error"), dict) else {}
        raise ValueError(
            f"{path} records a failed configuration ({error.get('type', 'unknown error')}): "
            "nothing to compare"
        )
    return doc


def load_document(path) -> dict:
    """The result document in ``path`` (a sweep record or a CLI document), checked to hold a config
    and a result.

    Parameters
    ----------
    path : str or Path
        A JSON file.

    Returns
    -------
    dict
        The document.

    Raises
    ------
    ValueError
        Not JSON, too large, or without config and result (the message names the file).

    Examples
    --------
    >>> import tempfile
    >>> from lmctheory.runs import canonical_config, run_sweep
    >>> results = tempfile.mkdtemp()
    >>> _ = run_sweep(canonical_config, [{"a": 1}, {"a": 2}], results, progress=False)
    >>> import pathlib
    >>> from lmctheory.runs import load_document
    >>> load_document(sorted(pathlib.Path(results).glob("*.json"))[0])["status"]
    'done'
    """
    return _load(path)


def rerun(path) -> tuple[dict, object]:
    """``(recorded record, recomputed result)`` for a sweep record (see the module docstring).

    Only installed experiments (:func:`experiments`) or functions registered in this process with
    :func:`register_experiment` are called; CLI documents (with ``argv``) are re-run by
    ``lmctheory rerun``, which owns the command line.

    Parameters
    ----------
    path : str or Path
        A sweep record.

    Returns
    -------
    tuple of (dict, object)
        The record and what its function returns on its config now.

    Raises
    ------
    ValueError
        A file that is not a sweep record, or a record naming an unregistered function.

    Examples
    --------
    >>> import tempfile
    >>> from lmctheory.runs import canonical_config, run_sweep
    >>> results = tempfile.mkdtemp()
    >>> _ = run_sweep(canonical_config, [{"a": 1}, {"a": 2}], results, progress=False)
    >>> import pathlib
    >>> from lmctheory.runs import compare, register_experiment, rerun
    >>> _ = register_experiment(canonical_config)
    >>> recorded, recomputed = rerun(sorted(pathlib.Path(results).glob("*.json"))[0])
    >>> compare(recorded["result"], recomputed)
    []
    """
    doc = _load(path)
    if "argv" in doc:
        raise ValueError(
            f"{path} is a CLI document (it records argv): re-run it with `lmctheory rerun {path}`"
        )
    fn = _function(doc, path)
    threads = doc.get("threads", 1)
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"{path}: 'threads' must be an integer >= 1 or null, got {threads!r}")
    if not isinstance(doc["config"], dict):
        raise ValueError(f"{path}: 'config' must be an object, got {type(doc['config']).__name__}")
    with limited_threads(threads, torch="torch" in code_identity(fn)["imports"]):
        return doc, fn(doc["config"])


def code_changed(doc: dict) -> bool | None:
    """Whether the code of a sweep record's function differs from the code that wrote it.

    Parameters
    ----------
    doc : dict
        A sweep record.

    Returns
    -------
    bool or None
        None when the record names no code hash or no registered function.

    Raises
    ------
    AttributeError
        ``doc`` is not a dict.

    Examples
    --------
    >>> import tempfile
    >>> from lmctheory.runs import canonical_config, run_sweep
    >>> results = tempfile.mkdtemp()
    >>> _ = run_sweep(canonical_config, [{"a": 1}, {"a": 2}], results, progress=False)
    >>> from lmctheory.runs import code_changed, register_experiment
    >>> from lmctheory.runs import load_results
    >>> _ = register_experiment(canonical_config)
    >>> [code_changed(doc) for doc in load_results(results)]
    [False, False]
    """
    code = doc.get("code")
    recorded = code.get("hash") if isinstance(code, dict) else None
    spec = doc.get("function")
    if recorded is None or not isinstance(spec, str) or spec not in experiments() | set(_REGISTERED):
        return None
    return code_identity(_function(doc, "record"))["hash"] != recorded


def compare(recorded, recomputed, *, rtol: float = 0.0, atol: float = 0.0, path: str = "result") -> list[str]:
    """Differences between two JSON-like values (numbers a and b are equal when
    ``|a - b| <= atol + rtol * max(|a|, |b|)``; ``IGNORED_KEYS`` skipped).

    Both are first converted as a record stores them (NumPy to Python, NaN and inf to null).

    Parameters
    ----------
    recorded, recomputed : object
        JSON-like values.
    rtol : float, default 0
        Relative tolerance on numbers.
    atol : float, default 0
        Absolute tolerance on numbers.
    path : str
        Prefix of the reported locations.

    Returns
    -------
    list of str
        One line per difference (empty: identical).

    Raises
    ------
    TypeError
        Values that cannot be converted to JSON data.

    Examples
    --------
    >>> from lmctheory.runs import compare
    >>> compare({"x": 1.0, "seconds": 3}, {"x": 2.0, "seconds": 4})
    ['result.x: recorded 1.0, recomputed 2.0']
    >>> compare({"x": 1.0}, {"x": 1.0 + 1e-9}, rtol=1e-6)
    []
    """
    return _differences(json.loads(dumps(recorded)), json.loads(dumps(recomputed)), (rtol, atol), path)


def _differences(recorded, recomputed, tol, path) -> list[str]:
    """The differences :func:`compare` (``tol`` = (rtol, atol)) and :func:`structure_differences` (``tol``
    None: every two numbers match, only keys, lengths, types and nulls count) report."""
    if isinstance(recorded, dict) and isinstance(recomputed, dict):
        out = []
        for key in sorted(set(recorded) | set(recomputed), key=str):
            if key in IGNORED_KEYS:
                continue
            if key not in recomputed:
                out.append(f"{path}.{key}: missing in the recomputed result")
            elif key not in recorded:
                out.append(f"{path}.{key}: not in the record")
            else:
                out += _differences(recorded[key], recomputed[key], tol, f"{path}.{key}")
        return out
    if isinstance(recorded, list) and isinstance(recomputed, list):
        if len(recorded) != len(recomputed):
            return [f"{path}: {len(recorded)} entries recorded, {len(recomputed)} recomputed"]
        out = []
        for i, (a, b) in enumerate(zip(recorded, recomputed, strict=True)):
            out += _differences(a, b, tol, f"{path}[{i}]")
        return out
    numbers = (int, float)
    if (
        isinstance(recorded, numbers)
        and isinstance(recomputed, numbers)
        and not isinstance(recorded, bool)
        and not isinstance(recomputed, bool)
    ):
        if tol is None:
            return []
        a, b = float(recorded), float(recomputed)
        rtol, atol = tol
        same = (
            (a == b) or (math.isnan(a) and math.isnan(b)) or abs(a - b) <= atol + rtol * max(abs(a), abs(b))
        )
        return [] if same else [f"{path}: recorded {a!r}, recomputed {b!r}"]
    if tol is None:
        same = (recorded is None) == (recomputed is None) and type(recorded) is type(recomputed)
    else:
        same = recorded == recomputed
    return [] if same else [f"{path}: recorded {recorded!r}, recomputed {recomputed!r}"]
