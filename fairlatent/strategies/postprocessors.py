"""Group-threshold post-processors as scikit-learn estimators, in fairlearn's shape.

Both estimators wrap a classifier with scores (``predict_proba``) and choose randomised
group-specific thresholds on held-out rows, like fairlearn's
:class:`~fairlearn.postprocessing.ThresholdOptimizer`, whose interface they follow:

- ``__init__(estimator=None, *, prefit=False, ...)``: the classifier, fitted already (``prefit=True``)
  or fitted by :meth:`fit` on the same rows (a clone of it);
- ``fit(X, y, *, sensitive_features, **fit_params)`` returns ``self``;
- ``predict(X, *, sensitive_features, random_state=None)``: seeded randomised decisions.

:class:`ThresholdPostProcessor` runs fairlearn's optimiser; :class:`GoalPostProcessor` solves the
audit's own linear programme (the most accurate thresholds under DP and EO bounds,
:mod:`fairlatent.models.thresholds`). Both are safe on thin groups: a group with fewer than
``min_support`` rows of either label among the fitting rows is pooled with the other thin groups (or,
if even the pool is thin, keeps the classifier's own decisions), and if the fitted rule is less
accurate on the fitting rows than always predicting the majority label, it falls back to the
classifier's own decisions (or to the majority label, when the classifier is no better). Both are
logged as warnings and recorded in ``pooling_`` and ``fallback_``.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> rng = np.random.default_rng(0)
>>> groups = np.where(rng.random(600) < 0.5, "a", "b")
>>> y = (rng.random(600) < np.where(groups == "a", 0.6, 0.3)).astype(int)
>>> X = np.c_[y + rng.normal(0, 0.8, 600) + 0.5 * (groups == "a")]
>>> post = GoalPostProcessor(LogisticRegression(), dp_max=0.05, eo_max=1.0)
>>> pred = post.fit(X, y, sensitive_features=groups).predict(X, sensitive_features=groups)
>>> gap = abs(pred[groups == "a"].mean() - pred[groups == "b"].mean())
>>> bool(gap < 0.1)
True
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils import get_tags
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

from fairlatent.exceptions import check_fitted
from fairlatent.models.thresholds import (
    MIN_LABEL_SUPPORT,
    GroupPooling,
    GroupThresholds,
    majority_accuracy,
    pool_thin_groups,
)
from fairlatent.policy import GOAL

logger = logging.getLogger(__name__)

__all__ = ["GoalPostProcessor", "ThresholdPostProcessor"]

#: Label of every row when ``sensitive_features`` is not given (one group).
ONE_GROUP = "(all rows)"
ERR_NOT_BINARY = (
    "Only binary classification is supported. {name} needs a target with two classes; got "
    "{count} class(es) ({kind}): {labels}"
)
ERR_NO_TARGET = "{name} requires y to be passed, but the target y is None"
ERR_NO_SCORES = (
    "{name} needs an estimator with predict_proba (scores to threshold); {estimator} has none"
)
ERR_LENGTH = "sensitive_features has {found} values for {rows} rows; give one group per row"
WARN_POOLED = (
    "%s: groups with fewer than %d favourable or unfavourable rows among the rows its thresholds "
    "are fitted on: %s"
)
WARN_INFEASIBLE = (
    "%s: no group thresholds meet DP <= %.3g and EO <= %.3g on the rows they are fitted on, so it "
    "keeps the classifier's own predictions"
)
WARN_FALLBACK = (
    "%s: its thresholds were less accurate (%.3f) than always predicting the majority label "
    "(%.3f) on the rows they were fitted on, so %s"
)


def _group_labels(sensitive_features: Any, n_rows: int) -> np.ndarray:
    """Group of each row as strings (one group when ``sensitive_features`` is ``None``)."""
    if sensitive_features is None:
        return np.full(n_rows, ONE_GROUP, dtype=object)
    groups = np.asarray(sensitive_features, dtype=object)
    if groups.ndim == 2:  # several sensitive columns: their combination is the group
        groups = np.array([" & ".join(map(str, row)) for row in groups], dtype=object)
    if len(groups) != n_rows:
        raise ValueError(ERR_LENGTH.format(found=len(groups), rows=n_rows))
    return groups.astype(str)


def _rows(X: Any) -> Any:
    """``X`` as something row-indexable: frames and sparse matrices kept, other array-likes arrays."""
    if isinstance(X, pd.DataFrame) or hasattr(X, "tocsr"):
        return X
    return np.asarray(X)


def _subset(X: Any, rows: np.ndarray) -> Any:
    return X[rows] if not isinstance(X, pd.DataFrame) else X.loc[X.index[rows]]


class _GroupThresholdPostProcessor(ClassifierMixin, BaseEstimator):
    """Shared fit/predict of the post-processors: classifier, thin groups, the majority floor."""

    estimator: Any
    prefit: bool
    min_support: int

    def __sklearn_tags__(self) -> Any:
        """Binary classifier tags (the thresholds choose between two classes)."""
        tags = super().__sklearn_tags__()
        if tags.classifier_tags is not None:
            tags.classifier_tags.multi_class = False
        inner = self.estimator if self.estimator is not None else LogisticRegression()
        try:
            tags.input_tags.sparse = get_tags(inner).input_tags.sparse
        except (AttributeError, TypeError):  # not a scikit-learn estimator: assume dense only
            tags.input_tags.sparse = False
        return tags

    def fit(
        self, X: Any, y: Any, *, sensitive_features: Any = None, **fit_params: Any
    ) -> _GroupThresholdPostProcessor:
        """Fit the classifier (unless prefit) and the group thresholds on these rows.

        Parameters
        ----------
        X : array-like or DataFrame
            Rows the classifier takes.
        y : array-like
            Binary labels; ``classes_[1]`` (the larger label) is the favourable one.
        sensitive_features : array-like, optional
            Group of each row (a 2-D array combines several columns). ``None``: one group.
        **fit_params
            Passed to the classifier's ``fit`` when ``prefit`` is false.

        Returns
        -------
        self
            With ``estimator_``, ``classes_``, ``pooling_``, ``groups_`` and ``fallback_``
            (``None``, ``"classifier"`` or ``"majority"``).
        """
        if y is None:
            raise ValueError(ERR_NO_TARGET.format(name=type(self).__name__))
        y_array = np.asarray(y)
        kind = type_of_target(y_array, input_name="y", raise_unknown=True)
        labels = np.unique(y_array)
        if kind not in ("binary",) or len(labels) != 2:
            raise ValueError(
                ERR_NOT_BINARY.format(
                    name=type(self).__name__, count=len(labels), kind=kind,
                    labels=labels[:5].tolist(),
                )
            )
        base = self.estimator if self.estimator is not None else LogisticRegression()
        if self.prefit:
            if isinstance(base, BaseEstimator):
                check_is_fitted(base)
            self.estimator_ = base
        else:
            self.estimator_ = clone(base).fit(X, y_array, **fit_params)
        if not hasattr(self.estimator_, "predict_proba"):
            raise ValueError(
                ERR_NO_SCORES.format(name=type(self).__name__, estimator=type(base).__name__)
            )
        self.classes_ = labels
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, name):
                setattr(self, name, getattr(self.estimator_, name))
        X = _rows(X)
        y01 = (y_array == labels[1]).astype(int)
        groups = _group_labels(sensitive_features, len(y01))
        self.pooling_ = pool_thin_groups(y01, groups, min_support=int(self.min_support))
        self.groups_ = set(self.pooling_.fitted)
        self.fallback_: str | None = None
        self.majority_label_ = int(np.mean(y01) >= 0.5)
        note = self.pooling_.describe()
        if note:
            logger.warning(WARN_POOLED, type(self).__name__, int(self.min_support), note)
        if self.groups_:
            rows = np.isin(groups, list(self.groups_))
            self._fit_rule(_subset(X, rows), y01[rows], _fitting_labels(self.pooling_, groups[rows]))
        self._check_floor(X, y01, groups)
        return self

    def _own(self, X: Any) -> np.ndarray:
        """Return the classifier's own 0/1 decisions (favourable = ``classes_[1]``)."""
        return (np.asarray(self.estimator_.predict(X)) == self.classes_[1]).astype(int)

    def _check_floor(self, X: Any, y: np.ndarray, groups: np.ndarray) -> None:
        """Fall back when the rule does worse than the majority label on the fitting rows."""
        floor = majority_accuracy(y)
        accuracy = float(np.mean(self._decide(X, groups, 0) == y)) if len(y) else 1.0
        if accuracy >= floor:
            return
        if float(np.mean(self._own(X) == y)) >= floor:
            self.fallback_ = "classifier"
            action = "it keeps the classifier's own predictions"
        else:
            self.fallback_ = "majority"
            action = "it predicts the majority label"
        logger.warning(WARN_FALLBACK, type(self).__name__, accuracy, floor, action)

    def _decide(self, X: Any, groups: np.ndarray, random_state: int) -> np.ndarray:
        """0/1 decisions: the fitted rule for fitted groups, the classifier's for the others."""
        if self.fallback_ == "majority":
            return np.full(len(groups), int(self.majority_label_), dtype=int)
        out = self._own(X)
        if self.fallback_ == "classifier":
            return out
        known = np.isin(groups, list(self.groups_))
        if known.any():
            out[known] = self._predict_rule(
                _subset(X, known), _fitting_labels(self.pooling_, groups[known]), random_state
            )
        return out

    def predict(
        self, X: Any, *, sensitive_features: Any = None, random_state: int | None = None
    ) -> np.ndarray:
        """Decide each row with its group's (randomised) thresholds.

        Parameters
        ----------
        X : array-like or DataFrame
        sensitive_features : array-like, optional
            Group of each row, as in :meth:`fit` (``None``: one group). Rows of groups not seen
            in :meth:`fit` keep the classifier's own decisions.
        random_state : int, optional
            Seed of the randomised thresholds; ``None`` uses 0, so the same rows always get the
            same decisions.

        Returns
        -------
        ndarray
            Labels from ``classes_``.
        """
        check_fitted(self, "pooling_")
        X = _rows(X)
        groups = _group_labels(sensitive_features, X.shape[0])
        decisions = self._decide(X, groups, 0 if random_state is None else int(random_state))
        return self.classes_[decisions]

    def _fit_rule(self, X: Any, y: np.ndarray, groups: np.ndarray) -> None:
        raise NotImplementedError

    def _predict_rule(self, X: Any, groups: np.ndarray, random_state: int) -> np.ndarray:
        raise NotImplementedError

    def _scores(self, X: Any) -> np.ndarray:
        proba = np.asarray(self.estimator_.predict_proba(X))
        column = list(getattr(self.estimator_, "classes_", self.classes_)).index(self.classes_[1])
        return proba[:, column]


