"""The CLI's choices, written out so that ``lmctheory --help`` imports no numerical library (a test checks
that they equal the library's own lists: lmctheory.rates.LAW_NAMES, lmctheory.ot.METHODS,
lmctheory.dimension.ESTIMATORS, lmctheory.nn.DATASETS)."""

LAWS = ("uniform", "gaussian", "ball", "subspace", "two-atom")
METHODS = ("auto", "assignment", "emd", "1d", "sparse")
ESTIMATORS = ("pr", "pca", "mle", "twonn", "corr", "wasserstein")
DATASETS = ("digits", "mnist1d", "teacher", "gaussian_mixture", "idx", "npz")
