"""Named scikit-learn pipelines for the downstream classifiers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from fairlatent.exceptions import ConfigError

#: Human-readable description of each classifier, for the report.
CLASSIFIER_DESCRIPTIONS: dict[str, str] = {
    "logreg": "logistic regression (median-imputed, standardised numerics; one-hot categoricals)",
    "hgb": "histogram gradient boosting (native categorical support, native missing values)",
    "rf": "random forest, 200 trees (ordinal-encoded categoricals, imputed numerics)",
}


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
    numeric = [
        c
        for c in features
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]
    categorical = [c for c in features if c not in numeric]
    return numeric, categorical


def make_classifier(
    name: str, *, numeric: list[str], categorical: list[str], random_state: int = 0
) -> Pipeline:
    """Build the named classifier as an unfitted scikit-learn Pipeline.

    Parameters
    ----------
    name : {"logreg", "hgb", "rf"}
        Classifier name.
    numeric, categorical : list of str
        Feature columns of each kind; categoricals are cast to strings first.
    random_state : int, default 0
        Seed of the estimator.

    Returns
    -------
    Pipeline
        Last step is named ``"model"``; pass weights as ``model__sample_weight``.

    Examples
    --------
    >>> pipe = make_classifier("logreg", numeric=["age"], categorical=["job"])
    >>> pipe.steps[-1][0]
    'model'
    """
    if name == "logreg":
        preprocess = ColumnTransformer(
            [
                (
                    "num",
                    make_pipeline(
                        SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
                    ),
                    numeric,
                ),
                (
                    "cat",
                    make_pipeline(
                        _as_text(),
                        SimpleImputer(strategy="constant", fill_value="(missing)"),
                        OneHotEncoder(
                            handle_unknown="ignore", min_frequency=5, sparse_output=False
                        ),
                    ),
                    categorical,
                ),
            ]
        )
        model = LogisticRegression(max_iter=2000, C=1.0)
    elif name == "hgb":
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
    elif name == "rf":
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
    else:
        raise ConfigError(
            f"unknown classifier {name!r}: choose from {', '.join(CLASSIFIER_DESCRIPTIONS)}"
        )
    return Pipeline([("preprocess", preprocess), ("model", model)])


def _ordinal() -> OrdinalEncoder:
    return OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan
    )


def _as_text():
    from sklearn.preprocessing import FunctionTransformer

    return FunctionTransformer(_to_object, feature_names_out="one-to-one")


def _to_object(x: pd.DataFrame | np.ndarray) -> np.ndarray:
    frame = pd.DataFrame(x)
    return frame.astype(object).where(frame.notna(), np.nan).astype(object).to_numpy()
