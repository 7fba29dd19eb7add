"""Input of the frame-based estimators: a DataFrame as it is, any other 2-D input as a DataFrame.

The encoder, the models and the samplers work on named columns. A DataFrame passes through
untouched (its columns and dtypes are the contract); anything else (an ndarray, a list of rows) is
checked the scikit-learn way (:func:`sklearn.utils.check_array`: 2-D, numeric, dense, missing
values allowed) and named ``x0, x1, ...``, or with the fitted names when the estimator is fitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sklearn.utils import check_array

from fairlatent.exceptions import DataError

__all__ = ["ERR_N_FEATURES", "array_column_names", "as_frame"]

#: scikit-learn's wording, which its estimator checks match.
ERR_N_FEATURES = "X has {found} features, but {name} is expecting {expected} features as input"


def array_column_names(n_columns: int) -> list[str]:
    """Names given to the columns of an array: ``x0, x1, ...``."""
    return [f"x{i}" for i in range(n_columns)]


def as_frame(
    X: Any, estimator: Any, *, fitted_columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Return ``X`` as a DataFrame (a DataFrame unchanged).

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_rows, n_columns)
        The input.
    estimator : estimator
        Named in error messages.
    fitted_columns : sequence of str, optional
        Column names of a fitted estimator: an array must have that many columns and gets those
        names. ``None`` (in ``fit``): ``x0, x1, ...``.

    Returns
    -------
    DataFrame

    Raises
    ------
    DataError
        ``X`` is not 2-D, empty, not numeric, or has the wrong number of columns.
    TypeError
        ``X`` is sparse (dense data is required).
    """
    if isinstance(X, pd.DataFrame):
        return X
    try:
        array = check_array(
            X, dtype="numeric", ensure_all_finite="allow-nan", estimator=estimator, input_name="X"
        )
    except ValueError as err:
        raise DataError(str(err)) from None
    if fitted_columns is None:
        return pd.DataFrame(array, columns=array_column_names(array.shape[1]))
    if array.shape[1] != len(fitted_columns):
        raise DataError(
            ERR_N_FEATURES.format(
                found=array.shape[1], name=type(estimator).__name__, expected=len(fitted_columns)
            )
        )
    return pd.DataFrame(array, columns=[str(c) for c in fitted_columns])

