"""The short HTML page of ``fairlatent compare``: findings that appeared, disappeared or changed state."""

from __future__ import annotations

from typing import Any

from fairlatent.report.templating import report_environment

__all__ = ["render_comparison"]


def render_comparison(diff: dict[str, Any]) -> str:
    """Render the output of :func:`~fairlatent.results.audit_diff.diff_audits` as one HTML page.

    Every data string is escaped by Jinja2's autoescaping.

    Parameters
    ----------
    diff : dict

    Returns
    -------
    str
    """
    css = (report_environment().loader.get_source(report_environment(), "report.css")[0])
    return str(report_environment().get_template("compare.html").render(diff=diff, css=css))
