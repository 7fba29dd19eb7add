"""Do no harm, worst case over the user's setups: the one rule that picks a strength or a strategy.

A *setup* is one downstream fit: a classifier, with the sensitive column used as a feature or not.
An *option* (a strategy at a strength, or doing nothing) is scored on validation rows for every setup
of the family the user may train: its accuracy and objective (the larger of the DP and EO
differences), the same figures of doing nothing in that setup, and whether a paired bootstrap on the
validation rows says it **widens** the DP or EO difference beyond noise there (groups judged only with
enough favourable and unfavourable rows; :func:`fairlatent.metrics.harm.gap_change`).

An option is *admissible* when, in every setup, its accuracy is within the budget of doing nothing
and it widens neither gap. Among admissible options the one whose **worst setup's objective** is
lowest wins (ties: the higher worst-setup accuracy, then the earlier, milder option); it must beat
doing nothing's worst objective, or nothing is done. :func:`select` is used by the strength tuning
(:func:`fairlatent.engine.tuning.choose`), by ``debias`` and by the audit's recommendation.

It lives in :mod:`fairlatent.results` (the decisions layer) so the recommendation, which sits below
the engine, can call it; :mod:`fairlatent.engine.tuning` re-exports it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TIE", "Option", "SetupFigures", "objective", "select", "setup_label"]

#: Two objectives closer than this count as a tie.
TIE = 1e-9
#: The gaps the do-no-harm rule watches.
WATCHED = ("dp_difference", "eo_difference")


def objective(summary: Mapping[str, Any]) -> float:
    """Return the selection objective: the larger of the DP and EO differences (NaN counts as 1).

    Examples
    --------
    >>> objective({"dp_difference": 0.12, "eo_difference": 0.05})
    0.12
    """
    values = [summary.get("dp_difference", math.nan), summary.get("eo_difference", math.nan)]
    return max(
        1.0 if v is None or not math.isfinite(float(v)) else float(v) for v in values
    )


def setup_label(classifier: str, include_sensitive: bool | None) -> str:
    """Name a downstream setup in words.

    Examples
    --------
    >>> setup_label("logreg", True)
    'logreg, sensitive column used'
    >>> setup_label("hgb", None)
    'hgb'
    """
    if include_sensitive is None:
        return classifier
    return f"{classifier}, sensitive column {'used' if include_sensitive else 'not used'}"


@dataclass
class SetupFigures:
    """An option's validation figures in one setup, next to doing nothing's.

    Attributes
    ----------
    setup : str
        The setup in words (:func:`setup_label`).
    accuracy, objective : float
        The option's validation accuracy and max(DP, EO).
    baseline_accuracy, baseline_objective : float
        Doing nothing's, in the same setup.
    widened : list of str
        Gaps (``dp_difference``, ``eo_difference``) the paired bootstrap says the option widens.
    judged : bool
        Whether at least two groups had the support to be judged (else no gap could be tested).
    changes : dict
        Per watched gap: ``[mean, low, high]`` of the paired change (empty when not checked).
    """

    setup: str
    accuracy: float
    objective: float
    baseline_accuracy: float
    baseline_objective: float
    widened: list[str] = field(default_factory=list)
    judged: bool = True
    changes: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "setup": self.setup,
            "accuracy": self.accuracy,
            "objective": self.objective,
            "baseline_accuracy": self.baseline_accuracy,
            "baseline_objective": self.baseline_objective,
            "widened": list(self.widened),
            "judged": self.judged,
            "changes": dict(self.changes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SetupFigures:
        """Inverse of :meth:`to_dict`."""
        return cls(
            setup=str(data["setup"]),
            accuracy=float(data["accuracy"]),
            objective=float(data["objective"]),
            baseline_accuracy=float(data["baseline_accuracy"]),
            baseline_objective=float(data["baseline_objective"]),
            widened=list(data.get("widened", [])),
            judged=bool(data.get("judged", True)),
            changes={k: list(v) for k, v in data.get("changes", {}).items()},
        )


@dataclass
class Option:
    """One choice (a strategy at a strength, or doing nothing) scored in every setup.

    Attributes
    ----------
    name : str
        What is chosen (``"reweigh λ=0.5"``, ``"off"``).
    setups : list of SetupFigures
        The setups the option is ranked on (worst case) and must do no harm in.
    budget : float
        Largest accuracy loss against doing nothing, in any setup.
    identity : bool
        The option is doing nothing.
    admissible : bool
        Set by :func:`select`.
    refused : list of str
        Why it is not admissible, in words (set by :func:`select`).
    payload : Any
        Whatever the caller wants back with the pick.
    checks : list of SetupFigures
        Further setups the option must do no harm in without entering the ranking (the audit
        ranks on the audited setup and checks the other).
    """

    name: str
    setups: list[SetupFigures]
    budget: float
    identity: bool = False
    admissible: bool = True
    refused: list[str] = field(default_factory=list)
    payload: Any = None
    checks: list[SetupFigures] = field(default_factory=list)

    @property
    def holds_for(self) -> list[str]:
        """Every setup the option was checked in, in words."""
        return [f.setup for f in [*self.setups, *self.checks]]

    @property
    def worst_objective(self) -> float:
        """The largest objective over the setups (doing nothing's own figures if identity)."""
        if self.identity:
            return max(s.baseline_objective for s in self.setups)
        return max(s.objective for s in self.setups)

    @property
    def worst_accuracy(self) -> float:
        """The lowest validation accuracy over the setups."""
        if self.identity:
            return min(s.baseline_accuracy for s in self.setups)
        return min(s.accuracy for s in self.setups)


def _refusals(option: Option) -> list[str]:
    reasons = []
    for figures in [*option.setups, *option.checks]:
        if not math.isfinite(figures.accuracy):
            reasons.append(f"has no validation accuracy for {figures.setup}")
        elif figures.accuracy < figures.baseline_accuracy - option.budget - TIE:
            loss = (figures.baseline_accuracy - figures.accuracy) * 100
            reasons.append(
                f"costs {loss:.1f} accuracy points for {figures.setup} "
                f"(budget {option.budget * 100:.1f})"
            )
        for gap in figures.widened:
            name = "DP" if gap == "dp_difference" else "EO"
            reasons.append(f"widens the {name} difference beyond noise for {figures.setup}")
    return reasons


def select(options: Sequence[Option]) -> Option:
    """Mark every option admissible or refused and return the pick (see the module docstring).

    Parameters
    ----------
    options : sequence of Option
        The candidates, mildest first; at most one should be the identity (doing nothing).
        Every option must be scored in at least one setup.

    Returns
    -------
    Option
        The admissible option with the lowest worst-setup objective that beats doing nothing's;
        doing nothing (or, with no identity among the options, the first option) otherwise.

    Examples
    --------
    >>> def figs(setup, acc, obj, widened=()):
    ...     return SetupFigures(setup, acc, obj, 0.85, 0.20, list(widened))
    >>> off = Option("off", [figs("a", 0.85, 0.20), figs("b", 0.85, 0.20)], 0.015, identity=True)
    >>> helps_a_harms_b = Option("x", [figs("a", 0.85, 0.05),
    ...                                figs("b", 0.85, 0.15, ["eo_difference"])], 0.015)
    >>> mild = Option("y", [figs("a", 0.85, 0.12), figs("b", 0.845, 0.16)], 0.015)
    >>> select([off, helps_a_harms_b, mild]).name
    'y'
    >>> helps_a_harms_b.refused
    ['widens the EO difference beyond noise for b']
    """
    if not options:
        raise ValueError("no option to choose from")
    for option in options:
        option.refused = [] if option.identity else _refusals(option)
        option.admissible = not option.refused
    admissible = [o for o in options if o.admissible] or [options[0]]
    best = admissible[0]
    for option in admissible[1:]:
        if option.worst_objective < best.worst_objective - TIE or (
            abs(option.worst_objective - best.worst_objective) <= TIE
            and option.worst_accuracy > best.worst_accuracy + TIE
        ):
            best = option
    identity = next((o for o in options if o.identity), None)
    if identity is not None and not best.worst_objective < identity.worst_objective - TIE:
        best = identity
    return best
