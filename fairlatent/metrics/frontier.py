"""The price of a fairness goal: the best accuracy any group-aware thresholding could reach.

Given a classifier's scores on labelled rows, :func:`goal_frontier` solves a small linear programme
(Hardt et al. 2016, extended to demographic parity; the solver is
:func:`fairlatent.models.thresholds.solve_group_thresholds`): every group picks a randomised mix of
thresholds on the scores (any point of its ROC curve's convex hull), subject to the goal's bounds on
the demographic-parity and equalized-odds differences between every pair of groups, maximising
accuracy.
Computed on the evaluation rows themselves, it is an *optimistic* bound: no post-processing of these
scores can do better on these rows, and a pre-processing strategy that meets the goal with a smaller
accuracy loss would have to find a better score function, not just rebalance the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fairlatent.models.thresholds import solve_group_thresholds


def goal_frontier(
    scores: np.ndarray, y_true: np.ndarray, groups: np.ndarray, **options: Any
) -> dict[str, Any]:
    """Best accuracy of randomised group-specific thresholds that meet DP and EO bounds.

    Parameters
    ----------
    scores, y_true, groups
        The classifier's scores, true labels and group of each row.
    **options
        ``dp_max``, ``eo_max`` (the bounds; by default the goal's, :data:`fairlatent.policy.GOAL`)
        and ``n_thresholds`` (the candidate thresholds), as in
        :func:`~fairlatent.models.thresholds.solve_group_thresholds`.

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
    solution = solve_group_thresholds(scores, y_true, groups, **options)
    return {
        "dp_max": solution.dp_max,
        "eo_max": solution.eo_max,
        "feasible": solution.feasible,
        "unconstrained_accuracy": solution.unconstrained_accuracy,
        "accuracy": solution.accuracy,
        "groups": {
            label: {"tpr": rule.tpr, "fpr": rule.fpr, "selection_rate": rule.selection_rate}
            for label, rule in solution.groups.items()
        },
    }
