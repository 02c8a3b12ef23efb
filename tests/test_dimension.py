"""Intrinsic-dimension estimators: accuracy, exact laws, agreement with scikit-dimension, bad input."""

import math
import warnings

import numpy as np
import pytest
import skdim
from sklearn.base import clone

from lmctheory.dimension import (
    MLE,
    CorrelationDimension,
    ParticipationRatio,
    PCADimension,
    TwoNN,
    UnreliableEstimateWarning,
    WassersteinDimension,
    knn_distances,
    levina_bickel,
    make_estimator,
    participation_ratio_of_matrix,
    sample_manifold,
    twonn_from_ratios,
)
from lmctheory.dimension._estimators import _may_have_equal_rows
from lmctheory.rates._laws import _uniform_in_ball
from tests.conftest import run_cli
from tests.helpers import np_save, value_line

KNN_ESTIMATORS = {
    "mle": MLE(),
    "mle-unbiased-mean": MLE(unbiased=True, aggregate="mean"),
    "twonn": TwoNN(),
    "twonn-ml": TwoNN(method="ml"),
    "corr": CorrelationDimension(),
}

# (manifold, d); the uniform cube of a 5-dim affine subspace is left out: its boundary biases
# kNN estimators ~12% low at n = 2000 (measured), a property of the data, not of the estimators
KNOWN = [
    ("ball", 2),
    ("ball", 3),
    ("ball", 5),
    ("sphere", 2),
    ("sphere", 4),
    ("gaussian", 3),
    ("gaussian", 5),
    ("affine", 3),
    ("swiss-roll", None),
    ("helix", None),
]


@pytest.fixture(scope="module")
def known_samples():
    return {(name, d): sample_manifold(name, 2000, 10, d, seed=7) for name, d in KNOWN}


@pytest.mark.parametrize("est_name", list(KNN_ESTIMATORS))
@pytest.mark.parametrize("name,d", KNOWN)
def test_knn_estimators_within_10_percent_on_known_manifolds(known_samples, est_name, name, d):
    X, truth = known_samples[(name, d)]
    est = clone(KNN_ESTIMATORS[est_name]).fit(X)
    assert abs(est.dimension_ - truth) <= 0.10 * truth, (est_name, name, truth, est.dimension_)
    assert est.n_points_ == 2000 and est.n_features_ == 10


@pytest.mark.parametrize("rule", ["FO", "ratio", "maxgap"])
@pytest.mark.parametrize("d", [1, 2, 3, 5, 6])
@pytest.mark.parametrize("family", ["affine", "gaussian"])
def test_pca_rules_are_exact_on_linear_subspaces(rule, d, family):
    X, truth = sample_manifold(family, 500, 12, d, seed=d)
    assert PCADimension(rule=rule).fit(X).dimension_ == truth


@pytest.mark.parametrize("d", [1, 3, 8])
def test_wasserstein_dimension_within_25_percent(d):
    X, _ = sample_manifold("ball", 4096, 12, d, seed=d)
    est = WassersteinDimension(reps=4, random_state=0).fit(X)
    assert abs(est.dimension_ - d) <= 0.25 * d, est.dimension_
    lo, hi = est.dimension_ci_
    assert lo <= est.dimension_ <= hi and est.rate_ < 0
    assert est.costs_.shape == (len(est.sizes_), 4)


@pytest.mark.slow
@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 6, 7, 8])
def test_wasserstein_dimension_within_25_percent_full(d):
    X, _ = sample_manifold("gaussian", 4096, 10, d, seed=100 + d)
    assert abs(WassersteinDimension(reps=5).fit(X).dimension_ - d) <= 0.25 * d


# ---------------------------------------------------------------- exact laws


def centre_distances(d, k, reps, rng, n=50):
    """Sorted distances from the centre of a unit ball to n uniform points in it, k smallest.

    (r_j)^d are uniform order statistics, so given T_k the ratios (T_j/T_k)^d are iid
    uniform: exactly the Poisson-process law of the Levina-Bickel and TwoNN derivations.
    """
    pts = _uniform_in_ball(n * reps, d, 1.0, rng).reshape(reps, n, d)
    return np.sort(np.linalg.norm(pts, axis=2), axis=1)[:, :k]


