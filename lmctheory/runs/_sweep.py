"""Resumable parameter sweeps: local cores (joblib) or a Dask cluster, one JSON file per config.

A sweep is a module-level function ``fn(config) -> dict`` and a list of configs (JSON dicts: string
keys, finite numbers). Each result is one file ``<results_dir>/<key>.json`` written atomically
(temp file + rename), holding the config, the seed, the function (``module:qualname``), the code
identity (:func:`lmctheory.runs.code_identity`), the git revision, the versions of every
library that shapes results, timings, status and result.

A record is reused only when it is what this call would compute:

* its file name is the key of (function, config): :func:`record_key`;
* the key, the config (re-hashed) and the function stored inside agree with the request (a record
  copied over another config's file, or written by another function, is not used);
* its code hash equals the current one: any edit to the code the function runs recomputes it.

Anything else (missing, unreadable, of the wrong shape, another config's or function's, stale
code) is recomputed and overwritten; with ``cached_only=True`` nothing is computed and
:class:`lmctheory.exceptions.CacheMissError` lists what is missing or stale. Hence:

* re-running a sweep skips every config whose record is done and current;
* a killed sweep loses at most the configs in flight (finished ones are on disk, half-written
  files never exist; stale temp files are removed on the next start);
* a config whose function raises, or returns something JSON cannot hold, is recorded with
  ``"status": "failed"`` and its error, and the sweep goes on (failed configs are retried on the
  next run unless ``retry_failed=False``).

``fallback_dirs`` are read-only caches (e.g. records committed with the project): a current record
found there is copied into ``results_dir`` instead of being computed; nothing is ever written into
them.

Backends: ``n_jobs`` worker processes on this machine (joblib, loky), or a Dask cluster given by
``scheduler="tcp://host:8786"`` (a lab's cluster) or ``dask_local=N`` (a LocalCluster of N workers
here): the same code path either way. ``fn`` must be importable by the workers. Each config runs
with ``threads`` intra-op threads (default 1, :func:`lmctheory.runs.limited_threads`), so
results do not depend on the number of workers.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import subprocess
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ..exceptions import CacheMissError, DirtyCheckoutError
from ..utils.optional import require
from ._provenance import (
    code_identity,
    function_id,
    git_revision,
    record,
    to_jsonable,
    tracked_records_dir,
    write_json,
)
from ._threads import keep_freed_memory, limited_threads, return_freed_memory

__all__ = [
    "config_hash",
    "record_key",
    "Sweep",
    "SweepResult",
    "run_sweep",
    "run_sweeps",
    "prune_records",
    "load_results",
    "canonical_config",
]


def canonical_config(config, path: str = "config"):
    """``config`` as plain JSON data, or an error naming the offending entry.

    Keys must be strings and numbers finite: JSON turns ``{1: 'a'}`` into ``{"1": 'a'}`` and has no
    NaN or inf, so such configs could not be told apart (nor stored) once written. Tuples become
    lists and NumPy scalars Python numbers (both round-trip through JSON unchanged).

    Parameters
    ----------
    config : object
        JSON-like data.
    path : str
        Name used in error messages.

    Returns
    -------
    object
        The canonical data.

    Raises
    ------
    TypeError
        Non-string keys or values JSON cannot hold.
    ValueError
        Non-finite numbers.

    Examples
    --------
    >>> from lmctheory.runs import canonical_config
    >>> canonical_config({"sizes": (1, 2)})
    {'sizes': [1, 2]}
    """
    import numpy as np

    if isinstance(config, dict):
        out = {}
        for key, value in config.items():
            if not isinstance(key, str):
                raise TypeError(
                    f"{path} has the key {key!r} of type {type(key).__name__}; config keys must be "
                    "strings (JSON would turn it into a string and merge it with another key)"
                )
            out[key] = canonical_config(value, f"{path}[{key!r}]")
        return out
    if isinstance(config, (list, tuple)):
        return [canonical_config(v, f"{path}[{i}]") for i, v in enumerate(config)]
    if isinstance(config, np.generic):
        config = config.item()
    if config is None or isinstance(config, (bool, str, int)):
        return config
    if isinstance(config, float):
        if not math.isfinite(config):
            raise ValueError(
                f"{path} is {config!r}; config numbers must be finite (JSON cannot store NaN or inf)"
            )
        return config
    raise TypeError(
        f"{path} is a {type(config).__name__}; configs hold JSON data (dicts with string keys, "
        "lists, strings, finite numbers, booleans, None)"
    )


def _canonical_json(config) -> str:
    return json.dumps(canonical_config(config), sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_hash(config: dict, length: int = 16) -> str:
    """Stable identifier of a config: SHA-256 of its canonical JSON (sorted keys), hex prefix.

    Distinct configs get distinct hashes: non-string keys and non-finite numbers are refused
    (:func:`canonical_config`), ``1`` and ``1.0`` differ, key order does not matter.

    Parameters
    ----------
    config : dict
        JSON data.
    length : int, default 16
        Hex digits kept.

    Returns
    -------
    str
        The hash prefix.

    Raises
    ------
    TypeError, ValueError
        As :func:`canonical_config`.

    Examples
    --------
    >>> from lmctheory.runs import config_hash
    >>> config_hash({"a": 1, "b": 2}) == config_hash({"b": 2, "a": 1})
    True
    >>> config_hash({"a": 1}) == config_hash({"a": 1.0})
    False
    """
    if not isinstance(config, dict):
        raise TypeError(f"a config must be a dict, got {type(config).__name__}: {config!r}")
    return hashlib.sha256(_canonical_json(config).encode()).hexdigest()[:length]


def record_key(function: str, config: dict, length: int = 16) -> str:
    """File name (without ``.json``) of the record of ``function`` (``module:qualname``) on ``config``.

    Parameters
    ----------
    function : str
        ``module:qualname``.
    config : dict
        JSON data.
    length : int, default 16
        Hex digits.

    Returns
    -------
    str
        The key: one function's records never collide with another's.

    Raises
    ------
    TypeError, ValueError
        As :func:`canonical_config`.

    Examples
    --------
    >>> from lmctheory.runs import record_key
    >>> record_key("m:square", {"x": 3}) != record_key("m:cube", {"x": 3})
    True
    """
    if not isinstance(config, dict):
        raise TypeError(f"a config must be a dict, got {type(config).__name__}: {config!r}")
    payload = f"{function}\n{_canonical_json(config)}"
    return hashlib.sha256(payload.encode()).hexdigest()[:length]


@dataclass
class SweepResult:
    """What a sweep did: every record (in config order for skipped ones, completion order for run
    ones), the counts, and why records on disk were not reused (``recomputed``: reason -> count).

    Parameters
    ----------
    records : list of dict
        The records.
    ran, skipped, failed : int
        Counts.
    seconds : float
        Wall time.
    recomputed : dict of str to int
        Why existing records were not reused.

    Examples
    --------
    >>> import tempfile
    >>> from lmctheory.runs import canonical_config, run_sweep
    >>> results = tempfile.mkdtemp()
    >>> _ = run_sweep(canonical_config, [{"a": 1}, {"a": 2}], results, progress=False)
    >>> again = run_sweep(canonical_config, [{"a": 1}, {"a": 2}], results, progress=False)
    >>> again.ran, again.skipped, [r["result"] for r in again.records]
    (0, 2, [{'a': 1}, {'a': 2}])
    """

    records: list[dict] = field(default_factory=list)
    ran: int = 0
    skipped: int = 0
    failed: int = 0
    seconds: float = 0.0
    recomputed: dict = field(default_factory=dict)

    @property
    def done(self) -> list[dict]:
        return [r for r in self.records if r.get("status") == "done"]


def _prepare_dir(results_dir) -> Path:
    path = Path(results_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-probe-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise OSError(f"results directory {path} is not writable ({exc}); nothing was run") from exc
    for stale in path.glob(".*.tmp"):  # temp files of writes interrupted by a kill
        stale.unlink(missing_ok=True)
    return path


def _read(path: Path):
    """The parsed JSON of ``path``, or None when it is missing, unreadable or not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def _problem(doc, key: str, chash: str, function: str, code: str) -> str | None:
    """Why ``doc`` is not the current record of (function, config), or None when it is."""
    if doc is None:
        return "missing or unreadable"
    if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict):
        return "not a sweep record"
    if doc.get("hash") != key:
        return "another record's file (key differs from the file name)"
    try:
        same_config = config_hash(doc["config"]) == chash
    except (TypeError, ValueError):
        same_config = False
    if not same_config or doc.get("config_hash") != chash:
        return "another config's record"
    if doc.get("function") != function:
        return "written by another function"
    if not isinstance(doc.get("code"), dict) or doc["code"].get("hash") != code:
        return "stale: written by other code"
    if doc.get("status") not in ("done", "failed") or (doc["status"] == "done" and "result" not in doc):
        return "not a sweep record"
    return None


