"""Sweep engine: hashing, skipping, failures, kill/resume, joblib and Dask backends."""

import json
import subprocess
import sys
import time
from pathlib import Path

import cloudpickle
import pytest

from lmctheory.sweep import config_hash, load_results, run_sweep

# worker processes (loky, Dask) receive these functions by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

ROOT = Path(__file__).resolve().parents[1]


def square(config):
    if config["x"] == 3:
        raise ValueError("three is not allowed")
    return {"y": config["x"] ** 2}


def slow_square(config):
    time.sleep(0.15)
    return {"y": config["x"] ** 2}


def quick_square(config):
    time.sleep(0.02)
    return {"y": config["x"] ** 2}


def die_once(config):
    """Kill the worker process running it the first time (a marker file remembers), then succeed."""
    import os

    marker = Path(config["marker"])
    if config["x"] == config["victim"] and not marker.exists():
        marker.write_text(str(os.getpid()))
        os._exit(1)  # the worker dies mid-task: no exception, no result
    time.sleep(0.05)
    return {"y": config["x"] ** 2, "pid": os.getpid()}


def configs(n=8):
    return [{"x": i, "seed": 0} for i in range(n)]


def test_hash_is_canonical():
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2}) and len(config_hash({"a": 1})) == 16


def test_runs_records_skips_and_records_failures(tmp_path):
    res = run_sweep(square, configs(), tmp_path, progress=False)
    assert res.ran == 8 and res.skipped == 0 and res.failed == 1
    files = sorted(tmp_path.glob("*.json"))
    assert len(files) == 8
    failed = [r for r in res.records if r["status"] == "failed"]
    assert failed[0]["config"]["x"] == 3 and "three is not allowed" in failed[0]["error"]["message"]
    done = {r["config"]["x"]: r["result"]["y"] for r in res.done}
    assert done == {i: i * i for i in range(8) if i != 3}
    rec = json.loads((tmp_path / f"{config_hash({'x': 2, 'seed': 0})}.json").read_text())
    assert rec["seed"] == 0 and rec["versions"]["lmctheory"] and rec["seconds"] >= 0
    again = run_sweep(square, configs(), tmp_path, progress=False, retry_failed=False)
    assert again.ran == 0 and again.skipped == 8
    retried = run_sweep(square, configs(), tmp_path, progress=False)
    assert retried.ran == 1 and retried.skipped == 7  # only the failed config is retried
    assert len(load_results(tmp_path)) == 7 and len(load_results(tmp_path, status=None)) == 8


def test_records_of_another_package_version_are_rerun(tmp_path):
    run_sweep(slow_square, configs(3), tmp_path, progress=False)
    path = tmp_path / f"{config_hash(configs(3)[1])}.json"
    doc = json.loads(path.read_text())
    doc["versions"]["lmctheory"] = "0.0.1-old"
    path.write_text(json.dumps(doc))
    res = run_sweep(slow_square, configs(3), tmp_path, progress=False)
    assert res.ran == 1 and res.skipped == 2  # the cache is keyed by config hash and package version
    assert json.loads(path.read_text())["versions"]["lmctheory"] != "0.0.1-old"
    path.write_text(json.dumps(doc))
    assert run_sweep(slow_square, configs(3), tmp_path, progress=False, same_version=False).ran == 0


def test_joblib_and_serial_agree(tmp_path):
    a = run_sweep(square, configs(), tmp_path / "a", progress=False)
    b = run_sweep(square, configs(), tmp_path / "b", n_jobs=2, progress=False)
    key = lambda r: r["config"]["x"]  # noqa: E731
    assert [r["result"] for r in sorted(a.records, key=key)] == [r["result"] for r in sorted(b.records, key=key)]


def test_killed_sweep_resumes_to_the_same_results(tmp_path):
    script = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from tests.test_sweep import slow_square, configs; "
              f"from lmctheory.sweep import run_sweep; run_sweep(slow_square, configs(30), {str(tmp_path / 'r')!r}, "
              "progress=False)")
    cycles = 0
    for _ in range(3):  # kill it three times at different points
        proc = subprocess.Popen([sys.executable, "-c", script])
        time.sleep(1.2 + 0.3 * cycles)
        proc.kill()
        proc.wait()
        cycles += 1
        assert_no_half_written_record(tmp_path / "r")
    partial = len(load_results(tmp_path / "r"))
    assert 0 < partial < 30
    res = run_sweep(slow_square, configs(30), tmp_path / "r", progress=False)
    assert res.skipped == partial and res.ran == 30 - partial
    assert sorted(r["result"]["y"] for r in load_results(tmp_path / "r")) == sorted(i * i for i in range(30))
    assert not list((tmp_path / "r").glob(".*.tmp"))  # temp files of interrupted writes are cleaned


