"""Where a model fails: slices found in latent space, described by feature rules, certified on held-out rows.

Three steps, each on different rows so the last one is an honest test:

1. **Propose** (discovery rows, e.g. validation rows). An *error-aware mixture* in the style of
   Domino (Eyuboglu et al., ICLR 2022) is fitted to the rows' latent codes together with each row's
   (label, prediction) cell and group: every component has a diagonal Gaussian over the standardised
   latent code, a categorical distribution over the four (label, prediction) cells, weighted by
   ``cell_weight`` in the log-likelihood, and one over the groups. A component is a region of the
   latent space with its own error rate; those whose error rate exceeds the rest's by at least the
   practical margin (:data:`~fairlatent.policy.PRACTICAL_MARGIN`, 5 points) become candidates.
2. **Describe** (discovery rows). A shallow decision tree on the *original* columns predicts
   membership of the candidate; the leaf whose path best reproduces the candidate (F1) is its rule,
   a conjunction of ``{column, op, value}`` conditions. A rule is kept only if its F1 reaches
   ``min_f1`` and the rows it selects still err more often than the rest by the practical margin.
   Each rule (kept or not) also seeds a small local search (:func:`refine_rule`: drop or add one
   condition at a time while the z-score of the excess error grows), because a latent region is
   rarely exactly the slice where the model fails; its results are further candidates.
3. **Certify** (test rows, never seen by steps 1-2 nor by the model). Each rule's error rate minus
   the rest's gets an interval simultaneous over *every* rule tested (all models of the audit
   together), by the studentised bootstrap-max of :func:`~fairlatent.metrics.simultaneous.
   simultaneous_intervals`; a slice is ``certified`` when its interval lies above 0. The selection
   rate (slice minus rest) gets intervals simultaneous over the same rules, separately.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.data.kinds import is_numeric
from fairlatent.exceptions import DataError
from fairlatent.metrics.bootstrap import bootstrap_rows
from fairlatent.metrics.simultaneous import simultaneous_intervals
from fairlatent.policy import LEVEL, MIN_TEST_SUPPORT, PRACTICAL_MARGIN

logger = logging.getLogger(__name__)

__all__ = [
    "Condition",
    "SliceCandidate",
    "SliceFinding",
    "SliceReport",
    "SliceRule",
    "certify_slices",
    "describe_members",
    "error_aware_mixture",
    "find_slices",
    "propose_slices",
    "refine_rule",
]

#: Comparison operators a slice condition may use.
OPS: tuple[str, ...] = ("==", "!=", "<=", ">", "in")
#: Slice states.
SLICE_STATES: tuple[str, ...] = ("certified", "not_certified")
#: The metric slices are certified on.
METRIC = "error_rate"
#: Mixture components (latent regions) proposed per model.
N_COMPONENTS = 16
#: Weight of the (label, prediction) cell in the mixture's log-likelihood (Domino's y/ŷ weights).
CELL_WEIGHT = 1.0
#: Depth of the tree that describes a candidate.
MAX_DEPTH = 3
#: Smallest F1 between a rule's rows and its candidate's rows for the rule to be kept.
MIN_F1 = 0.5
#: Smallest share of the discovery rows a candidate or its rule must hold.
MIN_SHARE = 0.01
#: Smallest excess error rate (slice minus rest) on the discovery rows for a candidate to be tested.
MIN_EXCESS = PRACTICAL_MARGIN.difference
#: Two slices of one model sharing this Jaccard share of their certification rows are "similar".
SIMILAR_JACCARD = 0.7
#: Most values of an ``in`` condition written out in a rule's text.
MAX_SHOWN_LEVELS = 6
#: Most category levels per column the describing tree may use (the most frequent).
MAX_LEVELS = 30

ERR_LENGTH = "{name} has {found} values for {expected} rows; pass one value per row"
ERR_OP = "unknown condition operator {op!r}: use one of " + ", ".join(OPS)


@dataclass(frozen=True)
class Condition:
    """One condition of a slice rule: ``column op value``.

    Examples
    --------
    >>> frame = pd.DataFrame({"age": [20, 50, np.nan], "job": ["a", "b", "a"]})
    >>> Condition("age", ">", 30).mask(frame).tolist()
    [False, True, False]
    >>> Condition("job", "in", ("a",)).text()
    'job in {a}'
    """

    column: str
    op: str
    value: Any

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(ERR_OP.format(op=self.op))

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows of ``frame`` that meet the condition (a missing value meets only ``!=``)."""
        series = frame[self.column]
        if self.op in ("<=", ">"):
            values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                hit = values <= self.value if self.op == "<=" else values > self.value
            return np.asarray(hit & ~np.isnan(values), dtype=bool)
        text = _text(series)
        if self.op == "in":
            return text.isin([str(v) for v in self.value]).to_numpy(dtype=bool)
        equal = (text == str(self.value)).to_numpy(dtype=bool)
        return equal if self.op == "==" else ~equal

    def text(self) -> str:
        """Return the condition in words, e.g. ``age > 52.5``."""
        if self.op == "in":
            values = [str(v) for v in self.value]
            if len(values) > MAX_SHOWN_LEVELS:  # the full set is in to_dict()
                shown = ", ".join(values[:MAX_SHOWN_LEVELS - 2])
                return f"{self.column} in {{{shown}, … ({len(values)} values)}}"
            return f"{self.column} in {{{', '.join(values)}}}"
        value = f"{self.value:.4g}" if isinstance(self.value, float) else str(self.value)
        return f"{self.column} {self.op} {value}"

    def to_dict(self) -> dict[str, Any]:
        """``{"column", "op", "value"}`` (``in`` gives a list)."""
        value = list(self.value) if self.op == "in" else self.value
        return {"column": self.column, "op": self.op, "value": value}


