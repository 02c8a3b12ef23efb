"""Resumable parameter sweeps: local cores (joblib) or a Dask cluster, one JSON file per config.

A sweep is a function ``fn(config) -> dict`` and a list of configs (plain JSON-able dicts). Each
config is identified by :func:`config_hash` (SHA-256 of its canonical JSON) and its result is one
file ``<results_dir>/<hash>.json`` written atomically (temp file + rename) with the config, seed,
package versions, timings, status and result. Therefore:

* re-running a sweep skips every config whose file says ``"status": "done"``;
* a killed sweep loses at most the configs in flight (finished ones are on disk, half-written
  files never exist; stale temp files are removed on the next start);
* a config whose function raises is recorded with ``"status": "failed"`` and its error, and the
  sweep goes on (failed configs are retried on the next run unless ``retry_failed=False``).

Backends: ``n_jobs`` worker processes on this machine (joblib, loky), or a Dask cluster given by
``scheduler="tcp://host:8786"`` (a lab's cluster) or ``dask_local=N`` (a LocalCluster of N workers
here): the same code path either way. ``fn`` must be importable by the workers (a module-level
function).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .provenance import library_versions, record, to_jsonable, write_json

__all__ = ["config_hash", "SweepResult", "run_sweep", "load_results"]


def config_hash(config: dict, length: int = 16) -> str:
    """Stable identifier of a config: SHA-256 of its canonical JSON (sorted keys), hex prefix."""
    canonical = json.dumps(to_jsonable(config), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:length]


@dataclass
class SweepResult:
    records: list[dict] = field(default_factory=list)
    ran: int = 0
    skipped: int = 0
    failed: int = 0
    seconds: float = 0.0

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


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _run_one(fn, config: dict, path: str, name: str) -> dict:
    """Run one config and write its record atomically; never raises for errors of ``fn``."""
    start = time.perf_counter()
    try:
        result, status, error = fn(config), "done", None
    except Exception as exc:  # noqa: BLE001 - recorded, the sweep goes on
        result, status = None, "failed"
        error = {"type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc(limit=20)}
    doc = record(name, config, result, seed=config.get("seed"), seconds=time.perf_counter() - start)
    doc.update(status=status, hash=Path(path).stem, error=error,
               function=f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', '?')}")
    write_json(path, doc)
    return doc


def _version_of(doc: dict) -> str | None:
    return (doc.get("versions") or {}).get("lmctheory")


def load_results(results_dir, *, status: str | None = "done") -> list[dict]:
    """Every record of a results directory (only those with ``status`` unless None)."""
    out = []
    for file in sorted(Path(results_dir).glob("*.json")):
        doc = _read(file)
        if doc is not None and (status is None or doc.get("status") == status):
            out.append(doc)
    return out


def run_sweep(fn, configs, results_dir, *, name: str | None = None, n_jobs: int = 1, scheduler: str | None = None,
              dask_local: int | None = None, retry_failed: bool = True, progress: bool | None = None,
              retries: int = 2, same_version: bool = True) -> SweepResult:
    """Run ``fn`` on every config not already done in ``results_dir``; see the module docstring.

    Parameters
    ----------
    fn : callable ``config -> dict`` (importable by worker processes)
    configs : iterable of JSON-able dicts (duplicates are run once)
    results_dir : directory of the per-config JSON files
    name : recorded as the command of each record (default ``fn.__qualname__``)
    n_jobs : local worker processes (joblib; -1 = all cores); ignored with Dask
    scheduler, dask_local : a Dask scheduler address, or the number of LocalCluster workers
    retry_failed : re-run configs recorded as failed
    progress : progress bar with ETA on stderr (default: when stderr is a terminal)
    retries : Dask retries of a task whose worker died
    same_version : re-run configs whose record was written by another lmctheory version (the cache
        is keyed by config hash and package version); False reuses them
    """
    if scheduler is not None and dask_local is not None:
        raise ValueError("give either scheduler= (an existing Dask cluster) or dask_local= (start one), not both")
    start = time.perf_counter()
    out = _prepare_dir(results_dir)
    name = name or getattr(fn, "__qualname__", "sweep")
    unique, todo, result = {}, [], SweepResult()
    for config in configs:
        unique.setdefault(config_hash(config), config)
    current = library_versions()["lmctheory"]
    for h, config in unique.items():
        doc = _read(out / f"{h}.json")
        if doc is not None and same_version and _version_of(doc) != current:
            doc = None  # stale: written by another version of the package
        if doc is not None and (doc.get("status") == "done" or (doc.get("status") == "failed" and not retry_failed)):
            result.records.append(doc)
            result.skipped += 1
        else:
            todo.append((config, str(out / f"{h}.json")))
    if progress is None:
        import sys

        progress = sys.stderr.isatty()
    bar = None
    if progress and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=name, unit="config")
    try:
        for doc in _execute(fn, todo, name, n_jobs, scheduler, dask_local, retries):
            result.records.append(doc)
            result.ran += 1
            result.failed += doc["status"] == "failed"
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    result.seconds = time.perf_counter() - start
    return result


def _execute(fn, todo, name, n_jobs, scheduler, dask_local, retries):
    if not todo:
        return
    if scheduler is not None or dask_local is not None:
        yield from _execute_dask(fn, todo, name, scheduler, dask_local, retries)
        return
    if n_jobs in (None, 1):
        for config, path in todo:
            yield _run_one(fn, config, path, name)
        return
    from joblib import Parallel, delayed

    yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(_run_one)(fn, config, path, name) for config, path in todo)


def _execute_dask(fn, todo, name, scheduler, dask_local, retries):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise ImportError("Dask sweeps need the cluster extra: pip install 'lmctheory[cluster]'") from exc
    cluster = None
    if dask_local is not None:
        cluster = LocalCluster(n_workers=int(dask_local), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = [client.submit(_run_one, fn, config, path, name, pure=False, retries=retries)
                   for config, path in todo]
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
