"""fairlearn's methods and the goal thresholds behind the strategy slot, on a biased problem."""

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from sklearn.base import clone

from fairlatent.classifiers import make_classifier, split_feature_kinds, stratified_split
from fairlatent.data.schema import GROUP_COLUMN, prepare
from fairlatent.exceptions import ConfigError
from fairlatent.strategies import StrategyContext, get_strategy
from fairlatent.strategies.adapters import (
    CorrelationRemoverClassifier,
    GoalPostProcessor,
    ReductionClassifier,
    SampleWeightAdapter,
    ThresholdPostProcessor,
)
from fairlatent.strategies.composite import PrePostStrategy


def eo_biased_frame(n=4000, seed=21):
    """Group A's scores run high given the label, so a group-blind classifier has a TPR/FPR gap."""
    rng = np.random.default_rng(seed)
    group = np.where(rng.random(n) < 0.6, "A", "B")
    label = rng.random(n) < np.where(group == "A", 0.4, 0.2)
    return pd.DataFrame({
        "signal": label * 1.2 + 0.9 * (group == "A") + rng.normal(0, 1, n),
        "noise": rng.normal(0, 1, n),
        "job": rng.choice(["x", "y", "z"], n),
        "group": group,
        "label": np.where(label, "yes", "no"),
    })


@pytest.fixture(scope="module")
def problem():
    frame = prepare(eo_biased_frame(), target="label", sensitive=["group"]).frame
    train, test = stratified_split(frame, target="label", test_size=0.3, random_state=0)
    fit, val = stratified_split(train, target="label", test_size=0.3, random_state=0)
    features = [c for c in frame.columns if c not in ("label", GROUP_COLUMN, "group")]
    numeric, categorical = split_feature_kinds(frame, features)
    pipeline = make_classifier("logreg", numeric=numeric, categorical=categorical)
    return fit, val, test, features, pipeline


def gaps(y, pred, groups):
    return (demographic_parity_difference(y, pred, sensitive_features=groups),
            equalized_odds_difference(y, pred, sensitive_features=groups))


def baseline(problem):
    fit, _, test, features, pipeline = problem
    model = clone(pipeline).fit(fit[features], fit["label"])
    return model, gaps(test["label"], model.predict(test[features]), test[GROUP_COLUMN])


def test_post_processors_reduce_disparity_and_are_seeded(problem):
    _, val, test, features, _ = problem
    model, (dp0, eo0) = baseline(problem)
    assert dp0 > 0.15 and eo0 > 0.15
    args = (model, val[features], val["label"].to_numpy(), val[GROUP_COLUMN].to_numpy())
    for post, reduced in ((ThresholdPostProcessor(constraints="equalized_odds"), 1),
                          (ThresholdPostProcessor(constraints="demographic_parity"), 0),
                          (GoalPostProcessor(), 0), (GoalPostProcessor(), 1)):
        fitted = post.fit(*args)
        assert not hasattr(post, "estimator_")  # fit returns a fitted copy
        pred = fitted.predict(test[features], test[GROUP_COLUMN].to_numpy(), random_state=3)
        np.testing.assert_array_equal(
            pred, fitted.predict(test[features], test[GROUP_COLUMN].to_numpy(), random_state=3))
        after = gaps(test["label"], pred, test[GROUP_COLUMN])
        assert after[reduced] < (dp0, eo0)[reduced] - 0.03, (type(post).__name__, after)
    unseen = fitted.predict(test[features].head(3), np.array(["Z"] * 3), random_state=0)
    assert set(unseen.tolist()) <= {0, 1}


def test_sample_weight_adapter_routes_weights_to_the_model(problem):
    fit, _, _, features, pipeline = problem
    X, y = fit[features], fit["label"].to_numpy()
    w = np.where(np.arange(len(X)) % 2 == 0, 3.0, 0.5)
    weighted = SampleWeightAdapter(pipeline).fit(X, y, sample_weight=w)
    direct = clone(pipeline).fit(X, y, model__sample_weight=w)
    plain = SampleWeightAdapter(pipeline).fit(X, y)
    coef = weighted.pipeline_.named_steps["model"].coef_
    np.testing.assert_allclose(coef, direct.named_steps["model"].coef_)
    assert not np.allclose(coef, plain.pipeline_.named_steps["model"].coef_)
    assert weighted.predict_proba(X).shape == (len(X), 2)


def test_exponentiated_gradient_reduces_parity_gap(problem):
    fit, _, test, features, pipeline = problem
    _, (dp0, _) = baseline(problem)
    reduction = ReductionClassifier(pipeline, constraint="demographic_parity", max_iter=8)
    reduction.fit(fit[features], fit["label"].to_numpy(),
                  sensitive_features=fit[GROUP_COLUMN].to_numpy())
    pred = reduction.predict(test[features], sensitive_features=test[GROUP_COLUMN].to_numpy())
    assert gaps(test["label"], pred, test[GROUP_COLUMN])[0] < dp0 - 0.05
    with pytest.raises(ConfigError, match="constraint"):
        ReductionClassifier(pipeline, constraint="parity").fit(
            fit[features], fit["label"], sensitive_features=fit[GROUP_COLUMN])


def test_correlation_remover_decorrelates_numeric_features(problem):
    fit, _, test, features, pipeline = problem
    X, groups = fit[features].copy(), fit[GROUP_COLUMN].to_numpy()
    before = X["signal"].groupby(groups).mean()
    X.loc[X.index[:5], "noise"] = np.nan
    model = CorrelationRemoverClassifier(pipeline, alpha=1.0).fit(
        X, fit["label"].to_numpy(), sensitive_features=groups)
    projected = model._transform(X, groups)
    assert projected["noise"].isna().sum() == 5  # missing values stay missing
    after = projected["signal"].groupby(groups).mean()
    assert abs(after["A"] - after["B"]) < 1e-6 < abs(before["A"] - before["B"])
    kept = CorrelationRemoverClassifier(pipeline, alpha=0.0).fit(
        X, fit["label"].to_numpy(), sensitive_features=groups)
    np.testing.assert_allclose(kept._transform(X, groups)["signal"], X["signal"])
    assert model.predict(test[features], test[GROUP_COLUMN].to_numpy()).shape == (len(test),)


def test_strategies_hand_over_their_settings(problem):
    fit, *_ = problem
    ctx = StrategyContext(target="label", sensitive=["group"], group_column=GROUP_COLUMN)
    expgrad = get_strategy("expgrad", max_iter=3).fit(fit, ctx)
    wrapped = expgrad.transform(fit, expgrad.default()).wrap_estimator("pipeline")
    assert (wrapped.constraint, wrapped.max_iter, wrapped.pipeline) == ("equalized_odds", 3,
                                                                         "pipeline")
    corr = get_strategy("corr-remove").fit(fit, ctx)
    assert [s.label for s in corr.grid()] == ["off", "alpha=0.5", "alpha=1"]
    both = get_strategy("reweigh+threshold").fit(fit, ctx)
    out = both.transform(fit, both.default())
    assert out.sample_weight is not None and isinstance(out.postprocessor, ThresholdPostProcessor)
    with pytest.raises(ConfigError, match="post-processing"):
        PrePostStrategy(pre="threshold", post="reweigh").fit(fit, ctx)
