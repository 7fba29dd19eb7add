import numpy as np
import pytest
from sklearn.base import clone

from fairlatent.classifiers import make_classifier, split_feature_kinds, stratified_split
from fairlatent.data.schema import GROUP_COLUMN, prepare
from fairlatent.exceptions import ConfigError


@pytest.mark.parametrize("name", ["logreg", "hgb", "rf"])
def test_classifiers_fit_with_missing_values_and_weights(biased_frame, name):
    data = prepare(biased_frame, target="label", sensitive=["group"])
    numeric, categorical = split_feature_kinds(data.frame, data.schema.features)
    assert "job" in categorical and "age" in numeric
    pipe = make_classifier(name, numeric=numeric, categorical=categorical, random_state=0)
    X, y = data.frame[numeric + categorical], data.frame["label"]
    weights = np.where(data.frame["group"] == "B", 2.0, 1.0)
    pipe.fit(X, y, model__sample_weight=weights)
    assert pipe.score(X, y) > 0.6
    clone(pipe).fit(X, y)


def test_unknown_classifier():
    with pytest.raises(ConfigError):
        make_classifier("svm", numeric=[], categorical=[])


def test_split_is_stratified_seeded_and_disjoint(biased_frame):
    data = prepare(biased_frame, target="label", sensitive=["group"])
    train, test = stratified_split(data.frame, target="label", test_size=0.3, random_state=1)
    again, _ = stratified_split(data.frame, target="label", test_size=0.3, random_state=1)
    assert train.equals(again)
    assert len(train) + len(test) == len(data.frame)
    for g in ("A", "B"):
        full = data.frame.loc[data.frame[GROUP_COLUMN] == g, "label"].mean()
        assert test.loc[test[GROUP_COLUMN] == g, "label"].mean() == pytest.approx(full, abs=0.05)
