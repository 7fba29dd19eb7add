"""Group fairness metrics with fairlearn, plus fast bootstrap confidence intervals.

Point estimates come from fairlearn (:class:`fairlearn.metrics.MetricFrame` and its summary
functions) so the numbers in the report are fairlearn's own. Intervals come from a vectorised
percentile bootstrap over the test rows (resampling rows, recomputing every group's confusion counts).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, balanced_accuracy_score, precision_score

#: Summary metrics of one (strategy, classifier) evaluation, in report order.
SUMMARY_METRICS: tuple[str, ...] = (
    "accuracy",
    "balanced_accuracy",
    "selection_rate",
    "dp_difference",
    "dp_ratio",
    "eo_difference",
    "eo_ratio",
    "eop_difference",
    "accuracy_difference",
)
#: Per-group metrics, in report order.
GROUP_METRICS: tuple[str, ...] = (
    "count",
    "base_rate",
    "selection_rate",
    "accuracy",
    "balanced_accuracy",
    "tpr",
    "fpr",
    "precision",
)
#: Plain-language description of each metric, for the report and the metrics.json schema.
METRIC_DESCRIPTIONS: dict[str, str] = {
    "accuracy": "share of test rows predicted correctly",
    "balanced_accuracy": "mean of true-positive and true-negative rates",
    "selection_rate": "share of rows predicted favourable",
    "dp_difference": "demographic parity difference: largest gap in selection rate between groups (0 is parity)",
    "dp_ratio": "demographic parity ratio: smallest over largest group selection rate (1 is parity)",
    "eo_difference": "equalized odds difference: larger of the TPR gap and the FPR gap between groups (0 is parity)",
    "eo_ratio": "equalized odds ratio: smaller of the TPR and FPR ratios between groups (1 is parity)",
    "eop_difference": "equal opportunity difference: largest gap in true-positive rate between groups",
    "accuracy_difference": "largest gap in accuracy between groups",
    "count": "test rows in the group",
    "base_rate": "share of the group's test rows whose true label is favourable",
    "tpr": "true-positive rate (recall): favourable rows predicted favourable",
    "fpr": "false-positive rate: unfavourable rows predicted favourable",
    "precision": "share of favourable predictions that are correct",
}
#: Metrics where lower is fairer (the rest of the fairness metrics are ratios, higher is fairer).
LOWER_IS_BETTER: frozenset[str] = frozenset(
    {"dp_difference", "eo_difference", "eop_difference", "accuracy_difference"}
)


def _base_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true)) if len(y_true) else float("nan")


def _precision(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(precision_score(y_true, y_pred, zero_division=0))


_FAIRLEARN_GROUP_METRICS = {
    "count": count,
    "base_rate": _base_rate,
    "selection_rate": selection_rate,
    "accuracy": accuracy_score,
    "balanced_accuracy": balanced_accuracy_score,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "precision": _precision,
}


@dataclass
class Evaluation:
    """Fairness and accuracy of one set of predictions on the test rows.

    Attributes
    ----------
    summary : dict
        :data:`SUMMARY_METRICS` -> value.
    summary_ci : dict
        Same keys -> ``(low, high)`` 95% bootstrap interval (empty when ``n_boot == 0``).
    by_group : DataFrame
        Index: group label; columns: :data:`GROUP_METRICS` and ``<metric>_low``/``<metric>_high``.
    """

    summary: dict[str, float]
    summary_ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    by_group: pd.DataFrame = field(default_factory=pd.DataFrame)


def evaluate_predictions(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray | pd.Series,
    *,
    n_boot: int = 200,
    random_state: int = 0,
) -> Evaluation:
    """Measure accuracy and group fairness of binary predictions.

    Parameters
    ----------
    y_true, y_pred : array of {0, 1}
        True and predicted labels of the test rows.
    groups : array of str
        Group label of each test row.
    n_boot : int, default 200
        Bootstrap replicates for the 95% intervals; 0 skips them.
    random_state : int, default 0
        Seed of the bootstrap.

    Returns
    -------
    Evaluation

    Examples
    --------
    >>> import numpy as np
    >>> ev = evaluate_predictions(np.array([1, 0, 1, 0]), np.array([1, 0, 0, 0]),
    ...                           np.array(["a", "a", "b", "b"]), n_boot=0)
    >>> ev.summary["dp_difference"]
    0.5
    """
    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    groups = np.asarray(groups, dtype=object).astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = MetricFrame(
            metrics=_FAIRLEARN_GROUP_METRICS,
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=pd.Series(groups, name="group"),
        )
        summary = {
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
            "selection_rate": float(selection_rate(y_true, y_pred)),
            "dp_difference": float(
                demographic_parity_difference(y_true, y_pred, sensitive_features=groups)
            ),
            "dp_ratio": float(demographic_parity_ratio(y_true, y_pred, sensitive_features=groups)),
            "eo_difference": float(
                equalized_odds_difference(y_true, y_pred, sensitive_features=groups)
            ),
            "eo_ratio": float(equalized_odds_ratio(y_true, y_pred, sensitive_features=groups)),
            "eop_difference": float(
                equal_opportunity_difference(y_true, y_pred, sensitive_features=groups)
            ),
            "accuracy_difference": float(frame.difference()["accuracy"]),
        }
    by_group = frame.by_group.astype(float)
    by_group.index = by_group.index.astype(str)
    by_group.index.name = "group"
    evaluation = Evaluation(summary=summary, by_group=by_group)
    if n_boot > 0:
        _add_bootstrap_intervals(evaluation, y_true, y_pred, groups, n_boot, random_state)
    return evaluation


def group_confusion_counts(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    group_codes: np.ndarray,
    n_groups: int,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Confusion counts per group, optionally for many resamples of the rows at once.

    Parameters
    ----------
    y_true, y_pred : array of {0, 1}
    group_codes : array of int
        Group index of each row, in ``[0, n_groups)``.
    n_groups : int
    rows : array of int, shape (B, n), optional
        Row indices of B resamples. ``None`` counts the rows once.

    Returns
    -------
    ndarray, shape (B, n_groups, 2, 2)
        ``counts[b, g, y, p]``; B is 1 when ``rows`` is ``None``.
    """
    cell = group_codes * 4 + y_true * 2 + y_pred
    if rows is None:
        rows = np.arange(len(cell))[None, :]
    n_rep = rows.shape[0]
    offsets = (np.arange(n_rep) * n_groups * 4)[:, None]
    flat = np.bincount((offsets + cell[rows]).ravel(), minlength=n_rep * n_groups * 4)
    return flat.reshape(n_rep, n_groups, 2, 2)


