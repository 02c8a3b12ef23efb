"""The main job as users meet it: wall time of ``make demo``'s two steps (``lmctheory validate --quick``,
then ``lmctheory figures --quick`` on its records) in fresh processes, with 1 and 2 workers on a quiet
machine and with two competing CPU-bound processes; and the per-configuration thread count (1, the
default, vs 2) on ``validate --smoke --only fig2`` quiet and contended.

Run with ``make bench`` (about 40 minutes on 2 cores). Each run starts from an empty results directory
(nothing cached) and is one round: these are minutes-long jobs. The competing load is two Python
processes spinning on the CPU for the whole run. Each result records the main job's code
(``main_job.main_job_code``): the README's table says which code it timed, and a test fails when that is
not the current code.
"""

import contextlib
import subprocess
import sys
import tempfile
import time

import pytest

pytestmark = pytest.mark.benchmark


@contextlib.contextmanager
def competing_load(processes: int):
    """``processes`` CPU-bound busy loops in the background for the duration of the block."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        time.sleep(0.5)
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def run_cli(*argv, out=None) -> float:
    """Wall seconds of ``lmctheory argv`` in a fresh process writing into ``out`` (default: an empty directory)."""
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "lmctheory.cli", *argv, "--out", out or scratch, "--quiet"],
            capture_output=True,
            text=True,
            timeout=3600,
        )
        seconds = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    return seconds


def run_demo(workers: int) -> float:
    """Wall seconds of make demo's two steps: validate --quick into an empty directory, then the figures
    from its records (the shipped ones aside: nothing else is read)."""
    with tempfile.TemporaryDirectory() as results, tempfile.TemporaryDirectory() as figures:
        seconds = run_cli("validate", "--quick", "--n-jobs", str(workers), out=results)
        seconds += run_cli(
            "figures", "--quick", "--no-cache", "--n-jobs", str(workers), "--results", results, out=figures
        )
    return seconds


@pytest.mark.parametrize("load", [0, 2])
@pytest.mark.parametrize("workers", [1, 2])
def test_quick_main_job(benchmark, workers, load):
    from .main_job import main_job_code

    if workers == 1 and load:
        pytest.skip("the contended case is measured with the default 2 workers")
    benchmark.group = "main job: make demo (validate --quick, then figures --quick)"
    benchmark.extra_info.update(job="make demo", workers=workers, load=load, threads=1, code=main_job_code())
    with competing_load(load):
        benchmark.pedantic(lambda: run_demo(workers), rounds=1, iterations=1)


@pytest.mark.parametrize("load", [0, 2])
@pytest.mark.parametrize("threads", [1, 2])
def test_threads_per_configuration(benchmark, threads, load):
    benchmark.group = "validate --smoke --only fig2, 1 worker"
    benchmark.extra_info.update(job="validate --smoke --only fig2", workers=1, load=load, threads=threads)
    with competing_load(load):
        benchmark.pedantic(
            lambda: run_cli("validate", "--smoke", "--only", "fig2", "--threads", str(threads)),
            rounds=3,
            iterations=1,
        )
