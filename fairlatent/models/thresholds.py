"""Randomised group-specific thresholds under fairness bounds: a small linear programme.

Given a classifier's scores on labelled rows, :func:`solve_group_thresholds` lets every group pick a
randomised mix of thresholds on the scores (any point of the convex hull of its ROC curve, Hardt et
al. 2016, extended to demographic parity), subject to bounds on the demographic-parity and
equalized-odds differences between every pair of groups, maximising accuracy.
:class:`GroupThresholds` applies such a solution to new scores. The audit uses the solver twice: to
price the fairness goal on test scores (:mod:`fairlatent.metrics.frontier`) and as the ``goal``
post-processing strategy, fitted on validation scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
from scipy.optimize import linprog

from fairlatent.policy import GOAL

__all__ = ["MIN_LABEL_SUPPORT", "GroupPooling", "GroupRule", "GroupThresholds",
           "ThresholdSolution", "majority_accuracy", "pool_thin_groups", "roc_points",
           "solve_group_thresholds"]

#: Fewest rows of each label (favourable and unfavourable) a group needs in the rows a
#: post-processor is fitted on to get thresholds of its own; thinner groups are pooled.
MIN_LABEL_SUPPORT = 5
#: Label of the pool of thin groups while a post-processor is fitted (never shown as a group).
POOLED_GROUPS = "\x00pooled thin groups"


@dataclass
class GroupPooling:
    """How a post-processor treats each group it is fitted on: its own rule, pooled, or none.

    Parameters
    ----------
    fitted : dict
        Group -> the label its rows are fitted under (itself, or :data:`POOLED_GROUPS` for the
        pool of thin groups).
    pooled : list of str
        Groups below support pooled together (they share one rule).
    passed_through : list of str
        Groups left out of the fit because even pooled they lack support (or nothing would be
        left to compare them with): their rows keep the classifier's own predictions.
    """

    fitted: dict[str, str] = field(default_factory=dict)
    pooled: list[str] = field(default_factory=list)
    passed_through: list[str] = field(default_factory=list)

    def labels(self, groups: np.ndarray) -> np.ndarray:
        """Fitting label of each row (``""`` for rows passed through)."""
        groups = np.asarray(groups).astype(str)
        return np.array([self.fitted.get(g, "") for g in groups], dtype=object)

    def describe(self) -> str:
        """One sentence for the log (empty when every group has its own rule)."""
        parts = []
        if self.pooled:
            parts.append("pooled " + ", ".join(map(repr, self.pooled)) + " (one shared rule)")
        if self.passed_through:
            parts.append(
                "left " + ", ".join(map(repr, self.passed_through))
                + " to the classifier's own predictions"
            )
        return "; ".join(parts)


def _supported(y: np.ndarray, min_support: int) -> bool:
    positives = int(np.count_nonzero(y == 1))
    return positives >= min_support and len(y) - positives >= min_support


def pool_thin_groups(
    y: Any, groups: Any, *, min_support: int = MIN_LABEL_SUPPORT
) -> GroupPooling:
    """Decide which groups get a rule of their own, which share one, and which get none.

    A group with at least ``min_support`` rows of each label keeps its own rule; the others are
    pooled into one group, which gets a rule if the pool has that support; otherwise (or when
    fewer than two fitted groups would remain) the thin groups are passed through.

    Parameters
    ----------
    y : array of {0, 1}
        Labels of the rows the post-processor is fitted on.
    groups : array of str
        Their groups.
    min_support : int, default MIN_LABEL_SUPPORT
        Fewest rows of each label a fitted group needs.

    Returns
    -------
    GroupPooling

    Examples
    --------
    >>> y = np.array([0, 1] * 10 + [0] * 6 + [1, 1, 1, 0])
    >>> g = np.array(["a"] * 10 + ["b"] * 10 + ["c"] * 6 + ["d"] * 4)
    >>> pooling = pool_thin_groups(y, g, min_support=2)
    >>> pooling.pooled, pooling.passed_through
    (['c', 'd'], [])
    >>> pool_thin_groups(y[:26], g[:26], min_support=2).passed_through
    ['c']
    """
    y = np.asarray(y, dtype=int)
    groups = np.asarray(groups).astype(str)
    labels = sorted(set(groups.tolist()))
    strong = [g for g in labels if _supported(y[groups == g], min_support)]
    thin = [g for g in labels if g not in strong]
    pooling = GroupPooling(fitted={g: g for g in strong})
    if thin and _supported(y[np.isin(groups, thin)], min_support) and strong:
        pooling.pooled = thin
        pooling.fitted.update(dict.fromkeys(thin, POOLED_GROUPS))
    else:
        pooling.passed_through = thin
    if len(set(pooling.fitted.values())) < 2:  # nothing to equalise: leave every group alone
        pooling.passed_through = labels
        pooling.pooled = []
        pooling.fitted = {}
    return pooling


def majority_accuracy(y: Any) -> float:
    """Accuracy of always predicting the more frequent label (0 for no rows).

    Examples
    --------
    >>> majority_accuracy(np.array([1, 0, 0, 0]))
    0.75
    """
    y = np.asarray(y, dtype=int)
    if len(y) == 0:
        return 0.0
    share = float(np.mean(y))
    return max(share, 1.0 - share)


def roc_points(scores: np.ndarray, y: np.ndarray, n_thresholds: int) -> tuple[np.ndarray, np.ndarray]:
    """(TPR, FPR, selection rate) at thresholds on score quantiles, including all and none selected.

    Parameters
    ----------
    scores : ndarray of float
        Scores of one group's rows.
    y : ndarray of {0, 1}
        Their labels.
    n_thresholds : int
        Quantiles of the scores tried as thresholds.

    Returns
    -------
    points : ndarray of shape (n_cuts, 3)
        TPR, FPR and selection rate of the rule ``score >= cut`` for each cut.
    cuts : ndarray of shape (n_cuts,)
        The cuts, from ``-inf`` (everyone selected) to ``+inf`` (no one).

    Examples
    --------
    >>> points, cuts = roc_points(np.array([0.2, 0.8]), np.array([0, 1]), 2)
    >>> points[0].tolist(), points[-1].tolist()
    ([1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    """
    cuts = np.unique(np.quantile(scores, np.linspace(0, 1, n_thresholds)))
    cuts = np.concatenate([[-np.inf], cuts, [np.inf]])
    positives = max(int(y.sum()), 1)
    negatives = max(int((1 - y).sum()), 1)
    points = []
    for cut in cuts:
        pred = scores >= cut
        points.append((pred[y == 1].sum() / positives, pred[y == 0].sum() / negatives, pred.mean()))
    return np.array(points), cuts


@dataclass
class GroupRule:
    """One group's randomised threshold rule.

    Parameters
    ----------
    cuts : ndarray
        Candidate thresholds (a row is selected when its score is at least the cut).
    mix : ndarray
        Probability of each cut (sums to 1).
    tpr, fpr, selection_rate : float
        The rule's rates on the rows it was fitted on.
    """

    cuts: np.ndarray
    mix: np.ndarray
    tpr: float
    fpr: float
    selection_rate: float


@dataclass
class ThresholdSolution:
    """What :func:`solve_group_thresholds` found.

    Parameters
    ----------
    feasible : bool
        The bounded programme was solved.
    accuracy : float or None
        Best accuracy under the bounds (``None`` when not feasible).
    unconstrained_accuracy : float or None
        Best accuracy with free group thresholds.
    dp_max, eo_max : float
        The bounds the programme was solved under.
    groups : dict
        Group label -> :class:`GroupRule` of the bounded optimum (empty when not feasible).
    """

    feasible: bool
    accuracy: float | None
    unconstrained_accuracy: float | None
    dp_max: float
    eo_max: float
    groups: dict[str, GroupRule] = field(default_factory=dict)


def solve_group_thresholds(
    scores: np.ndarray,
    y_true: np.ndarray,
    groups: np.ndarray,
    *,
    dp_max: float = GOAL.dp_difference,
    eo_max: float = GOAL.eo_difference,
    n_thresholds: int = 60,
) -> ThresholdSolution:
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
        Largest allowed demographic-parity and equalized-odds differences between any two groups.
    n_thresholds : int, default 60
        Candidate thresholds per group (score quantiles).

    Returns
    -------
    ThresholdSolution

    Notes
    -----
    A group with no favourable rows has no TPR (and one with no unfavourable rows no FPR): the
    equalized-odds bounds on that rate are left out for the pairs it is in.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 400); g = np.repeat(["a", "b"], 200)
    >>> solution = solve_group_thresholds(y + rng.normal(0, 0.5, 400), y, g)
    >>> solution.feasible, sorted(solution.groups)
    (True, ['a', 'b'])
    """
    scores = np.asarray(scores, dtype=float)
    y_true = np.asarray(y_true, dtype=int)
    groups = np.asarray(groups).astype(str)
    labels = sorted(set(groups))
    n = len(y_true)
    blocks, cut_sets, weights = [], [], []
    for label in labels:
        mask = groups == label
        points, cuts = roc_points(scores[mask], y_true[mask], n_thresholds)
        blocks.append(points)
        cut_sets.append(cuts)
        weights.append((mask.sum() / n, y_true[mask].mean()))
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in blocks])])
    n_vars = int(offsets[-1])
    # accuracy of group g at point k: share * (base * TPR + (1 - base) * (1 - FPR)); maximise it
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
    counts = [
        (int(y_true[groups == label].sum()), int((1 - y_true[groups == label]).sum()))
        for label in labels
    ]
    for g, h in combinations(range(len(labels)), 2):
        for column, limit in ((2, dp_max), (0, eo_max), (1, eo_max)):
            # a TPR (FPR) is undefined for a group without favourable (unfavourable) rows:
            # bounding it would pin the other groups to the meaningless 0 of roc_points
            if column < 2 and (not counts[g][column] or not counts[h][column]):
                continue
            row = np.zeros(n_vars)
            row[offsets[g] : offsets[g + 1]] = blocks[g][:, column]
            row[offsets[h] : offsets[h + 1]] = -blocks[h][:, column]
            rows += [row, -row]
            bounds += [limit, limit]
    result = linprog(
        cost,
        A_ub=np.array(rows) if rows else None,
        b_ub=np.array(bounds) if bounds else None,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=(0, 1),
        method="highs",
    )
    solution = ThresholdSolution(
        feasible=bool(result.success),
        accuracy=float(constant - result.fun) if result.success else None,
        unconstrained_accuracy=float(constant - unconstrained.fun)
        if unconstrained.success
        else None,
        dp_max=dp_max,
        eo_max=eo_max,
    )
    if result.success:
        for g, label in enumerate(labels):
            mix = np.clip(result.x[offsets[g] : offsets[g + 1]], 0.0, None)
            tpr, fpr, sel = result.x[offsets[g] : offsets[g + 1]] @ blocks[g]
            solution.groups[str(label)] = GroupRule(
                cuts=cut_sets[g], mix=mix / mix.sum(), tpr=float(tpr), fpr=float(fpr),
                selection_rate=float(sel),
            )
    return solution


