"""scikit-learn's estimator checks over the public estimators, as imbalanced-learn runs them.

Every estimator listed here passes every check that applies to it; an expected failure is listed
with the reason the check cannot apply.
"""

import logging

import numpy as np
import pytest
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

import fairlatent
from fairlatent.encoding.encoder import TabularEncoder
from fairlatent.strategies.postprocessors import GoalPostProcessor, ThresholdPostProcessor

ESTIMATORS = [ThresholdPostProcessor(), GoalPostProcessor()]


def expected_failures(estimator):
    """Checks that cannot apply to an estimator, with the reason (none so far)."""
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
