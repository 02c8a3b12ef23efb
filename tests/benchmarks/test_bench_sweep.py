"""Sweep throughput: 1 vs 2 workers on a Dask LocalCluster and with joblib (pytest-benchmark).

Run with ``make bench``. Each config is single-threaded pure-Python work (~0.2 s), so the
ratio measures the scheduler's scaling, not BLAS threads. Every run starts from an empty results
directory and must produce one record per config.
"""

import sys
import tempfile

import cloudpickle
import pytest

from lmctheory.runs import load_results, run_sweep

pytestmark = pytest.mark.benchmark
cloudpickle.register_pickle_by_value(sys.modules[__name__])

N_CONFIGS = 24


def busy(config):
    total = 0
    for i in range(config["work"]):
        total += (i * config["x"]) % 7
    return {"total": total}


@pytest.mark.parametrize("backend", ["dask", "joblib"])
@pytest.mark.parametrize("workers", [1, 2])
def test_sweep_throughput(benchmark, backend, workers):
    if backend == "dask":
        pytest.importorskip("dask.distributed")
    configs = [{"x": i, "work": 2_000_000} for i in range(N_CONFIGS)]
    kwargs = {"dask_local": workers} if backend == "dask" else {"n_jobs": workers}

    def run():
        with tempfile.TemporaryDirectory() as out:
            res = run_sweep(busy, configs, out, progress=False, **kwargs)
            assert res.ran == N_CONFIGS and len(load_results(out)) == N_CONFIGS
        return res.seconds

    benchmark.group = f"sweep of {N_CONFIGS} configs, {backend}"
    benchmark.extra_info.update(kind=f"sweep {backend}", solver=f"{workers} workers", configs=N_CONFIGS)
    seconds = benchmark.pedantic(run, rounds=3, iterations=1)
    benchmark.extra_info["configs_per_second"] = N_CONFIGS / seconds
