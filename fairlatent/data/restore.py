"""Give the real rows of a debiased set back the values the audit changed to learn from them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairlatent.data.schema import MISSING_GROUP, PreparedData

__all__ = ["restore_real_values"]


def restore_real_values(
    rows: pd.DataFrame, is_synthetic: np.ndarray, raw: pd.DataFrame, data: PreparedData
) -> int:
    """Give the real rows of a debiased set back the values the audit had to change to learn.

    The audit pools rare levels of a categorical feature into one level and names missing
    sensitive values ``(missing)``; the rows ``debias`` writes for the user's own model carry the
    user's values instead. A real row is traced through its index (a position in the prepared
    frame) to the raw frame, and only when every other column equals that prepared row (a strategy
    that renumbered or rewrote its rows leaves them as they are). Synthetic rows keep the pooled
    level, which is what the generator learnt. Changes ``rows`` in place.

    Returns
    -------
    int
        Real rows that still carry a value the audit made (they could not be traced).
    """
    pooled = {c: info["label"] for c, info in data.schema.pooled.items()}
    missing = dict.fromkeys(data.schema.sensitive, MISSING_GROUP)
    restorable = [c for c in {**pooled, **missing} if c in rows.columns and c in raw.columns]
    real = ~np.asarray(is_synthetic, dtype=bool)
    if not restorable or data.source_rows is None or len(real) != len(rows):
        return 0
    positions = rows.index.to_numpy()
    if not np.issubdtype(positions.dtype, np.integer):
        positions = np.full(len(rows), -1)
    inside = real & (positions >= 0) & (positions < len(data.frame))
    prepared = data.frame.iloc[positions[inside]]
    traced = np.ones(int(inside.sum()), dtype=bool)
    for column in rows.columns:  # the row must be its source row, apart from restorable values
        if column in restorable or column == data.schema.target or column not in prepared:
            continue
        traced &= _same_values(rows[column].to_numpy()[inside], prepared[column].to_numpy())
    where = np.flatnonzero(inside)[traced]
    source = data.source_rows[positions[where]]
    for column in restorable:
        label = pooled.get(column, missing.get(column))
        current = rows[column].to_numpy()[where]
        original = raw[column].iloc[source].to_numpy()
        changed = _same_values(current, np.full(len(current), label, dtype=object))
        if column not in pooled:  # a sensitive value the audit named as missing
            changed &= pd.isna(original)
        if not changed.any():
            continue
        values = np.array(rows[column].astype(object), dtype=object)
        values[where[changed]] = original[changed]
        rows[column] = values
    made = np.zeros(len(rows), dtype=bool)
    for column in restorable:
        label = pooled.get(column, missing.get(column))
        made |= _same_values(rows[column].to_numpy(), np.full(len(rows), label, dtype=object))
    return int((made & real).sum())


def _same_values(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Elementwise equality where two missing values are equal (and ``pd.NA`` never raises)."""
    left, right = np.asarray(left, dtype=object), np.asarray(right, dtype=object)
    left_na, right_na = pd.isna(left), pd.isna(right)
    same = left_na & right_na
    both = ~left_na & ~right_na
    same[both] = np.asarray(left[both] == right[both], dtype=bool)
    return same