@pytest.mark.parametrize("d", [2, 5, 9])
def test_levina_bickel_normalisations_are_unbiased_on_poisson_data(d):
    rng = np.random.default_rng(d)
    k, reps = 12, 20000
    T = centre_distances(d, k, reps, rng)
    m_unbiased = levina_bickel(T, k, k, unbiased=True)[:, 0]
    assert abs(m_unbiased.mean() - d) < 4 * m_unbiased.std() / math.sqrt(reps)
    inv = 1 / levina_bickel(T, k, k, unbiased=False)[:, 0]
    assert abs(inv.mean() - 1 / d) < 4 * inv.std() / math.sqrt(reps)
    # and the biased pairing really is biased: (k-1)/S overestimates d by (k-1)/(k-2)
    biased = levina_bickel(T, k, k)[:, 0].mean()
    assert biased == pytest.approx(d * (k - 1) / (k - 2), rel=0.02)


@pytest.mark.parametrize("discard", [0.0, 0.1])
@pytest.mark.parametrize("d", [2, 6])
def test_twonn_ml_is_unbiased(d, discard):
    rng = np.random.default_rng(d)
    n_ratios, reps = 40, 3000
    T = centre_distances(d, 2, n_ratios * reps, rng, n=10)
    mu = (T[:, 1] / T[:, 0]).reshape(reps, n_ratios)
    est = np.array([twonn_from_ratios(row, discard, "ml") for row in mu])
    assert abs(est.mean() - d) < 4 * est.std() / math.sqrt(reps)


def test_participation_ratio_of_isotropic_gaussian_rows():
    rng = np.random.default_rng(0)
    n, d, reps = 30, 8, 4000
    tr, tr2 = np.empty(reps), np.empty(reps)
    for i in range(reps):
        W = rng.standard_normal((n, d))
        S = W.T @ W
        tr[i], tr2[i] = np.trace(S) ** 2, np.sum(S * S)
    ratio = tr.mean() / tr2.mean()
    # delta-method standard error of a ratio of means
    cov = np.cov(tr, tr2) / reps
    se = ratio * math.sqrt(
        cov[0, 0] / tr.mean() ** 2 + cov[1, 1] / tr2.mean() ** 2 - 2 * cov[0, 1] / (tr.mean() * tr2.mean())
    )
    assert abs(ratio - (d * n + 2) / (d + n + 1)) < 4 * se


def test_participation_ratio_estimator_and_matrix_function_agree(rng):
    X = rng.normal(size=(40, 6)) * np.array([3, 2, 1, 1, 0.5, 0.1])
    S = X.T @ X / 40
    lam = np.linalg.eigvalsh(S)
    expected = lam.sum() ** 2 / np.sum(lam**2)
    assert participation_ratio_of_matrix(S) == pytest.approx(expected, rel=1e-12)
    assert ParticipationRatio().fit(X).dimension_ == pytest.approx(expected, rel=1e-12)
    C = np.cov(X.T)
    lc = np.linalg.eigvalsh(C)
    assert ParticipationRatio(center=True).fit(X).dimension_ == pytest.approx(lc.sum() ** 2 / np.sum(lc**2))
    assert participation_ratio_of_matrix(np.eye(5)) == pytest.approx(5.0)
    assert participation_ratio_of_matrix(np.diag([1.0, 0, 0])) == pytest.approx(1.0)


# ---------------------------------------------------- scikit-dimension agreement


@pytest.fixture(scope="module")
def fixed_data():
    rng = np.random.default_rng(2024)
    base = rng.normal(size=(800, 5)) @ rng.normal(size=(5, 12))
    return base + 0.01 * rng.normal(size=base.shape)  # full rank, no duplicates, 800 points


