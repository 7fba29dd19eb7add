"""The audit of a model the user already has: its predictions or scores on every row.

No split and no training: each prediction column (or the decisions a score makes under a
threshold, top-k or top-percent rule) is evaluated on **all** rows, as one record of the same
:class:`~fairlatent.results.AuditResult` a training audit builds (strategy ``none``, classifier = the
column's name), so its findings, report and ``metrics.json`` come from the same machinery. On top:

* ``analyses["scores"]``: AUC with intervals, ROC curves, ABROCA and calibration within groups of
  the score (:func:`~fairlatent.metrics.scores.score_metrics`), and which of calibration within
  groups and equal error rates the data shows (:func:`~fairlatent.results.tradeoff.tradeoff`);
* ``analyses["models_compared"]``: with two or more models, every finding's paired change against
  the first model (:func:`~fairlatent.results.models_compared.compare_models`);
* ``analyses["representation"]``: the VAE-based representation audit of the feature columns, with
  each model's errors by latent rarity (``latent_view``: every registered analysis that reads the
  fitted latent model runs, so latent slice discovery hooks in by registering itself).

Every check of the user's columns happens before any work and raises a
:class:`~fairlatent.exceptions.DataError` or :class:`~fairlatent.exceptions.ConfigError` of one line.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.config import AuditConfig
from fairlatent.data.groups import normalise_label
from fairlatent.data.prepare import prepare_data
from fairlatent.data.schema import GROUP_COLUMN, PreparedData
from fairlatent.data.summary import data_summary
from fairlatent.engine.environment import NO_NEURAL_DEVICE, environment
from fairlatent.exceptions import ConfigError, DataError
from fairlatent.metrics.count_evaluation import evaluate_from_counts
from fairlatent.metrics.fairness import Evaluation
from fairlatent.metrics.scores import decisions_from_scores, score_metrics
from fairlatent.metrics.simultaneous import FindingFamily
from fairlatent.policy import BASELINE
from fairlatent.results import AuditResult, RunRecord
from fairlatent.results.findings import ModelFindings, model_findings
from fairlatent.results.models_compared import GIVEN_KIND, compare_models
from fairlatent.results.tradeoff import tradeoff

logger = logging.getLogger(__name__)

__all__ = [
    "LATENT_VIEW_ROWS",
    "ModelOutputs",
    "audit_model_outputs",
    "column_outputs",
    "latent_view",
]

#: Most rows the latent view fits its VAE on and audits (a seeded sample of larger data).
LATENT_VIEW_ROWS = 20_000
#: Fewest bootstrap replicates for the paired comparison of models (the bootstrap-max's minimum).
MIN_PAIRED_BOOT = 20
#: Description of the baseline "strategy" of a prediction audit.
GIVEN = "the model's decisions as given (no training, every row)"

MSG_NO_COLUMN = "{what} column {column!r} not found; available columns: {available}"
MSG_ROLE_CLASH = "{what} column {column!r} is also {role}; audit a column of the model's output"
MSG_PRED_MISSING = (
    "prediction column {column!r} has {count} missing value(s); give a decision for every row "
    "(or drop those rows)"
)
MSG_PRED_LABELS = (
    "prediction column {column!r} holds {values}, outside the target {target!r}'s labels "
    "({labels}); predictions must use the target's labels"
)
MSG_CONSTANT = (
    "{what} {column!r} decides {value!r} for every row; an audit compares decisions, so it needs "
    "both outcomes (check the column{hint})"
)
MSG_SCORE_TYPE = (
    "score column {column!r} is not numeric (it holds e.g. {example!r}); pass a column of numbers "
    "where higher means the favourable label is more likely"
)
MSG_SCORE_MISSING = (
    "score column {column!r} has {count} missing or infinite value(s); give a finite score for "
    "every row (or drop those rows)"
)
MSG_TOP_K = "--top-k {k} is larger than the {rows} rows; choose K from 1 to {rows}"
MSG_TOP_PERCENT = "--top-percent {p} is out of range; choose P above 0 and below 100"
MSG_MODEL_PREDICT = (
    "the model's predict failed on the frame's columns ({error}); pass the frame it was fitted "
    "on (every column but the target)"
)
MSG_MODEL_LENGTH = "the model's {method} returned {found} values for {rows} rows; it must give one per row"
MSG_MODEL_PROBA = (
    "the model's predict_proba failed ({error}); the audit needs it for the score metrics"
)


@dataclass
class ModelOutputs:
    """What one audited model produced on the rows, before checks.

    Attributes
    ----------
    decisions : dict
        Model name -> raw predicted labels (in the target's label space), one per row.
    scores : dict
        Model name -> raw scores (higher = favourable unless ``direction`` says otherwise).
    direction : str
        ``"higher"`` or ``"lower"``: which way the scores point.
    sources : dict
        Model name -> what it is, in words (``"prediction column"``, ``"score column"``, ...).
    """

    decisions: dict[str, np.ndarray] = field(default_factory=dict)
    scores: dict[str, np.ndarray] = field(default_factory=dict)
    direction: str = "higher"
    sources: dict[str, str] = field(default_factory=dict)


def _available(frame: pd.DataFrame) -> str:
    return ", ".join(map(str, frame.columns[:20])) + (" …" if frame.shape[1] > 20 else "")


def column_outputs(frame: pd.DataFrame, cfg: AuditConfig) -> ModelOutputs:
    """Read the prediction and score columns ``cfg`` names from ``frame`` (raw values).

    Raises
    ------
    DataError
        A named column is missing or is the target or a sensitive column.
    """
    sensitive = {s.split(":", 1)[0] for s in cfg.sensitive}
    out = ModelOutputs(direction=cfg.score_direction)
    wanted = [("prediction", c) for c in cfg.prediction] + (
        [("score", cfg.score)] if cfg.score else []
    )
    for what, column in wanted:
        if column not in frame.columns:
            raise DataError(MSG_NO_COLUMN.format(what=what, column=column, available=_available(frame)))
        if column == cfg.target or column in sensitive:
            role = "the target" if column == cfg.target else "a sensitive attribute"
            raise DataError(MSG_ROLE_CLASH.format(what=what, column=column, role=role))
    for column in cfg.prediction:
        out.decisions[column] = frame[column].to_numpy()
        out.sources[column] = "prediction column"
    if cfg.score:
        out.scores[cfg.score] = frame[cfg.score].to_numpy()
        out.sources.setdefault(cfg.score, "score column")
    return out


def oriented_scores(column: str, raw: np.ndarray, direction: str) -> np.ndarray:
    """Check a score column and orient it so that higher means favourable.

    A ``lower`` score in [0, 1] becomes ``1 - score`` (the probability of the favourable label
    when the score is one of the unfavourable label); any other ``lower`` score is negated.

    Raises
    ------
    DataError
        Not numeric, or missing/infinite values.
    """
    series = pd.Series(raw)
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        converted = pd.to_numeric(series, errors="coerce")
        bad = series[converted.isna() & series.notna()]
        if len(bad) or pd.api.types.is_bool_dtype(series):
            example = bad.iloc[0] if len(bad) else series.iloc[0]
            raise DataError(MSG_SCORE_TYPE.format(column=column, example=example))
        series = converted
    values = series.to_numpy(dtype=float)
    bad_count = int((~np.isfinite(values)).sum())
    if bad_count:
        raise DataError(MSG_SCORE_MISSING.format(column=column, count=bad_count))
    if direction == "higher":
        return values
    if np.all((values >= 0) & (values <= 1)):
        return 1.0 - values
    return -values


def _labels_of(series: pd.Series) -> pd.Series:
    """Normalised label text of every value, normalising each distinct value once."""
    codes, uniques = pd.factorize(series)
    text = np.array([normalise_label(v) for v in uniques], dtype=object)
    return pd.Series(text[codes], index=series.index)


def _binary_decisions(column: str, raw: np.ndarray, schema: Any, labels: list[str]) -> np.ndarray:
    """Map predicted labels onto 1 (the favourable label) and 0, refusing labels the target lacks."""
    series = pd.Series(raw)
    missing = int(series.isna().sum())
    if missing:
        raise DataError(MSG_PRED_MISSING.format(column=column, count=missing))
    text = _labels_of(series)
    outside = sorted(set(text.unique()) - set(labels))
    if outside:
        shown = ", ".join(repr(v) for v in outside[:5]) + (" …" if len(outside) > 5 else "")
        raise DataError(
            MSG_PRED_LABELS.format(column=column, values=shown, target=schema.target,
                                   labels=", ".join(repr(v) for v in labels))
        )
    return (text == schema.positive_label).to_numpy(dtype=np.int64)


def _check_rule(cfg: AuditConfig, rows: int) -> None:
    if cfg.top_k is not None and not 1 <= cfg.top_k <= rows:
        raise ConfigError(MSG_TOP_K.format(k=cfg.top_k, rows=rows))
    if cfg.top_percent is not None and not 0 < cfg.top_percent < 100:
        raise ConfigError(MSG_TOP_PERCENT.format(p=cfg.top_percent))


def _score_decisions(cfg: AuditConfig, raw: np.ndarray, oriented: np.ndarray) -> np.ndarray:
    if cfg.threshold is not None:
        values = np.asarray(pd.to_numeric(pd.Series(raw)), dtype=float)
        above = values >= cfg.threshold if cfg.score_direction == "higher" else values <= cfg.threshold
        return above.astype(np.int64)
    return decisions_from_scores(oriented, top_k=cfg.top_k, top_percent=cfg.top_percent)


def _check_constant(name: str, decisions: np.ndarray, schema: Any, source: str) -> None:
    if len(decisions) and decisions.min() == decisions.max():
        value = schema.positive_label if decisions[0] == 1 else schema.negative_label
        hint = " or the threshold / top-k rule" if source != "prediction column" else ""
        raise DataError(MSG_CONSTANT.format(what=source, column=name, value=value, hint=hint))


def _prepare_rows(frame: pd.DataFrame, cfg: AuditConfig) -> tuple[pd.DataFrame, PreparedData]:
    """Rows with a target (the audited rows) and their prepared frame (audited columns kept)."""
    if cfg.target not in frame.columns:
        raise DataError(MSG_NO_COLUMN.format(what="target", column=cfg.target,
                                              available=_available(frame)))
    kept = frame.loc[frame[cfg.target].notna()].reset_index(drop=True)
    data = prepare_data(kept, cfg)
    if len(data.frame) != len(kept):  # prepare drops only rows without a target
        raise DataError(
            f"preparing the data kept {len(data.frame)} of {len(kept)} rows; the audited rows and "
            "the model's outputs would no longer line up"
        )
    return kept, data


def audit_model_outputs(
    frame: pd.DataFrame,
    cfg: AuditConfig,
    outputs: ModelOutputs | None = None,
    *,
    model_outputs: Callable[[pd.DataFrame, Any], ModelOutputs] | None = None,
    name: str | None = None,
) -> AuditResult:
    """Audit the decisions (and scores) of the user's model(s) on every row of ``frame``.

    Parameters
    ----------
    frame : DataFrame
        Raw rows: the target, the sensitive columns, the features and (for column audits) the
        prediction and score columns.
    cfg : AuditConfig
        A validated configuration in prediction mode (``prediction`` or ``score`` set), or any
        validated configuration when ``model_outputs`` is given.
    outputs : ModelOutputs, optional
        The model outputs to audit, aligned with the rows of ``frame`` that have a target;
        default: the columns ``cfg`` names.
    model_outputs : callable, optional
        ``(rows, schema) -> ModelOutputs`` called on the raw rows that have a target and the
        prepared schema (``audit_model``).
    name : str, optional
        The data set's name, recorded in the data summary.

    Returns
    -------
    AuditResult
    """
    started = time.perf_counter()
    audited = set(cfg.prediction) | ({cfg.score} if cfg.score else set())
    kept, data = _prepare_rows(frame, cfg)
    schema = data.schema
    if model_outputs is not None:
        outputs = model_outputs(kept, schema)
    elif outputs is None:
        outputs = column_outputs(kept, cfg)
    labels = sorted({normalise_label(v) for v in pd.unique(kept[cfg.target])})
    decisions: dict[str, np.ndarray] = {}
    for name, raw in outputs.decisions.items():
        decisions[name] = _binary_decisions(name, raw, schema, labels)
    scores = {name: oriented_scores(name, raw, outputs.direction) for name, raw in outputs.scores.items()}
    if cfg.score and not cfg.prediction and cfg.score in scores:
        _check_rule(cfg, len(kept))
        decisions[cfg.score] = _score_decisions(cfg, outputs.scores[cfg.score], scores[cfg.score])
    for name, dec in decisions.items():
        _check_constant(name, dec, schema, outputs.sources.get(name, "model"))
    if not decisions:
        raise ConfigError("nothing to audit: give a prediction column, or a score with a decision rule")
    schema.features = [c for c in schema.features if c not in audited]
    for column in sorted(audited):
        schema.notices.append(f"column {column!r} is the audited model's output, not a feature")
    prepared = data.frame
    y = prepared[cfg.target].to_numpy(dtype=np.int64)
    groups = prepared[GROUP_COLUMN].to_numpy()
    names = list(decisions)
    evaluations: dict[str, Evaluation] = {}
    records = []
    for name in names:
        evaluation = evaluate_from_counts(
            y, decisions[name], groups, n_boot=cfg.n_boot, random_state=cfg.seed,
            min_support=cfg.min_test_support, reference=cfg.reference,
        )
        evaluations[name] = evaluation
        records.append(
            RunRecord(
                repeat=0, strategy=BASELINE, classifier=name, evaluation=evaluation,
                y_pred=decisions[name], fit_seconds=0.0, scores=scores.get(name),
                findings=_findings(y, decisions[name], groups, cfg, name, scores.get(name)),
            )
        )
    cfg = copy.copy(cfg)  # the caller's configuration stays as it was
    cfg.strategies, cfg.classifiers = [BASELINE], names  # (names kept verbatim, not re-parsed)
    families = (
        {rec.classifier: rec.findings.family for rec in records if rec.findings is not None}
        if cfg.n_boot >= MIN_PAIRED_BOOT
        else {}
    )
    analyses: dict[str, Any] = {}
    if scores:
        analyses["scores"] = _score_analysis(y, scores, groups, cfg, families, evaluations)
    compared = compare_models(families, evaluations) if len(families) >= 2 else None
    if compared is not None:
        analyses["models_compared"] = compared
    if cfg.latent_view:
        analyses.update(latent_view(prepared, schema, cfg, decisions))
    device = NO_NEURAL_DEVICE if "representation" not in analyses else cfg.device
    summary = data_summary(data, prepared.iloc[:0], prepared)
    if name is not None:
        summary["name"] = name
    return AuditResult(
        config=cfg,
        schema=schema,
        data_summary=summary,
        records=records,
        strategy_info={BASELINE: _given_info(len(prepared))},
        analyses=analyses,
        environment=environment(device, time.perf_counter() - started),
        test_frame=prepared,
    )


def _given_info(rows: int) -> dict[str, Any]:
    return {
        "description": GIVEN,
        "kind": GIVEN_KIND,
        "fitted_on": "nothing (the model was trained elsewhere)",
        "default_strength": "default",
        "fit_seconds": [0.0],
        "transform_seconds": [0.0],
        "train_rows": [0],
        "synthetic_rows": [0],
        "weighted": False,
        "chosen": {},
        "diagnostics": {"audited_rows": rows},
    }


def _findings(
    y: np.ndarray,
    pred: np.ndarray,
    groups: np.ndarray,
    cfg: AuditConfig,
    name: str,
    scores: np.ndarray | None,
) -> ModelFindings:
    """One model's sanity check and simultaneous findings, on the evaluation's replicates."""
    try:
        return model_findings(
            y, pred, groups, classifier=name, strategy=BASELINE, repeat=0, scores=scores,
            reference=cfg.reference, n_boot=cfg.n_boot, random_state=cfg.seed,
            min_support=cfg.min_test_support,
        )
    except ValueError as err:  # a --reference too small to judge
        raise ConfigError(
            f"{err} (--reference {cfg.reference!r} with --min-test-support {cfg.min_test_support}); "
            "pass another --reference or a lower --min-test-support"
        ) from None


def _score_analysis(
    y: np.ndarray,
    scores: Mapping[str, np.ndarray],
    groups: np.ndarray,
    cfg: AuditConfig,
    families: Mapping[str, FindingFamily],
    evaluations: Mapping[str, Evaluation],
) -> dict[str, Any]:
    reference = next(iter(evaluations.values())).reference
    out: dict[str, Any] = {"direction": cfg.score_direction, "models": {}}
    for name, values in scores.items():
        metrics = score_metrics(
            y, values, groups, reference=reference, n_boot=cfg.n_boot, random_state=cfg.seed,
            min_support=cfg.min_test_support,
        )
        decided_by = name if name in families else next(iter(families), None)
        metrics["tradeoff"] = tradeoff(metrics, families.get(decided_by) if decided_by else None,
                                       decided_by)
        out["models"][name] = metrics
    return out


def latent_view(
    prepared: pd.DataFrame,
    schema: Any,
    cfg: AuditConfig,
    decisions: Mapping[str, np.ndarray],
) -> dict[str, Any]:
    """Run the latent analyses on the feature columns, with each model's errors.

    A :class:`~fairlatent.samplers.LatentDensityResampler` is fitted on (a seeded sample of at most
    :data:`LATENT_VIEW_ROWS` of) the rows' features and label, and its latent model is handed, as
    the artifact of a baseline strategy output, to **every registered analysis**
    (:data:`~fairlatent.metrics.analyses.ANALYSES`) with the models' decisions as predictions: the
    representation audit (who lives in the sparse regions of the latent space, and where each
    model's errors concentrate) and any analysis registered later that reads the latent model —
    latent slice discovery hooks in here by registering itself, with no change to this function.

    Returns
    -------
    dict
        Analysis name -> its output (empty when the data has no feature columns besides the
        audited ones).
    """
    if not schema.features:
        schema.notices.append("no feature columns besides the audited ones: the latent view was skipped")
        return {}
    from fairlatent.metrics.analyses import ANALYSES, AnalysisInput
    from fairlatent.samplers import LatentDensityResampler
    from fairlatent.strategies.base import ARTIFACT_LATENT_MODEL, StrategyOutput

    limit = min(cfg.fit_sample or LATENT_VIEW_ROWS, LATENT_VIEW_ROWS)
    rows = np.arange(len(prepared))
    if len(rows) > limit:
        rows = np.sort(np.random.default_rng(cfg.seed).choice(rows, size=limit, replace=False))
        schema.notices.append(
            f"the latent view uses a seeded sample of {limit:,} of the {len(prepared):,} rows"
        )
    sample = prepared.iloc[rows].reset_index(drop=True)
    columns = schema.features + schema.sensitive
    resampler = LatentDensityResampler(
        sensitive=schema.sensitive, epochs=cfg.epochs, device=cfg.device, random_state=cfg.seed,
        sampling="weights",
    )
    resampler.fit(sample[columns], sample[cfg.target], groups=sample[GROUP_COLUMN])
    output = StrategyOutput(frame=sample, artifacts={ARTIFACT_LATENT_MODEL: resampler.latent_model_})
    inputs = AnalysisInput(
        outputs={BASELINE: output},
        train=sample,
        test=sample,
        target=cfg.target,
        group_column=GROUP_COLUMN,
        predictions={(BASELINE, name): dec[rows] for name, dec in decisions.items()},
        random_state=cfg.seed,
    )
    views: dict[str, Any] = {}
    for spec in ANALYSES:
        view = spec.compute(inputs)
        if view is not None:
            view["given"] = {"rows": len(prepared), "sampled": len(rows) < len(prepared)}
            views[spec.name] = view
    return views
