"""The training audit's one path through the engine: plan -> units -> records -> findings -> analyses.

:func:`run_audit` takes a validated :class:`~fairlatent.engine.plan.AuditPlan` and the prepared
rows it came from, runs every unit (serially with step progress, or through the configured
backend), prices the fairness goal on the baseline's scores, runs the registered analyses the
audited strategies feed, and builds the :class:`~fairlatent.results.AuditResult` once, with
everything in it. :func:`fairlatent.audit` validates and prepares, then hands over here.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from fairlatent.data.schema import GROUP_COLUMN, PreparedData
from fairlatent.data.summary import data_summary
from fairlatent.engine.environment import device_name, environment
from fairlatent.engine.parallel import run_all
from fairlatent.engine.plan import AuditPlan, first_test_rows, make_split, plan_units
from fairlatent.engine.units import StrategyRun, run_unit
from fairlatent.metrics.analyses import ANALYSES, AnalysisInput
from fairlatent.metrics.frontier import goal_frontier
from fairlatent.policy import BASELINE
from fairlatent.results import GOAL, AuditResult, RunRecord

__all__ = ["EpochCallback", "ProgressCallback", "run_audit", "run_units"]

#: Step progress ``(description, done, total)``.
ProgressCallback = Callable[[str, int, int], None]
#: Per-epoch model callback ``(epoch, epochs, metrics)`` (see :mod:`fairlatent.models.params`).
EpochCallback = Callable[[int, int, Mapping[str, float]], Any]


def run_audit(
    plan: AuditPlan,
    data: PreparedData,
    *,
    progress: ProgressCallback | None = None,
    callbacks: list[EpochCallback] | None = None,
    name: str | None = None,
    started: float | None = None,
) -> AuditResult:
    """Run the audit ``plan`` describes and return its result, built once.

    Parameters
    ----------
    plan : AuditPlan
        A validated plan (:func:`~fairlatent.engine.plan.audit_plan`).
    data : PreparedData
        The prepared rows the plan was made from (schema and data summary).
    progress : callable, optional
        Called as ``progress(description, done, total)`` before each step, and with ``"done"``
        at the end.
    callbacks : list of callable, optional
        Per-epoch callbacks handed to every VAE/GAN fit (serial runs).
    name : str, optional
        The data set's name, recorded in the data summary.
    started : float, optional
        :func:`time.perf_counter` when the audit began (default: now), for the recorded wall time.

    Returns
    -------
    AuditResult
    """
    started = time.perf_counter() if started is None else started
    cfg = plan.cfg
    device = device_name(cfg)
    runs = run_units(plan, progress, callbacks)
    train_first, test_first = first_test_rows(plan)
    records = [rec for run in runs for rec in run.records]
    summary = data_summary(data, train_first, test_first)
    if name is not None:
        summary["name"] = name
    leakage = [entry for run in runs if run.repeat == 0 for entry in run.info.get("leakage", [])]
    analyses = {
        "leakage": leakage,
        **_analyses(plan, records, runs, train_first, test_first, tuple(data.schema.sensitive)),
    }
    result = AuditResult(
        config=cfg,
        schema=data.schema,
        data_summary=summary,
        records=records,
        strategy_info=_strategy_info(plan, runs),
        tuning=[{"repeat": run.repeat, "strategy": run.strategy, **t} for run in runs for t in run.tuning],
        analyses=analyses,
        frontier=_frontier(records, test_first, cfg.target),
        environment=environment(device, time.perf_counter() - started),
        test_frame=test_first,
    )
    if progress:
        progress("done", 1, 1)
    return result


def run_units(
    plan: AuditPlan,
    progress: ProgressCallback | None = None,
    callbacks: list[EpochCallback] | None = None,
) -> list[StrategyRun]:
    """Run every unit of ``plan`` (serially with step progress, or through the configured backend).

    Returns
    -------
    list of StrategyRun
        Ordered by repeat, then by the configured order of the strategies.
    """
    cfg = plan.cfg
    units = plan_units(cfg)
    order = {name: i for i, name in enumerate(cfg.strategies)}
    if cfg.backend == "local" and cfg.jobs == 1:
        total = cfg.repeats * len(cfg.strategies) * (1 + len(cfg.classifiers))
        done = [0]

        def step(description: str) -> None:
            if progress:
                progress(description, done[0], total)
            done[0] += 1

        batches = [run_unit(plan, unit, progress=step, callbacks=callbacks) for unit in units]
    else:
        def finished(count: int, total: int) -> None:
            if progress:
                progress(f"{count}/{total} units done ({cfg.backend} backend)", count, total)

        batches = run_all(
            functools.partial(run_unit, plan),
            units,
            jobs=cfg.jobs,
            backend=cfg.backend,
            address=cfg.address,
            on_done=finished,
        )
    runs = [run for batch in batches for run in batch]
    return sorted(runs, key=lambda run: (run.repeat, order[run.strategy]))


def _strategy_info(plan: AuditPlan, runs: list[StrategyRun]) -> dict[str, dict[str, Any]]:
    """Per strategy: description, per-repeat fit time and rows, chosen strengths, diagnostics."""
    info: dict[str, dict[str, Any]] = {}
    for run in runs:
        entry = info.setdefault(
            run.strategy,
            {
                "description": plan.spec(run.strategy).description,
                "kind": run.info["kind"],
                "fitted_on": run.info["fitted_on"],
                "default_strength": run.info["default_strength"],
                "fit_seconds": [],
                "transform_seconds": [],
                "train_rows": [],
                "synthetic_rows": [],
                "weighted": run.info["weighted"],
                "chosen": {},
                "diagnostics": {},
            },
        )
        for key in ("fit_seconds", "transform_seconds", "train_rows", "synthetic_rows"):
            entry[key].append(run.info[key])
        for rec in run.records:
            entry["chosen"].setdefault(rec.classifier, []).append(rec.strength)
        if run.repeat == 0:
            entry["diagnostics"] = run.info["diagnostics"]
    return info


def _frontier(records: Sequence[RunRecord], test: pd.DataFrame, target: str) -> dict[str, Any]:
    """Price the fairness goal for each classifier's baseline scores (first repeat)."""
    return {
        rec.classifier: goal_frontier(
            rec.scores,
            test[target].to_numpy(),
            test[GROUP_COLUMN].to_numpy(),
            dp_max=GOAL["dp_difference"],
            eo_max=GOAL["eo_difference"],
        )
        for rec in records
        if rec.strategy == BASELINE and rec.repeat == 0 and rec.scores is not None
    }


