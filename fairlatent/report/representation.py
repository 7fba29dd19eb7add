"""The "Representation audit" section of the HTML report.

See :mod:`fairlatent.metrics.representation` for what is measured.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from markupsafe import Markup

from fairlatent.report.figures import new_figure, short, to_data_uri
from fairlatent.report.formatting import percent
from fairlatent.report.templating import report_environment
from fairlatent.strategies import strategy_colour

if TYPE_CHECKING:
    from jinja2 import Environment

    from fairlatent.results import AuditResult

__all__ = [
    "error_decile_figure",
    "latent_map_figure",
    "rare_share_figure",
    "representation_findings",
    "representation_section",
    "training_figure",
]

TEMPLATE_NAME = "representation.html"
#: Group colours of the latent map (tab10), cycled.
GROUP_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf")
#: A group over-represented among the rarest rows by at least this ratio is called out.
OVER_RATIO = 1.25


def _finite(value: Any) -> bool:
    return value is not None and isinstance(value, int | float) and math.isfinite(value)


def _label(text: str, width: int = 22) -> str:
    """Shorten a label for matplotlib and stop ``$`` from starting mathtext."""
    return short(str(text), width).replace("$", r"\$")


def _ratio_class(value: Any) -> str:
    if not _finite(value):
        return "same"
    if value > OVER_RATIO:
        return "worse"
    return "better" if value < 0.8 else "same"


def _environment() -> Environment:
    env = report_environment()
    env.filters["ratio_class"] = _ratio_class
    return env


def latent_map_figure(latent_map: dict[str, Any]) -> str:
    """Scatter of the test rows' 2-D latent map coloured by group, with training-density contours.

    Parameters
    ----------
    latent_map : dict
        ``rep["map"]`` of :func:`~fairlatent.metrics.representation.representation_audit`.

    Returns
    -------
    str
        PNG data URI.
    """
    fig, (ax,) = new_figure(7.5, 5.5)
    x = np.array([np.nan if v is None else v for v in latent_map["x"]], dtype=float)
    y = np.array([np.nan if v is None else v for v in latent_map["y"]], dtype=float)
    groups = np.array(latent_map["group"], dtype=object)
    names, counts = np.unique(groups, return_counts=True)
    # biggest group first, so smaller groups are drawn on top
    for i, idx in enumerate(np.argsort(-counts, kind="stable")):
        member = groups == names[idx]
        ax.scatter(x[member], y[member], s=6, alpha=0.55, linewidths=0,
                   color=GROUP_COLOURS[i % len(GROUP_COLOURS)],
                   label=f"{_label(names[idx])} ({counts[idx]})")
    contour = latent_map.get("contour")
    if contour:
        density = np.array([[np.nan if v is None else v for v in row]
                            for row in contour["density"]], dtype=float)
        cs = ax.contour(contour["x"], contour["y"], density, levels=[0.05, 0.2, 0.4, 0.6, 0.8],
                        colors="#374151", linewidths=0.8, alpha=0.7)
        ax.clabel(cs, fontsize=7, fmt="%.2f")
    ev = [v or 0.0 for v in latent_map.get("explained_variance", [0.0, 0.0])]
    ax.set_xlabel(f"latent PC1 ({percent(ev[0], 0)} of variance)")
    ax.set_ylabel(f"latent PC2 ({percent(ev[1], 0)} of variance)")
    ax.set_title("Test rows in latent space (contours: training-row density, 1 = densest)")
    ax.legend(fontsize=8, markerscale=2.5, loc="best")
    ax.grid(alpha=0.2)
    return to_data_uri(fig)


def rare_share_figure(rare_groups: dict[str, Any]) -> str:
    """Draw grouped bars of each group's share overall and among the rarest 20% / 10% of test rows.

    Parameters
    ----------
    rare_groups : dict
        ``rep["rare_groups"]``.

    Returns
    -------
    str
        PNG data URI.
    """
    table = rare_groups["groups"]
    shares = sorted(rare_groups["shares"], reverse=True)
    series = [("share_overall", "all test rows", "#94a3b8")] + [
        (f"share_rarest_{s}", f"rarest {s}%", colour)
        for s, colour in zip(shares, ("#f59e0b", "#dc2626", "#7f1d1d"), strict=False)
    ]
    fig, (ax,) = new_figure(8, 1.0 + 0.55 * max(3, len(table)))
    y = np.arange(len(table))
    height = 0.8 / len(series)
    for i, (key, label, colour) in enumerate(series):
        values = [g[key] if _finite(g[key]) else 0.0 for g in table]
        ax.barh(y + (i - (len(series) - 1) / 2) * height, values, height, label=label, color=colour)
    ax.set_yticks(y, [_label(g["group"]) for g in table])
    ax.invert_yaxis()
    ax.set_xlabel("share of rows")
    ax.set_xlim(0, 1)
    ax.set_title("Group share among all test rows and among the rarest rows")
    ax.legend(fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return to_data_uri(fig)


def error_decile_figure(error_by_decile: dict[str, Any]) -> str:
    """Error rate per rarity decile: one panel per classifier, one line per strategy.

    Parameters
    ----------
    error_by_decile : dict
        ``rep["error_by_decile"]``.

    Returns
    -------
    str
        PNG data URI.
    """
    series = error_by_decile["series"]
    classifiers = list(dict.fromkeys(s["classifier"] for s in series)) or ["(none)"]
    fig, axes = new_figure(4.8 * len(classifiers), 3.8, ncols=len(classifiers))
    deciles = error_by_decile["deciles"]
    for ax, clf in zip(axes, classifiers, strict=True):
        for s in (s for s in series if s["classifier"] == clf):
            values = [np.nan if v is None else v for v in s["error"]]
            ax.plot(deciles, values, marker="o", ms=3,
                    color=strategy_colour(s["strategy"]), label=_label(s["strategy"]))
        ax.set_xticks(deciles)
        ax.set_xlabel("rarity decile (1 = most common, 10 = rarest)")
        ax.set_ylabel("error rate")
        ax.set_ylim(bottom=0)
        ax.set_title(_label(clf, 30))
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    return to_data_uri(fig)


def training_figure(training: dict[str, Any]) -> str | None:
    """Training and validation loss per epoch, with the kept epoch marked; ``None`` if empty.

    Parameters
    ----------
    training : dict
        ``rep["training"]``.

    Returns
    -------
    str or None
        PNG data URI.
    """
    epochs = training.get("epoch") or []
    if not epochs:
        return None
    fig, (ax,) = new_figure(6.5, 3.4)
    for key, label, colour in (("train_loss", "training", "#2563eb"),
                               ("val_loss", "validation", "#ea580c")):
        values = [np.nan if v is None else v for v in training.get(key, [])]
        if values and not np.all(np.isnan(values)):
            ax.plot(epochs, values, marker="o" if len(epochs) < 20 else None, ms=3, label=label,
                    color=colour)
    finite = [v for key in ("train_loss", "val_loss") for v in training.get(key, [])[1:]
              if _finite(v)]
    if len(epochs) > 3 and finite:  # the first epoch's loss would flatten the rest of the curve
        low, high = min(finite), max(finite)
        pad = 0.05 * (high - low or 1.0)
        ax.set_ylim(low - pad, high + pad)
    if training.get("best_epoch"):
        ax.axvline(training["best_epoch"], color="#16a34a", ls=":", lw=1.2, label="kept epoch")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (negative ELBO per row)")
    ax.set_title("VAE training curves")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return to_data_uri(fig)


def representation_findings(rep: dict[str, Any]) -> list[str]:
    """Plain-language headlines of the representation audit (plain text, escaped when rendered).

    Parameters
    ----------
    rep : dict
        Output of :func:`~fairlatent.metrics.representation.representation_audit`.

    Returns
    -------
    list of str
    """
    findings = []
    groups = rep["rare_groups"]["groups"]
    over = [g for g in groups if _finite(g.get("ratio_rarest_10")) and g["ratio_rarest_10"]
            > OVER_RATIO]
    for g in sorted(over, key=lambda g: -g["ratio_rarest_10"])[:3]:
        findings.append(
            f"Group {g['group']} makes up {percent(g['share_overall'])} of the test rows but "
            f"{percent(g['share_rarest_10'])} of the rarest 10% ({g['ratio_rarest_10']:.2f}x)."
        )
    baseline = rep.get("baseline_strategy")
    series = rep["error_by_decile"]["series"]
    for s in series:
        if s["strategy"] != baseline:
            continue
        common, rarest = s["error"][0], s["error"][-1]
        if _finite(common) and _finite(rarest):
            findings.append(
                f"{s['classifier']} without mitigation errs on {percent(rarest)} of the rarest "
                f"tenth of test rows against {percent(common)} of the most common tenth."
            )
        for other in series:
            if other["classifier"] != s["classifier"] or other["strategy"] == baseline:
                continue
            if _finite(other["rarest_10"]) and _finite(s["rarest_10"]):
                change = other["rarest_10"] - s["rarest_10"]
                findings.append(
                    f"{s['classifier']} with {other['strategy']}: error on the rarest 10% "
                    f"{percent(other['rarest_10'])} ({'+' if change >= 0 else '−'}"
                    f"{abs(100 * change):.1f} points), overall {percent(other['overall'])} "
                    f"(baseline {percent(s['overall'])})."
                )
    for g in rep["reconstruction"]["groups"]:
        if _finite(g.get("ratio")) and g["ratio"] > OVER_RATIO:
            findings.append(
                f"Group {g['group']} is {percent(g['share_overall'])} of the test rows but "
                f"{percent(g['share_top'])} of the {percent(rep['reconstruction']['top_share'], 0)} "
                f"the VAE reconstructs worst ({g['ratio']:.2f}x): the learned representation "
                "fits it less well."
            )
    clusters = rep["rare_regions"]["clusters"]
    if clusters:
        worst = max(clusters, key=lambda c: c["baseline_error"] if _finite(c["baseline_error"])
                    else -1.0)
        findings.append(f"Rarest region with the highest baseline error: {worst['description']}.")
    return findings


def _error_keys(clusters: Sequence[dict[str, Any]]) -> list[str]:
    if not clusters:
        return []
    return [f"{e['strategy']} / {e['classifier']}" for e in clusters[0]["errors"]]


def representation_section(result: AuditResult) -> dict[str, Any]:
    """Render the representation audit as a report section.

    Every data-derived string (group names, feature values, strategy names) is HTML-escaped by
    Jinja2's autoescaping; figures are inline PNG data URIs.

    Parameters
    ----------
    result : AuditResult
        An audit whose ``analyses["representation"]`` holds the output of
        :func:`~fairlatent.metrics.representation.representation_audit`.

    Returns
    -------
    dict
        ``{"id": "representation", "title": "Representation audit", "html": Markup}``.

    Examples
    --------
    >>> section = representation_section(result)  # doctest: +SKIP
    >>> section["id"]  # doctest: +SKIP
    'representation'
    """
    rep = result.analyses["representation"]
    explained = sum(v for v in rep["map"].get("explained_variance", []) if _finite(v))
    context = {
        "rep": rep,
        "findings": representation_findings(rep),
        "explained": percent(explained, 0),
        "error_keys": _error_keys(rep["rare_regions"]["clusters"]),
        "fig_map": latent_map_figure(rep["map"]),
        "fig_rare": rare_share_figure(rep["rare_groups"]),
        "fig_error": error_decile_figure(rep["error_by_decile"]),
        "fig_training": training_figure(rep["training"]),
    }
    html = _environment().get_template(TEMPLATE_NAME).render(**context)
    return {"id": "representation", "title": "Representation audit", "html": Markup(html)}