def _fitting_labels(pooling: GroupPooling, groups: np.ndarray) -> np.ndarray:
    """Return the label each row's group is fitted under (pooled groups share one)."""
    return np.array([pooling.fitted[g] for g in groups], dtype=object).astype(str)


class ThresholdPostProcessor(_GroupThresholdPostProcessor):
    """fairlearn's :class:`~fairlearn.postprocessing.ThresholdOptimizer`, safe on thin groups.

    Parameters
    ----------
    estimator : estimator, optional
        Classifier with ``predict_proba``; default :class:`~sklearn.linear_model.LogisticRegression`.
    prefit : bool, default False
        Whether ``estimator`` is fitted already (else a clone is fitted on the rows of :meth:`fit`).
    constraints : str, default "equalized_odds"
        fairlearn's constraint (``"demographic_parity"``, ``"equalized_odds"``, ...).
    tol : float or None, default None
        Relaxation of a demographic-parity constraint (not supported for equalized odds).
    grid_size : int, default 1000
    min_support : int, default MIN_LABEL_SUPPORT
        Fewest rows of each label a group needs for thresholds of its own.

    Attributes
    ----------
    estimator_ : estimator
    optimizer_ : ThresholdOptimizer
    classes_ : ndarray
    pooling_ : GroupPooling
    fallback_ : str or None

    Examples
    --------
    >>> from sklearn.base import clone
    >>> clone(ThresholdPostProcessor(constraints="demographic_parity")).get_params()["constraints"]
    'demographic_parity'
    """

    def __init__(
        self,
        estimator: Any = None,
        *,
        prefit: bool = False,
        constraints: str = "equalized_odds",
        tol: float | None = None,
        grid_size: int = 1000,
        min_support: int = MIN_LABEL_SUPPORT,
    ) -> None:
        self.estimator = estimator
        self.prefit = prefit
        self.constraints = constraints
        self.tol = tol
        self.grid_size = grid_size
        self.min_support = min_support

    def _fit_rule(self, X: Any, y: np.ndarray, groups: np.ndarray) -> None:
        from fairlearn.postprocessing import ThresholdOptimizer

        self.optimizer_ = ThresholdOptimizer(
            estimator=self.estimator_, constraints=self.constraints, objective="accuracy_score",
            grid_size=self.grid_size, prefit=True, predict_method="predict_proba", tol=self.tol,
        ).fit(X, y, sensitive_features=groups)

    def _predict_rule(self, X: Any, groups: np.ndarray, random_state: int) -> np.ndarray:
        """Randomised group-specific thresholds (seeded) on the classifier's scores."""
        return np.asarray(
            self.optimizer_.predict(X, sensitive_features=groups, random_state=random_state),
            dtype=int,
        )


