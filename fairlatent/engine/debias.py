"""Debias every row of a data set for the model the user will train: do no harm over their setups.

Validation rows are carved out of *all* rows (stratified on group x label); each pre-processing
strategy is fitted on the rest. Every strength of its grid (``"auto"``: of every data strategy) is
one option, scored on the validation rows in every *setup* of the family the user may train — each
named classifier with the sensitive column used and not used, or only the way the user said — against
doing nothing in that setup. :func:`fairlatent.results.selection.select` then refuses any option that
costs more than the accuracy budget or widens the DP or EO difference beyond noise (paired bootstrap)
in *any* setup, and picks the one with the lowest worst-setup max(DP, EO), or none when nothing
beats the real rows. The pick transforms every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from fairlatent.classifiers import stratified_split
from fairlatent.engine.plan import AuditPlan, Split, context_for
from fairlatent.engine.scoring import (
    Setup,
    Transforms,
    score_setup,
    setup_figures,
    training_set_leakage,
)
from fairlatent.exceptions import ConfigError
from fairlatent.models.params import epoch_callbacks
from fairlatent.results.selection import Option, select
from fairlatent.strategies import StrategyOutput
from fairlatent.strategies.base import OFF, Strength

#: The pseudo-strategy that lets validation choose among the data strategies.
AUTO = "auto"


@dataclass
class DebiasResult:
    """The debiased rows and how they were chosen.

    Attributes
    ----------
    strategy : str
        The strategy applied (``"none"`` when nothing beat the real rows).
    strength : str
        Its strength.
    output : StrategyOutput
        Rows (real, reweighted, repaired, resampled or synthetic) and weights.
    tuning : list of dict
        Every option scored: ``strategy``, ``strength``, ``admissible``, ``refused``,
        ``worst_objective``, ``chosen`` and ``setups`` (figures per setup).
    setups : list of str
        The setups the choice was made for, in words.
    validation : list of dict
        The pick's validation figures per setup (against doing nothing).
    leakage : list of dict
        Probe AUCs of recovering the group from the written rows and from the real rows.
    """

    strategy: str
    strength: str
    output: StrategyOutput
    tuning: list[dict[str, Any]] = field(default_factory=list)
    setups: list[str] = field(default_factory=list)
    validation: list[dict[str, Any]] = field(default_factory=list)
    leakage: list[dict[str, Any]] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """Return the record of the choice: every field but the rows (``output``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "output"}


def _pick_strength(grid: list[Strength], label: str, name: str) -> Strength:
    for strength in grid:
        if strength.label == label:
            return strength
    labels = ", ".join(s.label for s in grid)
    raise ConfigError(f"strategy {name!r} has no strength {label!r}; choose from {labels}")


def debias_setups(classifiers: Sequence[str], include_sensitive: bool | None) -> list[Setup]:
    """Return the family of downstream fits.

    Each classifier with the sensitive column used and not used (``include_sensitive=None``),
    or only as said.

    Examples
    --------
    >>> [s.label for s in debias_setups(["logreg"], None)]
    ['logreg, sensitive column not used', 'logreg, sensitive column used']
    """
    includes = [False, True] if include_sensitive is None else [bool(include_sensitive)]
    return [Setup(clf, inc) for clf in dict.fromkeys(classifiers) for inc in includes]


def debias_rows(
    plan: AuditPlan,
    strategy: str,
    classifiers: str | Sequence[str],
    *,
    include_sensitive: bool | None = None,
    strength: str | None = None,
    pretrained: dict[str, Any] | None = None,
    callbacks: list[Any] | None = None,
) -> DebiasResult:
    """Debias all of ``plan.frame`` with ``strategy`` (or ``"auto"``), for the user's setups.

    Parameters
    ----------
    plan : AuditPlan
        Configuration and prepared rows; ``plan.cfg.tune`` switches tuning on or off, and
        ``plan.cfg.strategies`` lists the strategies ``"auto"`` chooses among.
    strategy : str
        A pre-processing strategy name, or ``"auto"``.
    classifiers : str or sequence of str
        The classifier(s) the user will train.
    include_sensitive : bool or None, default None
        Whether the user's model reads the sensitive columns; ``None``: it may or may not, and
        the choice must do no harm either way.
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
    names = [classifiers] if isinstance(classifiers, str) else list(classifiers)
    setups = debias_setups(names, include_sensitive)
    with epoch_callbacks(callbacks or ()):
        return _debias(plan, strategy, setups, strength, pretrained)


def _debias(
    plan: AuditPlan,
    strategy: str,
    setups: list[Setup],
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
    names = [s for s in cfg.strategies if s != "none"] if strategy == AUTO else [strategy]
    explicit = strength is not None or (not cfg.tune and strategy != AUTO)
    baselines = {
        setup: score_setup(plan, StrategyOutput(frame=fitting), setup, split) for setup in setups
    }
    identity = Option(
        "none off",
        [setup_figures(plan, s, split, baselines[s], baselines[s]) for s in setups],
        cfg.accuracy_budget,
        identity=True,
        payload=None,
    )
    options = [identity]
    for name in names:
        made = plan.spec(name).create(**cfg.strategy_options.get(name, {}))
        fitted = made.fit(fitting, context)
        if strength is not None:
            grid = [_pick_strength(fitted.grid(), strength, name)]
        elif cfg.tune:
            grid = fitted.grid()
        else:
            grid = [fitted.default()]
        budget = cfg.accuracy_budget
        if made.max_accuracy_loss is not None:
            budget = min(budget, made.max_accuracy_loss)
        on_fitting = Transforms(fitted, fitting)
        for point in grid:
            if point.identity:
                continue
            output = on_fitting(point)
            figures = [
                setup_figures(plan, s, split, score_setup(plan, output, s, split), baselines[s])
                for s in setups
            ]
            options.append(
                Option(f"{name} {point.label}", figures, budget, payload=(name, point, fitted))
            )
    if explicit and len(options) > 1:
        best = options[1]
        select(options)  # marks what the rule would say, for the record
    else:
        best = select(options)
    tuning = [
        {
            "strategy": "none" if o.payload is None else o.payload[0],
            "strength": "off" if o.payload is None else o.payload[1].label,
            "admissible": o.admissible,
            "refused": list(o.refused),
            "worst_objective": o.worst_objective,
            "worst_accuracy": o.worst_accuracy,
            "chosen": o is best,
            "setups": [f.to_dict() for f in o.setups],
        }
        for o in options
    ]
    if best.payload is None:
        name, chosen, output = "none", OFF, StrategyOutput(frame=rows, strength=OFF)
    else:
        name, chosen, fitted = best.payload
        output = Transforms(fitted, rows)(chosen)
    leakage = [
        {"rows": "written", **entry} for entry in training_set_leakage(plan, output, cfg.seed)
    ]
    if best.payload is not None:
        leakage += [
            {"rows": "real", **entry}
            for entry in training_set_leakage(plan, StrategyOutput(frame=rows), cfg.seed)
        ]
    return DebiasResult(
        name,
        chosen.label,
        output,
        tuning,
        [s.label for s in setups],
        [f.to_dict() for f in best.setups],
        leakage,
    )

