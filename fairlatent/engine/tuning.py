"""Choosing a strategy's strength on validation rows: one stated objective.

For each classifier, every strength in the strategy's grid is scored on validation rows carved out of
the training rows (never the test rows). The objective is the **largest of the demographic-parity
and equalized-odds differences** (lower is fairer); a strength is admissible when its validation
accuracy is within the accuracy budget of the baseline's. The admissible strength with the lowest
objective wins (ties: higher accuracy, then the earlier, milder grid point); when none beats doing
nothing, the strategy stays off. So a tuned strategy is never worse than the baseline on validation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fairlatent.strategies.base import Strength

#: Two objectives closer than this count as a tie.
TIE = 1e-9


def objective(summary: Mapping[str, float]) -> float:
    """Return the selection objective: the larger of the DP and EO differences (NaN counts as 1).

    Examples
    --------
    >>> objective({"dp_difference": 0.12, "eo_difference": 0.05})
    0.12
    """
    values = [summary.get("dp_difference", math.nan), summary.get("eo_difference", math.nan)]
    return max(1.0 if not math.isfinite(v) else float(v) for v in values)


@dataclass
class Candidate:
    """One strength scored on validation rows for one classifier.

    Attributes
    ----------
    strength : Strength
    summary : dict
        Validation summary metrics (accuracy, DP/EO differences, ...).
    admissible : bool
        Validation accuracy within the budget of the baseline's.
    chosen : bool
        The strength the tuning picked.
    """

    strength: Strength
    summary: dict[str, float]
    admissible: bool = True
    chosen: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def objective(self) -> float:
        """See :func:`objective`."""
        return objective(self.summary)

    @property
    def accuracy(self) -> float:
        """Validation accuracy."""
        return float(self.summary.get("accuracy", math.nan))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        keys = ("accuracy", "dp_difference", "eo_difference", "eop_difference")
        return {
            "strength": self.strength.label,
            "params": dict(self.strength.params),
            "identity": self.strength.identity,
            **{k: self.summary.get(k) for k in keys},
            "objective": self.objective,
            "admissible": self.admissible,
            "chosen": self.chosen,
        }


def choose(
    candidates: Sequence[Candidate], *, baseline_accuracy: float, budget: float
) -> Candidate:
    """Mark and return the chosen candidate (see the module docstring).

    Parameters
    ----------
    candidates : sequence of Candidate
        Scored grid points, mildest first; at most one should be the identity.
    baseline_accuracy : float
        Validation accuracy of the classifier trained on the real rows.
    budget : float
        Largest admissible accuracy loss (0.015 = 1.5 points).

    Returns
    -------
    Candidate

    Examples
    --------
    >>> off = Candidate(Strength("off", identity=True), {"accuracy": 0.85,
    ...                 "dp_difference": 0.18, "eo_difference": 0.10})
    >>> mild = Candidate(Strength("0.5"), {"accuracy": 0.845, "dp_difference": 0.09,
    ...                  "eo_difference": 0.08})
    >>> strong = Candidate(Strength("1"), {"accuracy": 0.80, "dp_difference": 0.01,
    ...                    "eo_difference": 0.02})
    >>> choose([off, mild, strong], baseline_accuracy=0.85, budget=0.015).strength.label
    '0.5'
    """
    if not candidates:
        raise ValueError("no candidate to choose from")
    for candidate in candidates:
        candidate.admissible = candidate.strength.identity or (
            candidate.accuracy >= baseline_accuracy - budget - TIE
        )
        candidate.chosen = False
    admissible = [c for c in candidates if c.admissible] or [candidates[0]]
    best = admissible[0]
    for candidate in admissible[1:]:
        if candidate.objective < best.objective - TIE or (
            abs(candidate.objective - best.objective) <= TIE
            and candidate.accuracy > best.accuracy + TIE
        ):
            best = candidate
    identity = next((c for c in candidates if c.strength.identity), None)
    if identity is not None and not best.objective < identity.objective - TIE:
        best = identity
    best.chosen = True
    return best
