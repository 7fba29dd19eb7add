"""Plain-language headline and "what to do next", derived from the audit's numbers.

Shown at the top of the report and in the terminal summary. Every sentence rests on a figure the
result holds; nothing here is computed from prose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fairlatent.results.verdict import GOAL
from fairlatent.strategies import STRATEGIES

if TYPE_CHECKING:
    from fairlatent.results.records import AuditResult


def headline(result: AuditResult) -> list[str]:
    """Return the lines that frame every other figure: the favourable label, the groups compared.

    The first line names the favourable outcome and says whether it was inferred.
    """
    schema = result.schema
    label = f"Favourable outcome: {schema.target} = {schema.positive_label!r}"
    label += (
        " (inferred; pass --positive-label to choose another)."
        if schema.positive_label_inferred
        else " (as given)."
    )
    lines = [label]
    first = next(r.evaluation for r in result.records if r.repeat == 0)
    lines.append(
        f"Groups compared ({len(first.compared)}): {', '.join(first.compared)}; reference group: "
        f"{first.reference}."
    )
    if first.too_small:
        lines.append(
            f"Too small to judge (fewer than {result.config.min_test_support} favourable or "
            f"unfavourable test rows): {', '.join(first.too_small)}."
        )
    return lines


def how_to_apply(strategy: str, classifier: str) -> str:
    """Say how a user applies ``strategy``: its training set from ``debias``, or in their pipeline.

    Examples
    --------
    >>> how_to_apply("reweigh", "logreg")
    'write its training set with `fairlatent debias DATA --strategy reweigh --classifier logreg`'
    """
    if strategy in STRATEGIES and STRATEGIES.get(strategy).debias:
        return (
            f"write its training set with `fairlatent debias DATA --strategy {strategy} "
            f"--classifier {classifier}`"
        )
    return (
        "it changes the classifier or its decisions per group, which a training set cannot "
        "carry, so apply it where you fit the classifier (post-processors: "
        "fairlatent.GoalPostProcessor or ThresholdPostProcessor with your fitted model, "
        "prefit=True, fitted on held-out rows); `fairlatent debias "
        f"DATA --strategy auto --classifier {classifier}` writes the best data-only strategy's "
        "training set"
    )


def next_steps(result: AuditResult) -> list[str]:
    """List what a user should do next, most important first.

    Parameters
    ----------
    result : AuditResult

    Returns
    -------
    list of str
    """
    steps: list[str] = []
    verdicts = result.verdict()
    schema = result.schema
    if schema.positive_label_inferred:
        steps.append(
            f"Check the favourable label: {schema.positive_label!r} of {schema.target!r} was "
            "inferred; if that is the unfavourable outcome, rerun with --positive-label."
        )
    for verdict in verdicts:
        clf = verdict["classifier"]
        if not verdict["unfair"]:
            steps.append(
                f"{clf}: the baseline shows no large disparity between the groups compared; "
                "keep monitoring, and check the too-small groups separately if any."
            )
            continue
        rec = verdict["recommendation"]
        passing = [name for name, ok in verdict["meets_goal"].items() if ok]
        if rec is not None and rec["strategy"] != "none":
            strength = ", ".join(dict.fromkeys(rec["strengths"]))
            steps.append(
                f"{clf}: use {rec['strategy']} (strength {strength}), the strategy validation "
                f"picked; {how_to_apply(rec['strategy'], clf)}"
                + ("." if rec["agrees"] else ", but first rerun with --repeats 3: the test rows "
                   "disagree with validation.")
            )
        elif rec is not None:
            steps.append(
                f"{clf}: no strategy beat the baseline on validation within the accuracy budget; "
                "try --accuracy-budget if more accuracy may be traded, or other strategies."
            )
        elif passing:
            steps.append(
                f"{clf}: {passing[0]} meets the goal (DP ≤ {GOAL['dp_difference']}, EO ≤ "
                f"{GOAL['eo_difference']}, accuracy within {GOAL['accuracy_loss'] * 100:.1f} "
                "points); confirm it with --repeats 3 before adopting it."
            )
        elif verdict["clear_improvement"]:
            steps.append(
                f"{clf}: no strategy meets the goal; {verdict['best_strategy']} narrows the gap most. "
                "Compare its accuracy cost in the trade-off plot, or relax the goal knowingly."
            )
        else:
            steps.append(
                f"{clf}: no strategy clearly narrowed the gap; try other strategies or "
                "post-processing, or more repeats to shrink the intervals."
            )
    small = sorted({g["group"] for v in verdicts for g in v["too_small"]})
    if small:
        steps.append(
            f"Groups {', '.join(small)} are too small to judge: collect more rows for them, merge "
            "them with --min-group-size, or lower --min-test-support (noisier figures)."
        )
    if result.config.repeats == 1:
        steps.append(
            "This is one train/test split: rerun with --repeats 3 to see the spread before acting."
        )
    return steps
