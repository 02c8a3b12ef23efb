"""Sweep engine: hashing, skipping, failures, kill/resume, joblib and Dask backends."""

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cloudpickle
import pytest

from lmctheory.exceptions import CacheMissError
from lmctheory.runs import canonical_config, config_hash, function_id, load_results, record_key, run_sweep
from tests.helpers import depth_smoke

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

    marker = Path(config["marker"])
    if config["x"] == config["victim"] and not marker.exists():
        marker.write_text(str(os.getpid()))
        os._exit(1)  # the worker dies mid-task: no exception, no result
    time.sleep(0.05)
    return {"y": config["x"] ** 2, "pid": os.getpid()}


def cube(config):
    return {"y": config["x"] ** 3}


def not_json(config):
    return {"y": {config["x"]}} if config["x"] == 1 else {"y": config["x"]}


def configs(n=8):
    return [{"x": i, "seed": 0} for i in range(n)]


def path_of(fn, config, directory):
    return Path(directory) / f"{record_key(function_id(fn), config)}.json"


def test_hash_is_canonical():
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2}) and len(config_hash({"a": 1})) == 16
    assert config_hash({"a": 1}) != config_hash({"a": 1.0})  # JSON keeps 1 and 1.0 apart


@pytest.mark.parametrize(
    "config,error,words",
    [
        ({1: "a"}, TypeError, ["key 1", "strings"]),  # would collide with {"1": "a"} once written as JSON
        ({"x": float("nan")}, ValueError, ["config['x']", "finite"]),  # would collide with None
        ({"x": float("inf")}, ValueError, ["finite"]),
        ({"x": {"y": [1, float("-inf")]}}, ValueError, ["config['x']['y'][1]"]),
        ({"x": {1, 2}}, TypeError, ["set"]),
        ([1, 2], TypeError, ["must be a dict"]),
    ],
)
def test_configs_that_json_cannot_tell_apart_are_refused(config, error, words, tmp_path):
    with pytest.raises(error) as info:
        config_hash(config)
    assert all(w in str(info.value) for w in words)
    with pytest.raises(error):
        run_sweep(square, [config], tmp_path)
    assert not list(tmp_path.glob("*.json"))  # refused before anything ran


def test_records_of_another_function_are_never_used(tmp_path):
    run_sweep(square, [{"x": 3 + 1, "seed": 0}], tmp_path, progress=False)
    res = run_sweep(cube, [{"x": 4, "seed": 0}], tmp_path, progress=False)
    assert res.ran == 1 and res.skipped == 0 and res.records[0]["result"] == {"y": 64}
    assert res.records[0]["function"] == "tests.test_sweep:cube"
    assert run_sweep(square, [{"x": 4, "seed": 0}], tmp_path, progress=False).skipped == 1  # both kept


def test_a_record_copied_over_another_configs_file_is_recomputed(tmp_path):
    run_sweep(square, configs(2), tmp_path, progress=False)
    a, b = (path_of(square, c, tmp_path) for c in configs(2))
    b.write_text(a.read_text())  # x=0's record under x=1's name
    res = run_sweep(square, configs(2), tmp_path, progress=False)
    assert res.ran == 1 and res.recomputed == {"another record's file (key differs from the file name)": 1}
    assert json.loads(b.read_text())["result"] == {"y": 1}
    doc = json.loads(b.read_text())
    doc["config"]["x"] = 5  # hash field kept, config edited: the stored config must hash to the key
    b.write_text(json.dumps(doc))
    assert run_sweep(square, configs(2), tmp_path, progress=False).recomputed == {
        "another config's record": 1
    }


@pytest.mark.parametrize(
    "content",
    [
        "[]",
        '"done"',
        '{"status": "done", "versions": "0.1.0"}',
        '{"status": "done", "result": null, "config": {}}',
        "\x00\xff garbage",
        "",
    ],
)
def test_records_of_the_wrong_shape_are_recomputed(tmp_path, content):
    run_sweep(square, configs(2), tmp_path, progress=False)
    path_of(square, configs(2)[1], tmp_path).write_bytes(content.encode("latin-1"))
    res = run_sweep(square, configs(2), tmp_path, progress=False)
    assert res.ran == 1 and res.skipped == 1
    assert sorted(r["result"]["y"] for r in res.done) == [0, 1]


