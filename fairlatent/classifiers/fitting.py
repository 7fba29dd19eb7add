"""Train a registered classifier on what a strategy produced, and predict real held-out rows.

A strategy's output decides how the classifier is trained (see
:class:`~fairlatent.strategies.StrategyOutput`): on its rows and weights (pre-processing), through its
estimator wrapper (in-processing), or on its rows followed by a post-processor fitted on held-out
validation rows (post-processing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from fairlatent.classifiers.registry import make_classifier
from fairlatent.exceptions import ConfigError
from fairlatent.strategies.base import StrategyOutput

ERR_NO_VALIDATION = (
    "a post-processing strategy needs held-out validation rows to fit on; "
    "pass validation=frame (the audit carves them out of the training rows)"
)


@dataclass
class FeatureSpec:
    """The columns a classifier reads and the roles it needs.

    Parameters
    ----------
    numeric, categorical : list of str
        Feature columns of each kind.
    target : str
        The 0/1 target column.
    group_column : str
        The group-label column (for in- and post-processing).
    """

    numeric: list[str]
    categorical: list[str]
    target: str
    group_column: str

    @property
    def columns(self) -> list[str]:
        """Every feature column, numeric first."""
        return self.numeric + self.categorical


@dataclass
class TrainedClassifier:
    """A classifier trained on one strategy output, ready to predict real rows.

    Attributes
    ----------
    estimator : object
        The fitted pipeline, or the in-processing estimator wrapping it.
    postprocessor : object or None
        The fitted post-processor, if the strategy is one.
    features : FeatureSpec
    """

    estimator: Any
    postprocessor: Any
    features: FeatureSpec
    in_processing: bool = False

    def predict(self, frame: pd.DataFrame, random_state: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
        """Predict ``frame``'s rows.

        Returns
        -------
        y_pred : ndarray of {0, 1}
        scores : ndarray of float or None
            Probability of the favourable label, when the classifier gives one (not for
            randomised in- or post-processing).
        """
        X = frame[self.features.columns]
        groups = frame[self.features.group_column].to_numpy()
        if self.postprocessor is not None:
            y_pred = self.postprocessor.predict(
                X, sensitive_features=groups, random_state=random_state
            )
            return np.asarray(y_pred, dtype=int), None
        if self.in_processing:
            y_pred = self.estimator.predict(X, sensitive_features=groups)
            return np.asarray(y_pred, dtype=int), None
        scores = self.estimator.predict_proba(X)[:, 1]
        return (scores >= 0.5).astype(int), scores


def train_classifier(
    classifier: str,
    output: StrategyOutput,
    features: FeatureSpec,
    *,
    random_state: int,
    validation: pd.DataFrame | None = None,
) -> TrainedClassifier:
    """Train ``classifier`` the way ``output`` asks.

    Parameters
    ----------
    classifier : str
        A registered classifier name.
    output : StrategyOutput
        What the strategy produced.
    features : FeatureSpec
    random_state : int
        Seed of the classifier.
    validation : DataFrame, optional
        Held-out real rows; required when ``output`` carries a post-processor.

    Returns
    -------
    TrainedClassifier
    """
    pipeline = make_classifier(
        classifier,
        numeric=features.numeric,
        categorical=features.categorical,
        random_state=random_state,
    )
    frame = output.frame
    X = frame[features.columns]
    y = frame[features.target].astype(int).to_numpy()
    weights = None if output.sample_weight is None else np.asarray(output.sample_weight, float)
    if output.wrap_estimator is not None:
        estimator = output.wrap_estimator(pipeline)
        params: dict[str, Any] = {"sensitive_features": frame[features.group_column].to_numpy()}
        if weights is not None:
            params["sample_weight"] = weights
        estimator.fit(X, y, **params)
        return TrainedClassifier(estimator, None, features, in_processing=True)
    fit_params = {} if weights is None else {"model__sample_weight": weights}
    pipeline.fit(X, y, **fit_params)
    postprocessor = None
    if output.postprocessor is not None:
        if validation is None:
            raise ConfigError(ERR_NO_VALIDATION)
        postprocessor = clone(output.postprocessor).set_params(estimator=pipeline, prefit=True)
        postprocessor.fit(
            validation[features.columns],
            validation[features.target].astype(int).to_numpy(),
            sensitive_features=validation[features.group_column].to_numpy(),
        )
    return TrainedClassifier(pipeline, postprocessor, features)

