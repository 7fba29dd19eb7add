"""TabularEncoder: a mixed-type DataFrame <-> float32 matrix with an exact inverse.

Every source column becomes one or more :class:`~fairlatent.encoding.spans.Span` blocks of the
encoded matrix; the span list is the only thing the generative models need to know about the data.

Column kinds are decided by dtype alone (never by counting unique values):

* **numeric** -- integer and float dtypes (numpy or pandas nullable). Integer columns are rounded
  on decode; every numeric column is clipped to the range seen in ``fit``. A low-cardinality
  integer column (e.g. ``education-num``) therefore stays numeric; name it in
  ``discrete_columns`` to one-hot it.
* **categorical** -- object, string, category and bool dtypes (and anything named in
  ``discrete_columns``). Decoded back to the original dtype: pandas ``str``/``string``,
  ``category`` (same categories and order), ``bool``/``boolean``, ``object``, or the numeric dtype
  of a forced-discrete column. One-hot order: the declared categories of a ``category`` column,
  ``[False, True]`` for booleans, otherwise the sorted distinct values (order of first appearance
  when the values cannot be sorted, e.g. mixed types).

Numeric encodings
-----------------
``numeric="quantile"`` (default) maps a value to a normal score through its empirical quantile,
with a plateau for every repeated value so that tied values decode exactly; ``numeric="gmm"`` is
the mode-specific normalisation of the CTGAN paper (a ``numeric`` span plus a ``mode`` span). See
:mod:`fairlatent.encoding.numeric`; :mod:`fairlatent.encoding.columns` holds one class per kind of
column.

Missing values
--------------
A numeric column with missing values in ``fit`` gets an extra ``missing`` span
``[present, missing]``; missing cells are encoded as score 0 (and the most weighted mode) and
decode back to NaN (``<NA>`` for nullable dtypes). In a categorical column a missing value is its
own last category and decodes back to the dtype's missing value.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Iterable
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions

from fairlatent.data.kinds import is_numeric
from fairlatent.encoding.columns import (
    NUMERIC_METHODS,
    CategoricalColumn,
    EncodedColumn,
    column_from_dict,
)
from fairlatent.encoding.frames import as_frame
from fairlatent.encoding.spans import Span
from fairlatent.exceptions import (
    DataError,
    ModelFileError,
    SchemaError,
    check_fitted,
    check_parameter_constraints,
)

logger = logging.getLogger(__name__)

__all__ = ["TabularEncoder"]

NumericMethod = Literal["quantile", "gmm"]

FORMAT_NAME = "fairlatent.TabularEncoder"
FORMAT_VERSION = 1

ERR_NOT_FRAME = "expected a pandas DataFrame, got {kind}; pass e.g. pd.read_csv(path)"
ERR_EMPTY = "the frame has no rows (or no columns); nothing to encode"
ERR_COLUMN_NAMES = (
    "column names must be unique strings, found {names!r}; rename them, e.g. "
    "frame.columns = frame.columns.astype(str)"
)
ERR_UNKNOWN_DISCRETE = (
    "discrete_columns names {names!r}, which are not in the frame (columns: {cols!r})"
)
ERR_UNSUPPORTED_DTYPE = (
    "column {column!r} has dtype {dtype}, which the encoder cannot handle; convert it to a number "
    "or to strings first"
)
ERR_MISSING_COLUMNS = "the frame lacks columns {names!r} that the encoder was fitted on"
ERR_SHAPE = "expected an array of shape (n_rows, {dim}), got shape {shape}"
ERR_NOT_FITTED = "this TabularEncoder is not fitted yet; call fit(frame) first"
ERR_BAD_DICT = "the saved encoder description is malformed ({error}); re-save the model"


def _column_kind(series: pd.Series) -> Literal["numeric", "categorical"]:
    """Decide a column's kind from its dtype alone (see the module docstring).

    :func:`fairlatent.data.kinds.is_numeric` decides whether the column holds numbers (booleans
    do not); of those the encoder handles integers and floats, of the rest booleans, categories,
    strings and objects.

    Raises
    ------
    SchemaError
        For any other dtype: datetimes, timedeltas, periods, intervals, complex or decimal numbers.
    """
    dtype = series.dtype
    if is_numeric(dtype):
        if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
            return "numeric"
    elif (
        pd.api.types.is_bool_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    ):
        return "categorical"
    raise SchemaError(ERR_UNSUPPORTED_DTYPE.format(column=series.name, dtype=dtype))


#: Constructor parameters in the order the saved format writes them.
_PARAM_ORDER = ("numeric", "n_quantiles", "max_modes", "random_state")


class TabularEncoder(TransformerMixin, BaseEstimator):
    """Encode a mixed-type DataFrame as a float32 matrix described by spans, and decode it back.

    Parameters
    ----------
    numeric : {"quantile", "gmm"}, default "quantile"
        Encoding of numeric columns: quantile-to-normal score (fast, one ``numeric`` span) or the
        CTGAN paper's mode-specific normalisation (a ``numeric`` span followed by a ``mode`` span).
    n_quantiles : int, default 1000
        Number of quantile levels of the quantile map (capped at the number of non-missing rows).
    max_modes : int, default 10
        Maximum number of mixture components of ``numeric="gmm"``.
    random_state : int or None, default None
        Seed of the row subsample and mixture initialisation of ``numeric="gmm"`` (unused
        otherwise).

    Attributes
    ----------
    columns_ : list of str
        Encoded source columns, in order.
    spans_ : list of Span
        Layout of the encoded matrix.
    output_dim_ : int
        Width of the encoded matrix.
    discrete_columns_ : list of str
        Columns encoded as categorical.

    Notes
    -----
    Kinds are chosen by dtype only, see the module docstring. ``transform`` ignores columns it was
    not fitted on and raises :class:`~fairlatent.exceptions.SchemaError` on missing columns or on
    categories not seen in ``fit``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"age": [25, 38, 52], "sex": ["F", "M", "F"]})
    >>> enc = TabularEncoder().fit(frame)
    >>> [(s.column, s.kind, s.width) for s in enc.spans_]
    [('age', 'numeric', 1), ('sex', 'categorical', 2)]
    >>> enc.inverse_transform(enc.transform(frame)).equals(frame)
    True
    """

    def __init__(
        self,
        *,
        numeric: NumericMethod = "quantile",
        n_quantiles: int = 1000,
        max_modes: int = 10,
        random_state: int | None = None,
    ) -> None:
        self.numeric = numeric
        self.n_quantiles = n_quantiles
        self.max_modes = max_modes
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        """Missing values are encoded; the output is float32 whatever the input's dtype."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "numeric": [StrOptions({"quantile", "gmm"})],
        "n_quantiles": [Interval(numbers.Integral, 2, None, closed="left")],
        "max_modes": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def _check_params(self) -> None:
        check_parameter_constraints(self)

    # -- fit ---------------------------------------------------------------------------------------

    def fit(
        self, X: Any, y: Any = None, *, discrete_columns: Iterable[str] | None = None
    ) -> TabularEncoder:
        """Learn the encoding of every column of ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_rows, n_columns)
            Training rows. A DataFrame's column names must be unique strings; an array's columns
            are numeric and named ``x0, x1, ...``.
        y : None
            Ignored (the encoding is unsupervised).
        discrete_columns : iterable of str, optional
            Columns to one-hot encode even though their dtype is numeric. Columns of object, string,
            category or bool dtype are always categorical.

        Returns
        -------
        TabularEncoder
            ``self``, fitted.

        Raises
        ------
        DataError
            If ``frame`` is not a DataFrame or is empty.
        SchemaError
            On unusable column names, unknown ``discrete_columns``, unsupported dtypes, infinite
            numeric values or non-scalar categories.
        """
        self._check_params()
        frame = as_frame(X, self)
        _check_frame(frame)
        columns = list(frame.columns)
        forced = list(discrete_columns or [])
        unknown = [c for c in forced if c not in frame.columns]
        if unknown:
            raise SchemaError(ERR_UNKNOWN_DISCRETE.format(names=unknown, cols=columns))
        seed_rng = np.random.default_rng(self.random_state)
        numeric = NUMERIC_METHODS[self.numeric]
        encoded: list[EncodedColumn] = []
        for column in columns:
            series = frame[column]
            kind = "categorical" if column in forced else _column_kind(series)
            if kind == "categorical":
                encoded.append(CategoricalColumn.fit(series))
            else:
                seed = int(seed_rng.integers(2**31 - 1))
                encoded.append(
                    numeric.fit(
                        series,
                        n_quantiles=int(self.n_quantiles),
                        max_modes=int(self.max_modes),
                        seed=seed,
                    )
                )
        self._set_state(encoded)
        logger.debug("fitted encoder: %d columns -> %d dims", len(columns), self.output_dim_)
        return self

    def fit_transform(
        self, X: Any, y: Any = None, *, discrete_columns: Iterable[str] | None = None
    ) -> np.ndarray:
        """Fit on ``X`` and return its encoding.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_rows, n_columns)
            Training rows.
        y : None
            Ignored.
        discrete_columns : iterable of str, optional
            See :meth:`fit`.

        Returns
        -------
        ndarray of float32, shape (n_rows, output_dim_)
            Encoded rows.
        """
        frame = as_frame(X, self)
        return self.fit(frame, discrete_columns=discrete_columns).transform(frame)

    def _set_state(self, encoded: list[EncodedColumn]) -> None:
        spans: list[Span] = []
        start = 0
        for column in encoded:
            for kind, width in column.spans():
                spans.append(Span(column=column.name, kind=kind, start=start, width=width))
                start += width
        self.columns_ = [column.name for column in encoded]
        self.n_features_in_ = len(self.columns_)
        self.feature_names_in_ = np.asarray(self.columns_, dtype=object)
        self.spans_ = spans
        self.output_dim_ = start
        self.discrete_columns_ = [c.name for c in encoded if c.kind == CategoricalColumn.kind]
        self._columns = encoded

    def _check_fitted(self) -> None:
        check_fitted(self, "spans_", message=ERR_NOT_FITTED)

    # -- transform ---------------------------------------------------------------------------------

    def transform(self, X: Any) -> np.ndarray:
        """Encode ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_rows, n_columns)
            Rows with (at least) the fitted columns; other columns are ignored. An array's
            columns are the fitted columns, in order.

        Returns
        -------
        ndarray of float32, shape (n_rows, output_dim_)
            Encoded rows, laid out as :attr:`spans_` says.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        SchemaError
            If a fitted column is absent, holds a category not seen in ``fit``, or a numeric column
            holds non-numbers.
        """
        self._check_fitted()
        frame = as_frame(X, self, fitted_columns=self.columns_)
        absent = [c for c in self.columns_ if c not in frame.columns]
        if absent:
            raise SchemaError(ERR_MISSING_COLUMNS.format(names=absent))
        out = np.zeros((len(frame), self.output_dim_), dtype=np.float32)
        start = 0
        for column in self._columns:
            start = column.encode(frame[column.name], out, start)
        return out

    def known_categories(self) -> dict[str, tuple[list[Any], bool]]:
        """Categories (and whether a missing value) each categorical column saw in ``fit``.

        Returns
        -------
        dict
            Column name -> ``(categories, saw_missing)``, for the categorical columns only.
        """
        self._check_fitted()
        return {
            column.name: (list(column.categories), bool(column.has_nan))
            for column in self._columns
            if isinstance(column, CategoricalColumn)
        }

    # -- inverse -----------------------------------------------------------------------------------

    def inverse_transform(self, array: Any) -> pd.DataFrame:
        """Decode an encoded matrix back to a DataFrame with the original columns and dtypes.

        Parameters
        ----------
        array : array-like, shape (n_rows, output_dim_)
            Encoded rows, or model output in the same layout: one-hot blocks may hold logits or
            probabilities (the largest entry wins).

        Returns
        -------
        DataFrame
            Decoded rows with a fresh ``RangeIndex``. Numeric values are clipped to the fitted range
            and integer columns rounded.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        DataError
            If ``array`` does not have ``output_dim_`` columns.
        """
        self._check_fitted()
        data = np.asarray(array, dtype=np.float64)
        if data.ndim != 2 or data.shape[1] != self.output_dim_:
            raise DataError(ERR_SHAPE.format(dim=self.output_dim_, shape=data.shape))
        decoded: dict[str, pd.Series | pd.Categorical | np.ndarray] = {}
        start = 0
        for column in self._columns:
            decoded[column.name], start = column.decode(data, start)
        return pd.DataFrame(decoded, columns=self.columns_, index=pd.RangeIndex(len(data)))

    # -- persistence -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Describe the fitted encoder as plain JSON data.

        Returns
        -------
        dict
            JSON-serialisable description; :meth:`from_dict` rebuilds an identical encoder.
        """
        self._check_fitted()
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            # constructor order (the saved format's key order), not get_params' sorted order
            "params": {k: getattr(self, k) for k in _PARAM_ORDER},
            "columns": [column.to_dict() for column in self._columns],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TabularEncoder:
        """Rebuild a fitted encoder from :meth:`to_dict` output.

        Parameters
        ----------
        data : dict
            Output of :meth:`to_dict` (possibly after a JSON round trip).

        Returns
        -------
        TabularEncoder
            Fitted encoder.

        Raises
        ------
        ModelFileError
            If ``data`` is not a valid encoder description.
        """
        try:
            if data.get("format") != FORMAT_NAME:
                raise ValueError(f"format is {data.get('format')!r}, expected {FORMAT_NAME!r}")
            if int(data["format_version"]) > FORMAT_VERSION:
                raise ValueError(
                    f"format_version {data['format_version']} is newer than this fairlatent "
                    f"understands ({FORMAT_VERSION}); upgrade fairlatent"
                )
            encoder = cls(**data["params"])
            encoder._set_state([column_from_dict(info) for info in data["columns"]])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelFileError(ERR_BAD_DICT.format(error=exc)) from exc
        return encoder


def _check_frame(frame: Any) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise DataError(ERR_NOT_FRAME.format(kind=type(frame).__name__))
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise DataError(ERR_EMPTY)
    names = list(frame.columns)
    if not all(isinstance(c, str) for c in names) or len(set(names)) != len(names):
        raise SchemaError(ERR_COLUMN_NAMES.format(names=names))
