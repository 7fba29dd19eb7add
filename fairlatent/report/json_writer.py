"""The machine-readable ``metrics.json`` document.

Schema (``schema_version`` 1), all numbers are floats or null:

- ``schema_version``, ``fairlatent_version``, ``created`` (ISO time), ``command``
- ``config``: the :class:`~fairlatent.config.AuditConfig` as a mapping
- ``schema``: columns (name, kind, role, dtype, n_missing, n_unique), dropped columns with reasons,
  binned sensitive attributes, merged groups, inferred positive label, notices
- ``data``: rows, train_rows, test_rows, base_rate, groups (group, rows, share, base_rate, test_rows),
  missing (column -> count)
- ``results``: one entry per (strategy, classifier, repeat): ``summary`` (metric -> value),
  ``summary_ci`` (metric -> [low, high], 95% bootstrap), ``compared_groups`` and
  ``too_small_groups`` (test support), ``reference`` and ``reference_view`` (every group against the
  reference: ratio and difference of selection rate, TPR, FPR with intervals and status),
  ``by_group`` (group -> metric -> value, with ``<metric>_low``/``<metric>_high``),
  ``classifier_fit_seconds``
- ``summary``: one entry per (strategy, classifier): each metric's mean over repeats and ``<metric>_std``
- ``headline``: the favourable label, the groups compared and those too small to judge
- ``next_steps``: what to do next, in plain words
- ``comparison``: per (classifier, strategy), each table metric's change against the baseline with
  its paired-bootstrap interval and mark (better, worse, same = no clear change)
- ``verdict``: per classifier, the headline (see :func:`fairlatent.results.build_verdict`)
- ``tuning``: per (repeat, strategy, classifier), the strengths scored on validation rows (accuracy,
  DP/EO differences, objective, within budget) and the one chosen
- ``strategies``: per strategy, description, fit_seconds, train_rows, synthetic_rows, diagnostics
- one key per registered analysis (:mod:`fairlatent.metrics.analyses`), null when it did not run:
  ``representation`` (the latent representation audit), ``synthesis`` (synthetic-data quality per
  generative strategy)
- ``slices`` (null with ``--no-latent-audit``): one entry per candidate slice of the latent audit
  (:mod:`fairlatent.metrics.slices`): ``classifier``, ``strategy``, ``conditions`` (a conjunction
  of ``{column, op, value}``, op one of ``==``, ``!=``, ``<=``, ``>``, ``in``), ``size`` (test
  rows), ``metric`` (``error_rate``), ``value`` (the slice's), ``rest_value`` (the other test
  rows'), ``low``/``high`` (interval of ``value - rest_value``, simultaneous over every candidate
  tested, null when too small to test), ``state`` (``certified`` when ``low > 0``, else
  ``not_certified``), plus ``rule``, ``difference``, the selection rates with their simultaneous
  interval, and the discovery figures; the family (how many tested, critical value) is under
  ``latent.slice_family``
- ``counterfactual`` (null with ``--no-latent-audit``): one entry per (classifier, strategy,
  group): ``flip_rate`` (share of the group's test rows whose decision changes when decoded as
  another group instead of their own), ``low``/``high`` (95 % bootstrap), ``n``, the direction
  (``to_favourable``, ``to_unfavourable``) and ``pairs`` (per other group); feature moves and
  examples under ``latent``
- ``leakage``: one entry per (strategy, strength its classifiers were trained at, probe) of the
  first repeat: ``strategy``, ``strength``, ``classifiers``, ``probe`` (``linear`` or
  ``boosting``), ``auc`` (cross-validated AUC of recovering the group from the training set's
  features without the sensitive columns; macro one-vs-rest for several groups), ``low``/``high``
  (95 % bootstrap interval), ``n`` (rows probed), ``groups``
  (:mod:`fairlatent.metrics.leakage`)
- one key per other analysis the audit ran, e.g. in an audit of given predictions (``audit
  --prediction/--score``): ``scores`` (per score column: AUC with intervals, ROC curves, ABROCA,
  calibration within groups and the ``tradeoff`` between calibration and equal error rates, see
  :func:`fairlatent.metrics.scores.score_metrics`) and ``models_compared`` (every model's paired
  change per finding against the first, see :func:`fairlatent.results.models_compared.compare_models`)
- ``frontier``: per classifier, the best accuracy that randomised group-specific thresholds on the
  baseline's scores reach under the goal's DP/EO bounds on the test rows (an optimistic bound)
- ``environment``: versions, device, total seconds
- ``findings``: one entry per (audited model, group other than the reference, metric), for every
  (classifier, strategy, repeat) the audit evaluated (a user's prediction column counts as a
  classifier with strategy ``none``). Keys (a contract): ``classifier``, ``strategy``, ``group``,
  ``reference``, ``metric`` (``selection_rate``, ``tpr``, ``fpr``, ``fnr``, ``ppv``, ``fdr``,
  ``npv``, ``for``, ``accuracy``), ``difference`` (group minus reference), ``low``, ``high``
  (interval of the difference, simultaneous at 95 % over the model's family of judged
  comparisons; marginal for ``insufficient`` findings), ``ratio`` (group over reference),
  ``ratio_low``, ``ratio_high``, ``state`` (``established``: the interval excludes 0;
  ``not_detected``: it lies inside the practical margin, |difference| <= 0.05 and ratio in
  [0.8, 1.25]; ``inconclusive``: neither; ``insufficient``: the group, or the rate's denominator,
  has fewer than ``--min-test-support`` rows, so it is not judged) and ``support`` (the smaller
  denominator of the rate in the group and the reference). Extra keys: ``repeat``, ``value``,
  ``reference_value``, ``detectable`` (smallest difference the family detects with 80 % power on
  these rows) and ``model_flagged`` (the model is no better than predicting the majority label)
- ``findings_method``: how the findings were made: ``level``, ``min_test_support``, ``margin``,
  ``n_boot``, the meaning of each state, ``measured`` (the false-alarm rate and coverage measured
  on planted truth by ``benchmarks/calibration.py``, with its date and command) and ``families``
  (per audited model: reference, judged and insufficient groups, ``family_size`` (differences and
  log ratios covered at once), ``level``, ``critical_value``, ``method``, ``margin`` and
  ``check``, the sanity check against the majority label: accuracy, majority_rate, gain with its
  interval, AUC with its interval, state, flagged)
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fairlatent.metrics.analyses import ANALYSES
from fairlatent.results import comparison_rows

if TYPE_CHECKING:
    from fairlatent.results import AuditResult

SCHEMA_VERSION = 1


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas values to plain JSON types; NaN and infinities become ``None``."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, pd.DataFrame):
        return to_jsonable(value.to_dict(orient="records"))
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    if value is None or isinstance(value, str | int):
        return value
    if value is pd.NA:
        return None
    return str(value)


def result_to_json(result: AuditResult) -> dict[str, Any]:
    """Build the ``metrics.json`` document of an audit (see the module docstring)."""
    from fairlatent._version import __version__

    summary = result.summary().reset_index()
    doc = {
        "schema_version": SCHEMA_VERSION,
        "fairlatent_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": result.command,
        "config": result.config.to_dict(),
        "schema": result.schema.to_dict(),
        "data": result.data_summary,
        "results": [
            {
                "strategy": rec.strategy,
                "classifier": rec.classifier,
                "repeat": rec.repeat,
                **rec.evaluation.to_dict(),
                "classifier_fit_seconds": round(rec.fit_seconds, 3),
            }
            for rec in result.records
        ],
        "summary": summary.to_dict(orient="records"),
        "headline": result.headline(),
        "next_steps": result.next_steps(),
        "verdict": result.verdict(),
        "comparison": comparison_rows(result),
        "strategies": result.strategy_info,
        "tuning": result.tuning,
        **{spec.name: result.analyses.get(spec.name) for spec in ANALYSES},
        **_latent_lists(result.analyses.get("latent")),
        "leakage": result.analyses.get("leakage", []),
        **{name: data for name, data in result.analyses.items() if name not in ANALYSES.names() and name != "leakage"},
        "frontier": result.frontier,
        "environment": result.environment,
        "findings": result.findings.rows(),
        "findings_method": result.findings.to_dict(),
    }
    return to_jsonable(doc)


def _latent_lists(latent: dict[str, Any] | None) -> dict[str, Any]:
    """Top-level ``slices`` and ``counterfactual`` lists, and the rest under ``latent``."""
    if not latent:
        return {"slices": None, "counterfactual": None}
    rest = {k: v for k, v in latent.items() if k not in ("slices", "counterfactual")}
    return {"slices": latent["slices"], "counterfactual": latent["counterfactual"], "latent": rest}
