"""Simultaneous inference for group-fairness findings (studentised bootstrap-max).

A fairness audit compares many things at once: every judged group against the reference, on many
rates. Marginal 95 % intervals then flag *something* far more often than 5 % of the time on data with
no disparity at all. Here every (group vs reference, rate) difference and ratio in the family gets an
interval that holds **simultaneously** at :data:`~fairlatent.policy.LEVEL`, by the bootstrap-max
(max-t) method used for fairness auditing by Cherian & Candès (2023):

1. each comparison k has an estimate (difference of rates; log ratio of smoothed rates) and a plug-in
   standard error ``se_k`` (Agresti-Coull smoothed binomial rates, so it is never zero);
2. every bootstrap replicate b resamples the rows (the same replicates as
   :mod:`fairlatent.metrics.bootstrap`, so two sets of predictions on the same rows are paired) and
   records ``T_b = max_k |estimate*_bk - estimate_k| / se_k`` over the whole family;
3. the LEVEL quantile ``c`` of ``T_b`` widens every interval to ``estimate_k ± c · se_k``.

With probability about LEVEL *all* intervals of the family cover their true values at once, so the
chance that any finding is called ``established`` on data without disparity is at most 1 - LEVEL.
Each finding then gets a state:

``established``
    the simultaneous difference interval excludes 0;
``not_detected``
    the whole interval lies inside the practical margin (:class:`~fairlatent.policy.PracticalMargin`);
``inconclusive``
    neither: the data cannot tell parity from a practically relevant gap;
``insufficient``
    the group, or the rate's denominator in the group or the reference, has fewer than the support
    minimum; the finding is outside the family, keeps its point estimate and marginal interval, and
    states the smallest difference the data could detect at :data:`~fairlatent.policy.POWER`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from fairlatent.metrics.bootstrap import bootstrap_rows, group_confusion_counts
from fairlatent.metrics.max_t import (  # simultaneous_intervals is re-exported
    max_t_critical_value,
    simultaneous_intervals,  # noqa: F401
)
from fairlatent.policy import LEVEL, MIN_TEST_SUPPORT, POWER, PRACTICAL_MARGIN, PracticalMargin

#: Rates compared between groups, in report order (Aequitas' set, both outcomes).
FINDING_METRICS: tuple[str, ...] = (
    "selection_rate",
    "tpr",
    "fpr",
    "fnr",
    "ppv",
    "fdr",
    "npv",
    "for",
    "accuracy",
)
#: Each rate in favourable-outcome words.
FINDING_DESCRIPTIONS: dict[str, str] = {
    "selection_rate": "share of rows predicted favourable",
    "tpr": "favourable rows predicted favourable (true-positive rate)",
    "fpr": "unfavourable rows predicted favourable (false-positive rate)",
    "fnr": "favourable rows predicted unfavourable: deserved and refused (false-negative rate)",
    "ppv": "favourable predictions that are right (precision)",
    "fdr": "favourable predictions that are wrong (false-discovery rate)",
    "npv": "unfavourable predictions that are right (negative predictive value)",
    "for": "unfavourable predictions that are wrong (false-omission rate)",
    "accuracy": "predictions that are right",
}
#: Finding states, from strongest evidence of a gap to none.
STATES: tuple[str, ...] = ("established", "inconclusive", "not_detected", "insufficient")

# Which confusion cells (y, prediction) form each rate's numerator and denominator.
_CELLS: dict[str, tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]] = {
    "selection_rate": (((0, 1), (1, 1)), ((0, 0), (0, 1), (1, 0), (1, 1))),
    "tpr": (((1, 1),), ((1, 0), (1, 1))),
    "fpr": (((0, 1),), ((0, 0), (0, 1))),
    "fnr": (((1, 0),), ((1, 0), (1, 1))),
    "ppv": (((1, 1),), ((0, 1), (1, 1))),
    "fdr": (((0, 1),), ((0, 1), (1, 1))),
    "npv": (((0, 0),), ((0, 0), (1, 0))),
    "for": (((1, 0),), ((0, 0), (1, 0))),
    "accuracy": (((0, 0), (1, 1)), ((0, 0), (0, 1), (1, 0), (1, 1))),
}


def rate_parts(counts: np.ndarray, metrics: Sequence[str] = FINDING_METRICS) -> tuple[np.ndarray, np.ndarray]:
    """Numerators and denominators of each rate from confusion counts.

    Parameters
    ----------
    counts : ndarray, shape (..., G, 2, 2)
        ``counts[..., g, y, p]`` as from :func:`~fairlatent.metrics.bootstrap.group_confusion_counts`.
    metrics : sequence of str
        Rates, names from :data:`FINDING_METRICS`.

    Returns
    -------
    numerator, denominator : ndarray, shape (..., G, M)

    Examples
    --------
    >>> counts = np.array([[[5, 1], [2, 2]]])  # one group: tn=5, fp=1, fn=2, tp=2
    >>> num, den = rate_parts(counts, ("tpr", "ppv"))
    >>> (num / den).round(3).tolist()
    [[0.5, 0.667]]
    """
    counts = np.asarray(counts, dtype=float)
    num = np.stack([sum(counts[..., y, p] for y, p in _CELLS[m][0]) for m in metrics], axis=-1)
    den = np.stack([sum(counts[..., y, p] for y, p in _CELLS[m][1]) for m in metrics], axis=-1)
    return num, den


@dataclass(frozen=True)
class Finding:
    """One group compared with the reference on one rate.

    Attributes
    ----------
    group, reference : str
    metric : str
        A name from :data:`FINDING_METRICS`.
    value, reference_value : float
        The rate in the group and in the reference (NaN when its denominator is empty).
    difference, low, high : float
        ``value - reference_value`` and its interval (simultaneous over the family when judged,
        marginal when ``insufficient``).
    ratio, ratio_low, ratio_high : float
        ``value / reference_value`` and its interval (NaN when undefined).
    state : str
        One of :data:`STATES`.
    support : int
        The smaller of the rate's denominators in the group and in the reference.
    detectable : float
        Smallest absolute difference the family would establish with probability
        :data:`~fairlatent.policy.POWER`, given these rows.
    """

    group: str
    reference: str
    metric: str
    value: float
    reference_value: float
    difference: float
    low: float
    high: float
    ratio: float
    ratio_low: float
    ratio_high: float
    state: str
    support: int
    detectable: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN becomes ``None``)."""
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class FindingFamily:
    """All findings of one set of predictions, with the family's simultaneous inference.

    Attributes
    ----------
    findings : tuple of Finding
        One per (group other than the reference, metric), judged and insufficient alike.
    reference : str
    judged_groups : tuple of str
        Groups (reference included) with enough support to be judged.
    insufficient_groups : tuple of str
        Groups below the support minimum (their findings are ``insufficient``).
    metrics : tuple of str
    level : float
        Simultaneous coverage of the judged findings' intervals.
    critical_value : float
        The bootstrap-max critical value ``c`` (NaN when nothing is judged).
    family_size : int
        Number of comparisons the simultaneous intervals cover (differences and ratios).
    n_boot : int
    margin : PracticalMargin
    replicates : dict
        ``(group, metric)`` -> the difference's bootstrap replicates, for paired comparisons between
        predictions evaluated on the same rows with the same seed (not serialised).
    """

    findings: tuple[Finding, ...]
    reference: str
    judged_groups: tuple[str, ...]
    insufficient_groups: tuple[str, ...]
    metrics: tuple[str, ...]
    level: float
    critical_value: float
    family_size: int
    n_boot: int
    margin: PracticalMargin = PRACTICAL_MARGIN
    replicates: Mapping[tuple[str, str], np.ndarray] = field(
        default_factory=dict, repr=False, compare=False
    )

    def with_state(self, state: str) -> tuple[Finding, ...]:
        """Return the findings in one state."""
        return tuple(f for f in self.findings if f.state == state)

    def headline(self) -> Finding | None:
        """Return the established finding with the largest absolute difference (``None`` if none).

        Ties (a TPR gap is an FNR gap of the same size) go to the rate listed first in
        :attr:`metrics`, so selection rate and TPR win over their complements.
        """
        established = self.with_state("established")
        if not established:
            return None
        order = {m: i for i, m in enumerate(self.metrics)}
        return max(established, key=lambda f: (round(abs(f.difference), 9), -order.get(f.metric, 0)))

    def smallest_detectable(self) -> float:
        """Smallest difference the judged family could detect at 80 % power (NaN if none judged)."""
        judged = [f.detectable for f in self.findings if f.state != "insufficient"]
        finite = [d for d in judged if np.isfinite(d)]
        return float(min(finite)) if finite else float("nan")


