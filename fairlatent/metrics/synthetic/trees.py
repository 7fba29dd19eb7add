"""Features for gradient-boosted trees, shared by the detection and utility scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.metrics.synthetic.columns import _normalise

#: Most frequent categories of a column that get a code of their own; the rest share one.
_HGB_MAX_CATEGORIES = 250


def _tree_features(
    frames: Sequence[pd.DataFrame], kinds: dict[str, str]
) -> tuple[list[np.ndarray], np.ndarray]:
    """Encode frames for HistGradientBoosting: floats, categories as shared ordinal codes.

    Category codes are built from the union of all frames; categories beyond the
    ``_HGB_MAX_CATEGORIES`` most frequent share one "other" code, and a missing categorical is a
    category of its own. A numeric column with missing values gets its NaNs replaced by a value
    below its minimum plus a 0/1 missing indicator (so no column is ever all-NaN within a fold).
    """
    normed = [_normalise(f, kinds) for f in frames]
    blocks: list[list[np.ndarray]] = [[] for _ in normed]
    is_cat: list[bool] = []
    for col, kind in kinds.items():
        if kind == "numeric":
            values = [f[col].to_numpy(dtype=np.float64) for f in normed]
            joined = np.concatenate(values)
            finite = joined[~np.isnan(joined)]
            fill = float(finite.min()) - 1.0 if finite.size else 0.0
            any_nan = bool(np.isnan(joined).any())
            for block, v in zip(blocks, values, strict=True):
                block.append(np.where(np.isnan(v), fill, v))
                if any_nan:
                    block.append(np.isnan(v).astype(np.float64))
            is_cat.extend([False, False] if any_nan else [False])
            continue
        counts = pd.concat([f[col] for f in normed]).value_counts()
        top = counts.index[:_HGB_MAX_CATEGORIES]
        mapping = {label: code for code, label in enumerate(top)}
        other = len(top)
        for block, f in zip(blocks, normed, strict=True):
            block.append(f[col].map(mapping).fillna(other).to_numpy(dtype=np.float64))
        is_cat.append(True)
    out = [
        np.column_stack(block) if block else np.zeros((len(f), 1))
        for block, f in zip(blocks, normed, strict=True)
    ]
    mask = np.array(is_cat if is_cat else [False], dtype=bool)
    return out, mask


def _hgb(is_cat: np.ndarray, random_state: int | None) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        categorical_features=is_cat if is_cat.any() else None,
        max_iter=100,
        early_stopping=False,
        random_state=random_state,
    )
