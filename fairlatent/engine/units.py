"""The independent units of an audit: one repeat x one group of strategies that share models.

A unit splits the prepared rows with its repeat's seed (train / test, then fitting / validation
rows inside train; :mod:`fairlatent.engine.plan`), fits each of its strategies once, tunes each
strategy's strength per classifier on the validation rows (:mod:`fairlatent.engine.scoring`), trains
the final classifiers and evaluates them on the real test rows. Units depend on nothing but their
inputs and seeds, so they can run in any order, in other processes or on other machines, and give
the same numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from fairlatent.classifiers import stratified_split, train_classifier
from fairlatent.engine.plan import (
    AuditPlan,
    Split,
    Unit,
    context_for,
    first_test_rows,
    make_split,
    plan_units,
    setup_features,
)
from fairlatent.engine.scoring import Transforms, training_set_leakage, tune_strength
from fairlatent.exceptions import ConfigError
from fairlatent.metrics.fairness import evaluate_predictions
from fairlatent.models.params import epoch_callbacks
from fairlatent.models.threads import apply_thread_policy
from fairlatent.results import RunRecord
from fairlatent.results.findings import ModelFindings, model_findings
from fairlatent.strategies import StrategyContext, StrategyOutput
from fairlatent.strategies.base import Strategy

__all__ = [  # the plan's names are re-exported for code written against this module
    "AuditPlan",
    "Decisions",
    "Split",
    "StrategyRun",
    "Unit",
    "context_for",
    "first_test_rows",
    "make_split",
    "plan_units",
    "run_strategy",
    "run_unit",
    "setup_features",
    "test_findings",
]

ProgressCallback = Callable[[str], None]


@dataclass
class StrategyRun:
    """Everything one strategy produced in one repeat.

    Attributes
    ----------
    strategy : str
    repeat : int
    records : list of RunRecord
        One per classifier, evaluated on the test rows.
    tuning : list of dict
        One per classifier: the scored grid (:meth:`Candidate.to_dict`), the budget and the choice.
    info : dict
        Fit time, rows and synthetic rows at the default strength and as chosen, diagnostics.
    output : StrategyOutput or None
        The default-strength output on the training rows (first repeat only), for the analyses.
    """

    strategy: str
    repeat: int
    records: list[RunRecord] = field(default_factory=list)
    tuning: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    output: StrategyOutput | None = None
    models: dict[str, Decisions] = field(default_factory=dict)
    validation_predictions: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decisions:
    """A trained model's 0/1 decisions on any frame with its columns (kept for the latent audit).

    Attributes
    ----------
    model : TrainedClassifier
    seed : int
        Seed of randomised post-processors.
    held_out : bool
        Whether the validation predictions stored beside it come from a model that did not see
        the validation rows (fitted on the fitting part); ``False``: the final model's own.
    """

    model: Any
    seed: int
    held_out: bool = False

    def __call__(self, frame: pd.DataFrame) -> Any:
        """Return the model's decisions on ``frame``'s rows."""
        return self.model.predict(frame, random_state=self.seed)[0]


def _model_rows(plan: AuditPlan, rows: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Return the rows a strategy's models learn from: all, or a ``--fit-sample`` of them."""
    n = plan.cfg.fit_sample
    if n is None or len(rows) <= n:
        return rows
    _, sample = stratified_split(
        rows, target=plan.cfg.target, test_size=n / len(rows), random_state=seed
    )
    return sample


def test_findings(
    plan: AuditPlan,
    split: Split,
    y_pred: Any,
    scores: Any,
    classifier: str,
    strategy: str,
    repeat: int,
) -> ModelFindings:
    """Build one model's findings on the test rows, with the test evaluation's bootstrap seed."""
    cfg = plan.cfg
    try:
        return model_findings(
            split.test[cfg.target].to_numpy(),
            y_pred,
            split.test[plan.features.group_column].to_numpy(),
            classifier=classifier,
            strategy=strategy,
            repeat=repeat,
            scores=scores,
            reference=cfg.reference,
            n_boot=cfg.n_boot,
            random_state=split.seed,
            min_support=cfg.min_test_support,
        )
    except ValueError as err:  # a --reference too small to judge on these test rows
        raise ConfigError(
            f"{err} (--reference {cfg.reference!r} with --min-test-support "
            f"{cfg.min_test_support}); pass another --reference or a lower --min-test-support"
        ) from None


