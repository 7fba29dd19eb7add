import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate

from fairlatent.metrics.simultaneous import (
    FINDING_METRICS,
    max_t_critical_value,
    simultaneous_findings,
    simultaneous_intervals,
)
from tests.conftest import make_fair_predictions


def _null(seed, n=2000, groups=2):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, n).astype(str)
    y = (rng.random(n) < 0.3).astype(int)
    p = ((y + rng.normal(0, 0.8, n)) > 0.6).astype(int)
    return y, p, g


def test_rates_match_fairlearn():
    y, p, g = _null(0, groups=3)
    fam = simultaneous_findings(y, p, g, n_boot=50)
    frame = MetricFrame(
        metrics={"selection_rate": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate},
        y_true=y, y_pred=p, sensitive_features=pd.Series(g),
    ).by_group
    for f in fam.findings:
        if f.metric in frame.columns:
            assert f.value == pytest.approx(frame.at[f.group, f.metric])
            assert f.reference_value == pytest.approx(frame.at[f.reference, f.metric])
            assert f.difference == pytest.approx(f.value - f.reference_value)


def test_null_data_rarely_establishes_anything():
    alarms = sum(
        any(f.state == "established" for f in simultaneous_findings(*_null(s, groups=3), n_boot=200,
                                                                      random_state=s).findings)
        for s in range(60)
    )
    assert alarms / 60 <= 0.15


def test_shifted_group_is_established_and_covered():
    rng = np.random.default_rng(3)
    n = 6000
    g = np.where(rng.random(n) < 0.5, "a", "b")
    y = (rng.random(n) < 0.4).astype(int)
    p = (rng.random(n) < np.where(g == "b", 0.25, 0.45)).astype(int)  # independent of y
    fam = simultaneous_findings(y, p, g, n_boot=300, random_state=1)
    top = fam.headline()
    assert top is not None and top.group == "b" and top.reference == "a"
    sel = next(f for f in fam.findings if f.metric == "selection_rate")
    assert sel.state == "established" and sel.low <= -0.20 <= sel.high
    assert fam.family_size == 2 * len(FINDING_METRICS)


def test_large_samples_without_gap_are_not_detected():
    y, p, g = make_fair_predictions(200_000, seed=5)
    fam = simultaneous_findings(y, p, g, n_boot=100)
    assert {f.state for f in fam.findings} == {"not_detected"}


def test_thin_group_is_insufficient_with_detectable_difference():
    rng = np.random.default_rng(2)
    g = np.array(["big"] * 3000 + ["thin"] * 30)
    y = (rng.random(len(g)) < 0.5).astype(int)
    p = np.where(g == "thin", 0, (rng.random(len(g)) < 0.5)).astype(int)
    fam = simultaneous_findings(y, p, g, n_boot=100)
    thin = [f for f in fam.findings if f.group == "thin"]
    assert {f.state for f in thin} == {"insufficient"}
    assert fam.judged_groups == () and "thin" in fam.insufficient_groups
    sel = next(f for f in thin if f.metric == "selection_rate")
    assert sel.difference < -0.4 and sel.detectable > 0.1
    assert fam.headline() is None


def test_reference_too_small_is_refused():
    y, p, g = _null(1)
    g = g.copy()
    g[:10] = "tiny"
    with pytest.raises(ValueError, match="too small to judge"):
        simultaneous_findings(y, p, g, reference="tiny", n_boot=50)
    with pytest.raises(ValueError, match="not among"):
        simultaneous_findings(y, p, g, reference="nope", n_boot=50)


def test_same_seed_same_numbers_and_paired_replicates():
    y, p, g = _null(4)
    a = simultaneous_findings(y, p, g, n_boot=60, random_state=7)
    b = simultaneous_findings(y, p, g, n_boot=60, random_state=7)
    assert a.findings == b.findings
    key = next(iter(a.replicates))
    np.testing.assert_array_equal(a.replicates[key], b.replicates[key])


def test_generic_intervals_cover_all_at_once():
    rng = np.random.default_rng(0)
    misses = 0
    for _ in range(200):
        reps = rng.normal(0, 1, size=(400, 8))
        est = rng.normal(0, 1, 8)
        low, high, c = simultaneous_intervals(est, est + reps, se=np.ones(8))
        misses += not np.all((low <= 0) & (high >= 0))
    assert misses / 200 <= 0.12
    assert max_t_critical_value(np.empty((10, 0))) != max_t_critical_value(np.empty((10, 0)))  # NaN