@dataclass(frozen=True)
class SliceRule:
    """A conjunction of conditions; the empty rule holds every row."""

    conditions: tuple[Condition, ...]

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows of ``frame`` that meet every condition."""
        hit = np.ones(len(frame), dtype=bool)
        for condition in self.conditions:
            hit &= condition.mask(frame)
        return hit

    def text(self) -> str:
        """Return the rule in words, conditions joined with ``and``."""
        return " and ".join(c.text() for c in self.conditions) or "every row"

    def key(self) -> tuple[Any, ...]:
        """Return a hashable identity (for removing duplicate rules)."""
        return tuple(sorted((c.column, c.op, str(c.value)) for c in self.conditions))


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
        ``described`` (the tree's rule for the component, F1 at least ``min_f1``) or ``refined``
        (found by :func:`refine_rule` from that rule).
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


# -- 1. propose ----------------------------------------------------------------------------------


def _onehot(codes: np.ndarray, levels: int) -> np.ndarray:
    out = np.zeros((len(codes), levels))
    out[np.arange(len(codes)), codes] = 1.0
    return out


def error_aware_mixture(
    z: np.ndarray,
    categoricals: Sequence[tuple[np.ndarray, float]],
    *,
    n_components: int = N_COMPONENTS,
    random_state: int = 0,
    max_iter: int = 100,
    tol: float = 1e-4,
) -> np.ndarray:
    """Fit a mixture of diagonal Gaussians (latent code) and categoricals; return each row's component.

    Parameters
    ----------
    z : ndarray, shape (n, d)
        Latent codes (standardised inside).
    categoricals : sequence of (codes, weight)
        Integer codes per row (e.g. the (label, prediction) cell ``2 * y + y_pred``, or the group)
        and the weight of that variable's log-likelihood.
    n_components : int
    random_state : int
        Seed of the k-means initialisation.
    max_iter, tol : int, float
        EM stops after ``max_iter`` rounds or when the mean log-likelihood gains less than ``tol``.

    Returns
    -------
    ndarray of int, shape (n,)
        The most probable component of each row.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = np.r_[rng.normal(0, 1, (200, 2)), rng.normal(4, 1, (50, 2))]
    >>> wrong = np.r_[rng.random(200) < 0.1, rng.random(50) < 0.6].astype(int)
    >>> labels = error_aware_mixture(z, [(wrong, 1.0)], n_components=2, random_state=0)
    >>> common, rare = np.bincount(labels[:200]).argmax(), np.bincount(labels[200:]).argmax()
    >>> bool(common != rare and np.mean(labels[:200] == common) > 0.9)
    True
    """
    from scipy.special import logsumexp
    from sklearn.cluster import KMeans

    z = np.asarray(z, dtype=float)
    n = len(z)
    k = int(max(1, min(n_components, n // 5)))
    scale = z.std(axis=0)
    x = (z - z.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    cats = [(np.asarray(c, dtype=int), float(w), int(np.max(c)) + 1 if len(c) else 1)
            for c, w in categoricals]
    hot = [_onehot(c, levels) for c, _, levels in cats]
    init_features = np.hstack([x] + [h * math.sqrt(w) for h, (_, w, _) in zip(hot, cats, strict=True)])
    labels = KMeans(n_clusters=k, n_init=3, random_state=random_state).fit_predict(init_features)
    resp = _onehot(labels, k)
    previous = -np.inf
    for _ in range(max_iter):
        nk = resp.sum(axis=0) + 1e-10
        log_pi = np.log(nk / n)
        mu = (resp.T @ x) / nk[:, None]
        var = (resp.T @ (x * x)) / nk[:, None] - mu * mu + 1e-3
        log_p = (
            -0.5 * ((x * x) @ (1.0 / var).T - 2.0 * x @ (mu / var).T
                    + np.sum(mu * mu / var + np.log(2.0 * np.pi * var), axis=1))
        )
        for h, (_, weight, levels) in zip(hot, cats, strict=True):
            probs = (resp.T @ h + 1.0) / (nk[:, None] + levels)  # Dirichlet(1) smoothing
            log_p = log_p + weight * (h @ np.log(probs).T)
        log_p = log_p + log_pi
        total = logsumexp(log_p, axis=1)
        resp = np.exp(log_p - total[:, None])
        mean_ll = float(total.mean())
        if mean_ll - previous < tol:
            break
        previous = mean_ll
    return np.asarray(resp.argmax(axis=1), dtype=int)


def propose_slices(
    components: np.ndarray,
    errors: np.ndarray,
    *,
    min_share: float = MIN_SHARE,
    min_excess: float = MIN_EXCESS,
) -> list[int]:
    """Components that hold at least ``min_share`` of the rows and err ``min_excess`` more than the rest.

    Returns
    -------
    list of int
        Component ids, worst (largest excess) first.
    """
    n = len(components)
    chosen = []
    for c in np.unique(components):
        member = components == c
        size = int(member.sum())
        if size < max(MIN_TEST_SUPPORT, min_share * n) or size == n:
            continue
        excess = errors[member].mean() - errors[~member].mean()
        if excess >= min_excess:
            chosen.append((float(excess), int(c)))
    return [c for _, c in sorted(chosen, reverse=True)]


# -- 2. describe ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Design:
    """The tree's view of the original columns: numbers as they are, categories as indicators."""

    matrix: np.ndarray
    terms: list[tuple[str, str, Any]]  # (column, "num" | "cat", level)


