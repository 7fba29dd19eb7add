"""The built-in downstream classifiers as scikit-learn pipelines (registered in ``registry.py``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
)

from fairlatent.data.kinds import MISSING_LABEL, is_numeric


def split_feature_kinds(frame: pd.DataFrame, features: list[str]) -> tuple[list[str], list[str]]:
    """Split feature names into numeric and categorical ones by dtype.

    Parameters
    ----------
    frame : DataFrame
        Data holding the features.
    features : list of str
        Feature column names.

    Returns
    -------
    numeric, categorical : list of str
    """
    numeric = [c for c in features if is_numeric(frame[c])]
    categorical = [c for c in features if c not in numeric]
    return numeric, categorical


def logistic_regression(
    *, numeric: list[str], categorical: list[str], random_state: int = 0
) -> Pipeline:
    """Logistic regression on median-imputed, standardised numerics and one-hot categoricals.

    Parameters
    ----------
    numeric, categorical : list of str
        Feature columns of each kind; categoricals are cast to strings first.
    random_state : int, default 0
        Unused (the solver is deterministic); kept so every builder has one signature.

    Returns
    -------
    Pipeline
        Steps ``preprocess`` and ``model``.
    """
    preprocess = ColumnTransformer(
        [
            (
                "num",
                make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()),
                numeric,
            ),
            (
                "cat",
                make_pipeline(
                    _as_text(),
                    SimpleImputer(strategy="constant", fill_value=MISSING_LABEL),
                    OneHotEncoder(handle_unknown="ignore", min_frequency=5, sparse_output=False),
                ),
                categorical,
            ),
        ]
    )
    return Pipeline([("preprocess", preprocess), ("model", LogisticRegression(max_iter=2000, C=1.0))])


def gradient_boosting(
    *, numeric: list[str], categorical: list[str], random_state: int = 0
) -> Pipeline:
    """Histogram gradient boosting with native categorical support and native missing values.

    Parameters
    ----------
    numeric, categorical : list of str
        Feature columns of each kind.
    random_state : int, default 0
        Seed of the estimator.

    Returns
    -------
    Pipeline
    """
    preprocess = ColumnTransformer(
        [
            ("num", "passthrough", numeric),
            ("cat", make_pipeline(_as_text(), _ordinal()), categorical),
        ]
    )
    cat_mask = [False] * len(numeric) + [True] * len(categorical)
    model = HistGradientBoostingClassifier(
        categorical_features=np.array(cat_mask, dtype=bool) if categorical else None,
        random_state=random_state,
        max_iter=200,
        learning_rate=0.1,
    )
    return Pipeline([("preprocess", preprocess), ("model", model)])


def random_forest(*, numeric: list[str], categorical: list[str], random_state: int = 0) -> Pipeline:
    """Random forest of 200 trees on ordinal-encoded categoricals and imputed numerics.

    Takes the arguments of :func:`gradient_boosting` and returns a ``Pipeline``.
    """
    preprocess = ColumnTransformer(
        [
            ("num", SimpleImputer(strategy="median"), numeric),
            (
                "cat",
                make_pipeline(
                    _as_text(), _ordinal(), SimpleImputer(strategy="constant", fill_value=-1)
                ),
                categorical,
            ),
        ]
    )
    model = RandomForestClassifier(
        n_estimators=200, min_samples_leaf=2, random_state=random_state, n_jobs=1
    )
    return Pipeline([("preprocess", preprocess), ("model", model)])


def _ordinal() -> OrdinalEncoder:
    return OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan
    )


def _as_text() -> FunctionTransformer:
    return FunctionTransformer(_to_object, feature_names_out="one-to-one")


def _to_object(x: pd.DataFrame | np.ndarray) -> np.ndarray:
    frame = pd.DataFrame(x)
    return frame.astype(object).where(frame.notna(), np.nan).astype(object).to_numpy()
