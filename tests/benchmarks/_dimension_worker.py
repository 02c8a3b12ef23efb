"""Run one ID estimator in a fresh process: prints 'seconds dimension' (import time included).

Usage: python _dimension_worker.py {lmctheory|skdim} {mle|twonn|corr|pca} N
Data: N points on a random 8-dim linear subspace of R^50 (seed 0).
"""

import sys
import time
import warnings

start = time.perf_counter()
warnings.simplefilter("ignore")
library, estimator, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

import numpy as np  # noqa: E402

rng = np.random.default_rng(0)
X = rng.normal(size=(n, 8)) @ rng.normal(size=(8, 50))
data_seconds = time.perf_counter() - start
if library == "skdim":
    import skdim

    fit = {
        "mle": lambda: skdim.id.MLE().fit(X, n_neighbors=20, comb="mle"),
        "twonn": lambda: skdim.id.TwoNN().fit(X),
        "corr": lambda: skdim.id.CorrInt().fit(X),
        "pca": lambda: skdim.id.lPCA().fit(X),
    }[estimator]
else:
    from lmctheory.dimension import MLE, CorrelationDimension, PCADimension, TwoNN

    fit = {
        "mle": lambda: MLE(k1=20, k2=20).fit(X),
        "twonn": lambda: TwoNN().fit(X),
        "corr": lambda: CorrelationDimension().fit(X),
        "pca": lambda: PCADimension().fit(X),
    }[estimator]
dimension = fit().dimension_
print(time.perf_counter() - start - data_seconds, float(dimension))
