"""Fidelity of the marginals: per-column KS statistic (numeric) and total variation (categorical).

Missing values are kept: numeric NaNs are left out of the KS test (their rate is compared
separately), categorical NaNs are a category of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from fairlatent.metrics.synthetic.columns import (
    _as_float,
    _as_labels,
    _check_frames,
    _column_kinds,
    _mean,
    _num,
)

__all__ = ["column_fidelity"]


def column_fidelity(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    discrete_columns: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Per-column distance between the real and the synthetic marginals.

    Parameters
    ----------
    real, synthetic : DataFrame
        Real and generated rows, with the same columns (kinds are read from ``real``).
    discrete_columns : sequence of str, optional
        Numeric columns to treat as categorical.

    Returns
    -------
    dict
        ``{"columns": {name: {"kind", "ks" | "tvd", "missing_rate_real", "missing_rate_synthetic"}},
        "mean_ks": float | None, "mean_tvd": float | None}``. KS is the two-sample
        Kolmogorov-Smirnov statistic on the non-missing values (1 when only one side has any, 0
        when neither has);
        TVD is the total variation distance ``0.5 * sum |p - q|`` over categories (missing counts as
        a category).

    Examples
    --------
    >>> import pandas as pd
    >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "b"]})
    >>> column_fidelity(real, real)["mean_ks"]
    0.0
    """
    _check_frames(real, synthetic)
    kinds = _column_kinds(real, discrete_columns)
    columns: dict[str, dict[str, Any]] = {}
    for col, kind in kinds.items():
        entry: dict[str, Any] = {
            "kind": kind,
            "missing_rate_real": float(real[col].isna().mean()),
            "missing_rate_synthetic": float(synthetic[col].isna().mean()),
        }
        if kind == "numeric":
            a = _as_float(real[col])
            b = _as_float(synthetic[col])
            a, b = a[~np.isnan(a)], b[~np.isnan(b)]
            if len(a) and len(b):
                entry["ks"] = _num(stats.ks_2samp(a, b, method="asymp").statistic)
            else:  # no values on one side: maximally different; on both: identical
                entry["ks"] = 0.0 if len(a) == len(b) else 1.0
        else:
            p = _as_labels(real[col]).value_counts(normalize=True)
            q = _as_labels(synthetic[col]).value_counts(normalize=True)
            p, q = p.align(q, fill_value=0.0)
            entry["tvd"] = float(0.5 * np.abs(p.to_numpy() - q.to_numpy()).sum())
        columns[col] = entry
    return {
        "columns": columns,
        "mean_ks": _mean([e["ks"] for e in columns.values() if e["kind"] == "numeric"]),
        "mean_tvd": _mean([e["tvd"] for e in columns.values() if e["kind"] == "categorical"]),
    }
