"""The price of a fairness goal: the best accuracy any group-aware thresholding could reach.

Given a classifier's scores on labelled rows, :func:`goal_frontier` solves a small linear programme
(Hardt et al. 2016, extended to demographic parity): every group picks a randomised mix of thresholds on
the scores (any point of its ROC curve's convex hull), subject to the goal's bounds on the
demographic-parity and equalized-odds differences between every pair of groups, maximising accuracy.
Computed on the evaluation rows themselves, it is an *optimistic* bound: no post-processing of these
scores can do better on these rows, and a pre-processing strategy that meets the goal with a smaller
accuracy loss would have to find a better score function, not just rebalance the data.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
from scipy.optimize import linprog


def _roc_points(scores: np.ndarray, y: np.ndarray, n_thresholds: int) -> np.ndarray:
    """(TPR, FPR, selection rate) for thresholds at score quantiles, including all/none selected."""
    cuts = np.unique(np.quantile(scores, np.linspace(0, 1, n_thresholds)))
    cuts = np.concatenate([[-np.inf], cuts, [np.inf]])
    positives = max(int(y.sum()), 1)
    negatives = max(int((1 - y).sum()), 1)
    points = []
    for cut in cuts:
        pred = scores >= cut
        points.append((pred[y == 1].sum() / positives, pred[y == 0].sum() / negatives, pred.mean()))
    return np.array(points)


def goal_frontier(
    scores: np.ndarray,
    y_true: np.ndarray,
    groups: np.ndarray,
    *,
    dp_max: float = 0.04,
    eo_max: float = 0.08,
    n_thresholds: int = 60,
) -> dict[str, Any]:
    """Best accuracy of randomised group-specific thresholds that meet DP and EO bounds.

    Parameters
    ----------
    scores : array of float
        Classifier scores (e.g. predicted probabilities of the favourable label).
    y_true : array of {0, 1}
        True labels.
    groups : array of str
        Group label of each row.
    dp_max, eo_max : float
        Largest allowed demographic-parity and equalized-odds differences.
    n_thresholds : int, default 60
        Candidate thresholds per group (score quantiles).

    Returns
    -------
    dict
        ``feasible``, ``accuracy`` (best reachable under the bounds), ``unconstrained_accuracy``
        (best reachable with free group thresholds), and per group ``tpr``, ``fpr``,
        ``selection_rate`` of the optimum.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 400); g = np.repeat(["a", "b"], 200)
    >>> out = goal_frontier(y + rng.normal(0, 0.5, 400), y, g)
    >>> out["feasible"]
    True
    """
    scores = np.asarray(scores, dtype=float)
    y_true = np.asarray(y_true, dtype=int)
    groups = np.asarray(groups).astype(str)
    labels = sorted(set(groups))
    n = len(y_true)
    blocks, weights = [], []
    for label in labels:
        mask = groups == label
        blocks.append(_roc_points(scores[mask], y_true[mask], n_thresholds))
        share, base = mask.sum() / n, y_true[mask].mean()
        weights.append((share, base))
    sizes = [len(b) for b in blocks]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    n_vars = int(offsets[-1])
    # accuracy of group g at point k: share * (base * TPR + (1 - base) * (1 - FPR)); maximise -> minimise -acc
    cost = np.zeros(n_vars)
    constant = 0.0
    for g, (block, (share, base)) in enumerate(zip(blocks, weights, strict=True)):
        cost[offsets[g] : offsets[g + 1]] = -share * (base * block[:, 0] - (1 - base) * block[:, 1])
        constant += share * (1 - base)
    a_eq = np.zeros((len(labels), n_vars))
    for g in range(len(labels)):
        a_eq[g, offsets[g] : offsets[g + 1]] = 1.0
    b_eq = np.ones(len(labels))
    unconstrained = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=(0, 1), method="highs")
    rows, bounds = [], []
    for g, h in combinations(range(len(labels)), 2):
        for column, limit in ((2, dp_max), (0, eo_max), (1, eo_max)):
            row = np.zeros(n_vars)
            row[offsets[g] : offsets[g + 1]] = blocks[g][:, column]
            row[offsets[h] : offsets[h + 1]] = -blocks[h][:, column]
            rows += [row, -row]
            bounds += [limit, limit]
    result = linprog(
        cost,
        A_ub=np.array(rows),
        b_ub=np.array(bounds),
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=(0, 1),
        method="highs",
    )
    out: dict[str, Any] = {
        "dp_max": dp_max,
        "eo_max": eo_max,
        "feasible": bool(result.success),
        "unconstrained_accuracy": float(constant - unconstrained.fun)
        if unconstrained.success
        else None,
        "accuracy": None,
        "groups": {},
    }
    if result.success:
        out["accuracy"] = float(constant - result.fun)
        for g, label in enumerate(labels):
            mix = result.x[offsets[g] : offsets[g + 1]]
            tpr, fpr, sel = mix @ blocks[g]
            out["groups"][label] = {
                "tpr": float(tpr),
                "fpr": float(fpr),
                "selection_rate": float(sel),
            }
    return out
