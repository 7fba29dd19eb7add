"""The "Scores by group" and "Models compared" sections of the report (audits of given predictions).

See :mod:`fairlatent.metrics.scores` for what is measured and
:mod:`fairlatent.results.models_compared` for the paired comparison; these renderers only draw
figures and fill templates (every data string is escaped by Jinja2's autoescaping).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from markupsafe import Markup

from fairlatent.report.figures import new_figure, short, to_data_uri
from fairlatent.report.representation import GROUP_COLOURS
from fairlatent.report.templating import report_environment

if TYPE_CHECKING:
    from fairlatent.results import AuditResult

__all__ = ["models_compared_section", "reliability_figure", "roc_figure", "scores_section"]

#: Plain words for the metrics of the findings, for the comparison table.
METRIC_WORDS = {
    "selection_rate": "selection rate",
    "tpr": "TPR",
    "fpr": "FPR",
    "fnr": "FNR",
    "ppv": "precision (PPV)",
    "fdr": "FDR",
    "npv": "NPV",
    "for": "FOR",
    "accuracy": "accuracy",
}


#: A trade-off side's state, in words.
STATE_WORDS = {
    "established": "a gap is established",
    "not_detected": "no gap beyond the practical margin",
    "inconclusive": "inconclusive (no gap established, parity not shown)",
}
#: What the data shows, in words (``tradeoff["holds"]``).
HOLDS_WORDS = {
    "calibration": "The data shows calibration within groups, not equal error rates.",
    "error_rates": "The data shows equal error rates, not calibration within groups.",
    "both": "The data shows both within the margin: the base rates are close enough for both to hold.",
    "neither": "The data shows neither: the score is miscalibrated for a group and error-rate gaps are "
    "established.",
    "error_rates_differ": "Error rates differ between groups, while no group's calibration gap is "
    "established (some intervals are too wide to show calibration within the margin): the pattern the "
    "trade-off predicts for a score calibrated within groups.",
    "cannot_tell": "The data cannot tell which of the two holds.",
}


def _label(text: str) -> str:
    return short(str(text), 24).replace("$", r"\$")


def roc_figure(metrics: dict[str, Any]) -> str:
    """ROC curve of every group (the reference drawn thicker), with the chance diagonal."""
    fig, (ax,) = new_figure(5.2, 4.6)
    ax.plot([0, 1], [0, 1], color="#cbd5e1", lw=1, ls="--", label="chance")
    for i, (group, curve) in enumerate(metrics["roc"].items()):
        ref = group == metrics["reference"]
        auc = next((g["auc"] for g in metrics["groups"] if g["group"] == group), None)
        name = _label(group) + (" (reference)" if ref else "") + (f", AUC {auc:.3f}" if auc is not None else "")
        ax.plot(curve["fpr"], curve["tpr"], color=GROUP_COLOURS[i % len(GROUP_COLOURS)],
                lw=2.4 if ref else 1.4, label=name)
    ax.set_xlabel("false-positive rate (unfavourable rows ranked favourable)")
    ax.set_ylabel("true-positive rate")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("ROC curve by group")
    return to_data_uri(fig)


def reliability_figure(metrics: dict[str, Any], direction: str = "higher") -> str:
    """Share of favourable rows at each score level, per group (calibration within groups).

    Groups too thin to judge are drawn dotted. A ``lower`` score that is not a probability is drawn
    on its own scale (it was negated to orient it).
    """
    fig, (ax,) = new_figure(5.2, 4.6)
    bins = metrics["reliability"]["bins"]
    x = np.array([b["mean_score"] for b in bins], dtype=float)
    flipped = direction == "lower" and not metrics["probabilities"]
    if flipped:
        x = -x
    supported = {g["group"]: g["supported"] for g in metrics["groups"]}
    for i, (group, cells) in enumerate(metrics["reliability"]["groups"].items()):
        rows = np.array([c["rows"] for c in cells], dtype=float)
        obs = np.array([np.nan if c["observed"] is None else c["observed"] for c in cells], dtype=float)
        keep = rows > 0
        judged = supported.get(group, True)
        ax.plot(x[keep], obs[keep], marker="o" if judged else None, ms=3, lw=1.4 if judged else 0.9,
                ls="-" if judged else ":", color=GROUP_COLOURS[i % len(GROUP_COLOURS)],
                label=_label(group) + ("" if judged else " (too thin)"))
    if metrics["probabilities"]:
        ax.plot([0, 1], [0, 1], color="#cbd5e1", lw=1, ls="--", label="perfect calibration")
    ax.set_xlabel("score (lower = favourable more likely)" if flipped
                  else "score (oriented: higher = favourable more likely)")
    ax.set_ylabel("share of rows with the favourable label")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8)
    ax.set_title("Calibration within groups")
    return to_data_uri(fig)


def scores_section(result: AuditResult) -> dict[str, Any]:
    """Render ``analyses["scores"]``: AUC, ROC, ABROCA, calibration and the trade-off paragraph.

    Parameters
    ----------
    result : AuditResult
        An audit of given predictions with a score (see :mod:`fairlatent.engine.predictions`).

    Returns
    -------
    dict
        ``{"id": "scores", "title": "Scores by group", "html": Markup}``.
    """
    data = result.analyses["scores"]
    models = [
        {"name": name, "m": metrics, "fig_roc": roc_figure(metrics),
         "fig_rel": reliability_figure(metrics, data["direction"])}
        for name, metrics in data["models"].items()
    ]
    html = report_environment().get_template("scores.html").render(
        models=models, direction=data["direction"], words=METRIC_WORDS, state_words=STATE_WORDS,
        holds_words=HOLDS_WORDS,
        favourable=result.schema.positive_label, target=result.schema.target,
    )
    return {"id": "scores", "title": "Scores by group", "html": Markup(html)}


def models_compared_section(result: AuditResult) -> dict[str, Any]:
    """Render ``analyses["models_compared"]``: every finding's paired change against the first model.

    Returns
    -------
    dict
        ``{"id": "models-compared", "title": "Models compared", "html": Markup}``.
    """
    data = result.analyses["models_compared"]
    html = report_environment().get_template("models_compared.html").render(
        data=data, words=METRIC_WORDS,
    )
    return {"id": "models-compared", "title": "Models compared", "html": Markup(html)}
