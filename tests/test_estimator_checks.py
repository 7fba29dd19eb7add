"""scikit-learn's estimator checks over every public estimator, sampler and transformer.

As imbalanced-learn and fairlearn run them: every estimator listed here passes every check that
applies to it; an expected failure names the check and the one-line reason it cannot apply. The
neural models train for one epoch of tiny networks, so the whole module stays fast.
"""

import logging

import numpy as np
import pandas as pd
import pytest
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

import fairlatent
from fairlatent.encoding.encoder import TabularEncoder
from fairlatent.models.gan import TabularGAN
from fairlatent.models.vae import TabularVAE
from fairlatent.models.vae.invariant import InvariantEncoder
from fairlatent.samplers import (
    CellBalancingResampler,
    LatentDensityResampler,
    OutlierBalancedResampler,
)
from fairlatent.strategies.postprocessors import GoalPostProcessor, ThresholdPostProcessor

# scikit-learn's check_supervised_y_no_nan casts a NaN target inside the check itself
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")

#: One epoch of tiny networks: the checks test the contract, not the fit.
TINY_VAE = {"hidden_dims": (8,), "latent_dim": 2, "batch_size": 16}
TINY_GAN = {"embedding_dim": 4, "generator_dims": (8,), "critic_dims": (8,), "pac": 1,
            "batch_size": 16}
COMMON = {"epochs": 1, "device": "cpu", "random_state": 0}

ESTIMATORS = [
    TabularEncoder(n_quantiles=10),
    TabularVAE(**TINY_VAE, **COMMON),
    TabularGAN(**TINY_GAN, **COMMON),
    InvariantEncoder(**TINY_VAE, **COMMON),
    LatentDensityResampler(scope="global", vae_params=TINY_VAE, **COMMON),
    # the checks' arrays have no group column: the first column stands in for one
    CellBalancingResampler(sensitive=["x0"], gan_params=TINY_GAN, **COMMON),
    OutlierBalancedResampler(sensitive=["x0"], gan_params=TINY_GAN, vae_params=TINY_VAE, **COMMON),
    ThresholdPostProcessor(),
    GoalPostProcessor(),
]

#: Checks that fit on three or more classes (or on labels other than 0 and 1).
BINARY_LABELS = "cell balancing synthesises rows per (group, 0/1 label) cell; y has other labels"
CELL_BALANCING_FAILURES = dict.fromkeys(
    [
        "check_fit_score_takes_y",
        "check_estimators_overwrite_params",
        "check_dont_overwrite_parameters",
        "check_estimators_fit_returns_self",
        "check_readonly_memmap_input",
        "check_n_features_in_after_fitting",
        "check_positive_only_tag_during_fit",
        "check_estimators_dtypes",
        "check_dtype_object",
        "check_f_contiguous_array_estimator",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_fit2d_1feature",
        "check_dict_unchanged",
        "check_fit2d_predict1d",
    ],
    BINARY_LABELS,
)


def expected_failures(estimator):
    """Checks that cannot apply to an estimator, each with the reason."""
    if isinstance(estimator, CellBalancingResampler):
        return CELL_BALANCING_FAILURES
    return {}


@pytest.fixture(autouse=True)
def _quiet_thin_group_notices():
    # the checks fit on 1- to 30-row data sets, where every group is thin by design
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_post_processors_are_exported_and_clone():
    for name in ("ThresholdPostProcessor", "GoalPostProcessor"):
        cls = getattr(fairlatent, name)
        est = cls(LogisticRegression(C=0.5), prefit=False, min_support=7)
        copy = clone(est)
        assert copy.get_params()["min_support"] == 7 and copy.estimator is not est.estimator


def test_threshold_post_processor_matches_fairlearn_on_supported_groups():
    rng = np.random.default_rng(0)
    n = 2000
    groups = np.where(rng.random(n) < 0.5, "a", "b")
    y = (rng.random(n) < np.where(groups == "a", 0.5, 0.3)).astype(int)
    X = np.c_[y + rng.normal(0, 1, n) + 0.4 * (groups == "a"), rng.normal(0, 1, n)]
    model = LogisticRegression().fit(X, y)
    ours = ThresholdPostProcessor(model, prefit=True, constraints="equalized_odds")
    ours.fit(X, y, sensitive_features=groups)
    theirs = ThresholdOptimizer(estimator=model, prefit=True, constraints="equalized_odds",
                                predict_method="predict_proba").fit(X, y, sensitive_features=groups)
    np.testing.assert_array_equal(
        ours.predict(X, sensitive_features=groups, random_state=4),
        theirs.predict(X, sensitive_features=groups, random_state=4),
    )
    assert ours.fallback_ is None and ours.pooling_.pooled == []


def test_post_processor_fits_its_estimator_when_not_prefit():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 2))
    y = (X[:, 0] + rng.normal(0, 0.5, 400) > 0).astype(int)
    groups = np.where(X[:, 1] > 0, "p", "q")
    post = GoalPostProcessor(dp_max=0.1, eo_max=0.2).fit(X, y, sensitive_features=groups)
    assert post.estimator is None and isinstance(post.estimator_, LogisticRegression)
    assert post.n_features_in_ == 2
    labels = np.where(y == 1, "yes", "no")  # any two labels; the larger one is favourable
    named = GoalPostProcessor(dp_max=0.1, eo_max=0.2).fit(X, labels, sensitive_features=groups)
    assert set(named.predict(X, sensitive_features=groups)) <= {"yes", "no"}
    with pytest.raises(ValueError, match="Only binary classification"):
        GoalPostProcessor().fit(X, np.arange(400) % 3, sensitive_features=groups)


