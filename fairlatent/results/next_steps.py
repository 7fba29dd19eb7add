"""Plain-language headline and "what to do next", derived from the audit's numbers.

Shown at the top of the report and in the terminal summary. Every sentence rests on a figure the
result holds; nothing here is computed from prose.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from fairlatent.results.models_compared import audits_given_predictions
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
    if first.compared:
        lines.append(
            f"Groups compared ({len(first.compared)}): {', '.join(first.compared)}; reference "
            f"group: {first.reference}."
        )
    else:
        lines.append(
            "No group comparison: fewer than two groups have "
            f"{result.config.min_test_support} favourable and unfavourable test rows."
        )
    if first.too_small:
        lines.append(
            f"Too small to judge (fewer than {result.config.min_test_support} favourable or "
            f"unfavourable test rows): {', '.join(first.too_small)}."
        )
    return lines


def data_argument(result: AuditResult) -> str:
    """Return the audit's data file, quoted for a shell (``DATA`` for a library call).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> data_argument(SimpleNamespace(command="fairlatent audit 'my data.csv' --target y"))
    "'my data.csv'"
    >>> data_argument(SimpleNamespace(command=None))
    'DATA'
    """
    command = getattr(result, "command", None)
    if command:
        parts = shlex.split(command)
        if len(parts) > 2 and parts[:2] == ["fairlatent", "audit"]:
            return shlex.quote(parts[2])
    return "DATA"


def rerun_command(result: AuditResult, **changes: Any) -> str:
    """Return the audit's command line with options changed (``repeats=3`` -> ``--repeats 3``).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> cmd = "fairlatent audit d.csv --target y --sensitive g --repeats 1 --out reports/d"
    >>> rerun_command(SimpleNamespace(command=cmd), repeats=3)
    'fairlatent audit d.csv --target y --sensitive g --repeats 3 --out reports/d'
    >>> rerun_command(SimpleNamespace(command=cmd), min_group_size=50)
    'fairlatent audit d.csv --target y --sensitive g --repeats 1 --out reports/d --min-group-size 50'
    """
    command = getattr(result, "command", None)
    if not command:
        cfg = result.config
        command = shlex.join(
            ["fairlatent", "audit", "DATA", "--target", cfg.target, "--sensitive",
             ",".join(cfg.sensitive)]
        )
    parts = shlex.split(command)
    for name, value in changes.items():
        flag = "--" + name.replace("_", "-")
        if flag in parts:
            parts[parts.index(flag) + 1] = str(value)
        else:
            parts += [flag, str(value)]
    return shlex.join(parts)


def how_to_apply(strategy: str, classifier: str, data: str = "DATA") -> str:
    """Say how a user applies ``strategy``: its training set from ``debias``, or in their pipeline.

    Examples
    --------
    >>> print(how_to_apply("reweigh", "logreg", "data.csv"))
    write its training set with: fairlatent debias data.csv --strategy reweigh --classifier logreg
    --out debiased.csv
    """
    if strategy in STRATEGIES and STRATEGIES.get(strategy).debias:
        return (
            f"write its training set with: fairlatent debias {data} --strategy {strategy} "
            f"--classifier {classifier} --out debiased.csv"
        )
    return (
        "it changes the classifier or its decisions per group, which a training set cannot "
        "carry, so apply it where you fit the classifier (post-processors: "
        "fairlatent.GoalPostProcessor or ThresholdPostProcessor with your fitted model, "
        "prefit=True, fitted on held-out rows); fairlatent debias "
        f"{data} --strategy auto --classifier {classifier} --out debiased.csv writes the best "
        "data-only strategy's training set"
    )


def next_steps(result: AuditResult) -> list[str]:
    """List what a user should do next, most important first, with real commands.

    Parameters
    ----------
    result : AuditResult

    Returns
    -------
    list of str
    """
    steps: list[str] = []
    verdicts = result.verdicts()
    schema = result.schema
    cfg = result.config
    data = shlex.join(["--target", cfg.target, "--sensitive", ",".join(cfg.sensitive)])
    if cfg.positive_label is not None:
        data += " " + shlex.join(["--positive-label", str(cfg.positive_label)])
    data = f"{data_argument(result)} {data}"
    if schema.positive_label_inferred:
        steps.append(
            f"Check the favourable label: {schema.positive_label!r} of {schema.target!r} was "
            "inferred; if that is the unfavourable outcome, rerun with --positive-label."
        )
    for verdict in verdicts:
        clf, head, rec = verdict.classifier, verdict.headline, verdict.recommendation
        if head.check.flagged:
            steps.append(
                f"{clf}: fix the model first — it is no better than predicting the majority label "
                "for everyone, so its fairness figures describe a model nobody should deploy."
            )
        if head.state == "cannot_tell":
            steps.append(
                f"{clf}: nothing could be judged. Collect more rows for the thin groups, or merge "
                f"groups: {rerun_command(result, min_group_size=max(cfg.min_group_size * 2, 60))} "
                f"(lowering --min-test-support below {cfg.min_test_support} gives noisier figures)."
            )
            continue
        if head.state == "no_gap" and head.green:
            steps.append(
                f"{clf}: no disparity detected within the margin; keep monitoring with the same "
                "command on new data."
            )
            continue
        if head.state == "inconclusive" and audits_given_predictions(result):
            steps.append(
                f"{clf}: no gap is established and parity is not shown; decisions on more rows "
                "would narrow the intervals."
            )
        elif head.state == "inconclusive":
            steps.append(
                f"{clf}: no gap is established and parity is not shown; more test rows would "
                f"narrow the intervals (more data, or --test-size {min(0.5, cfg.test_size + 0.1):.1f})."
            )
        if rec is not None and rec["strategy"] != "none":
            strength = ", ".join(dict.fromkeys(rec["strengths"]))
            steps.append(
                f"{clf}: use {rec['strategy']} (strength {strength}), chosen on validation rows; "
                f"{how_to_apply(rec['strategy'], clf, data)}"
                + ("." if rec["agrees"] else ", but first rerun with --repeats 3: the test rows "
                   "disagree with validation.")
            )
        elif rec is not None and head.state == "established":
            steps.append(
                f"{clf}: no strategy's validation gain was distinguishable from noise, so the "
                "recommendation is to do nothing yet; try post-processing toward the goal: "
                + rerun_command(result, strategies="none,goal,threshold")
            )
    if cfg.repeats == 1 and not audits_given_predictions(result):  # given decisions: no split
        steps.append(
            "This is one train/test split: see the spread over splits before acting — "
            + rerun_command(result, repeats=3)
        )
    return steps
