"""The report section on synthetic-data quality (strategies ``gan`` and ``vae+gan``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from markupsafe import Markup

from fairlatent.report.figures import new_figure, short, to_data_uri
from fairlatent.report.templating import report_environment

if TYPE_CHECKING:
    from fairlatent.results import AuditResult


def marginal_figure(marginals: list[dict[str, Any]]) -> str:
    """Real (grey) against synthetic (orange) distributions of the key columns."""
    ncols = 3
    nrows = max(1, int(np.ceil(len(marginals) / ncols)))
    fig, axes = new_figure(11, 2.6 * nrows, ncols=ncols, nrows=nrows)
    for ax, item in zip(axes, marginals, strict=False):
        if item["kind"] == "numeric":
            edges = np.asarray(item["edges"])
            centres = (edges[:-1] + edges[1:]) / 2
            width = edges[1] - edges[0]
            ax.bar(centres, item["real"], width=width, color="#9ca3af", alpha=0.8, label="real")
            ax.step(
                centres, item["synthetic"], where="mid", color="#ea580c", lw=1.5, label="synthetic"
            )
        else:
            x = np.arange(len(item["categories"]))
            ax.bar(x - 0.2, item["real"], 0.4, color="#9ca3af", label="real")
            ax.bar(x + 0.2, item["synthetic"], 0.4, color="#ea580c", label="synthetic")
            ax.set_xticks(
                x, [short(c, 12) for c in item["categories"]], rotation=35, ha="right", fontsize=7
            )
        ax.set_title(short(str(item["column"]), 30), fontsize=9)
    for ax in axes[len(marginals) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    return to_data_uri(fig)


def loss_figure(history: list[dict[str, Any]]) -> str | None:
    """Plot generator and critic losses per epoch."""
    if not history:
        return None
    fig, (ax,) = new_figure(7, 2.6)
    epochs = [h.get("epoch", i + 1) for i, h in enumerate(history)]
    for key, colour in (
        ("generator_loss", "#ea580c"),
        ("critic_loss", "#2563eb"),
        ("condition_loss", "#16a34a"),
    ):
        values = [h.get(key) for h in history]
        if any(v is not None for v in values):
            ax.plot(
                epochs,
                [np.nan if v is None else v for v in values],
                label=key.replace("_", " "),
                color=colour,
            )
    ax.set_xlabel("epoch")
    ax.set_title("GAN training losses")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return to_data_uri(fig)


def synthesis_section(result: AuditResult) -> dict[str, Any]:
    """Render the synthetic-data quality section.

    Parameters
    ----------
    result : AuditResult
        An audit whose ``analyses["synthesis"]`` is set.

    Returns
    -------
    dict
        ``{"id": "synthesis", "title": ..., "html": Markup}``.
    """
    env = report_environment(strict=False)
    items = []
    for name, quality in result.analyses["synthesis"].items():
        diagnostics = result.strategy_info.get(name, {}).get("diagnostics", {})
        items.append(
            {
                "name": name,
                "gen": quality["generator"],
                "utility": quality["generator"].get("utility") or {},
                "added": quality["added_rows"],
                "warnings": quality["warnings"],
                "cells": diagnostics.get("cells", []),
                "selection": diagnostics.get("selection"),
                "fig_marginals": marginal_figure(quality["marginals"]),
                "fig_losses": loss_figure(diagnostics.get("gan", {}).get("history", [])),
            }
        )
    html = env.get_template("synthesis.html").render(items=items)
    return {"id": "synthesis", "title": "Synthetic-data quality", "html": Markup(html)}