def _run_one(fn, config: dict, path: str, name: str, identity: dict, threads) -> dict:
    """Run one config and write its record atomically; never raises for errors of ``fn`` or of its
    result (both are recorded as a failure)."""
    start = time.perf_counter()
    try:
        with limited_threads(threads, torch="torch" in identity["code"]["imports"]):
            result = fn(config)
        json.dumps(to_jsonable(result), allow_nan=False)  # a result the record cannot hold fails the config
        status, error = "done", None
    except Exception as exc:  # noqa: BLE001 - recorded, the sweep goes on
        result, status = None, "failed"
        kind = (
            "the result is not JSON data"
            if isinstance(exc, TypeError) and "JSON serializable" in str(exc)
            else None
        )
        error = {
            "type": type(exc).__name__,
            "message": f"{kind}: {exc}" if kind else str(exc),
            "traceback": traceback.format_exc(limit=20),
        }
    doc = record(name, config, result, seed=config.get("seed"), seconds=time.perf_counter() - start)
    doc.update(status=status, error=error, threads=threads, **identity)
    write_json(path, doc)
    return doc


def load_results(results_dir, *, status: str | None = "done", function: str | None = None) -> list[dict]:
    """Every record of a results directory.

    Files that are not records are skipped.

    Parameters
    ----------
    results_dir : str or Path
        The directory.
    status : str or None, default "done"
        Keep only records with this status (None: all).
    function : str, optional
        Keep only records of this ``module:qualname``.

    Returns
    -------
    list of dict
        The records.

    Raises
    ------
    OSError
        The directory cannot be listed.

    Examples
    --------
    >>> import tempfile
    >>> from lmctheory.runs import canonical_config, run_sweep
    >>> results = tempfile.mkdtemp()
    >>> _ = run_sweep(canonical_config, [{"a": 1}, {"a": 2}], results, progress=False)
    >>> from lmctheory.runs import function_id, load_results
    >>> len(load_results(results, function=function_id(canonical_config)))
    2
    """
    out = []
    for file in sorted(Path(results_dir).glob("*.json")):
        doc = _read(file)
        if not isinstance(doc, dict) or "config" not in doc:
            continue
        if (status is None or doc.get("status") == status) and (
            function is None or doc.get("function") == function
        ):
            out.append(doc)
    return out


