"""Column-kind inference and preparation of a raw frame for the audit.

:func:`prepare` turns a raw DataFrame plus the user's choice of target and sensitive attributes into
a :class:`PreparedData`: a clean frame whose target is 0/1, whose sensitive columns are categorical
(numeric ones binned), with one group label per row, and a :class:`Schema` that records every decision
(dropped columns, merged groups, inferred positive label) for the report.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairlatent.data.groups import (  # the group constants are re-exported for callers
    GROUP_COLUMN,
    GROUP_SEPARATOR,
    MISSING_GROUP,
    OTHER_GROUP,
    group_labels_merged,
    normalise_label,
    parse_sensitive_spec,
    sensitive_values,
)
from fairlatent.data.kinds import ColumnKind, infer_kind
from fairlatent.exceptions import SchemaError

logger = logging.getLogger(__name__)

__all__ = [
    "GROUP_COLUMN",
    "GROUP_SEPARATOR",
    "MISSING_GROUP",
    "OTHER_GROUP",
    "ColumnInfo",
    "PreparedData",
    "Schema",
    "drop_unusable_columns",
    "normalise_label",
    "prepare",
]

ColumnRole = Literal["feature", "target", "sensitive"]

#: Fewest rows an audit accepts.
MIN_ROWS = 40
_POSITIVE_WORDS = ("1", "true", "yes", "y", "t", "positive", "pos", "good", "approved")


@dataclass
class ColumnInfo:
    """What the audit knows about one column."""

    name: str
    kind: ColumnKind
    role: ColumnRole
    dtype: str
    n_missing: int
    n_unique: int


@dataclass
class Schema:
    """Every decision :func:`prepare` made, for the report and ``metrics.json``."""

    target: str
    positive_label: str
    positive_label_inferred: bool
    sensitive: list[str]
    features: list[str]
    columns: list[ColumnInfo]
    negative_label: str = ""
    dropped: dict[str, str] = field(default_factory=dict)
    binned: dict[str, list[str]] = field(default_factory=dict)
    merged_groups: dict[str, list[str]] = field(default_factory=dict)
    rows_dropped_missing_target: int = 0
    notices: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return asdict(self)

    def decode_target(self, y: Any) -> np.ndarray:
        """Turn 0/1 target values back into the data's labels.

        Parameters
        ----------
        y : array-like of {0, 1}

        Returns
        -------
        ndarray of str
            :attr:`positive_label` for 1, :attr:`negative_label` for 0.
        """
        return np.where(np.asarray(y) == 1, self.positive_label, self.negative_label)


@dataclass
class PreparedData:
    """A frame ready for the audit and the schema that describes it.

    Attributes
    ----------
    frame : DataFrame
        Feature columns, sensitive columns (categorical strings), the 0/1 target and
        :data:`GROUP_COLUMN`.
    schema : Schema
        Column kinds, roles and the decisions taken.
    """

    frame: pd.DataFrame
    schema: Schema

    @property
    def target(self) -> str:
        """Name of the 0/1 target column."""
        return self.schema.target

    @property
    def groups(self) -> pd.Series:
        """Group label of each row."""
        return self.frame[GROUP_COLUMN]


def prepare(
    frame: pd.DataFrame,
    *,
    target: str,
    sensitive: list[str],
    positive_label: str | None = None,
    min_group_size: int = 30,
    drop: list[str] | None = None,
    max_categories: int = 100,
) -> PreparedData:
    """Validate a raw frame and shape it for the audit.

    Parameters
    ----------
    frame : DataFrame
        Raw data as read from the file.
    target : str
        Target column.
    sensitive : list of str
        Sensitive attribute specs: ``"sex"``, ``"age:25,60"`` (cut points) or ``"age:q4"``
        (quantile bins). Several specs form intersectional groups.
    positive_label : str, optional
        Favourable target value. Required when the target has more than two values.
    min_group_size : int, default 30
        Groups with fewer rows are merged into ``"other"``.
    drop : list of str, optional
        Columns to ignore.
    max_categories : int, default 100
        Most distinct values a categorical feature may have.

    Returns
    -------
    PreparedData

    Raises
    ------
    SchemaError
        Unknown columns, unusable target or sensitive attribute, too few rows, and so on; the
        message names the problem and the fix.
    """
    if frame.shape[0] == 0:
        raise SchemaError("the data has no rows; pass a file with data rows")
    notices: list[str] = []
    specs = [parse_sensitive_spec(s) for s in sensitive]
    sensitive_names = list(dict.fromkeys(name for name, _ in specs))
    drop = list(drop or [])
    _check_columns_exist(frame, target, sensitive_names, drop)
    if target in sensitive_names:
        raise SchemaError(
            f"target {target!r} is also a sensitive attribute; pick a different target or sensitive column"
        )
    protected = {target, *sensitive_names}
    bad_drop = sorted(protected & set(drop))
    if bad_drop:
        raise SchemaError(f"cannot drop {bad_drop[0]!r}: it is the target or a sensitive attribute")
    frame = frame.drop(columns=drop).copy()
    dropped = dict.fromkeys(drop, "dropped by request (--drop)")

    _check_not_all_missing(frame)

    frame, n_missing_target = _drop_missing_target(frame, target, notices)
    y, label, inferred = _binarise_target(frame[target], target, positive_label)
    others = sorted(set(frame[target].map(normalise_label)) - {label})
    negative_label = others[0] if len(others) == 1 else f"not {label}"
    if inferred:
        notices.append(
            f"positive (favourable) label of {target!r} inferred as {label!r}; "
            "pass --positive-label to choose another"
        )

    binned: dict[str, list[str]] = {}
    for name, spec in specs:
        frame[name], labels = sensitive_values(frame[name], name, spec)
        if labels:
            binned[name] = labels

    for column in list(frame.columns):
        if column in protected:
            continue
        reason = _id_like_reason(frame[column])
        if reason:
            dropped[column] = reason
            notices.append(f"dropped column {column!r}: {reason}")
            frame = frame.drop(columns=column)
            continue
        _check_feature_types(frame[column], column, max_categories)

    if len(frame) < MIN_ROWS:
        raise SchemaError(
            f"too few rows for a train/test split: {len(frame)} usable rows, need at least {MIN_ROWS}"
        )

    frame[target] = y
    groups, merged = group_labels_merged(frame, sensitive_names, min_group_size)
    for small in merged.get(OTHER_GROUP, []):
        logger.warning(
            "group %r has fewer than %d rows: merged into %r", small, min_group_size, OTHER_GROUP
        )
    if merged:
        notices.append(
            f"groups with fewer than {min_group_size} rows merged into {OTHER_GROUP!r}: "
            + ", ".join(merged[OTHER_GROUP])
        )
    if groups.nunique() < 2:
        only = groups.iloc[0]
        raise SchemaError(
            f"sensitive attribute {', '.join(sensitive_names)} has a single group ({only!r}) after "
            f"merging groups under {min_group_size} rows; a fairness audit needs at least two groups "
            "(lower --min-group-size or choose another column)"
        )
    frame[GROUP_COLUMN] = groups.astype(str)

    features = [c for c in frame.columns if c not in protected and c != GROUP_COLUMN]
    if not features:
        raise SchemaError("no feature columns left besides the target and sensitive attributes")
    columns = [
        ColumnInfo(
            name=c,
            kind=infer_kind(frame[c]),
            role="target" if c == target else "sensitive" if c in sensitive_names else "feature",
            dtype=str(frame[c].dtype),
            n_missing=int(frame[c].isna().sum()),
            n_unique=int(frame[c].nunique()),
        )
        for c in frame.columns
        if c != GROUP_COLUMN
    ]
    schema = Schema(
        target=target,
        positive_label=label,
        positive_label_inferred=inferred,
        negative_label=negative_label,
        sensitive=sensitive_names,
        features=features,
        columns=columns,
        dropped=dropped,
        binned=binned,
        merged_groups=merged,
        rows_dropped_missing_target=n_missing_target,
        notices=notices,
    )
    return PreparedData(frame=frame.reset_index(drop=True), schema=schema)


def _check_columns_exist(
    frame: pd.DataFrame, target: str, sensitive: list[str], drop: list[str]
) -> None:
    available = ", ".join(map(str, frame.columns[:20])) + (" …" if frame.shape[1] > 20 else "")
    if target not in frame.columns:
        raise SchemaError(f"target column {target!r} not found; available columns: {available}")
    for name in sensitive:
        if name not in frame.columns:
            raise SchemaError(
                f"sensitive column {name!r} not found; available columns: {available}"
            )
    for name in drop:
        if name not in frame.columns:
            raise SchemaError(f"column {name!r} to drop not found; available columns: {available}")


def _drop_missing_target(
    frame: pd.DataFrame, target: str, notices: list[str]
) -> tuple[pd.DataFrame, int]:
    missing = frame[target].isna()
    count = int(missing.sum())
    if count:
        notices.append(f"dropped {count} rows whose target {target!r} is missing")
        frame = frame.loc[~missing]
    return frame, count


def _binarise_target(
    series: pd.Series, target: str, positive_label: str | None
) -> tuple[np.ndarray, str, bool]:
    labels = series.map(normalise_label)
    values = sorted(labels.unique())
    if positive_label is not None:
        wanted = normalise_label(positive_label)
        if wanted not in values:
            shown = ", ".join(repr(v) for v in values[:10])
            raise SchemaError(
                f"positive label {positive_label!r} not found in target {target!r}; its values are {shown}"
            )
        y = (labels == wanted).to_numpy(dtype=np.int64)
        if y.min() == y.max():
            raise SchemaError(
                f"target {target!r} has a single class; a fairness audit needs both outcomes"
            )
        return y, wanted, False
    if len(values) == 1:
        raise SchemaError(
            f"target {target!r} has a single class ({values[0]!r}); a fairness audit needs both outcomes"
        )
    if len(values) > 2:
        shown = ", ".join(repr(v) for v in values[:6]) + (" …" if len(values) > 6 else "")
        raise SchemaError(
            f"target {target!r} has {len(values)} classes ({shown}); pass --positive-label VALUE "
            "to binarise it"
        )
    lowered = {v.lower(): v for v in values}
    named = [lowered[w] for w in _POSITIVE_WORDS if w in lowered]
    if named:
        label = named[0]
    else:  # the rarer outcome is usually the favourable one in audit data (income >50K, loan granted)
        counts = labels.value_counts()
        label = str(counts.index[-1]) if counts.iloc[0] != counts.iloc[-1] else values[-1]
    return (labels == label).to_numpy(dtype=np.int64), label, True


def drop_unusable_columns(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Drop identifier-like columns; reject entirely missing ones.

    Returns
    -------
    frame, dropped : DataFrame, dict
        The frame without identifier columns, and column -> reason.

    Raises
    ------
    SchemaError
        A column is entirely missing.
    """
    dropped = {}
    _check_not_all_missing(frame)
    for column in frame.columns:
        reason = _id_like_reason(frame[column])
        if reason:
            dropped[column] = reason
    return frame.drop(columns=list(dropped)), dropped


