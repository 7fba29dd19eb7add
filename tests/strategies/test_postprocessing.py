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
    ReductionClassifier,
    SampleWeightAdapter,
)
from fairlatent.strategies.composite import PrePostStrategy
from fairlatent.strategies.postprocessors import GoalPostProcessor, ThresholdPostProcessor


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
    X_val, y_val, g_val = val[features], val["label"].to_numpy(), val[GROUP_COLUMN].to_numpy()
    g_test = test[GROUP_COLUMN].to_numpy()
    for post, reduced in ((ThresholdPostProcessor(model, prefit=True), 1),
                          (ThresholdPostProcessor(model, prefit=True, constraints="demographic_parity"), 0),
                          (GoalPostProcessor(model, prefit=True), 0),
                          (GoalPostProcessor(model, prefit=True), 1)):
        fitted = post.fit(X_val, y_val, sensitive_features=g_val)
        assert fitted is post and fitted.estimator_ is model  # fit returns self, prefit kept
        pred = fitted.predict(test[features], sensitive_features=g_test, random_state=3)
        np.testing.assert_array_equal(
            pred, fitted.predict(test[features], sensitive_features=g_test, random_state=3))
        after = gaps(test["label"], pred, test[GROUP_COLUMN])
        assert after[reduced] < (dp0, eo0)[reduced] - 0.03, (type(post).__name__, after)
    unseen = fitted.predict(test[features].head(3), sensitive_features=np.array(["Z"] * 3))
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


def thin_group_problem(seed=0):
    """Two big groups and one group whose labels are all unfavourable, scored by a fitted model."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    groups = np.array(["a"] * 300 + ["b"] * 250 + ["c"] * 50)
    y = (rng.random(600) < np.where(groups == "a", 0.5, 0.3)).astype(int)
    y[groups == "c"] = 0
    X = pd.DataFrame({"x": y + rng.normal(0, 0.8, 600), "z": rng.normal(0, 1, 600)})
    return X, y, groups, LogisticRegression().fit(X, y)


@pytest.mark.parametrize(
    "post",
    [ThresholdPostProcessor(), ThresholdPostProcessor(constraints="demographic_parity"),
     GoalPostProcessor()],
    ids=["threshold-eo", "threshold-dp", "goal"],
)
def test_post_processors_survive_a_group_with_one_label(post, caplog):
    """fairlearn refused such a group ('Degenerate labels'); the goal LP collapsed everyone."""
    X, y, groups, model = thin_group_problem()
    fitted = clone(post).set_params(estimator=model, prefit=True)
    fitted.fit(X, y, sensitive_features=groups)
    pred = fitted.predict(X, sensitive_features=groups, random_state=0)
    assert fitted.pooling_.passed_through == ["c"]
    assert fitted.fallback_ is None
    assert "left 'c' to the classifier's own predictions" in caplog.text
    np.testing.assert_array_equal(pred[groups == "c"], model.predict(X[groups == "c"]))
    # no collapse: still far better than the majority label, and the big groups are selected
    assert (pred == y).mean() > max(y.mean(), 1 - y.mean()) + 0.05
    assert pred[groups == "a"].mean() > 0.2


def test_thin_groups_are_pooled_when_the_pool_has_both_labels():
    X, y, groups, model = thin_group_problem()
    groups = groups.copy()
    groups[550:560] = "d"  # ten rows, thin alone
    y = y.copy()
    y[550:559], y[559] = 1, 0  # nine favourable rows: the pool of c and d has both labels
    fitted = GoalPostProcessor(model, prefit=True, min_support=8).fit(X, y, sensitive_features=groups)
    assert fitted.pooling_.pooled == ["c", "d"]
    assert sorted(fitted.groups_) == ["a", "b", "c", "d"]


def test_post_processor_never_below_the_majority_label(caplog):
    """A rule (or classifier) worse than always predicting the majority label is not used."""
    X, y, groups, model = thin_group_problem()

    class Inverted:  # a classifier that is always wrong where it is sure
        def predict(self, X):
            return 1 - model.predict(X)

        def predict_proba(self, X):
            return model.predict_proba(X)[:, ::-1]

    fitted = GoalPostProcessor(Inverted(), prefit=True, dp_max=0.01, eo_max=0.01)
    pred = fitted.fit(X, y, sensitive_features=groups).predict(X, sensitive_features=groups)
    assert fitted.fallback_ == "majority"
    assert (pred == y).mean() >= max(y.mean(), 1 - y.mean())
    assert "predicts the majority label" in caplog.text


def test_a_single_fitted_group_leaves_every_group_to_the_classifier():
    X, y, groups, model = thin_group_problem()
    groups = np.where(groups == "a", "a", "c")
    y = np.where(groups == "c", 0, y)
    model = clone(model).fit(X.assign(c=groups == "c"), y)
    X = X.assign(c=groups == "c")
    fitted = ThresholdPostProcessor(model, prefit=True).fit(X, y, sensitive_features=groups)
    assert fitted.fallback_ is None
    assert fitted.groups_ == set()
    np.testing.assert_array_equal(fitted.predict(X, sensitive_features=groups), model.predict(X))
