"""Column handling shared by every synthetic-data metric: checks, kinds, normalised values.

Column kinds come from :func:`fairlatent.data.kinds.is_numeric` applied to the **real** frame;
``discrete_columns`` forces numeric columns to be categorical. A missing categorical value is the
label :data:`~fairlatent.data.kinds.MISSING_LABEL`. The helpers are for the metric modules of this
package; its ``__init__`` re-exports the message constants.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.data.kinds import MISSING_LABEL, is_numeric
from fairlatent.exceptions import DataError, SchemaError

MSG_COLUMNS = (
    "Synthetic frame does not have the real frame's columns: missing {missing}, unexpected "
    "{extra}. Generate the synthetic rows from a model fitted on this real frame, or select the "
    "same columns in both frames."
)
MSG_DISCRETE = (
    "discrete_columns names columns that are not in the frame: {unknown}; expected a subset of "
    "{columns}. Fix the column names."
)
MSG_EMPTY = (
    "{name} frame has no rows; synthetic-quality metrics need at least one real and one synthetic "
    "row. Pass non-empty frames."
)
MSG_TARGET = (
    "Target column {target!r} is not in {where}; expected one of {columns}. Pass the name of a "
    "column present in the real train, synthetic and real test frames."
)
MSG_TEST_NEEDED = (
    "A target column was given but no real test frame; the utility score trains on synthetic "
    "and on real rows and scores both on real held-out rows. Pass real_test=... or leave "
    "target=None."
)


def _num(value: Any) -> float | None:
    """Return ``value`` as a Python float, ``None`` when it is missing or not finite."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _mean(values: Sequence[float | None]) -> float | None:
    """Mean of the values that are not ``None`` (``None`` when there are none)."""
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def _check_frames(real: pd.DataFrame, synthetic: pd.DataFrame) -> None:
    """Raise unless both frames have rows and ``synthetic`` has exactly ``real``'s columns."""
    if len(real) == 0:
        raise DataError(MSG_EMPTY.format(name="Real"))
    if len(synthetic) == 0:
        raise DataError(MSG_EMPTY.format(name="Synthetic"))
    missing = [c for c in real.columns if c not in synthetic.columns]
    extra = [c for c in synthetic.columns if c not in real.columns]
    if missing or extra:
        raise SchemaError(MSG_COLUMNS.format(missing=missing, extra=extra))


def _column_kinds(
    real: pd.DataFrame, discrete_columns: Sequence[str] | None = None
) -> dict[str, str]:
    """Map every column of ``real`` to ``"numeric"`` or ``"categorical"``.

    A column is numeric when :func:`fairlatent.data.kinds.is_numeric` says so and it is not named
    in ``discrete_columns``.
    """
    forced = set(discrete_columns or ())
    unknown = forced - set(real.columns)
    if unknown:
        raise SchemaError(MSG_DISCRETE.format(unknown=sorted(unknown), columns=list(real.columns)))
    return {
        col: "numeric" if is_numeric(real[col]) and col not in forced else "categorical"
        for col in real.columns
    }


def _as_float(series: pd.Series) -> np.ndarray:
    """Values as float64, anything non-numeric or missing as NaN."""
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _as_labels(series: pd.Series) -> pd.Series:
    """Categorical values as plain Python strings with missing values as :data:`MISSING_LABEL`."""
    values = series.astype(object)
    mask = pd.isna(values)
    out = values.map(str)
    out[mask.to_numpy()] = MISSING_LABEL
    return out.astype(object)


def _normalise(frame: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """Numeric columns as float64, categoricals as object strings, in ``kinds`` order."""
    data = {}
    for col, kind in kinds.items():
        if kind == "numeric":
            data[col] = _as_float(frame[col])
        else:
            data[col] = _as_labels(frame[col]).to_numpy()
    return pd.DataFrame(data, index=pd.RangeIndex(len(frame)))


def _subsample(frame: pd.DataFrame, max_rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """At most ``max_rows`` rows of ``frame`` (a sorted random subset), with a fresh index."""
    if len(frame) <= max_rows:
        return frame.reset_index(drop=True)
    idx = np.sort(rng.choice(len(frame), size=max_rows, replace=False))
    return frame.iloc[idx].reset_index(drop=True)


def _subsample_pair(
    real: pd.DataFrame, synthetic: pd.DataFrame, max_rows: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Subsample ``real``, then ``synthetic`` in ``real``'s column order, with one generator."""
    return (
        _subsample(real, max_rows, rng),
        _subsample(synthetic[list(real.columns)], max_rows, rng),
    )
