"""ID estimators vs scikit-dimension, each call in a fresh process (imports included) and called again
in one warm process (a notebook, a sweep), and the exact k-NN search under them vs scikit-learn's
NearestNeighbors, in one process.

Run with ``make bench``. Same data (an 8-dim subspace of R^50), same conventions;
every pair of runs is also checked for equal values.
"""

import functools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from lmctheory.dimension import nearest_neighbors

from .paired import paired_rounds, timed

pytestmark = pytest.mark.benchmark

WORKER = Path(__file__).with_name("_dimension_worker.py")
SIZES = [1000, 4000, 16000]
ROUNDS = 5
_VALUES = {}


def run_worker(library, estimator, n):
    out = subprocess.run(
        [sys.executable, str(WORKER), library, estimator, str(n)], check=True, capture_output=True, text=True
    ).stdout.split()
    _VALUES[(library, estimator, n)] = float(out[1])
    return float(out[0])


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("estimator", ["mle", "twonn", "corr", "pca"])
def test_dimension_fresh_process(benchmark, estimator, n):
    """Paired rounds (tests/benchmarks/paired.py), each running both libraries' workers, which
    report their own time."""
    benchmark.group = f"ID {estimator} n={n} D=50"
    benchmark.extra_info.update(estimator=estimator, n=n, d=50)
    seconds = paired_rounds(
        benchmark,
        {library: functools.partial(run_worker, library, estimator, n) for library in ("lmctheory", "skdim")},
        ROUNDS,
    )
    benchmark.extra_info.update(
        lmctheory_seconds=seconds["lmctheory"],
        skdim_seconds=seconds["skdim"],
        dimension=_VALUES[("lmctheory", estimator, n)],
    )
    assert _VALUES[("lmctheory", estimator, n)] == pytest.approx(_VALUES[("skdim", estimator, n)], rel=1e-10)


WARM_SIZES = [4000, 16000]
# a warm call takes 0.05-1 s: more rounds than in a fresh process, for a stable median on a shared machine
WARM_ROUNDS = 15


@pytest.mark.parametrize("n", WARM_SIZES)
@pytest.mark.parametrize("estimator", ["mle", "twonn"])
def test_dimension_warm(benchmark, estimator, n):
    """Both libraries called repeatedly in this process (imports done, a warm-up round first), paired
    rounds in alternating order, on the worker's data."""
    skdim = pytest.importorskip("skdim", reason="the peer library of this comparison")
    import warnings

    from lmctheory.dimension import MLE, TwoNN

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 8)) @ rng.normal(size=(8, 50))
    ours = {"mle": lambda: MLE(k1=20, k2=20).fit(X), "twonn": lambda: TwoNN().fit(X)}[estimator]
    theirs = {
        "mle": lambda: skdim.id.MLE().fit(X, n_neighbors=20, comb="mle"),
        "twonn": lambda: skdim.id.TwoNN().fit(X),
    }[estimator]
    benchmark.group = f"ID {estimator} n={n} D=50 (warm)"
    benchmark.extra_info.update(estimator=estimator, n=n, d=50, regime="warm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seconds = paired_rounds(
            benchmark, {"lmctheory": timed(ours), "skdim": timed(theirs)}, WARM_ROUNDS, warmup_rounds=1
        )
        value, reference = float(ours().dimension_), float(theirs().dimension_)
    benchmark.extra_info.update(
        lmctheory_seconds=seconds["lmctheory"], skdim_seconds=seconds["skdim"], dimension=value
    )
    assert value == pytest.approx(reference, rel=1e-10)


def _cloud(n, rank, D):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, rank)) @ rng.normal(size=(rank, D)) if rank < D else rng.normal(size=(n, D))


KNN_CASES = {
    "rank 8 in D=50, n=16000": (16000, 8, 50),
    "Gaussian D=50, n=16000": (16000, 50, 50),
    "Gaussian D=10, n=16000": (16000, 10, 10),
    "Gaussian D=3, n=64000 (k-d tree)": (64000, 3, 3),
}
_KNN = {}


@pytest.mark.parametrize("case", list(KNN_CASES))
@pytest.mark.parametrize("solver", ["lmctheory", "sklearn"])
def test_knn_search(benchmark, solver, case):
    """k = 20 nearest other points of every point; scikit-learn's default (auto) algorithm."""
    X = _cloud(*KNN_CASES[case])
    benchmark.group = f"kNN {case}"
    benchmark.extra_info.update(knn=case, solver=solver)
    if solver == "lmctheory":
        run = lambda: nearest_neighbors(X, 20)[0]  # noqa: E731
    else:
        run = lambda: NearestNeighbors(n_neighbors=20).fit(X).kneighbors()[0]  # noqa: E731
    _KNN[(solver, case)] = benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    other = _KNN.get(("sklearn" if solver == "lmctheory" else "lmctheory", case))
    if other is not None:
        np.testing.assert_allclose(_KNN[(solver, case)], other, rtol=1e-9)