@dataclass
class Sweep:
    """One function over its configs into one results directory: a job of :func:`run_sweeps`.

    Parameters
    ----------
    fn : callable
        A module-level function ``config -> dict``.
    configs : list of dict
        Its configurations.
    results_dir : str or Path
        Where records go.
    name : str, optional
        Recorded command (default ``fn.__qualname__``).
    fallback_dirs : tuple of paths
        Read-only directories of records to reuse.
    cost : callable, optional
        ``cost(config)`` estimates a config's relative compute time; configs are started most
        expensive first, so that workers finish together (longest-processing-time order).
    timing_dirs : tuple of paths
        More directories of earlier records of the same sweep. A config's ``seconds`` recorded in
        ``results_dir``, ``timing_dirs`` or ``fallback_dirs`` (any code version: a timing, not a result)
        is its cost, so the progress line's estimate of the time left is in seconds; configs without one get
        ``cost`` scaled to seconds by the median ratio of those with one.

    Examples
    --------
    >>> import tempfile
    >>> from lmctheory.runs import Sweep, canonical_config, run_sweeps
    >>> job = Sweep(canonical_config, [{"a": 1}], tempfile.mkdtemp(), cost=lambda c: 1.0)
    >>> run_sweeps([job], progress=False)[0].ran
    1
    """

    fn: object
    configs: list
    results_dir: object
    name: str | None = None
    fallback_dirs: tuple = ()
    cost: object = None
    timing_dirs: tuple = ()


