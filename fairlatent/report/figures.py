"""Matplotlib figures for the report, returned as base64 PNG data URIs (no files, no network)."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fairlatent.strategies import strategy_colour

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from fairlatent.results import AuditResult

_GROUP_PANELS = (
    ("selection_rate", "Selection rate"),
    ("tpr", "True-positive rate"),
    ("fpr", "False-positive rate"),
    ("accuracy", "Accuracy"),
)


def new_figure(
    width: float, height: float, ncols: int = 1, nrows: int = 1
) -> tuple[Figure, np.ndarray]:
    """Create a matplotlib figure (Agg canvas, no global pyplot state) and its axes as a flat array."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes.ravel()


def to_data_uri(fig: Figure) -> str:
    """Render ``fig`` to a PNG data URI."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def short(label: str, width: int = 22) -> str:
    """Shorten a long category label for an axis."""
    return label if len(label) <= width else label[: width - 1] + "…"


def group_overview(groups: Sequence[dict]) -> str:
    """Bar charts of group sizes and base rates."""
    names = [short(g["group"]) for g in groups]
    fig, (ax1, ax2) = new_figure(9, 0.6 + 0.35 * max(3, len(names)), ncols=2)
    y = np.arange(len(names))
    ax1.barh(y, [g["rows"] for g in groups], color="#94a3b8")
    ax1.set_yticks(y, names)
    ax1.invert_yaxis()
    ax1.set_xlabel("rows")
    ax1.set_title("Group size")
    ax2.barh(y, [g["base_rate"] for g in groups], color="#0f766e")
    ax2.set_yticks(y, names)
    ax2.invert_yaxis()
    ax2.set_xlabel("share with the favourable label")
    ax2.set_title("Base rate")
    return to_data_uri(fig)


def group_metric_bars(result: AuditResult, classifier: str) -> str:
    """Per-group selection rate, TPR, FPR and accuracy for each strategy, with 95% intervals."""
    records = [r for r in result.records if r.classifier == classifier and r.repeat == 0]
    strategies = [r.strategy for r in records]
    groups = list(records[0].evaluation.by_group.index)
    thin = set(records[0].evaluation.too_small)
    fig, axes = new_figure(11, 2.2 + 0.25 * len(groups) * len(strategies) ** 0.5, ncols=2, nrows=2)
    width = 0.8 / len(strategies)
    x = np.arange(len(groups))
    for ax, (metric, title) in zip(axes, _GROUP_PANELS, strict=True):
        for i, rec in enumerate(records):
            table = rec.evaluation.by_group
            values = table[metric].to_numpy(float)
            err = None
            if f"{metric}_low" in table:
                low = np.clip(values - table[f"{metric}_low"].to_numpy(float), 0, None)
                high = np.clip(table[f"{metric}_high"].to_numpy(float) - values, 0, None)
                err = np.nan_to_num(np.vstack([low, high]))
            bars = ax.bar(
                x + (i - (len(records) - 1) / 2) * width,
                values,
                width,
                yerr=err,
                capsize=2,
                label=rec.strategy if rec.strength != "off" or rec.strategy == "none"
                else f"{rec.strategy} (off)",
                color=strategy_colour(rec.strategy),
                error_kw={"elinewidth": 0.8},
            )
            for patch, group in zip(bars.patches, groups, strict=True):
                if group in thin:  # too few test rows: hatched and faded
                    patch.set_hatch("///")
                    patch.set_alpha(0.45)
        ax.set_xticks(
            x,
            [short(g, 16) + ("\n(too few rows)" if g in thin else "") for g in groups],
            rotation=20 if len(groups) > 3 else 0,
            ha="right" if len(groups) > 3 else "center",
        )
        ax.set_title(title)
        ax.set_ylim(0, 1.05)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8, ncols=min(5, len(records)))
    return to_data_uri(fig)


def _err(row: pd.Series, metric: str) -> list[list[float]] | None:
    """Asymmetric error bar of ``metric`` from its interval columns (``None`` without one)."""
    low, high = row.get(f"{metric}_low"), row.get(f"{metric}_high")
    value = row[metric]
    if low is None or high is None or not (np.isfinite(low) and np.isfinite(high)):
        return None
    return [[max(0.0, value - low)], [max(0.0, high - value)]]


def tradeoff_scatter(
    summary: pd.DataFrame,
    classifiers: Sequence[str],
    *,
    switched_off: set[tuple[str, str]] | None = None,
) -> str:
    """Accuracy against DP and EO differences for every (strategy, classifier), with intervals.

    Each strategy has one colour and one legend entry (no labels on the points, so nothing
    overlaps); strategies whose tuning kept *off* are grey and named "(off)".
    """
    from fairlatent.policy import GOAL

    off = switched_off or set()
    fig, axes = new_figure(5.2 * len(classifiers) + 2.4, 4.2, ncols=len(classifiers))
    for ax, clf in zip(axes, classifiers, strict=True):
        rows = summary.xs(clf, level="classifier")
        for strategy, row in rows.iterrows():
            name = str(strategy)
            is_off = (name, clf) in off
            colour = "#9ca3af" if is_off else strategy_colour(name)
            label = f"{name} (off)" if is_off else name
            for metric, marker, fill in (("dp_difference", "o", colour), ("eo_difference", "^", "none")):
                if not np.isfinite(row[metric]):
                    continue
                ax.errorbar(
                    row["accuracy"],
                    row[metric],
                    xerr=_err(row, "accuracy"),
                    yerr=_err(row, metric),
                    fmt=marker,
                    ms=7,
                    color=colour,
                    mfc=fill,
                    elinewidth=0.8,
                    capsize=2,
                    alpha=0.6 if is_off else 1.0,
                    label=label if metric == "dp_difference" else None,
                )
        ax.axhline(GOAL.dp_difference, color="#16a34a", ls=":", lw=1)
        ax.axhline(GOAL.eo_difference, color="#ca8a04", ls=":", lw=1)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("accuracy (higher is better)")
        ax.set_ylabel("● DP difference, △ EO difference")
        ax.set_title(clf)
        ax.grid(alpha=0.3)
    handles, labels = axes[-1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize=8, title="strategy")
    return to_data_uri(fig)
