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

from fairlatent.data.clean import clean_features, infinite_to_missing
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
    "RESERVED_PREFIX",
    "Schema",
    "check_reserved_columns",
    "normalise_label",
    "prepare",
]

ColumnRole = Literal["feature", "target", "sensitive"]

#: Fewest rows an audit accepts.
MIN_ROWS = 40
#: Fewest rows of each outcome (favourable, unfavourable) an audit accepts: the rows are split
#: (stratified) into training, validation and test rows, each needing both outcomes.
MIN_ROWS_PER_OUTCOME = 10
#: Prefix of the columns the audit and its samplers add to a frame (:data:`GROUP_COLUMN`, the
#: samplers' ``_fl_label``, ``_fl_cell_group``, ...); user columns may not start with it.
RESERVED_PREFIX = "_fl_"

MSG_RESERVED = (
    "column {column!r} starts with {prefix!r}, which fairlatent reserves for the columns it adds "
    "(such as {group!r}); rename the column, or leave it out with --drop {column}"
)
MSG_THIN_OUTCOME = (
    "target {target!r} has only {count} row(s) with {label!r}; the audit splits the rows into "
    "training, validation and test rows and needs at least {needed} of each outcome: add rows "
    "or choose another target or --positive-label"
)
MSG_NOT_A_FRAME = (
    "the data must be a pandas DataFrame with named columns, found {found}; wrap it, e.g. "
    "pd.DataFrame(array, columns=[...])"
)
MSG_MULTIINDEX = (
    "the data has multi-level column names such as {example!r}; give it one level of names, "
    "e.g. frame.columns = [' '.join(map(str, c)) for c in frame.columns]"
)
MSG_NAME_CLASH = (
    "column names {a!r} and {b!r} both read as {text!r}; rename one (column names are text)"
)
MSG_BINNED = (
    "sensitive column {column!r} is numeric with {values} distinct values: binned into "
    "{labels}; pass --sensitive {column}:q<k> or cut points such as {column}:25,60 to choose "
    "the bins, or store the column as text to keep every value as a group"
)
MSG_EMPTY_ROLE = (
    "{role} column {column!r} is entirely missing; choose another {role} column or fill it"
)
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
    """Every decision :func:`prepare` made, for the report and ``metrics.json``.

    ``merged_groups`` maps the merged group's label (:data:`OTHER_GROUP` or a variant that no
    real group has) to the groups merged into it; ``pooled`` maps each high-cardinality feature
    to what was pooled (see :func:`~fairlatent.data.clean.clean_features`); ``converted`` maps
    each converted feature to what it was (``"datetime"``, ``"timedelta"``, ``"text"``).
    """

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
    pooled: dict[str, dict[str, Any]] = field(default_factory=dict)
    converted: dict[str, str] = field(default_factory=dict)

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
    source_rows : ndarray of int or None
        Position in the raw frame of each row of ``frame`` (rows with a missing target are gone),
        so written rows can be traced back to the values the user gave.
    """

    frame: pd.DataFrame
    schema: Schema
    source_rows: np.ndarray | None = None

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
        Groups with fewer rows are merged into one group, :data:`OTHER_GROUP` (or a variant of
        it that no real group has).
    drop : list of str, optional
        Columns to ignore.
    max_categories : int, default 100
        Levels a categorical feature keeps: the most frequent ones; the others are pooled into
        one level (see :func:`~fairlatent.data.clean.clean_features`, which also drops
        identifiers, free text and empty columns, turns dates into numbers and infinities into
        missing values, each with a notice).

    Returns
    -------
    PreparedData

    Raises
    ------
    SchemaError
        Unknown columns, unusable target or sensitive attribute, too few rows, and so on; the
        message names the problem and the fix.
    """
    frame = _named_frame(frame)
    target = str(target)
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
    frame.index = pd.RangeIndex(len(frame))  # positions in the raw frame, kept to trace rows back
    dropped = dict.fromkeys(drop, "dropped by request (--drop)")
    check_reserved_columns(frame.columns)
    for role, names in (("target", [target]), ("sensitive", sensitive_names)):
        for name in names:
            if frame[name].isna().all():
                raise SchemaError(MSG_EMPTY_ROLE.format(role=role, column=name))

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
    raw_distinct = {name: int(frame[name].nunique()) for name in sensitive_names}
    for name in sensitive_names:
        frame[name] = infinite_to_missing(frame[name], name, notices)
    for name, spec in specs:
        was_missing = frame[name].isna().to_numpy()
        frame[name], labels = sensitive_values(frame[name], name, spec, notices)
        if labels:
            binned[name] = labels
            if spec is None:
                notices.append(MSG_BINNED.format(
                    column=name, values=raw_distinct[name], labels=", ".join(labels)
                ))
        if was_missing.any():
            notices.append(
                f"{int(was_missing.sum())} row(s) with no value for sensitive attribute {name!r} "
                f"form their own group, {frame[name].to_numpy()[was_missing][0]!r}"
            )

    cleaned = clean_features(frame, protected=protected, max_categories=max_categories)
    frame = cleaned.frame
    dropped.update(cleaned.dropped)
    notices.extend(cleaned.notices)

    if len(frame) < MIN_ROWS:
        raise SchemaError(
            f"too few rows for a train/test split: {len(frame)} usable rows, need at least {MIN_ROWS}"
        )
    for outcome, count in ((label, int(y.sum())), (None, int(len(y) - y.sum()))):
        if count < MIN_ROWS_PER_OUTCOME:
            shown = outcome if outcome is not None else negative_label
            raise SchemaError(MSG_THIN_OUTCOME.format(
                target=target, count=count, label=shown, needed=MIN_ROWS_PER_OUTCOME
            ))

    frame[target] = y
    groups, merged = group_labels_merged(frame, sensitive_names, min_group_size)
    for merged_label, small in merged.items():
        logger.info("groups under %d rows merged into %r: %s", min_group_size, merged_label, small)
        notices.append(
            f"groups with fewer than {min_group_size} rows merged into {merged_label!r}: "
            + ", ".join(small)
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
        pooled=cleaned.pooled,
        converted=cleaned.converted,
    )
    return PreparedData(
        frame=frame.reset_index(drop=True), schema=schema, source_rows=frame.index.to_numpy()
    )


