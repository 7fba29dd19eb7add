"""The report section on group leakage: how well probes recover the group from each training set."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from fairlatent.report.templating import report_environment

if TYPE_CHECKING:
    from fairlatent.results import AuditResult

TEMPLATE_NAME = "leakage.html"


def leakage_section(result: AuditResult) -> dict[str, Any]:
    """Render ``analyses["leakage"]`` as one small table (every string escaped by Jinja2).

    Returns
    -------
    dict
        ``{"id": "leakage", "title": ..., "html": Markup}``.
    """
    entries = list(result.analyses.get("leakage") or [])
    html = report_environment().get_template(TEMPLATE_NAME).render(entries=entries)
    return {"id": "leakage", "title": "Group leakage of the training sets", "html": Markup(html)}
