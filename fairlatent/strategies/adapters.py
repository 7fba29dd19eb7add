"""Estimators and post-processors that put fairlearn's methods (and ours) behind the strategy slot.

The audit trains its classifiers as scikit-learn pipelines whose last step is named ``"model"`` and
takes weights as ``model__sample_weight``. In-processing strategies hand the audit a wrapper fitted as
``fit(X, y, sensitive_features=groups)``. The post-processors (group thresholds on a trained
classifier) are estimators of their own, in :mod:`fairlatent.strategies.postprocessors`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.pipeline import Pipeline

from fairlatent.data.kinds import is_numeric
from fairlatent.exceptions import ConfigError

logger = logging.getLogger(__name__)

__all__ = [
    "CorrelationRemoverClassifier",
    "ReductionClassifier",
    "SampleWeightAdapter",
    "weight_parameter",
]

ERR_CONSTRAINT = "constraint={value!r} is unknown; use 'demographic_parity' or 'equalized_odds'"
WARN_WEIGHTS = "%s ignores the strategy's sample weights (it sets its own)"


def weight_parameter(estimator: Any) -> str:
    """Name of the ``fit`` argument that carries sample weights to ``estimator``'s model.

    Parameters
    ----------
    estimator : estimator
        A scikit-learn estimator or pipeline.

    Returns
    -------
    str
        ``"<last step>__sample_weight"`` for a pipeline, else ``"sample_weight"``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> weight_parameter(Pipeline([("model", LogisticRegression())]))
    'model__sample_weight'
    """
    if isinstance(estimator, Pipeline):
        return f"{estimator.steps[-1][0]}__sample_weight"
    return "sample_weight"


class SampleWeightAdapter(ClassifierMixin, BaseEstimator):
    """A pipeline that takes ``fit(X, y, sample_weight=w)`` like a plain estimator.

    fairlearn's reductions call ``estimator.fit(X, y, sample_weight=w)``, which a
    :class:`~sklearn.pipeline.Pipeline` rejects; this routes ``w`` to the pipeline's last step.

    Parameters
    ----------
    pipeline : estimator
        The (unfitted) pipeline; it is cloned at every fit.

    Attributes
    ----------
    pipeline_ : estimator
        The fitted clone.
    classes_ : ndarray

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> adapter = SampleWeightAdapter(Pipeline([("model", LogisticRegression())]))
    >>> adapter.fit(X, y, sample_weight=np.ones(4)).predict(X).tolist()
    [0, 0, 1, 1]
    """

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SampleWeightAdapter:
        """Fit a clone of the pipeline, with ``sample_weight`` routed to its model."""
        self.pipeline_ = clone(self.pipeline)
        params = {}
        if sample_weight is not None:
            params[weight_parameter(self.pipeline_)] = np.asarray(sample_weight, dtype=float)
        self.pipeline_.fit(X, y, **params)
        self.classes_ = self.pipeline_.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predict labels with the fitted pipeline."""
        return self.pipeline_.predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Predict class probabilities with the fitted pipeline."""
        return self.pipeline_.predict_proba(X)


class _GroupAwareClassifier(BaseEstimator):
    """Shared ``fit`` of the in-processing wrappers: rows, labels, groups and optional weights."""

    def fit(
        self, X: pd.DataFrame, y: Any, *, sensitive_features: Any, sample_weight: Any = None
    ) -> Any:
        """Fit on the rows, knowing each row's group.

        Parameters
        ----------
        X : DataFrame
            Feature columns.
        y : array of {0, 1}
        sensitive_features : array
            Group of each row.
        sample_weight : array, optional
            Weights of a pre-processing step, if any.

        Returns
        -------
        self
        """
        self._fit(X, np.asarray(y, dtype=int), np.asarray(sensitive_features).astype(str),
                  sample_weight)
        return self

    def _fit(
        self, X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, sample_weight: Any
    ) -> None:
        raise NotImplementedError


class ReductionClassifier(_GroupAwareClassifier):
    """fairlearn's :class:`~fairlearn.reductions.ExponentiatedGradient` around a pipeline.

    Parameters
    ----------
    pipeline : estimator
        The classifier pipeline (weights are routed by :class:`SampleWeightAdapter`).
    constraint : {"demographic_parity", "equalized_odds"}, default "equalized_odds"
        The fairness constraint.
    eps : float, default 0.02
        Allowed constraint violation.
    max_iter : int, default 10
        Iterations (each fits the pipeline once).
    random_state : int, default 0
        Seed of the randomised predictions.

    Attributes
    ----------
    mitigator_ : ExponentiatedGradient
    """

    def __init__(
        self,
        pipeline: Any,
        *,
        constraint: str = "equalized_odds",
        eps: float = 0.02,
        max_iter: int = 10,
        random_state: int = 0,
    ) -> None:
        self.pipeline = pipeline
        self.constraint = constraint
        self.eps = eps
        self.max_iter = max_iter
        self.random_state = random_state

    def _fit(
        self, X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, sample_weight: Any
    ) -> None:
        """Run the reduction (``sample_weight`` is ignored: the reduction sets its own)."""
        from fairlearn.reductions import DemographicParity, EqualizedOdds, ExponentiatedGradient

        moments = {"demographic_parity": DemographicParity, "equalized_odds": EqualizedOdds}
        if self.constraint not in moments:
            raise ConfigError(ERR_CONSTRAINT.format(value=self.constraint))
        if sample_weight is not None:
            logger.warning(WARN_WEIGHTS, type(self).__name__)
        self.mitigator_ = ExponentiatedGradient(
            SampleWeightAdapter(self.pipeline),
            constraints=moments[self.constraint](),
            eps=float(self.eps),
            max_iter=int(self.max_iter),
        )
        self.mitigator_.fit(X, y, sensitive_features=groups)

    def predict(self, X: pd.DataFrame, sensitive_features: Any = None) -> np.ndarray:
        """Randomised predictions of the reduction's mixture (seeded by ``random_state``)."""
        return np.asarray(self.mitigator_.predict(X, random_state=self.random_state), dtype=int)


