"""Synthetic-data quality of the generative strategies, as reported by an audit.

Two views per strategy:

- **generator**: an unconditional sample of the strategy's GAN against the real training rows it
  learned (fidelity, correlations, detection AUC, train-on-synthetic-test-on-real, privacy);
  strategies that share one GAN share this figure. The GAN is reached only through the
  :class:`~fairlatent.samplers.SyntheticSource` each generative strategy leaves in its artifacts
  under :data:`~fairlatent.strategies.base.ARTIFACT_SYNTHETIC_SOURCE`.
- **added rows**: the synthetic rows the strategy actually added, against real rows drawn from the
  same (group, label) cells in the same proportions (fidelity and detection AUC).

Marginal histograms of the key columns (the target plus the worst-reproduced columns) go along for
the report's real-vs-synthetic plots.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fairlatent.data.kinds import MISSING_LABEL
from fairlatent.metrics.synthetic import (
    column_fidelity,
    detection_auc,
    quality_warnings,
    synthetic_quality,
)
from fairlatent.strategies.base import ARTIFACT_SYNTHETIC_SOURCE

if TYPE_CHECKING:
    from fairlatent.samplers.synthetic_source import SyntheticSource

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
        Strategy name -> :class:`~fairlatent.strategies.StrategyOutput` (first repeat); those
        without a :data:`~fairlatent.strategies.base.ARTIFACT_SYNTHETIC_SOURCE` artifact or
        without synthetic rows are left out.
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
    result: dict[str, Any] = {}
    by_source: dict[int, dict[str, Any]] = {}
    for name, output in outputs.items():
        source = output.artifacts.get(ARTIFACT_SYNTHETIC_SOURCE)
        if source is None or not np.any(output.is_synthetic):
            continue
        if source.identity not in by_source:
            real = _real_frame(source, train, target, group_column)
            real_test = _real_frame(source, test, target, group_column)
            sample = source.sample(min(len(real), MAX_QUALITY_ROWS), random_state=random_state)
            sample = sample[list(real.columns)]
            label = source.label_column
            generator = synthetic_quality(
                real, sample, real_test=real_test, target=label, random_state=random_state
            )
            by_source[source.identity] = {
                "quality": generator,
                "marginals": _marginals(real, sample, generator, label),
            }
        shared = by_source[source.identity]
        added = _added_rows_quality(output, train, target, group_column, random_state)
        warnings = quality_warnings(shared["quality"])
        warnings += quality_warnings(added, scope="added rows")
        result[name] = {
            "generator": shared["quality"],
            "added_rows": added,
            "marginals": shared["marginals"],
            "warnings": warnings,
        }
    return result or None


def _real_frame(
    source: SyntheticSource, frame: pd.DataFrame, target: str, group_column: str
) -> pd.DataFrame:
    """Return the real rows of ``frame`` as the source's generator sees them."""
    X = frame.drop(columns=[target, group_column])
    return source.real_frame(X, frame[target].to_numpy(), frame[group_column].to_numpy())


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
            rf, sf = _label_shares(r), _label_shares(s)
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


def _label_shares(series: pd.Series) -> pd.Series:
    """Share of each value as a label (missing values as :data:`MISSING_LABEL`), commonest first."""
    labels = series.astype(object).where(series.notna(), MISSING_LABEL).astype(str)
    return labels.value_counts(normalize=True)
