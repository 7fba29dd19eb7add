"""Estimators and post-processors that put fairlearn's methods (and ours) behind the strategy slot.

The audit trains its classifiers as scikit-learn pipelines whose last step is named ``"model"`` and
takes weights as ``model__sample_weight``. In-processing strategies hand the audit a wrapper fitted as
``fit(X, y, sensitive_features=groups)``; post-processing strategies hand it an object fitted on
held-out rows with the already trained pipeline (see :class:`~fairlatent.strategies.base.PostProcessor`).
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.pipeline import Pipeline

from fairlatent.data.kinds import is_numeric
from fairlatent.exceptions import ConfigError
from fairlatent.models.thresholds import (
    MIN_LABEL_SUPPORT,
    GroupPooling,
    GroupThresholds,
    majority_accuracy,
    pool_thin_groups,
)

logger = logging.getLogger(__name__)

__all__ = [
    "CorrelationRemoverClassifier",
    "GoalPostProcessor",
    "ReductionClassifier",
    "SampleWeightAdapter",
    "ThresholdPostProcessor",
    "weight_parameter",
]

ERR_CONSTRAINT = "constraint={value!r} is unknown; use 'demographic_parity' or 'equalized_odds'"
WARN_WEIGHTS = "%s ignores the strategy's sample weights (it sets its own)"
WARN_POOLED = (
    "%s: groups with fewer than %d favourable or unfavourable rows among the rows its thresholds "
    "are fitted on: %s"
)
WARN_FALLBACK = (
    "%s: its thresholds were less accurate (%.3f) than always predicting the majority label "
    "(%.3f) on the rows they were fitted on, so %s"
)


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


class _PrefitPostProcessor:
    """Shared part of the post-processors: thin groups, the majority floor, a fitted copy.

    ``fit`` returns a fitted copy (the unfitted object can be fitted again). Groups with fewer
    than ``min_support`` rows of either label among the fitting rows are pooled into one group
    (or, if even the pool is thin, keep the classifier's own predictions; see
    :func:`~fairlatent.models.thresholds.pool_thin_groups`), so no group's thresholds rest on
    one label. If the fitted rule is less accurate on the fitting rows than always predicting the
    majority label, the post-processor falls back to the classifier's own predictions (or to the
    majority label, when the classifier is no better either). Both are logged as warnings.
    """

    estimator_: Any
    groups_: set[str]
    pooling_: GroupPooling
    fallback_: str | None
    majority_label_: int
    min_support: int = MIN_LABEL_SUPPORT

    def fit(self, estimator: Any, X: pd.DataFrame, y: Any, groups: Any) -> Any:
        """Fit on held-out rows given the prefit ``estimator``; return a fitted copy.

        Parameters
        ----------
        estimator : estimator
            The classifier already trained (with ``predict_proba``).
        X : DataFrame
            Held-out rows.
        y : array of {0, 1}
        groups : array
            Group of each row.

        Returns
        -------
        fitted copy of self
            With ``pooling_`` (a :class:`~fairlatent.models.thresholds.GroupPooling`) and
            ``fallback_`` (``None``, ``"classifier"`` or ``"majority"``).
        """
        fitted = copy.copy(self)
        y = np.asarray(y, dtype=int)
        groups = np.asarray(groups).astype(str)
        fitted.estimator_ = estimator
        fitted.pooling_ = pool_thin_groups(y, groups, min_support=int(self.min_support))
        fitted.groups_ = set(fitted.pooling_.fitted)
        fitted.fallback_ = None
        note = fitted.pooling_.describe()
        if note:
            logger.warning(WARN_POOLED, type(self).__name__, int(self.min_support), note)
        if fitted.groups_:
            rows = np.isin(groups, list(fitted.groups_))
            fitted._fit(estimator, X[rows], y[rows], _fitting_labels(fitted.pooling_, groups[rows]))
        fitted._check_floor(X, y, groups)
        return fitted

    def _check_floor(self, X: pd.DataFrame, y: np.ndarray, groups: np.ndarray) -> None:
        """Fall back when the rule does worse than the majority label on the fitting rows."""
        floor = majority_accuracy(y)
        accuracy = float(np.mean(self.predict(X, groups, random_state=0) == y)) if len(y) else 1.0
        if accuracy >= floor:
            return
        own = np.asarray(self.estimator_.predict(X), dtype=int)
        if float(np.mean(own == y)) >= floor:
            self.fallback_ = "classifier"
            action = "it keeps the classifier's own predictions"
        else:
            self.fallback_ = "majority"
            action = "it predicts the majority label"
        self.majority_label_ = int(np.mean(y) >= 0.5)
        logger.warning(WARN_FALLBACK, type(self).__name__, accuracy, floor, action)

    def predict(self, X: pd.DataFrame, groups: Any, random_state: int = 0) -> np.ndarray:
        """0/1 predictions: the fitted rule for fitted groups, the classifier's for the others.

        Parameters
        ----------
        X : DataFrame
        groups : array
            Group of each row.
        random_state : int, default 0
            Seed of randomised rules (same seed, same predictions).

        Returns
        -------
        ndarray of int
        """
        if getattr(self, "fallback_", None) == "majority":
            return np.full(len(X), int(self.majority_label_), dtype=int)
        out = np.asarray(self.estimator_.predict(X), dtype=int)
        if getattr(self, "fallback_", None) == "classifier":
            return out
        groups = np.asarray(groups).astype(str)
        known = np.isin(groups, list(self.groups_))
        if known.any():
            out[known] = self._predict(
                X[known], _fitting_labels(self.pooling_, groups[known]), random_state
            )
        return out

    def _fit(self, estimator: Any, X: pd.DataFrame, y: np.ndarray, groups: np.ndarray) -> None:
        raise NotImplementedError

    def _predict(self, X: pd.DataFrame, groups: np.ndarray, random_state: int) -> np.ndarray:
        raise NotImplementedError


def _fitting_labels(pooling: GroupPooling, groups: np.ndarray) -> np.ndarray:
    """Return the label each row's group is fitted under (pooled groups share one)."""
    return np.array([pooling.fitted[g] for g in groups], dtype=object).astype(str)


