"""Describe a subset of rows in words: the feature values that set it apart from reference rows.

:func:`describe_rows` names, per distinctive column, the category most of the subset shares or the
range its numeric values fall in (e.g. ``"sex=Female"``, ``"age 60-90"``); the representation audit
(:mod:`fairlatent.metrics.representation`) uses it for the rarest regions of the latent space.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.data.kinds import is_numeric

__all__ = ["describe_rows"]


def _fmt_number(value: float) -> str:
    """Format a feature value for a sentence: integers plainly, others to 3 significant digits."""
    if not math.isfinite(value):
        return "?"
    if abs(value - round(value)) < 1e-9 or abs(value) >= 1000:
        return f"{round(value):,}"
    return f"{value:.3g}"


def _is_numeric(series: pd.Series) -> bool:
    """Whether a column is described by median and mean: :func:`is_numeric`, > 2 distinct values."""
    return is_numeric(series) and series.nunique(dropna=True) > 2


def describe_rows(
    subset: pd.DataFrame,
    reference: pd.DataFrame,
    columns: Sequence[str],
    *,
    max_terms: int = 3,
) -> list[dict[str, Any]]:
    """Describe what sets ``subset`` apart from ``reference``, one term per distinctive column.

    A categorical value is distinctive when at least half of the subset has it and its share is
    at least 25 points above its share in the reference; a numeric column when the subset's median
    or mean is at least half an interquartile range (or standard deviation) away from the
    reference's.

    Parameters
    ----------
    subset, reference : DataFrame
        The rows to describe, and the rows to compare them with.
    columns : sequence of str
        Columns to consider.
    max_terms : int, default 3
        Most distinctive terms returned.

    Returns
    -------
    list of dict
        Most distinctive first: ``column``, ``text`` (e.g. ``"age 60-90"`` or ``"sex=Female"``),
        ``score`` and, for categories, ``share`` and ``overall_share``.

    Examples
    --------
    >>> ref = pd.DataFrame({"sex": ["F"] * 3 + ["M"] * 7, "age": range(20, 30)})
    >>> [t["text"] for t in describe_rows(ref.iloc[:3], ref, ["sex", "age"])]
    ['sex=F', 'age 20-22']
    """
    terms: list[dict[str, Any]] = []
    for column in columns:
        sub, ref = subset[column], reference[column]
        if _is_numeric(ref):
            term = _numeric_term(column, sub, ref)
        else:
            term = _categorical_term(column, sub, ref)
        if term is not None:
            terms.append(term)
    terms.sort(key=lambda t: -t["score"])
    return terms[:max_terms]


def _category_text(series: pd.Series) -> pd.Series:
    """Values as text; numbers (a 0/1 target, a two-valued numeric column) without ``.0``."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = pd.to_numeric(series, errors="coerce").astype(float)
        return values.map(lambda v: "(missing)" if not math.isfinite(v) else _fmt_number(v))
    return series.astype(object).fillna("(missing)").astype(str)


def _categorical_term(column: str, sub: pd.Series, ref: pd.Series) -> dict[str, Any] | None:
    sub_shares = _category_text(sub).value_counts(normalize=True)
    ref_shares = _category_text(ref).value_counts(normalize=True)
    if sub_shares.empty:
        return None
    value = str(sub_shares.index[0])
    share = float(sub_shares.iloc[0])
    overall = float(ref_shares.get(value, 0.0))
    if share < 0.5 or share - overall < 0.25:
        return None
    text = f"{column}={value}" if share >= 0.95 else f"{column}={value} ({share:.0%})"
    return {"column": column, "text": text, "score": 2.0 * (share - overall),
            "share": share, "overall_share": overall}


def _numeric_term(column: str, sub: pd.Series, ref: pd.Series) -> dict[str, Any] | None:
    s = pd.to_numeric(sub, errors="coerce").to_numpy(dtype=float)
    r = pd.to_numeric(ref, errors="coerce").to_numpy(dtype=float)
    s_missing, r_missing = np.isnan(s).mean(), np.isnan(r).mean()
    s, r = s[~np.isnan(s)], r[~np.isnan(r)]
    if s_missing >= 0.5 and s_missing - r_missing >= 0.25:
        return {"column": column, "text": f"{column} missing ({s_missing:.0%})",
                "score": 2.0 * (s_missing - r_missing)}
    if len(s) == 0 or len(r) == 0:
        return None
    levels = [0.1, 0.25, 0.5, 0.75, 0.9]
    r10, r25, r50, r75, r90 = np.quantile(r, levels, method="nearest")  # observed values
    s10, s25, s50, s75, s90 = np.quantile(s, levels, method="nearest")
    std = float(np.std(r))
    scale = (r75 - r25) or std or 1.0
    score = max(abs(s50 - r50) / scale, abs(float(np.mean(s)) - float(np.mean(r))) / (std or 1.0))
    if score < 0.5:
        return None
    if r90 - r10 > 0 and s90 - s10 <= 0.5 * (r90 - r10):
        text = (f"{column} {_fmt_number(s10)}" if s10 == s90
                else f"{column} {_fmt_number(s10)}-{_fmt_number(s90)}")
    elif s25 > r50:
        text = f"{column} ≥ {_fmt_number(s25)}"
    elif s75 < r50:
        text = f"{column} ≤ {_fmt_number(s75)}"
    else:
        direction = "high" if np.mean(s) > np.mean(r) else "low"
        text = (f"{column} {direction} (mean {_fmt_number(float(np.mean(s)))} vs "
                f"{_fmt_number(float(np.mean(r)))} overall)")
    return {"column": column, "text": text, "score": float(score)}
