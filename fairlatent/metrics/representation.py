"""The latent representation audit: who lives in the sparse regions of the VAE's latent space.

:func:`representation_audit` takes the fitted latent model of the ``vae`` strategy (a VAE plus a
latent density fitted on the training rows) and the real held-out test rows, and measures

* a 2-D PCA map of the test rows' latent means, with density contours of the training rows;
* each group's share of the rarest 10% and 20% of test rows against its share overall;
* every classifier's error rate per rarity decile, for each strategy;
* the rarest regions in words: the rarest 10% of test rows are clustered (KMeans on the latent
  means) and each cluster is described by the feature values that set it apart
  (:func:`~fairlatent.metrics.describe.describe_rows`, re-exported here);
* which groups dominate the top 5% of reconstruction errors (rows the VAE cannot model);
* the VAE's training curves.

Everything returned is plain JSON (dicts, lists, str, float, int, None).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import pandas as pd

from fairlatent.exceptions import DataError, SchemaError
from fairlatent.metrics.describe import describe_rows

logger = logging.getLogger(__name__)

__all__ = ["LatentModelLike", "describe_rows", "representation_audit"]

#: Most test points drawn on the latent map.
MAX_MAP_POINTS = 3000
#: Most training points the contour KDE is fitted on.
MAX_KDE_POINTS = 2000
#: Grid points per axis of the contour map.
GRID_SIZE = 40
#: Shares of the rarest test rows whose group composition is reported.
RARE_SHARES = (0.1, 0.2)
#: Share of test rows with the largest reconstruction errors.
RECON_TOP_SHARE = 0.05
#: Rarity deciles.
N_DECILES = 10

ERR_NO_ROWS = "the {name} frame has no rows; the representation audit needs rows to encode"
ERR_COLUMN = "column {column!r} is missing from the {name} frame (columns: {columns})"
ERR_PREDICTIONS = (
    "predictions for {key} hold {found} values but the test frame has {expected} rows; pass "
    "one prediction per test row"
)


class LatentModelLike(Protocol):
    """What :func:`representation_audit` needs from a latent model (see ``LatentModel``)."""

    columns: list[str]
    vae: Any
    density: Any

    def encode(self, X: pd.DataFrame, y: Any) -> np.ndarray:
        """Latent means of the rows."""

    def reconstruction_error(self, X: pd.DataFrame, y: Any) -> np.ndarray:
        """Per-row reconstruction error."""


def _f(value: Any, digits: int | None = None) -> float | None:
    """Return a JSON float (``None`` for NaN/inf), optionally rounded."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(x):
        return None
    return round(x, digits) if digits is not None else x


def _check_inputs(
    latent_model: Any,
    train: pd.DataFrame,
    test: pd.DataFrame,
    target: str,
    group_column: str,
    predictions: Mapping[tuple[str, str], Any],
) -> None:
    for name, frame in (("train", train), ("test", test)):
        if len(frame) == 0:
            raise DataError(ERR_NO_ROWS.format(name=name))
        for column in [*latent_model.columns, target, group_column]:
            if column not in frame.columns:
                raise SchemaError(ERR_COLUMN.format(column=column, name=name,
                                                    columns=list(frame.columns)))
    for key, y_pred in predictions.items():
        if len(y_pred) != len(test):
            raise DataError(ERR_PREDICTIONS.format(key=key, found=len(y_pred), expected=len(test)))


