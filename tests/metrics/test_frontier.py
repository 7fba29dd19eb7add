import pytest

from fairlatent.metrics.frontier import goal_frontier
from tests.conftest import make_scored_groups


def _data(seed=0, n=3000):
    return make_scored_groups(n, seed=seed)


def test_constrained_optimum_respects_bounds_and_costs_accuracy():
    scores, y, g = _data()
    out = goal_frontier(scores, y, g, dp_max=0.04, eo_max=0.08)
    assert out["feasible"]
    a, b = out["groups"]["a"], out["groups"]["b"]
    assert abs(a["selection_rate"] - b["selection_rate"]) <= 0.04 + 1e-6
    assert abs(a["tpr"] - b["tpr"]) <= 0.08 + 1e-6 and abs(a["fpr"] - b["fpr"]) <= 0.08 + 1e-6
    assert out["accuracy"] <= out["unconstrained_accuracy"] + 1e-9
    threshold_acc = ((scores >= 0.5) == y).mean()
    assert out["unconstrained_accuracy"] >= threshold_acc - 0.01


def test_loose_bounds_recover_unconstrained_accuracy():
    scores, y, g = _data(1)
    out = goal_frontier(scores, y, g, dp_max=1.0, eo_max=1.0)
    assert out["accuracy"] == pytest.approx(out["unconstrained_accuracy"])


def test_trivial_classifier_is_always_feasible():
    scores, y, g = _data(2)
    out = goal_frontier(scores, y, g, dp_max=0.0, eo_max=0.0)
    assert out["feasible"]  # selecting nobody (or everybody) meets any parity bound
    assert out["accuracy"] >= 1 - y.mean() - 1e-6


def test_bounds_default_to_the_goal_and_are_reported():
    from fairlatent.policy import GOAL

    scores, y, g = _data(3, n=600)
    out = goal_frontier(scores, y, g)
    assert (out["dp_max"], out["eo_max"]) == (GOAL.dp_difference, GOAL.eo_difference)
    loose = goal_frontier(scores, y, g, dp_max=0.3, eo_max=0.5, n_thresholds=20)
    assert (loose["dp_max"], loose["eo_max"]) == (0.3, 0.5)