class CorrelationRemoverClassifier(_GroupAwareClassifier):
    """fairlearn's :class:`~fairlearn.preprocessing.CorrelationRemover` on the numeric features.

    The numeric feature columns are projected (linearly) off the one-hot group indicators, fitted
    on the training rows and applied to every row the classifier later predicts, then the pipeline
    is trained on the projected features. Missing values are filled with the column mean for the
    projection and put back afterwards.

    Parameters
    ----------
    pipeline : estimator
        The classifier pipeline.
    alpha : float, default 1.0
        0 keeps the features, 1 removes all their linear correlation with the groups.

    Attributes
    ----------
    numeric_ : list of str
        The columns projected.
    remover_ : CorrelationRemover
    pipeline_ : estimator
    """

    def __init__(self, pipeline: Any, *, alpha: float = 1.0) -> None:
        self.pipeline = pipeline
        self.alpha = alpha

    def _design(self, X: pd.DataFrame, groups: Any) -> pd.DataFrame:
        frame = X[self.numeric_].astype(float).fillna(self.means_)
        groups = np.asarray(groups).astype(str)
        for i, group in enumerate(self.groups_[1:]):
            frame[f"_fl_group_{i}"] = (groups == group).astype(float)
        return frame

    def _transform(self, X: pd.DataFrame, groups: Any) -> pd.DataFrame:
        if not self.numeric_ or len(self.groups_) < 2:
            return X
        out = X.copy()
        projected = self.remover_.transform(self._design(X, groups))
        missing = X[self.numeric_].isna().to_numpy()
        out[self.numeric_] = np.where(missing, np.nan, projected)
        return out

    def _fit(
        self, X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, sample_weight: Any
    ) -> None:
        """Fit the projection on ``X`` and the pipeline (with the weights) on projected rows."""
        from fairlearn.preprocessing import CorrelationRemover

        self.numeric_ = [c for c in X.columns if is_numeric(X[c])]
        self.groups_ = sorted(set(groups))
        self.means_ = X[self.numeric_].astype(float).mean()
        if self.numeric_ and len(self.groups_) >= 2:
            design = self._design(X, groups)
            self.remover_ = CorrelationRemover(
                sensitive_feature_ids=[c for c in design.columns if c.startswith("_fl_group_")],
                alpha=float(self.alpha),
            ).fit(design)
        self.pipeline_ = SampleWeightAdapter(self.pipeline).fit(
            self._transform(X, groups), y, sample_weight=sample_weight
        )

    def predict(self, X: pd.DataFrame, sensitive_features: Any = None) -> np.ndarray:
        """Predict labels of projected rows."""
        return self.pipeline_.predict(self._transform(X, sensitive_features))

    def predict_proba(self, X: pd.DataFrame, sensitive_features: Any = None) -> np.ndarray:
        """Predict class probabilities of projected rows."""
        return self.pipeline_.predict_proba(self._transform(X, sensitive_features))
