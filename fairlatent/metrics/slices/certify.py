"""Certify candidate slices on held-out rows: intervals simultaneous over every candidate tested.

Each candidate's error rate minus the rest's gets an interval simultaneous over *every* candidate
tested (all models of an audit together), by the studentised bootstrap-max of
:func:`~fairlatent.metrics.simultaneous.simultaneous_intervals`; a slice is ``certified`` when its
interval lies above 0. The selection rate (slice minus rest) gets intervals simultaneous over the
same candidates, separately.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.metrics.bootstrap import bootstrap_rows
from fairlatent.metrics.simultaneous import simultaneous_intervals
from fairlatent.metrics.slices.rules import SliceRule
from fairlatent.policy import LEVEL, MIN_TEST_SUPPORT

__all__ = [
    "METRIC",
    "SLICE_STATES",
    "SliceCandidate",
    "SliceFinding",
    "SliceReport",
    "certify_slices",
    "rate_difference_se",
]

#: Slice states.
SLICE_STATES: tuple[str, ...] = ("certified", "not_certified")
#: The metric slices are certified on.
METRIC = "error_rate"
#: Two slices of one model sharing this Jaccard share of their certification rows are "similar".
SIMILAR_JACCARD = 0.7


@dataclass(frozen=True)
class SliceCandidate:
    """A described candidate slice of one model, before certification.

    Attributes
    ----------
    classifier, strategy : str
        The model it belongs to.
    rule : SliceRule
    component : int
        The mixture component it describes.
    f1 : float
        How well the rule reproduces the component on the discovery rows.
    discovery_size : int
        Discovery rows the rule selects.
    discovery_value, discovery_rest_value : float
        Error rate of those rows and of the others.
    origin : str
        ``described`` (the tree's rule for a latent component, F1 at least ``min_f1``),
        ``refined`` (found by :func:`~fairlatent.metrics.slices.search.refine_rule` from such a
        rule) or ``searched`` (found by the sequential peeling beam search, or widened from such
        a rule); ``component`` is -1 and ``f1`` NaN for the last.
    """

    classifier: str
    strategy: str
    rule: SliceRule
    component: int
    f1: float
    discovery_size: int
    discovery_value: float
    discovery_rest_value: float
    origin: str = "described"


@dataclass(frozen=True)
class SliceFinding:
    """A candidate slice judged on the certification rows (one ``slices`` entry of metrics.json).

    ``low`` and ``high`` bound ``value - rest_value`` (the slice's error rate minus the other rows'),
    simultaneously over every candidate tested; ``state`` is ``certified`` when ``low > 0``.
    """

    classifier: str
    strategy: str
    conditions: list[dict[str, Any]]
    rule: str
    size: int
    share: float
    metric: str
    value: float
    rest_value: float
    difference: float
    low: float | None
    high: float | None
    state: str
    selection_rate: float
    rest_selection_rate: float
    selection_difference: float
    selection_low: float | None
    selection_high: float | None
    tested: bool
    f1: float
    discovery_size: int
    discovery_value: float
    discovery_rest_value: float
    origin: str
    similar_to: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN becomes ``None``)."""
        return {k: _clean(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class SliceReport:
    """Every candidate of an audit, certified together.

    Attributes
    ----------
    slices : list of SliceFinding
        One per candidate, certified first, then by difference.
    n_tested : int
        Candidates in the simultaneous family (those with enough certification rows).
    n_proposed : int
        Mixture components that looked worse on the discovery rows (before description).
    n_undescribed : int
        Proposed components no rule reproduced well enough (their rules still seed the local
        search of :func:`refine_rule`).
    critical_value : float or None
        The bootstrap-max critical value of the family.
    level : float
        Simultaneous coverage.
    n_boot : int
    discovery_rows, certification_rows : int
    settings : dict
        Components, cell weight, tree depth, F1 and excess thresholds used.
    """

    slices: list[SliceFinding]
    n_tested: int
    n_proposed: int
    n_undescribed: int
    critical_value: float | None
    level: float
    n_boot: int
    discovery_rows: int
    certification_rows: int
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def certified(self) -> list[SliceFinding]:
        """The certified slices."""
        return [s for s in self.slices if s.state == "certified"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "slices": [s.to_dict() for s in self.slices],
            "n_tested": self.n_tested,
            "n_certified": len(self.certified),
            "n_proposed": self.n_proposed,
            "n_undescribed": self.n_undescribed,
            "critical_value": _clean(self.critical_value),
            "level": self.level,
            "n_boot": self.n_boot,
            "discovery_rows": self.discovery_rows,
            "certification_rows": self.certification_rows,
            "settings": {k: _clean(v) for k, v in self.settings.items()},
        }


def _clean(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, np.integer):
        return int(value)
    return value




def rate_difference_se(x1: np.ndarray, n1: np.ndarray, x0: np.ndarray, n0: np.ndarray) -> np.ndarray:
    """Plug-in standard error of a difference of two rates (rates smoothed as (x + 1) / (n + 2))."""
    p1 = (x1 + 1.0) / (n1 + 2.0)
    p0 = (x0 + 1.0) / (n0 + 2.0)
    return np.sqrt(p1 * (1 - p1) / np.maximum(n1, 1) + p0 * (1 - p0) / np.maximum(n0, 1))


def _family(
    masks: np.ndarray,
    outcomes: np.ndarray,
    n_boot: int,
    random_state: int,
    level: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Rate in each mask minus the rate outside it, with simultaneous intervals.

    ``masks`` and ``outcomes`` are (K, n): candidate k's rows and its model's 0/1 outcome per row.
    The replicates resample rows once for the whole family (the bootstrap of
    :func:`~fairlatent.metrics.bootstrap.bootstrap_rows`).
    """
    k, n = masks.shape
    m = masks.astype(float)
    o = outcomes.astype(float)
    n1 = m.sum(axis=1)
    x1 = (m * o).sum(axis=1)
    n0 = n - n1
    x0 = o.sum(axis=1) - x1
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = x1 / n1 - x0 / n0
    se = rate_difference_se(x1, n1, x0, n0)
    replicates = []
    for chunk in bootstrap_rows(n, n_boot, random_state):
        weights = np.stack([np.bincount(rows, minlength=n) for rows in chunk]).astype(float)
        b_n1 = weights @ m.T
        b_x1 = weights @ (m * o).T
        b_xall = weights @ o.T
        with np.errstate(invalid="ignore", divide="ignore"):
            replicates.append(b_x1 / b_n1 - (b_xall - b_x1) / (n - b_n1))
    reps = np.vstack(replicates) if replicates else np.zeros((0, k))
    low, high, critical = simultaneous_intervals(estimate, reps, se, level)
    return estimate, low, high, critical


def certify_slices(
    candidates: Sequence[SliceCandidate],
    frame: pd.DataFrame,
    errors: Mapping[tuple[str, str], np.ndarray],
    selected: Mapping[tuple[str, str], np.ndarray],
    *,
    n_boot: int = 200,
    random_state: int = 0,
    level: float = LEVEL,
    min_support: int = MIN_TEST_SUPPORT,
) -> tuple[list[SliceFinding], int, float | None]:
    """Judge every candidate on the certification rows ``frame``, simultaneously.

    Parameters
    ----------
    candidates : sequence of SliceCandidate
    frame : DataFrame
        Certification rows (the test rows), with every column the rules name.
    errors, selected : mapping
        ``(strategy, classifier)`` -> 0/1 per row of ``frame``: the model's errors and its
        favourable predictions.
    n_boot : int
        Bootstrap replicates (with fewer than 20, a Bonferroni normal critical value).
    random_state : int
    level : float
    min_support : int
        Fewest rows a slice, and the rest, must hold on ``frame`` to be tested.

    Returns
    -------
    findings : list of SliceFinding
    n_tested : int
    critical_value : float or None
    """
    n = len(frame)
    masks = np.array([c.rule.mask(frame) for c in candidates], dtype=bool).reshape(len(candidates), n)
    sizes = masks.sum(axis=1)
    tested = (sizes >= min_support) & (n - sizes >= min_support)
    idx = np.flatnonzero(tested)
    err = np.array([errors[(c.strategy, c.classifier)] for c in candidates], dtype=float)
    sel = np.array([selected[(c.strategy, c.classifier)] for c in candidates], dtype=float)
    err = err.reshape(len(candidates), n)
    sel = sel.reshape(len(candidates), n)
    nan = np.full(len(candidates), np.nan)
    est_e, low_e, high_e, est_s, low_s, high_s = nan.copy(), nan.copy(), nan.copy(), nan.copy(), \
        nan.copy(), nan.copy()
    critical: float | None = None
    if len(idx):
        est_e[idx], low_e[idx], high_e[idx], critical = _family(
            masks[idx], err[idx], n_boot, random_state, level)
        est_s[idx], low_s[idx], high_s[idx], _ = _family(
            masks[idx], sel[idx], n_boot, random_state, level)
    certified_flags = tested & np.isfinite(low_e) & (np.nan_to_num(low_e, nan=-1.0) > 0)
    order = sorted(range(len(candidates)),
                   key=lambda i: (not certified_flags[i], -(low_e[i] if tested[i] else -9.0)))
    findings = []
    for rank, i in enumerate(order):
        c = candidates[i]
        member = masks[i]
        similar = None
        for j in order[:rank]:  # a better-ranked slice of the same model with mostly the same rows
            same_model = (candidates[j].strategy, candidates[j].classifier) == (c.strategy,
                                                                                  c.classifier)
            union = int((masks[j] | member).sum())
            if same_model and union and (masks[j] & member).sum() / union >= SIMILAR_JACCARD:
                similar = candidates[j].rule.text()
                break
        rest = ~member
        value = float(err[i][member].mean()) if member.any() else float("nan")
        rest_value = float(err[i][rest].mean()) if rest.any() else float("nan")
        certified = bool(certified_flags[i])
        findings.append(SliceFinding(
            classifier=c.classifier,
            strategy=c.strategy,
            conditions=[cond.to_dict() for cond in c.rule.conditions],
            rule=c.rule.text(),
            size=int(sizes[i]),
            share=float(sizes[i] / n) if n else float("nan"),
            metric=METRIC,
            value=value,
            rest_value=rest_value,
            difference=value - rest_value,
            low=float(low_e[i]) if tested[i] else None,
            high=float(high_e[i]) if tested[i] else None,
            state="certified" if certified else "not_certified",
            selection_rate=float(sel[i][member].mean()) if member.any() else float("nan"),
            rest_selection_rate=float(sel[i][rest].mean()) if rest.any() else float("nan"),
            selection_difference=float(est_s[i]) if tested[i] else float("nan"),
            selection_low=float(low_s[i]) if tested[i] else None,
            selection_high=float(high_s[i]) if tested[i] else None,
            tested=bool(tested[i]),
            f1=c.f1,
            discovery_size=c.discovery_size,
            discovery_value=c.discovery_value,
            discovery_rest_value=c.discovery_rest_value,
            origin=c.origin,
            similar_to=similar,
        ))
    return findings, int(len(idx)), critical


