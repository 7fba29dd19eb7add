"""The one orchestration path: data -> split -> strategies -> classifiers -> fairlearn metrics."""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.classifiers import make_classifier, split_feature_kinds, stratified_split
from fairlatent.config import AuditConfig
from fairlatent.data.schema import GROUP_COLUMN, PreparedData, Schema, prepare
from fairlatent.metrics.fairness import (
    GROUP_METRICS,
    SUMMARY_METRICS,
    Evaluation,
    evaluate_predictions,
)
from fairlatent.strategies import StrategyContext, StrategyOutput, get_strategy

logger = logging.getLogger(__name__)

#: Strategies that train neural generative models (and so use the device).
GENERATIVE_STRATEGIES = frozenset({"vae", "gan", "vae+gan"})

ProgressCallback = Callable[[str, int, int], None]


@dataclass
class RunRecord:
    """Predictions and evaluation of one (repeat, strategy, classifier)."""

    repeat: int
    strategy: str
    classifier: str
    evaluation: Evaluation
    y_pred: np.ndarray
    fit_seconds: float
    scores: np.ndarray | None = None


@dataclass
class AuditResult:
    """Everything an audit measured.

    Attributes
    ----------
    config : AuditConfig
        The options the audit ran with.
    schema : Schema
        Column kinds, roles and data decisions.
    data_summary : dict
        Row counts, group sizes and base rates, missing values.
    records : list of RunRecord
        One per (repeat, strategy, classifier).
    strategy_info : dict
        Strategy name -> description, fit times, training-set sizes and diagnostics.
    representation : dict or None
        The latent representation audit (when the ``vae`` strategy ran).
    synthesis : dict or None
        Synthetic-data quality per generative strategy (when ``gan`` or ``vae+gan`` ran).
    frontier : dict
        Classifier -> the best accuracy any group-aware thresholding of the baseline's scores reaches
        under the fairness goal (see :func:`fairlatent.metrics.frontier.goal_frontier`).
    environment : dict
        Versions, device and timings.
    test_frame : DataFrame
        Real held-out rows of the first repeat (not serialised).
    """

    config: AuditConfig
    schema: Schema
    data_summary: dict[str, Any]
    records: list[RunRecord]
    strategy_info: dict[str, dict[str, Any]]
    representation: dict[str, Any] | None = None
    synthesis: dict[str, Any] | None = None
    frontier: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    test_frame: pd.DataFrame | None = None
    command: str | None = None

    @property
    def metrics(self) -> pd.DataFrame:
        """Tidy summary metrics: strategy, classifier, repeat, metric, value, ci_low, ci_high."""
        rows = []
        for rec in self.records:
            for name in SUMMARY_METRICS:
                low, high = rec.evaluation.summary_ci.get(name, (np.nan, np.nan))
                rows.append(
                    (
                        rec.strategy,
                        rec.classifier,
                        rec.repeat,
                        name,
                        rec.evaluation.summary[name],
                        low,
                        high,
                    )
                )
        return pd.DataFrame(
            rows,
            columns=["strategy", "classifier", "repeat", "metric", "value", "ci_low", "ci_high"],
        )

    @property
    def by_group(self) -> pd.DataFrame:
        """Tidy per-group metrics: strategy, classifier, repeat, group, metric, value, ci_low, ci_high."""
        rows = []
        for rec in self.records:
            table = rec.evaluation.by_group
            for group in table.index:
                for name in GROUP_METRICS:
                    low = table.at[group, f"{name}_low"] if f"{name}_low" in table else np.nan
                    high = table.at[group, f"{name}_high"] if f"{name}_high" in table else np.nan
                    rows.append(
                        (
                            rec.strategy,
                            rec.classifier,
                            rec.repeat,
                            group,
                            name,
                            float(table.at[group, name]),
                            float(low),
                            float(high),
                        )
                    )
        return pd.DataFrame(
            rows,
            columns=[
                "strategy",
                "classifier",
                "repeat",
                "group",
                "metric",
                "value",
                "ci_low",
                "ci_high",
            ],
        )

    def summary(self) -> pd.DataFrame:
        """Summary metrics averaged over repeats.

        Returns
        -------
        DataFrame
            Index (strategy, classifier); for each metric ``<metric>`` (mean over repeats),
            ``<metric>_std`` (spread over repeats, NaN for one repeat) and ``<metric>_low`` /
            ``<metric>_high`` (bootstrap interval of the first repeat).
        """
        tidy = self.metrics
        grouped = tidy.groupby(["strategy", "classifier", "metric"], sort=False)
        mean = grouped["value"].mean().unstack("metric")
        std = grouped["value"].std(ddof=1).unstack("metric").add_suffix("_std")
        first = tidy[tidy["repeat"] == tidy["repeat"].min()].set_index(
            ["strategy", "classifier", "metric"]
        )
        low = first["ci_low"].unstack("metric").add_suffix("_low")
        high = first["ci_high"].unstack("metric").add_suffix("_high")
        table = pd.concat([mean[list(SUMMARY_METRICS)], std, low, high], axis=1)
        order = [(s, c) for s in self.config.strategies for c in self.config.classifiers]
        return table.reindex([o for o in order if o in table.index])

    def verdict(self) -> list[dict[str, Any]]:
        """For each classifier, the fairest strategy and its accuracy cost against ``none``.

        Fairest means the lowest mean of the demographic-parity and equalized-odds differences.

        Returns
        -------
        list of dict
            One per classifier, with baseline and best figures and a one-sentence ``text``.
        """
        from fairlatent.report.verdict import build_verdict

        return build_verdict(self)

    def to_json(self) -> dict[str, Any]:
        """Build the ``metrics.json`` document (see the README for its schema)."""
        from fairlatent.report.json_writer import result_to_json

        return result_to_json(self)

    def to_html(self, path: str | Path) -> Path:
        """Write the self-contained HTML report to ``path`` and return it."""
        from fairlatent.report.html import write_html

        return write_html(self, Path(path))

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``report.html`` and ``metrics.json`` into ``out_dir`` (created if needed)."""
        from fairlatent.report import write_outputs

        return write_outputs(self, Path(out_dir))


def audit(
    frame: pd.DataFrame,
    *,
    target: str | None = None,
    sensitive: list[str] | str | None = None,
    config: AuditConfig | None = None,
    progress: ProgressCallback | None = None,
    **options: Any,
) -> AuditResult:
    """Audit models trained on ``frame`` for group unfairness and compare mitigation strategies.

    Parameters
    ----------
    frame : DataFrame
        Raw data, one row per individual.
    target : str, optional
        Target column (overrides ``config.target``).
    sensitive : str or list of str, optional
        Sensitive attributes (overrides ``config.sensitive``); see :class:`AuditConfig`.
    config : AuditConfig, optional
        Full configuration; ``target``, ``sensitive`` and ``options`` override its fields.
    progress : callable, optional
        Called as ``progress(description, done, total)`` after each step.
    **options
        Any other :class:`AuditConfig` field, e.g. ``strategies=["none", "reweigh"]``.

    Returns
    -------
    AuditResult

    Examples
    --------
    >>> import fairlatent
    >>> result = fairlatent.audit(df, target="income", sensitive="sex")  # doctest: +SKIP
    >>> result.summary()[["accuracy", "dp_difference", "eo_difference"]]  # doctest: +SKIP
    """
    base = config.to_dict() if config is not None else {}
    overrides = {"target": target, "sensitive": sensitive, **options}
    cfg = AuditConfig.from_mapping(base, **overrides).validate()
    started = time.perf_counter()
    data = prepare(
        frame,
        target=cfg.target,
        sensitive=cfg.sensitive,
        positive_label=cfg.positive_label,
        min_group_size=cfg.min_group_size,
        drop=cfg.drop,
        max_categories=cfg.max_categories,
    )
    features = data.schema.features + (data.schema.sensitive if cfg.include_sensitive else [])
    numeric, categorical = split_feature_kinds(data.frame, features)
    device = _device_name(cfg)

    total = cfg.repeats * len(cfg.strategies) * (1 + len(cfg.classifiers))
    done = 0
    records: list[RunRecord] = []
    strategy_info: dict[str, dict[str, Any]] = {}
    outputs_first: dict[str, StrategyOutput] = {}
    test_first: pd.DataFrame | None = None
    train_first: pd.DataFrame | None = None
    for repeat in range(cfg.repeats):
        seed = cfg.seed + repeat
        train, test = stratified_split(
            data.frame, target=cfg.target, test_size=cfg.test_size, random_state=seed
        )
        if repeat == 0:
            test_first, train_first = test, train
        context = StrategyContext(
            target=cfg.target,
            sensitive=data.schema.sensitive,
            group_column=GROUP_COLUMN,
            random_state=seed,
            device=cfg.device,
            epochs=cfg.epochs,
            options=cfg.strategy_options,
        )
        for name in cfg.strategies:
            if progress:
                progress(f"repeat {repeat + 1}/{cfg.repeats}: strategy {name}", done, total)
            strategy = get_strategy(name, **cfg.strategy_options.get(name, {}))
            output = strategy.apply(train, context)
            done += 1
            _record_strategy(strategy_info, strategy, output, repeat)
            if repeat == 0:
                outputs_first[name] = output
            for clf_name in cfg.classifiers:
                if progress:
                    progress(
                        f"repeat {repeat + 1}/{cfg.repeats}: {name} -> {clf_name}", done, total
                    )
                t0 = time.perf_counter()
                y_pred, scores = _fit_predict(
                    clf_name, output, test, numeric, categorical, cfg.target, seed
                )
                fit_seconds = time.perf_counter() - t0
                evaluation = evaluate_predictions(
                    test[cfg.target].to_numpy(),
                    y_pred,
                    test[GROUP_COLUMN].to_numpy(),
                    n_boot=cfg.n_boot,
                    random_state=seed,
                )
                records.append(
                    RunRecord(repeat, name, clf_name, evaluation, y_pred, fit_seconds, scores)
                )
                done += 1
    if progress:
        progress("done", total, total)
    assert train_first is not None and test_first is not None  # repeats >= 1 (validated)
    result = AuditResult(
        config=cfg,
        schema=data.schema,
        data_summary=_data_summary(data, train_first, test_first),
        records=records,
        strategy_info=strategy_info,
        test_frame=test_first,
        environment=_environment(device, time.perf_counter() - started),
    )
    _add_frontier(result, test_first)
    _add_generative_sections(result, outputs_first, train_first, test_first)
    return result


def _fit_predict(
    clf_name: str,
    output: StrategyOutput,
    test: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    target: str,
    seed: int,
) -> np.ndarray:
    pipeline = make_classifier(
        clf_name, numeric=numeric, categorical=categorical, random_state=seed
    )
    columns = numeric + categorical
    fit_params = {}
    if output.sample_weight is not None:
        fit_params["model__sample_weight"] = np.asarray(output.sample_weight, dtype=float)
    pipeline.fit(output.frame[columns], output.frame[target].astype(int).to_numpy(), **fit_params)
    scores = pipeline.predict_proba(test[columns])[:, 1]
    return (scores >= 0.5).astype(int), scores


def _add_frontier(result: AuditResult, test: pd.DataFrame) -> None:
    """Price the fairness goal for each classifier's baseline scores (first repeat)."""
    from fairlatent.metrics.frontier import goal_frontier
    from fairlatent.report.verdict import GOAL

    for rec in result.records:
        if rec.strategy == "none" and rec.repeat == 0 and rec.scores is not None:
            result.frontier[rec.classifier] = goal_frontier(
                rec.scores,
                test[result.config.target].to_numpy(),
                test[GROUP_COLUMN].to_numpy(),
                dp_max=GOAL["dp_difference"],
                eo_max=GOAL["eo_difference"],
            )