def _costs(sweep: Sweep, function: str, configs: list) -> list[float]:
    """Each config's estimated compute time: recorded seconds where a timing record has it, else
    ``sweep.cost`` (1 without one) scaled by the median seconds-to-cost ratio of the timed configs."""
    base = sweep.cost if sweep.cost is not None else (lambda config: 1.0)
    estimates = [float(base(c)) for c in configs]
    timed = [None] * len(configs)
    for directory in (sweep.results_dir, *sweep.timing_dirs, *sweep.fallback_dirs):
        for i, config in enumerate(configs):
            if timed[i] is None:
                doc = _read(Path(directory) / f"{record_key(function, config)}.json")
                seconds = doc.get("seconds") if isinstance(doc, dict) else None
                if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds > 0:
                    timed[i] = float(seconds)
    ratios = sorted(t / e for t, e in zip(timed, estimates, strict=True) if t is not None and e > 0)
    scale = ratios[len(ratios) // 2] if ratios else 1.0
    return [t if t is not None else e * scale for t, e in zip(timed, estimates, strict=True)]


def prune_records(sweep: Sweep) -> list[Path]:
    """Delete the records of ``sweep``'s function in its results directory whose configuration is not
    among ``sweep.configs`` (configurations dropped from a preset).

    Records of other functions, files that are not records, and the records of the sweep's own
    configurations (current or stale: a stale one is recomputed) are left alone.

    Parameters
    ----------
    sweep : Sweep
        The sweep whose directory is pruned.

    Returns
    -------
    list of Path
        The deleted files.

    Raises
    ------
    OSError
        A record that cannot be deleted.

    Examples
    --------
    >>> import tempfile
    >>> from lmctheory.runs import canonical_config, run_sweep
    >>> results = tempfile.mkdtemp()
    >>> _ = run_sweep(canonical_config, [{"a": 1}, {"a": 2}], results, progress=False)
    >>> from lmctheory.runs import Sweep, prune_records
    >>> len(prune_records(Sweep(canonical_config, [{"a": 1}], results)))     # {"a": 2} left the preset
    1
    """
    function = function_id(sweep.fn)
    keep = {record_key(function, config) for config in sweep.configs}
    deleted = []
    for file in sorted(Path(sweep.results_dir).glob("*.json")):
        doc = _read(file)
        if isinstance(doc, dict) and doc.get("function") == function and file.stem not in keep:
            file.unlink()
            deleted.append(file)
    return deleted


def _plan(sweep: Sweep, retry_failed: bool):
    """(result holding the reusable records, todo [(config, path, identity)], missing, stale)."""
    function = function_id(sweep.fn)
    code = code_identity(sweep.fn)
    unique = {}
    for config in sweep.configs:
        unique.setdefault(record_key(function, config), config)
    out = _prepare_dir(sweep.results_dir)
    fallbacks = [Path(d) for d in sweep.fallback_dirs]
    todo, result, missing, stale = [], SweepResult(), [], []
    for key, config in unique.items():
        chash = config_hash(config)
        doc = _read(out / f"{key}.json")
        problem = _problem(doc, key, chash, function, code["hash"])
        for directory in fallbacks if problem else ():
            candidate = _read(directory / f"{key}.json")
            cached_problem = _problem(candidate, key, chash, function, code["hash"])
            if cached_problem is None and candidate["status"] == "done":
                doc, problem = candidate, None
                write_json(out / f"{key}.json", doc)
                break
            if (
                candidate is not None and problem == "missing or unreadable"
            ):  # say why the cache did not serve
                problem = f"{cached_problem or 'failed'} (in the read-only cache {directory})"
        if problem is None and (doc["status"] == "done" or not retry_failed):
            result.records.append(doc)
            result.skipped += 1
            continue
        reason = problem or "failed before"
        result.recomputed[reason] = result.recomputed.get(reason, 0) + 1
        (missing if reason == "missing or unreadable" else stale).append(config)
        identity = {"hash": key, "config_hash": chash, "function": function, "code": code}
        todo.append((config, str(out / f"{key}.json"), identity))
    return result, todo, missing, stale, len(unique), function, out


def run_sweeps(
    sweeps,
    *,
    n_jobs: int = 1,
    scheduler: str | None = None,
    dask_local: int | None = None,
    retry_failed: bool = True,
    progress: bool | None = None,
    retries: int = 2,
    cached_only: bool = False,
    threads: int | None = 1,
    label: str = "sweep",
    prune: bool = False,
) -> list[SweepResult]:
    """Run several :class:`Sweep` s in one pool of workers; see the module docstring and :func:`run_sweep`.

    Every config without a current record, of every sweep, is started in one queue (most expensive
    first when the sweeps give a ``cost``), so that n workers stay busy across sweeps instead of
    waiting at the end of each.

    Parameters
    ----------
    sweeps : list of Sweep
        The jobs.
    n_jobs : int, default 1
        Local worker processes (joblib; -1 = all cores).
    scheduler : str, optional
        A Dask scheduler address.
    dask_local : int, optional
        Workers of a local Dask cluster.
    retry_failed : bool, default True
        Re-run configs recorded as failed.
    progress : bool, optional
        A bar with ETA on a terminal, else a line on stderr every 30 seconds and at the end
        (default: when stderr is a terminal).
    retries : int, default 2
        Dask retries of a task whose worker died.
    cached_only : bool, default False
        Compute nothing; raise if a record is missing or stale.
    threads : int or None, default 1
        Intra-op threads per config.
    label : str
        Name on the progress line.
    prune : bool, default False
        First delete, in each sweep's results directory, the records of its function on
        configurations it no longer has (:func:`prune_records`).

    Returns
    -------
    list of SweepResult
        One per sweep.

    Raises
    ------
    TypeError, ValueError, OSError, CacheMissError
        As :func:`run_sweep`.

    Examples
    --------
    >>> import tempfile
    >>> from lmctheory.runs import Sweep, canonical_config, run_sweeps
    >>> jobs = [Sweep(canonical_config, [{"a": i}], tempfile.mkdtemp()) for i in range(3)]
    >>> [r.ran for r in run_sweeps(jobs, progress=False)]
    [1, 1, 1]
    """
    if scheduler is not None and dask_local is not None:
        raise ValueError(
            "give either scheduler= (an existing Dask cluster) or dask_local= (start one), not both"
        )
    if dask_local is not None and (
        isinstance(dask_local, bool) or not isinstance(dask_local, int) or dask_local < 1
    ):
        raise ValueError(f"dask_local must be a number of workers >= 1, got {dask_local!r}")
    start = time.perf_counter()
    sweeps = list(sweeps)
    git = None if cached_only else _clean_checkout_for(sweeps)
    if prune and not cached_only:
        for sweep in sweeps:
            prune_records(sweep)
    plans = [_plan(sweep, retry_failed) for sweep in sweeps]
    if cached_only and any(plan[1] for plan in plans):
        lines, missing, stale = [], [], []
        for result, todo, miss, old, total, function, out in plans:
            if todo:
                reasons = ", ".join(f"{n} {r}" for r, n in sorted(result.recomputed.items()))
                lines.append(f"{len(todo)} of {total} configurations of {function} in {out} ({reasons})")
                missing += miss
                stale += old
        raise CacheMissError(
            "no current record for " + "; ".join(lines) + "; run without the cached-only option "
            "to compute them",
            missing=missing,
            stale=stale,
        )
    items = []
    for index, (sweep, plan) in enumerate(zip(sweeps, plans, strict=True)):
        name = sweep.name or sweep.fn.__qualname__
        costs = _costs(sweep, plan[5], [config for config, _, _ in plan[1]])
        for (config, path, identity), cost in zip(plan[1], costs, strict=True):
            items.append((cost, index, sweep.fn, config, path, name, dict(identity, **git)))
    items.sort(key=lambda item: -item[0])  # stable: equal costs keep the sweeps' order
    items = [(cost, (index, position), *rest) for position, (cost, index, *rest) in enumerate(items)]
    results = [plan[0] for plan in plans]
    meter = _Progress(
        label, [item[0] for item in items], progress, workers=_workers(items, n_jobs, scheduler, dask_local)
    )
    try:
        for (index, position), doc, _ in _execute(items, n_jobs, scheduler, dask_local, retries, threads):
            result = results[index]
            result.records.append(doc)
            result.ran += 1
            result.failed += doc["status"] == "failed"
            meter.update(position)
    finally:
        meter.close()
    for result in results:
        result.seconds = time.perf_counter() - start
    return results


def run_sweep(
    fn, configs, results_dir, *, name: str | None = None, fallback_dirs=(), **options
) -> SweepResult:
    """Run ``fn`` on every config without a current record in ``results_dir``; see the module docstring.

    A record is reused only when its config, function (``module:qualname``) and code hash
    (:func:`lmctheory.runs.code_identity`) all match; a stale one is recomputed.

    Parameters
    ----------
    fn : callable
        Module-level ``config -> dict`` (importable by worker processes).
    configs : iterable of dict
        JSON configurations (duplicates are run once).
    results_dir : str or Path
        Directory of the per-config JSON files.
    name : str, optional
        Recorded as the command of each record (default ``fn.__qualname__``).
    fallback_dirs : sequence of paths
        Read-only directories of records to reuse (copied into ``results_dir``).
    **options
        Of :func:`run_sweeps`: ``n_jobs`` (local worker processes, joblib; -1 = all cores;
        ignored with Dask), ``scheduler`` / ``dask_local`` (a Dask scheduler address, or the number of
        LocalCluster workers), ``retry_failed`` (re-run configs recorded as failed), ``progress``,
        ``retries`` (Dask retries of a task whose worker died), ``cached_only`` (compute nothing; raise
        :class:`CacheMissError` if any record is missing or stale), ``threads`` (intra-op threads per
        config; None leaves the libraries' own settings), ``prune``.

    Returns
    -------
    SweepResult
        Records and counts.

    Raises
    ------
    TypeError, ValueError
        A config that is not JSON data, a lambda or local ``fn``.
    OSError
        ``results_dir`` not writable (checked before anything runs).
    CacheMissError
        With ``cached_only``, what is missing or stale.

    Examples
    --------
    >>> import tempfile
    >>> from lmctheory.runs import canonical_config, run_sweep
    >>> results = tempfile.mkdtemp()
    >>> _ = run_sweep(canonical_config, [{"a": 1}, {"a": 2}], results, progress=False)
    >>> from lmctheory.runs import load_results
    >>> sorted(r["result"]["a"] for r in load_results(results))
    [1, 2]
    """
    return run_sweeps([Sweep(fn, list(configs), results_dir, name, tuple(fallback_dirs))], **options)[0]


def _records_roots(directories) -> list[str]:
    """The parents of ``directories`` under which git tracks nothing but JSON records (a results root such
    as ``paper/lmctheory_paper/figures/cache``, whose other sweeps' records an earlier step of the same run may have
    rewritten): their changes are records, not code."""
    from ._provenance import checkout_root

    root = checkout_root()
    if root is None:
        return []
    parents = dict.fromkeys(str(Path(d).resolve().parent) for d in directories)
    return [parent for parent in parents if _tracks_only_records(str(root), parent)]


@functools.lru_cache(maxsize=64)
def _tracks_only_records(root: str, parent: str) -> bool:
    """Whether git tracks files under ``parent`` and all are JSON records (asked once per process: what git
    tracks changes only with a commit)."""
    try:
        listed = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--", parent],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.split("\0")
    except (OSError, subprocess.SubprocessError):
        return False
    files = [f for f in listed if f]
    return bool(files) and all(f.endswith(".json") for f in files)


def _clean_checkout_for(sweeps) -> dict:
    """The git field of the records these sweeps will write: the checkout's commit and whether its code is
    modified, not counting the sweeps' own results directories (their records change as they run) nor a
    results root above them that holds only records (:func:`_records_roots`).
    Raises :class:`DirtyCheckoutError` when a results directory holds records the checkout tracks and the
    code is modified: committed records are written from committed code only."""
    directories = tuple(str(Path(sweep.results_dir)) for sweep in sweeps)
    git = git_revision(exclude=directories + tuple(_records_roots(directories)))
    if git is None:
        return {}
    tracked = sorted({d for d in directories if tracked_records_dir(d)})
    if tracked and git["dirty"]:
        raise DirtyCheckoutError(
            f"refusing to write records into {', '.join(tracked)} (committed records) from a checkout with "
            "uncommitted changes to its code: commit or stash them first"
        )
    return {"git": git}


class _Progress:
    """Progress over the configs to run: a tqdm bar with ETA on a terminal, else a line on stderr every
    ``every`` seconds (a background thread prints it while long configurations run) and at the end.

    The time left is a forecast of the schedule: configs start in order (longest first) on ``workers``
    workers, so config i starts when the (i - workers + 1)-th one finishes; their costs (recorded seconds where
    records have them, :func:`_costs`) are scaled by the speed observed so far (time taken over cost, on the
    finished configs of the same sweep, else of all), the running ones are credited with the time they have
    already run, and the rest are dealt to the first free worker. Without a known number of workers (a remote cluster): elapsed time times
    the cost left over the cost done."""

    def __init__(
        self,
        label: str,
        costs: list,
        enabled: bool | None,
        clock=time.perf_counter,
        workers=1,
        groups=None,
        every: float = 30.0,
    ):
        import sys
        import threading

        self.clock, self.costs, self.workers = clock, list(costs), workers
        self.groups = list(groups) if groups is not None else [0] * len(self.costs)
        self.total, self.done_cost, self.done = sum(costs) or 1.0, 0.0, 0
        self.n = len(costs)
        self.finished: dict[int, float] = {}  # position -> finish time
        self.completions: list[float] = []
        self.label, self.start, self.last = label, clock(), clock()
        self.stream = sys.stderr
        enabled = self.stream.isatty() if enabled is None else enabled
        self.bar = None
        self.lines = enabled and self.n > 0 and not self.stream.isatty()
        if enabled and self.n and self.stream.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.n, desc=label, unit="config")
        self.every, self._lock, self._stop = every, threading.Lock(), threading.Event()
        if self.lines:
            threading.Thread(target=self._heartbeat, name="sweep-progress", daemon=True).start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.every / 4):
            with self._lock:
                if self.clock() - self.last >= self.every and self.done < self.n:
                    self._line()

    def _line(self) -> None:
        self.last = self.clock()
        print(
            f"[{self.label}] {self.done}/{self.n} configurations, {_clock(self.last - self.start)} elapsed, "
            f"{self._eta() if self.done < self.n else 'done'}",
            file=self.stream,
            flush=True,
        )

    def _started(self, position: int) -> float:
        """When the config at ``position`` started (relative to the start)."""
        w = self.workers
        return 0.0 if position < w else self.completions[position - w]

    def remaining(self) -> float | None:
        """Estimated seconds left (None before the first config finishes)."""
        if self.done_cost <= 0:
            return None
        now = self.clock() - self.start
        if not self.workers:
            return now * (self.total - self.done_cost) / self.done_cost
        import heapq

        taken, spent = {}, {}
        for p, end in self.finished.items():
            g = self.groups[p]
            taken[g] = taken.get(g, 0.0) + end - self._started(p)
            spent[g] = spent.get(g, 0.0) + self.costs[p]
        overall = sum(taken.values()) / sum(spent.values()) if sum(spent.values()) > 0 else 1.0
        speed = {g: taken[g] / spent[g] if spent[g] > 0 else overall for g in taken}

        def duration(p):
            return speed.get(self.groups[p], overall) * self.costs[p]

        running = [p for p in range(min(self.n, self.done + self.workers)) if p not in self.finished]
        free = sorted(max(0.0, duration(p) - (now - self._started(p))) for p in running)
        free += [0.0] * (self.workers - len(free))
        heapq.heapify(free)
        for p in range(self.done + self.workers, self.n):
            heapq.heappush(free, heapq.heappop(free) + duration(p))
        return max(free)

    def _eta(self) -> str:
        left = self.remaining()
        return "ETA unknown" if left is None else f"ETA {_clock(left)}"

    def update(self, position: int) -> None:
        """Config ``position`` (in the schedule's order) has finished."""
        with self._lock:
            now = self.clock() - self.start
            self.done += 1
            self.done_cost += self.costs[position]
            self.finished[position] = now
            self.completions.append(now)
            if self.bar is not None:
                self.bar.update(1)
            elif self.lines and (self.clock() - self.last >= self.every or self.done == self.n):
                self._line()

    def close(self) -> None:
        self._stop.set()
        if self.bar is not None:
            self.bar.close()


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return (
        f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
        if seconds >= 3600
        else f"{seconds // 60}:{seconds % 60:02d}"
    )


