"""Feature columns of real, messy tables made usable, each decision written down as a notice.

Real data holds columns no model can use as they are: identifiers, free text, dates, numbers stored
as text, infinities, categorical columns with thousands of levels, columns that are entirely
empty. :func:`clean_features` turns each of them into something a model can use, or drops it, and
never refuses the table for them:

- a column with no value at all is dropped;
- identifiers (short text unique per row, or almost; integers unique per row in a column named
  like ``id``, ``customer_id`` or ``Unnamed: 0``) are dropped;
- free text (long strings, mostly distinct) is dropped;
- datetimes (datetime dtypes, or text that reads as dates) become days since 1970-01-01, and
  timedeltas become days;
- text that holds only numbers becomes numbers;
- ``inf`` and ``-inf`` in numeric columns become missing values;
- a categorical column with more than ``max_categories`` levels keeps its ``max_categories``
  most frequent levels and pools the others into one level, :data:`POOLED_LEVEL` (or a variant
  of it when the column already holds that text).

Target and sensitive columns are left to :func:`~fairlatent.data.schema.prepare` (``protected``).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.data.kinds import fresh_label, is_numeric
from fairlatent.exceptions import SchemaError

__all__ = [
    "POOLED_LEVEL",
    "CleanedFeatures",
    "clean_features",
    "days_to_datetimes",
    "drop_reason",
    "infinite_to_missing",
]

#: Preferred name of the level that pools a high-cardinality column's rare levels.
POOLED_LEVEL = "(other levels)"
#: Fewest non-missing values before a column can be judged an identifier or free text.
MIN_VALUES_TO_JUDGE = 20
#: Share of distinct values from which a text column counts as an identifier.
ID_DISTINCT_SHARE = 0.95
#: Mean length (characters) of a text column's values from which it may be free text ...
FREE_TEXT_MIN_LENGTH = 30
#: ... when at least this share of its values are distinct.
FREE_TEXT_DISTINCT_SHARE = 0.5
#: Share of a text column's values that must read as dates for it to become a date column.
DATE_SHARE = 0.95
#: Share of a text column's values that must be numbers before the rest are called non-numeric.
NUMERIC_SHARE = 0.9
#: Largest magnitude of a usable number: beyond it, sums of squares (variances, distances)
#: overflow, so such values are treated like infinities.
MAX_MAGNITUDE = 1e100
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+([eE][+-]?\d+)?|[+-]?\d+")

_EPOCH = pd.Timestamp("1970-01-01")
_DAY = pd.Timedelta(days=1)
_ID_NAME = re.compile(
    r"(?i:(^|[_\s.-])id$|^id([_\s.-]|$)|^(index|row|rownum|row_?number|unnamed: \d+)$)"
    r"|[a-z]I[dD]$"  # camelCase: customerId (but not "paid")
)
_DATE_TEXT = re.compile(
    r"\d{4}-\d{1,2}(-\d{1,2})?"  # 2021-03-04, 2021-03
    r"|\d{1,4}[/.]\d{1,2}[/.]\d{1,4}"  # 04/03/2021, 4.3.21
    r"|\d{1,2}[\s-][A-Za-z]{3,9}[\s-]\d{2,4}"  # 4 Mar 2021, 04-Mar-21
    r"|[A-Za-z]{3,9}\s+\d{1,2},?\s+\d{2,4}"  # March 4, 2021
)

MSG_DROPPED_EMPTY = "the column has no value at all"
MSG_DROPPED_ID = (
    "its values are unique per row (an identifier), so it carries no pattern a model can use"
)
MSG_DROPPED_TEXT = (
    "free text ({share:.0%} of its values are distinct, {length:.0f} characters on average), "
    "which the models cannot use as a category"
)
MSG_POOLED = (
    "column {column!r} has {levels} distinct values: kept the {kept} most frequent, pooled the "
    "other {pooled} ({rows} rows) into {label!r}; raise --max-categories to keep more"
)
MSG_DATETIME = (
    "column {column!r} holds dates: converted to days since 1970-01-01{unparsed}"
)
MSG_TIMEDELTA = "column {column!r} holds durations: converted to days"
MSG_NUMBER_TEXT = "column {column!r} holds numbers stored as text: converted to numbers"
MSG_INFINITE = (
    "column {column!r} holds {count} infinite value(s) (inf/-inf): treated as missing"
)
MSG_HUGE = (
    "column {column!r} holds {count} value(s) beyond ±{limit:g} (such as {example:g}), too large "
    "to compute with: treated as missing"
)
MSG_DECIMAL_COMMA = (
    "column {column!r} holds numbers with decimal commas (such as {example!r}): read as numbers "
    "({converted!r}); write decimal points to avoid the guess"
)
MSG_NO_FINITE = "the column has no finite value (every value is missing, infinite or too large)"
MSG_LOOKS_NUMERIC = (
    "column {column!r} looks numeric but holds non-numeric values such as {bad!r}; clean those "
    "values or drop the column with --drop {column}"
)


@dataclass
class CleanedFeatures:
    """What :func:`clean_features` made of a table.

    Attributes
    ----------
    frame : DataFrame
        The table, with dropped columns removed and the others converted.
    dropped : dict
        Column -> why it was dropped.
    notices : list of str
        One sentence per decision, for the report.
    pooled : dict
        Column -> ``{"levels", "kept", "pooled", "rows", "label"}`` for each pooled column.
    converted : dict
        Column -> what it was converted from (``"datetime"``, ``"timedelta"``, ``"text"``).
    """

    frame: pd.DataFrame
    dropped: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    pooled: dict[str, dict[str, Any]] = field(default_factory=dict)
    converted: dict[str, str] = field(default_factory=dict)


def clean_features(
    frame: pd.DataFrame,
    *,
    protected: Collection[str] = (),
    max_categories: int | None = None,
) -> CleanedFeatures:
    """Make every column of ``frame`` but the ``protected`` ones usable as a model feature.

    Parameters
    ----------
    frame : DataFrame
        Raw table (not changed).
    protected : collection of str
        Columns left exactly as they are (target and sensitive attributes).
    max_categories : int, optional
        Levels a categorical column keeps; the rest are pooled into one level (``None``: no
        pooling).

    Returns
    -------
    CleanedFeatures

    Raises
    ------
    SchemaError
        A column whose values are numbers except for a few that are not (a typo to fix).

    Examples
    --------
    >>> frame = pd.DataFrame({"x": [1.0, float("inf"), 3.0], "city": ["a", "b", "c"]})
    >>> cleaned = clean_features(frame, max_categories=2)
    >>> cleaned.frame["x"].isna().tolist(), sorted(cleaned.frame["city"].unique())
    ([False, True, False], ['(other levels)', 'a', 'b'])
    >>> cleaned.notices[0]
    "column 'x' holds 1 infinite value(s) (inf/-inf): treated as missing"
    """
    out = frame.copy()
    result = CleanedFeatures(frame=out)
    for column in list(out.columns):
        if column in protected:
            continue
        name = str(column)
        series, kind, unparsed = _converted(out[column])
        if kind in ("datetime", "timedelta"):
            result.converted[name] = kind
            if kind == "timedelta":
                result.notices.append(MSG_TIMEDELTA.format(column=name))
            else:
                note = f" ({unparsed} value(s) that are not dates treated as missing)"
                result.notices.append(
                    MSG_DATETIME.format(column=name, unparsed=note if unparsed else "")
                )
            out[column] = series
            continue
        reason = drop_reason(series, name)
        if reason is not None:
            result.dropped[name] = reason
            result.notices.append(f"dropped column {name!r}: {reason}")
            out = out.drop(columns=column)
            continue
        if kind == "text":
            result.converted[name] = kind
            result.notices.append(MSG_NUMBER_TEXT.format(column=name))
        elif kind == "decimal comma":
            result.converted[name] = "text"
            example = str(out[column].dropna().astype(str).loc[lambda v: v.str.contains(",")].iloc[0])
            result.notices.append(MSG_DECIMAL_COMMA.format(
                column=name, example=example, converted=float(example.replace(",", "."))
            ))
        if is_numeric(series):
            series = infinite_to_missing(series, name, result.notices)
            if series.notna().sum() == 0:
                result.dropped[name] = MSG_NO_FINITE
                result.notices.append(f"dropped column {name!r}: {MSG_NO_FINITE}")
                out = out.drop(columns=column)
                continue
            out[column] = series
        elif not pd.api.types.is_bool_dtype(series):
            _check_not_almost_numeric(series, name)
            out[column] = _pooled(series, name, max_categories, result)
        else:
            out[column] = series
    result.frame = out
    return result


def drop_reason(series: pd.Series, name: str) -> str | None:
    """Why a column is unusable as a feature (empty, an identifier, free text), or ``None``.

    Examples
    --------
    >>> drop_reason(pd.Series([f"c{i}" for i in range(30)]), "customer")
    'its values are unique per row (an identifier), so it carries no pattern a model can use'
    >>> drop_reason(pd.Series(["a", "b"] * 15), "letter") is None
    True
    """
    values = series.dropna()
    if len(values) == 0:
        return MSG_DROPPED_EMPTY
    if len(values) < MIN_VALUES_TO_JUDGE or pd.api.types.is_bool_dtype(series):
        return None
    if _is_datetime_like(series):
        return None
    if is_numeric(series):
        return MSG_DROPPED_ID if _integer_identifier(values, name) else None
    text = values.astype(str)
    distinct = text.nunique() / len(text)
    length = float(text.str.len().mean())
    if length >= FREE_TEXT_MIN_LENGTH and distinct >= FREE_TEXT_DISTINCT_SHARE and " " in "".join(
        text.iloc[:50]
    ):
        return MSG_DROPPED_TEXT.format(share=distinct, length=length)
    if distinct >= ID_DISTINCT_SHARE:
        return MSG_DROPPED_ID
    return None


def _integer_identifier(values: pd.Series, name: str) -> bool:
    """Integers unique per row in a column named like an identifier (``id``, ``customer_id``).

    Numbers alone cannot tell an identifier from a measurement (a unique integer column may be
    a balance), so numeric columns need the name too.
    """
    if not _ID_NAME.search(name):
        return False
    numbers = values.to_numpy(dtype=float)
    if not np.all(np.isfinite(numbers)) or not np.all(numbers == np.round(numbers)):
        return False
    return len(np.unique(numbers)) == len(numbers)


def _is_datetime_like(series: pd.Series) -> bool:
    return bool(
        pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_timedelta64_dtype(series)
    )


def _reads_as_dates(text: pd.Series) -> bool:
    """Whether text values look like dates (a cheap pattern check before parsing)."""
    sample = text.iloc[:: max(1, len(text) // 500)]
    return bool(sample.str.fullmatch(rf"\s*({_DATE_TEXT.pattern})([ T].*)?\s*").mean() >= DATE_SHARE)


def _converted(series: pd.Series) -> tuple[pd.Series, str | None, int]:
    """Datetimes and timedeltas as days; dates and numbers held as text parsed.

    Returns
    -------
    series, kind, unparsed : Series, str or None, int
        The column, what it was converted from (``"datetime"``, ``"timedelta"``, ``"text"``;
        ``None`` when unchanged) and how many text values that are not dates became missing.
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        return _days_since_epoch(series), "datetime", 0
    if pd.api.types.is_timedelta64_dtype(series):
        return (series / _DAY).astype(float), "timedelta", 0
    if is_numeric(series) or pd.api.types.is_bool_dtype(series):
        return series, None, 0
    values = series.dropna()
    if len(values) == 0:
        return series, None, 0
    text = values.astype(str)
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().all():
        converted = pd.Series(np.nan, index=series.index, dtype=float)
        converted[values.index] = numbers.astype(float)
        return converted, "text", 0
    if _decimal_commas(text):
        converted = pd.Series(np.nan, index=series.index, dtype=float)
        converted[values.index] = text.str.replace(",", ".", regex=False).astype(float)
        return converted, "decimal comma", 0
    if not _reads_as_dates(text):
        return series, None, 0
    parsed = _parse_dates(series)
    n_parsed = int(parsed.notna().sum())
    if n_parsed < DATE_SHARE * len(values):
        return series, None, 0
    return _days_since_epoch(parsed), "datetime", len(values) - n_parsed


