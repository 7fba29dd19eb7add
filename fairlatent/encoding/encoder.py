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
``numeric="quantile"`` (default) maps a value to a normal score through its empirical quantile.
The map is piecewise linear in the probability scale with a *plateau* for every repeated value: a
value that fills quantile levels ``[a, b]`` encodes to the midpoint of that interval, and every
score that lands anywhere inside it decodes back to exactly that value. Zero-inflated or heavily
tied columns (``capital-gain``, ``hours-per-week``) thus decode exactly even from slightly noisy
model output, and the map is invertible up to float32 resolution. Probabilities stay inside
``[0.5 / n, 1 - 0.5 / n]`` (``n`` = number of quantile levels), so scores stay finite (about
+/-3.3 for 1000 levels); they are also clipped to +/-5.

``numeric="gmm"`` is the mode-specific normalisation of the CTGAN paper: a Bayesian Gaussian
mixture with up to ``max_modes`` components, modes with weight below 0.005 are dropped, and a
value becomes ``(value - mean_k) / (4 * std_k)`` (a ``numeric`` span) followed by the one-hot mode
``k`` (a ``mode`` span). The mode is the most probable one (deterministic, so the inverse is
exact) and the scalar is not clipped. The mixture is fitted on at most 20,000 rows drawn with
``random_state``.

Missing values
--------------
A numeric column with missing values in ``fit`` gets an extra ``missing`` span
``[present, missing]``; missing cells are encoded as score 0 (and the most weighted mode) and
decode back to NaN (``<NA>`` for nullable dtypes). In a categorical column a missing value is its
own last category and decodes back to the dtype's missing value.
"""

from __future__ import annotations

import contextlib
import logging
import numbers
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from fairlatent.encoding.spans import Span
from fairlatent.exceptions import (
    ConfigError,
    DataError,
    ModelFileError,
    NotFittedError,
    SchemaError,
)

logger = logging.getLogger(__name__)

__all__ = ["TabularEncoder"]

NumericMethod = Literal["quantile", "gmm"]

FORMAT_NAME = "fairlatent.TabularEncoder"
FORMAT_VERSION = 1

_Z_CLIP = 5.0
_GMM_WEIGHT_THRESHOLD = 0.005
_GMM_MAX_FIT_ROWS = 20_000
_GMM_STD_SCALE = 4.0
_MAX_REPORTED_VALUES = 5

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
ERR_INFINITE = "numeric column {column!r} contains infinite values; replace them with NaN or finite"
ERR_CATEGORY_TYPE = (
    "categorical column {column!r} holds a value of type {kind} ({value!r}); only strings, numbers "
    "and booleans can be encoded; convert the column with .astype(str)"
)
ERR_MISSING_COLUMNS = "the frame lacks columns {names!r} that the encoder was fitted on"
ERR_UNSEEN = (
    "column {column!r} holds values never seen in fit: {values}; fit the encoder on data that "
    "contains them, or map them to a known category"
)
ERR_NOT_NUMERIC = (
    "column {column!r} was numeric in fit but now holds non-numeric values ({error}); convert it "
    "with pd.to_numeric"
)
ERR_SHAPE = "expected an array of shape (n_rows, {dim}), got shape {shape}"
ERR_NOT_FITTED = "this TabularEncoder is not fitted yet; call fit(frame) first"
ERR_BAD_DICT = "the saved encoder description is malformed ({error}); re-save the model"


# --------------------------------------------------------------------------------------------------
# dtype and value (de)serialisation
# --------------------------------------------------------------------------------------------------


def _json_scalar(value: Any, column: str) -> str | int | float | bool:
    """Convert one category value to a plain JSON scalar, refusing anything else."""
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


def _dtype_to_json(dtype: Any) -> dict[str, Any]:
    """Describe a pandas/numpy dtype in JSON so that :func:`_dtype_from_json` rebuilds it."""
    if isinstance(dtype, pd.CategoricalDtype):
        cats = dtype.categories
        return {
            "name": "category",
            "categories": [_json_scalar(v, "<categories>") for v in cats],
            "categories_dtype": _dtype_to_json(cats.dtype),
            "ordered": bool(dtype.ordered),
        }
    if isinstance(dtype, pd.StringDtype):
        na = "nan" if isinstance(dtype.na_value, float) else "NA"
        return {"name": "string", "storage": dtype.storage, "na_value": na}
    return {"name": str(dtype)}


def _dtype_from_json(spec: dict[str, Any]) -> Any:
    """Inverse of :func:`_dtype_to_json`."""
    name = spec["name"]
    if name == "category":
        cat_dtype = _dtype_from_json(spec["categories_dtype"])
        categories = pd.Index(spec["categories"], dtype=cat_dtype)
        return pd.CategoricalDtype(categories=categories, ordered=spec["ordered"])
    if name == "string":
        na_value = np.nan if spec["na_value"] == "nan" else pd.NA
        return pd.StringDtype(storage=spec["storage"], na_value=na_value)
    return pd.api.types.pandas_dtype(name)


def _column_kind(series: pd.Series) -> Literal["numeric", "categorical"]:
    """Decide a column's kind from its dtype alone (see the module docstring)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "categorical"
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype):
        return "categorical"
    if pd.api.types.is_string_dtype(dtype):
        return "categorical"
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
        return "numeric"
    raise SchemaError(ERR_UNSUPPORTED_DTYPE.format(column=series.name, dtype=dtype))