@pytest.mark.parametrize("k", [10, 20])
@pytest.mark.parametrize("unbiased", [False, True])
@pytest.mark.parametrize("aggregate,comb", [("harmonic", "mle"), ("mean", "mean")])
def test_mle_agrees_with_skdim(fixed_data, k, unbiased, aggregate, comb):
    ref = skdim.id.MLE(unbiased=unbiased).fit(fixed_data, n_neighbors=k, comb=comb)
    ours = MLE(k1=k, k2=k, unbiased=unbiased, aggregate=aggregate).fit(fixed_data)
    assert ours.dimension_ == pytest.approx(ref.dimension_, rel=1e-10)
    np.testing.assert_allclose(ours.dimension_pw_, ref.dimension_pw_, rtol=1e-10)


@pytest.mark.parametrize("method,ref_method", [("linear", "linear"), ("ml", "mle")])
@pytest.mark.parametrize("discard", [0.1, 0.3])
def test_twonn_agrees_with_skdim(fixed_data, method, ref_method, discard):
    ref = skdim.id.TwoNN(discard_fraction=discard, method=ref_method).fit(fixed_data).dimension_
    assert TwoNN(discard, method).fit(fixed_data).dimension_ == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize("k1,k2", [(10, 20), (5, 15)])
def test_correlation_dimension_agrees_with_skdim(fixed_data, k1, k2):
    ref = skdim.id.CorrInt(k1=k1, k2=k2).fit(fixed_data).dimension_
    assert CorrelationDimension(k1, k2).fit(fixed_data).dimension_ == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize(
    "rule,ver,kwargs",
    [
        ("FO", "FO", {"alphaFO": 0.05}),
        ("FO", "FO", {"alphaFO": 0.2}),
        ("ratio", "ratio", {"alphaRatio": 0.95}),
        ("ratio", "ratio", {"alphaRatio": 0.5}),
        ("maxgap", "maxgap", {}),
    ],
)
def test_pca_agrees_with_skdim_lpca(fixed_data, rule, ver, kwargs):
    alpha = kwargs.get("alphaFO", kwargs.get("alphaRatio"))
    ref = skdim.id.lPCA(ver=ver, **kwargs).fit(fixed_data).dimension_
    assert PCADimension(rule=rule, alpha=alpha).fit(fixed_data).dimension_ == ref


# ---------------------------------------------------------------- behaviour


def test_mle_averages_over_k_and_is_consistent_with_levina_bickel(fixed_data):
    est = MLE(k1=5, k2=9).fit(fixed_data)
    m = levina_bickel(knn_distances(fixed_data, 9), 5, 9)
    per_k = 1 / np.mean(1 / m, axis=0)
    assert est.dimension_ == pytest.approx(per_k.mean(), rel=1e-12)
    np.testing.assert_allclose(est.dimension_k_, per_k)
    assert est.dimension_pw_.shape == (800,)


def test_pointwise_estimates_separate_a_line_from_a_blob():
    rng = np.random.default_rng(1)
    line = np.zeros((400, 3))
    line[:, 0] = rng.uniform(-1, 1, 400)
    blob = rng.normal(size=(400, 3)) * 0.3 + np.array([5.0, 5, 5])
    X = np.vstack([line, blob])
    for est in (TwoNN(discard_fraction=0.0, method="ml"), MLE()):
        pw = est.fit_pw(X, n_neighbors=60).dimension_pw_
        assert np.median(pw[:400]) < 1.5 < 2.4 < np.median(pw[400:])


def test_duplicates_are_removed_with_a_warning_instead_of_nan(rng):
    X = rng.normal(size=(300, 4))
    X = np.vstack([X, X[:50]])
    with pytest.warns(UserWarning, match="50 duplicate"):
        est = TwoNN().fit(X)
    assert np.isfinite(est.dimension_) and est.n_points_ == 300


@pytest.mark.parametrize(
    "pair",
    [
        ([0.0, 1.5, -2.0], [-0.0, 1.5, -2.0]),  # equal rows whose zeros differ in sign
        ([2.0**-1074, 0.0, 0.0], [2.0**-1074, 0.0, 0.0]),  # subnormal
        ([3e-310, -1e-311, 0.0], [3e-310, -1e-311, 0.0]),  # every coordinate subnormal or zero
    ],
)
def test_the_duplicate_screen_never_misses_equal_rows(rng, pair):
    """The O(n D) key screen may only say "maybe"; equal rows always reach the exact np.unique."""
    X = np.vstack([rng.normal(size=(40, 3)), pair])
    assert _may_have_equal_rows(X)
    assert not _may_have_equal_rows(rng.normal(size=(2000, 3)))
    assert np.unique(X, axis=0).shape[0] == 41


