"""Scoring a strategy's strengths on validation rows: the models, the setups and the do-no-harm check.

:func:`tune_strength` scores every strength of a fitted strategy's grid on the validation rows
(post-processors on two halves, data strategies in every :class:`Setup` the user may train) and
picks one with :func:`fairlatent.engine.tuning.choose`; ``debias`` reuses the setup scoring.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.classifiers import stratified_split, train_classifier
from fairlatent.engine.plan import AuditPlan, Split, setup_features
from fairlatent.engine.tuning import Candidate, SetupFigures, choose, objective
from fairlatent.metrics.bootstrap import paired_interval
from fairlatent.metrics.fairness import evaluate_predictions
from fairlatent.metrics.harm import gap_change
from fairlatent.metrics.leakage import leakage_probe
from fairlatent.results.selection import setup_label
from fairlatent.strategies import StrategyOutput
from fairlatent.strategies.base import FittedStrategy, Strategy, Strength

__all__ = [
    "GAIN_BOOT",
    "HARM_BOOT",
    "Setup",
    "Transforms",
    "audit_setups",
    "score_setup",
    "setup_figures",
    "training_set_leakage",
    "tune_strength",
    "validation_gain",
    "validation_halves",
    "validation_predict",
    "validation_summary",
]


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
