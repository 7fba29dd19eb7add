"""Association structure: one association matrix over all columns, real against synthetic.

The matrix (used by :func:`correlation_difference`) takes, for each column pair,

* numeric x numeric: Pearson correlation (signed, pairwise complete rows);
* categorical x categorical: bias-uncorrected Cramér's V (0..1);
* numeric x categorical: correlation ratio eta (0..1).

This mixes three measures on the same [-1, 1] / [0, 1] scale so a single mean absolute
difference covers every column pair, without the width explosion of one-hot encoding. Pairs
involving a constant column have association 0. The Pearson-only figure over numeric columns
is reported as well.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.metrics.synthetic.columns import (
    _check_frames,
    _column_kinds,
    _normalise,
    _num,
    _subsample_pair,
)

__all__ = ["correlation_difference"]


def _cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    table = pd.crosstab(a, b).to_numpy(dtype=np.float64)
    if min(table.shape) < 2:
        return 0.0
    n = table.sum()
    expected = table.sum(1, keepdims=True) @ table.sum(0, keepdims=True) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return math.sqrt(chi2 / (n * (min(table.shape) - 1)))


def _correlation_ratio(labels: np.ndarray, values: np.ndarray) -> float:
    keep = ~np.isnan(values)
    values, labels = values[keep], labels[keep]
    if len(values) < 2:
        return 0.0
    total = float(((values - values.mean()) ** 2).sum())
    if total <= 0.0:
        return 0.0
    codes, inverse = np.unique(labels, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(codes)).astype(np.float64)
    means = np.bincount(inverse, weights=values, minlength=len(codes)) / counts
    between = float((counts * (means - values.mean()) ** 2).sum())
    return math.sqrt(min(between / total, 1.0))


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def _association_matrix(frame: pd.DataFrame, kinds: dict[str, str]) -> np.ndarray:
    cols = list(kinds)
    arrays = {c: frame[c].to_numpy() for c in cols}
    k = len(cols)
    mat = np.eye(k)
    for i in range(k):
        for j in range(i + 1, k):
            ci, cj = cols[i], cols[j]
            ki, kj = kinds[ci], kinds[cj]
            if ki == "numeric" and kj == "numeric":
                v = _pearson(arrays[ci].astype(float), arrays[cj].astype(float))
            elif ki == "categorical" and kj == "categorical":
                v = _cramers_v(arrays[ci], arrays[cj])
            elif ki == "numeric":
                v = _correlation_ratio(arrays[cj], arrays[ci].astype(float))
            else:
                v = _correlation_ratio(arrays[ci], arrays[cj].astype(float))
            mat[i, j] = mat[j, i] = v
    return mat


def correlation_difference(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    discrete_columns: Sequence[str] | None = None,
    max_rows: int = 5000,
    random_state: int | None = 0,
) -> dict[str, Any]:
    """Mean absolute difference between the real and synthetic association matrices.

    See :mod:`fairlatent.metrics.synthetic.correlation` for the association measure of each
    column pair (Pearson, Cramér's V, correlation ratio).

    Parameters
    ----------
    real, synthetic : DataFrame
        Frames with the same columns; each gets its own association matrix.
    discrete_columns : sequence of str, optional
        Numeric columns to treat as categorical.
    max_rows : int, default 5000
        Each frame is subsampled (seeded) to at most this many rows.
    random_state : int or None, default 0
        Seed of the subsampling.

    Returns
    -------
    dict
        ``{"method", "mean_abs_diff", "max_abs_diff", "numeric_pearson_mean_abs_diff"}``; a value is
        ``None`` when there is no column pair of that kind.

    Examples
    --------
    >>> import pandas as pd
    >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [1.0, 0.0, 3.0], "c": ["a", "b", "b"]})
    >>> correlation_difference(real, real)["mean_abs_diff"]
    0.0
    """
    _check_frames(real, synthetic)
    kinds = _column_kinds(real, discrete_columns)
    rng = np.random.default_rng(random_state)
    r, s = (_normalise(f, kinds) for f in _subsample_pair(real, synthetic, max_rows, rng))
    diff = np.abs(_association_matrix(r, kinds) - _association_matrix(s, kinds))
    k = len(kinds)
    upper = np.triu_indices(k, 1)
    numeric = np.array([kind == "numeric" for kind in kinds.values()])
    num_pairs = numeric[upper[0]] & numeric[upper[1]]
    return {
        "method": "pearson (num-num), cramers_v (cat-cat), correlation_ratio (num-cat)",
        "mean_abs_diff": _num(diff[upper].mean()) if k > 1 else None,
        "max_abs_diff": _num(diff[upper].max()) if k > 1 else None,
        "numeric_pearson_mean_abs_diff": (
            _num(diff[upper][num_pairs].mean()) if num_pairs.any() else None
        ),
    }
