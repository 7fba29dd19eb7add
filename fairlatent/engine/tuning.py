"""Choosing a strategy's strength on validation rows: one stated objective.

For each classifier, every strength in the strategy's grid is scored on validation rows carved out of
the training rows (never the test rows). The objective is the **largest of the demographic-parity
and equalized-odds differences** (lower is fairer); a strength is admissible when its validation
accuracy is within the accuracy budget of the baseline's. The admissible strength with the lowest
objective wins (ties: higher accuracy, then the earlier, milder grid point); when none beats doing
nothing, the strategy stays off. So a tuned strategy is never worse than the baseline on validation.

The rule itself is :func:`fairlatent.results.selection.select` (do no harm, worst case over the
setups a candidate was scored in): a data strategy's candidates are scored for the audited
classifier with the sensitive column used *and* not used (``setups = "both"``), and a candidate that
widens the DP or EO difference beyond noise in either setup (a paired bootstrap on the validation
rows) is refused. ``debias`` and the audit's recommendation use the same function.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fairlatent.results.selection import TIE, Option, SetupFigures, objective, select
from fairlatent.strategies.base import Strength

__all__ = ["TIE", "Candidate", "Option", "SetupFigures", "choose", "objective", "select"]


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
    setups : list of SetupFigures
        The candidate's figures in every setup it was scored in (empty: only the audited one,
        described by ``summary``).
    refused : list of str
        Why the rule refused it (set by :func:`choose`).
    """

    strength: Strength
    summary: dict[str, float]
    admissible: bool = True
    chosen: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    setups: list[SetupFigures] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

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
            "setups": [f.to_dict() for f in self.setups],
            "refused": list(self.refused),
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
    identity = next((c for c in candidates if c.strength.identity), None)
    base_objective = identity.objective if identity is not None else math.nan
    options = []
    for candidate in candidates:
        setups = candidate.setups or [
            SetupFigures(
                "validation rows", candidate.accuracy, candidate.objective, baseline_accuracy,
                base_objective,
            )
        ]
        options.append(
            Option(
                candidate.strength.label,
                setups,
                budget,
                identity=candidate.strength.identity,
                payload=candidate,
            )
        )
    best = select(options)
    for option in options:
        candidate = option.payload
        candidate.admissible = option.admissible
        candidate.refused = list(option.refused)
        candidate.chosen = option is best
    chosen: Candidate = best.payload
    return chosen