def _check_not_all_missing(frame: pd.DataFrame) -> None:
    for column in frame.columns:
        if frame[column].isna().all():
            raise SchemaError(
                f"column {column!r} is entirely missing; drop it with --drop {column} or fill it"
            )


def _id_like_reason(series: pd.Series) -> str | None:
    values = series.dropna()
    if pd.api.types.is_numeric_dtype(series) or len(values) < 20:
        return None
    if values.nunique() == len(values):
        return "every value is unique (an identifier), so it carries no pattern a model can use"
    return None


def _check_feature_types(series: pd.Series, column: str, max_categories: int) -> None:
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return
    values = series.dropna()
    numeric = pd.to_numeric(values, errors="coerce")
    n_numeric = int(numeric.notna().sum())
    if len(values) and n_numeric >= 0.9 * len(values) and n_numeric < len(values):
        bad = values[numeric.isna()].iloc[0]
        raise SchemaError(
            f"column {column!r} looks numeric but holds non-numeric values such as {str(bad)!r}; "
            "clean those values or drop the column with --drop"
        )
    n_unique = values.nunique()
    if n_unique > max_categories:
        raise SchemaError(
            f"categorical column {column!r} has {n_unique} distinct values (limit {max_categories}); "
            f"drop it with --drop {column} or raise --max-categories"
        )
