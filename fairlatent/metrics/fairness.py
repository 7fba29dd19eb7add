"""Group fairness metrics with fairlearn, bootstrap intervals, test support and a reference group.

Point estimates come from fairlearn (:class:`fairlearn.metrics.MetricFrame` and its summary
functions) so the numbers in the report are fairlearn's own. Intervals come from a vectorised
percentile bootstrap over the test rows (:mod:`fairlatent.metrics.bootstrap`).

Statistics before prose: a group enters the headline disparity summaries (DP, EO, EOp and accuracy
differences and ratios) only with at least ``min_support`` favourable *and* unfavourable test rows;
thinner groups keep their per-group numbers and are reported as too small to judge. Every group is
also compared with a reference group (the largest well-supported one unless chosen), Aequitas-style:
ratio and difference of selection rate, TPR and FPR, with intervals and a four-fifths flag.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

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

from fairlatent.metrics.bootstrap import (
    bootstrap_rows,
    group_confusion_counts,
    metrics_from_counts,
    percentile_interval,
)
from fairlatent.policy import FOUR_FIFTHS_BAND, MIN_TEST_SUPPORT

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
#: Per-group rates compared with the reference group.
REFERENCE_METRICS: tuple[str, ...] = ("selection_rate", "tpr", "fpr")
#: A group passes against the reference when each rate ratio lies in this range (four-fifths rule).
RATIO_TOLERANCE: tuple[float, float] = FOUR_FIFTHS_BAND
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
        :data:`SUMMARY_METRICS` -> value. Disparity summaries compare the groups in
        :attr:`compared` only; accuracy and selection rate use every row.
    summary_ci : dict
        Same keys -> ``(low, high)`` 95% bootstrap interval (empty when ``n_boot == 0``).
    by_group : DataFrame
        Index: group label; columns: :data:`GROUP_METRICS`, ``<metric>_low``/``<metric>_high``,
        ``test_positives``, ``test_negatives`` and ``supported``.
    compared : list of str
        Groups with enough test support (empty when fewer than two have it: then nothing is
        judged and the disparity summaries are NaN).
    too_small : list of str
        Groups left out of the disparity summaries for lack of test support.
    reference : str
        The reference group of :attr:`reference_view`.
    reference_view : DataFrame
        One row per (group, metric in :data:`REFERENCE_METRICS`) for every group but the
        reference: ``value``, ``reference_value``, ``ratio`` and ``difference`` with intervals,
        and ``status`` (``"pass"``, ``"fail"`` or ``"too small"``).
    replicates : dict
        Summary metric -> its bootstrap replicates (for paired comparisons; not serialised).
    bootstrap_key : tuple
        ``(random_state, n_rows, n_boot)``: evaluations with the same key share replicates.
    """

    summary: dict[str, float]
    summary_ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    by_group: pd.DataFrame = field(default_factory=pd.DataFrame)
    compared: list[str] = field(default_factory=list)
    too_small: list[str] = field(default_factory=list)
    reference: str = ""
    reference_view: pd.DataFrame = field(default_factory=pd.DataFrame)
    replicates: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    bootstrap_key: tuple[int, int, int] = (0, 0, 0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the replicates)."""
        return {
            "summary": self.summary,
            "summary_ci": {k: list(v) for k, v in self.summary_ci.items()},
            "by_group": self.by_group.to_dict(orient="index"),
            "compared_groups": self.compared,
            "too_small_groups": self.too_small,
            "reference": self.reference,
            "reference_view": self.reference_view.to_dict(orient="records"),
        }


def group_support(y_true: np.ndarray, groups: np.ndarray) -> pd.DataFrame:
    """Favourable and unfavourable test rows of every group (index sorted like fairlearn's).

    Examples
    --------
    >>> group_support(np.array([1, 0, 0]), np.array(["a", "a", "b"])).to_dict(orient="index")
    {'a': {'test_positives': 1, 'test_negatives': 1}, 'b': {'test_positives': 0, 'test_negatives': 1}}
    """
    frame = pd.DataFrame({"group": np.asarray(groups).astype(str), "y": np.asarray(y_true, int)})
    table = frame.groupby("group")["y"].agg(test_positives="sum", test_rows="size")
    table["test_negatives"] = table["test_rows"] - table["test_positives"]
    return table[["test_positives", "test_negatives"]].astype(int)


def compared_groups(support: pd.DataFrame, min_support: int) -> tuple[list[str], list[str]]:
    """Split groups into those compared in the headline and those too small to judge.

    When fewer than two groups have ``min_support`` favourable and unfavourable test rows, nothing
    is compared and every group is too small: a comparison needs two well-supported groups, and the
    audit then says it cannot tell (it never compares thin groups, or a group with itself).

    Examples
    --------
    >>> support = group_support(np.array([1, 0] * 30 + [1, 0]), np.array(["a"] * 60 + ["b"] * 2))
    >>> compared_groups(support, 20)
    ([], ['a', 'b'])
    """
    enough = (support["test_positives"] >= min_support) & (
        support["test_negatives"] >= min_support
    )
    compared = [str(g) for g in support.index[enough]]
    if len(compared) < 2:
        return [], [str(g) for g in support.index]
    return compared, [str(g) for g in support.index[~enough]]


def evaluate_predictions(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray | pd.Series,
    *,
    n_boot: int = 200,
    random_state: int = 0,
    min_support: int = MIN_TEST_SUPPORT,
    reference: str | None = None,
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
        Seed of the bootstrap (predictions on the same rows with the same seed share replicates).
    min_support : int, default :data:`MIN_TEST_SUPPORT`
        Fewest favourable and unfavourable test rows of a group in the disparity summaries.
    reference : str, optional
        Reference group; default the largest compared group.

    Returns
    -------
    Evaluation

    Examples
    --------
    >>> ev = evaluate_predictions(np.array([1, 0, 1, 0]), np.array([1, 0, 0, 0]),
    ...                           np.array(["a", "a", "b", "b"]), n_boot=0, min_support=1)
    >>> ev.summary["dp_difference"], ev.reference
    (0.5, 'a')
    """
    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    groups = np.asarray(groups, dtype=object).astype(str)
    support = group_support(y_true, groups)
    compared, too_small = compared_groups(support, min_support)
    in_compared = np.isin(groups, compared)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = MetricFrame(
            metrics=_FAIRLEARN_GROUP_METRICS,
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=pd.Series(groups, name="group"),
        )
        summary = _summary(y_true, y_pred, groups, in_compared)
    by_group = frame.by_group.astype(float)
    by_group.index = by_group.index.astype(str)
    by_group.index.name = "group"
    labels = list(by_group.index)
    codes = pd.Categorical(groups, categories=labels).codes.astype(np.int64)
    compared_idx = [labels.index(g) for g in compared]
    return finish_evaluation(
        y_true, y_pred, codes, summary, by_group, support,
        compared=compared, too_small=too_small, reference=reference,
        n_boot=n_boot, random_state=random_state,
        replicate_metrics=lambda counts: metrics_from_counts(counts, compared_idx),
    )


def finish_evaluation(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    codes: np.ndarray,
    summary: dict[str, float],
    by_group: pd.DataFrame,
    support: pd.DataFrame,
    *,
    compared: list[str],
    too_small: list[str],
    reference: str | None,
    n_boot: int,
    random_state: int,
    replicate_metrics: Callable[[np.ndarray], dict[str, np.ndarray]],
) -> Evaluation:
    """Build an :class:`Evaluation` from its point estimates, with its bootstrap intervals.

    The one tail of :func:`evaluate_predictions` and
    :func:`~fairlatent.metrics.count_evaluation.evaluate_from_counts`: joins the group support,
    marks the supported groups, picks the reference (the largest compared group, first on ties),
    draws the bootstrap replicates of the per-group confusion counts and attaches the intervals.

    Parameters
    ----------
    y_true, y_pred : array of {0, 1}
    codes : array of int
        Each row's group as an index into ``by_group``'s index.
    summary : dict
        Point estimates of :data:`SUMMARY_METRICS`.
    by_group : DataFrame
        Point estimates of :data:`GROUP_METRICS`, indexed by group label.
    support : DataFrame
        :func:`group_support` of the rows.
    compared, too_small : list of str
        :func:`compared_groups` of ``support``.
    reference : str or None
        The reference group (``None``: the largest compared group).
    n_boot, random_state : int
        Bootstrap replicates (0: none) and their seed.
    replicate_metrics : callable
        Confusion-count replicates -> metric values
        (:func:`~fairlatent.metrics.bootstrap.metrics_from_counts` with the compared groups).

    Returns
    -------
    Evaluation

    Raises
    ------
    ValueError
        ``reference`` is not one of the groups.
    """
    by_group = by_group.join(support)
    by_group["supported"] = by_group.index.isin(compared) & ~by_group.index.isin(too_small)
    labels = list(by_group.index)
    if reference is None:  # the largest compared group (the largest group if none is compared)
        reference = max(compared or labels, key=lambda g: by_group.at[g, "count"])  # first on ties
    elif reference not in labels:
        raise ValueError(f"reference group {reference!r} is not among the groups {labels}")
    evaluation = Evaluation(
        summary=summary,
        by_group=by_group,
        compared=compared,
        too_small=too_small,
        reference=reference,
        bootstrap_key=(int(random_state), len(y_true), int(n_boot)),
    )
    group_reps: dict[str, np.ndarray] = {}
    if n_boot > 0:
        counts = np.concatenate(
            [
                group_confusion_counts(y_true, y_pred, codes, len(labels), rows)
                for rows in bootstrap_rows(len(y_true), n_boot, random_state)
            ]
        )
        group_reps = attach_intervals(evaluation, replicate_metrics(counts), summary)
    evaluation.reference_view = reference_view(by_group, reference, group_reps)
    return evaluation


def attach_intervals(
    evaluation: Evaluation, values: dict[str, np.ndarray], summary: dict[str, float]
) -> dict[str, np.ndarray]:
    """Give an evaluation its bootstrap intervals and replicates.

    Parameters
    ----------
    evaluation : Evaluation
        Its ``summary_ci``, ``replicates`` and ``by_group`` interval columns are filled in place.
    values : dict
        Bootstrap metric values, as :func:`~fairlatent.metrics.bootstrap.metrics_from_counts`
        returns them.
    summary : dict
        Point estimates the bias-corrected intervals are centred on.

    Returns
    -------
    dict
        Reference-view metric -> its per-group replicates (for :func:`reference_view`).
    """
    by_group = evaluation.by_group
    for name in SUMMARY_METRICS:
        low, high = percentile_interval(values[name], estimate=summary[name])
        evaluation.summary_ci[name] = (float(low), float(high))
        evaluation.replicates[name] = values[name]
    for name in GROUP_METRICS:
        if name == "count":
            continue
        low, high = percentile_interval(
            values[f"group:{name}"], axis=0, estimate=by_group[name].to_numpy(float)
        )
        by_group[f"{name}_low"] = low
        by_group[f"{name}_high"] = high
    return {m: values[f"group:{m}"] for m in REFERENCE_METRICS}


def _summary(
    y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray, in_compared: np.ndarray
) -> dict[str, float]:
    """Fairlearn's summaries: overall on every row, disparities over the compared groups.

    With no compared groups (fewer than two well-supported ones) the disparities are NaN.
    """
    yc, pc, gc = y_true[in_compared], y_pred[in_compared], groups[in_compared]
    overall = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "selection_rate": float(selection_rate(y_true, y_pred)),
    }
    if not in_compared.any():
        return overall | {name: float("nan") for name in SUMMARY_METRICS if name not in overall}
    accuracy = MetricFrame(
        metrics=accuracy_score, y_true=yc, y_pred=pc, sensitive_features=pd.Series(gc)
    )
    return overall | {
        "dp_difference": float(demographic_parity_difference(yc, pc, sensitive_features=gc)),
        "dp_ratio": float(demographic_parity_ratio(yc, pc, sensitive_features=gc)),
        "eo_difference": float(equalized_odds_difference(yc, pc, sensitive_features=gc)),
        "eo_ratio": float(equalized_odds_ratio(yc, pc, sensitive_features=gc)),
        "eop_difference": float(equal_opportunity_difference(yc, pc, sensitive_features=gc)),
        "accuracy_difference": float(accuracy.difference()),
    }


