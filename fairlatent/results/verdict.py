"""Headline verdict computed from the numbers: is the baseline unfair, to whom, what fixes it.

Statistics before prose: the verdict names only groups with enough test support (see
:func:`fairlatent.metrics.fairness.compared_groups`), every figure it quotes carries its 95% interval,
thinner groups are listed as too small to judge, and a strategy's change is called an improvement
only when its paired-bootstrap interval excludes zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from fairlatent.classifiers import CLASSIFIERS
from fairlatent.results.comparison import change_mark, paired_change
from fairlatent.results.recommendation import recommend, recommendation_text

if TYPE_CHECKING:
    from fairlatent.metrics.fairness import Evaluation
    from fairlatent.results.records import AuditResult

#: A baseline is called unfair when its DP ratio falls below this (the "four-fifths rule") ...
DP_RATIO_THRESHOLD = 0.8
#: ... or when its equalized-odds difference exceeds this.
EO_DIFFERENCE_THRESHOLD = 0.1
#: The project's goal for a mitigation: DP difference, EO difference, accuracy loss (points / 100).
GOAL = {"dp_difference": 0.04, "eo_difference": 0.08, "accuracy_loss": 0.015}


def fairness_score(row: Any) -> float:
    """Mean of the DP and EO differences (lower is fairer)."""
    return float((row["dp_difference"] + row["eo_difference"]) / 2)


def _interval(evaluation: Evaluation, metric: str) -> str:
    low, high = evaluation.summary_ci.get(metric, (np.nan, np.nan))
    return f" [{low:.3f}, {high:.3f}]" if np.isfinite(low) and np.isfinite(high) else ""


def _first(result: AuditResult, strategy: str, classifier: str) -> Evaluation:
    return next(
        r.evaluation
        for r in result.records
        if r.strategy == strategy and r.classifier == classifier and r.repeat == 0
    )


def too_small_groups(evaluation: Evaluation) -> list[dict[str, Any]]:
    """List the groups left out of the headline, with their test support and selection rate."""
    table = evaluation.by_group
    return [
        {
            "group": g,
            "test_rows": int(table.at[g, "count"]),
            "test_positives": int(table.at[g, "test_positives"]),
            "test_negatives": int(table.at[g, "test_negatives"]),
            "selection_rate": float(table.at[g, "selection_rate"]),
        }
        for g in evaluation.too_small
    ]


def largest_disparity(evaluation: Evaluation) -> dict[str, Any]:
    """Find the widest selection-rate gap between two compared groups, with its intervals.

    Returns
    -------
    dict
        ``low_group``, ``high_group``, their ``low_rate``/``high_rate`` and test rows, and the DP
        ``difference``/``ratio`` with ``*_low``/``*_high`` intervals and ``four_fifths`` (ratio
        below 0.8).
    """
    rates = evaluation.by_group.loc[evaluation.compared, "selection_rate"]
    low_group, high_group = str(rates.idxmin()), str(rates.idxmax())
    d_low, d_high = evaluation.summary_ci.get("dp_difference", (np.nan, np.nan))
    r_low, r_high = evaluation.summary_ci.get("dp_ratio", (np.nan, np.nan))
    return {
        "low_group": low_group,
        "high_group": high_group,
        "low_rate": float(rates[low_group]),
        "high_rate": float(rates[high_group]),
        "low_rows": int(evaluation.by_group.at[low_group, "count"]),
        "high_rows": int(evaluation.by_group.at[high_group, "count"]),
        "difference": float(evaluation.summary["dp_difference"]),
        "difference_low": float(d_low),
        "difference_high": float(d_high),
        "ratio": float(evaluation.summary["dp_ratio"]),
        "ratio_low": float(r_low),
        "ratio_high": float(r_high),
        "four_fifths": bool(evaluation.summary["dp_ratio"] < DP_RATIO_THRESHOLD),
    }


def _baseline_text(name: str, base: Any, first: Evaluation, gap: dict[str, Any], unfair: bool) -> str:
    rates = (
        f"it predicts the favourable outcome for {gap['low_rate']:.1%} of {gap['low_group']} "
        f"({gap['low_rows']} test rows) against {gap['high_rate']:.1%} of {gap['high_group']} "
        f"({gap['high_rows']})"
    )
    figures = (
        f"DP difference {base['dp_difference']:.3f}{_interval(first, 'dp_difference')}, "
        f"ratio {base['dp_ratio']:.2f}{_interval(first, 'dp_ratio')}"
        + (", below the four-fifths rule" if gap["four_fifths"] else "")
        + f"; EO difference {base['eo_difference']:.3f}{_interval(first, 'eo_difference')}"
    )
    if unfair:
        return f"The {name} baseline is unfair: {rates} ({figures})."
    return f"The {name} baseline shows no large disparity: {rates} ({figures})."


def _mark(result: AuditResult, strategy: str, clf: str, metric: str, base: Any, row: Any) -> str:
    paired = paired_change(result, strategy, clf, metric)
    interval = None if paired is None else (paired[1], paired[2])
    return change_mark(metric, float(row[metric] - base[metric]), interval)


def _change_text(result: AuditResult, strategy: str, clf: str, metric: str, base: Any, row: Any) -> str:
    paired = paired_change(result, strategy, clf, metric)
    delta = float(row[metric] - base[metric])
    text = f"{base[metric]:.3f} → {row[metric]:.3f}"
    if paired is not None and np.isfinite(paired[1]):
        mark = change_mark(metric, delta, (paired[1], paired[2]))
        verdict = {"better": "clearly better", "worse": "clearly worse"}.get(mark, "no clear change")
        text += f" (change {delta:+.3f} [{paired[1]:+.3f}, {paired[2]:+.3f}], {verdict})"
    return text


def build_verdict(result: AuditResult) -> list[dict[str, Any]]:
    """One verdict per classifier.

    Parameters
    ----------
    result : AuditResult

    Returns
    -------
    list of dict
        Keys: classifier, unfair, recommendation (see
        :func:`~fairlatent.results.recommendation.recommend`; ``None`` when the audit did not
        tune), disadvantaged_group, advantaged_group, disparity (see :func:`largest_disparity`),
        too_small, reference, baseline (figures), best_strategy, best (figures),
        accuracy_change, meets_goal, frontier_accuracy, text.
    """
    summary = result.summary()
    recommendations = {r["classifier"]: r for r in recommend(result)}
    verdicts = []
    for clf in result.config.classifiers:
        base = summary.loc[("none", clf)]
        rows = {
            s: summary.loc[(s, clf)] for s in result.config.strategies if (s, clf) in summary.index
        }
        best_name = min(rows, key=lambda s: (fairness_score(rows[s]), -rows[s]["accuracy"]))
        best = rows[best_name]
        first = _first(result, "none", clf)
        gap = largest_disparity(first)
        unfair = bool(
            base["dp_ratio"] < DP_RATIO_THRESHOLD or base["eo_difference"] > EO_DIFFERENCE_THRESHOLD
        )
        acc_change = float(best["accuracy"] - base["accuracy"])
        goals = {name: _meets_goal(rows[name], base) for name in rows if name != "none"}
        name = CLASSIFIERS.get(clf).display_name if clf in CLASSIFIERS.names() else clf
        text = _baseline_text(name, base, first, gap, unfair)
        clear = best_name != "none" and any(
            _mark(result, best_name, clf, metric, base, best) == "better"
            for metric in ("dp_difference", "eo_difference")
        )
        rec = recommendations.get(clf)
        if rec is not None:
            text += " " + recommendation_text(rec)
        elif best_name == "none":
            text += " No strategy lowered the disparity on average."
        else:
            text += (
                (" Fairest strategy on the test rows (not validated: tuning was off): "
                 if clear else " No strategy clearly lowered the disparity; the fairest on average, ")
                + f"{best_name} — DP difference "
                f"{_change_text(result, best_name, clf, 'dp_difference', base, best)}, "
                f"EO difference {_change_text(result, best_name, clf, 'eo_difference', base, best)}, "
                f"accuracy {_change_text(result, best_name, clf, 'accuracy', base, best)}."
            )
        passing = [s for s, ok in goals.items() if ok]
        text += (
            f" Meets the goal (DP ≤ {GOAL['dp_difference']}, EO ≤ {GOAL['eo_difference']}, "
            f"accuracy within {GOAL['accuracy_loss'] * 100:.1f} points): "
            + (", ".join(passing) if passing else "no strategy")
            + "."
        )
        frontier = result.frontier.get(clf, {})
        if frontier.get("feasible"):
            loss = (base["accuracy"] - frontier["accuracy"]) * 100
            text += (
                f" For reference, the best any group-aware thresholding of the baseline's scores can do "
                f"under the goal on these test rows is accuracy {frontier['accuracy']:.3f} "
                f"({-loss:+.1f} points)"
                + (
                    ": on this data the goal costs more accuracy than it allows."
                    if loss > GOAL["accuracy_loss"] * 100
                    else "."
                )
            )
            if loss <= GOAL["accuracy_loss"] * 100 and rec is not None and not goals.get(
                rec["strategy"], False
            ):
                text += " " + goal_gap_text(rec, result.config.strategies)
        small = too_small_groups(first)
        if small:
            text += " Too small to judge (left out of every figure above): " + "; ".join(
                f"{g['group']} ({g['test_rows']} test rows, {g['test_positives']} favourable, "
                f"{g['test_negatives']} unfavourable; selection rate {g['selection_rate']:.1%})"
                for g in small
            ) + "."
        verdicts.append(
            {
                "classifier": clf,
                "unfair": unfair,
                "clear_improvement": clear,
                "disadvantaged_group": gap["low_group"],
                "advantaged_group": gap["high_group"],
                "disparity": gap,
                "too_small": small,
                "reference": first.reference,
                "baseline": _figures(base),
                "best_strategy": best_name,
                "recommendation": rec,
                "best": _figures(best),
                "accuracy_change": acc_change,
                "meets_goal": goals,
                "frontier_accuracy": frontier.get("accuracy"),
                "text": text,
            }
        )
    return verdicts


def goal_gap_text(rec: dict[str, Any], strategies: list[str]) -> str:
    """Say how close the recommendation came to a goal that is reachable on the test rows, and why.

    Parameters
    ----------
    rec : dict
        A recommendation (see :func:`fairlatent.results.recommend`).
    strategies : list of str
        The audit's strategies.

    Examples
    --------
    >>> pick = {"accuracy": 0.89, "dp_difference": 0.07, "eo_difference": 0.13}
    >>> rec = {"strategy": "reweigh", "test": {"pick": pick, "baseline": {"accuracy": 0.90}},
    ...        "validation": {"pick": {"dp_difference": 0.05, "eo_difference": 0.06}}}
    >>> print(goal_gap_text(rec, ["none", "reweigh"]))  # doctest: +NORMALIZE_WHITESPACE
    The goal is within the accuracy budget on these test rows, yet the recommendation (reweigh) got
    DP 0.070 (goal ≤ 0.04), EO 0.130 (goal ≤ 0.08). Why: that bound fits thresholds to the test
    labels themselves, which no validated method sees; the recommendation minimises the larger gap
    within the budget, not the goal's bounds (on validation: DP 0.050, EO 0.060). To aim at the goal
    itself, add --strategies goal (group thresholds fitted to the goal on validation rows).
    """
    pick, base = rec["test"]["pick"], rec["test"]["baseline"]
    misses = [
        f"{label} {pick[key]:.3f} (goal ≤ {GOAL[key]})"
        for key, label in (("dp_difference", "DP"), ("eo_difference", "EO"))
        if pick[key] > GOAL[key]
    ]
    lost = (base["accuracy"] - pick["accuracy"]) * 100
    if lost > GOAL["accuracy_loss"] * 100:
        misses.append(f"{lost:.1f} accuracy points lost (goal ≤ {GOAL['accuracy_loss'] * 100:.1f})")
    val = rec["validation"]["pick"]
    text = (
        f"The goal is within the accuracy budget on these test rows, yet the recommendation "
        f"({rec['strategy']}) got {', '.join(misses)}. Why: that bound fits thresholds to the test "
        "labels themselves, which no validated method sees; the recommendation minimises the larger "
        "gap within the budget, not the goal's bounds (on validation: DP "
        f"{val['dp_difference']:.3f}, EO {val['eo_difference']:.3f})."
    )
    if not any("goal" in name.split("+") for name in strategies):
        text += (
            " To aim at the goal itself, add --strategies goal (group thresholds fitted to the goal "
            "on validation rows)."
        )
    else:
        text += (
            " The goal strategies ran too: on validation none beat the recommendation within the "
            "budget, and thresholds fitted on validation rows carry over to the test rows with "
            "error, most for the thinnest judged group."
        )
    return text


def _meets_goal(row: Any, base: Any) -> bool:
    return bool(
        row["dp_difference"] <= GOAL["dp_difference"]
        and row["eo_difference"] <= GOAL["eo_difference"]
        and base["accuracy"] - row["accuracy"] <= GOAL["accuracy_loss"]
    )


def _figures(row: Any) -> dict[str, float]:
    keys = ("accuracy", "dp_difference", "dp_ratio", "eo_difference", "eop_difference")
    return {k: float(row[k]) if np.isfinite(row[k]) else float("nan") for k in keys}
