"""One encoded source column: :class:`CategoricalColumn`, :class:`QuantileColumn`, :class:`GMMColumn`.

Every column class has the same interface (:class:`EncodedColumn`): ``fit`` on a Series, the spans
it occupies, ``encode`` into its slice of the output array, ``decode`` from it, and
``to_dict``/``from_dict`` for the saved JSON description (one dict per column, the format of
:meth:`TabularEncoder.to_dict <fairlatent.encoding.TabularEncoder.to_dict>`).
:func:`column_from_dict` is the one place that picks the class of a saved column.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from fairlatent.encoding.dtypes import (
    dtype_from_json,
    dtype_to_json,
    json_scalar,
    restore_categorical,
    restore_numeric,
)
from fairlatent.encoding.numeric import (
    GMM_STD_SCALE,
    QuantileMap,
    decimal_places,
    fit_gmm,
    fit_quantile,
    gmm_modes,
)
from fairlatent.encoding.spans import SpanKind
from fairlatent.exceptions import SchemaError

__all__ = [
    "NUMERIC_METHODS",
    "CategoricalColumn",
    "EncodedColumn",
    "GMMColumn",
    "NumericColumn",
    "QuantileColumn",
    "column_from_dict",
]

_MAX_REPORTED_VALUES = 5

ERR_INFINITE = "numeric column {column!r} contains infinite values; replace them with NaN or finite"
ERR_UNSEEN = (
    "column {column!r} holds values never seen in fit: {values}; fit the encoder on data that "
    "contains them, or map them to a known category"
)
ERR_NOT_NUMERIC = (
    "column {column!r} was numeric in fit but now holds non-numeric values ({error}); convert it "
    "with pd.to_numeric"
)
ERR_UNKNOWN_KIND = "unknown column kind {kind!r} / method {method!r}"


def _numeric_values(series: pd.Series) -> np.ndarray:
    """Float64 view of a numeric column with NaN for every missing value."""
    try:
        return series.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise SchemaError(ERR_NOT_NUMERIC.format(column=series.name, error=exc)) from exc


def _format_values(values: Sequence[Any]) -> str:
    shown = ", ".join(repr(v) for v in values[:_MAX_REPORTED_VALUES])
    more = len(values) - _MAX_REPORTED_VALUES
    return shown + (f" (and {more} more)" if more > 0 else "")


class EncodedColumn(ABC):
    """The encoding of one source column.

    Attributes
    ----------
    name : str
        Source column.
    kind : {"categorical", "numeric"}
        Family of the column (the ``kind`` key of its saved description).
    dtype : dtype
        The column's dtype, restored on decode.
    """

    kind: ClassVar[str]
    name: str
    dtype: Any

    @abstractmethod
    def spans(self) -> list[tuple[SpanKind, int]]:
        """Return the ``(kind, width)`` of every span the column occupies, in order."""

    @abstractmethod
    def encode(self, series: pd.Series, out: np.ndarray, start: int) -> int:
        """Write the encoding of ``series`` into ``out[:, start:...]``; return the next start.

        Raises
        ------
        SchemaError
            On values that cannot be encoded (unseen categories, missing values not seen in fit,
            infinite or non-numeric values).
        """

    @abstractmethod
    def decode(self, data: np.ndarray, start: int) -> tuple[Any, int]:
        """Decode ``data[:, start:...]`` (float64) to values of the column's dtype; and next start."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """Describe the fitted column as plain JSON data (:func:`column_from_dict` inverts it)."""


