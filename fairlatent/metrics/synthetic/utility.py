"""Utility: train on synthetic, test on real (TSTR) against train on real."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.exceptions import SchemaError
from fairlatent.metrics.synthetic.columns import (
    MSG_TARGET,
    _as_float,
    _as_labels,
    _check_frames,
    _column_kinds,
    _num,
)
from fairlatent.metrics.synthetic.trees import _hgb, _tree_features

__all__ = ["utility_scores"]

logger = logging.getLogger(__name__)


def _target_values(series: pd.Series, numeric: bool) -> np.ndarray:
    if numeric:
        return _as_float(series)
    return _as_labels(series).to_numpy()


def utility_scores(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    real_test: pd.DataFrame,
    *,
    target: str,
    discrete_columns: Sequence[str] | None = None,
    random_state: int | None = 0,
) -> dict[str, Any]:
    """Train-on-synthetic-test-on-real (TSTR) accuracy against train-on-real.

    The same ``HistGradientBoostingClassifier`` is fitted once on ``synthetic`` and once on
    ``real_train`` (all columns but ``target`` as features) and both are scored on ``real_test``.

    Parameters
    ----------
    real_train, synthetic, real_test : DataFrame
        Frames with the same columns, including ``target``.
    target : str
        Label column.
    discrete_columns : sequence of str, optional
        Numeric columns to treat as categorical.
    random_state : int or None, default 0
        Seed of the classifiers.

    Returns
    -------
    dict
        ``{"target", "accuracy_real", "accuracy_synthetic", "gap"}`` where ``gap`` is
        ``accuracy_real - accuracy_synthetic``; ``accuracy_synthetic`` is ``None`` when the
        synthetic target has a single class.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> frame = pd.DataFrame({"x": x, "y": (x > 0).astype(int)})
    >>> res = utility_scores(frame[:300], frame[:300], frame[300:], target="y")
    >>> res["gap"]
    0.0
    """
    _check_frames(real_train, synthetic)
    _check_frames(real_train, real_test)
    for name, frame in (
        ("real_train", real_train),
        ("synthetic", synthetic),
        ("real_test", real_test),
    ):
        if target not in frame.columns:
            raise SchemaError(
                MSG_TARGET.format(target=target, where=name, columns=list(frame.columns))
            )
    kinds = _column_kinds(real_train, discrete_columns)
    target_numeric = kinds.pop(target) == "numeric"
    (x_train, x_syn, x_test), is_cat = _tree_features(
        [real_train[list(kinds)], synthetic[list(kinds)], real_test[list(kinds)]], kinds
    )
    y_train = _target_values(real_train[target], target_numeric)
    y_syn = _target_values(synthetic[target], target_numeric)
    y_test = _target_values(real_test[target], target_numeric)

    def _accuracy(x: np.ndarray, y: np.ndarray) -> float | None:
        keep = ~pd.isna(y)
        if len(np.unique(y[keep])) < 2:
            return None
        model = _hgb(is_cat, random_state).fit(x[keep], y[keep])
        return float(np.mean(model.predict(x_test) == y_test))

    acc_real = _accuracy(x_train, y_train)
    acc_syn = _accuracy(x_syn, y_syn)
    if acc_syn is None:
        logger.warning(
            "Synthetic target %r has a single class; TSTR accuracy is undefined.", target
        )
    gap = acc_real - acc_syn if acc_real is not None and acc_syn is not None else None
    return {
        "target": target,
        "accuracy_real": acc_real,
        "accuracy_synthetic": acc_syn,
        "gap": _num(gap),
    }