def _smoothed(num: np.ndarray, den: np.ndarray, pseudo: float) -> np.ndarray:
    return (num + pseudo) / (den + 2 * pseudo)


def _difference_se(num: np.ndarray, den: np.ndarray, g: int, r: int) -> np.ndarray:
    """Agresti-Coull standard error of rate_g - rate_r, per metric (never zero)."""
    p = _smoothed(num, den, 1.0)
    n = den + 2.0
    return np.sqrt(p[g] * (1 - p[g]) / n[g] + p[r] * (1 - p[r]) / n[r])


def _log_ratio_se(num: np.ndarray, den: np.ndarray, g: int, r: int) -> np.ndarray:
    """Delta-method standard error of log(rate_g / rate_r) with smoothed rates."""
    p = _smoothed(num, den, 0.5)
    n = den + 1.0
    return np.sqrt((1 - p[g]) / (p[g] * n[g]) + (1 - p[r]) / (p[r] * n[r]))


def group_support_mask(counts: np.ndarray, min_support: int) -> np.ndarray:
    """Mark groups with ``min_support`` favourable and unfavourable rows (counts: (G, 2, 2))."""
    positives = counts[:, 1, :].sum(axis=1)
    negatives = counts[:, 0, :].sum(axis=1)
    return (positives >= min_support) & (negatives >= min_support)


