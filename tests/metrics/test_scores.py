"""Score metrics by group against scikit-learn, and the decision rules."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from fairlatent.metrics.scores import AUC_BINS, binned_auc, decisions_from_scores, score_metrics


def _data(n=4000, seed=0, continuous=True):
    rng = np.random.default_rng(seed)
    g = rng.choice(np.array(["a", "b", "c"]), n, p=[0.5, 0.35, 0.15])
    y = (rng.random(n) < np.where(g == "a", 0.5, 0.3)).astype(int)
    noise = np.where(g == "b", 1.5, 0.7)
    s = y + rng.normal(0, noise, n)
    if not continuous:
        s = np.clip(np.round(s * 3 + 5), 1, 10)
    return y, s, g


@pytest.mark.parametrize("continuous", [True, False])
def test_auc_per_group_equals_sklearn(continuous):
    y, s, g = _data(continuous=continuous)
    out = score_metrics(y, s, g, n_boot=50)
    for row in out["groups"]:
        mask = g == row["group"]
        assert row["auc"] == roc_auc_score(y[mask], s[mask])  # exactly: sklearn's own number
        assert row["auc_low"] <= row["auc"] <= row["auc_high"]
    assert out["overall"]["auc"] == roc_auc_score(y, s)
    assert out["exact_replicates"] is (not continuous or len(np.unique(s)) <= AUC_BINS)


def test_binned_auc_is_mann_whitney_when_exact():
    y, s, g = _data(n=1500, continuous=False)
    values, ranks = np.unique(s, return_inverse=True)
    counts = np.zeros((2, len(values)))
    np.add.at(counts, (y, ranks), 1)
    assert binned_auc(counts) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_auc_interval_covers_and_narrows_with_rows():
    y, s, g = _data(n=2000)
    small = score_metrics(y, s, g, n_boot=200)["overall"]
    y, s, g = _data(n=20000)
    large = score_metrics(y, s, g, n_boot=200)["overall"]
    assert large["auc_high"] - large["auc_low"] < small["auc_high"] - small["auc_low"]


def test_abroca_zero_for_identical_groups_and_positive_for_noisier_one():
    y, s, g = _data(n=6000)
    out = score_metrics(y, s, g, n_boot=0, reference="a")
    by = {r["group"]: r for r in out["groups"]}
    assert by["a"]["abroca"] is None  # the reference itself
    assert by["b"]["abroca"] > by["c"]["abroca"] > 0  # b's score is noisier than c's (same as a)
    twin = np.concatenate([s, s])
    doubled = score_metrics(np.concatenate([y, y]), twin, np.repeat(["x", "z"], len(s)), n_boot=0)
    assert doubled["groups"][1]["abroca"] == pytest.approx(0.0, abs=1e-9)


def test_calibration_within_groups_detects_a_shifted_group():
    rng = np.random.default_rng(3)
    n = 20000
    g = rng.choice(np.array(["a", "b"]), n)
    p = rng.uniform(0.05, 0.95, n)
    y = (rng.random(n) < p).astype(int)
    calibrated = score_metrics(y, p, g, n_boot=0)
    shifted = score_metrics(y, np.where(g == "b", np.clip(p + 0.2, 0, 1), p), g, n_boot=0)
    gap = {r["group"]: r["calibration_gap"] for r in calibrated["groups"]}
    assert max(gap.values()) < 0.03
    by = {r["group"]: r for r in shifted["groups"]}
    assert by["b"]["calibration_gap"] > 0.05
    shifted_b = np.clip(p + 0.2, 0, 1)[g == "b"]
    assert by["b"]["calibration_in_the_large"] == pytest.approx(np.mean(y[g == "b"]) - np.mean(shifted_b))
    assert by["a"]["brier"] == pytest.approx(np.mean((p[g == "a"] - y[g == "a"]) ** 2))


def test_decision_rules():
    s = np.array([0.2, 0.8, 0.5, 0.8, 0.1])
    assert decisions_from_scores(s, threshold=0.5).tolist() == [0, 1, 1, 1, 0]
    assert decisions_from_scores(s, top_k=2).tolist() == [0, 1, 0, 1, 0]
    assert decisions_from_scores(s, top_percent=50).tolist() == [0, 1, 1, 1, 0]  # ceil(2.5) = 3
    with pytest.raises(ValueError):
        decisions_from_scores(s, threshold=0.5, top_k=2)
