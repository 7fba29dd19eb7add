"""Privacy: distance to the closest real record (DCR) and the share of exact copies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.metrics.synthetic.columns import (
    _check_frames,
    _column_kinds,
    _normalise,
    _num,
    _subsample,
)

__all__ = ["privacy_scores"]


def _row_hashes(frame: pd.DataFrame, kinds: dict[str, str]) -> np.ndarray:
    return pd.util.hash_pandas_object(_normalise(frame, kinds), index=False).to_numpy()


class _DistanceSpace:
    """Standardised numerics (NaN -> 0 plus indicator) and one-hot categoricals, fitted on real."""

    def __init__(self, real: pd.DataFrame, kinds: dict[str, str]) -> None:
        self.kinds = kinds
        normed = _normalise(real, kinds)
        self.stats: dict[str, tuple[float, float, bool]] = {}
        self.categories: dict[str, pd.Index] = {}
        for col, kind in kinds.items():
            if kind == "numeric":
                v = normed[col].to_numpy(dtype=np.float64)
                finite = v[~np.isnan(v)]
                mean = float(finite.mean()) if len(finite) else 0.0
                std = float(finite.std()) if len(finite) else 0.0
                self.stats[col] = (mean, std if std > 0 else 1.0, bool(np.isnan(v).any()))
            else:
                self.categories[col] = pd.Index(pd.unique(normed[col]))

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        normed = _normalise(frame, self.kinds)
        blocks = []
        for col, kind in self.kinds.items():
            if kind == "numeric":
                mean, std, has_nan = self.stats[col]
                v = normed[col].to_numpy(dtype=np.float64)
                nan = np.isnan(v)
                blocks.append(np.where(nan, 0.0, (v - mean) / std)[:, None])
                if has_nan:
                    blocks.append(nan.astype(np.float64)[:, None])
            else:
                cats = self.categories[col]
                codes = cats.get_indexer(normed[col].to_numpy())
                onehot = np.zeros((len(normed), len(cats)), dtype=np.float64)
                hit = codes >= 0
                onehot[np.flatnonzero(hit), codes[hit]] = 1.0
                blocks.append(onehot)
        if not blocks:
            return np.zeros((len(normed), 1))
        return np.hstack(blocks)


def privacy_scores(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_holdout: pd.DataFrame | None = None,
    discrete_columns: Sequence[str] | None = None,
    max_rows: int = 5000,
    random_state: int | None = 0,
) -> dict[str, Any]:
    """Distance to closest real record (DCR) and the share of exact copies.

    Rows live in a space of standardised numerics (z-scores from ``real_train``; NaN -> 0 plus a
    missing indicator) and one-hot categoricals; distances are Euclidean. Each synthetic row's DCR
    is its distance to the nearest ``real_train`` row. The baseline is the same figure for real rows
    the model never saw: ``real_holdout`` against ``real_train`` when given; otherwise 20% of
    ``real_train`` is held out and measured against the other 80%. Synthetic DCRs well below the
    baseline mean the generator reproduces its training rows. All sets are subsampled (seeded) to
    at most ``max_rows`` rows; the copy share uses every row (hash join).

    Parameters
    ----------
    real_train, synthetic : DataFrame
        Frames with the same columns.
    real_holdout : DataFrame, optional
        Real rows not used to fit the generator (e.g. the test split).
    discrete_columns : sequence of str, optional
        Numeric columns to treat as categorical.
    max_rows : int, default 5000
        Subsample size of each set in the nearest-neighbour search.
    random_state : int or None, default 0
        Seed of the subsampling and the holdout split.

    Returns
    -------
    dict
        ``{"copy_share", "dcr_synthetic_median", "dcr_synthetic_p05", "dcr_holdout_median",
        "dcr_holdout_p05", "dcr_median_ratio", "share_below_holdout_p05", "baseline"}``.

    Examples
    --------
    >>> import pandas as pd
    >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0], "c": list("aabbc")})
    >>> privacy_scores(real, real)["copy_share"]
    1.0
    """
    from sklearn.neighbors import NearestNeighbors

    _check_frames(real_train, synthetic)
    if real_holdout is not None:
        _check_frames(real_train, real_holdout)
    kinds = _column_kinds(real_train, discrete_columns)
    cols = list(kinds)
    rng = np.random.default_rng(random_state)

    real_hashes = _row_hashes(real_train[cols], kinds)
    syn_hashes = _row_hashes(synthetic[cols], kinds)
    copy_share = float(np.isin(syn_hashes, real_hashes).mean())

    if real_holdout is not None:
        baseline = "real_holdout vs real_train"
        reference = real_train[cols]
        holdout = real_holdout[cols]
        baseline_reference = reference
    else:
        baseline = "20% of real_train vs the other 80%"
        perm = rng.permutation(len(real_train))
        n_hold = len(real_train) // 5
        reference = real_train[cols]
        holdout = real_train[cols].iloc[perm[:n_hold]]
        baseline_reference = real_train[cols].iloc[perm[n_hold:]]

    space = _DistanceSpace(real_train[cols], kinds)

    def _dcr(queries: pd.DataFrame, ref: pd.DataFrame) -> np.ndarray:
        if len(queries) == 0 or len(ref) == 0:
            return np.empty(0)
        q = space.transform(_subsample(queries, max_rows, rng))
        r = space.transform(_subsample(ref, max_rows, rng))
        nn = NearestNeighbors(n_neighbors=1).fit(r)
        return nn.kneighbors(q, return_distance=True)[0][:, 0]

    d_syn = _dcr(synthetic[cols], reference)
    d_hold = _dcr(holdout, baseline_reference)

    def _q(d: np.ndarray, q: float) -> float | None:
        return _num(np.quantile(d, q)) if len(d) else None

    syn_median, hold_median = _q(d_syn, 0.5), _q(d_hold, 0.5)
    hold_p05 = _q(d_hold, 0.05)
    ratio = syn_median / hold_median if syn_median is not None and hold_median else None
    below = float(np.mean(d_syn < hold_p05)) if hold_p05 is not None and len(d_syn) else None
    return {
        "copy_share": copy_share,
        "dcr_synthetic_median": syn_median,
        "dcr_synthetic_p05": _q(d_syn, 0.05),
        "dcr_holdout_median": hold_median,
        "dcr_holdout_p05": hold_p05,
        "dcr_median_ratio": _num(ratio),
        "share_below_holdout_p05": below,
        "baseline": baseline,
    }