def simultaneous_findings(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray | pd.Series,
    *,
    reference: str | None = None,
    n_boot: int = 200,
    random_state: int = 0,
    min_support: int = MIN_TEST_SUPPORT,
    level: float = LEVEL,
    margin: PracticalMargin = PRACTICAL_MARGIN,
    metrics: Sequence[str] = FINDING_METRICS,
) -> FindingFamily:
    """Compare every group with a reference on every rate, with simultaneous intervals and states.

    Parameters
    ----------
    y_true, y_pred : array of {0, 1}
        True and predicted labels (1 = favourable).
    groups : array of str
        Group of each row.
    reference : str, optional
        Reference group; default the largest judged group (the largest group when none is judged).
        A reference given by name must be judged (enough support).
    n_boot : int, default 200
        Bootstrap replicates (row resamples keyed by ``(random_state, n_rows)``, shared with
        :func:`~fairlatent.metrics.fairness.evaluate_predictions`); 0 or at least 20. With 0 the
        critical value is the normal quantile with a Bonferroni correction over the family
        (conservative, no resampling).
    random_state : int, default 0
    min_support : int, default :data:`~fairlatent.policy.MIN_TEST_SUPPORT`
        Fewest favourable and unfavourable rows of a judged group, and fewest rows in a rate's
        denominator in the group and in the reference.
    level : float, default 0.95
        Simultaneous coverage.
    margin : PracticalMargin
        Differences and ratios that count as parity (for ``not_detected``).
    metrics : sequence of str
        Rates to compare (default :data:`FINDING_METRICS`).

    Returns
    -------
    FindingFamily

    Raises
    ------
    ValueError
        When ``reference`` is not a group, or is a group too small to judge, or
        ``0 < n_boot < 20``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(["a", "b"], 2000)
    >>> y = rng.integers(0, 2, 4000)
    >>> p = np.where(g == "a", rng.random(4000) < 0.6, rng.random(4000) < 0.3).astype(int)
    >>> fam = simultaneous_findings(y, p, g, n_boot=200)
    >>> top = fam.headline()
    >>> top.group, top.state
    ('b', 'established')
    >>> sel = next(f for f in fam.findings if f.metric == "selection_rate")
    >>> sel.state, bool(sel.low < -0.3 < sel.high)
    ('established', True)
    """
    if 0 < n_boot < 20:
        raise ValueError(
            f"simultaneous intervals need 0 or at least 20 bootstrap replicates, got {n_boot}"
        )
    metrics = tuple(metrics)
    unknown = [m for m in metrics if m not in _CELLS]
    if unknown:
        raise ValueError(f"unknown finding metrics {unknown}; choose from {list(FINDING_METRICS)}")
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    labels_arr = np.asarray(groups, dtype=object).astype(str)
    labels = sorted(set(labels_arr.tolist()))
    codes = pd.Categorical(labels_arr, categories=labels).codes.astype(np.int64)
    counts = group_confusion_counts(y_true, y_pred, codes, len(labels))[0]
    supported = group_support_mask(counts, min_support)
    judged = [labels[i] for i in np.flatnonzero(supported)]
    sizes = counts.sum(axis=(1, 2))
    if reference is None:
        pool = np.flatnonzero(supported) if len(judged) >= 1 else np.arange(len(labels))
        ref = int(pool[np.argmax(sizes[pool])])  # first on ties
    else:
        if reference not in labels:
            raise ValueError(f"reference group {reference!r} is not among the groups {labels}")
        ref = labels.index(reference)
        if not supported[ref]:
            raise ValueError(
                f"reference group {reference!r} is too small to judge (fewer than {min_support} "
                "favourable or unfavourable rows); choose a larger group or lower the support minimum"
            )
    num, den = rate_parts(counts, metrics)  # (G, M)
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = num / den
    others = [g for g in range(len(labels)) if g != ref]
    # Judged comparisons: both groups supported and the rate's denominator large enough in both.
    in_family = np.zeros((len(others), len(metrics)), dtype=bool)
    if supported[ref] and len(judged) >= 2:
        for i, g in enumerate(others):
            in_family[i] = supported[g] & (den[g] >= min_support) & (den[ref] >= min_support)
    # Bootstrap: differences and log ratios per replicate, for every comparison.
    n_rows = len(y_true)
    diff_reps = np.empty((n_boot, len(others), len(metrics)))
    logr_reps = np.empty_like(diff_reps)
    start = 0
    for rows in bootstrap_rows(n_rows, n_boot, random_state):
        rep_counts = group_confusion_counts(y_true, y_pred, codes, len(labels), rows)
        rnum, rden = rate_parts(rep_counts, metrics)  # (b, G, M)
        with np.errstate(invalid="ignore", divide="ignore"):
            rrates = rnum / rden
        smooth = np.log(_smoothed(rnum, rden, 0.5))
        stop = start + len(rows)
        diff_reps[start:stop] = rrates[:, others, :] - rrates[:, [ref], :]
        logr_reps[start:stop] = smooth[:, others, :] - smooth[:, [ref], :]
        start = stop
    diff = rates[others] - rates[[ref]]
    log_ratio = np.log(_smoothed(num, den, 0.5))
    log_ratio = log_ratio[others] - log_ratio[[ref]]
    diff_se = np.stack([_difference_se(num, den, g, ref) for g in others]) if others else diff
    logr_se = np.stack([_log_ratio_se(num, den, g, ref) for g in others]) if others else diff
    # Family statistic over differences and log ratios of the judged comparisons.
    with np.errstate(invalid="ignore", divide="ignore"):
        dev_diff = np.abs(diff_reps - diff) / diff_se
        dev_logr = np.abs(logr_reps - log_ratio) / logr_se
    family = np.concatenate([dev_diff[:, in_family], dev_logr[:, in_family]], axis=1)
    family_size = int(family.shape[1])
    c = max_t_critical_value(family, level) if family_size else float("nan")
    # Marginal critical value for insufficient findings; the detectable difference uses the family's.
    z_marginal = float(norm.ppf(1 - (1 - level) / 2))
    c_detect = c if np.isfinite(c) else float(norm.ppf(1 - (1 - level) / (2 * max(1, in_family.size * 2))))
    z_power = float(norm.ppf(POWER))
    findings: list[Finding] = []
    replicates: dict[tuple[str, str], np.ndarray] = {}
    for i, g in enumerate(others):
        for j, metric in enumerate(metrics):
            judged_here = bool(in_family[i, j])
            crit = c if judged_here else z_marginal
            d, se_d = float(diff[i, j]), float(diff_se[i, j])
            lr, se_lr = float(log_ratio[i, j]), float(logr_se[i, j])
            value, ref_value = float(rates[g, j]), float(rates[ref, j])
            if np.isfinite(d):
                low, high = max(-1.0, d - crit * se_d), min(1.0, d + crit * se_d)
            else:
                low = high = float("nan")
            ratio = value / ref_value if np.isfinite(value) and ref_value > 0 else float("nan")
            if np.isfinite(ratio):
                ratio_low, ratio_high = float(np.exp(lr - crit * se_lr)), float(np.exp(lr + crit * se_lr))
            else:
                ratio_low = ratio_high = float("nan")
            if not judged_here:
                state = "insufficient"
            elif low > 0 or high < 0:
                state = "established"
            elif margin.contains(low, high, ratio_low, ratio_high):
                state = "not_detected"
            else:
                state = "inconclusive"
            findings.append(
                Finding(
                    group=labels[g],
                    reference=labels[ref],
                    metric=metric,
                    value=value,
                    reference_value=ref_value,
                    difference=d,
                    low=float(low),
                    high=float(high),
                    ratio=float(ratio),
                    ratio_low=ratio_low,
                    ratio_high=ratio_high,
                    state=state,
                    support=int(min(den[g, j], den[ref, j])),
                    detectable=float((c_detect + z_power) * se_d),
                )
            )
            replicates[(labels[g], metric)] = diff_reps[:, i, j]
    return FindingFamily(
        findings=tuple(findings),
        reference=labels[ref],
        judged_groups=tuple(judged) if len(judged) >= 2 else (),
        insufficient_groups=tuple(lab for k, lab in enumerate(labels) if not supported[k] or len(judged) < 2),
        metrics=metrics,
        level=level,
        critical_value=float(c),
        family_size=family_size,
        n_boot=int(n_boot),
        margin=margin,
        replicates=replicates,
    )
