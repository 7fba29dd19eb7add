"""Optional report sections: one registry, one signature, keyed by the analysis they render.

A section renders :attr:`AuditResult.analyses[name] <fairlatent.results.AuditResult.analyses>`
of the analysis with the same name (see :mod:`fairlatent.metrics.analyses`). Every renderer has one
signature, ``render(result: AuditResult) -> dict`` returning ``{"id", "title", "html"}``; an analysis
with no registered section (e.g. from a plug-in) is shown as an escaped JSON listing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from fairlatent.registry import Registry, load_object

if TYPE_CHECKING:
    from fairlatent.results import AuditResult

Section = dict[str, Any]


@dataclass(frozen=True)
class SectionSpec:
    """A report section for one analysis.

    Parameters
    ----------
    name : str
        The analysis it renders (its key in ``AuditResult.analyses``).
    render : str or callable
        ``"module:function"`` or a callable ``(AuditResult) -> {"id", "title", "html"}``.
    description : str
        One line for documentation.
    """

    name: str
    render: str | Callable[[AuditResult], Section]
    description: str


BUILTIN_SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec(
        "representation",
        "fairlatent.report.representation:representation_section",
        "latent map, rare-region shares and reconstruction error by group",
    ),
    SectionSpec(
        "synthesis",
        "fairlatent.report.synthesis:synthesis_section",
        "real-vs-synthetic marginals, detection, utility and privacy of the synthetic rows",
    ),
    SectionSpec(
        "leakage",
        "fairlatent.report.leakage:leakage_section",
        "how well linear and boosting probes recover the group from each training set",
    ),
    SectionSpec(
        "scores",
        "fairlatent.report.scores:scores_section",
        "AUC, ROC curves, ABROCA and calibration within groups of a given score",
    ),
    SectionSpec(
        "models_compared",
        "fairlatent.report.scores:models_compared_section",
        "every finding's paired change between the user's models",
    ),
    SectionSpec(
        "latent",
        "fairlatent.report.latent:latent_section",
        "certified slices where the models fail, counterfactual flips between groups",
    ),
)

#: Every report section, by analysis name.
SECTIONS: Registry[SectionSpec] = Registry(
    "report section", SectionSpec, BUILTIN_SECTIONS, "fairlatent.report_sections"
)


def _generic_section(name: str, data: Any) -> Section:
    text = json.dumps(data, indent=2, default=str, allow_nan=True)
    html = Markup("<pre>") + escape(text) + Markup("</pre>")
    return {"id": f"analysis-{name}", "title": name.replace("_", " ").capitalize(), "html": html}


def render_sections(result: AuditResult) -> list[Section]:
    """Render the section of every analysis the audit ran, in the order it ran them.

    Parameters
    ----------
    result : AuditResult

    Returns
    -------
    list of dict
        ``{"id", "title", "html"}`` per section.
    """
    sections = []
    for name, data in result.analyses.items():
        if not data:
            continue
        if name in SECTIONS:
            renderer = load_object(SECTIONS.get(name).render)
            sections.append(renderer(result))
        else:
            sections.append(_generic_section(name, data))
    return sections