def representation_audit(
    latent_model: LatentModelLike,
    *,
    train: pd.DataFrame,
    test: pd.DataFrame,
    target: str,
    group_column: str,
    predictions: Mapping[tuple[str, str], Any],
    random_state: int = 0,
    n_clusters: int = 4,
) -> dict[str, Any]:
    """Audit which groups the latent space treats as rare, and how classifiers fare there.

    Parameters
    ----------
    latent_model : LatentModel
        Fitted VAE and latent density (``artifacts["latent_model"]`` of the ``vae`` strategy).
    train, test : DataFrame
        Real training rows (the VAE was fitted on them) and held-out test rows.
    target : str
        The 0/1 target column.
    group_column : str
        Column with each row's group label.
    predictions : mapping
        ``(strategy, classifier) -> predicted labels`` of the test rows, in test-row order.
    random_state : int, default 0
        Seed of the map subsample, tie-breaking, the KDE subsample and KMeans.
    n_clusters : int, default 4
        Clusters the rarest 10% of test rows are split into (fewer when there are few rows).

    Returns
    -------
    dict
        JSON-serialisable; keys ``n_test``, ``latent_dim``, ``map``, ``rare_groups``,
        ``error_by_decile``, ``rare_regions``, ``reconstruction``, ``training`` (see the module
        docstring).

    Examples
    --------
    >>> rep = representation_audit(model, train=train, test=test, target="income",
    ...                            group_column="_fl_group",
    ...                            predictions={("none", "logreg"): y_pred})  # doctest: +SKIP
    >>> rep["rare_groups"]["groups"][0]["share_rarest_10"]  # doctest: +SKIP
    """
    _check_inputs(latent_model, train, test, target, group_column, predictions)
    rng = np.random.default_rng(random_state)
    z_train = np.asarray(latent_model.encode(train, train[target]), dtype=float)
    z_test = np.asarray(latent_model.encode(test, test[target]), dtype=float)
    log_d = np.asarray(latent_model.density.log_density(z_test), dtype=float)
    rarity = np.asarray(latent_model.density.rarity(z_test), dtype=float)
    groups = test[group_column].astype(object).astype(str).to_numpy()
    y_true = test[target].to_numpy(dtype=int)
    n = len(test)
    # rank from rarest to most common; ties (frequent with histograms) broken at random, seeded
    rarest_first = np.lexsort((rng.random(n), log_d))
    position = np.empty(n, dtype=int)
    position[rarest_first] = np.arange(n)

    errors = {key: np.asarray(pred).astype(int) != y_true for key, pred in predictions.items()}
    strategies = list(dict.fromkeys(k[0] for k in predictions))
    baseline = "none" if "none" in strategies else (strategies[0] if strategies else None)

    result = {
        "n_test": int(n),
        "n_train": int(len(train)),
        "latent_dim": int(z_test.shape[1]),
        "density": type(latent_model.density).__name__,
        "baseline_strategy": baseline,
        "map": _latent_map(z_train, z_test, groups, rarity, rng),
        "rare_groups": _rare_groups(groups, position, rarity),
        "error_by_decile": _error_by_decile(position, y_true, rarity, errors),
        "rare_regions": _rare_regions(
            test, z_test, rarest_first, list(latent_model.columns) + [target], errors,
            groups, baseline, n_clusters, random_state,
        ),
        "reconstruction": _reconstruction(latent_model, test, target, groups, rng),
        "training": _training(latent_model.vae),
    }
    logger.info("representation audit of %d test rows done", n)
    return result


