"""Render the self-contained HTML report with Jinja2 (autoescaping every data-derived string)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fairlatent.metrics.fairness import LOWER_IS_BETTER, METRIC_DESCRIPTIONS, SUMMARY_METRICS
from fairlatent.report.formatting import number, percent

if TYPE_CHECKING:
    from fairlatent.api import AuditResult

TEMPLATE_DIR = Path(__file__).parent / "templates"
#: Summary metrics shown in the before/after table.
TABLE_METRICS = (
    "accuracy",
    "dp_difference",
    "dp_ratio",
    "eo_difference",
    "eop_difference",
    "accuracy_difference",
)


def report_environment(*, strict: bool = True) -> Any:
    """Build the Jinja2 environment of every report template (autoescape, ``num``/``pct`` filters).

    Parameters
    ----------
    strict : bool, default True
        Raise on undefined template variables (``False``: render them empty).
    """
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined if strict else Undefined,
        trim_blocks=strict,
        lstrip_blocks=strict,
    )
    env.filters["num"] = number
    env.filters["pct"] = percent
    return env


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
        "table": _comparison_table(result, summary),
        "table_metrics": TABLE_METRICS,
        "descriptions": METRIC_DESCRIPTIONS,
        "summary_metrics": SUMMARY_METRICS,
        "fig_groups": figures.group_overview(result.data_summary["groups"]),
        "fig_group_metrics": {
            c: figures.group_metric_bars(result, c) for c in result.config.classifiers
        },
        "fig_tradeoff": figures.tradeoff_scatter(summary, result.config.classifiers),
        "group_tables": _group_tables(result),
        "config_json": json.dumps(result.config.to_dict(), indent=2, default=str),
        "sections": _optional_sections(result),
    }
    return env.get_template("report.html").render(**context)


def write_html(result: AuditResult, path: Path) -> Path:
    """Render and write the report to ``path``."""
    path.write_text(render_html(result), encoding="utf-8")
    return path


def _comparison_table(result: AuditResult, summary: Any) -> list[dict[str, Any]]:
    """Rows of the before/after table, with the change against ``none`` marked better/worse."""
    rows = []
    for clf in result.config.classifiers:
        base = summary.loc[("none", clf)]
        for strategy in result.config.strategies:
            if (strategy, clf) not in summary.index:
                continue
            row = summary.loc[(strategy, clf)]
            cells = []
            for metric in TABLE_METRICS:
                value = float(row[metric])
                delta = value - float(base[metric])
                if strategy == "none" or not np.isfinite(delta) or abs(delta) < 0.005:
                    mark = "same"
                elif metric in LOWER_IS_BETTER:
                    mark = "better" if delta < 0 else "worse"
                else:  # accuracy and ratios: higher is better
                    mark = "better" if delta > 0 else "worse"
                cells.append(
                    {
                        "metric": metric,
                        "value": value,
                        "delta": delta,
                        "mark": mark,
                        "low": row.get(f"{metric}_low"),
                        "high": row.get(f"{metric}_high"),
                        "std": row.get(f"{metric}_std"),
                    }
                )
            rows.append({"classifier": clf, "strategy": strategy, "cells": cells})
    return rows


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


def _optional_sections(result: AuditResult) -> list[dict[str, Any]]:
    """Sections contributed by the generative strategies (representation audit, synthesis quality)."""
    sections = []
    if result.representation:
        from fairlatent.report.representation import representation_section

        sections.append(representation_section(result.representation))
    if result.synthesis:
        from fairlatent.report.synthesis import synthesis_section

        sections.append(synthesis_section(result))
    return sections