def assert_no_half_written_record(directory):
    """Every visible record parses and is correct (a kill may leave only hidden .tmp files)."""
    for file in directory.glob("*.json"):
        doc = json.loads(file.read_text())
        assert doc["result"]["y"] == doc["config"]["x"] ** 2


#: 20 s of work at 0.02 s per config: more than 12 kill windows of at most 1.6 s can finish on any
#: machine, so every kill lands on a running sweep whatever the speed of the interpreter's start.
RANDOM_KILL_CONFIGS = 1000


def test_sweep_killed_at_random_points_many_times(tmp_path):
    """SIGKILL a sweep of fast configs at random moments (seeded) until it has finished by resuming."""
    import random

    rng = random.Random(1234)
    script = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from tests.test_sweep import quick_square, configs; "
              f"from lmctheory.sweep import run_sweep; run_sweep(quick_square, configs({RANDOM_KILL_CONFIGS}), "
              f"{str(tmp_path / 'r')!r}, "
              "progress=False)")
    kills = 0
    for _ in range(12):
        proc = subprocess.Popen([sys.executable, "-c", script])
        time.sleep(rng.uniform(0.6, 1.6))  # the interpreter and imports take ~0.5 s
        if proc.poll() is None:
            proc.kill()
            kills += 1
        proc.wait()
        assert_no_half_written_record(tmp_path / "r")
    res = run_sweep(quick_square, configs(RANDOM_KILL_CONFIGS), tmp_path / "r", progress=False)
    records = load_results(tmp_path / "r")
    assert sorted(r["config"]["x"] for r in records) == list(range(RANDOM_KILL_CONFIGS))
    assert all(r["result"]["y"] == r["config"]["x"] ** 2 for r in records)
    assert res.ran + res.skipped == RANDOM_KILL_CONFIGS and not list((tmp_path / "r").glob(".*.tmp"))
    print(f"\nkill/resume: {kills} kills at random points survived, {res.ran} configs left for the last run")
    assert kills >= 10


def test_disk_full_while_writing_leaves_no_partial_record(tmp_path, monkeypatch):
    import errno

    import lmctheory.provenance as provenance

    run_sweep(square, configs(2), tmp_path, progress=False)
    before = {p.name: p.read_text() for p in tmp_path.glob("*.json")}
    real_fsync = provenance.os.fsync

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(provenance.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        run_sweep(square, configs(4), tmp_path, progress=False)
    monkeypatch.setattr(provenance.os, "fsync", real_fsync)
    after = {p.name: p.read_text() for p in tmp_path.glob("*.json")}
    assert after == before  # earlier records intact, nothing half-written
    assert not list(tmp_path.glob(".*.tmp"))
    res = run_sweep(square, configs(4), tmp_path, progress=False)  # space freed: resumes
    assert res.skipped == 2 and res.ran == 2


def test_dask_local_cluster(tmp_path):
    pytest.importorskip("dask.distributed")
    res = run_sweep(square, configs(), tmp_path, dask_local=2, progress=False)
    assert res.ran == 8 and res.failed == 1
    assert {r["config"]["x"]: r["result"]["y"] for r in res.done} == {i: i * i for i in range(8) if i != 3}


@pytest.mark.parametrize("victim", [0, 5])
def test_dask_worker_killed_mid_task_loses_nothing(tmp_path, victim):
    """A worker process dies while running a config: Dask reschedules it, every record arrives once."""
    pytest.importorskip("dask.distributed")
    marker = tmp_path / "killed"
    todo = [{"x": i, "victim": victim, "marker": str(marker)} for i in range(12)]
    res = run_sweep(die_once, todo, tmp_path / "r", dask_local=2, progress=False)
    assert marker.exists()  # the kill happened
    assert res.ran == 12 and res.failed == 0
    records = load_results(tmp_path / "r")
    assert sorted(r["config"]["x"] for r in records) == list(range(12))
    assert all(r["result"]["y"] == r["config"]["x"] ** 2 for r in records)
    victim_record = next(r for r in records if r["config"]["x"] == victim)
    assert victim_record["result"]["pid"] != int(marker.read_text())  # re-run by a live worker
    assert not list((tmp_path / "r").glob("*.tmp*"))


def test_bad_arguments(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    called = []
    with pytest.raises(OSError, match="not writable"):
        run_sweep(lambda c: called.append(c), configs(), blocker / "sub")
    assert not called  # nothing ran
    with pytest.raises(ValueError, match="not both"):
        run_sweep(square, configs(), tmp_path, scheduler="tcp://127.0.0.1:1", dask_local=1)
