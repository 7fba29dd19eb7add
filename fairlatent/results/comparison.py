"""The before/after comparison: every strategy's change against the baseline, judged by intervals.

A change is marked *better* or *worse* only when it is distinguishable from noise: the 95% interval
of the paired bootstrap difference (strategy minus baseline, on the same resampled test rows,
averaged over repeats) excludes zero. Otherwise it is *no clear change*. Without bootstrap
replicates (``n_boot = 0``) the marks fall back to the size of the change alone, and say so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fairlatent.metrics.bootstrap import paired_interval
from fairlatent.metrics.fairness import LOWER_IS_BETTER

if TYPE_CHECKING:
    from fairlatent.results.records import AuditResult

#: Summary metrics shown in the before/after table.
TABLE_METRICS = (
    "accuracy",
    "dp_difference",
    "dp_ratio",
    "eo_difference",
    "eop_difference",
    "accuracy_difference",
)
#: Without bootstrap replicates, changes smaller than this are marked "same".
SAME_TOLERANCE = 0.005
#: Mark of a change that is not distinguishable from noise.
NO_CLEAR_CHANGE = "same"


def paired_change(
    result: AuditResult, strategy: str, classifier: str, metric: str
) -> tuple[float, float, float] | None:
    """Paired-bootstrap change of ``metric`` against the baseline, averaged over repeats.

    Returns
    -------
    tuple of float or None
        ``(mean change, low, high)``, or ``None`` when the audit kept no replicates.
    """
    base = {r.repeat: r for r in result.records if r.strategy == "none" and r.classifier == classifier}
    deltas = []
    for rec in result.records:
        if rec.strategy != strategy or rec.classifier != classifier or rec.repeat not in base:
            continue
        ref = base[rec.repeat].evaluation
        if metric not in rec.evaluation.replicates or ref.bootstrap_key != rec.evaluation.bootstrap_key:
            return None
        deltas.append(rec.evaluation.replicates[metric] - ref.replicates[metric])
    if not deltas:
        return None
    mean_delta = np.mean(np.stack(deltas), axis=0)
    return paired_interval(np.zeros_like(mean_delta), mean_delta)


def change_mark(metric: str, delta: float, interval: tuple[float, float] | None) -> str:
    """``"better"``, ``"worse"`` or :data:`NO_CLEAR_CHANGE` for one metric's change.

    Examples
    --------
    >>> change_mark("dp_difference", -0.08, (-0.10, -0.06))
    'better'
    >>> change_mark("dp_difference", -0.08, (-0.20, 0.03))
    'same'
    >>> change_mark("accuracy", -0.02, None)
    'worse'
    """
    if not np.isfinite(delta):
        return NO_CLEAR_CHANGE
    if interval is None:
        if abs(delta) < SAME_TOLERANCE:
            return NO_CLEAR_CHANGE
    else:
        low, high = interval
        if not (np.isfinite(low) and np.isfinite(high)) or low <= 0 <= high:
            return NO_CLEAR_CHANGE
    improved = delta < 0 if metric in LOWER_IS_BETTER else delta > 0
    return "better" if improved else "worse"


def comparison_rows(result: AuditResult, summary: pd.DataFrame | None = None) -> list[dict[str, Any]]:
    """Rows of the before/after table, each change against ``none`` judged by its interval.

    Parameters
    ----------
    result : AuditResult
    summary : DataFrame, optional
        ``result.summary()``, when the caller already has it.

    Returns
    -------
    list of dict
        One per (classifier, strategy): ``classifier``, ``strategy`` and ``cells``, a list of
        ``{"metric", "value", "delta", "delta_low", "delta_high", "mark", "low", "high", "std"}``
        over :data:`TABLE_METRICS`.
    """
    if summary is None:
        summary = result.summary()
    rows = []
    for clf in result.config.classifiers:
        base = summary.loc[("none", clf)]
        for strategy in result.config.strategies:
            if (strategy, clf) not in summary.index:
                continue
            row = summary.loc[(strategy, clf)]
            cells = []
            for metric in TABLE_METRICS:
                value = float(row[metric])
                delta = value - float(base[metric])
                paired = None if strategy == "none" else paired_change(result, strategy, clf, metric)
                interval = None if paired is None else (paired[1], paired[2])
                mark = NO_CLEAR_CHANGE if strategy == "none" else change_mark(metric, delta, interval)
                cells.append(
                    {
                        "metric": metric,
                        "value": value,
                        "delta": delta,
                        "delta_low": None if interval is None else interval[0],
                        "delta_high": None if interval is None else interval[1],
                        "mark": mark,
                        "low": row.get(f"{metric}_low"),
                        "high": row.get(f"{metric}_high"),
                        "std": row.get(f"{metric}_std"),
                    }
                )
            rows.append({"classifier": clf, "strategy": strategy, "cells": cells})
    return rows


def reference_grid(result: AuditResult, strategy: str = "none") -> dict[str, dict[str, Any]]:
    """Pass/fail grid of every group against the reference, per classifier (first repeat).

    Parameters
    ----------
    result : AuditResult
    strategy : str, default "none"
        Whose predictions to judge.

    Returns
    -------
    dict
        Classifier -> ``{"reference", "metrics", "rows"}``; each row is ``{"group", "cells"}``
        with one cell per metric: ``value``, ``reference_value``, ``ratio``, ``ratio_low``,
        ``ratio_high``, ``difference``, ``difference_low``, ``difference_high``, ``status``.
    """
    grids: dict[str, dict[str, Any]] = {}
    for rec in result.records:
        if rec.strategy != strategy or rec.repeat != 0:
            continue
        view = rec.evaluation.reference_view
        metrics = list(dict.fromkeys(view["metric"])) if len(view) else []
        rows = []
        for group in dict.fromkeys(view["group"] if len(view) else []):
            cells = view[view["group"] == group].set_index("metric")
            rows.append(
                {"group": group, "cells": [cells.loc[m].to_dict() | {"metric": m} for m in metrics]}
            )
        grids[rec.classifier] = {
            "reference": rec.evaluation.reference,
            "metrics": metrics,
            "rows": rows,
        }
    return grids
