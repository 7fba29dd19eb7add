"""Quality of synthetic tabular data: fidelity, detection, utility and privacy.

Every function here takes plain DataFrames (a real frame and a synthetic frame with the same
columns) and returns JSON-serialisable dicts of Python floats (``None`` where a figure cannot be
computed, never ``NaN``). Nothing here depends on how the synthetic rows were made.

Column kinds are taken from the **real** frame: numeric dtypes (bool excluded) are numeric,
everything else (pandas ``string``/``object``/``category``/``bool``) is categorical;
``discrete_columns`` forces numeric columns to be treated as categorical. Missing values are
kept: numeric NaNs are left out of the KS test (their rate is compared separately), categorical
NaNs are a category of their own.

Association matrix (``correlation_difference``): one matrix over all columns, with

* numeric x numeric: Pearson correlation (signed, pairwise complete rows);
* categorical x categorical: bias-uncorrected Cramér's V (0..1);
* numeric x categorical: correlation ratio eta (0..1).

This mixes three measures on the same [-1, 1] / [0, 1] scale so a single mean absolute
difference covers every column pair, without the width explosion of one-hot encoding. Pairs
involving a constant column have association 0. The Pearson-only figure over numeric columns
is reported as well.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from fairlatent.exceptions import DataError, SchemaError

__all__ = [
    "column_fidelity",
    "correlation_difference",
    "detection_auc",
    "privacy_scores",
    "quality_warnings",
    "synthetic_quality",
    "utility_scores",
]

logger = logging.getLogger(__name__)

#: Label used for a missing categorical value.
MISSING_LABEL = "<missing>"

#: Warning thresholds used by :func:`quality_warnings`.
DETECTION_AUC_LIMIT = 0.9
MEAN_KS_LIMIT = 0.2
MEAN_TVD_LIMIT = 0.2
COPY_SHARE_LIMIT = 0.05
UTILITY_GAP_LIMIT = 0.1
DCR_RATIO_LIMIT = 0.5

MSG_COLUMNS = (
    "Synthetic frame does not have the real frame's columns: missing {missing}, unexpected "
    "{extra}. Generate the synthetic rows from a model fitted on this real frame, or select the "
    "same columns in both frames."
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

_HGB_MAX_CATEGORIES = 250


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    """Return ``value`` as a Python float, ``None`` when it is missing or not finite."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def _check_frames(real: pd.DataFrame, synthetic: pd.DataFrame) -> None:
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
    """Map every column of ``real`` to ``"numeric"`` or ``"categorical"``."""
    forced = set(discrete_columns or ())
    unknown = forced - set(real.columns)
    if unknown:
        raise SchemaError(
            f"discrete_columns names columns that are not in the frame: {sorted(unknown)}; "
            f"expected a subset of {list(real.columns)}. Fix the column names."
        )
    kinds = {}
    for col in real.columns:
        dtype = real[col].dtype
        numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        kinds[col] = "numeric" if numeric and col not in forced else "categorical"
    return kinds


def _as_float(series: pd.Series) -> np.ndarray:
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
    if len(frame) <= max_rows:
        return frame.reset_index(drop=True)
    idx = np.sort(rng.choice(len(frame), size=max_rows, replace=False))
    return frame.iloc[idx].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# fidelity
# --------------------------------------------------------------------------------------------


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
        Frames with the same columns.
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

    See the module docstring for the association measure of each column pair (Pearson, Cramér's V,
    correlation ratio).

    Parameters
    ----------
    real, synthetic : DataFrame
        Frames with the same columns.
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
    r = _normalise(_subsample(real, max_rows, rng), kinds)
    s = _normalise(_subsample(synthetic[list(real.columns)], max_rows, rng), kinds)
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


# --------------------------------------------------------------------------------------------
# detection and utility (gradient-boosted trees on ordinal-coded features)
# --------------------------------------------------------------------------------------------


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


