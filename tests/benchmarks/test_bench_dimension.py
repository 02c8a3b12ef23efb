"""ID estimators vs scikit-dimension, each call in a fresh process (imports included).

Run with ``make bench``. Same data (an 8-dim subspace of R^50), same conventions;
every pair of runs is also checked for equal values.
"""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.benchmark

WORKER = Path(__file__).with_name("_dimension_worker.py")
SIZES = [1000, 4000, 16000]
_VALUES = {}


def run_worker(library, estimator, n):
    out = subprocess.run([sys.executable, str(WORKER), library, estimator, str(n)], check=True,
                         capture_output=True, text=True).stdout.split()
    _VALUES[(library, estimator, n)] = float(out[1])
    return float(out[0])


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("estimator", ["mle", "twonn", "corr", "pca"])
@pytest.mark.parametrize("library", ["lmctheory", "skdim"])
def test_dimension_fresh_process(benchmark, library, estimator, n):
    benchmark.group = f"ID {estimator} n={n} D=50"
    benchmark.extra_info.update(solver=library, estimator=estimator, n=n, d=50)
    benchmark.pedantic(run_worker, args=(library, estimator, n), rounds=3, iterations=1)
    benchmark.extra_info["dimension"] = _VALUES[(library, estimator, n)]
    other = _VALUES.get(("skdim" if library == "lmctheory" else "lmctheory", estimator, n))
    if other is not None:
        assert _VALUES[(library, estimator, n)] == pytest.approx(other, rel=1e-10)