class GoalPostProcessor(_GroupThresholdPostProcessor):
    """Randomised group thresholds that meet DP and EO bounds at the best accuracy (an LP).

    The linear programme of :func:`~fairlatent.models.thresholds.solve_group_thresholds` is
    solved on the fitting rows' scores; each new row draws one threshold of its group's mix.

    Parameters
    ----------
    estimator : estimator, optional
        Classifier with ``predict_proba``; default :class:`~sklearn.linear_model.LogisticRegression`.
    prefit : bool, default False
        Whether ``estimator`` is fitted already.
    dp_max, eo_max : float, default the audit's goal (:data:`fairlatent.policy.GOAL`)
        Bounds on the demographic-parity and equalized-odds differences on the fitting rows.
    n_thresholds : int, default 60
    min_support : int, default MIN_LABEL_SUPPORT
        Fewest rows of each label a group needs for thresholds of its own.

    Attributes
    ----------
    estimator_ : estimator
    rule_ : GroupThresholds
    classes_ : ndarray
    pooling_ : GroupPooling
    fallback_ : str or None
    """

    def __init__(
        self,
        estimator: Any = None,
        *,
        prefit: bool = False,
        dp_max: float = GOAL.dp_difference,
        eo_max: float = GOAL.eo_difference,
        n_thresholds: int = 60,
        min_support: int = MIN_LABEL_SUPPORT,
    ) -> None:
        self.estimator = estimator
        self.prefit = prefit
        self.dp_max = dp_max
        self.eo_max = eo_max
        self.n_thresholds = n_thresholds
        self.min_support = min_support

    def _fit_rule(self, X: Any, y: np.ndarray, groups: np.ndarray) -> None:
        self.rule_ = GroupThresholds(
            dp_max=self.dp_max, eo_max=self.eo_max, n_thresholds=self.n_thresholds
        ).fit(self._scores(X), y, groups)
        if not self.rule_.solution_.feasible:
            self.fallback_ = "classifier"
            logger.warning(WARN_INFEASIBLE, type(self).__name__, self.dp_max, self.eo_max)

    def _predict_rule(self, X: Any, groups: np.ndarray, random_state: int) -> np.ndarray:
        """Apply the fitted group rules (seeded draws) to the classifier's scores."""
        return self.rule_.predict(self._scores(X), groups, random_state=random_state)