def test_records_of_other_code_are_stale(tmp_path):
    run_sweep(slow_square, configs(3), tmp_path, progress=False)
    path = path_of(slow_square, configs(3)[1], tmp_path)
    doc = json.loads(path.read_text())
    assert doc["code"]["hash"] and "tests.test_sweep" in doc["code"]["modules"]
    assert doc["function"] == "tests.test_sweep:slow_square" and doc["hash"] == path.stem
    assert doc["git"] is None or len(doc["git"]["commit"]) == 40
    assert {
        "torch",
        "numpy",
        "scipy",
        "pot",
        "mnist1d",
        "lapjv",
        "joblib",
        "threadpoolctl",
        "scikit-learn",
    } <= set(doc["versions"])
    doc["code"]["hash"] = "0" * 16  # as if written by an older version of the code
    path.write_text(json.dumps(doc))
    with pytest.raises(CacheMissError, match="1 stale: written by other code") as info:
        run_sweep(slow_square, configs(3), tmp_path, progress=False, cached_only=True)
    assert info.value.stale == [configs(3)[1]] and not info.value.missing
    assert json.loads(path.read_text())["code"]["hash"] == "0" * 16  # cached_only computes nothing
    res = run_sweep(slow_square, configs(3), tmp_path, progress=False)
    assert res.ran == 1 and res.skipped == 2 and res.recomputed == {"stale: written by other code": 1}
    assert json.loads(path.read_text())["code"]["hash"] != "0" * 16


def test_code_identity_changes_with_the_source_of_an_imported_module(tmp_path, monkeypatch):
    import importlib

    from lmctheory.runs import code_identity
    from lmctheory.runs._provenance import _closure

    (tmp_path / "probe_mod.py").write_text("from lmctheory.bounds import Tower\n\ndef f(c):\n    return {}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("probe_mod")
    before = code_identity(mod.f)
    assert "lmctheory.bounds._towers" in before["modules"] and "probe_mod" in before["modules"]
    (tmp_path / "probe_mod.py").write_text(
        '"""A docstring."""\nfrom lmctheory.bounds import Tower  # a comment\n\n\ndef f(c):\n    """Doc."""\n'
        "    return {}\n"
    )
    _closure.cache_clear()
    assert code_identity(mod.f)["hash"] == before["hash"]  # docstrings, comments, blank lines: not code
    (tmp_path / "probe_mod.py").write_text(
        "from lmctheory.bounds import Tower\n\ndef f(c):\n    return {'a': 1}\n"
    )
    _closure.cache_clear()
    assert code_identity(mod.f)["hash"] != before["hash"]


def test_cached_only_reports_missing_records_and_computes_nothing(tmp_path):
    run_sweep(square, configs(2), tmp_path, progress=False)
    with pytest.raises(CacheMissError, match="2 of 4") as info:
        run_sweep(square, configs(4), tmp_path, progress=False, cached_only=True)
    assert len(info.value.missing) == 2
    assert len(list(tmp_path.glob("*.json"))) == 2


def test_fallback_directories_are_read_only_caches(tmp_path):
    cache, work = tmp_path / "cache", tmp_path / "work"
    run_sweep(square, configs(3), cache, progress=False)
    before = {p.name: p.read_bytes() for p in cache.iterdir()}
    res = run_sweep(square, configs(4), work, progress=False, fallback_dirs=[cache], retry_failed=False)
    assert res.ran == 1 and res.skipped == 3  # the failed x=3 record is not reused from a cache: recomputed
    assert {p.name: p.read_bytes() for p in cache.iterdir()} == before  # nothing written into the cache
    assert len(list(work.glob("*.json"))) == 4


def test_a_result_json_cannot_hold_fails_that_config_only(tmp_path):
    res = run_sweep(not_json, configs(3), tmp_path, progress=False)
    assert res.ran == 3 and res.failed == 1
    failed = next(r for r in res.records if r["status"] == "failed")
    assert failed["config"]["x"] == 1 and "not JSON" in failed["error"]["message"]
    res2 = run_sweep(not_json, configs(6), tmp_path / "b", n_jobs=2, progress=False)
    assert res2.ran == 6 and res2.failed == 1


def test_lambdas_and_local_functions_are_refused(tmp_path):
    with pytest.raises(TypeError, match="module-level function"):
        run_sweep(lambda c: {}, configs(1), tmp_path)

    def local(c):
        return {}

    with pytest.raises(TypeError, match="module-level function"):
        run_sweep(local, configs(1), tmp_path)


def test_runs_records_skips_and_records_failures(tmp_path):
    res = run_sweep(square, configs(), tmp_path, progress=False)
    assert res.ran == 8 and res.skipped == 0 and res.failed == 1
    files = sorted(tmp_path.glob("*.json"))
    assert len(files) == 8
    failed = [r for r in res.records if r["status"] == "failed"]
    assert failed[0]["config"]["x"] == 3 and "three is not allowed" in failed[0]["error"]["message"]
    done = {r["config"]["x"]: r["result"]["y"] for r in res.done}
    assert done == {i: i * i for i in range(8) if i != 3}
    rec = json.loads(path_of(square, {"x": 2, "seed": 0}, tmp_path).read_text())
    assert rec["seed"] == 0 and rec["versions"]["lmctheory"] and rec["seconds"] >= 0 and rec["threads"] == 1
    again = run_sweep(square, configs(), tmp_path, progress=False, retry_failed=False)
    assert again.ran == 0 and again.skipped == 8
    retried = run_sweep(square, configs(), tmp_path, progress=False)
    assert retried.ran == 1 and retried.skipped == 7  # only the failed config is retried
    assert len(load_results(tmp_path)) == 7 and len(load_results(tmp_path, status=None)) == 8


def test_joblib_and_serial_agree(tmp_path):
    a = run_sweep(square, configs(), tmp_path / "a", progress=False)
    b = run_sweep(square, configs(), tmp_path / "b", n_jobs=2, progress=False)
    key = lambda r: r["config"]["x"]  # noqa: E731
    assert [r["result"] for r in sorted(a.records, key=key)] == [
        r["result"] for r in sorted(b.records, key=key)
    ]


def test_killed_sweep_resumes_to_the_same_results(tmp_path):
    script = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); from tests.test_sweep import slow_square, configs; "
        f"from lmctheory.runs._sweep import run_sweep; run_sweep(slow_square, configs(30), {str(tmp_path / 'r')!r}, "
        "progress=False)"
    )
    for cycle in range(3):  # kill it three times, each once it has written something new
        done = len(list((tmp_path / "r").glob("*.json")))
        proc = subprocess.Popen([sys.executable, "-c", script])
        deadline = time.monotonic() + 120  # the start (imports, git) takes what the machine's load allows
        while len(list((tmp_path / "r").glob("*.json"))) <= done and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.05 * cycle)  # at different points of a configuration
        proc.kill()
        proc.wait()
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