class CategoricalColumn(EncodedColumn):
    """One-hot over the categories (plus a last code for missing values when fit saw any).

    Parameters
    ----------
    name : str
        Source column.
    dtype : dict
        The column's dtype as JSON (see :func:`~fairlatent.encoding.dtypes.dtype_to_json`).
    categories : list
        Category of each code.
    has_nan : bool
        Whether fit saw missing values (they get the last code).
    """

    kind = "categorical"

    def __init__(self, name: str, dtype: dict[str, Any], categories: list[Any], has_nan: bool):
        self.name = name
        self.dtype_spec = dtype
        self.dtype = dtype_from_json(dtype)
        self.categories = list(categories)
        self.has_nan = has_nan
        self.index = pd.Index(self.categories, dtype=object)
        self.width = len(self.categories) + int(has_nan)
        lookup = np.empty(self.width, dtype=object)
        lookup[: len(self.categories)] = self.categories
        if has_nan:
            lookup[-1] = np.nan
        self.lookup = lookup

    @classmethod
    def fit(cls, series: pd.Series) -> CategoricalColumn:
        """Learn the categories of ``series`` (declared, ``[False, True]`` or sorted values)."""
        column = str(series.name)
        dtype = series.dtype
        missing = series.isna().to_numpy()
        if isinstance(dtype, pd.CategoricalDtype):
            categories = [json_scalar(v, column) for v in dtype.categories]
        elif pd.api.types.is_bool_dtype(dtype):
            present = set(series[~missing].tolist())
            categories = [v for v in (False, True) if v in present]
        else:
            uniques = pd.unique(series[~missing].to_numpy(dtype=object))
            categories = [json_scalar(v, column) for v in uniques]
            with contextlib.suppress(TypeError):  # mixed types keep the order of first appearance
                categories = sorted(categories)
        return cls(column, dtype_to_json(dtype), categories, bool(missing.any()))

    def spans(self) -> list[tuple[SpanKind, int]]:
        """Return the ``(kind, width)`` of the column's spans."""
        return [("categorical", self.width)]

    def encode(self, series: pd.Series, out: np.ndarray, start: int) -> int:
        """Write the encoding of ``series`` from ``start``; return the next start."""
        missing = series.isna().to_numpy()
        codes = np.full(len(series), len(self.categories), dtype=np.int64)
        present = ~missing
        if present.any():
            values = series.to_numpy(dtype=object)[present]
            found = self.index.get_indexer(values)
            if (found < 0).any():
                unseen = pd.unique(values[found < 0]).tolist()
                raise SchemaError(
                    ERR_UNSEEN.format(column=self.name, values=_format_values(unseen))
                )
            codes[present] = found
        if missing.any() and not self.has_nan:
            raise SchemaError(ERR_UNSEEN.format(column=self.name, values="missing value (NaN)"))
        out[np.arange(len(series)), start + codes] = 1.0
        return start + self.width

    def decode(self, data: np.ndarray, start: int) -> tuple[Any, int]:
        """Decode the column from ``start``; return the values and the next start."""
        codes = np.argmax(data[:, start : start + self.width], axis=1)
        return restore_categorical(self.lookup[codes], self.dtype), start + self.width

    def to_dict(self) -> dict[str, Any]:
        """Describe the column as plain JSON data."""
        return {
            "name": self.name,
            "kind": self.kind,
            "dtype": self.dtype_spec,
            "categories": self.categories,
            "has_nan": self.has_nan,
        }

    @classmethod
    def from_dict(cls, info: dict[str, Any]) -> CategoricalColumn:
        """Rebuild the column from :meth:`to_dict` output."""
        return cls(info["name"], info["dtype"], info["categories"], info["has_nan"])


