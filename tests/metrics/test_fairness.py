import numpy as np
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equal_opportunity_difference,
    equalized_odds_difference,
    equalized_odds_ratio,
    selection_rate,
    true_positive_rate,
)

from fairlatent.metrics.bootstrap import group_confusion_counts, metrics_from_counts
from fairlatent.metrics.fairness import (
    evaluate_predictions,
)


def _predictions(seed=0, n=2000):
    rng = np.random.default_rng(seed)
    groups = rng.choice(["A", "B", "C"], n, p=[0.6, 0.3, 0.1])
    y = (rng.random(n) < np.where(groups == "A", 0.4, 0.2)).astype(int)
    p = np.where(rng.random(n) < 0.8, y, 1 - y)
    p[(groups == "A") & (rng.random(n) < 0.1)] = 1
    return y, p, groups


def test_summary_equals_fairlearn():
    y, p, g = _predictions()
    ev = evaluate_predictions(y, p, g, n_boot=0)
    assert ev.summary["dp_difference"] == pytest.approx(
        demographic_parity_difference(y, p, sensitive_features=g)
    )
    assert ev.summary["eo_difference"] == pytest.approx(
        equalized_odds_difference(y, p, sensitive_features=g)
    )
    assert ev.summary["eo_ratio"] == pytest.approx(equalized_odds_ratio(y, p, sensitive_features=g))
    assert ev.summary["eop_difference"] == pytest.approx(
        equal_opportunity_difference(y, p, sensitive_features=g)
    )
    frame = MetricFrame(
        metrics={"sr": selection_rate, "tpr": true_positive_rate},
        y_true=y,
        y_pred=p,
        sensitive_features=g,
    )
    np.testing.assert_allclose(ev.by_group["selection_rate"], frame.by_group["sr"])
    np.testing.assert_allclose(ev.by_group["tpr"], frame.by_group["tpr"])


def test_vectorised_counts_match_fairlearn_point_estimates():
    y, p, g = _predictions(1)
    ev = evaluate_predictions(y, p, g, n_boot=0)
    labels = list(ev.by_group.index)
    codes = np.array([labels.index(v) for v in g])
    values = metrics_from_counts(group_confusion_counts(y, p, codes, len(labels)))
    for name in (
        "dp_difference",
        "eo_difference",
        "eop_difference",
        "accuracy",
        "accuracy_difference",
    ):
        assert values[name][0] == pytest.approx(ev.summary[name])
    np.testing.assert_allclose(values["group:fpr"][0], ev.by_group["fpr"])


def test_bootstrap_intervals_bracket_point_estimate_and_are_seeded():
    y, p, g = _predictions(2)
    ev = evaluate_predictions(y, p, g, n_boot=200, random_state=3)
    for name, (low, high) in ev.summary_ci.items():
        assert low <= ev.summary[name] + 1e-9 and ev.summary[name] - 1e-9 <= high, name
    again = evaluate_predictions(y, p, g, n_boot=200, random_state=3)
    assert ev.summary_ci == again.summary_ci
    assert (ev.by_group["tpr_low"] <= ev.by_group["tpr"]).all()
