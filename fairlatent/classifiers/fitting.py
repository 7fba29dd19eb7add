"""Fit a registered classifier on a strategy's training set and score real held-out rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairlatent.classifiers.registry import make_classifier
from fairlatent.strategies.base import StrategyOutput


def fit_predict(
    classifier: str,
    output: StrategyOutput,
    test: pd.DataFrame,
    *,
    numeric: list[str],
    categorical: list[str],
    target: str,
    random_state: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Train ``classifier`` on ``output`` (rows and weights) and predict the ``test`` rows.

    Parameters
    ----------
    classifier : str
        A registered classifier name.
    output : StrategyOutput
        The training set (and optional ``sample_weight``) a strategy produced.
    test : DataFrame
        Real held-out rows.
    numeric, categorical : list of str
        Feature columns of each kind.
    target : str
        The 0/1 target column.
    random_state : int
        Seed of the classifier.

    Returns
    -------
    y_pred : ndarray of {0, 1}
        Predictions at the 0.5 threshold.
    scores : ndarray of float
        Predicted probability of the favourable label.
    """
    pipeline = make_classifier(
        classifier, numeric=numeric, categorical=categorical, random_state=random_state
    )
    columns = numeric + categorical
    fit_params = {}
    if output.sample_weight is not None:
        fit_params["model__sample_weight"] = np.asarray(output.sample_weight, dtype=float)
    pipeline.fit(output.frame[columns], output.frame[target].astype(int).to_numpy(), **fit_params)
    scores = pipeline.predict_proba(test[columns])[:, 1]
    return (scores >= 0.5).astype(int), scores