def _run_indexed(cost, index, fn, config, path, name, identity, threads):
    import multiprocessing

    worker = multiprocessing.parent_process() is not None
    if worker:  # a worker process of ours: keep freed memory during a configuration
        keep_freed_memory()
    try:
        return index, _run_one(fn, config, path, name, identity, threads), cost
    finally:
        if worker:
            return_freed_memory()


def _workers(items, n_jobs, scheduler, dask_local) -> int | None:
    """How many configs run at once (None: a remote cluster's, unknown here)."""
    if scheduler is not None:
        return None
    if dask_local is not None:
        return min(len(items), int(dask_local)) or 1
    from joblib import effective_n_jobs

    return 1 if n_jobs is None else max(1, min(len(items), effective_n_jobs(n_jobs)))


def _execute(items, n_jobs, scheduler, dask_local, retries, threads):
    """Run the items, yielding (sweep index, record, cost) as they finish."""
    if not items:
        return
    if scheduler is not None or dask_local is not None:
        yield from _execute_dask(items, scheduler, dask_local, retries, threads)
        return
    from joblib import Parallel, delayed

    workers = _workers(items, n_jobs, None, None)
    if workers <= 1:  # (one worker: in this process, no pool to start)
        for item in items:
            yield _run_indexed(*item, threads)
        return
    yield from Parallel(n_jobs=workers, return_as="generator_unordered")(
        delayed(_run_indexed)(*item, threads) for item in items
    )


def _execute_dask(items, scheduler, dask_local, retries, threads):
    distributed = require("dask.distributed", "running sweeps on Dask")
    Client, LocalCluster, as_completed = (
        distributed.Client,
        distributed.LocalCluster,
        distributed.as_completed,
    )
    cluster = None
    if dask_local is not None:
        cluster = LocalCluster(
            n_workers=int(dask_local), threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = [client.submit(_run_indexed, *item, threads, pure=False, retries=retries) for item in items]
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
