"""Vectorised percentile bootstrap of group confusion counts.

Every replicate resamples the test rows with replacement and recomputes every group's confusion
counts at once (``np.bincount`` over ``replicate x group x label x prediction`` cells). The row
indices depend only on ``(random_state, n_rows)``, so two sets of predictions on the same test rows
evaluated with the same seed see the *same* replicates: their metric differences per replicate form a
paired bootstrap of the change (see :func:`paired_interval`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence

import numpy as np
from scipy.stats import norm

from fairlatent.policy import LEVEL

__all__ = ["CHUNK", "LEVEL", "bootstrap_rows", "group_confusion_counts", "metrics_from_counts",
           "paired_interval", "percentile_interval"]

#: Replicates computed per chunk (bounds memory at ``chunk x n_rows`` indices).
CHUNK = 50


def bootstrap_rows(n_rows: int, n_boot: int, random_state: int) -> Iterator[np.ndarray]:
    """Row indices of ``n_boot`` resamples of ``n_rows`` rows, in chunks of :data:`CHUNK`.

    The chunks are drawn lazily (memory stays at one chunk), always in the same order for a seed.

    Examples
    --------
    >>> [c.shape for c in bootstrap_rows(5, 60, 0)]
    [(50, 5), (10, 5)]
    """
    rng = np.random.default_rng(random_state)
    for start in range(0, n_boot, CHUNK):
        yield rng.integers(0, n_rows, size=(min(CHUNK, n_boot - start), n_rows))


def group_confusion_counts(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    group_codes: np.ndarray,
    n_groups: int,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Confusion counts per group, optionally for many resamples of the rows at once.

    Parameters
    ----------
    y_true, y_pred : array of {0, 1}
    group_codes : array of int
        Group index of each row, in ``[0, n_groups)``.
    n_groups : int
    rows : array of int, shape (B, n), optional
        Row indices of B resamples. ``None`` counts the rows once.

    Returns
    -------
    ndarray, shape (B, n_groups, 2, 2)
        ``counts[b, g, y, p]``; B is 1 when ``rows`` is ``None``.
    """
    cell = group_codes * 4 + y_true * 2 + y_pred
    if rows is None:
        rows = np.arange(len(cell))[None, :]
    n_rep = rows.shape[0]
    offsets = (np.arange(n_rep) * n_groups * 4)[:, None]
    flat = np.bincount((offsets + cell[rows]).ravel(), minlength=n_rep * n_groups * 4)
    return flat.reshape(n_rep, n_groups, 2, 2)


def _gap(values: np.ndarray) -> np.ndarray:
    if values.shape[1] == 0:  # no compared groups: nothing is judged
        return np.full(values.shape[0], np.nan)
    return np.nanmax(values, axis=1) - np.nanmin(values, axis=1)


def _ratio(values: np.ndarray) -> np.ndarray:
    if values.shape[1] == 0:
        return np.full(values.shape[0], np.nan)
    high = np.nanmax(values, axis=1)
    return np.where(high > 0, np.nanmin(values, axis=1) / np.where(high > 0, high, 1), 1.0)


def metrics_from_counts(
    counts: np.ndarray, compared: Sequence[int] | None = None
) -> dict[str, np.ndarray]:
    """Per-group and summary metrics from confusion counts of shape (B, G, 2, 2).

    Parameters
    ----------
    counts : ndarray, shape (B, G, 2, 2)
    compared : sequence of int, optional
        Groups the disparity summaries (gaps and ratios) compare; all groups when ``None``; the
        summaries are NaN when it is empty.
        Overall accuracy and selection rate always use every row.

    Returns
    -------
    dict
        Group metrics under ``"group:<name>"`` with shape (B, G); summaries with shape (B,).
        Undefined rates (empty denominators) are NaN and ignored by the summaries.
    """
    tn, fp = counts[..., 0, 0].astype(float), counts[..., 0, 1].astype(float)
    fn, tp = counts[..., 1, 0].astype(float), counts[..., 1, 1].astype(float)
    n = tn + fp + fn + tp
    cols = slice(None) if compared is None else np.asarray(compared, dtype=int)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices of empty groups
        tpr = tp / (tp + fn)
        fpr = fp / (fp + tn)
        group = {
            "count": n,
            "base_rate": (tp + fn) / n,
            "selection_rate": (tp + fp) / n,
            "accuracy": (tp + tn) / n,
            "balanced_accuracy": np.nanmean(np.stack([tpr, 1 - fpr]), axis=0),
            "tpr": tpr,
            "fpr": fpr,
            "precision": np.where(tp + fp > 0, tp / np.where(tp + fp > 0, tp + fp, 1), 0.0),
        }
        tot = {k: v.sum(axis=1) for k, v in {"tn": tn, "fp": fp, "fn": fn, "tp": tp}.items()}
        total = tot["tn"] + tot["fp"] + tot["fn"] + tot["tp"]
        summary = {
            "accuracy": (tot["tp"] + tot["tn"]) / total,
            "balanced_accuracy": 0.5
            * (tot["tp"] / (tot["tp"] + tot["fn"]) + tot["tn"] / (tot["tn"] + tot["fp"])),
            "selection_rate": (tot["tp"] + tot["fp"]) / total,
            "dp_difference": _gap(group["selection_rate"][:, cols]),
            "dp_ratio": _ratio(group["selection_rate"][:, cols]),
            "eo_difference": np.maximum(_gap(tpr[:, cols]), _gap(fpr[:, cols])),
            "eo_ratio": np.minimum(_ratio(tpr[:, cols]), _ratio(fpr[:, cols])),
            "eop_difference": _gap(tpr[:, cols]),
            "accuracy_difference": _gap(group["accuracy"][:, cols]),
        }
    return {**{f"group:{k}": v for k, v in group.items()}, **summary}