def test_the_duplicate_screen_flags_rows_whose_keys_overflow(rng):
    """Rows of +-1.7e308 (unscaled keys would overflow, and inf - inf is nan, never equal to itself)."""
    rows = 1.7e308 * rng.choice([-1.0, 1.0], size=(50, 16))
    for i in range(len(rows)):
        assert _may_have_equal_rows(np.vstack([rows, rows[i : i + 1]])), i


def test_reliability_warnings():
    X, _ = sample_manifold("gaussian", 500, 40, 30, seed=0)
    with pytest.warns(UnreliableEstimateWarning, match="near or above the reliability threshold"):
        est = MLE().fit(X)
    assert est.reliability_threshold_ == pytest.approx(math.log2(500))
    with pytest.warns(UnreliableEstimateWarning):
        PCADimension().fit(np.random.default_rng(0).normal(size=(6, 20)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnreliableEstimateWarning)
        MLE().fit(sample_manifold("ball", 1000, 5, 2, seed=0)[0])  # far below the threshold: silent


def test_reliability_thresholds_are_not_ceilings():
    """Past log2 n (kNN) and 2 log10 n (correlation) estimates keep rising, biased low: at n = 1000 the
    correlation dimension of a 50-dim Gaussian exceeds its threshold 6 several times over."""
    X, _ = sample_manifold("gaussian", 1000, 60, 50, seed=0)
    with pytest.warns(UnreliableEstimateWarning):
        corr = CorrelationDimension().fit(X)
    assert corr.dimension_ > 2 * corr.reliability_threshold_
    with pytest.warns(UnreliableEstimateWarning):
        mle = MLE().fit(X)
    assert mle.reliability_threshold_ < mle.dimension_ < 50


def test_sklearn_api(fixed_data):
    est = MLE(k1=5, k2=8)
    assert est.get_params() == {"k1": 5, "k2": 8, "unbiased": False, "aggregate": "harmonic"}
    assert est.set_params(k2=9) is est and est.k2 == 9
    assert est.fit(fixed_data) is est and "MLE" in repr(est)
    summary = est.summary()
    assert summary["n_points"] == 800 and summary["params"]["k2"] == 9
    assert make_estimator("twonn", method="ml").method == "ml"
    with pytest.raises(ValueError, match="unknown estimator"):
        make_estimator("danco")


@pytest.mark.parametrize(
    "est,X,exc,match",
    [
        (MLE(), np.random.default_rng(0).normal(size=(15, 3)), ValueError, "more than 20 distinct points"),
        (MLE(k1=1), np.random.default_rng(0).normal(size=(50, 3)), ValueError, "'k1' parameter of MLE"),
        (
            MLE(k1=2, unbiased=True),
            np.random.default_rng(0).normal(size=(50, 3)),
            ValueError,
            "k1 must be an integer >= 3",
        ),
        (
            MLE(k1=10, k2=5),
            np.random.default_rng(0).normal(size=(50, 3)),
            ValueError,
            "k2 must be an integer >= 10",
        ),
        (MLE(aggregate="median"), np.random.default_rng(0).normal(size=(50, 3)), ValueError, "aggregate"),
        (TwoNN(), np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 1.0]]), ValueError, "X contains 1 non-finite"),
        (
            TwoNN(method="mle"),
            np.random.default_rng(0).normal(size=(50, 3)),
            ValueError,
            "'method' parameter",
        ),
        (
            TwoNN(discard_fraction=1.0),
            np.random.default_rng(0).normal(size=(50, 3)),
            ValueError,
            "discard_fraction",
        ),
        (TwoNN(), np.ones((10, 3)), ValueError, "at least 2 distinct points"),
        (ParticipationRatio(), np.zeros((10, 3)), ValueError, "constant"),
        (PCADimension(), np.ones((10, 3)), ValueError, "constant"),
        (
            PCADimension(rule="kaiser"),
            np.random.default_rng(0).normal(size=(10, 3)),
            ValueError,
            "'rule' parameter",
        ),
        (
            PCADimension(alpha=1.5),
            np.random.default_rng(0).normal(size=(10, 3)),
            ValueError,
            "'alpha' parameter",
        ),
        (
            CorrelationDimension(k1=10, k2=10),
            np.random.default_rng(0).normal(size=(50, 3)),
            ValueError,
            "k2 must be",
        ),
        (
            WassersteinDimension(),
            np.random.default_rng(0).normal(size=(100, 3)),
            ValueError,
            "at least 3 sizes",
        ),
        (
            WassersteinDimension(p=0),
            np.random.default_rng(0).normal(size=(300, 3)),
            ValueError,
            "'p' parameter",
        ),
        (MLE(), np.zeros((1, 3)), ValueError, "1 sample"),
        (MLE(), np.zeros((0, 3)), ValueError, "0 sample"),
    ],
)
def test_bad_input(est, X, exc, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(exc, match=match):
            est.fit(X)


def test_function_bad_input():
    with pytest.raises(ValueError, match="symmetric"):
        participation_ratio_of_matrix(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="positive semi-definite"):
        participation_ratio_of_matrix(np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match="zero matrix"):
        participation_ratio_of_matrix(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="square"):
        participation_ratio_of_matrix(np.ones((2, 3)))
    with pytest.raises(ValueError, match="ratios"):
        twonn_from_ratios([0.5, 2.0])
    with pytest.raises(ValueError, match="shape"):
        levina_bickel(np.ones((5, 3)), 2, 5)


# ------------------------------------------------ cases of the adversarial review of acd35e6


def test_participation_ratio_is_finite_at_scale_1e77(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 12: ParticipationRatio NaN at scale >= 1e77."""
    monkeypatch.chdir(tmp_path)
    from lmctheory.dimension import ParticipationRatio

    X = np.random.default_rng(0).random((200, 5))
    assert ParticipationRatio().fit(X * 1e77).dimension_ == pytest.approx(
        ParticipationRatio().fit(X).dimension_
    )


def test_pca_dimension_is_scale_free_up_to_1e154(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 13: PCA 0 at scale >= 1e154."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    from lmctheory.dimension import PCADimension as PCA

    X = np.random.default_rng(0).random((200, 5))
    assert PCA().fit(X * 1e154).dimension_ == 5.0
    code, out, _ = run_cli("dimension", np_save(tmp / "big.npy", X * 1e200), "--estimator", "pca")
    assert code == 0 and " 5 " in out


def test_estimators_take_clouds_of_scale_1e300(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 45: ID estimators refused clouds of scale 1e300."""
    monkeypatch.chdir(tmp_path)
    from lmctheory.dimension import MLE, CorrelationDimension, TwoNN

    X = np.random.default_rng(0).random((300, 4))
    for est in (MLE, TwoNN, CorrelationDimension):
        assert est().fit(X * 1e300).dimension_ == pytest.approx(est().fit(X).dimension_, rel=1e-9)


def test_estimators_take_clouds_of_scale_1e_minus_300(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 46: ID estimators refused clouds of scale 1e-300."""
    monkeypatch.chdir(tmp_path)
    from lmctheory.dimension import MLE, TwoNN

    X = np.random.default_rng(0).random((300, 4))
    assert MLE().fit(X * 1e-300).dimension_ == pytest.approx(MLE().fit(X).dimension_, rel=1e-9)
    assert TwoNN().fit(X * 1e-310).dimension_ == pytest.approx(TwoNN().fit(X).dimension_, rel=1e-3)


def test_finite_2d_input_near_1e308_is_taken(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 47: Finite 2-D input near 1e308 refused."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    x = np_save(tmp / "x.npy", [[1e308, 0], [0, 0]])
    y = np_save(tmp / "y.npy", [[1e308, 1], [0, 1]])
    assert value_line(run_cli("wasserstein", x, y), "W_2") == 1.0