class ThresholdPostProcessor(_PrefitPostProcessor):
    """fairlearn's :class:`~fairlearn.postprocessing.ThresholdOptimizer` on a prefit classifier.

    Parameters
    ----------
    constraints : {"demographic_parity", "equalized_odds", ...}, default "equalized_odds"
    tol : float or None, default None
        Relaxation of a demographic-parity constraint (not supported for equalized odds).
    grid_size : int, default 1000
    min_support : int, default MIN_LABEL_SUPPORT
        Fewest rows of each label a group needs for thresholds of its own (thinner groups are
        pooled; see :class:`_PrefitPostProcessor`).

    Rows of groups not seen in :meth:`fit` get the classifier's own prediction.
    """

    def __init__(
        self, *, constraints: str = "equalized_odds", tol: float | None = None,
        grid_size: int = 1000, min_support: int = MIN_LABEL_SUPPORT,
    ) -> None:
        self.constraints = constraints
        self.tol = tol
        self.grid_size = grid_size
        self.min_support = min_support

    def _fit(self, estimator: Any, X: pd.DataFrame, y: np.ndarray, groups: np.ndarray) -> None:
        from fairlearn.postprocessing import ThresholdOptimizer

        self.optimizer_ = ThresholdOptimizer(
            estimator=estimator, constraints=self.constraints, objective="accuracy_score",
            grid_size=self.grid_size, prefit=True, predict_method="predict_proba", tol=self.tol,
        ).fit(X, y, sensitive_features=groups)

    def _predict(self, X: pd.DataFrame, groups: np.ndarray, random_state: int) -> np.ndarray:
        """Randomised group-specific thresholds (seeded) on the classifier's scores."""
        return np.asarray(
            self.optimizer_.predict(X, sensitive_features=groups, random_state=random_state),
            dtype=int,
        )


class GoalPostProcessor(_PrefitPostProcessor):
    """Randomised group thresholds that meet DP and EO bounds at the best accuracy (an LP).

    The linear programme of :func:`~fairlatent.models.thresholds.solve_group_thresholds` is solved
    on the held-out rows' scores; each new row draws one threshold of its group's mix.

    Parameters
    ----------
    dp_max, eo_max : float, default 0.04 and 0.08
        Bounds on the demographic-parity and equalized-odds differences (on the held-out rows).
    n_thresholds : int, default 60
    min_support : int, default MIN_LABEL_SUPPORT
        Fewest rows of each label a group needs for thresholds of its own (thinner groups are
        pooled; see :class:`_PrefitPostProcessor`).
    """

    def __init__(
        self, *, dp_max: float = 0.04, eo_max: float = 0.08, n_thresholds: int = 60,
        min_support: int = MIN_LABEL_SUPPORT,
    ) -> None:
        self.dp_max = dp_max
        self.eo_max = eo_max
        self.n_thresholds = n_thresholds
        self.min_support = min_support

    def _fit(self, estimator: Any, X: pd.DataFrame, y: np.ndarray, groups: np.ndarray) -> None:
        scores = estimator.predict_proba(X)[:, 1]
        self.rule_ = GroupThresholds(
            dp_max=self.dp_max, eo_max=self.eo_max, n_thresholds=self.n_thresholds
        ).fit(scores, y, groups)

    def _predict(self, X: pd.DataFrame, groups: np.ndarray, random_state: int) -> np.ndarray:
        """Apply the fitted group rules (seeded draws) to the classifier's scores."""
        scores = self.estimator_.predict_proba(X)[:, 1]
        return self.rule_.predict(scores, groups, random_state=random_state)
