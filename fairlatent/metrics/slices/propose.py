"""Propose candidate slices of one model on the discovery rows: latent regions and searched rules.

1. An *error-aware mixture* in the style of Domino (Eyuboglu et al., ICLR 2022) is fitted to the
   rows' latent codes together with each row's (label, prediction) cell and group: every component
   has a diagonal Gaussian over the standardised latent code, a categorical distribution over the
   four (label, prediction) cells, weighted by ``cell_weight`` in the log-likelihood, and one over
   the groups. Components whose error rate exceeds the rest's by at least the practical margin are
   described by a rule (:func:`~fairlatent.metrics.slices.describe.describe_members`), kept when it
   reproduces the component (F1 at least ``min_f1``), and each rule seeds a local search
   (:func:`~fairlatent.metrics.slices.search.refine_rule`).
2. Sequential peeling (:func:`~fairlatent.metrics.slices.search.peel`): beam searches over rules
   on the original columns, each without the rows of the regions found before, so that distinct
   failure regions are all proposed, not only the most significant one; each found rule also
   seeds the local search on every row (a condition that only excluded peeled rows may go).
   The peeling runs twice: on the errors, and on the errors beyond a smooth model of the error
   fitted on the latent code (:func:`expected_errors`), where a region stands out only if the
   model errs there more than it does on rows that look alike.
3. Candidates whose rows err less than the rest's plus the practical margin are dropped, and of
   near-identical candidates (Jaccard of their discovery rows at least ``dedup_jaccard``) only
   the one with the best score is kept, so the family certified stays small.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fairlatent.metrics.slices.certify import SliceCandidate
from fairlatent.metrics.slices.describe import MIN_F1, describe_members
from fairlatent.metrics.slices.rules import ConditionMasks, SliceRule
from fairlatent.metrics.slices.search import PEEL_ROUNDS, ExcessScore, peel, refine_rule
from fairlatent.policy import MIN_TEST_SUPPORT, PRACTICAL_MARGIN

__all__ = [
    "ProposalSettings",
    "discover_candidates",
    "error_aware_mixture",
    "expected_errors",
    "propose_slices",
]

#: Mixture components (latent regions) proposed per model.
N_COMPONENTS = 16
#: Weight of the (label, prediction) cell in the mixture's log-likelihood (Domino's y/ŷ weights).
CELL_WEIGHT = 1.0
#: Smallest share of the discovery rows a candidate or its rule must hold.
MIN_SHARE = 0.01
#: Smallest excess error rate (slice minus rest) on the discovery rows for a candidate to be tested.
MIN_EXCESS = PRACTICAL_MARGIN.difference
#: L2 penalty of the smooth error model (:func:`expected_errors`), per row of discovery data.
BASELINE_STRENGTH = 10.0
#: Two candidates of one model whose discovery rows overlap this much (Jaccard) are one candidate.
DEDUP_JACCARD = 0.8


@dataclass(frozen=True)
class ProposalSettings:
    """How candidates are proposed (see the module docstring).

    Attributes
    ----------
    n_components : int
        Mixture components (latent regions).
    cell_weight : float
        Weight of the (label, prediction) cell in the mixture's log-likelihood.
    min_f1 : float
        Smallest F1 of a described rule against its component.
    peel_rounds : int
        Beam searches of the sequential peeling (0: none).
    dedup_jaccard : float
        Overlap above which two candidates count as one.
    """

    n_components: int = N_COMPONENTS
    cell_weight: float = CELL_WEIGHT
    min_f1: float = MIN_F1
    peel_rounds: int = PEEL_ROUNDS
    dedup_jaccard: float = DEDUP_JACCARD

    def to_dict(self) -> dict[str, float]:
        """Return the settings with the fixed thresholds, for the report."""
        return {"n_components": self.n_components, "cell_weight": self.cell_weight,
                "min_f1": self.min_f1, "peel_rounds": self.peel_rounds,
                "dedup_jaccard": self.dedup_jaccard, "min_excess": MIN_EXCESS,
                "min_share": MIN_SHARE}



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




def expected_errors(z: np.ndarray, y_pred: np.ndarray, errors: np.ndarray, *,
                    strength: float = BASELINE_STRENGTH, random_state: int = 0) -> np.ndarray:
    """Each row's error probability under a smooth model: a logistic regression on the latent code.

    The inputs are the standardised latent code and the decision (errors after a favourable and an
    unfavourable decision differ in kind); the L2 penalty ``strength`` (sklearn ``C = 1 /
    strength``) keeps the model smooth, so it learns where errors are common in broad strokes (a
    hard part of the population) but not a small region where they are denser.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(2000, 2))
    >>> errors = (rng.random(2000) < np.where(z[:, 0] > 0, 0.3, 0.05)).astype(float)
    >>> p = expected_errors(z, np.zeros(2000, int), errors)
    >>> bool(p[z[:, 0] > 1].mean() > 0.2 > 0.1 > p[z[:, 0] < -1].mean())
    True
    """
    from sklearn.linear_model import LogisticRegression

    errors = np.asarray(errors, dtype=int)
    if errors.min() == errors.max():
        return np.full(len(errors), float(errors.mean()))
    z = np.asarray(z, dtype=float)
    scale = z.std(axis=0)
    x = np.column_stack([(z - z.mean(axis=0)) / np.where(scale > 0, scale, 1.0),
                         np.asarray(y_pred, dtype=float)])
    model = LogisticRegression(C=1.0 / strength, max_iter=500, random_state=random_state)
    return np.asarray(model.fit(x, errors).predict_proba(x)[:, 1], dtype=float)


def _deduplicate(candidates: list[tuple[float, SliceCandidate, np.ndarray]], jaccard: float
                 ) -> list[SliceCandidate]:
    """Keep, of candidates overlapping at least ``jaccard``, the one with the best score."""
    kept: list[tuple[SliceCandidate, np.ndarray]] = []
    seen: set[tuple[object, ...]] = set()
    for _, cand, hit in sorted(candidates, key=lambda c: -c[0]):
        if cand.rule.key() in seen:
            continue
        seen.add(cand.rule.key())
        if any((hit & other).sum() >= jaccard * (hit | other).sum() for _, other in kept):
            continue
        kept.append((cand, hit))
    return [cand for cand, _ in kept]


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
    settings: ProposalSettings | None = None,
    random_state: int = 0,
    masks: ConditionMasks | None = None,
) -> tuple[list[SliceCandidate], int, int]:
    """Propose and describe the candidate slices of one model on the discovery rows.

    Parameters
    ----------
    z : ndarray
        Latent codes of ``frame``'s rows.
    frame : DataFrame
        The discovery rows with ``columns``.
    y_true, y_pred : ndarray
        0/1 labels and the model's 0/1 decisions on ``frame``.
    classifier, strategy : str
        Names of the model.
    columns : sequence of str
        Columns a rule may name.
    groups : ndarray, optional
        Group labels (a variable of the mixture).
    settings : ProposalSettings, optional
    random_state : int
    masks : ConditionMasks, optional
        Condition masks of ``frame`` shared between models.

    Returns
    -------
    candidates : list of SliceCandidate
        Best discovery score first (:class:`~fairlatent.metrics.slices.search.ExcessScore`).
    n_proposed : int
        Mixture components that looked worse before description.
    n_undescribed : int
        Of those, how many no rule reproduced with F1 at least ``min_f1``.
    """
    settings = settings or ProposalSettings()
    masks = masks if masks is not None and masks.frame is frame else ConditionMasks(frame)
    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    errors = (y_true != y_pred).astype(float)
    categoricals: list[tuple[np.ndarray, float]] = [(2 * y_true + y_pred, settings.cell_weight)]
    if groups is not None:
        _, codes = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
        categoricals.append((codes, 1.0))
    components = error_aware_mixture(
        z, categoricals, n_components=settings.n_components, random_state=random_state
    )
    proposed = propose_slices(components, errors)
    n = len(frame)
    min_rows = int(max(MIN_TEST_SUPPORT, MIN_SHARE * n))
    score = ExcessScore(errors, min_rows)
    found: list[tuple[float, SliceCandidate, np.ndarray]] = []
    undescribed = 0

    def add(rule: SliceRule, component: int, f1: float, origin: str) -> None:
        hit = masks.rule(rule)
        z_rule = score(hit)
        if z_rule == float("-inf"):
            return
        value, rest = float(errors[hit].mean()), float(errors[~hit].mean())
        if value - rest >= MIN_EXCESS:
            found.append((z_rule, SliceCandidate(classifier, strategy, rule, component, f1,
                                                 int(hit.sum()), value, rest, origin), hit))

    for c in proposed:
        described = describe_members(frame, components == c, columns, random_state=random_state,
                                     masks=masks)
        if described is None:
            undescribed += 1
            continue
        rule, f1 = described
        if f1 >= settings.min_f1:
            add(rule, int(c), f1, "described")
        else:
            undescribed += 1
        # the rule, well fitting or not, seeds a local search on the discovery rows
        for narrow in refine_rule(masks, rule, errors, columns, min_rows=min_rows):
            add(narrow, int(c), f1, "refined")
    # peeling twice: on the errors, and on the errors beyond what a smooth model of the error
    # expects from the latent code (regions hard everywhere alike stop competing)
    expected = expected_errors(z, y_pred, errors, random_state=random_state) \
        if settings.peel_rounds > 0 else None
    for baseline in (None, expected) if expected is not None else ():
        for _, rule in peel(masks, errors, columns, min_rows=min_rows, expected=baseline,
                            rounds=settings.peel_rounds):
            add(rule, -1, math.nan, "searched")
            # a rule found without the rows peeled before may describe its region better
            # without a condition that only excluded those rows: the local search on every row
            for wider in refine_rule(masks, rule, errors, columns, min_rows=min_rows,
                                     expected=baseline, from_conditions=False):
                add(wider, -1, math.nan, "searched")
    return _deduplicate(found, settings.dedup_jaccard), len(proposed), undescribed