def detection_auc(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    discrete_columns: Sequence[str] | None = None,
    max_rows: int = 5000,
    n_splits: int = 3,
    random_state: int | None = 0,
) -> dict[str, Any]:
    """How well a classifier tells real rows from synthetic ones (ROC AUC; 0.5 is ideal).

    Equal numbers of real and synthetic rows (at most ``max_rows`` each, seeded subsample) are
    labelled 0/1; a ``HistGradientBoostingClassifier`` with native categorical support gives
    out-of-fold probabilities by stratified ``n_splits``-fold cross-validation, and the AUC of those
    probabilities is reported. AUC near 1 means the synthetic rows are easy to spot.

    Parameters
    ----------
    real, synthetic : DataFrame
        Frames with the same columns.
    discrete_columns : sequence of str, optional
        Numeric columns to treat as categorical.
    max_rows : int, default 5000
        Rows per class.
    n_splits : int, default 3
        Cross-validation folds.
    random_state : int or None, default 0
        Seed of the subsampling, folds and classifier.

    Returns
    -------
    dict
        ``{"auc": float | None, "n_per_class": int, "n_splits": int, "classifier": str}``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"x": rng.normal(size=200)})
    >>> fake = pd.DataFrame({"x": rng.normal(5.0, 1.0, size=200)})
    >>> detection_auc(real, fake)["auc"] > 0.95
    True
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    _check_frames(real, synthetic)
    kinds = _column_kinds(real, discrete_columns)
    rng = np.random.default_rng(random_state)
    n = min(len(real), len(synthetic), max_rows)
    r = _subsample(real, n, rng)
    s = _subsample(synthetic[list(real.columns)], n, rng)
    result: dict[str, Any] = {
        "auc": None,
        "n_per_class": int(n),
        "n_splits": int(n_splits),
        "classifier": "HistGradientBoostingClassifier",
    }
    folds = min(n_splits, n)
    if folds < 2:
        logger.warning("Detection AUC needs at least 2 rows per class; found %d.", n)
        return result
    (xr, xs), is_cat = _tree_features([r, s], kinds)
    x = np.vstack([xr, xs])
    y = np.r_[np.zeros(n, dtype=int), np.ones(n, dtype=int)]
    seed = int(rng.integers(2**31 - 1))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    proba = cross_val_predict(_hgb(is_cat, seed), x, y, cv=cv, method="predict_proba")[:, 1]
    result["auc"] = _num(roc_auc_score(y, proba))
    result["n_splits"] = int(folds)
    return result


def _target_values(series: pd.Series, numeric: bool) -> np.ndarray:
    if numeric:
        return _as_float(series)
    return _as_labels(series).to_numpy()


def utility_scores(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    real_test: pd.DataFrame,
    *,
    target: str,
    discrete_columns: Sequence[str] | None = None,
    random_state: int | None = 0,
) -> dict[str, Any]:
    """Train-on-synthetic-test-on-real (TSTR) accuracy against train-on-real.

    The same ``HistGradientBoostingClassifier`` is fitted once on ``synthetic`` and once on
    ``real_train`` (all columns but ``target`` as features) and both are scored on ``real_test``.

    Parameters
    ----------
    real_train, synthetic, real_test : DataFrame
        Frames with the same columns, including ``target``.
    target : str
        Label column.
    discrete_columns : sequence of str, optional
        Numeric columns to treat as categorical.
    random_state : int or None, default 0
        Seed of the classifiers.

    Returns
    -------
    dict
        ``{"target", "accuracy_real", "accuracy_synthetic", "gap"}`` where ``gap`` is
        ``accuracy_real - accuracy_synthetic``; ``accuracy_synthetic`` is ``None`` when the
        synthetic target has a single class.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> frame = pd.DataFrame({"x": x, "y": (x > 0).astype(int)})
    >>> res = utility_scores(frame[:300], frame[:300], frame[300:], target="y")
    >>> res["gap"]
    0.0
    """
    _check_frames(real_train, synthetic)
    _check_frames(real_train, real_test)
    for name, frame in (
        ("real_train", real_train),
        ("synthetic", synthetic),
        ("real_test", real_test),
    ):
        if target not in frame.columns:
            raise SchemaError(
                MSG_TARGET.format(target=target, where=name, columns=list(frame.columns))
            )
    kinds = _column_kinds(real_train, discrete_columns)
    target_numeric = kinds.pop(target) == "numeric"
    (x_train, x_syn, x_test), is_cat = _tree_features(
        [real_train[list(kinds)], synthetic[list(kinds)], real_test[list(kinds)]], kinds
    )
    y_train = _target_values(real_train[target], target_numeric)
    y_syn = _target_values(synthetic[target], target_numeric)
    y_test = _target_values(real_test[target], target_numeric)

    def _accuracy(x: np.ndarray, y: np.ndarray) -> float | None:
        keep = ~pd.isna(y)
        if len(np.unique(y[keep])) < 2:
            return None
        model = _hgb(is_cat, random_state).fit(x[keep], y[keep])
        return float(np.mean(model.predict(x_test) == y_test))

    acc_real = _accuracy(x_train, y_train)
    acc_syn = _accuracy(x_syn, y_syn)
    if acc_syn is None:
        logger.warning(
            "Synthetic target %r has a single class; TSTR accuracy is undefined.", target
        )
    gap = acc_real - acc_syn if acc_real is not None and acc_syn is not None else None
    return {
        "target": target,
        "accuracy_real": acc_real,
        "accuracy_synthetic": acc_syn,
        "gap": _num(gap),
    }


# --------------------------------------------------------------------------------------------
# privacy
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# one-call report and warnings
# --------------------------------------------------------------------------------------------


def synthetic_quality(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_test: pd.DataFrame | None = None,
    target: str | None = None,
    discrete_columns: Sequence[str] | None = None,
    random_state: int = 0,
    max_rows: int = 5000,
) -> dict[str, Any]:
    """All synthetic-data quality figures in one JSON-serialisable dict.

    Parameters
    ----------
    real_train : DataFrame
        Real rows the generator was fitted on.
    synthetic : DataFrame
        Generated rows with the same columns.
    real_test : DataFrame, optional
        Real rows the generator never saw: the privacy baseline and, with ``target``, the utility
        test set.
    target : str, optional
        Label column for the train-on-synthetic-test-on-real utility score (needs ``real_test``).
    discrete_columns : sequence of str, optional
        Numeric columns to treat as categorical.
    random_state : int, default 0
        Seed of every subsample, split and classifier.
    max_rows : int, default 5000
        Cap on rows per set in correlation, detection and distance computations.

    Returns
    -------
    dict
        Keys ``n_real``, ``n_synthetic``, ``columns``, ``mean_ks``, ``mean_tvd``, ``correlation``,
        ``detection``, ``utility`` (``None`` without ``target``), ``privacy``. Always the same keys.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(["a", "b"], 300)})
    >>> report = synthetic_quality(real, real)
    >>> report["mean_ks"], report["privacy"]["copy_share"]
    (0.0, 1.0)
    """
    _check_frames(real_train, synthetic)
    if target is not None and real_test is None:
        raise SchemaError(MSG_TEST_NEEDED)
    if target is not None and target not in real_train.columns:
        raise SchemaError(
            MSG_TARGET.format(target=target, where="real_train", columns=list(real_train.columns))
        )
    synthetic = synthetic[list(real_train.columns)]
    fidelity = column_fidelity(real_train, synthetic, discrete_columns=discrete_columns)
    report: dict[str, Any] = {
        "n_real": len(real_train),
        "n_synthetic": len(synthetic),
        "columns": fidelity["columns"],
        "mean_ks": fidelity["mean_ks"],
        "mean_tvd": fidelity["mean_tvd"],
        "correlation": correlation_difference(
            real_train,
            synthetic,
            discrete_columns=discrete_columns,
            max_rows=max_rows,
            random_state=random_state,
        ),
        "detection": detection_auc(
            real_train,
            synthetic,
            discrete_columns=discrete_columns,
            max_rows=max_rows,
            random_state=random_state,
        ),
        "utility": None,
        "privacy": privacy_scores(
            real_train,
            synthetic,
            real_holdout=real_test,
            discrete_columns=discrete_columns,
            max_rows=max_rows,
            random_state=random_state,
        ),
    }
    if target is not None and real_test is not None:
        report["utility"] = utility_scores(
            real_train,
            synthetic,
            real_test[list(real_train.columns)],
            target=target,
            discrete_columns=discrete_columns,
            random_state=random_state,
        )
    return report


def quality_warnings(report: dict[str, Any]) -> list[str]:
    """Plain-language warnings for a :func:`synthetic_quality` report.

    Parameters
    ----------
    report : dict
        Output of :func:`synthetic_quality`.

    Returns
    -------
    list of str
        One sentence per problem found, empty when nothing crosses a threshold
        (:data:`DETECTION_AUC_LIMIT`, :data:`MEAN_KS_LIMIT`, :data:`MEAN_TVD_LIMIT`,
        :data:`COPY_SHARE_LIMIT`, :data:`UTILITY_GAP_LIMIT`, :data:`DCR_RATIO_LIMIT`).

    Examples
    --------
    >>> quality_warnings({"mean_ks": 0.5})[0].startswith("WARNING")
    True
    """
    out: list[str] = []
    auc = (report.get("detection") or {}).get("auc")
    if auc is not None and auc > DETECTION_AUC_LIMIT:
        out.append(
            f"WARNING: a classifier tells synthetic rows from real ones with ROC AUC {auc:.2f} "
            f"(0.5 = indistinguishable, limit {DETECTION_AUC_LIMIT}). The synthetic data does not "
            "look like the real data; results that rely on it may not transfer to real people."
        )
    ks = report.get("mean_ks")
    if ks is not None and ks > MEAN_KS_LIMIT:
        worst = _worst(report, "ks")
        out.append(
            f"WARNING: numeric columns are poorly reproduced (mean KS statistic {ks:.2f}, limit "
            f"{MEAN_KS_LIMIT}){worst}. Train longer or check the encoding of these columns."
        )
    tvd = report.get("mean_tvd")
    if tvd is not None and tvd > MEAN_TVD_LIMIT:
        worst = _worst(report, "tvd")
        out.append(
            f"WARNING: category frequencies are poorly reproduced (mean total variation distance "
            f"{tvd:.2f}, limit {MEAN_TVD_LIMIT}){worst}. Train longer or use more data."
        )
    privacy = report.get("privacy") or {}
    copy = privacy.get("copy_share")
    if copy is not None and copy > COPY_SHARE_LIMIT:
        out.append(
            f"WARNING: {copy:.1%} of synthetic rows are exact copies of real training rows (limit "
            f"{COPY_SHARE_LIMIT:.0%}). The generator memorises its training data: do not share "
            "these rows as if they were anonymous."
        )
    ratio = privacy.get("dcr_median_ratio")
    if ratio is not None and ratio < DCR_RATIO_LIMIT:
        out.append(
            f"WARNING: synthetic rows sit much closer to real training rows than unseen real rows "
            f"do (median distance ratio {ratio:.2f}, limit {DCR_RATIO_LIMIT}). This suggests "
            "memorisation and a privacy risk."
        )
    utility = report.get("utility") or {}
    gap = utility.get("gap")
    if gap is not None and gap > UTILITY_GAP_LIMIT:
        out.append(
            f"WARNING: a classifier trained on synthetic rows is {gap:.1%} less accurate on real "
            f"test rows than one trained on real rows (limit {UTILITY_GAP_LIMIT:.0%}). The "
            "synthetic data loses the signal needed to predict the target."
        )
    elif utility and utility.get("accuracy_synthetic") is None and utility.get("target"):
        out.append(
            "WARNING: the synthetic target column holds a single class, so no classifier can be "
            "trained on it. The generator collapsed; train longer or check the conditioning."
        )
    return out


def _worst(report: dict[str, Any], key: str, k: int = 3) -> str:
    cols = report.get("columns") or {}
    scored = [(v[key], c) for c, v in cols.items() if v.get(key) is not None]
    if not scored:
        return ""
    top = sorted(scored, reverse=True)[:k]
    return "; worst: " + ", ".join(f"{c} {v:.2f}" for v, c in top)
