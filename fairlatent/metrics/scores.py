"""Score metrics by group: AUC with intervals, ROC curves, ABROCA and calibration within groups.

A *score* ranks rows by how likely their label is the favourable one (higher = more likely, once
its direction is applied). Per group this module measures

* **AUC** (the probability that a random favourable row outranks a random unfavourable one), the
  point estimate from scikit-learn's :func:`~sklearn.metrics.roc_auc_score` and a
  :data:`~fairlatent.policy.LEVEL` percentile-bootstrap interval. The bootstrap is vectorised: the
  scores are cut into at most :data:`AUC_BINS` ranks (every distinct value when there are fewer, so
  the replicates are then exact), every replicate's ``(group, label, rank)`` counts come from one
  ``np.bincount`` over the resampled rows (the same resamples as
  :func:`~fairlatent.metrics.bootstrap.bootstrap_rows`), and the AUC of a replicate is the
  Mann-Whitney statistic of those counts. With more distinct values than bins, the replicates
  are shifted by the exact-minus-binned AUC of the original rows;
* **ROC curves** (at most :data:`ROC_POINTS` points each) and **ABROCA**, the absolute area between
  a group's ROC curve and the reference group's (Gardner, Brooks & Baker, 2019);
* **calibration within groups**: the share of favourable rows at each score level (its distinct
  values, or :data:`CALIBRATION_BINS` quantile bins of the scores of all rows), per group, and how
  far each group's curve lies from the curve of all rows at the same score (the *calibration
  gap*, weighted by the group's rows per bin, and its signed form, the *calibration difference*,
  with a standard error); for scores that are probabilities (all in [0, 1])
  also the Brier score and calibration-in-the-large (observed minus mean predicted rate).

:func:`decisions_from_scores` turns a score into favourable/unfavourable decisions by a threshold,
the top k rows or the top p % (Aequitas' decision rules).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

from fairlatent.metrics.bootstrap import bootstrap_rows, percentile_interval
from fairlatent.policy import LEVEL

__all__ = [
    "ABROCA_GRID",
    "AUC_BINS",
    "CALIBRATION_BINS",
    "ROC_POINTS",
    "binned_auc",
    "decisions_from_scores",
    "score_metrics",
]

#: Most score ranks the AUC bootstrap distinguishes (every distinct value when fewer).
AUC_BINS = 2048
#: Quantile bins of the reliability curves when a score has more distinct values than this.
CALIBRATION_BINS = 10
#: Most points kept per ROC curve in the output.
ROC_POINTS = 200
#: False-positive-rate grid points ABROCA is integrated on.
ABROCA_GRID = 10_001


def decisions_from_scores(
    scores: np.ndarray,
    *,
    threshold: float | None = None,
    top_k: int | None = None,
    top_percent: float | None = None,
) -> np.ndarray:
    """Favourable (1) / unfavourable (0) decisions from a score where higher means favourable.

    Exactly one rule must be given. ``threshold``: favourable when ``score >= threshold``.
    ``top_k``: the ``k`` highest scores are favourable (ties at the cut broken by row order).
    ``top_percent``: the top ``ceil(p / 100 * n)`` rows.

    Parameters
    ----------
    scores : array of float
        Oriented scores (higher = more likely favourable).
    threshold, top_k, top_percent : optional
        The decision rule.

    Returns
    -------
    ndarray of int

    Examples
    --------
    >>> s = np.array([0.1, 0.9, 0.5, 0.7])
    >>> decisions_from_scores(s, threshold=0.6).tolist()
    [0, 1, 0, 1]
    >>> decisions_from_scores(s, top_k=1).tolist(), decisions_from_scores(s, top_percent=50).tolist()
    ([0, 1, 0, 0], [0, 1, 0, 1])
    """
    scores = np.asarray(scores, dtype=float)
    given = [rule for rule in (threshold, top_k, top_percent) if rule is not None]
    if len(given) != 1:
        raise ValueError("give exactly one of threshold, top_k, top_percent")
    if threshold is not None:
        return (scores >= threshold).astype(np.int64)
    n = len(scores)
    k = int(top_k) if top_k is not None else int(math.ceil(float(top_percent) / 100.0 * n))  # type: ignore[arg-type]
    order = np.argsort(-scores, kind="stable")
    decisions = np.zeros(n, dtype=np.int64)
    decisions[order[:k]] = 1
    return decisions


def _score_ranks(scores: np.ndarray, max_bins: int) -> tuple[np.ndarray, int, bool]:
    """Rank of each row's score among at most ``max_bins`` levels; whether the ranks are exact."""
    values, inverse = np.unique(scores, return_inverse=True)
    if len(values) <= max_bins:
        return inverse.astype(np.int64), len(values), True
    edges = np.quantile(scores, np.linspace(0, 1, max_bins + 1)[1:-1])
    edges = np.unique(edges)
    return np.searchsorted(edges, scores, side="right").astype(np.int64), len(edges) + 1, False


