"""The before/after comparison: every strategy's change against the baseline, marked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

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
#: Changes smaller than this are marked "same".
SAME_TOLERANCE = 0.005


def comparison_rows(result: AuditResult, summary: pd.DataFrame | None = None) -> list[dict[str, Any]]:
    """Rows of the before/after table, each change against ``none`` marked better, worse or same.

    Parameters
    ----------
    result : AuditResult
    summary : DataFrame, optional
        ``result.summary()``, when the caller already has it.

    Returns
    -------
    list of dict
        One per (classifier, strategy): ``classifier``, ``strategy`` and ``cells``, a list of
        ``{"metric", "value", "delta", "mark", "low", "high", "std"}`` over :data:`TABLE_METRICS`.
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
                if strategy == "none" or not np.isfinite(delta) or abs(delta) < SAME_TOLERANCE:
                    mark = "same"
                elif metric in LOWER_IS_BETTER:
                    mark = "better" if delta < 0 else "worse"
                else:  # accuracy and ratios: higher is better
                    mark = "better" if delta > 0 else "worse"
                cells.append(
                    {
                        "metric": metric,
                        "value": value,
                        "delta": delta,
                        "mark": mark,
                        "low": row.get(f"{metric}_low"),
                        "high": row.get(f"{metric}_high"),
                        "std": row.get(f"{metric}_std"),
                    }
                )
            rows.append({"classifier": clf, "strategy": strategy, "cells": cells})
    return rows
