import numpy as np
import pytest

from fairlatent.models.thresholds import GroupThresholds, roc_points, solve_group_thresholds
from tests.conftest import make_scored_groups


def _data(seed=0, n=6000):
    return make_scored_groups(n, seed=seed, majority_lift=0.4)


def rates(pred, y, g):
    out = {}
    for group in np.unique(g):
        rows = g == group
        out[group] = (pred[rows].mean(), pred[rows & (y == 1)].mean(), pred[rows & (y == 0)].mean())
    return out


def test_solution_mixes_are_distributions_whose_rates_meet_the_bounds():
    scores, y, g = _data()
    solution = solve_group_thresholds(scores, y, g, dp_max=0.04, eo_max=0.08)
    assert solution.feasible and set(solution.groups) == {"a", "b"}
    for rule in solution.groups.values():
        assert rule.mix.sum() == pytest.approx(1.0) and (rule.mix >= 0).all()
        assert len(rule.cuts) == len(rule.mix) and rule.cuts[0] == -np.inf
    a, b = solution.groups["a"], solution.groups["b"]
    assert abs(a.selection_rate - b.selection_rate) <= 0.04 + 1e-6
    assert abs(a.tpr - b.tpr) <= 0.08 + 1e-6


def test_randomised_rule_realises_the_rates_on_the_fitted_rows():
    scores, y, g = _data(1)
    rule = GroupThresholds(dp_max=0.04, eo_max=0.08).fit(scores, y, g)
    pred = rule.predict(scores, g, random_state=0)
    np.testing.assert_array_equal(pred, rule.predict(scores, g, random_state=0))
    observed = rates(pred, y, g)
    assert abs(observed["a"][0] - observed["b"][0]) < 0.04 + 0.03  # sampling noise of the draws
    expected = rule.selection_probability(scores, g)
    for group, target in rule.solution_.groups.items():
        assert expected[g == group].mean() == pytest.approx(target.selection_rate, abs=1e-9)
    unseen = rule.predict(np.array([0.2, 0.9]), np.array(["new", "new"]))
    assert unseen.tolist() == [0, 1]  # default cut 0.5


def test_roc_points_run_from_everyone_to_no_one():
    points, cuts = roc_points(np.linspace(0, 1, 50), np.arange(50) % 2, 10)
    assert points[0].tolist() == [1.0, 1.0, 1.0] and points[-1].tolist() == [0.0, 0.0, 0.0]
    assert np.all(np.diff(cuts) > 0)


def test_single_group_is_unconstrained():
    scores, y, _ = _data(2, n=500)
    solution = solve_group_thresholds(scores, y, np.array(["a"] * len(y)))
    assert solution.feasible
    assert solution.accuracy == pytest.approx(solution.unconstrained_accuracy)


def test_a_group_without_favourable_rows_does_not_pin_the_others_tpr():
    """Its TPR is undefined; bounding it at the 0 of roc_points made every group select nobody."""
    rng = np.random.default_rng(3)
    groups = np.array(["a"] * 400 + ["b"] * 300 + ["c"] * 60)
    y = (rng.random(760) < np.where(groups == "a", 0.5, 0.3)).astype(int)
    y[groups == "c"] = 0
    scores = np.clip(y * 0.5 + rng.normal(0.25, 0.2, 760), 0, 1)
    solution = solve_group_thresholds(scores, y, groups, dp_max=1.0, eo_max=0.08)
    assert solution.feasible
    assert solution.groups["a"].tpr > 0.5 and solution.groups["b"].tpr > 0.5