def _decimal_commas(text: pd.Series) -> bool:
    """Every value a number, some with one decimal comma, not all of those like ``1,234``.

    Values whose commas are all followed by exactly three digits read as thousands separators
    as well as decimals, so they are left alone.
    """
    if not text.str.fullmatch(_DECIMAL_COMMA).all():
        return False
    with_comma = text[text.str.contains(",", regex=False)]
    return bool(len(with_comma)) and not with_comma.str.fullmatch(r"[+-]?\d+,\d{3}").all()


def _parse_dates(series: pd.Series) -> pd.Series:
    """Parse text dates (ISO first, then pandas' inference); unreadable ones become ``NaT``."""
    text = series.astype("string")
    distinct = pd.Series(text.dropna().unique())
    best: pd.Series | None = None
    for fmt, dayfirst in (("ISO8601", False), (None, False), (None, True)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "could not infer format"
                parsed = pd.to_datetime(
                    distinct, errors="coerce", format=fmt, dayfirst=dayfirst, utc=True
                )
        except (ValueError, TypeError, OverflowError):
            continue
        if best is None or parsed.notna().sum() > best.notna().sum():
            best = parsed
    if best is None:
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
    lookup = dict(zip(distinct, best, strict=True))
    return pd.Series(
        pd.to_datetime(text.map(lookup).astype(object), utc=True), index=series.index
    )


def _days_since_epoch(series: pd.Series) -> pd.Series:
    values = series
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return ((values - _EPOCH) / _DAY).astype(float)


def days_to_datetimes(values: pd.Series) -> pd.Series:
    """Turn days since 1970-01-01 (as :func:`clean_features` writes dates) back into datetimes.

    Examples
    --------
    >>> days_to_datetimes(pd.Series([0.0, 18628.5])).dt.strftime("%Y-%m-%d %H:%M").tolist()
    ['1970-01-01 00:00', '2021-01-01 12:00']
    """
    numbers = pd.to_numeric(values, errors="coerce")
    return _EPOCH + pd.to_timedelta(numbers, unit="D")


def infinite_to_missing(series: pd.Series, name: str, notices: list[str]) -> pd.Series:
    """Replace ``inf``/``-inf`` in a numeric column by missing values, with a notice.

    Examples
    --------
    >>> notes = []
    >>> infinite_to_missing(pd.Series([1.0, -float("inf")]), "x", notes).tolist(), len(notes)
    ([1.0, nan], 1)
    """
    if not is_numeric(series) or not pd.api.types.is_float_dtype(series):
        return series
    values = series.to_numpy(dtype=float, na_value=np.nan)
    infinite = np.isinf(values)
    huge = np.isfinite(values) & (np.abs(values) > MAX_MAGNITUDE)
    if infinite.any():
        notices.append(MSG_INFINITE.format(column=name, count=int(infinite.sum())))
    if huge.any():
        notices.append(MSG_HUGE.format(
            column=name, count=int(huge.sum()), limit=MAX_MAGNITUDE, example=values[huge][0]
        ))
    if not (infinite.any() or huge.any()):
        return series
    return series.mask(infinite | huge)


def _check_not_almost_numeric(series: pd.Series, name: str) -> None:
    values = series.dropna()
    numbers = pd.to_numeric(values.astype(str), errors="coerce")
    n_numeric = int(numbers.notna().sum())
    if len(values) and NUMERIC_SHARE * len(values) <= n_numeric < len(values):
        bad = values[numbers.isna()].iloc[0]
        raise SchemaError(MSG_LOOKS_NUMERIC.format(column=name, bad=str(bad)))


def _pooled(
    series: pd.Series, name: str, max_categories: int | None, result: CleanedFeatures
) -> pd.Series:
    """Keep the ``max_categories`` most frequent levels; pool the others into one level."""
    if max_categories is None:
        return series
    counts = series.dropna().astype(str).value_counts()
    if len(counts) <= max_categories:
        return series
    # most frequent first; ties broken by the level's text, so the choice is reproducible
    order = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    kept = {level for level, _ in order[:max_categories]}
    label = fresh_label(POOLED_LEVEL, counts.index)
    text = series.astype("string")
    rare = (text.notna() & ~text.isin(kept)).to_numpy(dtype=bool)
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    pooled = series.mask(rare, label)
    info = {
        "levels": len(counts),
        "kept": max_categories,
        "pooled": len(counts) - max_categories,
        "rows": int(rare.sum()),
        "label": label,
    }
    result.pooled[name] = info
    result.notices.append(MSG_POOLED.format(column=name, **info))
    return pooled
