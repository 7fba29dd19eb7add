"""Privacy: exact copies and distance to the closest real record (DCR), against a real baseline.

Every figure for the synthetic rows comes with the same figure for real rows the generator never
saw, because real data copies itself too: on low-cardinality data half of the unseen real rows may
equal some training row, so a copy share alone says nothing about memorisation. What a memorising
generator does and fresh rows do not is reproduce **rare** training rows, rows that occur once in
the training data (``rare_copy_share``): fresh real rows hit those only by chance, a generator that
learnt the distribution rather than the rows no more often, and one that favours common rows (as
GANs do) less often still.
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
    _subsample,
)

__all__ = ["copy_excess", "privacy_scores"]


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

    Exact copies are counted the same way for both: ``copy_share`` is the share of synthetic
    rows equal to some ``real_train`` row and ``copy_share_holdout`` the share of baseline rows
    equal to some row of their reference; ``rare_copy_share`` and ``rare_copy_share_holdout``
    count only copies of rows that occur once in that reference. :func:`copy_excess` compares
    them.

    Returns
    -------
    dict
        ``{"copy_share", "copy_share_holdout", "rare_copy_share", "rare_copy_share_holdout",
        "n_synthetic", "n_holdout", "dcr_synthetic_median", "dcr_synthetic_p05",
        "dcr_holdout_median", "dcr_holdout_p05", "dcr_median_ratio", "share_below_holdout_p05",
        "baseline"}``.

    Examples
    --------
    >>> import pandas as pd
    >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0], "c": list("aabbc")})
    >>> scores = privacy_scores(real, real, real_holdout=real.iloc[[0, 1]])
    >>> scores["copy_share"], scores["copy_share_holdout"], scores["rare_copy_share"]
    (1.0, 1.0, 1.0)
    """
    from sklearn.neighbors import NearestNeighbors

    _check_frames(real_train, synthetic)
    if real_holdout is not None:
        _check_frames(real_train, real_holdout)
    kinds = _column_kinds(real_train, discrete_columns)
    cols = list(kinds)
    rng = np.random.default_rng(random_state)

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

    copies = _copy_shares(synthetic[cols], real_train[cols], kinds)
    copies_holdout = _copy_shares(holdout, baseline_reference, kinds)

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
        "copy_share": copies[0],
        "copy_share_holdout": copies_holdout[0],
        "rare_copy_share": copies[1],
        "rare_copy_share_holdout": copies_holdout[1],
        "n_synthetic": len(synthetic),
        "n_holdout": len(holdout),
        "dcr_synthetic_median": syn_median,
        "dcr_synthetic_p05": _q(d_syn, 0.05),
        "dcr_holdout_median": hold_median,
        "dcr_holdout_p05": hold_p05,
        "dcr_median_ratio": _num(ratio),
        "share_below_holdout_p05": below,
        "baseline": baseline,
    }


def _copy_shares(
    queries: pd.DataFrame, reference: pd.DataFrame, kinds: dict[str, str]
) -> tuple[float | None, float | None]:
    """Share of ``queries`` rows equal to a ``reference`` row, and to one that occurs once."""
    if len(queries) == 0 or len(reference) == 0:
        return None, None
    counts = pd.Series(_row_hashes(reference, kinds)).value_counts()
    hashes = _row_hashes(queries, kinds)
    copy = np.isin(hashes, counts.index.to_numpy())
    rare = np.isin(hashes, counts.index[counts.to_numpy() == 1].to_numpy())
    return float(copy.mean()), float(rare.mean())


def copy_excess(privacy: dict[str, Any], *, rare: bool = True) -> tuple[float, float] | None:
    """How much more often synthetic rows copy training rows than unseen real rows do.

    Parameters
    ----------
    privacy : dict
        Output of :func:`privacy_scores`.
    rare : bool, default True
        Compare copies of rare training rows (``rare_copy_share``), the memorisation signal;
        ``False`` compares all copies.

    Returns
    -------
    (excess, z) or None
        The difference of the two shares and its size in standard errors (a two-proportion
        z statistic, ``inf`` when both shares are exact); ``None`` without a baseline.

    Examples
    --------
    >>> excess, z = copy_excess({"rare_copy_share": 0.30, "rare_copy_share_holdout": 0.02,
    ...                          "n_synthetic": 1000, "n_holdout": 1000})
    >>> round(excess, 2), round(z, 1)
    (0.28, 17.1)
    """
    key = "rare_copy_share" if rare else "copy_share"
    synthetic, holdout = privacy.get(key), privacy.get(f"{key}_holdout")
    n_syn, n_hold = privacy.get("n_synthetic"), privacy.get("n_holdout")
    if synthetic is None or holdout is None or not n_syn or not n_hold:
        return None
    pooled = (synthetic * n_syn + holdout * n_hold) / (n_syn + n_hold)
    error = math.sqrt(pooled * (1 - pooled) * (1 / n_syn + 1 / n_hold))
    excess = synthetic - holdout
    z = excess / error if error > 0 else (math.inf if excess > 0 else 0.0)
    return round(excess, 12), z
