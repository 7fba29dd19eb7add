"""The trade-off record: calibration within groups against equal error rates, judged with states."""

from __future__ import annotations

import numpy as np

from fairlatent.metrics.simultaneous import simultaneous_findings
from fairlatent.results.tradeoff import tradeoff


def _metrics(differences, se=0.005):
    groups = [
        {"group": g, "supported": True, "base_rate": 0.3 + 0.1 * i, "calibration_difference": d,
         "calibration_difference_se": se}
        for i, (g, d) in enumerate(differences.items())
    ]
    return {"groups": groups}


def _family(gap: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = 40000
    g = np.repeat(["a", "b"], n // 2)
    y = rng.integers(0, 2, n)
    p = np.where(y == 1, rng.random(n) < 0.7, rng.random(n) < 0.2 + gap * (g == "b")).astype(int)
    return simultaneous_findings(y, p, g, n_boot=200)


def test_calibrated_score_with_error_rate_gap():
    out = tradeoff(_metrics({"a": 0.001, "b": -0.002}), _family(0.2), "m")
    assert (out["calibration_state"], out["error_rate_state"], out["holds"]) == (
        "not_detected", "established", "calibration")


def test_equal_error_rates_with_miscalibration():
    out = tradeoff(_metrics({"a": 0.08, "b": -0.08}), _family(0.0), "m")
    assert (out["calibration_state"], out["error_rate_state"], out["holds"]) == (
        "established", "not_detected", "error_rates")


def test_without_findings_nothing_is_claimed_about_error_rates():
    out = tradeoff(_metrics({"a": 0.0, "b": 0.0}), None, None)
    assert out["error_rate_state"] is None and out["holds"] == "cannot_tell"
