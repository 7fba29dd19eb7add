"""Sensitive attributes: the spec grammar, binning, and group labels. The one owner of all three.

A sensitive option is a comma-separated list of specs: ``"sex"``, ``"age:25,60"`` (bins at cut
points), ``"age:q4"`` (quantile bins); several specs form intersectional groups, labelled
``"Female × <25"``. Everything that parses specs or builds group labels asks this module.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from fairlatent.data.kinds import MISSING_LABEL, fresh_label, is_numeric
from fairlatent.exceptions import SchemaError

#: Name of the column holding each row's (possibly intersectional) group label.
GROUP_COLUMN = "_fl_group"
#: Preferred label of the group that absorbs groups smaller than the minimum size. In parentheses,
#: like :data:`MISSING_GROUP`, so it reads as made by the audit; when a real group already carries
#: it, :func:`group_labels_merged` picks a variant (:func:`~fairlatent.data.kinds.fresh_label`),
#: so real rows never join the merged group by name.
OTHER_GROUP = "(small groups)"
#: Preferred label of rows whose sensitive value is missing (a variant when the data holds it).
MISSING_GROUP = MISSING_LABEL
#: Separator between attribute values in intersectional group labels.
GROUP_SEPARATOR = " × "


def split_sensitive(text: str) -> list[str]:
    """Split ``"sex,age:25,60,race"`` into specs, on the commas that start a new column.

    A comma followed by a number continues the cut points of the previous ``col:`` spec. A
    column name holding a comma (or a colon) is written in double quotes:
    ``'"race, ethnicity",sex'``.

    Examples
    --------
    >>> split_sensitive("sex, age:25,60,race")
    ['sex', 'age:25,60', 'race']
    >>> split_sensitive('"race, ethnicity", sex')
    ['"race, ethnicity"', 'sex']
    """
    parts: list[str] = []
    for piece in _split_outside_quotes(text):
        stripped = piece.strip()
        if parts and ":" in parts[-1] and _is_number(stripped):
            parts[-1] = f"{parts[-1]},{stripped}"
        elif stripped:
            parts.append(stripped)
    return parts


def _split_outside_quotes(text: str) -> list[str]:
    pieces, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            pieces.append(current)
            current = ""
        else:
            current += char
    pieces.append(current)
    return pieces


def sensitive_column(spec: str) -> str:
    """Column named by a sensitive spec (``"age:q4"`` -> ``"age"``)."""
    return parse_sensitive_spec(spec)[0]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_sensitive_spec(spec: str) -> tuple[str, str | None]:
    """Split one sensitive-attribute spec into its column and its binning (if any).

    Parameters
    ----------
    spec : str
        ``"sex"``, ``"age:25,60"`` (cut points) or ``"age:q4"`` (quantile bins).

    Returns
    -------
    column, binning : str, str or None

    Examples
    --------
    >>> parse_sensitive_spec("age:25,60"), parse_sensitive_spec("sex")
    (('age', '25,60'), ('sex', None))
    >>> parse_sensitive_spec('"race, ethnicity"'), parse_sensitive_spec('"a:b":q4')
    (('race, ethnicity', None), ('a:b', 'q4'))
    """
    stripped = spec.strip()
    if stripped.startswith('"') and stripped.count('"') >= 2:
        end = stripped.index('"', 1)
        name, rest = stripped[1:end].strip(), stripped[end + 1 :].strip()
        if rest and not rest.startswith(":"):
            raise SchemaError(
                f"bad sensitive attribute {spec!r}: after the quoted name write :BINS or nothing"
            )
        return name, rest[1:].strip() or None if rest else None
    name, _, rest = spec.partition(":")
    name = name.strip()
    if not name:
        raise SchemaError(
            f"empty sensitive attribute in {spec!r}; write --sensitive sex or age:25,60"
        )
    return name, rest.strip() or None


def normalise_label(value: object) -> str:
    """Label text without stray whitespace or a trailing ``.`` (Adult's ``>50K.``)."""
    text = str(value).strip()
    if isinstance(value, float | np.floating) and float(value).is_integer():
        text = str(int(value))
    return text.rstrip(".").strip() or text


def sensitive_values(
    series: pd.Series, name: str, spec: str | None, notices: list[str] | None = None
) -> tuple[pd.Series, list[str]]:
    """Group values of one sensitive column: its categories, or bins of a numeric column.

    Parameters
    ----------
    series : Series
        The raw column.
    name : str
        Its name, for messages.
    spec : str or None
        Binning spec (``"25,60"``, ``"q4"``); numeric columns with more than 10 values are binned
        into quartiles when none is given.
    notices : list of str, optional
        Receives a sentence when values that differ only by surrounding whitespace (or a
        trailing ``.``) are read as one group.

    Returns
    -------
    values : Series of str
        Group value of each row (missing values become :data:`MISSING_GROUP`, or a variant of it
        when the column holds that text as a real value).
    labels : list of str
        Bin labels, empty when the column was not binned.
    """
    numeric = is_numeric(series)
    if spec is None and not (numeric and series.nunique() > 10):
        present = series.dropna().map(normalise_label)
        _note_joined(series, present, name, notices)
        missing = fresh_label(MISSING_GROUP, present.unique())
        values = series.map(lambda v: missing if pd.isna(v) else normalise_label(v))
        if values.nunique() < 2:
            raise SchemaError(
                f"sensitive column {name!r} has a single group ({values.iloc[0]!r}); "
                "a fairness audit needs at least two groups"
            )
        return values.astype(str), []
    if not numeric:
        converted = pd.to_numeric(series, errors="coerce")
        if converted.notna().sum() < series.notna().sum():
            raise SchemaError(
                f"sensitive column {name!r} is not numeric, so it cannot be binned with {spec!r}; "
                f"use --sensitive {name}"
            )
        series = converted
    edges = _bin_edges(series, name, spec or "q4")
    labels = _bin_labels(edges)
    codes = np.searchsorted(edges, series.to_numpy(dtype=float), side="right")
    binned = pd.Series(
        [
            MISSING_GROUP if np.isnan(v) else labels[c]
            for v, c in zip(series.to_numpy(float), codes, strict=True)
        ],
        index=series.index,
        dtype=object,
    )
    if binned.nunique() < 2:
        raise SchemaError(
            f"sensitive column {name!r} binned at {spec!r} gives a single group; choose other cut points"
        )
    return binned.astype(str), labels


def _note_joined(
    raw: pd.Series, labels: pd.Series, name: str, notices: list[str] | None
) -> None:
    """Say which raw values became one group (surrounding whitespace, a trailing ``.``)."""
    if notices is None:
        return
    spellings = pd.DataFrame({"raw": raw.dropna().astype(str), "label": labels.astype(str)})
    joined = spellings.drop_duplicates().groupby("label")["raw"].agg(list)
    for label, raws in joined.items():
        if len(raws) > 1:
            notices.append(
                f"sensitive column {name!r}: values " + ", ".join(map(repr, sorted(raws)[:5]))
                + f" read as one group {label!r} (surrounding whitespace and a trailing '.' are "
                "ignored); make the values differ in their text to keep them apart"
            )


def _bin_edges(series: pd.Series, name: str, spec: str) -> np.ndarray:
    if spec.lower().startswith("q"):
        try:
            k = int(spec[1:])
        except ValueError:
            raise SchemaError(
                f"bad bin spec {spec!r} for {name!r}: use q<k> (quantiles) or cut points like 25,60"
            ) from None
        if not 2 <= k <= 20:
            raise SchemaError(f"bad quantile count in {spec!r} for {name!r}: use q2 to q20")
        edges = np.unique(np.nanquantile(series.to_numpy(float), np.linspace(0, 1, k + 1)[1:-1]))
        return edges
    try:
        edges = np.array(sorted(float(p) for p in spec.split(",") if p.strip()))
    except ValueError:
        raise SchemaError(
            f"bad bin spec {spec!r} for {name!r}: use cut points like 25,60 or q4 for quartiles"
        ) from None
    if len(edges) == 0:
        raise SchemaError(f"bad bin spec {spec!r} for {name!r}: give at least one cut point")
    return np.unique(edges)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _bin_labels(edges: np.ndarray) -> list[str]:
    labels = [f"<{_fmt(edges[0])}"]
    labels += [f"{_fmt(lo)} to <{_fmt(hi)}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    labels.append(f">={_fmt(edges[-1])}")
    return labels


def group_labels(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Label each row with the values of ``columns`` joined by ``" × "`` (missing: ``(missing)``).

    Parameters
    ----------
    frame : DataFrame
        Rows holding the columns.
    columns : sequence of str
        Sensitive columns; an empty sequence puts every row in the group ``"all"``.

    Returns
    -------
    ndarray of str

    Examples
    --------
    >>> group_labels(pd.DataFrame({"sex": ["F", None], "race": ["a", "b"]}), ["sex", "race"])
    array(['F × a', '(missing) × b'], dtype=object)
    """
    if not columns:
        return np.full(len(frame), "all", dtype=object)
    parts = [
        np.where(frame[c].isna().to_numpy(), MISSING_LABEL, frame[c].astype(object).astype(str))
        for c in columns
    ]
    labels = parts[0].astype(object)
    for part in parts[1:]:
        labels = labels + GROUP_SEPARATOR + part.astype(object)
    return labels.astype(object)


def group_labels_merged(
    frame: pd.DataFrame, sensitive: list[str], min_group_size: int
) -> tuple[pd.Series, dict[str, list[str]]]:
    """Label each row with its (intersectional) group, merging groups under ``min_group_size``.

    The merged group is labelled :data:`OTHER_GROUP`, or a variant of it when a group of the data
    already has that label, so no real group is ever merged, or mistaken for the merged one, by
    name.

    Returns
    -------
    labels : Series of str
    merged : dict
        ``{merged label: [merged group names]}``, empty when nothing was merged.

    Examples
    --------
    >>> frame = pd.DataFrame({"g": ["a"] * 5 + ["(small groups)"] * 5 + ["b", "c"]})
    >>> labels, merged = group_labels_merged(frame, ["g"], 3)
    >>> merged
    {'(small groups) 2': ['b', 'c']}
    >>> sorted(labels.unique())
    ['(small groups)', '(small groups) 2', 'a']
    """
    labels = pd.Series(group_labels(frame, sensitive), index=frame.index).astype(str)
    counts = labels.value_counts()
    small = sorted(str(g) for g in counts.index[counts < min_group_size])
    merged: dict[str, list[str]] = {}
    if small:
        label = fresh_label(OTHER_GROUP, counts.index)
        labels = labels.where(~labels.isin(small), label)
        merged[label] = small
    return labels, merged
