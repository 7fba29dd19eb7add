"""What the audit claims about each audited model: typed, immutable findings, built once.

An *audited model* is one set of predictions on the test rows: a classifier trained with a strategy
(``classifier="logreg", strategy="reweigh"``) or a user's own prediction column
(``classifier=<column name>, strategy="none"``). For each one the audit builds, once:

- a :class:`ModelCheck` — sanity first: accuracy against predicting the majority label for every
  test row (and the AUC against 0.5 where the model gives scores); a model no better than that is
  flagged and its fairness figures are marked;
- a :class:`~fairlatent.metrics.simultaneous.FindingFamily` — every judged group against the
  reference on nine rates, with intervals simultaneous over the family and a state per finding.

:class:`AuditFindings` holds them all with the family's description and the false-alarm rate
measured by ``benchmarks/calibration.py``; :meth:`AuditFindings.rows` is the ``findings`` list of
``metrics.json`` and :func:`headline` the verdict's first sentence. The report, the JSON writer and
the terminal render these records and compute nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

from fairlatent.metrics.simultaneous import Finding, FindingFamily, simultaneous_findings
from fairlatent.policy import (
    BASELINE,
    LEVEL,
    MEASURED_CALIBRATION,
    MIN_TEST_SUPPORT,
    PRACTICAL_MARGIN,
    Calibration,
    PracticalMargin,
)

#: Keys every entry of ``metrics.json``'s ``findings`` list has (a contract; extra keys may follow).
FINDING_KEYS: tuple[str, ...] = (
    "classifier",
    "strategy",
    "group",
    "reference",
    "metric",
    "difference",
    "low",
    "high",
    "ratio",
    "ratio_low",
    "ratio_high",
    "state",
    "support",
)

#: States of a model's sanity check.
CHECK_STATES: tuple[str, ...] = ("better", "not_clearly_better", "worse")


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class ModelCheck:
    """Whether the model beats predicting the majority label for everyone.

    Attributes
    ----------
    accuracy : float
        The model's accuracy on the test rows.
    majority_label : int
        The more frequent true label of the test rows (1 = favourable).
    majority_rate : float
        Accuracy of predicting ``majority_label`` for every test row.
    gain, gain_low, gain_high : float
        ``accuracy - majority_rate`` and its :data:`~fairlatent.policy.LEVEL` interval (paired:
        the normal interval of the per-row difference "model right" minus "majority right").
    auc, auc_low, auc_high : float
        Area under the ROC curve of the model's scores with its interval (Hanley-McNeil), NaN
        when the model gives no scores.
    state : str
        ``better`` (the gain's interval lies above 0), ``worse`` (below 0) or
        ``not_clearly_better``.
    """

    accuracy: float
    majority_label: int
    majority_rate: float
    gain: float
    gain_low: float
    gain_high: float
    auc: float
    auc_low: float
    auc_high: float
    state: str

    @property
    def flagged(self) -> bool:
        """Whether the model is no better than the majority label (or its AUC than chance)."""
        auc_weak = math.isfinite(self.auc_low) and self.auc_low <= 0.5
        return self.state != "better" or auc_weak

    def sentence(self, name: str) -> str:
        """One sentence on the check, e.g. for the top of the report.

        Examples
        --------
        >>> check = model_check(np.array([1, 0, 0, 0] * 50), np.zeros(200, dtype=int))
        >>> check.state, check.flagged
        ('not_clearly_better', True)
        >>> print(check.sentence("The model"))  # doctest: +NORMALIZE_WHITESPACE
        The model is no better than predicting the unfavourable label for everyone: accuracy
        75.0% against 75.0% (difference +0.0 points [+0.0, +0.0]); its fairness figures describe a
        model that should not be used as it is.
        """
        label = "favourable" if self.majority_label == 1 else "unfavourable"
        figures = (
            f"accuracy {self.accuracy:.1%} against {self.majority_rate:.1%} (difference "
            f"{self.gain * 100:+.1f} points [{self.gain_low * 100:+.1f}, {self.gain_high * 100:+.1f}])"
        )
        auc = (
            f"; AUC {self.auc:.3f} [{self.auc_low:.3f}, {self.auc_high:.3f}]"
            if math.isfinite(self.auc)
            else ""
        )
        if not self.flagged:
            return f"{name} beats predicting the {label} label for everyone: {figures}{auc}."
        if self.state == "better":  # accuracy fine, ranking no better than chance
            return (
                f"{name}'s scores rank no better than chance{auc}, although its {figures}; "
                "its fairness figures describe a model that should not be used as it is."
            )
        word = "worse than" if self.state == "worse" else "no better than"
        return (
            f"{name} is {word} predicting the {label} label for everyone: {figures}{auc}; its "
            "fairness figures describe a model that should not be used as it is."
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN becomes ``None``) with ``flagged``."""
        out: dict[str, Any] = {
            k: (_finite(v) if isinstance(v, float) else v) for k, v in self.__dict__.items()
        }
        out["flagged"] = self.flagged
        return out


def _auc_interval(y_true: np.ndarray, scores: np.ndarray, z: float) -> tuple[float, float, float]:
    """AUC with the Hanley-McNeil (1982) standard error."""
    from sklearn.metrics import roc_auc_score

    n_pos, n_neg = int(y_true.sum()), int(len(y_true) - y_true.sum())
    if n_pos == 0 or n_neg == 0 or not np.all(np.isfinite(scores)):
        return float("nan"), float("nan"), float("nan")
    auc = float(roc_auc_score(y_true, scores))
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (n_pos * n_neg)
    se = math.sqrt(max(var, 0.0))
    return auc, max(0.0, auc - z * se), min(1.0, auc + z * se)


def model_check(
    y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None = None, *, level: float = LEVEL
) -> ModelCheck:
    """Compare a model with predicting the majority label for every test row.

    Parameters
    ----------
    y_true, y_pred : array of {0, 1}
        True and predicted labels of the test rows.
    scores : array of float, optional
        The model's score for the favourable label (for the AUC).
    level : float
        Coverage of the intervals.

    Returns
    -------
    ModelCheck

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = (rng.random(2000) < 0.3).astype(int)
    >>> good = np.where(rng.random(2000) < 0.9, y, 1 - y)
    >>> model_check(y, good).state
    'better'
    >>> model_check(y, np.zeros(2000, dtype=int)).flagged
    True
    """
    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    majority = int(y_true.mean() >= 0.5) if len(y_true) else 1
    per_row = (y_pred == y_true).astype(float) - (y_true == majority).astype(float)
    z = float(norm.ppf(1 - (1 - level) / 2))
    gain = float(per_row.mean()) if len(per_row) else float("nan")
    se = float(per_row.std(ddof=1) / math.sqrt(len(per_row))) if len(per_row) > 1 else float("nan")
    low, high = gain - z * se, gain + z * se
    if low > 0:
        state = "better"
    elif high < 0:
        state = "worse"
    else:
        state = "not_clearly_better"
    auc = (float("nan"),) * 3
    if scores is not None:
        auc = _auc_interval(y_true, np.asarray(scores, dtype=float), z)
    return ModelCheck(
        accuracy=float((y_pred == y_true).mean()),
        majority_label=majority,
        majority_rate=float((y_true == majority).mean()),
        gain=gain,
        gain_low=float(low),
        gain_high=float(high),
        auc=auc[0],
        auc_low=auc[1],
        auc_high=auc[2],
        state=state,
    )


@dataclass(frozen=True)
class ModelFindings:
    """Everything the audit claims about one audited model.

    Attributes
    ----------
    classifier : str
        The classifier's name, or the user's prediction column.
    strategy : str
        The strategy it was trained with (:data:`~fairlatent.policy.BASELINE` for none).
    repeat : int
        The train/test split (0 for a user's predictions).
    family : FindingFamily
    check : ModelCheck
    """

    classifier: str
    strategy: str
    repeat: int
    family: FindingFamily
    check: ModelCheck

    @property
    def is_baseline(self) -> bool:
        """Whether this is the model trained on the real rows as they are (or a user's own)."""
        return self.strategy == BASELINE

    @property
    def judged(self) -> bool:
        """Whether at least two groups had enough support to be compared."""
        return len(self.family.judged_groups) >= 2

    def rows(self) -> list[dict[str, Any]]:
        """One JSON-ready entry per (group, metric): :data:`FINDING_KEYS` first, then extras."""
        out = []
        for finding in self.family.findings:
            data = finding.to_dict()
            out.append(
                {"classifier": self.classifier, "strategy": self.strategy}
                | {k: data[k] for k in FINDING_KEYS[2:]}
                | {
                    "repeat": self.repeat,
                    "value": data["value"],
                    "reference_value": data["reference_value"],
                    "detectable": data["detectable"],
                    "model_flagged": self.check.flagged,
                }
            )
        return out


def model_findings(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    *,
    classifier: str,
    strategy: str = BASELINE,
    repeat: int = 0,
    scores: np.ndarray | None = None,
    reference: str | None = None,
    n_boot: int = 200,
    random_state: int = 0,
    min_support: int = MIN_TEST_SUPPORT,
    level: float = LEVEL,
    margin: PracticalMargin = PRACTICAL_MARGIN,
) -> ModelFindings:
    """Build the findings of one audited model (sanity check and simultaneous family).

    Parameters
    ----------
    y_true, y_pred : array of {0, 1}
        True and predicted labels of the test rows (1 = favourable).
    groups : array of str
        Group of each test row.
    classifier : str
        Name of the model (a classifier, or a user's prediction column).
    strategy : str, default :data:`~fairlatent.policy.BASELINE`
    repeat : int, default 0
    scores : array of float, optional
        Scores for the favourable label (for the AUC check).
    reference : str, optional
        Reference group (default: the largest judged group).
    n_boot : int, default 200
        Bootstrap replicates; values from 1 to 19 are too few for the bootstrap-max and use the
        Bonferroni-normal critical value, as 0 does. Use the seed of the model's other test
        evaluations so replicates pair.
    random_state : int, default 0
    min_support : int, default :data:`~fairlatent.policy.MIN_TEST_SUPPORT`
    level : float, default :data:`~fairlatent.policy.LEVEL`
    margin : PracticalMargin, default :data:`~fairlatent.policy.PRACTICAL_MARGIN`

    Returns
    -------
    ModelFindings

    Raises
    ------
    ValueError
        ``reference`` is not a group, or too small to judge.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(["a", "b"], 1500)
    >>> y = (rng.random(3000) < 0.4).astype(int)
    >>> p = (rng.random(3000) < np.where(g == "a", 0.5, 0.2)).astype(int)
    >>> found = model_findings(y, p, g, classifier="mine", n_boot=100)
    >>> top = found.family.headline()
    >>> top.group, top.state
    ('b', 'established')
    >>> sorted(found.rows()[0])[:3]
    ['classifier', 'detectable', 'difference']
    """
    family = simultaneous_findings(
        y_true,
        y_pred,
        groups,
        reference=reference,
        n_boot=n_boot if n_boot >= 20 else 0,
        random_state=random_state,
        min_support=min_support,
        level=level,
        margin=margin,
    )
    return ModelFindings(
        classifier=classifier,
        strategy=strategy,
        repeat=repeat,
        family=family,
        check=model_check(y_true, y_pred, scores, level=level),
    )


@dataclass(frozen=True)
class AuditFindings:
    """The findings of every audited model, and how they were made.

    Attributes
    ----------
    models : tuple of ModelFindings
        One per audited model (per classifier, strategy and repeat).
    level : float
        Simultaneous coverage of each model's family.
    min_support : int
        Favourable and unfavourable test rows a group needs to be judged.
    margin : PracticalMargin
        What counts as parity for ``not_detected``.
    n_boot : int
        Bootstrap replicates of the bootstrap-max (0: Bonferroni-normal).
    calibration : Calibration or None
        The procedure's false-alarm rate and coverage measured on planted truth
        (``benchmarks/calibration.py``).
    """

    models: tuple[ModelFindings, ...]
    level: float = LEVEL
    min_support: int = MIN_TEST_SUPPORT
    margin: PracticalMargin = PRACTICAL_MARGIN
    n_boot: int = 200
    calibration: Calibration | None = MEASURED_CALIBRATION

    def model(self, classifier: str, strategy: str = BASELINE, repeat: int = 0) -> ModelFindings | None:
        """Return one model's findings (``None`` when it was not audited)."""
        return next(
            (
                m
                for m in self.models
                if m.classifier == classifier and m.strategy == strategy and m.repeat == repeat
            ),
            None,
        )

    def baselines(self) -> tuple[ModelFindings, ...]:
        """Return the first repeat's baseline models (what the verdict and ``--fail-on`` judge)."""
        return tuple(m for m in self.models if m.is_baseline and m.repeat == 0)

    def established(self) -> tuple[tuple[ModelFindings, Finding], ...]:
        """Every established finding of a baseline model (first repeat)."""
        return tuple(
            (m, f) for m in self.baselines() for f in m.family.findings if f.state == "established"
        )

    def rows(self) -> list[dict[str, Any]]:
        """Return the ``findings`` list of ``metrics.json``: one entry per (model, group, metric)."""
        return [row for m in self.models for row in m.rows()]

    def families(self) -> list[dict[str, Any]]:
        """Per audited model: the family's size, level, critical value, margin and groups."""
        out = []
        for m in self.models:
            fam = m.family
            out.append(
                {
                    "classifier": m.classifier,
                    "strategy": m.strategy,
                    "repeat": m.repeat,
                    "reference": fam.reference,
                    "judged_groups": list(fam.judged_groups),
                    "insufficient_groups": list(fam.insufficient_groups),
                    "metrics": list(fam.metrics),
                    "family_size": fam.family_size,
                    "level": fam.level,
                    "critical_value": _finite(fam.critical_value),
                    "n_boot": fam.n_boot,
                    "method": "studentised bootstrap-max"
                    if fam.n_boot >= 20
                    else "Bonferroni-normal (no bootstrap)",
                    "margin": {"difference": fam.margin.difference, "ratio": list(fam.margin.ratio)},
                    "check": m.check.to_dict(),
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return the ``findings_method`` entry of ``metrics.json``: how the findings were made."""
        cal = self.calibration
        return {
            "level": self.level,
            "min_test_support": self.min_support,
            "margin": {"difference": self.margin.difference, "ratio": list(self.margin.ratio)},
            "n_boot": self.n_boot,
            "states": {
                "established": "the simultaneous interval of the difference excludes 0",
                "not_detected": "the whole interval lies inside the practical margin",
                "inconclusive": "neither: the data cannot tell parity from a relevant gap",
                "insufficient": "fewer than the support minimum; not judged",
            },
            "measured": None if cal is None else cal.to_dict(),
            "families": self.families(),
        }


def build_findings(
    models: Sequence[ModelFindings],
    *,
    level: float = LEVEL,
    min_support: int = MIN_TEST_SUPPORT,
    margin: PracticalMargin = PRACTICAL_MARGIN,
    n_boot: int = 200,
) -> AuditFindings:
    """Gather the audited models' findings (see :class:`AuditFindings`)."""
    return AuditFindings(
        models=tuple(models), level=level, min_support=min_support, margin=margin, n_boot=n_boot
    )
