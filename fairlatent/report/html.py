"""Render the self-contained HTML report with Jinja2 (autoescaping every data-derived string)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fairlatent.metrics.fairness import METRIC_DESCRIPTIONS, RATIO_TOLERANCE, SUMMARY_METRICS
from fairlatent.report.sections import render_sections
from fairlatent.report.templating import report_environment
from fairlatent.results.comparison import TABLE_METRICS, comparison_rows, reference_grid
from fairlatent.results.recommendation import tuning_view

if TYPE_CHECKING:
    from fairlatent.results.records import AuditResult

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
    context: dict[str, Any] = {
        "result": result,
        "title": f"fairlatent audit: {result.data_summary.get('name') or 'data'}",
        "created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "verdicts": result.verdict(),
        "table": comparison_rows(result, summary),
        "table_metrics": TABLE_METRICS,
        "descriptions": METRIC_DESCRIPTIONS,
        "summary_metrics": SUMMARY_METRICS,
        "fig_groups": figures.group_overview(result.data_summary["groups"]),
        "fig_group_metrics": {
            c: figures.group_metric_bars(result, c) for c in result.config.classifiers
        },
        "fig_tradeoff": figures.tradeoff_scatter(summary, result.config.classifiers),
        "group_tables": _group_tables(result),
        "headline": result.headline(),
        "next_steps": result.next_steps(),
        "reference_grids": reference_grid(result),
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