@pytest.mark.slow  # about a minute: run by make test-slow
def test_sweep_killed_at_random_points_many_times(tmp_path):
    """SIGKILL a sweep of fast configs at random moments (seeded) until it has finished by resuming."""
    import random

    rng = random.Random(1234)
    script = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); from tests.test_sweep import quick_square, configs; "
        f"from lmctheory.runs._sweep import run_sweep; run_sweep(quick_square, configs({RANDOM_KILL_CONFIGS}), "
        f"{str(tmp_path / 'r')!r}, "
        "progress=False)"
    )
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

    import lmctheory.runs._provenance as provenance

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
    with pytest.raises(OSError, match="not writable"):
        run_sweep(square, configs(), blocker / "sub")
    assert not list(blocker.parent.glob("*.json"))  # nothing ran
    with pytest.raises(ValueError, match="not both"):
        run_sweep(square, configs(), tmp_path, scheduler="tcp://127.0.0.1:1", dask_local=1)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="dask_local"):
            run_sweep(square, configs(), tmp_path, dask_local=bad)


def test_prune_deletes_only_this_functions_records_of_dropped_configs(tmp_path):
    run_sweep(quick_square, configs(6), tmp_path)
    run_sweep(cube, configs(2), tmp_path)
    (tmp_path / "notes.json").write_text('{"not": "a record"}')
    res = run_sweep(quick_square, configs(4), tmp_path, prune=True)
    assert res.skipped == 4 and res.ran == 0
    kept = {p.name for p in tmp_path.glob("*.json")}
    assert {path_of(quick_square, c, tmp_path).name for c in configs(4)} <= kept
    assert not any(path_of(quick_square, c, tmp_path).name in kept for c in configs(6)[4:])
    assert {path_of(cube, c, tmp_path).name for c in configs(2)} <= kept and "notes.json" in kept


