"""The evaluation of one set of predictions from group confusion counts, for any number of rows.

:func:`~fairlatent.metrics.fairness.evaluate_predictions` takes its point estimates from fairlearn's
:class:`~fairlearn.metrics.MetricFrame`, which evaluates every metric by a Python call per group and
takes minutes on a million rows. Every one of those metrics is a function of the four confusion
counts of each group, so :func:`evaluate_from_counts` computes the same
:class:`~fairlatent.metrics.fairness.Evaluation` (the same fields, the same numbers: the test suite
checks them against ``MetricFrame``) from one ``np.bincount`` of the rows, and its bootstrap from one
``np.bincount`` per chunk of replicates (:func:`~fairlatent.metrics.bootstrap.group_confusion_counts`).
It is what the audit of predictions the user already has (:mod:`fairlatent.engine.predictions`)
uses; its intervals and replicates are those of ``evaluate_predictions`` for the same seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairlatent.metrics.bootstrap import (
    group_confusion_counts,
    metrics_from_counts,
)
from fairlatent.metrics.fairness import (
    GROUP_METRICS,
    SUMMARY_METRICS,
    Evaluation,
    compared_groups,
    finish_evaluation,
)
from fairlatent.policy import MIN_TEST_SUPPORT

__all__ = ["evaluate_from_counts"]

#: Summary metrics that compare groups (NaN when fewer than two groups are judged).
_DISPARITIES = ("dp_difference", "dp_ratio", "eo_difference", "eo_ratio", "eop_difference",
                "accuracy_difference")


def _no_disparity_without_groups(values: dict[str, np.ndarray], compared: list[str]) -> dict[str, np.ndarray]:
    """With no compared groups the disparity summaries are undefined (NaN), as fairlearn's path says."""
    if not compared:
        for name in _DISPARITIES:
            values[name] = np.full_like(values[name], np.nan, dtype=float)
    return values


def evaluate_from_counts(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray | pd.Series,
    *,
    n_boot: int = 200,
    random_state: int = 0,
    min_support: int = MIN_TEST_SUPPORT,
    reference: str | None = None,
) -> Evaluation:
    """Measure accuracy and group fairness of binary predictions from confusion counts.

    Same parameters and result as :func:`~fairlatent.metrics.fairness.evaluate_predictions`
    (fairlearn's numbers, the same bootstrap replicates for the same seed), computed in time linear
    in the rows with no Python loop over groups or rows.

    Parameters
    ----------
    y_true, y_pred : array of {0, 1}
    groups : array of str
    n_boot : int, default 200
        Bootstrap replicates (0: no intervals).
    random_state : int, default 0
    min_support : int, default :data:`~fairlatent.policy.MIN_TEST_SUPPORT`
    reference : str, optional

    Returns
    -------
    Evaluation

    Examples
    --------
    The same numbers as fairlearn's path:

    >>> from fairlatent.metrics.fairness import evaluate_predictions
    >>> rows = (np.array([1, 0, 1, 0]), np.array([1, 0, 0, 0]), np.array(["a", "a", "b", "b"]))
    >>> fast = evaluate_from_counts(*rows, n_boot=0, min_support=1)
    >>> fast.summary == evaluate_predictions(*rows, n_boot=0, min_support=1).summary
    True
    >>> fast.summary["dp_difference"], fast.reference
    (0.5, 'a')
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    labels_arr = np.asarray(groups, dtype=object).astype(str)
    labels = sorted(set(labels_arr.tolist()))
    codes = pd.Categorical(labels_arr, categories=labels).codes.astype(np.int64)
    counts = group_confusion_counts(y_true, y_pred, codes, len(labels))
    positives = counts[0, :, 1, :].sum(axis=1)
    negatives = counts[0, :, 0, :].sum(axis=1)
    support = pd.DataFrame(
        {"test_positives": positives.astype(int), "test_negatives": negatives.astype(int)},
        index=pd.Index(labels, name="group"),
    )
    compared, too_small = compared_groups(support, min_support)
    compared_idx = [labels.index(g) for g in compared] or None  # None: none judged, see below
    point = _no_disparity_without_groups(metrics_from_counts(counts, compared_idx), compared)
    summary = {name: float(point[name][0]) for name in SUMMARY_METRICS}
    by_group = pd.DataFrame(
        {name: point[f"group:{name}"][0].astype(float) for name in GROUP_METRICS},
        index=pd.Index(labels, name="group"),
    )
    by_group["tpr"] = by_group["tpr"].fillna(0.0)  # fairlearn: 0 for a group without positives
    by_group["fpr"] = by_group["fpr"].fillna(0.0)
    return finish_evaluation(
        y_true, y_pred, codes, summary, by_group, support,
        compared=compared, too_small=too_small, reference=reference,
        n_boot=n_boot, random_state=random_state,
        replicate_metrics=lambda reps: _no_disparity_without_groups(
            metrics_from_counts(reps, compared_idx), compared
        ),
    )