def _record_strategy(
    info: dict[str, dict[str, Any]], strategy: Any, output: StrategyOutput, repeat: int
) -> None:
    entry = info.setdefault(
        strategy.name,
        {
            "description": strategy.description,
            "fit_seconds": [],
            "train_rows": [],
            "synthetic_rows": [],
            "weighted": output.sample_weight is not None,
            "diagnostics": {},
        },
    )
    entry["fit_seconds"].append(round(output.fit_seconds, 3))
    entry["train_rows"].append(len(output.frame))
    entry["synthetic_rows"].append(int(np.sum(output.is_synthetic)))
    if repeat == 0:
        entry["diagnostics"] = output.diagnostics


def _add_generative_sections(
    result: AuditResult,
    outputs: dict[str, StrategyOutput],
    train: pd.DataFrame,
    test: pd.DataFrame,
) -> None:
    """Representation audit (from the VAE) and synthetic-data quality (from the GAN strategies)."""
    vae_output = outputs.get("vae")
    if vae_output is not None and "latent_model" in vae_output.artifacts:
        from fairlatent.metrics.representation import representation_audit

        predictions = {
            (rec.strategy, rec.classifier): rec.y_pred for rec in result.records if rec.repeat == 0
        }
        result.representation = representation_audit(
            vae_output.artifacts["latent_model"],
            train=train,
            test=test,
            target=result.config.target,
            group_column=GROUP_COLUMN,
            predictions=predictions,
            random_state=result.config.seed,
        )
    if any(np.any(o.is_synthetic) for o in outputs.values()):
        from fairlatent.metrics.synthesis_audit import synthesis_audit

        result.synthesis = synthesis_audit(
            outputs,
            train=train,
            test=test,
            target=result.config.target,
            group_column=GROUP_COLUMN,
            random_state=result.config.seed,
        )


