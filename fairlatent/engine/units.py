"""The independent units of an audit: one repeat x one group of strategies that share models.

A unit splits the prepared rows with its repeat's seed (train / test, then fitting / validation
rows inside train), fits each of its strategies once, tunes each strategy's strength per classifier on
the validation rows (:mod:`fairlatent.engine.tuning`), trains the final classifiers and evaluates them
on the real test rows. Units depend on nothing but their inputs and seeds, so they can run in any
order, in other processes or on other machines, and give the same numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.classifiers import (
    FeatureSpec,
    split_feature_kinds,
    stratified_split,
    train_classifier,
)
from fairlatent.config import AuditConfig
from fairlatent.engine.tuning import Candidate, SetupFigures, choose, objective
from fairlatent.exceptions import ConfigError
from fairlatent.metrics.bootstrap import paired_interval
from fairlatent.metrics.fairness import evaluate_predictions
from fairlatent.metrics.harm import gap_change
from fairlatent.metrics.leakage import leakage_probe
from fairlatent.models.params import epoch_callbacks
from fairlatent.models.threads import apply_thread_policy
from fairlatent.results import RunRecord
from fairlatent.results.findings import ModelFindings, model_findings
from fairlatent.results.selection import setup_label
from fairlatent.strategies import STRATEGIES, StrategyContext, StrategyOutput, StrategySpec
from fairlatent.strategies.base import FittedStrategy, Strategy, Strength

ProgressCallback = Callable[[str], None]


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


class Transforms:
    """Transform a frame at a strength once, however many classifiers use it."""

    def __init__(self, fitted: FittedStrategy, frame: pd.DataFrame) -> None:
        self.fitted = fitted
        self.frame = frame
        self.seconds = 0.0
        self._cache: dict[str, StrategyOutput] = {}

    def __call__(self, strength: Strength) -> StrategyOutput:
        """Return the frame transformed at ``strength`` (computed once)."""
        if strength.label not in self._cache:
            start = time.perf_counter()
            output = self.fitted.transform(self.frame, strength)
            output.strength = strength
            self.seconds += time.perf_counter() - start
            self._cache[strength.label] = output
        return self._cache[strength.label]


def validation_predict(
    plan: AuditPlan,
    output: StrategyOutput,
    clf: str,
    split: Split,
    rows: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> tuple[np.ndarray, Any, pd.DataFrame]:
    """Train ``clf`` on ``output`` and predict the scored validation rows.

    Returns the predictions, the trained model and the rows scored (see :func:`validation_summary`).
    """
    fit_on, score_on = rows or (split.validation, split.validation)
    trained = train_classifier(clf, output, plan.features, random_state=split.seed, validation=fit_on)
    y_pred, _ = trained.predict(score_on, random_state=split.seed)
    return y_pred, trained, score_on


def validation_summary(
    plan: AuditPlan,
    output: StrategyOutput,
    clf: str,
    split: Split,
    rows: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> tuple[dict[str, float], Any]:
    """Train ``clf`` on ``output`` and score it on validation rows (no bootstrap).

    ``rows`` = (post-processor rows, scored rows) separates the rows a post-processor is fitted on
    from those it is scored on; by default both are all validation rows.
    """
    y_pred, trained, score_on = validation_predict(plan, output, clf, split, rows)
    return _validation_scores(plan, split, score_on, y_pred), trained


#: Bootstrap replicates of the validation gain when the audit asks for fewer than 20.
GAIN_BOOT = 200


def validation_gain(
    plan: AuditPlan, split: Split, rows: pd.DataFrame, chosen: np.ndarray, baseline: np.ndarray
) -> dict[str, float]:
    """Paired bootstrap of the objective's change (chosen minus baseline) on the same validation rows.

    The objective is the larger of the DP and EO differences over the groups with enough support
    (``--min-test-support``, the test's rule); without two such groups it is undefined (counted as
    1, so no change can be shown). A change is distinguishable from noise when ``high < 0``.

    Returns
    -------
    dict
        ``change`` (point), ``low``, ``high`` (:data:`~fairlatent.policy.LEVEL` percentile
        interval of the paired replicates) and ``n_boot``.
    """
    cfg = plan.cfg
    n_boot = cfg.n_boot if cfg.n_boot >= 20 else GAIN_BOOT
    y = rows[cfg.target].to_numpy()
    groups = rows[plan.features.group_column].to_numpy()
    evaluations = [
        evaluate_predictions(
            y, pred, groups, n_boot=n_boot, random_state=split.seed,
            min_support=cfg.min_test_support,
        )
        for pred in (chosen, baseline)
    ]

    def worst(ev: Any) -> tuple[float, np.ndarray]:
        point = objective(ev.summary)
        reps = np.fmax(ev.replicates["dp_difference"], ev.replicates["eo_difference"])
        return point, np.where(np.isfinite(reps), reps, 1.0)

    (pick, pick_reps), (base, base_reps) = worst(evaluations[0]), worst(evaluations[1])
    _, low, high = paired_interval(base_reps, pick_reps)
    return {"change": pick - base, "low": low, "high": high, "n_boot": n_boot}


def _validation_scores(
    plan: AuditPlan, split: Split, score_on: pd.DataFrame, y_pred: np.ndarray
) -> dict[str, float]:
    summary = evaluate_predictions(
        score_on[plan.cfg.target].to_numpy(),
        y_pred,
        score_on[plan.features.group_column].to_numpy(),
        n_boot=0,
        random_state=split.seed,
        min_support=plan.cfg.min_test_support,
    ).summary
    return summary


#: Bootstrap replicates of the do-no-harm check on validation rows.
HARM_BOOT = 200


@dataclass(frozen=True)
class Setup:
    """One downstream fit: a classifier, with the sensitive columns as features or not.

    Examples
    --------
    >>> Setup("logreg", True).label
    'logreg, sensitive column used'
    """

    classifier: str
    include_sensitive: bool

    @property
    def label(self) -> str:
        """The setup in words."""
        return setup_label(self.classifier, self.include_sensitive)


def setup_features(plan: AuditPlan, include_sensitive: bool) -> FeatureSpec:
    """Return the classifier features of ``plan`` with the sensitive columns added or left out."""
    features = plan.features
    sensitive = set(plan.sensitive)
    columns = [c for c in features.columns if c not in sensitive]
    if include_sensitive:
        columns += [c for c in plan.sensitive if c in plan.frame.columns]
    numeric, categorical = split_feature_kinds(plan.frame, columns)
    return FeatureSpec(numeric, categorical, features.target, features.group_column)


def audit_setups(plan: AuditPlan, clf: str) -> list[Setup]:
    """Return the setups a data strategy's strengths are scored in.

    The audited one, then the other (``setups = "both"``, the default), or the audited one alone
    (``"audited"``).
    """
    audited = Setup(clf, plan.cfg.include_sensitive)
    if plan.cfg.setups == "audited":
        return [audited]
    return [audited, Setup(clf, not plan.cfg.include_sensitive)]


def score_setup(
    plan: AuditPlan, output: StrategyOutput, setup: Setup, split: Split
) -> tuple[dict[str, float], np.ndarray]:
    """Train ``setup`` on ``output`` and score it on the validation rows.

    Returns the validation summary and the predictions.
    """
    trained = train_classifier(
        setup.classifier,
        output,
        setup_features(plan, setup.include_sensitive),
        random_state=split.seed,
        validation=split.validation,
    )
    y_pred, _ = trained.predict(split.validation, random_state=split.seed)
    summary = evaluate_predictions(
        split.validation[plan.cfg.target].to_numpy(),
        y_pred,
        split.validation[plan.features.group_column].to_numpy(),
        n_boot=0,
        random_state=split.seed,
        min_support=plan.cfg.min_test_support,
    ).summary
    return summary, np.asarray(y_pred)


def setup_figures(
    plan: AuditPlan,
    setup: Setup,
    split: Split,
    scored: tuple[dict[str, float], np.ndarray],
    baseline: tuple[dict[str, float], np.ndarray],
) -> SetupFigures:
    """Compare an option with doing nothing in ``setup``, with the paired do-no-harm check."""
    summary, y_pred = scored
    base_summary, base_pred = baseline
    change = gap_change(
        split.validation[plan.cfg.target].to_numpy(),
        base_pred,
        y_pred,
        split.validation[plan.features.group_column].to_numpy(),
        min_support=plan.cfg.min_test_support,
        n_boot=HARM_BOOT,
        random_state=split.seed,
    )
    return SetupFigures(
        setup.label,
        float(summary["accuracy"]),
        objective(summary),
        float(base_summary["accuracy"]),
        objective(base_summary),
        widened=change.widened,
        judged=change.judged,
        changes=change.changes,
    )


def validation_halves(plan: AuditPlan, split: Split) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the validation rows in two (stratified, seeded): one to fit on, one to score on.

    A post-processor fitted and scored on the same rows looks better than it is (it has seen the
    labels it is judged on), so post-processing strategies are tuned on two halves.
    """
    return stratified_split(
        split.validation, target=plan.cfg.target, test_size=0.5, random_state=split.seed
    )