def _named_frame(frame: Any) -> pd.DataFrame:
    """Return the frame with text column names; a clear error for anything else (an array)."""
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(MSG_NOT_A_FRAME.format(found=type(frame).__name__))
    if isinstance(frame.columns, pd.MultiIndex):
        raise SchemaError(MSG_MULTIINDEX.format(example=frame.columns[0]))
    if all(isinstance(c, str) for c in frame.columns):
        return frame
    seen: dict[str, Any] = {}
    for column in frame.columns:
        text = str(column)
        if text in seen:
            raise SchemaError(MSG_NAME_CLASH.format(a=seen[text], b=column, text=text))
        seen[text] = column
    return frame.rename(columns=lambda c: str(c))


def _check_columns_exist(
    frame: pd.DataFrame, target: str, sensitive: list[str], drop: list[str]
) -> None:
    available = ", ".join(map(str, frame.columns[:20])) + (" …" if frame.shape[1] > 20 else "")
    if target not in frame.columns:
        raise SchemaError(f"target column {target!r} not found; available columns: {available}")
    for name in sensitive:
        if name not in frame.columns:
            with_comma = [str(c) for c in frame.columns if "," in str(c) and str(c).startswith(name)]
            hint = (
                f"; a name holding a comma is quoted: --sensitive '\"{with_comma[0]}\"'"
                if with_comma else ""
            )
            raise SchemaError(
                f"sensitive column {name!r} not found; available columns: {available}{hint}"
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


def check_reserved_columns(columns: Any) -> None:
    """Refuse user columns whose names start with :data:`RESERVED_PREFIX`.

    The audit adds :data:`GROUP_COLUMN` and its samplers add other ``_fl_`` columns; a user
    column of the same name would be silently overwritten or dropped.

    Raises
    ------
    SchemaError
        Naming the first such column and the fix.

    Examples
    --------
    >>> check_reserved_columns(["age", "sex"])
    >>> check_reserved_columns(["age", "_fl_group"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fairlatent.exceptions.SchemaError: column '_fl_group' starts with '_fl_', ...
    """
    for column in columns:
        if str(column).startswith(RESERVED_PREFIX):
            raise SchemaError(
                MSG_RESERVED.format(column=str(column), prefix=RESERVED_PREFIX, group=GROUP_COLUMN)
            )

