"""Render the self-contained HTML report with Jinja2 (autoescaping every data-derived string)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fairlatent.metrics.fairness import METRIC_DESCRIPTIONS, RATIO_TOLERANCE, SUMMARY_METRICS
from fairlatent.metrics.simultaneous import FINDING_DESCRIPTIONS
from fairlatent.policy import GOAL
from fairlatent.report.sections import render_sections
from fairlatent.report.templating import report_environment
from fairlatent.results.comparison import TABLE_METRICS, comparison_rows
from fairlatent.results.findings import ModelFindings
from fairlatent.results.recommendation import recommendation_text, tuning_view
from fairlatent.results.verdict import methods_note

if TYPE_CHECKING:
    from fairlatent.results.records import AuditResult

#: CSS class of each finding state (colour), and its words in the grid.
STATE_CLASS = {
    "established": "worse",
    "inconclusive": "unsure",
    "not_detected": "better",
    "insufficient": "small",
}
STATE_WORDS = {
    "established": "gap established",
    "inconclusive": "inconclusive",
    "not_detected": "no gap detected",
    "insufficient": "too few rows",
}
#: Column headings of the findings grid.
METRIC_LABELS = {
    "selection_rate": "selection rate",
    "tpr": "TPR",
    "fpr": "FPR",
    "fnr": "FNR",
    "ppv": "PPV",
    "fdr": "FDR",
    "npv": "NPV",
    "for": "FOR",
    "accuracy": "accuracy",
}


def _grid(model: ModelFindings) -> dict[str, Any]:
    """Lay one model's findings out as groups x metrics (judged groups first)."""
    fam = model.family
    cells = {(f.group, f.metric): f for f in fam.findings}
    groups = list(dict.fromkeys(f.group for f in fam.findings))
    groups.sort(key=lambda g: g in fam.insufficient_groups)
    return {
        "classifier": model.classifier,
        "strategy": model.strategy,
        "reference": fam.reference,
        "metrics": list(fam.metrics),
        "rows": [
            {"group": g, "thin": g in fam.insufficient_groups, "cells": [cells.get((g, m)) for m in fam.metrics]}
            for g in groups
        ],
        "flagged": model.check.flagged,
        "family_size": fam.family_size,
        "critical_value": fam.critical_value,
    }


def _finding_grids(result: AuditResult) -> dict[tuple[str, str], dict[str, Any]]:
    """(classifier, strategy) -> the first repeat's findings grid."""
    return {
        (m.classifier, m.strategy): _grid(m) for m in result.findings.models if m.repeat == 0
    }


def _switched_off(result: AuditResult) -> set[tuple[str, str]]:
    """(strategy, classifier) pairs whose tuning kept *off* (the baseline) in every repeat."""
    chosen: dict[tuple[str, str], set[str]] = {}
    for rec in result.records:
        if rec.strategy != "none":
            chosen.setdefault((rec.strategy, rec.classifier), set()).add(rec.strength)
    return {key for key, labels in chosen.items() if labels == {"off"}}


def render_html(result: AuditResult) -> str:
    """Render the report of ``result`` to an HTML string.

    Parameters
    ----------
    result : AuditResult

    Returns
    -------
    str
        One self-contained HTML document (inline CSS and PNG figures).
    """
    from fairlatent.report import figures

    env = report_environment()
    summary = result.summary()
    switched_off = _switched_off(result)
    context: dict[str, Any] = {
        "result": result,
        "title": f"fairlatent audit: {result.data_summary.get('name') or 'data'}",
        "created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "verdicts": result.verdicts(),
        "grids": _finding_grids(result),
        "methods_note": methods_note(result),
        "state_class": STATE_CLASS,
        "state_words": STATE_WORDS,
        "metric_labels": METRIC_LABELS,
        "finding_descriptions": FINDING_DESCRIPTIONS,
        "switched_off": switched_off,
        "recommendation_texts": {
            v.classifier: recommendation_text(v.recommendation)
            for v in result.verdicts()
            if v.recommendation is not None
        },
        "goal": GOAL,
        "table": comparison_rows(result, summary),
        "table_metrics": TABLE_METRICS,
        "descriptions": METRIC_DESCRIPTIONS,
        "summary_metrics": SUMMARY_METRICS,
        "fig_groups": figures.group_overview(result.data_summary["groups"]),
        "fig_group_metrics": {
            c: figures.group_metric_bars(result, c) for c in result.config.classifiers
        },
        "fig_tradeoff": figures.tradeoff_scatter(
            summary, result.config.classifiers, switched_off=switched_off
        ),
        "group_tables": _group_tables(result),
        "headline": result.headline(),
        "next_steps": result.next_steps(),
        "tuning": tuning_view(result),
        "ratio_tolerance": RATIO_TOLERANCE,
        "config_json": json.dumps(result.config.to_dict(), indent=2, default=str),
        "sections": render_sections(result),
    }
    return env.get_template("report.html").render(**context)


def _group_tables(result: AuditResult) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = {}
    for rec in result.records:
        if rec.repeat != 0:
            continue
        by_group = rec.evaluation.by_group
        tables.setdefault(rec.classifier, []).extend(
            {"strategy": rec.strategy, "group": g, **by_group.loc[g].to_dict()}
            for g in by_group.index
        )
    return tables