def percentile_interval(
    values: np.ndarray, axis: int = 0, estimate: float | np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return the :data:`LEVEL` bootstrap interval of ``values`` (NaN replicates ignored).

    With ``estimate`` (the point estimate on the original rows) the interval is bias-corrected
    (Efron's BC percentile interval): the percentiles move by the share of replicates below the
    estimate. Worst-case-over-groups statistics (the largest gap between groups) are biased upward
    under resampling, and the plain percentile interval can then miss its own point estimate.

    Examples
    --------
    >>> reps = np.array([0.30, 0.32, 0.35, 0.36, 0.40, 0.41, 0.42, 0.45])
    >>> [round(float(v), 3) for v in percentile_interval(reps)]
    [0.303, 0.445]
    >>> low, high = percentile_interval(reps, estimate=0.31)
    >>> bool(low <= 0.31 <= high)
    True
    """
    values = np.asarray(values, dtype=float)
    tail = round((1 - LEVEL) / 2 * 100, 9)  # 2.5, exactly
    if estimate is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = np.nanpercentile(values, [tail, 100 - tail], axis=axis)
        return low, high
    moved = np.moveaxis(values, axis, 0)
    point = np.broadcast_to(np.asarray(estimate, dtype=float), moved.shape[1:])
    flat, flat_point = moved.reshape(len(moved), -1), point.reshape(-1)
    lows, highs = np.full(flat.shape[1], np.nan), np.full(flat.shape[1], np.nan)
    z = float(norm.ppf(1 - tail / 100))
    for j in range(flat.shape[1]):
        column = flat[:, j][np.isfinite(flat[:, j])]
        if len(column) == 0 or not np.isfinite(flat_point[j]):
            continue
        below = (np.sum(column < flat_point[j]) + 0.5 * np.sum(column == flat_point[j]))
        share = np.clip(below / len(column), 1 / (len(column) + 1), len(column) / (len(column) + 1))
        z0 = float(norm.ppf(share))
        quantiles = norm.cdf([2 * z0 - z, 2 * z0 + z]) * 100
        lows[j], highs[j] = np.percentile(column, quantiles)
    shape = moved.shape[1:]
    return lows.reshape(shape), highs.reshape(shape)


def paired_interval(base: np.ndarray, other: np.ndarray) -> tuple[float, float, float]:
    """Paired-bootstrap change ``other - base`` from replicates computed on the same resamples.

    Parameters
    ----------
    base, other : ndarray, shape (B,)
        One metric's replicates for two sets of predictions, drawn with the same seed on the same
        test rows (so replicate ``b`` of both used the same rows).

    Returns
    -------
    mean, low, high : float
        Mean change over replicates and its :data:`LEVEL` interval.

    Examples
    --------
    >>> base = np.array([0.20, 0.22, 0.18, 0.21]); other = base - 0.1
    >>> [round(float(v), 3) for v in paired_interval(base, other)]
    [-0.1, -0.1, -0.1]
    """
    delta = np.asarray(other, dtype=float) - np.asarray(base, dtype=float)
    delta = delta[np.isfinite(delta)]
    if len(delta) == 0:
        return float("nan"), float("nan"), float("nan")
    low, high = percentile_interval(delta)
    return float(np.mean(delta)), float(low), float(high)
