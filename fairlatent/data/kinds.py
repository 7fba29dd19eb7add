"""Column kinds: the one place that decides whether a column is numeric or categorical.

Every module that needs a column's kind (the schema, the encoder, the classifiers, the synthetic-data
metrics, the representation audit, the latent model) asks here, so they can never disagree.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

ColumnKind = Literal["continuous", "integer", "categorical", "binary"]

#: Text that stands for a missing value wherever values are shown or compared as labels.
MISSING_LABEL = "(missing)"


def is_numeric(column: pd.Series | Any) -> bool:
    """Whether a column (or dtype) holds numbers: a numeric dtype that is not boolean.

    Parameters
    ----------
    column : Series or dtype
        The column, or its dtype.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_numeric(pd.Series([1.5, 2.0])), is_numeric(pd.Series([True, False]))
    (True, False)
    >>> is_numeric(pd.Series(["a", "b"]))
    False
    """
    dtype = column.dtype if isinstance(column, pd.Series | pd.Index) else column
    return bool(pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))


def infer_kind(series: pd.Series) -> ColumnKind:
    """Infer the kind of a column from its dtype and values.

    Parameters
    ----------
    series : Series
        The column.

    Returns
    -------
    {"continuous", "integer", "categorical", "binary"}

    Examples
    --------
    >>> infer_kind(pd.Series([1, 2, 3])), infer_kind(pd.Series(["a", "b", "a"]))
    ('integer', 'binary')
    """
    values = series.dropna()
    if pd.api.types.is_bool_dtype(series):
        return "binary"
    if pd.api.types.is_numeric_dtype(series):
        if values.nunique() == 2:
            return "binary"
        if len(values) and np.all(np.mod(values.to_numpy(dtype=float), 1.0) == 0.0):
            return "integer"
        return "continuous"
    return "binary" if values.nunique() == 2 else "categorical"


def fresh_label(preferred: str, taken: Any) -> str:
    """Return ``preferred``, or a variant of it, that is none of the values in ``taken``.

    Labels the audit invents (the merged small groups, the pooled rare levels of a column, the
    missing-value group) must never equal a value of the data, or real rows would silently join
    them. ``taken`` is compared as text, as group labels and categories are.

    Parameters
    ----------
    preferred : str
        The label to use when it is free, e.g. ``"(small groups)"``.
    taken : iterable
        Values already in use.

    Returns
    -------
    str

    Examples
    --------
    >>> fresh_label("(small groups)", ["other", "Other"])
    '(small groups)'
    >>> fresh_label("(small groups)", ["(small groups)", "(small groups) 2"])
    '(small groups) 3'
    """
    used = {str(value) for value in taken}
    label, k = preferred, 1
    while label in used:
        k += 1
        label = f"{preferred} {k}"
    return label