def _numeric_values(series: pd.Series) -> np.ndarray:
    """Float64 view of a numeric column with NaN for every missing value."""
    try:
        return series.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise SchemaError(ERR_NOT_NUMERIC.format(column=series.name, error=exc)) from exc


# --------------------------------------------------------------------------------------------------
# quantile-to-normal with plateaus
# --------------------------------------------------------------------------------------------------


def _fit_quantile(values: np.ndarray, n_quantiles: int) -> dict[str, list[float]]:
    """Fit the plateau quantile map on finite ``values`` (may be empty)."""
    if values.size == 0:
        return {"values": [0.0], "lo": [0.5], "hi": [0.5]}
    n_levels = int(min(n_quantiles, values.size))
    if n_levels == 1:
        return {"values": [float(values[0])], "lo": [0.5], "hi": [0.5]}
    levels = np.linspace(0.0, 1.0, n_levels)
    knots = np.quantile(values, levels)
    # quantiles are sorted; guard against tiny floating non-monotonicity of the interpolation
    knots = np.maximum.accumulate(knots)
    uniq, first, counts = np.unique(knots, return_index=True, return_counts=True)
    delta = 0.5 / n_levels
    scale = 1.0 - 2.0 * delta
    lo = delta + scale * levels[first]
    hi = delta + scale * levels[first + counts - 1]
    return {"values": uniq.tolist(), "lo": lo.tolist(), "hi": hi.tolist()}


class _QuantileMap:
    """Vectorised forward/inverse of the plateau quantile map (kept out of JSON)."""

    __slots__ = ("hi", "inv_fp", "inv_xp", "lo", "mid", "values")

    def __init__(self, spec: dict[str, Any]) -> None:
        self.values = np.asarray(spec["values"], dtype=np.float64)
        self.lo = np.asarray(spec["lo"], dtype=np.float64)
        self.hi = np.asarray(spec["hi"], dtype=np.float64)
        self.mid = 0.5 * (self.lo + self.hi)
        self.inv_xp = np.column_stack([self.lo, self.hi]).ravel()
        self.inv_fp = np.repeat(self.values, 2)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Map finite values to normal scores."""
        v = self.values
        if v.size == 1:
            p = np.full(x.shape, self.mid[0])
        else:
            x = np.clip(x, v[0], v[-1])
            idx = np.searchsorted(v, x, side="right") - 1
            idx = np.clip(idx, 0, v.size - 2)
            left, right = v[idx], v[idx + 1]
            frac = (x - left) / (right - left)
            p = self.hi[idx] + frac * (self.lo[idx + 1] - self.hi[idx])
            p = np.where(x == left, self.mid[idx], p)
            p = np.where(x == right, self.mid[idx + 1], p)
        return np.clip(ndtri(p), -_Z_CLIP, _Z_CLIP)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Map normal scores back to values (any real ``z``; NaN decodes to the median)."""
        z = np.nan_to_num(z, nan=0.0)
        return np.interp(ndtr(z), self.inv_xp, self.inv_fp)