def _design(frame: pd.DataFrame, columns: Sequence[str]) -> _Design:
    blocks, terms = [], []
    n = len(frame)
    for column in columns:
        series = frame[column]
        if is_numeric(series) and series.dtype != bool:
            values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
            fill = np.nanmedian(values) if np.isfinite(values).any() else 0.0
            blocks.append(np.where(np.isnan(values), fill, values)[:, None])
            terms.append((str(column), "num", None))
            continue
        text = _text(series)
        counts = text.value_counts()
        counts = counts[counts >= max(5, int(0.005 * n))].head(MAX_LEVELS)
        for level in counts.index:
            blocks.append((text == level).to_numpy(dtype=float)[:, None])
            terms.append((str(column), "cat", level))
    matrix = np.hstack(blocks) if blocks else np.zeros((n, 0))
    return _Design(matrix, terms)


def _simplify(conditions: list[Condition]) -> tuple[Condition, ...]:
    """Merge conditions on one column: tightest bounds, ``==`` wins over ``!=``."""
    out: list[Condition] = []
    for column in dict.fromkeys(c.column for c in conditions):
        mine = [c for c in conditions if c.column == column]
        equal = [c for c in mine if c.op == "=="]
        if equal:
            out.append(equal[0])
            continue
        out.extend(c for c in mine if c.op in ("!=", "in"))
        lows = [float(c.value) for c in mine if c.op == ">"]
        highs = [float(c.value) for c in mine if c.op == "<="]
        if lows:
            out.append(Condition(column, ">", max(lows)))
        if highs:
            out.append(Condition(column, "<=", min(highs)))
    return tuple(out)