def _latent_map(
    z_train: np.ndarray,
    z_test: np.ndarray,
    groups: np.ndarray,
    rarity: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """PCA of the latent means (fitted on train), a test subsample, and KDE contours of train."""
    from sklearn.decomposition import PCA

    k = min(2, z_train.shape[1], len(z_train))
    pca = PCA(n_components=k).fit(z_train)

    def project(z: np.ndarray) -> np.ndarray:
        p = pca.transform(z)
        return p if k == 2 else np.column_stack([p, np.zeros((len(p), 2 - k))])

    train_2d, test_2d = project(z_train), project(z_test)
    n = len(z_test)
    chosen = np.sort(rng.choice(n, size=MAX_MAP_POINTS, replace=False)) if n > MAX_MAP_POINTS \
        else np.arange(n)
    explained = list(pca.explained_variance_ratio_) + [0.0] * (2 - k)
    return {
        "x": [_f(v, 4) for v in test_2d[chosen, 0]],
        "y": [_f(v, 4) for v in test_2d[chosen, 1]],
        "group": [str(g) for g in groups[chosen]],
        "rarity": [_f(v, 3) for v in rarity[chosen]],
        "n_points": int(len(chosen)),
        "subsampled": bool(n > MAX_MAP_POINTS),
        "explained_variance": [_f(v, 4) for v in explained],
        "contour": _kde_grid(train_2d, test_2d, rng),
    }


def _kde_grid(train_2d: np.ndarray, test_2d: np.ndarray, rng: np.random.Generator) -> dict | None:
    """Gaussian KDE of the training points on a grid (values scaled to max 1), or None."""
    from scipy.stats import gaussian_kde

    points = train_2d
    if len(points) > MAX_KDE_POINTS:
        points = points[rng.choice(len(points), size=MAX_KDE_POINTS, replace=False)]
    both = np.vstack([train_2d, test_2d])
    low = np.quantile(both, 0.005, axis=0)
    high = np.quantile(both, 0.995, axis=0)
    pad = 0.1 * np.maximum(high - low, 1e-6)
    low, high = low - pad, high + pad
    gx = np.linspace(low[0], high[0], GRID_SIZE)
    gy = np.linspace(low[1], high[1], GRID_SIZE)
    try:
        kde = gaussian_kde(points.T)
        xx, yy = np.meshgrid(gx, gy)
        values = kde(np.vstack([xx.ravel(), yy.ravel()])).reshape(xx.shape)
    except (np.linalg.LinAlgError, ValueError):  # singular (e.g. 1-D latent space)
        logger.debug("latent map: KDE not possible, contours left out")
        return None
    values = values / values.max() if values.max() > 0 else values
    return {"x": [_f(v, 4) for v in gx], "y": [_f(v, 4) for v in gy],
            "density": [[_f(v, 4) for v in row] for row in values]}


def _rare_groups(groups: np.ndarray, position: np.ndarray, rarity: np.ndarray) -> dict[str, Any]:
    """Each group's share overall and among the rarest 10% / 20% of test rows."""
    n = len(groups)
    names, counts = np.unique(groups, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    table = []
    for i in order:
        name = names[i]
        member = groups == name
        row: dict[str, Any] = {"group": str(name), "rows": int(counts[i]), "share_overall": _f(counts[i] / n),
               "mean_rarity": _f(rarity[member].mean())}
        for share in RARE_SHARES:
            top = position < max(1, math.ceil(share * n))
            label = f"share_rarest_{round(share * 100)}"
            row[label] = _f(np.sum(member & top) / np.sum(top))
            row[f"ratio_rarest_{round(share * 100)}"] = _f(row[label] / row["share_overall"])
        table.append(row)
    return {"shares": [round(s * 100) for s in RARE_SHARES], "groups": table}


def _error_by_decile(
    position: np.ndarray,
    y_true: np.ndarray,
    rarity: np.ndarray,
    errors: Mapping[tuple[str, str], np.ndarray],
) -> dict[str, Any]:
    """Error rate per rarity decile (1 = most common tenth of the test rows, 10 = rarest)."""
    n = len(position)
    decile = N_DECILES - np.minimum(position * N_DECILES // n, N_DECILES - 1)
    rows, base_rate, mean_rarity = [], [], []
    for d in range(1, N_DECILES + 1):
        member = decile == d
        rows.append(int(member.sum()))
        base_rate.append(_f(y_true[member].mean()) if member.any() else None)
        mean_rarity.append(_f(rarity[member].mean()) if member.any() else None)
    series = []
    for (strategy, classifier), wrong in errors.items():
        per = [_f(wrong[decile == d].mean()) if np.any(decile == d) else None
               for d in range(1, N_DECILES + 1)]
        rare = position < max(1, math.ceil(0.1 * n))
        series.append({"strategy": str(strategy), "classifier": str(classifier), "error": per,
                       "overall": _f(wrong.mean()), "rarest_10": _f(wrong[rare].mean()),
                       "rest": _f(wrong[~rare].mean()) if (~rare).any() else None})
    return {"deciles": list(range(1, N_DECILES + 1)), "rows": rows, "base_rate": base_rate,
            "mean_rarity": mean_rarity, "series": series}


def _rare_regions(
    test: pd.DataFrame,
    z_test: np.ndarray,
    rarest_first: np.ndarray,
    columns: list[str],
    errors: Mapping[tuple[str, str], np.ndarray],
    groups: np.ndarray,
    baseline: str | None,
    n_clusters: int,
    random_state: int,
) -> dict[str, Any]:
    """KMeans clusters of the rarest 10% of test rows, each described in words."""
    from sklearn.cluster import KMeans

    n = len(test)
    n_rare = max(1, math.ceil(0.1 * n))
    rare = rarest_first[:n_rare]
    k = int(max(1, min(n_clusters, n_rare // 10)))
    if k > 1:
        labels = KMeans(n_clusters=k, n_init=4, random_state=random_state).fit_predict(z_test[rare])
    else:
        labels = np.zeros(n_rare, dtype=int)
    clusters: list[dict[str, Any]] = []
    for c in range(k):
        rows = rare[labels == c]
        if len(rows) == 0:
            continue
        terms = describe_rows(test.iloc[rows], test, columns)
        conditions = [t["text"] for t in terms] or ["mixed profile (no single feature stands out)"]
        errs: list[dict[str, Any]] = [{"strategy": str(s), "classifier": str(clf), "error": _f(w[rows].mean())}
                for (s, clf), w in errors.items()]
        base_errs = [e for e in errs if e["strategy"] == baseline and e["error"] is not None]
        base = [e["error"] for e in base_errs]
        share = len(rows) / n
        description = f"{', '.join(conditions)}: {share:.1%} of rows"
        if base_errs:
            description += ", baseline error " + ", ".join(
                f"{e['error']:.0%} ({e['classifier']})" for e in base_errs
            )
        g_names, g_counts = np.unique(groups[rows], return_counts=True)
        clusters.append({
            "cluster": int(c),
            "rows": int(len(rows)),
            "share_of_test": _f(share),
            "conditions": conditions,
            "terms": [{k2: (_f(v) if isinstance(v, float) else v) for k2, v in t.items()}
                      for t in terms],
            "description": description,
            "groups": {str(g): _f(cnt / len(rows)) for g, cnt in zip(g_names, g_counts,
                                                                       strict=True)},
            "errors": errs,
            "baseline_error": _f(np.mean(base)) if base else None,  # mean over classifiers
        })
    clusters.sort(key=lambda c: -c["rows"])
    return {"rare_share": _f(n_rare / n), "n_rare": int(n_rare), "clusters": clusters}


def _reconstruction(
    latent_model: LatentModelLike,
    test: pd.DataFrame,
    target: str,
    groups: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """Each group's share among the top 5% reconstruction errors of the test rows."""
    err = np.asarray(latent_model.reconstruction_error(test, test[target]), dtype=float)
    n = len(err)
    n_top = max(1, math.ceil(RECON_TOP_SHARE * n))
    top_rows = np.lexsort((rng.random(n), -err))[:n_top]
    top = np.zeros(n, dtype=bool)
    top[top_rows] = True
    names, counts = np.unique(groups, return_counts=True)
    table = []
    for i in np.argsort(-counts, kind="stable"):
        member = groups == names[i]
        share_top = np.sum(member & top) / n_top
        table.append({
            "group": str(names[i]),
            "share_overall": _f(counts[i] / n),
            "share_top": _f(share_top),
            "ratio": _f(share_top / (counts[i] / n)),
            "mean_error": _f(err[member].mean()),
            "median_error": _f(np.median(err[member])),
        })
    return {"top_share": RECON_TOP_SHARE, "threshold": _f(np.min(err[top_rows])),
            "mean_error": _f(err.mean()), "groups": table}


def _training(vae: Any) -> dict[str, Any]:
    """Collect the VAE's per-epoch losses."""
    history = list(getattr(vae, "history_", []) or [])
    return {
        "epoch": [int(h.get("epoch", i + 1)) for i, h in enumerate(history)],
        "train_loss": [_f(h.get("train_loss")) for h in history],
        "val_loss": [_f(h.get("val_loss")) for h in history],
        "recon": [_f(h.get("recon")) for h in history],
        "kl": [_f(h.get("kl")) for h in history],
        "best_epoch": int(getattr(vae, "best_epoch_", len(history)) or 0),
    }