def _data_summary(data: PreparedData, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    frame = data.frame
    target = data.schema.target
    groups = (
        frame.groupby(GROUP_COLUMN, observed=True)[target]
        .agg(rows="size", base_rate="mean")
        .sort_values("rows", ascending=False)
    )
    groups["share"] = groups["rows"] / len(frame)
    groups["test_rows"] = (
        test[GROUP_COLUMN].value_counts().reindex(groups.index).fillna(0).astype(int)
    )
    positives = test.loc[test[target] == 1, GROUP_COLUMN].value_counts()
    groups["test_positives"] = positives.reindex(groups.index).fillna(0).astype(int)
    return {
        "rows": len(frame),
        "train_rows": len(train),
        "test_rows": len(test),
        "base_rate": float(frame[target].mean()),
        "groups": [
            {
                "group": str(g),
                "rows": int(r.rows),
                "share": float(r.share),
                "base_rate": float(r.base_rate),
                "test_rows": int(r.test_rows),
                "test_positives": int(r.test_positives),
                "test_negatives": int(r.test_rows - r.test_positives),
            }
            for g, r in groups.iterrows()
        ],
        "missing": {c.name: c.n_missing for c in data.schema.columns if c.n_missing > 0},
    }


def _device_name(cfg: AuditConfig) -> str:
    if not GENERATIVE_STRATEGIES & set(cfg.strategies):
        return "cpu (no neural models trained)"
    from fairlatent.models.device import resolve_device

    return str(resolve_device(cfg.device))


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _environment(device: str, seconds: float) -> dict[str, Any]:
    packages = ["fairlatent", "numpy", "pandas", "scikit-learn", "fairlearn", "torch", "matplotlib"]
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {p: _package_version(p) for p in packages},
        "device": device,
        "seconds": round(seconds, 2),
    }


def load_and_audit(
    path: str | Path, config: AuditConfig, progress: ProgressCallback | None = None
) -> AuditResult:
    """Read ``path`` (CSV or Parquet) and run :func:`audit` with ``config``."""
    from fairlatent.data.io import data_stem, read_table

    result = audit(read_table(path), config=config, progress=progress)
    result.data_summary["name"] = data_stem(path)
    return result