class NumericColumn(EncodedColumn):
    """A numeric column: one ``numeric`` span, the method's own spans, then a ``missing`` span.

    Decoded values are clipped to the fitted range, integer columns rounded and other columns
    rounded to the decimals the data was recorded with. Missing values (when fit saw any) set the
    ``missing`` span and decode back to missing. Subclasses implement the numeric encoding itself
    (``method``).

    Parameters
    ----------
    info : dict
        The saved description: ``name``, ``dtype``, ``integer``, ``min``, ``max``,
        ``has_missing``, ``decimals`` (optional) and the method's own keys.
    """

    kind = "numeric"
    method: ClassVar[str]
    method_keys: ClassVar[tuple[str, ...]]

    def __init__(self, info: dict[str, Any]) -> None:
        self.name = info["name"]
        self.dtype_spec = info["dtype"]
        self.dtype = dtype_from_json(info["dtype"])
        self.integer = info["integer"]
        self.minimum = info["min"]
        self.maximum = info["max"]
        self.has_missing = info["has_missing"]
        self.decimals = info.get("decimals")
        self.spec = {key: info[key] for key in self.method_keys}
        self._check_description()

    def _check_description(self) -> None:
        """Types and ranges of a (possibly hand-edited) description: ``ValueError`` if wrong."""
        where = f"numeric column {self.name!r}"
        if not isinstance(self.name, str):
            raise ValueError(f"column name {self.name!r} is not text")
        for key, value in (("integer", self.integer), ("has_missing", self.has_missing)):
            if not isinstance(value, bool):
                raise ValueError(f"{where}: {key} = {value!r} is not true or false")
        bounds = (self.minimum, self.maximum)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in bounds) or not (
            np.isfinite(bounds).all() and self.minimum <= self.maximum
        ):
            raise ValueError(f"{where}: bounds min={self.minimum!r}, max={self.maximum!r} are not "
                             "two finite numbers with min <= max")
        try:
            numpy_dtype = np.dtype(getattr(self.dtype, "numpy_dtype", self.dtype))
        except TypeError:
            numpy_dtype = np.dtype(float)
        if numpy_dtype.kind in "iu":
            info = np.iinfo(numpy_dtype)
            if self.minimum < info.min or self.maximum > info.max:
                raise ValueError(f"{where}: bounds min={self.minimum!r}, max={self.maximum!r} "
                                 f"do not fit its type {numpy_dtype.name}")
        if self.decimals is not None and (
            isinstance(self.decimals, bool) or not isinstance(self.decimals, int)
            or not 0 <= self.decimals <= 20
        ):
            raise ValueError(f"{where}: decimals = {self.decimals!r} is not a whole number 0-20")
        for key, value in self.spec.items():
            numbers = np.asarray(value, dtype=float)  # ValueError/TypeError on text
            if numbers.ndim != 1 or numbers.size == 0 or not np.isfinite(numbers).all():
                raise ValueError(f"{where}: {key} must be a non-empty list of finite numbers")

    @classmethod
    def fit(
        cls, series: pd.Series, *, n_quantiles: int, max_modes: int, seed: int
    ) -> NumericColumn:
        """Fit the column on ``series``: range, missing values, precision, then the method.

        Parameters
        ----------
        series : Series
            A numeric column.
        n_quantiles : int
            Quantile levels (``quantile`` method).
        max_modes : int
            Mixture components (``gmm`` method).
        seed : int
            Seed of the mixture (``gmm`` method).

        Returns
        -------
        NumericColumn

        Raises
        ------
        SchemaError
            On non-numeric or infinite values.
        """
        values = _numeric_values(series)
        missing = np.isnan(values)
        finite = values[~missing]
        if np.isinf(finite).any():
            raise SchemaError(ERR_INFINITE.format(column=series.name))
        info: dict[str, Any] = {
            "name": series.name,
            "kind": cls.kind,
            "dtype": dtype_to_json(series.dtype),
            "integer": bool(pd.api.types.is_integer_dtype(series.dtype)),
            "min": float(finite.min()) if finite.size else 0.0,
            "max": float(finite.max()) if finite.size else 0.0,
            "has_missing": bool(missing.any()),
            "method": cls.method,
            "decimals": decimal_places(finite),
        }
        info.update(
            cls._fit_method(finite, n_quantiles=n_quantiles, max_modes=max_modes, seed=seed)
        )
        return cls(info)

    @classmethod
    @abstractmethod
    def _fit_method(
        cls, finite: np.ndarray, *, n_quantiles: int, max_modes: int, seed: int
    ) -> dict[str, list[float]]:
        """Fit the method on the finite values: its own keys of the description."""

    def _method_spans(self) -> list[tuple[SpanKind, int]]:
        """Return the spans the method adds after the ``numeric`` span."""
        return []

    @abstractmethod
    def _encode_filled(
        self, filled: np.ndarray, missing: np.ndarray, out: np.ndarray, start: int
    ) -> int:
        """Encode finite values (missing ones filled with the minimum) from ``start``."""

    @abstractmethod
    def _decode_values(self, data: np.ndarray, start: int) -> tuple[np.ndarray, int]:
        """Decode float64 values (not yet clipped) from ``start``."""

    def spans(self) -> list[tuple[SpanKind, int]]:
        """Return the ``(kind, width)`` of the column's spans."""
        spans: list[tuple[SpanKind, int]] = [("numeric", 1), *self._method_spans()]
        if self.has_missing:
            spans.append(("missing", 2))
        return spans

    def encode(self, series: pd.Series, out: np.ndarray, start: int) -> int:
        """Write the encoding of ``series`` from ``start``; return the next start."""
        values = _numeric_values(series)
        missing = np.isnan(values)
        if missing.any() and not self.has_missing:
            raise SchemaError(ERR_UNSEEN.format(column=self.name, values="missing value (NaN)"))
        if np.isinf(values).any():
            raise SchemaError(ERR_INFINITE.format(column=self.name))
        filled = np.where(missing, self.minimum, values)
        start = self._encode_filled(filled, missing, out, start)
        if self.has_missing:
            out[:, start] = (~missing).astype(np.float32)
            out[:, start + 1] = missing.astype(np.float32)
            start += 2
        return start

    def decode(self, data: np.ndarray, start: int) -> tuple[Any, int]:
        """Decode the column from ``start``; return the values and the next start."""
        values, start = self._decode_values(data, start)
        values = np.clip(values, self.minimum, self.maximum)
        if self.integer:
            values = np.rint(values)
        elif self.decimals is not None:  # keep the precision the data was recorded with
            values = np.clip(np.round(values, self.decimals), self.minimum, self.maximum)
        missing = np.zeros(len(values), dtype=bool)
        if self.has_missing:
            missing = data[:, start + 1] > data[:, start]
            start += 2
        return restore_numeric(values, missing, self.dtype), start

    def to_dict(self) -> dict[str, Any]:
        """Describe the column as plain JSON data."""
        return {
            "name": self.name,
            "kind": self.kind,
            "dtype": self.dtype_spec,
            "integer": self.integer,
            "min": self.minimum,
            "max": self.maximum,
            "has_missing": self.has_missing,
            "method": self.method,
            "decimals": self.decimals,
            **self.spec,
        }