def test_the_time_left_is_within_30_percent_once_a_quarter_is_done():
    """The progress line's estimate, on a simulated run: 181 configurations spread like the quick preset's (a
    few of 15-35 s, most under 6 s), their recorded costs off by up to +-30 % (another machine, another load),
    started longest first on 2 workers. Once a quarter of them are done, every estimate is within 30 % of the
    time actually left."""
    import heapq
    import random

    from lmctheory.runs._sweep import _Progress

    rng = random.Random(0)
    costs = sorted([rng.uniform(15, 35) for _ in range(12)] + [rng.uniform(0.2, 6) for _ in range(169)])[::-1]
    actual = [c * rng.uniform(0.7, 1.3) * 1.6 for c in costs]  # the run is also slower than the records
    now = [0.0]
    meter = _Progress("test", costs, enabled=False, clock=lambda: now[0], workers=2)
    free = [(0.0, w) for w in range(2)]
    finishes = []
    for position, duration in enumerate(actual):  # in order onto the first free worker
        start, w = heapq.heappop(free)
        finishes.append((start + duration, position))
        heapq.heappush(free, (start + duration, w))
    finishes.sort()
    end = finishes[-1][0]
    worst = 0.0
    for k, (t, position) in enumerate(finishes, start=1):
        now[0] = t
        meter.update(position)
        if len(costs) / 4 <= k < len(costs) and end - t > 1.0:
            worst = max(worst, abs(meter.remaining() - (end - t)) / (end - t))
    assert worst <= 0.30, worst


def _git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A git checkout standing in for lmctheory's own: code.py and committed records in records/."""
    import shutil

    from lmctheory.runs import _provenance as provenance

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    (root / "records").mkdir(parents=True)
    (root / "code.py").write_text("x = 1\n")
    (root / "records" / "old.json").write_text("{}\n")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    monkeypatch.setattr(provenance, "checkout_root", lambda: root)
    provenance.git_revision.cache_clear()
    yield root
    provenance.git_revision.cache_clear()


def test_committed_records_are_written_from_committed_code_only(checkout):
    from lmctheory.exceptions import DirtyCheckoutError
    from lmctheory.runs import _provenance as provenance

    (checkout / "code.py").write_text("x = 2\n")
    with pytest.raises(DirtyCheckoutError, match="records.*uncommitted changes"):
        run_sweep(canonical_config, [{"a": 1}], checkout / "records", progress=False)
    assert not (
        checkout / "records" / f"{record_key('lmctheory.runs:canonical_config', {'a': 1})}.json"
    ).exists()
    # elsewhere (a directory git does not track) the sweep runs, and its records say the code was modified
    other = run_sweep(canonical_config, [{"a": 1}], checkout / "scratch", progress=False)
    assert other.records[0]["git"]["dirty"] is True

    _git(checkout, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "code")
    provenance.git_revision.cache_clear()
    done = run_sweep(canonical_config, [{"a": 1}, {"a": 2}], checkout / "records", progress=False)
    # the records written change the tracked directory, but they are not code: the checkout is clean
    assert done.ran == 2 and all(doc["git"]["dirty"] is False for doc in done.records)


def test_records_an_earlier_step_rewrote_under_the_same_results_root_are_not_code(checkout):
    """``make cache`` computes every experiment, then each figure reads its experiment's sweep again: the
    records rewritten under ``paper/lmctheory_paper/figures/cache/<other>`` by the first step are records, not code."""
    from lmctheory.exceptions import DirtyCheckoutError
    from lmctheory.runs import _provenance as provenance
    from lmctheory.runs import _sweep

    for sub in ("one", "two"):
        run_sweep(canonical_config, [{"a": 1}], checkout / "cache" / sub, progress=False)
    _git(checkout, "add", ".")
    _git(checkout, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "records")
    provenance.git_revision.cache_clear()  # both git queries are asked once per process
    _sweep._tracks_only_records.cache_clear()
    (next((checkout / "cache" / "one").glob("*.json"))).write_text('{"rewritten": true}\n')
    done = run_sweep(canonical_config, [{"a": 1}, {"a": 3}], checkout / "cache" / "two", progress=False)
    assert done.ran == 1 and all(doc["git"]["dirty"] is False for doc in done.records)
    (checkout / "code.py").write_text("x = 3\n")  # a code change still counts
    provenance.git_revision.cache_clear()
    with pytest.raises(DirtyCheckoutError):
        run_sweep(canonical_config, [{"a": 4}], checkout / "cache" / "two", progress=False)


