"""The base of every fairlatent sampler: one input check, then the sampler's own work.

:class:`BaseSampler` follows imbalanced-learn's template method: the public
:meth:`~BaseSampler.fit_resample` validates and normalises ``X``, ``y`` and ``groups`` once, in one
style, hands them to the subclass's private ``_fit_resample`` and records the fitted attributes
every sampler shares (``sample_indices_``, ``n_features_in_``, ``feature_names_in_``). Subclasses
add their own checks through small hooks (:meth:`~BaseSampler._check_params`,
:meth:`~BaseSampler._check_labels`, :meth:`~BaseSampler._groups_needed_by`,
:attr:`~BaseSampler._reserved_columns`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from fairlatent.data.groups import group_labels
from fairlatent.encoding.frames import as_frame
from fairlatent.exceptions import ConfigError, DataError, SchemaError

__all__ = [
    "ERR_DTYPE",
    "ERR_EMPTY",
    "ERR_GROUPS",
    "ERR_LENGTH",
    "ERR_NO_GROUPS",
    "ERR_RESERVED",
    "ERR_SENSITIVE",
    "ERR_Y_MISSING",
    "ERR_Y_SHAPE",
    "BaseSampler",
    "SamplerInput",
    "group_labels",
    "restore_dtypes",
]

ERR_LENGTH = "X has {n_x} rows but y has {n_y}; pass one label per row"
ERR_Y_SHAPE = "y has shape {shape}; pass one label per row (a 1-D array or a Series)"
ERR_EMPTY = "X has no rows; pass at least one row to resample"
ERR_Y_MISSING = "y holds {count} missing label(s); drop those rows or fill them first"
ERR_SENSITIVE = (
    "sensitive column(s) {missing} are not columns of X (columns: {columns}); keep the "
    "sensitive attributes as named columns of X"
)
ERR_RESERVED = (
    "X has a column named {name!r}, which {sampler} reserves for internal use; rename it"
)
ERR_NO_GROUPS = (
    "{needs} needs groups: pass sensitive=['sex', ...] or groups=labels (one group label per row)"
)
ERR_GROUPS = "X has {n_x} rows but groups has {n_groups}; pass one group label per row"
ERR_DTYPE = "synthetic values of {column!r} do not fit its dtype ({error})"


@dataclass(frozen=True)
class SamplerInput:
    """Validated, normalised input of a sampler.

    Parameters
    ----------
    X : DataFrame
        The rows, with a fresh ``RangeIndex`` (positions are the only row identity).
    labels : ndarray of shape (n_rows,)
        ``y`` as an array (after the sampler's own label check, e.g. as 0/1 integers).
    groups : ndarray of str, shape (n_rows,)
        Group label of each row: the ``groups`` passed in, else the combination of the
        ``sensitive`` columns (:func:`group_labels`; ``"all"`` when there are none).
    y : object
        ``y`` exactly as the caller passed it, so the output can keep its type, name and dtype.
    X_in : object
        ``X`` as the caller passed it (a DataFrame, or the array the output is returned as).
    """

    X: pd.DataFrame
    labels: np.ndarray
    groups: np.ndarray
    y: Any
    X_in: Any = None


class BaseSampler(BaseEstimator):
    """Base class of the samplers: input validation and the imbalanced-learn template method.

    Subclasses store their parameters in ``__init__`` (including ``sensitive``, a sequence of
    column names of ``X``) and implement :meth:`_fit` (fit on validated input) and
    :meth:`_fit_resample` (fit, then return the resampled rows, their labels and the sample
    indices). This class owns the public :meth:`fit` and :meth:`fit_resample`: the input check,
    the fitted attributes every sampler shares, handing the output back in the input's container
    and dtypes (:meth:`_output`), and the derivation of the sampler's seeds (:meth:`_seeds`).

    Attributes
    ----------
    sample_indices_ : ndarray of int
        Position in ``X`` of every row returned by the last :meth:`fit_resample` (``-1`` marks a
        synthetic row).
    n_features_in_ : int
        Number of columns of ``X``.
    feature_names_in_ : ndarray of str
        Column names of ``X`` (``x0, x1, ...`` for an array).
    """

    #: Column names the sampler adds internally, so ``X`` must not hold them.
    _reserved_columns: ClassVar[tuple[str, ...]] = ()
    #: Keyword arguments of ``fit`` and ``fit_resample`` that the subclass's hooks take.
    _fit_params: ClassVar[tuple[str, ...]] = ()

    sensitive: Sequence[str]
    random_state: int | None

    def __sklearn_tags__(self) -> Any:
        """Missing feature values are kept (the samplers' models encode them)."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X: Any, y: Any, *, groups: Any = None, **params: Any) -> Self:
        """Validate the input and fit the sampler, without resampling.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_rows, n_columns)
            Features, with the sensitive attributes as named columns (an array's columns are
            named ``x0, x1, ...``).
        y : array-like of shape (n_rows,)
            One label per row, none missing.
        groups : array-like of shape (n_rows,), optional
            Group label of each row, used instead of the combination of the ``sensitive``
            columns (e.g. groups where small ones were merged).
        **params
            Passed on to the subclass's ``_fit`` (e.g. a model it already trained).

        Returns
        -------
        self

        Raises
        ------
        DataError, SchemaError, ConfigError
            See :meth:`fit_resample`.
        """
        self._check_fit_params(params)
        data = self._validate_input(X, y, groups)
        self._fit(data, **params)
        self._record_input(data.X)
        return self

    def fit_resample(self, X: Any, y: Any, *, groups: Any = None, **params: Any) -> tuple[Any, Any]:
        """Validate the input, fit the sampler and return the resampled rows.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_rows, n_columns)
            Features, with the sensitive attributes as named columns.
        y : array-like of shape (n_rows,)
            One label per row, none missing.
        groups : array-like of shape (n_rows,), optional
            Group label of each row, used instead of the combination of the ``sensitive``
            columns (e.g. groups where small ones were merged).
        **params
            Passed on to the subclass's ``_fit_resample``.

        Returns
        -------
        X_res : DataFrame, ndarray or list
            In ``X``'s container: a DataFrame with the same columns and dtypes and a fresh
            ``RangeIndex``, an ndarray of ``X``'s dtype, or a list of rows.
        y_res : Series, DataFrame, ndarray or list
            Their labels in ``y``'s container, name and dtype (a one-column DataFrame is a
            label column).

        Raises
        ------
        DataError
            ``X`` is empty or not 2-D, ``y`` or ``groups`` does not have one value per row, or
            ``y`` holds missing values.
        SchemaError
            A sensitive column is not in ``X``, or ``X`` holds a reserved column name.
        ConfigError
            Invalid parameters, or groups needed but neither ``sensitive`` nor ``groups`` given.
        """
        self._check_fit_params(params)
        data = self._validate_input(X, y, groups)
        X_res, labels, indices = self._fit_resample(data, **params)
        self.sample_indices_ = indices
        self._record_input(data.X)
        return self._output(X_res, labels, data)

    # -- what subclasses implement -------------------------------------------------------------

    def _fit(self, data: SamplerInput, **params: Any) -> None:
        """Fit on validated input."""
        raise NotImplementedError

    def _fit_resample(
        self, data: SamplerInput, **params: Any
    ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """Fit on validated input; return ``X_res`` (a DataFrame), its labels and the indices."""
        raise NotImplementedError

    # -- hooks ---------------------------------------------------------------------------------

    def _check_params(self) -> None:
        """Raise :class:`ConfigError` for invalid parameters (nothing to check here)."""

    def _check_labels(self, labels: np.ndarray) -> np.ndarray:
        """Check the sampler's own rules on the labels and return them normalised."""
        return labels

    def _groups_needed_by(self) -> str | None:
        """Name what needs group labels with the current parameters (``None``: nothing does)."""
        return None

    # -- shared by every sampler ---------------------------------------------------------------

    def _check_fit_params(self, params: dict[str, Any]) -> None:
        unknown = sorted(set(params) - set(self._fit_params))
        if unknown:
            raise TypeError(f"{type(self).__name__}.fit got unexpected keyword(s) {unknown}")

    def _seeds(self, n: int) -> tuple[int, ...]:
        """Derive ``n`` independent seeds from ``random_state`` (no global random state)."""
        rng = np.random.default_rng(self.random_state)
        return tuple(int(s) for s in rng.integers(0, 2**31 - 1, size=n))

    def _validate_input(self, X: Any, y: Any, groups: Any, *, reset: bool = True) -> SamplerInput:
        """Check ``X``, ``y`` and ``groups`` against each other and the parameters.

        ``reset=False`` (rows given to a fitted sampler): an array must have the fitted columns.
        """
        self._check_params()
        sensitive = list(self.sensitive)
        needs = self._groups_needed_by()
        if needs is not None and not sensitive and groups is None:
            raise ConfigError(ERR_NO_GROUPS.format(needs=needs))
        fitted = None if reset else getattr(self, "feature_names_in_", None)
        X_in = X
        X = as_frame(X, self, fitted_columns=fitted)
        labels = y.iloc[:, 0].to_numpy() if _one_column(y) else np.asarray(y)
        if labels.ndim != 1:
            raise DataError(ERR_Y_SHAPE.format(shape=labels.shape))
        if len(labels) != len(X):
            raise DataError(ERR_LENGTH.format(n_x=len(X), n_y=len(labels)))
        if len(X) == 0:
            raise DataError(ERR_EMPTY)
        n_missing = int(pd.isna(pd.Series(labels)).sum())
        if n_missing:
            raise DataError(ERR_Y_MISSING.format(count=n_missing))
        labels = self._check_labels(labels)
        missing = [c for c in sensitive if c not in X.columns]
        if missing:
            raise SchemaError(ERR_SENSITIVE.format(missing=missing, columns=list(X.columns)))
        for name in self._reserved_columns:
            if name in X.columns:
                raise SchemaError(ERR_RESERVED.format(name=name, sampler=type(self).__name__))
        if groups is None:
            group_of_row = group_labels(X, sensitive)
        else:
            group_of_row = np.asarray(pd.Series(np.asarray(groups)).astype(object).astype(str))
            if len(group_of_row) != len(X):
                raise DataError(ERR_GROUPS.format(n_x=len(X), n_groups=len(group_of_row)))
        return SamplerInput(
            X=X.reset_index(drop=True), labels=labels, groups=group_of_row, y=y, X_in=X_in
        )

    def _record_input(self, X: pd.DataFrame) -> None:
        """Set the fitted attributes that describe the input columns."""
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)

    @staticmethod
    def _output(X_res: pd.DataFrame, labels: np.ndarray, data: SamplerInput) -> tuple[Any, Any]:
        """Hand the resampled rows back in the input's containers and dtypes."""
        X_res = restore_dtypes(X_res.reset_index(drop=True), data.X)
        X_in, y = data.X_in, data.y
        X_out: Any = X_res
        if not isinstance(X_in, pd.DataFrame):
            X_out = X_res.to_numpy(dtype=np.asarray(X_in).dtype)
            X_out = X_out.tolist() if isinstance(X_in, list) else X_out
        if isinstance(y, pd.Series):
            return X_out, pd.Series(labels, name=y.name).astype(y.dtype)
        if _one_column(y):
            return X_out, pd.DataFrame({y.columns[0]: labels}).astype(y.dtypes.iloc[0])
        y_out = np.asarray(labels).astype(np.asarray(y).dtype, copy=False)
        return X_out, y_out.tolist() if isinstance(y, list) else y_out


def _one_column(y: Any) -> bool:
    """Whether ``y`` is a one-column DataFrame (a label column, as imbalanced-learn accepts)."""
    return isinstance(y, pd.DataFrame) and y.shape[1] == 1


def restore_dtypes(frame: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """Cast ``frame``'s columns to the dtypes of ``like``'s (synthetic rows keep the input's dtypes).

    Parameters
    ----------
    frame : DataFrame
        Rows whose columns may have drifted (e.g. after concatenating synthetic rows).
    like : DataFrame
        The input, whose dtypes the output must keep.

    Returns
    -------
    DataFrame
        ``frame``, cast in place.

    Raises
    ------
    DataError
        A column cannot hold its values in the input's dtype.
    """
    for column in like.columns:
        if frame[column].dtype != like[column].dtype:
            try:
                frame[column] = frame[column].astype(like[column].dtype)
            except (TypeError, ValueError) as err:
                raise DataError(ERR_DTYPE.format(column=column, error=err)) from None
    return frame