# --------------------------------------------------------------------------------------------------
# mode-specific normalisation (CTGAN paper)
# --------------------------------------------------------------------------------------------------


def _fit_gmm(values: np.ndarray, max_modes: int, seed: int) -> dict[str, list[float]]:
    """Fit a Bayesian GMM and keep the modes whose weight exceeds the threshold."""
    uniq = np.unique(values)
    if uniq.size <= 1:
        center = float(uniq[0]) if uniq.size else 0.0
        return {"means": [center], "stds": [1.0], "log_weights": [0.0]}
    from sklearn.mixture import BayesianGaussianMixture

    rng = np.random.default_rng(seed)
    sample = values
    if values.size > _GMM_MAX_FIT_ROWS:
        sample = rng.choice(values, size=_GMM_MAX_FIT_ROWS, replace=False)
    loc = float(np.mean(sample))
    spread = float(np.std(sample)) or 1.0
    standard = ((sample - loc) / spread).reshape(-1, 1)
    gmm = BayesianGaussianMixture(
        n_components=int(min(max_modes, uniq.size)),
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=0.001,
        max_iter=100,
        n_init=1,
        random_state=int(rng.integers(2**31 - 1)),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gmm.fit(standard)
    for warning in caught:
        logger.debug("BayesianGaussianMixture: %s", warning.message)
    weights = gmm.weights_
    keep = np.flatnonzero(weights > _GMM_WEIGHT_THRESHOLD)
    if keep.size == 0:
        keep = np.array([int(np.argmax(weights))])
    keep = keep[np.argsort(-weights[keep], kind="stable")]
    means = gmm.means_.ravel()[keep] * spread + loc
    stds = np.sqrt(gmm.covariances_.ravel()[keep]) * spread
    stds = np.maximum(stds, 1e-12 * max(1.0, abs(loc)))
    kept = weights[keep] / weights[keep].sum()
    return {"means": means.tolist(), "stds": stds.tolist(), "log_weights": np.log(kept).tolist()}


def _gmm_modes(x: np.ndarray, means: np.ndarray, stds: np.ndarray, log_w: np.ndarray) -> np.ndarray:
    """Most probable mode of each value under the kept mixture components."""
    if means.size == 1:
        return np.zeros(x.shape, dtype=np.int64)
    scaled = (x[:, None] - means[None, :]) / stds[None, :]
    log_post = log_w[None, :] - np.log(stds)[None, :] - 0.5 * scaled**2
    return np.argmax(log_post, axis=1)


# --------------------------------------------------------------------------------------------------
# the encoder
# --------------------------------------------------------------------------------------------------


class TabularEncoder:
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

    # -- sklearn-style parameters -----------------------------------------------------------------

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor parameters (scikit-learn convention).

        Parameters
        ----------
        deep : bool, default True
            Ignored; present for scikit-learn compatibility.

        Returns
        -------
        dict
            Parameter names mapped to their values.
        """
        return {
            "numeric": self.numeric,
            "n_quantiles": self.n_quantiles,
            "max_modes": self.max_modes,
            "random_state": self.random_state,
        }

    def set_params(self, **params: Any) -> TabularEncoder:
        """Set constructor parameters (scikit-learn convention).

        Parameters
        ----------
        **params
            Parameter names and new values.

        Returns
        -------
        TabularEncoder
            ``self``.
        """
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ConfigError(f"unknown parameter {key!r}; valid parameters: {sorted(valid)}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"TabularEncoder({args})"

    def _check_params(self) -> None:
        if self.numeric not in ("quantile", "gmm"):
            raise ConfigError(f"numeric must be 'quantile' or 'gmm', got {self.numeric!r}")
        if not isinstance(self.n_quantiles, numbers.Integral) or self.n_quantiles < 2:
            raise ConfigError(f"n_quantiles must be an integer >= 2, got {self.n_quantiles!r}")
        if not isinstance(self.max_modes, numbers.Integral) or self.max_modes < 1:
            raise ConfigError(f"max_modes must be an integer >= 1, got {self.max_modes!r}")

    # -- fit ---------------------------------------------------------------------------------------

    def fit(
        self, frame: pd.DataFrame, discrete_columns: Iterable[str] | None = None
    ) -> TabularEncoder:
        """Learn the encoding of every column of ``frame``.

        Parameters
        ----------
        frame : DataFrame
            Training rows. Column names must be unique strings.
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
        _check_frame(frame)
        columns = list(frame.columns)
        forced = list(discrete_columns or [])
        unknown = [c for c in forced if c not in frame.columns]
        if unknown:
            raise SchemaError(ERR_UNKNOWN_DISCRETE.format(names=unknown, cols=columns))
        seed_rng = np.random.default_rng(self.random_state)
        infos: list[dict[str, Any]] = []
        for column in columns:
            series = frame[column]
            kind = "categorical" if column in forced else _column_kind(series)
            if kind == "categorical":
                infos.append(_fit_categorical(series))
            else:
                seed = int(seed_rng.integers(2**31 - 1))
                infos.append(self._fit_numeric(series, seed))
        self._set_state(columns, infos)
        logger.debug("fitted encoder: %d columns -> %d dims", len(columns), self.output_dim_)
        return self

    def _fit_numeric(self, series: pd.Series, seed: int) -> dict[str, Any]:
        values = _numeric_values(series)
        missing = np.isnan(values)
        finite = values[~missing]
        if np.isinf(finite).any():
            raise SchemaError(ERR_INFINITE.format(column=series.name))
        info: dict[str, Any] = {
            "name": series.name,
            "kind": "numeric",
            "dtype": _dtype_to_json(series.dtype),
            "integer": bool(pd.api.types.is_integer_dtype(series.dtype)),
            "min": float(finite.min()) if finite.size else 0.0,
            "max": float(finite.max()) if finite.size else 0.0,
            "has_missing": bool(missing.any()),
            "method": self.numeric,
            "decimals": _decimal_places(finite),
        }
        if self.numeric == "quantile":
            info.update(_fit_quantile(finite, int(self.n_quantiles)))
        else:
            info.update(_fit_gmm(finite, int(self.max_modes), seed))
        return info

    def fit_transform(
        self, frame: pd.DataFrame, discrete_columns: Iterable[str] | None = None
    ) -> np.ndarray:
        """Fit on ``frame`` and return its encoding.

        Parameters
        ----------
        frame : DataFrame
            Training rows.
        discrete_columns : iterable of str, optional
            See :meth:`fit`.

        Returns
        -------
        ndarray of float32, shape (n_rows, output_dim_)
            Encoded rows.
        """
        return self.fit(frame, discrete_columns).transform(frame)

    def _set_state(self, columns: list[str], infos: list[dict[str, Any]]) -> None:
        spans: list[Span] = []
        start = 0
        for info in infos:
            for kind, width in _span_widths(info):
                spans.append(Span(column=info["name"], kind=kind, start=start, width=width))
                start += width
        self.columns_ = list(columns)
        self.spans_ = spans
        self.output_dim_ = start
        self.discrete_columns_ = [i["name"] for i in infos if i["kind"] == "categorical"]
        self._infos = infos
        self._runtime = [_Runtime(info) for info in infos]

    def _check_fitted(self) -> None:
        if not hasattr(self, "spans_"):
            raise NotFittedError(ERR_NOT_FITTED)

    # -- transform ---------------------------------------------------------------------------------

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode ``frame``.

        Parameters
        ----------
        frame : DataFrame
            Rows with (at least) the fitted columns; other columns are ignored.

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
        if not isinstance(frame, pd.DataFrame):
            raise DataError(ERR_NOT_FRAME.format(kind=type(frame).__name__))
        absent = [c for c in self.columns_ if c not in frame.columns]
        if absent:
            raise SchemaError(ERR_MISSING_COLUMNS.format(names=absent))
        out = np.zeros((len(frame), self.output_dim_), dtype=np.float32)
        start = 0
        for info, runtime in zip(self._infos, self._runtime, strict=True):
            start = runtime.encode(frame[info["name"]], out, start)
        return out

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
        for info, runtime in zip(self._infos, self._runtime, strict=True):
            decoded[info["name"]], start = runtime.decode(data, start)
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
            "params": self.get_params(),
            "columns": [dict(info) for info in self._infos],
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
            infos = [dict(info) for info in data["columns"]]
            encoder._set_state([info["name"] for info in infos], infos)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelFileError(ERR_BAD_DICT.format(error=exc)) from exc
        return encoder


# --------------------------------------------------------------------------------------------------
# per-column helpers
# --------------------------------------------------------------------------------------------------


def _check_frame(frame: Any) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise DataError(ERR_NOT_FRAME.format(kind=type(frame).__name__))
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise DataError(ERR_EMPTY)
    names = list(frame.columns)
    if not all(isinstance(c, str) for c in names) or len(set(names)) != len(names):
        raise SchemaError(ERR_COLUMN_NAMES.format(names=names))


def _fit_categorical(series: pd.Series) -> dict[str, Any]:
    column = str(series.name)
    dtype = series.dtype
    missing = series.isna().to_numpy()
    if isinstance(dtype, pd.CategoricalDtype):
        categories = [_json_scalar(v, column) for v in dtype.categories]
    elif pd.api.types.is_bool_dtype(dtype):
        present = set(series[~missing].tolist())
        categories = [v for v in (False, True) if v in present]
    else:
        uniques = pd.unique(series[~missing].to_numpy(dtype=object))
        categories = [_json_scalar(v, column) for v in uniques]
        with contextlib.suppress(TypeError):  # mixed types keep the order of first appearance
            categories = sorted(categories)
    return {
        "name": column,
        "kind": "categorical",
        "dtype": _dtype_to_json(dtype),
        "categories": categories,
        "has_nan": bool(missing.any()),
    }


def _span_widths(info: dict[str, Any]) -> list[tuple[Any, int]]:
    if info["kind"] == "categorical":
        return [("categorical", len(info["categories"]) + int(info["has_nan"]))]
    widths: list[tuple[Any, int]] = [("numeric", 1)]
    if info["method"] == "gmm":
        widths.append(("mode", len(info["means"])))
    if info["has_missing"]:
        widths.append(("missing", 2))
    return widths


def _format_values(values: Sequence[Any]) -> str:
    shown = ", ".join(repr(v) for v in values[:_MAX_REPORTED_VALUES])
    more = len(values) - _MAX_REPORTED_VALUES
    return shown + (f" (and {more} more)" if more > 0 else "")


class _Runtime:
    """Arrays derived from one column description, built once per fit/load."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.dtype = _dtype_from_json(info["dtype"])
        if info["kind"] == "categorical":
            self.categories = list(info["categories"])
            self.index = pd.Index(self.categories, dtype=object)
            self.width = len(self.categories) + int(info["has_nan"])
            lookup = np.empty(self.width, dtype=object)
            lookup[: len(self.categories)] = self.categories
            if info["has_nan"]:
                lookup[-1] = np.nan
            self.lookup = lookup
        elif info["method"] == "quantile":
            self.qmap = _QuantileMap(info)
        else:
            self.means = np.asarray(info["means"], dtype=np.float64)
            self.stds = np.asarray(info["stds"], dtype=np.float64)
            self.log_w = np.asarray(info["log_weights"], dtype=np.float64)

    # encode --------------------------------------------------------------------------------------

    def encode(self, series: pd.Series, out: np.ndarray, start: int) -> int:
        if self.info["kind"] == "categorical":
            return self._encode_categorical(series, out, start)
        return self._encode_numeric(series, out, start)

    def _encode_categorical(self, series: pd.Series, out: np.ndarray, start: int) -> int:
        info = self.info
        missing = series.isna().to_numpy()
        codes = np.full(len(series), len(self.categories), dtype=np.int64)
        present = ~missing
        if present.any():
            values = series.to_numpy(dtype=object)[present]
            found = self.index.get_indexer(values)
            if (found < 0).any():
                unseen = pd.unique(values[found < 0]).tolist()
                raise SchemaError(
                    ERR_UNSEEN.format(column=info["name"], values=_format_values(unseen))
                )
            codes[present] = found
        if missing.any() and not info["has_nan"]:
            raise SchemaError(ERR_UNSEEN.format(column=info["name"], values="missing value (NaN)"))
        out[np.arange(len(series)), start + codes] = 1.0
        return start + self.width

    def _encode_numeric(self, series: pd.Series, out: np.ndarray, start: int) -> int:
        info = self.info
        values = _numeric_values(series)
        missing = np.isnan(values)
        if missing.any() and not info["has_missing"]:
            raise SchemaError(ERR_UNSEEN.format(column=info["name"], values="missing value (NaN)"))
        if np.isinf(values).any():
            raise SchemaError(ERR_INFINITE.format(column=info["name"]))
        filled = np.where(missing, info["min"], values)
        if info["method"] == "quantile":
            scores = self.qmap.forward(filled)
            scores[missing] = 0.0
            out[:, start] = scores
            start += 1
        else:
            modes = _gmm_modes(filled, self.means, self.stds, self.log_w)
            scalar = (filled - self.means[modes]) / (_GMM_STD_SCALE * self.stds[modes])
            scalar[missing] = 0.0
            modes[missing] = 0
            out[:, start] = scalar
            out[np.arange(len(series)), start + 1 + modes] = 1.0
            start += 1 + self.means.size
        if info["has_missing"]:
            out[:, start] = (~missing).astype(np.float32)
            out[:, start + 1] = missing.astype(np.float32)
            start += 2
        return start

    # decode --------------------------------------------------------------------------------------

    def decode(self, data: np.ndarray, start: int) -> tuple[Any, int]:
        if self.info["kind"] == "categorical":
            codes = np.argmax(data[:, start : start + self.width], axis=1)
            values = self.lookup[codes]
            return _restore_categorical(values, self.dtype), start + self.width
        info = self.info
        if info["method"] == "quantile":
            values = self.qmap.inverse(data[:, start])
            start += 1
        else:
            n_modes = self.means.size
            modes = np.argmax(data[:, start + 1 : start + 1 + n_modes], axis=1)
            scalar = np.nan_to_num(data[:, start], nan=0.0)
            values = scalar * _GMM_STD_SCALE * self.stds[modes] + self.means[modes]
            start += 1 + n_modes
        values = np.clip(values, info["min"], info["max"])
        if info["integer"]:
            values = np.rint(values)
        elif info.get("decimals") is not None:  # keep the precision the data was recorded with
            values = np.clip(np.round(values, info["decimals"]), info["min"], info["max"])
        missing = np.zeros(len(values), dtype=bool)
        if info["has_missing"]:
            missing = data[:, start + 1] > data[:, start]
            start += 2
        return _restore_numeric(values, missing, self.dtype), start


_MAX_DECIMALS = 6


def _decimal_places(values: np.ndarray) -> int | None:
    """Fewest decimal places (0 to 6) that represent every value exactly, or ``None``.

    Synthetic and reconstructed values are rounded to this precision on decode, so a column recorded
    to one decimal (``38.5``) never comes back as ``38.51734``.
    """
    sample = values  # every value: one row with more decimals must not be rounded away
    if sample.size == 0:
        return None
    tolerance = 1e-9 * np.abs(sample)  # relative: a tiny value such as 1e-38 is not "0 decimals"
    for places in range(_MAX_DECIMALS + 1):
        if np.all(np.abs(np.round(sample, places) - sample) <= tolerance):
            return places
    return None


def _restore_numeric(values: np.ndarray, missing: np.ndarray, dtype: Any) -> Any:
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


def _restore_categorical(values: np.ndarray, dtype: Any) -> Any:
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