def _analyses(
    plan: AuditPlan,
    records: Sequence[RunRecord],
    runs: Sequence[StrategyRun],
    train: pd.DataFrame,
    test: pd.DataFrame,
    sensitive: tuple[str, ...],
) -> dict[str, Any]:
    """Run every analysis some audited strategy feeds (or its option enables), in registry order."""
    cfg = plan.cfg
    first = [run for run in runs if run.repeat == 0]
    outputs = {run.strategy: run.output for run in first if run.output is not None}
    predictions = {(rec.strategy, rec.classifier): rec.y_pred for rec in records if rec.repeat == 0}
    models = {(run.strategy, clf): m for run in first for clf, m in run.models.items()}
    on_validation = {
        (run.strategy, clf): p for run in first for clf, p in run.validation_predictions.items()
    }
    found: dict[str, Any] = {}
    for spec in ANALYSES:
        enabled = spec.enabled_by is not None and bool(getattr(cfg, spec.enabled_by, False))
        feeding = {
            name: output
            for name, output in outputs.items()
            if enabled or spec.name in plan.spec(name).analyses
        }
        if not feeding and not enabled:
            continue
        inputs = AnalysisInput(
            outputs=feeding,
            train=train,
            test=test,
            target=cfg.target,
            group_column=GROUP_COLUMN,
            predictions=predictions,
            random_state=cfg.seed,
            validation=make_split(plan, 0).validation if enabled else None,
            models=models,
            validation_predictions=on_validation,
            sensitive=sensitive,
            features=tuple(plan.features.columns),
            options={"device": cfg.device, "epochs": cfg.epochs, "n_boot": cfg.n_boot},
        )
        analysis = spec.compute(inputs)
        if analysis is not None:
            found[spec.name] = analysis
    return found
