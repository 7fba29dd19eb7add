"""Dtypes and category values as JSON, and decoded arrays restored to a column's dtype."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.exceptions import SchemaError

__all__ = [
    "dtype_from_json",
    "dtype_to_json",
    "json_scalar",
    "restore_categorical",
    "restore_numeric",
]

ERR_CATEGORY_TYPE = (
    "categorical column {column!r} holds a value of type {kind} ({value!r}); only strings, numbers "
    "and booleans can be encoded; convert the column with .astype(str)"
)


def json_scalar(value: Any, column: str) -> str | int | float | bool:
    """Convert one category value to a plain JSON scalar, refusing anything else.

    Raises
    ------
    SchemaError
        If ``value`` is not a string, number or boolean.
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise SchemaError(
        ERR_CATEGORY_TYPE.format(column=column, kind=type(value).__name__, value=value)
    )


def dtype_to_json(dtype: Any) -> dict[str, Any]:
    """Describe a pandas/numpy dtype in JSON so that :func:`dtype_from_json` rebuilds it."""
    if isinstance(dtype, pd.CategoricalDtype):
        cats = dtype.categories
        return {
            "name": "category",
            "categories": [json_scalar(v, "<categories>") for v in cats],
            "categories_dtype": dtype_to_json(cats.dtype),
            "ordered": bool(dtype.ordered),
        }
    if isinstance(dtype, pd.StringDtype):
        na = "nan" if isinstance(dtype.na_value, float) else "NA"
        return {"name": "string", "storage": dtype.storage, "na_value": na}
    return {"name": str(dtype)}


def dtype_from_json(spec: dict[str, Any]) -> Any:
    """Inverse of :func:`dtype_to_json`."""
    name = spec["name"]
    if name == "category":
        cat_dtype = dtype_from_json(spec["categories_dtype"])
        categories = pd.Index(spec["categories"], dtype=cat_dtype)
        return pd.CategoricalDtype(categories=categories, ordered=spec["ordered"])
    if name == "string":
        na_value = np.nan if spec["na_value"] == "nan" else pd.NA
        return pd.StringDtype(storage=spec["storage"], na_value=na_value)
    return pd.api.types.pandas_dtype(name)


def restore_numeric(values: np.ndarray, missing: np.ndarray, dtype: Any) -> Any:
    """Return decoded numbers (float64) as an array of ``dtype``, ``missing`` rows missing."""
    if not missing.any():
        return pd.array(values, dtype=dtype) if _is_extension(dtype) else values.astype(dtype)
    if _is_extension(dtype):
        arr = pd.array(values, dtype=dtype)
        arr[missing] = pd.NA
        return arr
    values = values.astype(np.float64)
    values[missing] = np.nan
    if np.dtype(dtype).kind == "f":
        return values.astype(dtype)
    return values  # an integer numpy column never holds NaN; float64 is the only honest choice


def restore_categorical(values: np.ndarray, dtype: Any) -> Any:
    """Return decoded categories (object array, NaN = missing) as an array of ``dtype``."""
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.Categorical(values, dtype=dtype)
    if isinstance(dtype, pd.StringDtype):
        return pd.array(values, dtype=dtype)
    has_nan = bool(pd.isna(values).any()) if values.size else False
    if dtype == np.dtype(object) or (has_nan and not _is_extension(dtype)):
        if pd.api.types.is_float_dtype(dtype):
            return values.astype(dtype)
        # object column, or a NaN that cannot live in a bool/int numpy dtype: keep objects (a plain
        # ndarray would be inferred as pandas ``str`` by the DataFrame constructor)
        return pd.Series(values, dtype=object, copy=False)
    return pd.array(values, dtype=dtype) if _is_extension(dtype) else values.astype(dtype)


def _is_extension(dtype: Any) -> bool:
    return isinstance(dtype, pd.api.extensions.ExtensionDtype)
