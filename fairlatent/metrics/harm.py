"""Does a change of predictions widen a fairness gap beyond noise? A paired bootstrap on the same rows.

Two sets of predictions on the same labelled rows (doing nothing, and a strategy) are resampled with
the *same* replicates (:func:`~fairlatent.metrics.bootstrap.bootstrap_rows`), so each replicate's
difference of the DP (or EO) difference is a paired draw of the change
(:func:`~fairlatent.metrics.bootstrap.paired_interval`). A gap is *widened beyond noise* when the
whole 95 % interval of its change lies above zero. Only groups with at least ``min_support``
favourable and unfavourable rows are judged (the audit's support rule); with fewer than two such
groups no gap can be tested and nothing is called widened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fairlatent.metrics.bootstrap import (
    bootstrap_rows,
    group_confusion_counts,
    metrics_from_counts,
    paired_interval,
)

__all__ = ["GapChange", "gap_change"]

#: The gaps checked.
GAPS = ("dp_difference", "eo_difference")


@dataclass
class GapChange:
    """The paired change of the DP and EO differences from one set of predictions to another.

    Attributes
    ----------
    judged : bool
        At least two groups had the support to be judged.
    changes : dict
        Gap -> ``[mean, low, high]`` of ``other - base`` (empty when not judged).
    widened : list of str
        Gaps whose interval lies above zero.
    """

    judged: bool
    changes: dict[str, list[float]] = field(default_factory=dict)
    widened: list[str] = field(default_factory=list)


def gap_change(
    y_true: np.ndarray,
    base_pred: np.ndarray,
    other_pred: np.ndarray,
    groups: np.ndarray,
    *,
    min_support: int,
    n_boot: int = 200,
    random_state: int = 0,
) -> GapChange:
    """Paired bootstrap of the change of the DP and EO differences among the judged groups.

    Parameters
    ----------
    y_true : array of {0, 1}
    base_pred, other_pred : array of {0, 1}
        Predictions of doing nothing and of the option, on the same rows.
    groups : array
        Group label of each row.
    min_support : int
        Favourable and unfavourable rows a group needs to be judged.
    n_boot : int, default 200
        Replicates.
    random_state : int, default 0

    Returns
    -------
    GapChange

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(["a", "b"], 400); y = rng.integers(0, 2, 800)
    >>> fair = rng.integers(0, 2, 800)
    >>> unfair = np.where(g == "a", rng.random(800) < 0.8, rng.random(800) < 0.2).astype(int)
    >>> gap_change(y, fair, unfair, g, min_support=20).widened
    ['dp_difference', 'eo_difference']
    >>> gap_change(y, fair, fair, g, min_support=20).widened
    []
    """
    y = np.asarray(y_true, dtype=int)
    labels = np.asarray(groups).astype(str)
    levels = np.unique(labels)
    pos = np.array([np.sum((labels == v) & (y == 1)) for v in levels])
    neg = np.array([np.sum((labels == v) & (y == 0)) for v in levels])
    judged = levels[(pos >= min_support) & (neg >= min_support)]
    if len(judged) < 2 or n_boot < 1:
        return GapChange(judged=False)
    keep = np.isin(labels, judged)
    codes = np.searchsorted(judged, labels[keep])
    y, base, other = y[keep], np.asarray(base_pred, int)[keep], np.asarray(other_pred, int)[keep]
    base_reps: dict[str, list[np.ndarray]] = {gap: [] for gap in GAPS}
    other_reps: dict[str, list[np.ndarray]] = {gap: [] for gap in GAPS}
    for rows in bootstrap_rows(len(y), n_boot, random_state):
        for pred, store in ((base, base_reps), (other, other_reps)):
            summary = metrics_from_counts(group_confusion_counts(y, pred, codes, len(judged), rows))
            for gap in GAPS:
                store[gap].append(summary[gap])
    result = GapChange(judged=True)
    for gap in GAPS:
        mean, low, high = paired_interval(
            np.concatenate(base_reps[gap]), np.concatenate(other_reps[gap])
        )
        result.changes[gap] = [mean, low, high]
        if np.isfinite(low) and low > 0:
            result.widened.append(gap)
    return result