def run_strategy(
    plan: AuditPlan,
    name: str,
    split: Split,
    repeat: int,
    context: StrategyContext,
    progress: ProgressCallback | None = None,
) -> StrategyRun:
    """Fit, tune and evaluate one strategy on one split (see the module docstring)."""
    cfg = plan.cfg
    spec = plan.spec(name)
    strategy = spec.create(**cfg.strategy_options.get(name, {}))
    held_out = cfg.tune or strategy.kind == "post"
    fit_rows = split.fitting if held_out else split.train
    if progress:
        progress(f"repeat {repeat + 1}/{cfg.repeats}: fitting {name}")
    fitted = strategy.fit(_model_rows(plan, fit_rows, split.seed), context)
    on_fitting = Transforms(fitted, fit_rows)
    on_train = on_fitting if fit_rows is split.train else Transforms(fitted, split.train)
    run = StrategyRun(name, repeat)
    probed: dict[str, dict[str, Any]] = {}
    default = fitted.default()
    for clf in cfg.classifiers:
        if progress:
            progress(f"repeat {repeat + 1}/{cfg.repeats}: {name} -> {clf}")
        trained: dict[str, Any] = {}
        strength = default
        if cfg.tune:
            strength, table, trained = tune_strength(plan, strategy, fitted, on_fitting, clf, split)
            run.tuning.append(table)
        start = time.perf_counter()
        if strategy.kind == "post":
            final = on_fitting(strength)
            model = trained.get(strength.label) or train_classifier(
                clf, final, plan.features, random_state=split.seed, validation=split.validation
            )
        else:
            final = on_train(strength)
            model = train_classifier(clf, final, plan.features, random_state=split.seed)
        if repeat == 0:
            entry = probed.setdefault(strength.label, {"output": final, "classifiers": []})
            entry["classifiers"].append(clf)
        y_pred, scores = model.predict(split.test, random_state=split.seed)
        if repeat == 0 and cfg.latent_audit:
            _keep_for_latent_audit(run, clf, model, trained.get(strength.label), strategy, split)
        evaluation = evaluate_predictions(
            split.test[cfg.target].to_numpy(),
            y_pred,
            split.test[plan.features.group_column].to_numpy(),
            n_boot=cfg.n_boot,
            random_state=split.seed,
            min_support=cfg.min_test_support,
            reference=cfg.reference,
        )
        run.records.append(
            RunRecord(
                repeat,
                name,
                clf,
                evaluation,
                y_pred,
                time.perf_counter() - start,
                scores,
                strength=strength.label,
                train_rows=len(final.frame),
                synthetic_rows=final.n_synthetic,
                findings=test_findings(plan, split, y_pred, scores, clf, name, repeat),
            )
        )
    reference = on_train(default) if strategy.kind != "post" else on_fitting(default)
    run.info = {
        "fit_seconds": round(fitted.fit_seconds, 3),
        "transform_seconds": round(
            on_fitting.seconds + (on_train.seconds if on_train is not on_fitting else 0.0), 3
        ),
        "default_strength": default.label,
        "train_rows": len(reference.frame),
        "synthetic_rows": reference.n_synthetic,
        "weighted": reference.sample_weight is not None,
        "kind": strategy.kind,
        "fitted_on": "fitting part" if held_out else "training rows",
        "diagnostics": reference.diagnostics,
    }
    if repeat == 0:
        run.output = reference
        run.info["leakage"] = [
            {"strategy": name, "strength": label, "classifiers": entry["classifiers"], **figures}
            for label, entry in probed.items()
            for figures in training_set_leakage(plan, entry["output"], split.seed)
        ]
    return run


def _keep_for_latent_audit(
    run: StrategyRun, clf: str, model: Any, held: Any, strategy: Strategy, split: Split
) -> None:
    """Keep the final model and validation predictions of a model that did not see them, if any.

    With tuning, a data strategy's chosen strength was trained on the fitting rows only, so its
    validation predictions are honest; otherwise (post-processors, ``--no-tune``) the final
    model's own are kept and marked as such.
    """
    fresh = held if held is not None and strategy.kind != "post" else None
    source = fresh if fresh is not None else model
    run.models[clf] = Decisions(model, split.seed, held_out=fresh is not None)
    run.validation_predictions[clf] = source.predict(split.validation, random_state=split.seed)[0]


def run_unit(
    plan: AuditPlan,
    unit: Unit,
    *,
    callbacks: list[Callable[..., Any]] | None = None,
    progress: ProgressCallback | None = None,
) -> list[StrategyRun]:
    """Run every strategy of ``unit`` on its repeat's split, sharing fitted models between them.

    Parameters
    ----------
    plan : AuditPlan
    unit : Unit
    callbacks : list of callable, optional
        Per-epoch callbacks handed to every model fit.
    progress : callable, optional
        Called with a description before each step (serial runs only).

    Returns
    -------
    list of StrategyRun
        One per strategy of the unit, in its order.
    """
    apply_thread_policy(plan.cfg.threads)  # workers on other machines get the audit's count
    split = make_split(plan, unit.repeat)
    context = context_for(plan, split.seed)
    with epoch_callbacks(callbacks or ()):
        return [
            run_strategy(plan, name, split, unit.repeat, context, progress)
            for name in unit.strategies
        ]