def reference_view(
    by_group: pd.DataFrame,
    reference: str,
    replicates: dict[str, np.ndarray] | None = None,
    metrics: Sequence[str] = REFERENCE_METRICS,
) -> pd.DataFrame:
    """Every group against the reference: ratio and difference of each rate, with intervals.

    Parameters
    ----------
    by_group : DataFrame
        Per-group metrics with a boolean ``supported`` column (see :class:`Evaluation`).
    reference : str
        The reference group.
    replicates : dict, optional
        Metric -> bootstrap replicates of shape (B, groups), columns in ``by_group`` order.
    metrics : sequence of str
        Rates to compare.

    Returns
    -------
    DataFrame
        Columns ``group``, ``metric``, ``value``, ``reference_value``, ``ratio``, ``ratio_low``,
        ``ratio_high``, ``difference``, ``difference_low``, ``difference_high``, ``status``.
    """
    labels = list(by_group.index)
    ref = labels.index(reference)
    low_ok, high_ok = RATIO_TOLERANCE
    rows = []
    for metric in metrics:
        reps = (replicates or {}).get(metric)
        ref_value = float(by_group.at[reference, metric])
        for i, group in enumerate(labels):
            if group == reference:
                continue
            value = float(by_group.at[group, metric])
            ratio = value / ref_value if ref_value > 0 else float("nan")
            row = {
                "group": group,
                "metric": metric,
                "value": value,
                "reference_value": ref_value,
                "ratio": ratio,
                "difference": value - ref_value,
                "ratio_low": float("nan"),
                "ratio_high": float("nan"),
                "difference_low": float("nan"),
                "difference_high": float("nan"),
            }
            if reps is not None:
                with np.errstate(invalid="ignore", divide="ignore"):
                    ratios = reps[:, i] / reps[:, ref]
                ratios[~np.isfinite(ratios)] = np.nan
                row["ratio_low"], row["ratio_high"] = map(
                    float, percentile_interval(ratios, estimate=ratio)
                )
                diffs = reps[:, i] - reps[:, ref]
                lo, hi = percentile_interval(diffs, estimate=value - ref_value)
                row["difference_low"], row["difference_high"] = float(lo), float(hi)
            if not bool(by_group.at[group, "supported"]):
                row["status"] = "too small"
            elif np.isfinite(ratio) and low_ok <= ratio <= high_ok or not np.isfinite(ratio) and value == ref_value:
                row["status"] = "pass"
            else:
                row["status"] = "fail"
            rows.append(row)
    return pd.DataFrame(rows)