def tune_strength(
    plan: AuditPlan,
    strategy: Strategy,
    fitted: FittedStrategy,
    on_fitting: Transforms,
    clf: str,
    split: Split,
) -> tuple[Strength, dict[str, Any], dict[str, Any]]:
    """Score the grid on validation rows; return the choice, the tuning table and trained models."""
    grid = fitted.grid()
    halves = validation_halves(plan, split) if strategy.kind == "post" and len(grid) > 1 else None
    setups = audit_setups(plan, clf) if strategy.kind == "pre" and len(grid) > 1 else []
    baselines: dict[Setup, tuple[dict[str, float], np.ndarray]] = {}
    candidates, trained, predictions = [], {}, {}
    for strength in grid:
        output = on_fitting(strength)
        y_pred, model, scored = validation_predict(plan, output, clf, split, halves)
        summary = _validation_scores(plan, split, scored, y_pred)
        candidate = Candidate(strength, summary)
        predictions[strength.label] = y_pred
        for setup in setups:  # data strategies only: scored on all validation rows
            if setup.include_sensitive == plan.cfg.include_sensitive:  # the model just trained
                in_setup = (summary, np.asarray(y_pred))
            else:
                in_setup = score_setup(plan, output, setup, split)
            if strength.identity:
                baselines[setup] = in_setup
            elif setup not in baselines:
                baselines[setup] = score_setup(plan, StrategyOutput(frame=split.fitting), setup, split)
            candidate.setups.append(setup_figures(plan, setup, split, in_setup, baselines[setup]))
        candidates.append(candidate)
        if halves is None:  # a post-processor fitted on half the rows is refitted on all of them
            trained[strength.label] = model
    budget = plan.cfg.accuracy_budget
    if strategy.max_accuracy_loss is not None:
        budget = min(budget, strategy.max_accuracy_loss)
    if len(candidates) == 1:  # nothing to choose: the strategy's one setting
        candidates[0].chosen = True
        chosen, baseline = candidates[0], None
    else:
        identity = next((c for c in candidates if c.strength.identity), None)
        if identity is None:
            base_pred, _, scored = validation_predict(
                plan, StrategyOutput(frame=split.fitting), clf, split, halves
            )
            baseline = _validation_scores(plan, split, scored, base_pred)
        else:
            baseline, base_pred = identity.summary, predictions[identity.strength.label]
        chosen = choose(candidates, baseline_accuracy=baseline["accuracy"], budget=budget)
    table = {
        "classifier": clf,
        "scored_on": "half of the validation rows" if halves else "validation rows",
        "budget": budget,
        "baseline_accuracy": None if baseline is None else baseline["accuracy"],
        "baseline_objective": None if baseline is None else objective(baseline),
        "chosen": chosen.strength.label,
        "setups": [setup.label for setup in setups],
        "candidates": [c.to_dict() for c in candidates],
        "gain": None
        if baseline is None or chosen.strength.identity
        else validation_gain(plan, split, scored, predictions[chosen.strength.label], base_pred),
    }
    return chosen.strength, table, trained


def training_set_leakage(
    plan: AuditPlan, output: StrategyOutput, seed: int
) -> list[dict[str, Any]]:
    """Probe how well the group can be recovered from a training set's features.

    The sensitive columns are left out and the set's weights used; see
    :func:`fairlatent.metrics.leakage.leakage_probe`.
    """
    features = setup_features(plan, False)
    frame = output.frame
    return leakage_probe(
        frame,
        numeric=features.numeric,
        categorical=features.categorical,
        groups=frame[features.group_column].to_numpy(),
        sample_weight=output.sample_weight,
        random_state=seed,
    )


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
