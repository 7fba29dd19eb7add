"""Detection: how well a classifier tells real rows from synthetic ones."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.metrics.synthetic.columns import (
    _check_frames,
    _column_kinds,
    _num,
    _subsample_pair,
)
from fairlatent.metrics.synthetic.trees import _hgb, _tree_features

__all__ = ["detection_auc"]

logger = logging.getLogger(__name__)


def detection_auc(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    discrete_columns: Sequence[str] | None = None,
    max_rows: int = 5000,
    n_splits: int = 3,
    random_state: int | None = 0,
) -> dict[str, Any]:
    """How well a classifier tells real rows from synthetic ones (ROC AUC; 0.5 is ideal).

    Equal numbers of real and synthetic rows (at most ``max_rows`` each, seeded subsample) are
    labelled 0/1; a ``HistGradientBoostingClassifier`` with native categorical support gives
    out-of-fold probabilities by stratified ``n_splits``-fold cross-validation, and the AUC of those
    probabilities is reported. AUC near 1 means the synthetic rows are easy to spot.

    Parameters
    ----------
    real, synthetic : DataFrame
        The rows to tell apart (labelled 0 and 1), with the same columns.
    discrete_columns : sequence of str, optional
        Numeric columns to treat as categorical.
    max_rows : int, default 5000
        Rows per class.
    n_splits : int, default 3
        Cross-validation folds.
    random_state : int or None, default 0
        Seed of the subsampling, folds and classifier.

    Returns
    -------
    dict
        ``{"auc": float | None, "n_per_class": int, "n_splits": int, "classifier": str}``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"x": rng.normal(size=200)})
    >>> fake = pd.DataFrame({"x": rng.normal(5.0, 1.0, size=200)})
    >>> detection_auc(real, fake)["auc"] > 0.95
    True
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    _check_frames(real, synthetic)
    kinds = _column_kinds(real, discrete_columns)
    rng = np.random.default_rng(random_state)
    n = min(len(real), len(synthetic), max_rows)
    r, s = _subsample_pair(real, synthetic, n, rng)
    result: dict[str, Any] = {
        "auc": None,
        "n_per_class": int(n),
        "n_splits": int(n_splits),
        "classifier": "HistGradientBoostingClassifier",
    }
    folds = min(n_splits, n)
    if folds < 2:
        logger.warning("Detection AUC needs at least 2 rows per class; found %d.", n)
        return result
    (xr, xs), is_cat = _tree_features([r, s], kinds)
    x = np.vstack([xr, xs])
    y = np.r_[np.zeros(n, dtype=int), np.ones(n, dtype=int)]
    seed = int(rng.integers(2**31 - 1))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    proba = cross_val_predict(_hgb(is_cat, seed), x, y, cv=cv, method="predict_proba")[:, 1]
    result["auc"] = _num(roc_auc_score(y, proba))
    result["n_splits"] = int(folds)
    return result
