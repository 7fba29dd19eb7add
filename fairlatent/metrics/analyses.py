"""Audit analyses that strategies feed: one registry, one signature.

An analysis turns the fitted outputs of the strategies that name it in their
:class:`~fairlatent.strategies.StrategySpec` (``analyses=("representation",)``) into a JSON-ready
dict, stored in :attr:`AuditResult.analyses <fairlatent.results.AuditResult.analyses>` under the
analysis' name and rendered by the report section of the same name. Adding one is a function
``run(inputs: AnalysisInput) -> dict | None`` plus a line in :data:`BUILTIN_ANALYSES` (or an entry
point in the group ``fairlatent.analyses``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.registry import Registry, load_object
from fairlatent.strategies.base import ARTIFACT_LATENT_MODEL, StrategyOutput


@dataclass(frozen=True)
class AnalysisInput:
    """What an analysis sees: the first repeat's fitted strategies and its real rows.

    Parameters
    ----------
    outputs : mapping
        Strategy name -> :class:`~fairlatent.strategies.StrategyOutput`, for the strategies whose
        spec names this analysis, in audit order.
    train, test : DataFrame
        The real training and held-out rows of the first repeat.
    target, group_column : str
        Names of the 0/1 target and the group-label columns.
    predictions : mapping
        ``(strategy, classifier)`` -> predicted labels on ``test``, for every strategy.
    random_state : int
        The audit's seed.
    validation : DataFrame, optional
        The first repeat's validation rows (inside the training rows).
    models : mapping
        ``(strategy, classifier)`` -> callable frame -> 0/1 decisions of the audited model
        (first repeat; kept only when an analysis asks for them, e.g. the latent audit).
    validation_predictions : mapping
        ``(strategy, classifier)`` -> decisions on ``validation`` (from a model fitted without
        those rows where there is one).
    sensitive, features : tuple of str
        Sensitive columns, and the classifiers' feature columns.
    options : mapping
        Audit options an analysis may read (``device``, ``epochs``, ``n_boot``).
    """

    outputs: Mapping[str, StrategyOutput]
    train: pd.DataFrame
    test: pd.DataFrame
    target: str
    group_column: str
    predictions: Mapping[tuple[str, str], np.ndarray]
    random_state: int
    validation: pd.DataFrame | None = None
    models: Mapping[tuple[str, str], Callable[[pd.DataFrame], Any]] = field(default_factory=dict)
    validation_predictions: Mapping[tuple[str, str], np.ndarray] = field(default_factory=dict)
    sensitive: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AnalysisSpec:
    """A named analysis of the strategies' fitted outputs.

    Parameters
    ----------
    name : str
        Key in ``AuditResult.analyses``, ``metrics.json`` and the report section.
    run : str or callable
        ``"module:function"`` or a callable ``(AnalysisInput) -> dict | None`` (``None``: nothing
        to report).
    description : str
        One line for documentation.
    enabled_by : str or None, default None
        A boolean :class:`~fairlatent.config.AuditConfig` field: when given, the analysis runs
        whenever that option is on, whatever the strategies (with every strategy's output);
        ``None``: it runs when a strategy names it.
    """

    name: str
    run: str | Callable[[AnalysisInput], dict[str, Any] | None]
    description: str
    enabled_by: str | None = None

    def compute(self, inputs: AnalysisInput) -> dict[str, Any] | None:
        """Run the analysis on ``inputs``."""
        return load_object(self.run)(inputs)


def representation_analysis(inputs: AnalysisInput) -> dict[str, Any] | None:
    """Latent representation audit of the first strategy that kept a latent model."""
    from fairlatent.metrics.representation import representation_audit

    for output in inputs.outputs.values():
        model = output.artifacts.get(ARTIFACT_LATENT_MODEL)
        if model is not None:
            return representation_audit(
                model,
                train=inputs.train,
                test=inputs.test,
                target=inputs.target,
                group_column=inputs.group_column,
                predictions=dict(inputs.predictions),
                random_state=inputs.random_state,
            )
    return None


def synthesis_analysis(inputs: AnalysisInput) -> dict[str, Any] | None:
    """Synthetic-data quality of every strategy that added synthetic rows."""
    from fairlatent.metrics.synthesis_audit import synthesis_audit

    if not any(np.any(o.is_synthetic) for o in inputs.outputs.values()):
        return None
    return synthesis_audit(
        dict(inputs.outputs),
        train=inputs.train,
        test=inputs.test,
        target=inputs.target,
        group_column=inputs.group_column,
        random_state=inputs.random_state,
    )


def latent_analysis(inputs: AnalysisInput) -> dict[str, Any] | None:
    """Certified slices where the models fail, and counterfactual flips (the latent audit)."""
    from fairlatent.metrics.latent_audit import latent_audit

    return latent_audit(inputs)


BUILTIN_ANALYSES: tuple[AnalysisSpec, ...] = (
    AnalysisSpec(
        "representation",
        representation_analysis,
        "which groups sit in rare regions of the VAE's latent space, and where models fail",
    ),
    AnalysisSpec(
        "synthesis",
        synthesis_analysis,
        "fidelity, detectability, utility and privacy of the synthetic rows",
    ),
    AnalysisSpec(
        "latent",
        latent_analysis,
        "where the models fail (certified latent slices) and counterfactual flips between groups",
        enabled_by="latent_audit",
    ),
)

#: Every analysis the audit can run, in the order it runs them.
ANALYSES: Registry[AnalysisSpec] = Registry(
    "analysis", AnalysisSpec, BUILTIN_ANALYSES, "fairlatent.analyses"
)
