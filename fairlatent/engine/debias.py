"""Debias every row of a data set: the audit's tuning, applied to all rows instead of a split.

Validation rows are carved out of *all* rows (stratified on group x label); each pre-processing
strategy is fitted on the rest and its strength tuned for the chosen classifier exactly as in an
audit; the chosen strength then transforms every row. With ``"auto"``, the strategy itself is chosen
the same way the audit recommends one: the lowest validation max(DP, EO) within its accuracy budget,
or none of them when nothing beats the real rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fairlatent.classifiers import stratified_split
from fairlatent.engine.tuning import TIE, objective
from fairlatent.engine.units import (
    AuditPlan,
    Split,
    Transforms,
    context_for,
    tune_strength,
    validation_summary,
)
from fairlatent.exceptions import ConfigError
from fairlatent.models.params import epoch_callbacks
from fairlatent.strategies import StrategyOutput
from fairlatent.strategies.base import Strength

#: The pseudo-strategy that lets validation choose among the data strategies.
AUTO = "auto"


@dataclass
class DebiasResult:
    """The debiased rows and how they were chosen.

    Attributes
    ----------
    strategy : str
        The strategy applied (``"none"`` when ``auto`` found nothing better than the real rows).
    strength : str
        Its strength.
    output : StrategyOutput
        Rows (real, resampled or synthetic) and weights.
    tuning : list of dict
        The scored grids, one per strategy tried.
    """

    strategy: str
    strength: str
    output: StrategyOutput
    tuning: list[dict[str, Any]] = field(default_factory=list)


def _pick_strength(grid: list[Strength], label: str, name: str) -> Strength:
    for strength in grid:
        if strength.label == label:
            return strength
    labels = ", ".join(s.label for s in grid)
    raise ConfigError(f"strategy {name!r} has no strength {label!r}; choose from {labels}")


def debias_rows(
    plan: AuditPlan,
    strategy: str,
    classifier: str,
    *,
    strength: str | None = None,
    pretrained: dict[str, Any] | None = None,
    callbacks: list[Any] | None = None,
) -> DebiasResult:
    """Debias all of ``plan.frame`` with ``strategy`` (or ``"auto"``), tuned for ``classifier``.

    Parameters
    ----------
    plan : AuditPlan
        Configuration and prepared rows; ``plan.cfg.tune`` switches tuning on or off.
    strategy : str
        A pre-processing strategy name, or ``"auto"`` for all of them.
    classifier : str
        The classifier the strength is tuned for.
    strength : str, optional
        A strength label from the strategy's grid, used instead of tuning.
    pretrained : dict, optional
        Models the user supplied (``{"gan": TabularGAN}``).
    callbacks : list of callable, optional
        Per-epoch callbacks ``(epoch, epochs, metrics)`` handed to every model fit.

    Returns
    -------
    DebiasResult
    """
    with epoch_callbacks(callbacks or ()):
        return _debias(plan, strategy, classifier, strength, pretrained)


def _debias(
    plan: AuditPlan,
    strategy: str,
    classifier: str,
    strength: str | None,
    pretrained: dict[str, Any] | None,
) -> DebiasResult:
    cfg = plan.cfg
    rows = plan.frame
    fitting, validation = stratified_split(
        rows, target=cfg.target, test_size=cfg.validation_size, random_state=cfg.seed
    )
    split = Split(cfg.seed, rows, validation.iloc[:0], fitting, validation)
    context = context_for(plan, cfg.seed, pretrained=dict(pretrained or {}))
    names = (
        [s for s in cfg.strategies if s != "none"] if strategy == AUTO else [strategy]
    )
    tried: list[tuple[str, Strength, Any, dict[str, Any] | None]] = []
    for name in names:
        made = plan.spec(name).create(**cfg.strategy_options.get(name, {}))
        tuned = cfg.tune and strength is None
        fitted = made.fit(fitting if tuned or strategy == AUTO else rows, context)
        table = None
        if strength is not None:
            chosen = _pick_strength(fitted.grid(), strength, name)
        elif tuned or strategy == AUTO:
            chosen, table, _ = tune_strength(plan, made, fitted, Transforms(fitted, fitting), classifier, split)
            table = {"strategy": name, **table}
        else:
            chosen = fitted.default()
        tried.append((name, chosen, fitted, table))
    if strategy != AUTO:
        name, chosen, fitted, table = tried[0]
        output = Transforms(fitted, rows)(chosen)
        return DebiasResult(name, chosen.label, output, [table] if table else [])
    baseline, _ = validation_summary(plan, StrategyOutput(frame=fitting), classifier, split)
    best: tuple[str, Strength, Any, dict[str, Any] | None] | None = None
    best_objective, best_accuracy = objective(baseline), baseline["accuracy"]
    for name, chosen, fitted, table in tried:
        pick = next(c for c in table["candidates"] if c["chosen"]) if table else None
        if table is None or pick is None or pick["identity"]:
            continue
        if pick["accuracy"] < baseline["accuracy"] - table["budget"] - TIE:
            continue
        if pick["objective"] < best_objective - TIE or (
            abs(pick["objective"] - best_objective) <= TIE and pick["accuracy"] > best_accuracy
        ):
            best, best_objective, best_accuracy = (name, chosen, fitted, table), pick["objective"], pick["accuracy"]
    tables = [t for *_, t in tried if t]
    if best is None:
        return DebiasResult("none", "off", StrategyOutput(frame=rows), tables)
    name, chosen, fitted, _ = best
    return DebiasResult(name, chosen.label, Transforms(fitted, rows)(chosen), tables)
