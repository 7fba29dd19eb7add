"""What an audit runs: the plan (configuration, prepared rows, feature roles), its units and splits.

:func:`audit_plan` bundles a validated configuration and prepared rows into the :class:`AuditPlan`
every unit reads; :func:`plan_units` groups the strategies into :class:`Unit` s (one repeat x the
strategies that share models); :func:`make_split` gives each repeat its seeded rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from fairlatent.classifiers import FeatureSpec, split_feature_kinds, stratified_split
from fairlatent.config import AuditConfig
from fairlatent.data.schema import GROUP_COLUMN, PreparedData
from fairlatent.strategies import STRATEGIES, StrategyContext, StrategySpec

__all__ = [
    "AuditPlan",
    "Split",
    "Unit",
    "audit_plan",
    "context_for",
    "first_test_rows",
    "make_split",
    "plan_units",
    "setup_features",
]


@dataclass(frozen=True)
class AuditPlan:
    """What every unit needs: the configuration, the prepared rows and the feature roles.

    Parameters
    ----------
    cfg : AuditConfig
        A validated configuration.
    frame : DataFrame
        Prepared rows (0/1 target, sensitive columns, group column, features).
    sensitive : list of str
        Sensitive columns.
    features : FeatureSpec
        Classifier features, target and group column.
    specs : dict
        Strategy name -> its :class:`~fairlatent.strategies.StrategySpec`, resolved where the audit
        started (so workers need not find plug-ins registered at run time in that process).
    """

    cfg: AuditConfig
    frame: pd.DataFrame
    sensitive: list[str]
    features: FeatureSpec
    specs: dict[str, StrategySpec] = field(default_factory=dict)

    def spec(self, name: str) -> StrategySpec:
        """Return the spec of strategy ``name`` (from :attr:`specs`, else the registry)."""
        return self.specs[name] if name in self.specs else STRATEGIES.get(name)


@dataclass(frozen=True)
class Unit:
    """One repeat of a group of strategies that share fitted models (e.g. one GAN)."""

    repeat: int
    strategies: tuple[str, ...]


@dataclass(frozen=True)
class Split:
    """A repeat's rows: train and test, and inside train the fitting and validation parts."""

    seed: int
    train: pd.DataFrame
    test: pd.DataFrame
    fitting: pd.DataFrame
    validation: pd.DataFrame


def make_split(plan: AuditPlan, repeat: int) -> Split:
    """Split the prepared rows for ``repeat`` (seed ``cfg.seed + repeat``), stratified on group x label."""
    cfg = plan.cfg
    seed = cfg.seed + repeat
    train, test = stratified_split(
        plan.frame, target=cfg.target, test_size=cfg.test_size, random_state=seed
    )
    fitting, validation = stratified_split(
        train, target=cfg.target, test_size=cfg.validation_size, random_state=seed
    )
    return Split(seed, train, test, fitting, validation)


def context_for(plan: AuditPlan, seed: int, **extra: Any) -> StrategyContext:
    """Build the :class:`StrategyContext` of one split."""
    cfg = plan.cfg
    return StrategyContext(
        target=cfg.target,
        sensitive=list(plan.sensitive),
        group_column=plan.features.group_column,
        random_state=seed,
        device=cfg.device,
        epochs=cfg.epochs,
        **extra,
    )


def setup_features(plan: AuditPlan, include_sensitive: bool) -> FeatureSpec:
    """Return the classifier features of ``plan`` with the sensitive columns added or left out."""
    features = plan.features
    sensitive = set(plan.sensitive)
    columns = [c for c in features.columns if c not in sensitive]
    if include_sensitive:
        columns += [c for c in plan.sensitive if c in plan.frame.columns]
    numeric, categorical = split_feature_kinds(plan.frame, columns)
    return FeatureSpec(numeric, categorical, features.target, features.group_column)


def plan_units(cfg: AuditConfig) -> list[Unit]:
    """Group the configured strategies into units: strategies sharing a model run together.

    Strategies with the same :attr:`~fairlatent.strategies.StrategySpec.shares` key (e.g. ``gan``
    and ``vae+gan`` share one GAN) form one unit per repeat; every other strategy is a unit alone.
    """
    groups: dict[str, list[str]] = {}
    for name in cfg.strategies:
        key = STRATEGIES.get(name).shares or name
        groups.setdefault(key, []).append(name)
    return [
        Unit(repeat, tuple(names))
        for repeat in range(cfg.repeats)
        for names in groups.values()
    ]


def first_test_rows(plan: AuditPlan) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the first repeat's training and test rows (for the data summary and analyses)."""
    split = make_split(plan, 0)
    return split.train, split.test


def audit_plan(cfg: AuditConfig, data: PreparedData) -> AuditPlan:
    """Bundle a validated configuration and prepared rows into the engine's plan.

    Parameters
    ----------
    cfg : AuditConfig
    data : PreparedData

    Returns
    -------
    AuditPlan
    """
    features = data.schema.features + (data.schema.sensitive if cfg.include_sensitive else [])
    numeric, categorical = split_feature_kinds(data.frame, features)
    return AuditPlan(
        cfg=cfg,
        frame=data.frame,
        sensitive=data.schema.sensitive,
        features=FeatureSpec(numeric, categorical, cfg.target, GROUP_COLUMN),
        specs={name: STRATEGIES.get(name) for name in cfg.strategies},
    )