def describe_members(
    frame: pd.DataFrame,
    members: np.ndarray,
    columns: Sequence[str],
    *,
    max_depth: int = MAX_DEPTH,
    random_state: int = 0,
) -> tuple[SliceRule, float] | None:
    """Describe the rows ``members`` of ``frame`` by one conjunction of conditions on ``columns``.

    A decision tree (depth ``max_depth``, balanced classes) learns membership from the original
    columns; the leaf whose path has the best F1 against ``members`` gives the rule.

    Returns
    -------
    (SliceRule, float) or None
        The rule and its F1 on ``frame``; ``None`` when no leaf holds a member.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"age": rng.integers(18, 90, 500),
    ...                       "job": rng.choice(["a", "b"], 500)})
    >>> rule, f1 = describe_members(frame, (frame.age > 60).to_numpy() & (frame.job == "a").to_numpy(),
    ...                             ["age", "job"])
    >>> rule.text(), round(f1, 2)
    ('age > 60.5 and job != b', 1.0)
    """
    from sklearn.tree import DecisionTreeClassifier

    members = np.asarray(members, dtype=bool)
    design = _design(frame, columns)
    if design.matrix.shape[1] == 0 or not members.any():
        return None
    n = len(frame)
    tree = DecisionTreeClassifier(
        max_depth=max_depth,
        min_samples_leaf=max(5, int(0.005 * n)),
        class_weight="balanced",
        random_state=random_state,
    ).fit(design.matrix, members)
    leaves = tree.apply(design.matrix)
    paths = _leaf_paths(tree.tree_, design)
    best: tuple[float, int] | None = None
    n_members = int(members.sum())
    for leaf in paths:
        in_leaf = leaves == leaf
        hits = int(np.sum(in_leaf & members))
        if hits == 0:
            continue
        f1 = 2.0 * hits / (int(in_leaf.sum()) + n_members)
        if best is None or f1 > best[0]:
            best = (f1, leaf)
    if best is None:
        return None
    rule = SliceRule(_simplify(paths[best[1]]))
    f1 = 2.0 * np.sum(rule.mask(frame) & members) / (rule.mask(frame).sum() + n_members)
    return rule, float(f1)