def test_progress_lines_keep_coming_while_a_long_configuration_runs():

    from lmctheory.runs._sweep import _Progress

    meter = _Progress("demo", [5.0, 1.0], enabled=True, every=0.2, workers=1)
    meter.stream = io.StringIO()
    meter.lines = True
    time.sleep(0.05)
    meter.update(0)  # the first finishes; the second then runs for a second without finishing
    time.sleep(1.0)
    meter.close()
    lines = meter.stream.getvalue().splitlines()
    assert len(lines) >= 3 and all(line.startswith("[demo] 1/2 configurations") for line in lines)
    time.sleep(0.4)
    assert meter.stream.getvalue().splitlines() == lines  # closed: no more lines


# ------------------------------------------------ cases of the adversarial review of acd35e6


def test_a_record_copied_over_another_configs_file_is_not_used(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 15: A record copied over another config's file is used."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    from lmctheory.runs import run_sweep

    from .test_sweep import path_of, square

    configs = [{"x": 1, "seed": 0}, {"x": 2, "seed": 0}]
    run_sweep(square, configs, tmp, progress=False)
    path_of(square, configs[1], tmp).write_text(path_of(square, configs[0], tmp).read_text())
    res = run_sweep(square, configs, tmp, progress=False)
    assert res.ran == 1 and sorted(r["result"]["y"] for r in res.done) == [1, 4]


def test_results_do_not_depend_on_n_jobs(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 16: Results depend on --n-jobs."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    one, two = depth_smoke(tmp / "a"), depth_smoke(tmp / "b", "--n-jobs", "2")
    assert [(r["measured"], r["measured_std"]) for r in one] == [
        (r["measured"], r["measured_std"]) for r in two
    ]


def test_distinct_configs_have_distinct_hashes(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 20: Distinct configs share a hash."""
    monkeypatch.chdir(tmp_path)
    from lmctheory.runs import config_hash

    with pytest.raises(TypeError, match="strings"):
        config_hash({1: "a", "seed": 0})
    for value in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite"):
            config_hash({"x": value})


def test_one_result_that_is_not_json_fails_its_config_not_the_sweep(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 23: One non-JSON result aborts the sweep."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    from lmctheory.runs import run_sweep

    from .test_sweep import not_json

    res = run_sweep(not_json, [{"x": i} for i in range(3)], tmp, progress=False)
    assert res.ran == 3 and res.failed == 1


def test_a_record_of_valid_json_but_the_wrong_shape_is_recomputed(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 24: A record of valid JSON but the wrong shape."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    depth_smoke(tmp)
    record = next((tmp / "depth-smoke").glob("*.json"))
    for content in ("[]", '"done"', '{"status": "done", "versions": "0.1.0"}'):
        record.write_text(content)
        assert depth_smoke(tmp)


def test_a_record_that_is_not_utf8_does_not_block_resuming(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 43: A non-UTF-8 record blocked resuming."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    depth_smoke(tmp)
    next((tmp / "depth-smoke").glob("*.json")).write_bytes(b"\x00\xff garbage")
    assert depth_smoke(tmp)


def test_a_record_done_with_a_null_result_is_recomputed(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 44: Status done but result null."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    depth_smoke(tmp)
    next((tmp / "depth-smoke").glob("*.json")).write_text(
        '{"status":"done","versions":{"lmctheory":"0.1.0"},"result":null,"config":{}}'
    )
    assert depth_smoke(tmp)


def test_a_config_that_is_not_a_dict_is_refused(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 60: A config that is not a dict."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    from lmctheory.runs import run_sweep

    from .test_sweep import square

    with pytest.raises(TypeError, match="config must be a dict"):
        run_sweep(square, [[1, 2]], tmp)


# ------------------------------------------------ regressions found in the review of acd35e6


def test_joblib_requirement_provides_what_the_sweep_uses():
    """Review of acd35e6: fails on that commit's behaviour."""
    from importlib.metadata import requires  # the installed distribution's (tomllib needs Python 3.11)

    spec = next(d for d in requires("lmctheory") if d.startswith("joblib"))
    minimum = tuple(
        int(x) for x in spec.split(">=")[1].split(",")[0].split(";")[0].split("#")[0].strip().split(".")
    )
    assert minimum >= (1, 4)  # return_as="generator_unordered" appeared in joblib 1.4 (1.3.2 lacks it)