def binned_auc(counts: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC from label x rank counts.

    Parameters
    ----------
    counts : ndarray, shape (..., 2, K)
        ``counts[..., y, k]``: rows of label ``y`` whose score has rank ``k`` (ascending).

    Returns
    -------
    ndarray, shape (...)
        ``P(score of a favourable row > score of an unfavourable row)``, ties counted half; NaN
        where a label has no rows.

    Examples
    --------
    >>> round(float(binned_auc(np.array([[2, 1, 0], [0, 1, 2]]))), 4)  # (2.5 + 2 * 3) / 9
    0.9444
    """
    counts = np.asarray(counts, dtype=float)
    neg, pos = counts[..., 0, :], counts[..., 1, :]
    below = np.cumsum(neg, axis=-1) - neg
    n_neg, n_pos = neg.sum(axis=-1), pos.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(axis=-1) / (n_pos * n_neg)


def _thin(fpr: np.ndarray, tpr: np.ndarray, points: int) -> tuple[list[float], list[float]]:
    if len(fpr) > points:
        keep = np.unique(np.round(np.linspace(0, len(fpr) - 1, points)).astype(int))
        fpr, tpr = fpr[keep], tpr[keep]
    return [round(float(v), 5) for v in fpr], [round(float(v), 5) for v in tpr]


def _abroca(curve: tuple[np.ndarray, np.ndarray], ref: tuple[np.ndarray, np.ndarray]) -> float:
    grid = np.linspace(0.0, 1.0, ABROCA_GRID)
    gap = np.abs(np.interp(grid, *curve) - np.interp(grid, *ref))
    return float(np.sum((gap[1:] + gap[:-1]) / 2 * np.diff(grid)))


def _f(value: Any) -> float | None:
    x = float(value)
    return x if math.isfinite(x) else None


def score_metrics(
    y_true: np.ndarray,
    scores: np.ndarray,
    groups: np.ndarray | pd.Series,
    *,
    reference: str | None = None,
    n_boot: int = 200,
    random_state: int = 0,
    min_support: int = 1,
) -> dict[str, Any]:
    """AUC with intervals, ROC curves, ABROCA and calibration within groups of one score.

    Parameters
    ----------
    y_true : array of {0, 1}
        True labels (1 = favourable).
    scores : array of float
        Oriented scores (higher = more likely favourable), all finite.
    groups : array of str
        Group of each row.
    reference : str, optional
        Group the ROC curves are compared with (ABROCA, AUC difference); default the largest group
        with ``min_support`` rows of each label.
    n_boot : int, default 200
        Bootstrap replicates of the AUC intervals (0: none).
    random_state : int, default 0
        Seed of the resamples (the same rows as every other bootstrap of the audit).
    min_support : int, default 1
        Fewest favourable and unfavourable rows a group needs for its AUC to be judged.

    Returns
    -------
    dict
        JSON-ready: ``reference``, ``probabilities`` (whether the scores lie in [0, 1]),
        ``overall`` (``auc``, ``auc_low``, ``auc_high``, ``brier``, ``calibration_in_the_large``),
        ``groups`` (one dict per group: ``group``, ``rows``, ``positives``, ``base_rate``,
        ``auc`` with ``auc_low``/``auc_high``, ``auc_difference`` with its interval against the
        reference, ``abroca``, ``brier``, ``calibration_in_the_large``, ``calibration_gap``,
        ``calibration_difference`` (favourable share minus that of all rows at the same score levels,
        averaged over the group's rows) with ``calibration_difference_se``,
        ``supported``), ``roc`` (group -> ``{"fpr", "tpr"}``), ``reliability`` (``bins``: one
        per score level with ``low``, ``high``, ``mean_score``; ``groups``: group -> per bin
        ``rows`` and ``observed``), ``n_boot``, ``exact_replicates``, ``level``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(["a", "b"], 500)
    >>> y = rng.integers(0, 2, 1000)
    >>> s = y + rng.normal(0, np.where(g == "a", 0.5, 1.5))
    >>> out = score_metrics(y, s, g, n_boot=100)
    >>> [round(r["auc"], 3) for r in out["groups"]] == [
    ...     round(roc_auc_score(y[g == k], s[g == k]), 3) for k in ("a", "b")]
    True
    >>> out["groups"][1]["abroca"] > 0.1
    True
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    scores = np.asarray(scores, dtype=float)
    labels_arr = np.asarray(groups, dtype=object).astype(str)
    labels = sorted(set(labels_arr.tolist()))
    codes = pd.Categorical(labels_arr, categories=labels).codes.astype(np.int64)
    n_groups = len(labels)
    sizes = np.bincount(codes, minlength=n_groups)
    positives = np.bincount(codes, weights=y_true, minlength=n_groups).astype(int)
    negatives = sizes - positives
    supported = (positives >= min_support) & (negatives >= min_support)
    both = (positives > 0) & (negatives > 0)
    if reference is None:
        pool = np.flatnonzero(supported) if supported.any() else np.flatnonzero(both)
        pool = pool if len(pool) else np.arange(n_groups)
        ref = int(pool[np.argmax(sizes[pool])])
    else:
        if reference not in labels:
            raise ValueError(f"reference group {reference!r} is not among the groups {labels}")
        ref = labels.index(reference)
    probabilities = bool(np.all((scores >= 0) & (scores <= 1)))

    # Point estimates: scikit-learn's own AUC and ROC per group.
    auc = np.full(n_groups, np.nan)
    curves: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for k in range(n_groups):
        if not both[k]:
            continue
        rows = codes == k
        auc[k] = roc_auc_score(y_true[rows], scores[rows])
        fpr, tpr, _ = roc_curve(y_true[rows], scores[rows], drop_intermediate=True)
        curves[k] = (fpr, tpr)
    overall_auc = float(roc_auc_score(y_true, scores)) if 0 < y_true.sum() < len(y_true) else math.nan

    # Bootstrap: (replicate, group, label, rank) counts, one bincount per chunk of replicates.
    ranks, n_ranks, exact = _score_ranks(scores, AUC_BINS)
    cell = (codes * 2 + y_true) * n_ranks + ranks
    width = n_groups * 2 * n_ranks
    base_counts = np.bincount(cell, minlength=width).reshape(n_groups, 2, n_ranks)
    binned_point = binned_auc(base_counts)
    binned_all = binned_auc(base_counts.sum(axis=0))
    shift = np.where(np.isfinite(auc), auc - binned_point, 0.0)
    shift_all = overall_auc - binned_all if math.isfinite(overall_auc) else 0.0
    group_reps = np.full((n_boot, n_groups), np.nan)
    overall_reps = np.full(n_boot, np.nan)
    start = 0
    if n_boot > 0:
        for rows in bootstrap_rows(len(cell), n_boot, random_state):
            b = len(rows)
            offsets = (np.arange(b, dtype=np.int64) * width)[:, None]
            counts = np.bincount((offsets + cell[rows]).ravel(), minlength=b * width)
            counts = counts.reshape(b, n_groups, 2, n_ranks)
            group_reps[start : start + b] = binned_auc(counts) + shift
            overall_reps[start : start + b] = binned_auc(counts.sum(axis=1)) + shift_all
            start += b

    def interval(reps: np.ndarray, estimate: float) -> tuple[float | None, float | None]:
        if n_boot == 0 or not math.isfinite(estimate):
            return None, None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = percentile_interval(reps, estimate=estimate)
        return _f(low), _f(high)

    grid_low, grid_high, mean_score, level_codes = _calibration_levels(scores)
    n_levels = len(grid_low)
    rel_cell = codes * n_levels + level_codes
    rel_rows = np.bincount(rel_cell, minlength=n_groups * n_levels).reshape(n_groups, n_levels)
    rel_pos = np.bincount(rel_cell, weights=y_true, minlength=n_groups * n_levels).reshape(
        n_groups, n_levels
    )
    all_rows, all_pos = rel_rows.sum(axis=0), rel_pos.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = rel_pos / rel_rows
        observed_all = all_pos / all_rows
    sq_err = (scores - y_true) ** 2 if probabilities else None

    out_groups = []
    for k, name in enumerate(labels):
        in_k = codes == k
        low, high = interval(group_reps[:, k], float(auc[k]))
        diff = float(auc[k] - auc[ref]) if k != ref else math.nan
        d_low, d_high = (
            interval(group_reps[:, k] - group_reps[:, ref], diff) if k != ref else (None, None)
        )
        present = rel_rows[k] > 0
        gap = (
            float(np.sum(rel_rows[k][present] * np.abs(observed[k][present] - observed_all[present]))
                  / sizes[k])
            if sizes[k]
            else math.nan
        )
        # Signed: the group's favourable share minus that of all rows at the same score levels,
        # averaged over the group's rows, with its normal standard error (levels' rates as given).
        expected = np.where(present, observed_all, 0.0)
        difference = float(np.sum(rel_pos[k]) - np.sum(rel_rows[k] * expected)) / sizes[k] if sizes[k] else math.nan
        variance = float(np.sum(rel_rows[k] * expected * (1 - expected))) / sizes[k] ** 2 if sizes[k] else math.nan
        entry: dict[str, Any] = {
            "group": name,
            "rows": int(sizes[k]),
            "positives": int(positives[k]),
            "base_rate": _f(positives[k] / sizes[k]) if sizes[k] else None,
            "auc": _f(auc[k]),
            "auc_low": low,
            "auc_high": high,
            "auc_difference": _f(diff),
            "auc_difference_low": d_low,
            "auc_difference_high": d_high,
            "abroca": _f(_abroca(curves[k], curves[ref])) if k in curves and ref in curves and k != ref
            else None,
            "brier": _f(np.mean(sq_err[in_k])) if sq_err is not None and sizes[k] else None,
            "calibration_in_the_large": _f(np.mean(y_true[in_k]) - np.mean(scores[in_k]))
            if probabilities and sizes[k]
            else None,
            "calibration_gap": _f(gap),
            "calibration_difference": _f(difference),
            "calibration_difference_se": _f(math.sqrt(variance)) if math.isfinite(variance) else None,
            "supported": bool(supported[k]),
        }
        out_groups.append(entry)
    low_all, high_all = interval(overall_reps, overall_auc)
    return {
        "reference": labels[ref],
        "probabilities": probabilities,
        "overall": {
            "auc": _f(overall_auc),
            "auc_low": low_all,
            "auc_high": high_all,
            "brier": _f(np.mean(sq_err)) if sq_err is not None else None,
            "calibration_in_the_large": _f(np.mean(y_true) - np.mean(scores)) if probabilities else None,
        },
        "groups": out_groups,
        "roc": {
            labels[k]: dict(zip(("fpr", "tpr"), _thin(*curves[k], ROC_POINTS), strict=True))
            for k in sorted(curves)
        },
        "reliability": {
            "bins": [
                {"low": _f(lo), "high": _f(hi), "mean_score": _f(m), "rows": int(r),
                 "observed": _f(o)}
                for lo, hi, m, r, o in zip(grid_low, grid_high, mean_score, all_rows, observed_all,
                                           strict=True)
            ],
            "groups": {
                name: [{"rows": int(r), "observed": _f(o)} for r, o in zip(rel_rows[k], observed[k],
                                                                           strict=True)]
                for k, name in enumerate(labels)
            },
        },
        "n_boot": int(n_boot),
        "exact_replicates": bool(exact),
        "level": LEVEL,
    }


def _calibration_levels(
    scores: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Score levels of the reliability curves: distinct values when few, else quantile bins."""
    values, inverse = np.unique(scores, return_inverse=True)
    if len(values) <= 2 * CALIBRATION_BINS:
        means = values
        return values, values, means, inverse.astype(np.int64)
    edges = np.unique(np.quantile(scores, np.linspace(0, 1, CALIBRATION_BINS + 1)[1:-1]))
    level = np.searchsorted(edges, scores, side="right").astype(np.int64)
    n = len(edges) + 1
    rows = np.bincount(level, minlength=n)
    means = np.bincount(level, weights=scores, minlength=n) / np.maximum(rows, 1)
    lows = np.concatenate([[scores.min()], edges])
    highs = np.concatenate([edges, [scores.max()]])
    return lows, highs, means, level