class GroupThresholds:
    """Randomised group-specific thresholds fitted under DP and EO bounds, applied to new scores.

    Parameters
    ----------
    dp_max, eo_max : float, default 0.04 and 0.08
        Bounds on the demographic-parity and equalized-odds differences on the fitted rows.
    n_thresholds : int, default 60
        Candidate thresholds per group.
    default_cut : float, default 0.5
        Threshold for groups not seen in :meth:`fit`.

    Attributes
    ----------
    solution_ : ThresholdSolution
        The fitted programme.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(["a", "b"], 500); y = rng.random(1000) < np.where(g == "a", 0.6, 0.2)
    >>> scores = np.clip(y * 0.4 + (g == "a") * 0.2 + rng.normal(0.2, 0.15, 1000), 0, 1)
    >>> rule = GroupThresholds(dp_max=0.05, eo_max=1.0).fit(scores, y, g)
    >>> pred = rule.predict(scores, g, random_state=0)
    >>> bool(abs(pred[g == "a"].mean() - pred[g == "b"].mean()) < 0.1)
    True
    """

    def __init__(
        self,
        *,
        dp_max: float = GOAL.dp_difference,
        eo_max: float = GOAL.eo_difference,
        n_thresholds: int = 60,
        default_cut: float = 0.5,
    ) -> None:
        self.dp_max = dp_max
        self.eo_max = eo_max
        self.n_thresholds = n_thresholds
        self.default_cut = default_cut

    def fit(self, scores: Any, y_true: Any, groups: Any) -> GroupThresholds:
        """Solve the programme on labelled scores.

        Parameters
        ----------
        scores : array of float
        y_true : array of {0, 1}
        groups : array of str

        Returns
        -------
        self
        """
        self.solution_ = solve_group_thresholds(
            scores, y_true, groups, dp_max=self.dp_max, eo_max=self.eo_max,
            n_thresholds=self.n_thresholds,
        )
        return self

    def predict(self, scores: Any, groups: Any, random_state: int = 0) -> np.ndarray:
        """0/1 decisions: each row draws one cut of its group's mix (seeded) and compares.

        Parameters
        ----------
        scores : array of float
        groups : array of str
        random_state : int, default 0
            Seed of the draws (same seed, same decisions).

        Returns
        -------
        ndarray of int
        """
        scores = np.asarray(scores, dtype=float)
        groups = np.asarray(groups).astype(str)
        rng = np.random.default_rng(random_state)
        pick = rng.random(len(scores))
        cut = np.full(len(scores), float(self.default_cut))
        for label, rule in self.solution_.groups.items():
            rows = groups == label
            index = np.searchsorted(np.cumsum(rule.mix), pick[rows], side="right")
            cut[rows] = rule.cuts[np.minimum(index, len(rule.cuts) - 1)]
        return (scores >= cut).astype(int)

    def selection_probability(self, scores: Any, groups: Any) -> np.ndarray:
        """Probability that each row is selected under its group's randomised rule.

        Parameters
        ----------
        scores : array of float
        groups : array of str

        Returns
        -------
        ndarray of float
        """
        scores = np.asarray(scores, dtype=float)
        groups = np.asarray(groups).astype(str)
        out = (scores >= self.default_cut).astype(float)
        for label, rule in self.solution_.groups.items():
            rows = groups == label
            out[rows] = (scores[rows, None] >= rule.cuts[None, :]).astype(float) @ rule.mix
        return out