class QuantileColumn(NumericColumn):
    """Quantile-to-normal score with plateaus for repeated values: one ``numeric`` span."""

    method = "quantile"
    method_keys = ("values", "lo", "hi")

    def __init__(self, info: dict[str, Any]) -> None:
        super().__init__(info)
        self.qmap = QuantileMap(self.spec)

    @classmethod
    def _fit_method(
        cls, finite: np.ndarray, *, n_quantiles: int, max_modes: int, seed: int
    ) -> dict[str, list[float]]:
        return fit_quantile(finite, int(n_quantiles))

    def _encode_filled(
        self, filled: np.ndarray, missing: np.ndarray, out: np.ndarray, start: int
    ) -> int:
        scores = self.qmap.forward(filled)
        scores[missing] = 0.0
        out[:, start] = scores
        return start + 1

    def _decode_values(self, data: np.ndarray, start: int) -> tuple[np.ndarray, int]:
        return self.qmap.inverse(data[:, start]), start + 1


class GMMColumn(NumericColumn):
    """Mode-specific normalisation (CTGAN): a ``numeric`` scalar, then a one-hot ``mode`` span."""

    method = "gmm"
    method_keys = ("means", "stds", "log_weights")

    def __init__(self, info: dict[str, Any]) -> None:
        super().__init__(info)
        self.means = np.asarray(info["means"], dtype=np.float64)
        self.stds = np.asarray(info["stds"], dtype=np.float64)
        self.log_w = np.asarray(info["log_weights"], dtype=np.float64)

    @classmethod
    def _fit_method(
        cls, finite: np.ndarray, *, n_quantiles: int, max_modes: int, seed: int
    ) -> dict[str, list[float]]:
        return fit_gmm(finite, int(max_modes), seed)

    def _method_spans(self) -> list[tuple[SpanKind, int]]:
        return [("mode", len(self.spec["means"]))]

    def _encode_filled(
        self, filled: np.ndarray, missing: np.ndarray, out: np.ndarray, start: int
    ) -> int:
        modes = gmm_modes(filled, self.means, self.stds, self.log_w)
        scalar = (filled - self.means[modes]) / (GMM_STD_SCALE * self.stds[modes])
        scalar[missing] = 0.0
        modes[missing] = 0
        out[:, start] = scalar
        out[np.arange(len(filled)), start + 1 + modes] = 1.0
        return start + 1 + self.means.size

    def _decode_values(self, data: np.ndarray, start: int) -> tuple[np.ndarray, int]:
        n_modes = self.means.size
        modes = np.argmax(data[:, start + 1 : start + 1 + n_modes], axis=1)
        scalar = np.nan_to_num(data[:, start], nan=0.0)
        values = scalar * GMM_STD_SCALE * self.stds[modes] + self.means[modes]
        return values, start + 1 + n_modes


#: The numeric column class of each ``numeric`` method of :class:`TabularEncoder`.
NUMERIC_METHODS: dict[str, type[NumericColumn]] = {"quantile": QuantileColumn, "gmm": GMMColumn}


def column_from_dict(info: dict[str, Any]) -> EncodedColumn:
    """Rebuild a fitted column from its saved description (the output of ``to_dict``).

    Raises
    ------
    KeyError, TypeError, ValueError
        If ``info`` is malformed (the encoder turns these into a ``ModelFileError``).
    """
    kind, method = info["kind"], info.get("method")
    if kind == CategoricalColumn.kind:
        return CategoricalColumn.from_dict(info)
    if kind == NumericColumn.kind and method in NUMERIC_METHODS:
        return NUMERIC_METHODS[method](info)
    raise ValueError(ERR_UNKNOWN_KIND.format(kind=kind, method=method))
