import numpy as np
import pandas as pd

from fairlatent.data.schema import GROUP_COLUMN, prepare
from fairlatent.strategies import StrategyContext, get_strategy
from fairlatent.strategies.baseline import reweighing_weights


def test_reweighing_makes_group_and_label_independent():
    rng = np.random.default_rng(0)
    groups = pd.Series(rng.choice(["a", "b"], 1000, p=[0.7, 0.3]))
    labels = pd.Series((rng.random(1000) < np.where(groups == "a", 0.5, 0.1)).astype(int))
    w = reweighing_weights(groups, labels)
    assert w.sum() == __import__("pytest").approx(1000)
    for g in ("a", "b"):
        weighted_rate = np.average(labels[groups == g], weights=w[groups == g])
        assert weighted_rate == __import__("pytest").approx(labels.mean())


def test_strategies_through_the_slot(biased_frame):
    data = prepare(biased_frame, target="label", sensitive=["group"])
    ctx = StrategyContext(target="label", sensitive=["group"], group_column=GROUP_COLUMN)
    none = get_strategy("none").apply(data.frame, ctx)
    assert none.sample_weight is None and none.frame is data.frame and not none.is_synthetic.any()
    rew = get_strategy("reweigh").apply(data.frame, ctx)
    assert len(rew.sample_weight) == len(data.frame)
    assert rew.fit_seconds >= 0 and rew.diagnostics["cell_weights"]
