"""The confusion-count evaluation reproduces fairlearn's MetricFrame and evaluate_predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate

from fairlatent.metrics.count_evaluation import evaluate_from_counts
from fairlatent.metrics.fairness import evaluate_predictions


def _rows(n=5000, seed=0):
    rng = np.random.default_rng(seed)
    g = rng.choice(np.array(["a", "b", "c", "d"]), n, p=[0.5, 0.3, 0.18, 0.02])
    y = rng.integers(0, 2, n)
    p = (rng.random(n) < np.where(g == "a", 0.55, 0.35)).astype(int)
    return y, p, g


def test_same_numbers_as_metricframe():
    y, p, g = _rows()
    ev = evaluate_from_counts(y, p, g, n_boot=0)
    frame = MetricFrame(
        metrics={"selection_rate": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate},
        y_true=y, y_pred=p, sensitive_features=pd.Series(g, name="group"),
    )
    for metric in ("selection_rate", "tpr", "fpr"):
        for group in frame.by_group.index:
            assert ev.by_group.at[group, metric] == pytest.approx(frame.by_group.at[group, metric], abs=1e-15)


def test_same_evaluation_as_evaluate_predictions():
    y, p, g = _rows(n=3000, seed=1)
    fast = evaluate_from_counts(y, p, g, n_boot=60, random_state=4)
    slow = evaluate_predictions(y, p, g, n_boot=60, random_state=4)
    assert fast.summary == pytest.approx(slow.summary, nan_ok=True)
    assert fast.summary_ci == slow.summary_ci
    pd.testing.assert_frame_equal(fast.by_group, slow.by_group, rtol=1e-12)
    pd.testing.assert_frame_equal(fast.reference_view, slow.reference_view, rtol=1e-12)
    assert (fast.compared, fast.too_small, fast.reference) == (slow.compared, slow.too_small, slow.reference)
    assert fast.bootstrap_key == slow.bootstrap_key
    np.testing.assert_array_equal(fast.replicates["dp_difference"], slow.replicates["dp_difference"])


def test_same_evaluation_when_no_two_groups_are_judged():
    y, p, g = _rows(n=400, seed=2)
    g = np.where(g == "a", "a", "thin")
    y = np.where(g == "thin", 1, y)  # the thin group has no unfavourable rows: nothing is judged
    fast = evaluate_from_counts(y, p, g, n_boot=30)
    slow = evaluate_predictions(y, p, g, n_boot=30)
    assert fast.compared == slow.compared == []
    assert fast.summary == pytest.approx(slow.summary, nan_ok=True)
    assert fast.reference == slow.reference
    pd.testing.assert_frame_equal(fast.by_group, slow.by_group, rtol=1e-12)
