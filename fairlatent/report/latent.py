"""The "Where the model fails" section: certified latent slices and counterfactual flips.

See :mod:`fairlatent.metrics.latent_audit` for what is measured. Every data-derived string (rules,
group names, feature values) is HTML-escaped by the template environment's autoescaping.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from fairlatent.report.formatting import percent
from fairlatent.report.templating import report_environment

if TYPE_CHECKING:
    from fairlatent.results import AuditResult

__all__ = ["latent_findings", "latent_section"]

TEMPLATE_NAME = "latent.html"
#: Candidates listed under "tested but not certified".
MAX_OTHERS = 10
#: Certified slices listed (surest first); the rest are in metrics.json.
MAX_CERTIFIED = 15


def latent_findings(lat: dict[str, Any]) -> list[str]:
    """Plain-language headlines of the latent audit (plain text, escaped when rendered).

    Parameters
    ----------
    lat : dict
        Output of :func:`~fairlatent.metrics.latent_audit.latent_audit`.

    Returns
    -------
    list of str
    """
    fam = lat["slice_family"]
    certified = [s for s in lat["slices"] if s["state"] == "certified"]
    findings = []
    if certified:
        top = max(certified, key=lambda s: s["low"])
        findings.append(
            f"{len(certified)} of {fam['n_tested']} candidate slices certified. Surest gap: "
            f"{top['classifier']} ({top['strategy']}) errs on {percent(top['value'])} of rows with "
            f"{top['rule']} ({top['size']} test rows) against {percent(top['rest_value'])} elsewhere "
            f"(difference at least {100 * top['low']:.1f} points, simultaneous interval)."
        )
    else:
        findings.append(
            f"No slice certified among {fam['n_tested']} candidates tested: no region found where a "
            "model errs more than elsewhere beyond the simultaneous intervals."
        )
    for c in lat["counterfactual"]:
        if c["strategy"] != "none" or c["flip_rate"] is None:
            continue
        findings.append(
            f"{c['classifier']}: {percent(c['flip_rate'])} of group {c['group']}'s test rows "
            f"({c['n']}) get another decision when redrawn as another group "
            f"[{percent(c['low'])}, {percent(c['high'])}]."
        )
    return findings


def latent_section(result: AuditResult) -> dict[str, Any]:
    """Render the latent audit as a report section.

    Parameters
    ----------
    result : AuditResult
        An audit whose ``analyses["latent"]`` holds the latent audit.

    Returns
    -------
    dict
        ``{"id": "latent", "title": "Where the model fails", "html": Markup}``.
    """
    lat = result.analyses["latent"]
    slices = lat["slices"]
    distinct = [s for s in slices if s["state"] == "certified" and not s.get("similar_to")]
    context = {
        "lat": lat,
        "fam": lat["slice_family"],
        "findings": latent_findings(lat),
        "certified": distinct[:MAX_CERTIFIED],
        "hidden": sum(1 for s in slices if s["state"] == "certified") - min(len(distinct),
                                                                            MAX_CERTIFIED),
        "others": [s for s in slices if s["state"] != "certified"][:MAX_OTHERS],
    }
    html = report_environment().get_template(TEMPLATE_NAME).render(**context)
    return {"id": "latent", "title": "Where the model fails", "html": Markup(html)}
