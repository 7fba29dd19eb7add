"""Headline verdict computed from the numbers: is the baseline unfair, to whom, what fixes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from fairlatent.classifiers import CLASSIFIERS

if TYPE_CHECKING:
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


def build_verdict(result: AuditResult) -> list[dict[str, Any]]:
    """One verdict per classifier.

    Parameters
    ----------
    result : AuditResult

    Returns
    -------
    list of dict
        Keys: classifier, unfair, disadvantaged_group, advantaged_group, baseline (figures),
        best_strategy, best (figures), accuracy_change, meets_goal, text.
    """
    summary = result.summary()
    verdicts = []
    for clf in result.config.classifiers:
        base = summary.loc[("none", clf)]
        rows = {
            s: summary.loc[(s, clf)] for s in result.config.strategies if (s, clf) in summary.index
        }
        best_name = min(rows, key=lambda s: (fairness_score(rows[s]), -rows[s]["accuracy"]))
        best = rows[best_name]
        first = next(
            r
            for r in result.records
            if r.strategy == "none" and r.classifier == clf and r.repeat == 0
        )
        sel = first.evaluation.by_group["selection_rate"]
        low_group, high_group = str(sel.idxmin()), str(sel.idxmax())
        unfair = bool(
            base["dp_ratio"] < DP_RATIO_THRESHOLD or base["eo_difference"] > EO_DIFFERENCE_THRESHOLD
        )
        acc_change = float(best["accuracy"] - base["accuracy"])
        goals = {name: _meets_goal(rows[name], base) for name in rows if name != "none"}
        name = CLASSIFIERS.get(clf).display_name
        if unfair:
            text = (
                f"The {name} baseline is unfair: it predicts the favourable outcome for "
                f"{sel[low_group]:.1%} of {low_group!s} against {sel[high_group]:.1%} of {high_group!s} "
                f"(DP difference {base['dp_difference']:.3f}, ratio {base['dp_ratio']:.2f}; "
                f"EO difference {base['eo_difference']:.3f})."
            )
        else:
            text = (
                f"The {name} baseline shows no large disparity (DP ratio {base['dp_ratio']:.2f}, "
                f"EO difference {base['eo_difference']:.3f})."
            )
        if best_name == "none":
            text += " No strategy lowered the disparity on average."
        else:
            text += (
                f" Fairest strategy: {best_name} — DP difference {base['dp_difference']:.3f} → "
                f"{best['dp_difference']:.3f}, EO difference {base['eo_difference']:.3f} → "
                f"{best['eo_difference']:.3f}, accuracy {base['accuracy']:.3f} → {best['accuracy']:.3f} "
                f"({acc_change * 100:+.1f} points)."
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
        verdicts.append(
            {
                "classifier": clf,
                "unfair": unfair,
                "disadvantaged_group": low_group,
                "advantaged_group": high_group,
                "baseline": _figures(base),
                "best_strategy": best_name,
                "best": _figures(best),
                "accuracy_change": acc_change,
                "meets_goal": goals,
                "frontier_accuracy": frontier.get("accuracy"),
                "text": text,
            }
        )
    return verdicts


def _meets_goal(row: Any, base: Any) -> bool:
    return bool(
        row["dp_difference"] <= GOAL["dp_difference"]
        and row["eo_difference"] <= GOAL["eo_difference"]
        and base["accuracy"] - row["accuracy"] <= GOAL["accuracy_loss"]
    )


def _figures(row: Any) -> dict[str, float]:
    keys = ("accuracy", "dp_difference", "dp_ratio", "eo_difference", "eop_difference")
    return {k: float(row[k]) if np.isfinite(row[k]) else float("nan") for k in keys}
