"""The intrinsic-dimension estimators follow scikit-learn's estimator conventions.

``parametrize_with_checks`` runs scikit-learn's own estimator checks on every estimator. The
kNN and transport estimators are given small-sample settings (k1, k2 and sizes), because the checks
fit on 10-30 points while the defaults need more than k2 = 20 neighbours or 64 points; the settings
change how much data is needed, not the code that validates input or stores results.

Expected failures, each with its reason, are listed in ``EXPECTED_FAILED_CHECKS`` (one entry).
"""

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from lmctheory.dimension import (
    ESTIMATORS,
    MLE,
    CorrelationDimension,
    ParticipationRatio,
    PCADimension,
    TwoNN,
    WassersteinDimension,
)

EXPECTED_FAILED_CHECKS = {
    "check_fit1d": "a 1-D array is n points on the line: lmctheory's one convention for point clouds "
    "(wasserstein, rates and dimension alike), so fit accepts it instead of raising",
}

SMALL_SAMPLE = [
    ParticipationRatio(),
    PCADimension(),
    MLE(k1=3, k2=5),
    TwoNN(),
    CorrelationDimension(k1=3, k2=6),
    WassersteinDimension(sizes=(2, 3, 4), reps=2),
]


def test_every_estimator_is_checked():
    assert {type(e) for e in SMALL_SAMPLE} == set(ESTIMATORS.values())


@parametrize_with_checks(SMALL_SAMPLE, expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", SMALL_SAMPLE, ids=lambda e: type(e).__name__)
def test_not_fitted_error_before_fit(estimator):
    with pytest.raises(NotFittedError):
        clone(estimator).summary()


@pytest.mark.parametrize("estimator", SMALL_SAMPLE, ids=lambda e: type(e).__name__)
def test_sparse_input_is_refused_with_a_clear_message(estimator):
    X = sparse.random(40, 5, density=0.5, format="csr", random_state=0)
    with pytest.raises(TypeError, match="(?i)sparse data .* dense data is required"):
        clone(estimator).fit(X)


@pytest.mark.parametrize("estimator", SMALL_SAMPLE, ids=lambda e: type(e).__name__)
def test_n_features_in_is_set(estimator):
    X = np.random.default_rng(0).normal(size=(40, 7))
    fitted = clone(estimator).fit(X)
    assert fitted.n_features_in_ == 7 and fitted.n_features_ == 7


def test_invalid_parameter_names_the_parameter():
    with pytest.raises(ValueError, match="'k1' parameter of MLE"):
        MLE(k1=0).fit(np.random.default_rng(0).normal(size=(40, 3)))
