"""How much group information does a training set still carry? Probes that recover the group.

A *probe* is a classifier trained to predict each row's group from the features a downstream model
reads, with the sensitive columns left out (Cerrato et al. 2024 recover the attribute from "fair"
representations this way). Its cross-validated AUC says how well the group can be recovered: 0.5
is chance, 1 is a perfect proxy. Two probes: a linear one (logistic regression on standardised,
one-hot features) and gradient boosting (scikit-learn's histogram boosting), 3 stratified folds on a
seeded subsample of a few thousand rows. Weighted training sets are probed with their weights (fit
and AUC). With more than two groups the AUC is the macro one-vs-rest AUC. The interval is a
percentile bootstrap of the out-of-fold AUC over rows.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from fairlatent.metrics.bootstrap import percentile_interval

logger = logging.getLogger(__name__)

__all__ = ["FOLDS", "MAX_ROWS", "PROBES", "leakage_probe"]

#: Rows probed at most (a seeded subsample beyond).
MAX_ROWS = 3000
#: Cross-validation folds.
FOLDS = 3
#: Bootstrap replicates of the AUC interval.
N_BOOT = 200
#: The probes, by name.
PROBES = ("linear", "boosting")


def _probe(name: str, numeric: list[str], categorical: list[str], seed: int) -> Pipeline:
    numeric_part = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    if name == "linear":
        categorical_part = make_pipeline(
            OneHotEncoder(handle_unknown="ignore", min_frequency=5),
        )
        model: Any = LogisticRegression(max_iter=500)
    else:
        categorical_part = make_pipeline(
            OneHotEncoder(handle_unknown="ignore", min_frequency=5, sparse_output=False),
        )
        model = HistGradientBoostingClassifier(max_iter=60, random_state=seed)
    columns = ColumnTransformer(
        [("num", numeric_part, numeric), ("cat", categorical_part, categorical)],
        sparse_threshold=0.0 if name != "linear" else 0.3,
    )
    return Pipeline([("columns", columns), ("model", model)])


def _auc(codes: np.ndarray, scores: np.ndarray, weights: np.ndarray | None, n_classes: int) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if n_classes == 2:
                return float(roc_auc_score(codes, scores[:, 1], sample_weight=weights))
            return float(
                roc_auc_score(
                    codes, scores, multi_class="ovr", average="macro", sample_weight=weights,
                    labels=np.arange(n_classes),
                )
            )
        except ValueError:
            return float("nan")


def leakage_probe(
    frame: pd.DataFrame,
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
    groups: np.ndarray,
    sample_weight: np.ndarray | None = None,
    random_state: int = 0,
    max_rows: int = MAX_ROWS,
    folds: int = FOLDS,
    n_boot: int = N_BOOT,
) -> list[dict[str, Any]]:
    """Cross-validated AUC of each probe recovering ``groups`` from the feature columns.

    Parameters
    ----------
    frame : DataFrame
        The training set (real, reweighted, repaired or synthetic rows).
    numeric, categorical : sequence of str
        Feature columns the probe reads (the sensitive columns must not be among them).
    groups : array
        Each row's group.
    sample_weight : ndarray, optional
        The training set's weights.
    random_state : int, default 0
    max_rows, folds, n_boot : int
        Subsample size, folds and bootstrap replicates.

    Returns
    -------
    list of dict
        One per probe: ``probe``, ``auc``, ``low``, ``high``, ``n`` (rows probed), ``groups``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> g = rng.choice(["a", "b"], 600)
    >>> X = pd.DataFrame({"proxy": (g == "a") + rng.normal(0, 0.5, 600), "noise": rng.normal(size=600)})
    >>> out = leakage_probe(X, numeric=["proxy", "noise"], categorical=[], groups=g, n_boot=50)
    >>> [(e["probe"], e["auc"] > 0.8) for e in out]
    [('linear', True), ('boosting', True)]
    """
    rng = np.random.default_rng(random_state)
    labels = np.asarray(groups).astype(str)
    n = len(frame)
    take = np.sort(rng.choice(n, size=max_rows, replace=False)) if n > max_rows else np.arange(n)
    X = frame.iloc[take].reset_index(drop=True)[list(numeric) + list(categorical)].copy()
    for column in categorical:  # one text level for missing values (pd.NA is not sortable)
        X[column] = X[column].astype("string").fillna("(missing)").astype(str)
    for column in numeric:
        X[column] = pd.to_numeric(X[column], errors="coerce").astype(float)
    levels, codes = np.unique(labels[take], return_inverse=True)
    weights = None if sample_weight is None else np.asarray(sample_weight, float)[take]
    counts = np.bincount(codes, minlength=len(levels))
    entries = []
    for name in PROBES:
        entry: dict[str, Any] = {
            "probe": name, "auc": None, "low": None, "high": None, "n": int(len(take)),
            "groups": int(len(levels)),
        }
        n_folds = min(folds, int(counts.min())) if len(levels) >= 2 else 0
        if n_folds < 2 or X.shape[1] == 0:
            entries.append(entry)
            continue
        scores = np.zeros((len(take), len(levels)))
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=random_state)
        for fit_rows, score_rows in splitter.split(X, codes):
            probe = _probe(name, list(numeric), list(categorical), random_state)
            fit_weight = None if weights is None else weights[fit_rows]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                probe.fit(X.iloc[fit_rows], codes[fit_rows], model__sample_weight=fit_weight)
            proba = probe.predict_proba(X.iloc[score_rows])
            scores[np.ix_(score_rows, probe.classes_)] = proba
        totals = scores.sum(axis=1, keepdims=True)
        scores = np.divide(scores, totals, out=np.full_like(scores, 1.0 / len(levels)),
                           where=totals > 0)
        auc = _auc(codes, scores, weights, len(levels))
        reps = []
        boot = np.random.default_rng(random_state + 1)
        for _ in range(n_boot):
            rows = boot.integers(0, len(take), len(take))
            reps.append(
                _auc(codes[rows], scores[rows], None if weights is None else weights[rows],
                     len(levels))
            )
        low, high = percentile_interval(np.asarray(reps), estimate=auc) if n_boot else (auc, auc)
        entry.update(auc=auc, low=float(low), high=float(high))
        entries.append(entry)
    return entries
