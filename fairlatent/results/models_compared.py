"""Two or more of the user's models compared, finding by finding, on the same rows.

Each model's findings (:func:`~fairlatent.metrics.simultaneous.simultaneous_findings`) were computed on
the same rows with the same seed, so replicate ``b`` of every model resampled the same rows: the
difference of two models' replicates is a *paired* bootstrap of the change. For every finding
(group vs reference on one rate) judged for both models, the change of the absolute gap,
``|difference of the model| - |difference of the baseline model|``, gets an interval simultaneous
over all the compared findings (the studentised bootstrap-max of
:func:`~fairlatent.metrics.simultaneous.simultaneous_intervals`), and a mark as in the training
audit's before/after table: *better* (the gap shrank: the interval lies below 0), *worse* (it lies
above 0) or *same* (no clear change). Findings outside the family (``insufficient`` for either
model) are listed without a mark. Accuracy changes get a paired interval too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from fairlatent.metrics.bootstrap import paired_interval
from fairlatent.metrics.fairness import Evaluation
from fairlatent.metrics.max_t import simultaneous_intervals
from fairlatent.metrics.simultaneous import FindingFamily
from fairlatent.policy import LEVEL

__all__ = ["GIVEN_KIND", "MARKS", "audits_given_predictions", "compare_models"]

#: ``strategy_info["none"]["kind"]`` of an audit of given predictions (no split, no training).
GIVEN_KIND = "given"

#: Marks of a compared finding (``same`` = no clear change), and of one outside the family.
MARKS: tuple[str, ...] = ("better", "worse", "same", "insufficient")


def audits_given_predictions(result: Any) -> bool:
    """Whether ``result`` audits a model's given decisions on every row (no split, no training)."""
    return bool(result.strategy_info.get("none", {}).get("kind") == GIVEN_KIND)


def _f(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(float(value)) else None


def _mark(low: float, high: float) -> str:
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0 <= high:
        return "same"
    return "better" if high < 0 else "worse"


def compare_models(
    families: Mapping[str, FindingFamily],
    evaluations: Mapping[str, Evaluation] | None = None,
    *,
    baseline: str | None = None,
    level: float = LEVEL,
) -> dict[str, Any] | None:
    """Compare every model with the baseline model, finding by finding (paired replicates).

    Parameters
    ----------
    families : mapping
        Model name -> its :class:`~fairlatent.metrics.simultaneous.FindingFamily`, all computed
        on the same rows with the same seed and number of replicates.
    evaluations : mapping, optional
        Model name -> its :class:`~fairlatent.metrics.fairness.Evaluation` (for the accuracy
        change; same bootstrap key).
    baseline : str, optional
        The model the others are compared with; default the first.
    level : float
        Simultaneous coverage of the changes' intervals.

    Returns
    -------
    dict or None
        ``None`` with fewer than two models; else ``{"baseline", "level", "comparisons"}`` where
        each comparison is ``{"model", "baseline", "accuracy", "findings", "counts"}``; a finding
        row holds ``group``, ``reference``, ``metric``, ``baseline_difference``, ``difference``,
        ``change`` (change of the absolute gap), ``low``, ``high``, ``mark``.

    Examples
    --------
    >>> from fairlatent.metrics.simultaneous import simultaneous_findings
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(["a", "b"], 3000); y = rng.integers(0, 2, 6000)
    >>> old = np.where(g == "a", rng.random(6000) < 0.6, rng.random(6000) < 0.3).astype(int)
    >>> new = (rng.random(6000) < 0.45).astype(int)
    >>> fams = {m: simultaneous_findings(y, p, g, n_boot=200) for m, p in (("old", old), ("new", new))}
    >>> out = compare_models(fams)
    >>> row = next(r for r in out["comparisons"][0]["findings"] if r["metric"] == "selection_rate")
    >>> row["mark"]
    'better'
    """
    names = list(families)
    if len(names) < 2:
        return None
    base_name = baseline if baseline is not None else names[0]
    if base_name not in families:
        raise ValueError(f"baseline model {base_name!r} is not among the models {names}")
    base = families[base_name]
    comparisons = []
    for name in names:
        if name == base_name:
            continue
        fam = families[name]
        if fam.n_boot != base.n_boot or fam.reference != base.reference:
            raise ValueError(
                f"models {base_name!r} and {name!r} were not evaluated on the same replicates "
                "and reference; compute both families with the same rows, seed and reference"
            )
        rows: list[dict[str, Any]] = []
        judged_keys, estimates, replicates = [], [], []
        base_by_key = {(f.group, f.metric): f for f in base.findings}
        for finding in fam.findings:
            key = (finding.group, finding.metric)
            old = base_by_key.get(key)
            if old is None:
                continue
            change = abs(finding.difference) - abs(old.difference)
            row: dict[str, Any] = {
                "group": finding.group,
                "reference": finding.reference,
                "metric": finding.metric,
                "baseline_difference": _f(old.difference),
                "difference": _f(finding.difference),
                "change": _f(change),
                "low": None,
                "high": None,
                "mark": "insufficient",
            }
            rows.append(row)
            if "insufficient" in (finding.state, old.state) or not math.isfinite(change):
                continue
            reps_new, reps_old = fam.replicates.get(key), base.replicates.get(key)
            if reps_new is None or reps_old is None:
                continue
            judged_keys.append(len(rows) - 1)
            estimates.append(change)
            replicates.append(np.abs(reps_new) - np.abs(reps_old))
        if judged_keys:
            low, high, _ = simultaneous_intervals(
                np.asarray(estimates), np.stack(replicates, axis=1), level=level
            )
            for i, lo, hi in zip(judged_keys, low, high, strict=True):
                rows[i].update(low=_f(lo), high=_f(hi), mark=_mark(float(lo), float(hi)))
        counts = {mark: sum(r["mark"] == mark for r in rows) for mark in MARKS}
        comparisons.append(
            {
                "model": name,
                "baseline": base_name,
                "accuracy": _accuracy_change(evaluations, base_name, name),
                "findings": rows,
                "counts": counts,
            }
        )
    return {"baseline": base_name, "level": level, "comparisons": comparisons}


def _accuracy_change(
    evaluations: Mapping[str, Evaluation] | None, base: str, model: str
) -> dict[str, Any] | None:
    """Accuracy of both models and the paired-bootstrap change (model minus baseline)."""
    if not evaluations or base not in evaluations or model not in evaluations:
        return None
    old, new = evaluations[base], evaluations[model]
    out: dict[str, Any] = {
        "baseline": _f(old.summary["accuracy"]),
        "model": _f(new.summary["accuracy"]),
        "change": _f(new.summary["accuracy"] - old.summary["accuracy"]),
        "low": None,
        "high": None,
        "mark": "same",
    }
    if (
        "accuracy" in old.replicates
        and "accuracy" in new.replicates
        and old.bootstrap_key == new.bootstrap_key
    ):
        _, low, high = paired_interval(old.replicates["accuracy"], new.replicates["accuracy"])
        out.update(low=_f(low), high=_f(high))
        if math.isfinite(low) and math.isfinite(high) and not low <= 0 <= high:
            out["mark"] = "better" if low > 0 else "worse"
    return out
