"""Calibration within groups or equal error rates: which one the audited data shows.

With different base rates, a score calibrated within groups cannot give equal false-positive *and*
false-negative rates unless it predicts perfectly (Kleinberg, Mullainathan & Raghavan, 2016;
Chouldechova, 2017). :func:`tradeoff` judges both sides with states, like the findings, so the
report's paragraph rests on intervals rather than on point estimates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from scipy.stats import norm

from fairlatent.metrics.simultaneous import FindingFamily
from fairlatent.policy import LEVEL, PRACTICAL_MARGIN

__all__ = ["tradeoff"]


def tradeoff(
    metrics: Mapping[str, Any], family: FindingFamily | None, decisions: str | None
) -> dict[str, Any]:
    """Which of calibration within groups and equal error rates the data shows, with their states.

    With different base rates, a score calibrated within groups cannot give equal false-positive
    *and* false-negative rates unless it predicts perfectly (Kleinberg, Mullainathan & Raghavan,
    2016; Chouldechova, 2017). Both sides are judged like findings:

    * **calibration**: each judged group's calibration difference (favourable share minus that of
      all rows at the same score levels) gets an interval simultaneous over the judged groups
      (Bonferroni); ``established`` when one excludes 0 (a group is miscalibrated relative to the
      others), ``not_detected`` when all lie inside the practical margin, else ``inconclusive``;
    * **error rates**: the ``fpr`` and ``fnr`` findings of the decisions: ``established`` when one
      is, ``not_detected`` when all judged ones are, else ``inconclusive``.

    Parameters
    ----------
    metrics : mapping
        Output of :func:`~fairlatent.metrics.scores.score_metrics`.
    family : FindingFamily or None
        Findings of the decisions made from the score (or of the first prediction column).
    decisions : str or None
        Name of the model those decisions belong to.

    Returns
    -------
    dict
        ``base_rates`` (judged group -> rate), ``base_rate_gap``, ``calibration`` (per judged group:
        ``group``, ``difference``, ``low``, ``high``), ``calibration_state``, ``error_rates`` (the
        ``fpr``/``fnr`` findings), ``error_rate_state`` (``None`` without findings), ``decisions``,
        ``margin``, ``holds``: ``"calibration"`` (calibrated, error-rate gaps established),
        ``"error_rates"`` (equal error rates, miscalibrated), ``"both"`` (both within the margin),
        ``"neither"`` (both gaps established), ``"error_rates_differ"`` (error-rate gaps
        established, no calibration gap established but calibration not shown within the margin)
        or ``"cannot_tell"``.
    """
    margin = PRACTICAL_MARGIN.difference
    judged = [g for g in metrics["groups"] if g["supported"]]
    z = float(norm.ppf(1 - (1 - LEVEL) / (2 * max(1, len(judged)))))
    calibration = []
    for g in judged:
        d, se = g.get("calibration_difference"), g.get("calibration_difference_se")
        if d is None or se is None:
            continue
        calibration.append({"group": g["group"], "difference": d, "low": d - z * se, "high": d + z * se})
    calibration_state = _state(
        [r["low"] > 0 or r["high"] < 0 for r in calibration],
        [-margin <= r["low"] and r["high"] <= margin for r in calibration],
    )
    error_rows: list[dict[str, Any]] = []
    error_state: str | None = None
    if family is not None:
        error_rows = [
            {"group": f.group, "reference": f.reference, "metric": f.metric, "difference": f.difference,
             "low": f.low, "high": f.high, "state": f.state}
            for f in family.findings if f.metric in ("fpr", "fnr")
        ]
        judged_rows = [r for r in error_rows if r["state"] != "insufficient"]
        error_state = _state([r["state"] == "established" for r in judged_rows],
                             [r["state"] == "not_detected" for r in judged_rows])
    holds = {
        ("not_detected", "established"): "calibration",
        ("established", "not_detected"): "error_rates",
        ("not_detected", "not_detected"): "both",
        ("established", "established"): "neither",
        ("inconclusive", "established"): "error_rates_differ",
    }.get((calibration_state, error_state or ""), "cannot_tell")
    rates = {g["group"]: g["base_rate"] for g in judged if g["base_rate"] is not None}
    values = list(rates.values())
    return {
        "base_rates": rates,
        "base_rate_gap": (max(values) - min(values)) if len(values) >= 2 else None,
        "calibration": calibration,
        "calibration_state": calibration_state,
        "margin": margin,
        "error_rates": [
            {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
            for r in error_rows
        ],
        "error_rate_state": error_state,
        "decisions": decisions,
        "holds": holds,
    }


def _state(gaps: list[bool], inside: list[bool]) -> str:
    """Return ``established`` if any gap, ``not_detected`` if all are inside the margin, else ``inconclusive``."""
    if any(gaps):
        return "established"
    if inside and all(inside):
        return "not_detected"
    return "inconclusive"
