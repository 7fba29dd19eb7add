"""Synthetic-data quality of the generative strategies, as reported by an audit.

Two views per strategy:

- **generator**: an unconditional sample of the strategy's GAN against the real training rows it
  learned (fidelity, correlations, detection AUC, train-on-synthetic-test-on-real, privacy);
  strategies that share one GAN share this figure.
- **added rows**: the synthetic rows the strategy actually added, against real rows drawn from the
  same (group, label) cells in the same proportions (fidelity and detection AUC).

Marginal histograms of the key columns (the target plus the worst-reproduced columns) go along for
the report's real-vs-synthetic plots.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.metrics.synthetic import (
    column_fidelity,
    detection_auc,
    quality_warnings,
    synthetic_quality,
)

logger = logging.getLogger(__name__)

#: Largest unconditional sample drawn from a GAN for its quality figures.
MAX_QUALITY_ROWS = 5000
#: Columns shown in the real-vs-synthetic marginal plots.
N_MARGINAL_COLUMNS = 6


def synthesis_audit(
    outputs: dict[str, Any],
    *,
    train: pd.DataFrame,
    test: pd.DataFrame,
    target: str,
    group_column: str,
    random_state: int = 0,
) -> dict[str, Any] | None:
    """Quality of every generative strategy's synthetic rows (see the module docstring).

    Parameters
    ----------
    outputs : dict
        Strategy name -> :class:`~fairlatent.strategies.StrategyOutput` (first repeat).
    train, test : DataFrame
        The real training and held-out rows of that repeat.
    target, group_column : str
        Column names of the 0/1 target and the group label.
    random_state : int, default 0

    Returns
    -------
    dict or None
        Strategy name -> ``{"generator", "added_rows", "marginals", "warnings"}``; ``None`` when no
        strategy synthesised rows.
    """
    from fairlatent.samplers.synthesis import CELL_GROUP, CELL_LABEL

    readable = {CELL_GROUP: "[group]", CELL_LABEL: f"[{target}]"}
    result: dict[str, Any] = {}
    by_gan: dict[int, dict[str, Any]] = {}
    for name, output in outputs.items():
        sampler = output.artifacts.get("sampler")
        if sampler is None or not np.any(output.is_synthetic):
            continue
        gan = sampler.gan_
        if id(gan) not in by_gan:
            real = _gan_frame(sampler, train, target, group_column).rename(columns=readable)
            real_test = _gan_frame(sampler, test, target, group_column).rename(columns=readable)
            sample = gan.sample(min(len(real), MAX_QUALITY_ROWS), random_state=random_state)
            sample = sample.rename(columns=readable)[list(real.columns)]
            label = readable[CELL_LABEL]
            generator = synthetic_quality(
                real, sample, real_test=real_test, target=label, random_state=random_state
            )
            by_gan[id(gan)] = {
                "quality": generator,
                "marginals": _marginals(real, sample, generator, label),
            }
        shared = by_gan[id(gan)]
        added = _added_rows_quality(output, train, target, group_column, random_state)
        warnings = quality_warnings(shared["quality"])
        warnings += [
            w.replace("WARNING: ", "WARNING (added rows): ", 1) for w in quality_warnings(added)
        ]
        result[name] = {
            "generator": shared["quality"],
            "added_rows": added,
            "marginals": shared["marginals"],
            "warnings": warnings,
        }
    return result or None


def _gan_frame(sampler: Any, frame: pd.DataFrame, target: str, group_column: str) -> pd.DataFrame:
    X = frame.drop(columns=[target, group_column])
    return sampler.gan_training_frame(X, frame[target].to_numpy(), frame[group_column].to_numpy())


def _added_rows_quality(
    output: Any, train: pd.DataFrame, target: str, group_column: str, random_state: int
) -> dict[str, Any]:
    synthetic = output.frame.loc[output.is_synthetic]
    rng = np.random.default_rng(random_state)
    parts = []
    for (group, label), cell in synthetic.groupby([group_column, target], sort=True):
        real = train[(train[group_column] == group) & (train[target] == label)]
        if len(real):
            parts.append(real.iloc[rng.integers(0, len(real), size=len(cell))])
    matched = pd.concat(parts, ignore_index=True)
    columns = [c for c in train.columns if c not in (target, group_column)]
    fidelity = column_fidelity(matched[columns], synthetic[columns])
    return {
        "n_synthetic": len(synthetic),
        "columns": fidelity["columns"],
        "mean_ks": fidelity["mean_ks"],
        "mean_tvd": fidelity["mean_tvd"],
        "detection": detection_auc(matched[columns], synthetic[columns], random_state=random_state),
    }


def _marginals(
    real: pd.DataFrame, synthetic: pd.DataFrame, quality: dict[str, Any], label_column: str
) -> list[dict[str, Any]]:
    """Histogram data (shared bins) of the label plus the worst-reproduced columns."""
    columns = quality.get("columns", {})
    ranked = sorted(
        (c for c in columns if c != label_column),
        key=lambda c: -(columns[c].get("ks") or columns[c].get("tvd") or 0.0),
    )
    chosen = [label_column, *ranked[: N_MARGINAL_COLUMNS - 1]]
    out = []
    for column in chosen:
        r, s = real[column], synthetic[column]
        if columns.get(column, {}).get("kind") == "numeric":
            values = pd.to_numeric(r, errors="coerce").dropna().to_numpy(float)
            lo, hi = np.quantile(values, [0.005, 0.995]) if len(values) else (0.0, 1.0)
            edges = np.linspace(lo, hi if hi > lo else lo + 1, 31)
            real_hist = np.histogram(np.clip(values, lo, hi), edges)[0]
            synth_values = pd.to_numeric(s, errors="coerce").dropna().to_numpy(float)
            synth_hist = np.histogram(np.clip(synth_values, lo, hi), edges)[0]
            out.append(
                {
                    "column": column,
                    "kind": "numeric",
                    "edges": edges.tolist(),
                    "real": (real_hist / max(real_hist.sum(), 1)).tolist(),
                    "synthetic": (synth_hist / max(synth_hist.sum(), 1)).tolist(),
                }
            )
        else:
            rf = (
                r.astype(object)
                .where(r.notna(), "(missing)")
                .astype(str)
                .value_counts(normalize=True)
            )
            sf = (
                s.astype(object)
                .where(s.notna(), "(missing)")
                .astype(str)
                .value_counts(normalize=True)
            )
            top = list(rf.index[:10])
            out.append(
                {
                    "column": column,
                    "kind": "categorical",
                    "categories": top,
                    "real": [float(rf.get(c, 0.0)) for c in top],
                    "synthetic": [float(sf.get(c, 0.0)) for c in top],
                }
            )
    return out
