"""Group density ratios by probabilistic classification, cross-fitted.

:class:`GroupDensityRatio` estimates, for each row, how much more (or less) common its point ``z`` is
among all rows of its stratum than among the rows of its own group:

    ``r(z) = p(z | s) / p(z | g, s) = P(g | s) / P(g | z, s)``

(Bayes' rule), where ``s`` is the stratum (e.g. the label) and ``g`` the group. A probabilistic
classifier predicting the group from ``z`` within each stratum gives ``P(g | z, s)``; the estimate for a
row comes from the models of the cross-fitting folds that did not see it, so a flexible classifier
cannot memorise its own rows. Weighting a group's rows by ``r`` makes their distribution of ``z`` look
like the pooled one of their stratum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fairlatent.exceptions import ConfigError, DataError, check_fitted

__all__ = ["ERR_CLIP", "ERR_ESTIMATOR", "ERR_SPLITS", "GroupDensityRatio"]

ERR_ESTIMATOR = (
    "estimator={value!r} is unknown; use 'logistic', 'hgb' or a scikit-learn classifier with "
    "predict_proba"
)
ERR_SPLITS = "n_splits={value!r} must be an integer of at least 2"
ERR_CLIP = "clip={value!r} must be a number above 1 (ratios are kept within [1/clip, clip])"
ERR_LENGTH = "z has {n} rows but {what} has {m}; pass one value per row"
ERR_NOT_FITTED = "this GroupDensityRatio is not fitted yet; call fit(z, groups) first"


def _classifier(estimator: Any, seed: int) -> ClassifierMixin:
    if estimator == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    if estimator == "hgb":
        return HistGradientBoostingClassifier(
            max_iter=100, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=40,
            random_state=seed,
        )
    if hasattr(estimator, "fit") and hasattr(estimator, "predict_proba"):
        return clone(estimator)
    raise ConfigError(ERR_ESTIMATOR.format(value=estimator))


@dataclass
class _Stratum:
    """The fold models of one stratum: the groups they tell apart and their priors."""

    classes: np.ndarray
    priors: np.ndarray
    models: list[Any]

    def proba(self, z: np.ndarray) -> np.ndarray:
        """Fold-averaged ``P(g | z, s)`` (columns in :attr:`classes` order)."""
        return np.mean([_aligned(m, z, self.classes) for m in self.models], axis=0)


def _aligned(model: Any, z: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """``predict_proba`` with columns in ``classes`` order (a fold may lack none: stratified)."""
    proba = model.predict_proba(z)
    order = [list(model.classes_).index(c) for c in classes]
    return proba[:, order]


class GroupDensityRatio(BaseEstimator):
    """Cross-fitted ratio ``p(z | s) / p(z | g, s)`` of each row's point to its own group's density.

    Parameters
    ----------
    estimator : {"logistic", "hgb"} or classifier, default "logistic"
        The probabilistic classifier of the group given ``z``: a standardised logistic regression
        (exact when the groups' densities are Gaussians with one covariance), a small histogram
        gradient boosting, or any scikit-learn classifier with ``predict_proba``.
    n_splits : int, default 5
        Cross-fitting folds (fewer when a group has fewer rows in a stratum).
    clip : float, default 20.0
        Ratios are clipped to ``[1 / clip, clip]``.
    min_rows : int, default 10
        Groups with fewer rows in a stratum are not modelled there (their ratio is 1).
    random_state : int or None, default None
        Seed of the folds and of the classifier.

    Attributes
    ----------
    ratio_ : ndarray of shape (n_rows,)
        Cross-fitted (out-of-fold) ratio of every fitted row.
    strata_ : dict
        Stratum -> its fold models, the groups they distinguish and the groups' shares.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> groups = np.repeat(["a", "b"], [700, 300])
    >>> z = rng.normal(np.where(groups == "a", 0.0, 1.0)[:, None], 1.0, (1000, 2))
    >>> ratio = GroupDensityRatio(random_state=0).fit(z, groups).ratio_
    >>> bool(np.average(z[groups == "b", 0], weights=ratio[groups == "b"]) < z[groups == "b", 0].mean())
    True
    """

    def __init__(
        self,
        *,
        estimator: Any = "logistic",
        n_splits: int = 5,
        clip: float = 20.0,
        min_rows: int = 10,
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.n_splits = n_splits
        self.clip = clip
        self.min_rows = min_rows
        self.random_state = random_state

    def _check_params(self) -> None:
        splits = self.n_splits
        if isinstance(splits, bool) or not isinstance(splits, int | np.integer) or splits < 2:
            raise ConfigError(ERR_SPLITS.format(value=splits))
        try:
            clip = float(self.clip)
        except (TypeError, ValueError):
            raise ConfigError(ERR_CLIP.format(value=self.clip)) from None
        if not clip > 1:
            raise ConfigError(ERR_CLIP.format(value=self.clip))
        _classifier(self.estimator, 0)

    @staticmethod
    def _inputs(z: Any, groups: Any, strata: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        z = np.asarray(z, dtype=float)
        if z.ndim == 1:
            z = z[:, None]
        groups = np.asarray(groups).astype(str)
        strata = np.zeros(len(z), dtype=int) if strata is None else np.asarray(strata)
        for what, values in (("groups", groups), ("strata", strata)):
            if len(values) != len(z):
                raise DataError(ERR_LENGTH.format(n=len(z), what=what, m=len(values)))
        return z, groups, strata

    def fit(self, z: Any, groups: Any, strata: Any = None) -> GroupDensityRatio:
        """Fit the group classifiers within each stratum and cross-fit the rows' ratios.

        Parameters
        ----------
        z : array-like of shape (n_rows, n_dims)
            The points (e.g. latent means).
        groups : array-like of shape (n_rows,)
            Group of each row.
        strata : array-like of shape (n_rows,), optional
            Stratum of each row (e.g. the label); one stratum when omitted.

        Returns
        -------
        self
        """
        self._check_params()
        z, groups, strata = self._inputs(z, groups, strata)
        seed = 0 if self.random_state is None else int(self.random_state)
        self.ratio_ = np.ones(len(z))
        self.strata_: dict[Any, _Stratum] = {}
        for stratum in np.unique(strata):
            rows = np.flatnonzero(strata == stratum)
            classes, counts = np.unique(groups[rows], return_counts=True)
            keep = counts >= max(int(self.min_rows), 2)
            if keep.sum() < 2:
                continue
            classes, counts = classes[keep], counts[keep]
            rows = rows[np.isin(groups[rows], classes)]
            zs, gs = z[rows], groups[rows]
            folds = StratifiedKFold(
                n_splits=int(min(self.n_splits, counts.min())), shuffle=True, random_state=seed
            )
            oof = np.empty((len(rows), len(classes)))
            models = []
            for train, test in folds.split(zs, gs):
                model = _classifier(self.estimator, seed).fit(zs[train], gs[train])
                oof[test] = _aligned(model, zs[test], classes)
                models.append(model)
            priors = counts / counts.sum()
            self.strata_[stratum] = _Stratum(classes, priors, models)
            self.ratio_[rows] = self._ratio(oof, gs, classes, priors)
        return self

    def _ratio(
        self, proba: np.ndarray, groups: np.ndarray, classes: np.ndarray, priors: np.ndarray
    ) -> np.ndarray:
        column = np.searchsorted(classes, groups)
        own = proba[np.arange(len(groups)), column]
        clip = float(self.clip)
        ratio = priors[column] / np.maximum(own, 1e-12)
        return np.clip(ratio, 1.0 / clip, clip)

    def predict_ratio(self, z: Any, groups: Any, strata: Any = None) -> np.ndarray:
        """Ratio of new points, from the fold models averaged.

        Parameters
        ----------
        z : array-like of shape (n_rows, n_dims)
        groups : array-like of shape (n_rows,)
        strata : array-like of shape (n_rows,), optional

        Returns
        -------
        ndarray of shape (n_rows,)
            1 for rows of a stratum or group that was not modelled.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        """
        check_fitted(self, "strata_", message=ERR_NOT_FITTED)
        z, groups, strata = self._inputs(z, groups, strata)
        out = np.ones(len(z))
        for stratum, fitted in self.strata_.items():
            rows = np.flatnonzero((strata == stratum) & np.isin(groups, fitted.classes))
            if len(rows):
                out[rows] = self._ratio(
                    fitted.proba(z[rows]), groups[rows], fitted.classes, fitted.priors
                )
        return out