class _Masks:
    """Condition masks on one frame, each computed once (the local search asks for many).

    Numbers are kept as floats, categories as integer codes into their sorted levels (missing
    values: -1), so a condition is one vectorised comparison.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._masks: dict[Condition, np.ndarray] = {}
        self._numbers: dict[str, np.ndarray] = {}
        self._codes: dict[str, tuple[np.ndarray, list[str]]] = {}

    def numbers(self, column: str) -> np.ndarray:
        """Return the column as floats (NaN where missing or not a number)."""
        if column not in self._numbers:
            self._numbers[column] = pd.to_numeric(self.frame[column], errors="coerce").to_numpy(
                dtype=float)
        return self._numbers[column]

    def codes(self, column: str) -> tuple[np.ndarray, list[str]]:
        """Return the column as codes into its sorted text levels (``-1``: missing)."""
        if column not in self._codes:
            text = _text(self.frame[column]).to_numpy(dtype=object)
            present = np.array([v is not None for v in text], dtype=bool)
            levels = sorted({str(v) for v in text[present]})
            index = {level: i for i, level in enumerate(levels)}
            codes = np.full(len(text), -1, dtype=np.int64)
            codes[present] = [index[str(v)] for v in text[present]]
            self._codes[column] = (codes, levels)
        return self._codes[column]

    def condition(self, condition: Condition) -> np.ndarray:
        """Return the rows meeting ``condition`` (as :meth:`Condition.mask`)."""
        if condition not in self._masks:
            op, value = condition.op, condition.value
            if op in ("<=", ">"):
                x = self.numbers(condition.column)
                with np.errstate(invalid="ignore"):
                    hit = (x <= value) if op == "<=" else (x > value)
                self._masks[condition] = hit & ~np.isnan(x)
            else:
                codes, levels = self.codes(condition.column)
                index = {level: i for i, level in enumerate(levels)}
                wanted = [str(v) for v in value] if op == "in" else [str(value)]
                ids = [index[v] for v in wanted if v in index]
                equal = np.isin(codes, ids) if ids else np.zeros(len(codes), dtype=bool)
                self._masks[condition] = ~equal if op == "!=" else equal
        return self._masks[condition]

    def rule(self, rule: SliceRule) -> np.ndarray:
        """Return the rows meeting every condition of ``rule``."""
        hit = np.ones(len(self.frame), dtype=bool)
        for condition in rule.conditions:
            hit &= self.condition(condition)
        return hit


def _text(series: pd.Series) -> pd.Series:
    """Values as text, missing values as ``None``."""
    return series.astype(object).where(series.notna(), None).map(
        lambda v: None if v is None else str(v)
    )


def _z_score(errors: np.ndarray, hit: np.ndarray) -> float:
    """Excess error rate of ``hit`` over the other rows, in standard errors."""
    n1, n0 = int(hit.sum()), int((~hit).sum())
    if n1 == 0 or n0 == 0:
        return float("-inf")
    x1, x0 = float(errors[hit].sum()), float(errors[~hit].sum())
    se = _rate_difference_se(np.array(x1), np.array(n1), np.array(x0), np.array(n0))
    return float((x1 / n1 - x0 / n0) / se)


def _narrowing_conditions(masks: _Masks, inside: np.ndarray, errors: np.ndarray,
                          column: str) -> list[Condition]:
    """Conditions on ``column`` that could narrow the rows ``inside``: thresholds or level sets.

    A number gives ``<=`` and ``>`` at its deciles inside; a category gives the sets of its
    levels with the highest error rates inside (the first 1, 2, ... levels).
    """
    series = masks.frame[column]
    if is_numeric(series) and series.dtype != bool:
        values = masks.numbers(column)[inside]
        values = values[np.isfinite(values)]
        if len(values) == 0:
            return []
        cuts = np.unique(np.quantile(values, np.linspace(0.1, 0.9, 9)))
        return [Condition(column, op, float(t)) for t in cuts for op in ("<=", ">")]
    codes, levels = masks.codes(column)
    codes = codes[inside]
    present = codes >= 0
    counts = np.bincount(codes[present], minlength=len(levels))
    wrong = np.bincount(codes[present], weights=errors[inside][present], minlength=len(levels))
    seen = np.flatnonzero(counts)
    order = seen[np.argsort(-(wrong[seen] / counts[seen]), kind="stable")]
    ranked = [levels[i] for i in order]
    out = []
    for k in range(1, min(len(ranked), MAX_LEVELS)):
        chosen = ranked[:k]
        out.append(Condition(column, "==", chosen[0]) if k == 1 else
                   Condition(column, "in", tuple(sorted(chosen))))
    return out


def _local_search(
    masks: _Masks,
    start: SliceRule,
    errors: np.ndarray,
    columns: Sequence[str],
    min_rows: int,
    steps: int,
) -> tuple[float, SliceRule]:
    """Greedy moves (drop or add one condition) while the z-score of the excess error grows."""
    n = len(errors)
    total = float(errors.sum())

    def z_of(rows: np.ndarray) -> float:
        n1 = int(rows.sum())
        if n1 < min_rows or n1 == n:
            return float("-inf")
        x1 = float(errors @ rows)
        se = _rate_difference_se(np.array(x1), np.array(n1), np.array(total - x1),
                                 np.array(n - n1))
        return float((x1 / n1 - (total - x1) / (n - n1)) / se)

    current = start
    hit = masks.rule(current)
    score = z_of(hit)
    for _ in range(steps):
        # a move drops one condition or adds one; adding narrows the rows to hit & condition
        # (merging bounds on one column keeps the conjunction's rows), so only the best move's
        # rule is built
        best: tuple[float, tuple[Condition, ...] | Condition, np.ndarray] | None = None
        if len(current.conditions) > 1:
            for dropped in current.conditions:
                kept = tuple(c for c in current.conditions if c != dropped)
                rows = masks.rule(SliceRule(kept))
                z = z_of(rows)
                if z > float("-inf") and (best is None or z > best[0]):
                    best = (z, kept, rows)
        for column in columns:
            if any(c.column == column and c.op in ("==", "in") for c in current.conditions):
                continue
            for condition in _narrowing_conditions(masks, hit, errors, column):
                rows = hit & masks.condition(condition)
                if rows.sum() == hit.sum():
                    continue
                z = z_of(rows)
                if z > float("-inf") and (best is None or z > best[0]):
                    best = (z, condition, rows)
        if best is None or best[0] <= score:
            break
        score, move, hit = best
        current = SliceRule(move) if isinstance(move, tuple) else \
            SliceRule(_simplify([*current.conditions, move]))
    return score, current


def refine_rule(
    frame: pd.DataFrame,
    rule: SliceRule,
    errors: np.ndarray,
    columns: Sequence[str],
    *,
    min_rows: int,
    steps: int = 4,
    masks: _Masks | None = None,
) -> list[SliceRule]:
    """Adjust ``rule`` towards the rows where the model errs most, if they stand out more.

    A small local search from the rule and from each of its conditions alone, at most ``steps``
    moves each: a move drops one condition or adds one (a threshold on a number, or the set of a
    column's levels with the highest error rates inside the rule), whichever gives the rows'
    excess error over all other rows the largest z-score, as long as it grows. Each distinct
    result that beats the rule is a further candidate, certified like the others on other rows.

    Other Parameters
    ----------------
    masks : _Masks, optional
        Condition masks of ``frame`` shared between calls (computed here when not given).

    Returns
    -------
    list of SliceRule
        Empty when no search improves on the rule.
    """
    errors = np.asarray(errors, dtype=float)
    masks = masks if masks is not None and masks.frame is frame else _Masks(frame)
    hit = masks.rule(rule)
    base = _z_score(errors, hit)
    starts = [rule] + ([SliceRule((c,)) for c in rule.conditions] if len(rule.conditions) > 1
                       else [])
    found: dict[tuple[Any, ...], SliceRule] = {}
    for start in starts:
        score, result = _local_search(masks, start, errors, columns, min_rows, steps)
        if result.key() != rule.key() and score > base:
            found.setdefault(result.key(), result)
    return list(found.values())


def _leaf_paths(structure: Any, design: _Design) -> dict[int, list[Condition]]:
    """Each leaf of a fitted tree and the conditions on the way to it."""
    paths: dict[int, list[Condition]] = {}
    stack: list[tuple[int, list[Condition]]] = [(0, [])]
    while stack:
        node, path = stack.pop()
        left, right = structure.children_left[node], structure.children_right[node]
        if left == -1:
            paths[node] = path
            continue
        column, kind, level = design.terms[structure.feature[node]]
        threshold = float(structure.threshold[node])
        if kind == "num":
            stack.append((left, [*path, Condition(column, "<=", threshold)]))
            stack.append((right, [*path, Condition(column, ">", threshold)]))
        else:
            stack.append((left, [*path, Condition(column, "!=", level)]))
            stack.append((right, [*path, Condition(column, "==", level)]))
    return paths


# -- 3. certify ----------------------------------------------------------------------------------


def _rate_difference_se(x1: np.ndarray, n1: np.ndarray, x0: np.ndarray, n0: np.ndarray) -> np.ndarray:
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
    se = _rate_difference_se(x1, n1, x0, n0)
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


# -- the whole procedure -------------------------------------------------------------------------


def discover_candidates(
    z: np.ndarray,
    frame: pd.DataFrame,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    classifier: str,
    strategy: str,
    columns: Sequence[str],
    groups: np.ndarray | None = None,
    n_components: int = N_COMPONENTS,
    cell_weight: float = CELL_WEIGHT,
    min_f1: float = MIN_F1,
    random_state: int = 0,
    masks: _Masks | None = None,
) -> tuple[list[SliceCandidate], int, int]:
    """Propose and describe the candidate slices of one model on the discovery rows.

    Returns
    -------
    candidates : list of SliceCandidate
    n_proposed : int
        Components that looked worse before description.
    n_undescribed : int
        Of those, how many no rule reproduced with F1 at least ``min_f1``.
    """
    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    errors = (y_true != y_pred).astype(float)
    categoricals: list[tuple[np.ndarray, float]] = [(2 * y_true + y_pred, cell_weight)]
    if groups is not None:
        _, codes = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
        categoricals.append((codes, 1.0))
    components = error_aware_mixture(
        z, categoricals, n_components=n_components, random_state=random_state
    )
    proposed = propose_slices(components, errors)
    n = len(frame)
    min_rows = int(max(MIN_TEST_SUPPORT, MIN_SHARE * n))
    candidates: list[SliceCandidate] = []
    undescribed = 0

    def add(rule: SliceRule, component: int, f1: float, origin: str) -> None:
        hit = rule.mask(frame)
        if hit.sum() < min_rows or hit.all():
            return
        value, rest = float(errors[hit].mean()), float(errors[~hit].mean())
        if value - rest >= MIN_EXCESS:
            candidates.append(SliceCandidate(classifier, strategy, rule, component, f1,
                                             int(hit.sum()), value, rest, origin))

    for c in proposed:
        described = describe_members(frame, components == c, columns, random_state=random_state)
        if described is None:
            undescribed += 1
            continue
        rule, f1 = described
        if f1 >= min_f1:
            add(rule, int(c), f1, "described")
        else:
            undescribed += 1
        # the rule, well fitting or not, seeds a local search on the discovery rows
        for narrow in refine_rule(frame, rule, errors, columns, min_rows=min_rows, masks=masks):
            add(narrow, int(c), f1, "refined")
    unique: dict[tuple[Any, ...], SliceCandidate] = {}
    for cand in candidates:
        unique.setdefault(cand.rule.key(), cand)
    return list(unique.values()), len(proposed), undescribed


def slice_report(
    models: Mapping[tuple[str, str], tuple[np.ndarray, np.ndarray]],
    *,
    discover: pd.DataFrame,
    certify: pd.DataFrame,
    z_discover: np.ndarray,
    target: str,
    columns: Sequence[str],
    groups_discover: np.ndarray | None = None,
    n_components: int = N_COMPONENTS,
    cell_weight: float = CELL_WEIGHT,
    min_f1: float = MIN_F1,
    n_boot: int = 200,
    random_state: int = 0,
    level: float = LEVEL,
) -> SliceReport:
    """Propose, describe and certify slices for several models at once (one family).

    Parameters
    ----------
    models : mapping
        ``(strategy, classifier)`` -> (0/1 predictions on ``discover``, on ``certify``).
    discover, certify : DataFrame
        Discovery rows (e.g. validation rows) and certification rows (test rows), each with
        ``target`` (0/1) and ``columns``.
    z_discover : ndarray
        Latent codes of the discovery rows.
    target : str
    columns : sequence of str
        Original columns the rules may use.
    groups_discover : ndarray, optional
        Group labels of the discovery rows (a variable of the mixture).
    n_components, cell_weight, min_f1 : see :func:`discover_candidates`
    n_boot, random_state, level : see :func:`certify_slices`

    Returns
    -------
    SliceReport
    """
    y_discover = discover[target].to_numpy(dtype=int)
    y_certify = certify[target].to_numpy(dtype=int)
    if len(z_discover) != len(discover):
        raise DataError(ERR_LENGTH.format(name="z_discover", found=len(z_discover),
                                          expected=len(discover)))
    candidates: list[SliceCandidate] = []
    proposed = undescribed = 0
    errors, selected = {}, {}
    masks = _Masks(discover)  # shared by every model's local searches
    for (strategy, classifier), (pred_d, pred_c) in models.items():
        for name, pred, rows in (("discovery predictions", pred_d, discover),
                                 ("certification predictions", pred_c, certify)):
            if len(pred) != len(rows):
                raise DataError(ERR_LENGTH.format(name=name, found=len(pred), expected=len(rows)))
        found, n_prop, n_undescribed = discover_candidates(
            z_discover, discover, y_discover, pred_d, classifier=classifier, strategy=strategy,
            columns=columns, groups=groups_discover, n_components=n_components,
            cell_weight=cell_weight, min_f1=min_f1, random_state=random_state, masks=masks,
        )
        candidates.extend(found)
        proposed += n_prop
        undescribed += n_undescribed
        pred_c = np.asarray(pred_c, dtype=int)
        errors[(strategy, classifier)] = (pred_c != y_certify).astype(float)
        selected[(strategy, classifier)] = (pred_c == 1).astype(float)
    findings, n_tested, critical = certify_slices(
        candidates, certify, errors, selected, n_boot=n_boot, random_state=random_state,
        level=level,
    )
    logger.info("latent slices: %d proposed, %d described, %d tested, %d certified", proposed,
                len(candidates), n_tested, sum(f.state == "certified" for f in findings))
    return SliceReport(
        slices=findings,
        n_tested=n_tested,
        n_proposed=proposed,
        n_undescribed=undescribed,
        critical_value=critical,
        level=level,
        n_boot=n_boot,
        discovery_rows=len(discover),
        certification_rows=len(certify),
        settings={"n_components": n_components, "cell_weight": cell_weight, "max_depth": MAX_DEPTH,
                  "min_f1": min_f1, "min_excess": MIN_EXCESS, "min_share": MIN_SHARE},
    )


def _decisions(model: Any, frame: pd.DataFrame, columns: Sequence[str] | None) -> np.ndarray:
    """0/1 decisions of ``model`` (a callable on the frame, or an estimator with ``predict``)."""
    if hasattr(model, "predict"):
        X = frame[list(columns)] if columns is not None else frame
        return np.asarray(model.predict(X)).astype(int)
    return np.asarray(model(frame)).astype(int)


def find_slices(
    model: Any,
    discover: pd.DataFrame,
    certify: pd.DataFrame,
    *,
    target: str,
    sensitive: Sequence[str],
    features: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    coder: Any = None,
    classifier: str = "model",
    strategy: str = "none",
    epochs: int | None = None,
    n_boot: int = 200,
    level: float = LEVEL,
    device: str = "auto",
    random_state: int = 0,
) -> SliceReport:
    """Find where a fitted model fails: latent slices, described by rules, certified on held-out rows.

    Parameters
    ----------
    model : estimator or callable
        A fitted model: ``model.predict(frame[features])`` (or ``model(frame)``) returns 0/1
        decisions, 1 the favourable one.
    discover : DataFrame
        Rows to find slices on (not the model's training rows, ideally): ``target`` (0/1),
        ``sensitive`` and the features.
    certify : DataFrame
        Other held-out rows, never used to train the model nor to find slices.
    target : str
        The 0/1 label column.
    sensitive : sequence of str
        Sensitive columns (the latent code leaves them out; the mixture sees the group).
    features : sequence of str, optional
        The model's input columns; default every column but the target.
    columns : sequence of str, optional
        Columns the latent space encodes (besides the sensitive ones, which never enter it) and
        the rules may name, with the sensitive ones; default every column but the target.
    coder : LatentCoder, optional
        A fitted latent space (:func:`~fairlatent.metrics.latent_space.fit_latent_coder`); default
        a group-conditional VAE fitted on ``discover``'s features (no labels).
    classifier, strategy : str
        Names written into the findings.
    epochs : int, optional
        Epochs of the VAE fitted here.
    n_boot : int, default 200
    level : float, default LEVEL
    device : str, default "auto"
    random_state : int, default 0

    Returns
    -------
    SliceReport

    Examples
    --------
    >>> report = fairlatent.find_slices(clf, validation, test, target="y",
    ...                                 sensitive=["sex"])  # doctest: +SKIP
    >>> [(s.rule, s.value, s.low) for s in report.certified]  # doctest: +SKIP
    """
    from fairlatent.metrics.latent_space import DEFAULT_EPOCHS, fit_latent_coder

    sensitive = list(sensitive)
    if columns is None:
        columns = [c for c in discover.columns if c != target and c not in set(sensitive)]
    columns = list(columns)
    if coder is None:
        coder = fit_latent_coder(
            discover, columns=columns, sensitive=sensitive,
            epochs=epochs or DEFAULT_EPOCHS, device=device, random_state=random_state,
        )
    from fairlatent.models.vae.invariant import group_labels_of

    predictions = (_decisions(model, discover, features), _decisions(model, certify, features))
    describe = [c for c in dict.fromkeys([*columns, *sensitive]) if c != target]
    return slice_report(
        {(strategy, classifier): predictions},
        discover=discover.reset_index(drop=True),
        certify=certify.reset_index(drop=True),
        z_discover=coder.encode(discover),
        target=target,
        columns=describe,
        groups_discover=group_labels_of(discover[sensitive]),
        n_boot=n_boot,
        random_state=random_state,
        level=level,
    )