def test_tabular_encoder_is_a_scikit_learn_estimator():
    enc = TabularEncoder(n_quantiles=50)
    assert clone(enc).get_params() == {"max_modes": 10, "n_quantiles": 50, "numeric": "quantile",
                                        "random_state": None}
    assert repr(enc) == "TabularEncoder(n_quantiles=50)"


@pytest.mark.parametrize(
    "sampler",
    [est for est in ESTIMATORS if isinstance(est, CellBalancingResampler)],
    ids=lambda est: type(est).__name__,
)
def test_cell_balancing_contract_on_binary_labels(sampler):
    """What the checks skipped above test, on 0/1 labels: clone, fit returns self, params kept."""
    rng = np.random.default_rng(0)
    X = np.c_[rng.integers(0, 2, 40), rng.normal(size=(40, 2))]
    y = (rng.random(40) < 0.4).astype(int)
    est = clone(sampler)
    params = est.get_params()
    assert est.fit(X, y) is est and est.n_features_in_ == 3
    assert est.get_params() == params  # fit changed no parameter
    X_res, y_res = clone(sampler).fit_resample(X, y)
    assert isinstance(X_res, np.ndarray) and X_res.dtype == X.dtype and X_res.shape[1] == 3
    assert isinstance(y_res, np.ndarray) and y_res.dtype == y.dtype and len(y_res) == len(X_res)
    again, _ = clone(sampler).fit_resample(X, y)
    np.testing.assert_array_equal(X_res, again)  # same seed, same rows


#: imbalanced-learn's sampler checks that apply to a sampler that does not balance classes.
IMBLEARN_CHECKS = [
    "check_samplers_fit_resample",
    "check_samplers_sampling_strategy_fit_resample",
    "check_samplers_pandas",
    "check_samplers_list",
    "check_samplers_preserve_dtype",
    "check_samplers_nan",
]
#: The others, and why they cannot apply (imblearn's own tags are private API, so its
#: ``parametrize_with_checks`` is not used):
#: check_target_type, check_samplers_one_label, check_samplers_fit, check_samplers_multiclass_ova,
#: check_samplers_2d_target: they test class balancing (``sampling_strategy_``) or one-hot targets;
#: check_samplers_sparse, check_samplers_string: arrays are dense and numeric (categories come in a
#: DataFrame); check_samplers_sample_indices: reads imblearn's private sampler tags;
#: check_sampler_get_feature_names_out*: the samplers return the input's columns.


@pytest.mark.parametrize("check_name", IMBLEARN_CHECKS)
def test_imblearn_sampler_checks(check_name):
    checks = pytest.importorskip("imblearn.utils.estimator_checks")
    sampler = LatentDensityResampler(scope="global", vae_params=TINY_VAE, **COMMON)
    getattr(checks, check_name)("LatentDensityResampler", sampler)


def test_sampler_output_keeps_the_input_containers():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=30), "n": rng.integers(0, 9, 30).astype("int32"),
                      "sex": pd.Categorical(rng.choice(["F", "M"], 30))})
    y = pd.Series(rng.integers(0, 2, 30).astype("int8"), name="income")
    sampler = LatentDensityResampler(sensitive=["sex"], vae_params=TINY_VAE, **COMMON)
    X_res, y_res = sampler.fit_resample(X, y)
    assert list(X_res.dtypes) == list(X.dtypes) and y_res.dtype == y.dtype
    assert y_res.name == "income" and X_res.index.equals(pd.RangeIndex(len(X_res)))
    numeric = X[["x", "n"]].to_numpy()
    X_arr, y_arr = clone(sampler).set_params(sensitive=()).set_params(scope="global").fit_resample(
        numeric, y.to_numpy()
    )
    assert isinstance(X_arr, np.ndarray) and X_arr.dtype == numeric.dtype
    assert isinstance(y_arr, np.ndarray) and y_arr.dtype == np.int8


@pytest.mark.parametrize(
    "use",
    [
        lambda rows: TabularEncoder().transform(rows),
        lambda rows: TabularVAE().encode(rows),
        lambda rows: TabularGAN().sample(2),
        lambda rows: InvariantEncoder().transform(rows),
        lambda rows: LatentDensityResampler().draw_indices(),
        lambda rows: CellBalancingResampler().resample(rows, [0, 1]),
    ],
    ids=["encoder", "vae", "gan", "invariant", "latent-density", "cell-balancing"],
)
def test_not_fitted_errors_are_scikit_learns_and_fairlatents(use):
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    from fairlatent.exceptions import FairlatentError, NotFittedError

    with pytest.raises(NotFittedError, match="not fitted") as info:
        use(np.zeros((2, 2)))
    assert isinstance(info.value, SklearnNotFittedError | FairlatentError)
    assert isinstance(info.value, SklearnNotFittedError) and isinstance(info.value, FairlatentError)


def test_the_exceptions_module_imports_no_scikit_learn():
    # the CLI's --help path imports fairlatent.exceptions; NotFittedError is built on first use
    import subprocess
    import sys

    code = ("import sys, fairlatent.exceptions as e; assert 'sklearn' not in sys.modules; "
            "e.NotFittedError; assert 'sklearn' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