def metrics_from_counts(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Per-group and summary metrics from confusion counts of shape (B, G, 2, 2).

    Returns a dict of arrays: group metrics have shape (B, G), summaries shape (B,). Undefined rates
    (empty denominators) are NaN and ignored by the summaries.
    """
    tn, fp = counts[..., 0, 0].astype(float), counts[..., 0, 1].astype(float)
    fn, tp = counts[..., 1, 0].astype(float), counts[..., 1, 1].astype(float)
    n = tn + fp + fn + tp
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = tp / (tp + fn)
        fpr = fp / (fp + tn)
        group = {
            "count": n,
            "base_rate": (tp + fn) / n,
            "selection_rate": (tp + fp) / n,
            "accuracy": (tp + tn) / n,
            "balanced_accuracy": np.nanmean(np.stack([tpr, 1 - fpr]), axis=0),
            "tpr": tpr,
            "fpr": fpr,
            "precision": np.where(tp + fp > 0, tp / np.where(tp + fp > 0, tp + fp, 1), 0.0),
        }

        def gap(values: np.ndarray) -> np.ndarray:
            return np.nanmax(values, axis=1) - np.nanmin(values, axis=1)

        def ratio(values: np.ndarray) -> np.ndarray:
            high = np.nanmax(values, axis=1)
            return np.where(high > 0, np.nanmin(values, axis=1) / np.where(high > 0, high, 1), 1.0)

        tot = {k: v.sum(axis=1) for k, v in {"tn": tn, "fp": fp, "fn": fn, "tp": tp}.items()}
        total = tot["tn"] + tot["fp"] + tot["fn"] + tot["tp"]
        summary = {
            "accuracy": (tot["tp"] + tot["tn"]) / total,
            "balanced_accuracy": 0.5
            * (tot["tp"] / (tot["tp"] + tot["fn"]) + tot["tn"] / (tot["tn"] + tot["fp"])),
            "selection_rate": (tot["tp"] + tot["fp"]) / total,
            "dp_difference": gap(group["selection_rate"]),
            "dp_ratio": ratio(group["selection_rate"]),
            "eo_difference": np.maximum(gap(tpr), gap(fpr)),
            "eo_ratio": np.minimum(ratio(tpr), ratio(fpr)),
            "eop_difference": gap(tpr),
            "accuracy_difference": gap(group["accuracy"]),
        }
    return {**{f"group:{k}": v for k, v in group.items()}, **summary}


def _add_bootstrap_intervals(
    evaluation: Evaluation,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    n_boot: int,
    random_state: int,
) -> None:
    labels = list(evaluation.by_group.index)
    codes = pd.Categorical(groups, categories=labels).codes.astype(np.int64)
    rng = np.random.default_rng(random_state)
    n = len(y_true)
    chunks = []
    for start in range(0, n_boot, 50):  # bounded memory: 50 x n row indices at a time
        rows = rng.integers(0, n, size=(min(50, n_boot - start), n))
        chunks.append(group_confusion_counts(y_true, y_pred, codes, len(labels), rows))
    values = metrics_from_counts(np.concatenate(chunks))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name in SUMMARY_METRICS:
            low, high = np.nanpercentile(values[name], [2.5, 97.5])
            evaluation.summary_ci[name] = (float(low), float(high))
        for name in GROUP_METRICS:
            if name == "count":
                continue
            low, high = np.nanpercentile(values[f"group:{name}"], [2.5, 97.5], axis=0)
            evaluation.by_group[f"{name}_low"] = low
            evaluation.by_group[f"{name}_high"] = high
