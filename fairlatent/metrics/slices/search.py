"""Search rules where a model errs more than elsewhere: local refinement, beam search, peeling.

Every search scores a set of rows by a lower confidence bound of its excess error rate over the
other rows (:class:`ExcessScore`: the excess minus ``SEARCH_Z`` standard errors). Unlike the
z-score, which grows with the square root of the rows and so favours ever larger regions (on
Adult, "everyone but the young" beats any concentrated failure region), the bound favours the
region where errors are densest among those with enough rows to be sure of it. All searches run
on the discovery rows only; what they return is certified on other rows.

* :func:`refine_rule` moves greedily from a described latent region (drop or add one condition);
* :func:`beam_search` grows conjunctions condition by condition, keeping the best few;
* :func:`peel` repeats the beam search, each time without the rows of the regions already found, so
  that a smaller failure region is proposed even when a larger one stands out more.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fairlatent.metrics.slices.rules import (
    MAX_LEVELS,
    Condition,
    ConditionMasks,
    SliceRule,
    simplify,
)

__all__ = ["BEAM_WIDTH", "MAX_CONDITIONS", "PEEL_ROUNDS", "SEARCH_Z", "ExcessScore", "beam_search", "peel",
           "refine_rule"]

#: Rules kept at each depth of the beam search.
BEAM_WIDTH = 6
#: Most conditions a searched rule may hold.
MAX_CONDITIONS = 3
#: Beam searches of :func:`peel` (each without the rows of the regions found before).
PEEL_ROUNDS = 5
#: Standard errors subtracted from a region's excess error rate to score it (a one-sided bound).
SEARCH_Z = 4.0
#: Smallest z-score of a region's excess (within the rows left) for :func:`peel` to go on.
PEEL_MIN_Z = 2.0
#: Most levels of a category one condition may hold (``==`` or ``in``), the most error-prone first.
MAX_SET_LEVELS = 3
#: Pseudo-rows pulling a level's error rate towards the rate of the rows searched, when ranking levels.
LEVEL_PRIOR_ROWS = 20.0

_NONE = float("-inf")


class ExcessScore:
    """Lower confidence bound of the excess error rate of a set of rows over the other rows of a pool.

    The score of rows is ``(error rate inside) - (error rate in the rest of the pool) - z * se``
    (``se``: the plug-in standard error of the difference), so it is positive when the rows err
    more than the others beyond ``z`` standard errors.

    Parameters
    ----------
    errors : ndarray
        0/1 (or fractional) error per row.
    min_rows : int
        Fewest rows a scored set (and the rest of the pool) must hold; smaller sets score ``-inf``.
    pool : ndarray of bool, optional
        The rows compared (default all); a set's rows outside it are ignored.
    z : float, default SEARCH_Z
    expected : ndarray, optional
        Each row's expected error (:func:`~fairlatent.metrics.slices.propose.expected_errors`):
        when given, the excess is that of the errors *beyond* what is expected on each side
        (observed minus expected), so regions that are hard everywhere alike do not stand out.

    Examples
    --------
    >>> errors = np.r_[np.ones(60), np.zeros(140), np.ones(20), np.zeros(180)]
    >>> score = ExcessScore(errors, 20)
    >>> round(score(np.arange(400) < 200), 3)  # 30 % against 10 %, minus 4 standard errors
    0.044
    >>> round(score.z_score(np.arange(400) < 200), 1)
    5.1
    """

    def __init__(self, errors: np.ndarray, min_rows: int, pool: np.ndarray | None = None,
                 z: float = SEARCH_Z, expected: np.ndarray | None = None) -> None:
        self.errors = np.asarray(errors, dtype=float)
        self.pool = np.ones(len(self.errors), dtype=bool) if pool is None else np.asarray(pool, bool)
        self.min_rows = int(min_rows)
        self.z = float(z)
        self.expected = None if expected is None else np.asarray(expected, dtype=float)
        #: what a search ranks category levels by: the errors, or the errors beyond expectation
        self.residuals = self.errors if self.expected is None else self.errors - self.expected
        self.n = int(self.pool.sum())
        self.total = float(self.errors[self.pool].sum())
        self.total_expected = 0.0 if self.expected is None else float(self.expected[self.pool].sum())

    def of_counts(self, n1: np.ndarray, x1: np.ndarray, e1: np.ndarray | None = None,
                  as_z: bool = False) -> np.ndarray:
        """Scores of sets given their rows ``n1``, errors ``x1`` and expected errors ``e1`` in the pool.

        Vectorised over sets; ``-inf`` where a set or the rest of the pool is too small.
        """
        n1 = np.asarray(n1, dtype=float)
        x1 = np.asarray(x1, dtype=float)
        n0, x0 = self.n - n1, self.total - x1
        ok = (n1 >= self.min_rows) & (n0 >= self.min_rows)
        m1, m0 = np.maximum(n1, 1.0), np.maximum(n0, 1.0)
        p1, p0 = (x1 + 1.0) / (n1 + 2.0), (x0 + 1.0) / (n0 + 2.0)  # as rate_difference_se
        se = np.sqrt(p1 * (1.0 - p1) / m1 + p0 * (1.0 - p0) / m0)
        difference = x1 / m1 - x0 / m0
        if self.expected is not None and e1 is not None:
            difference = difference - (np.asarray(e1, dtype=float) / m1
                                       - (self.total_expected - np.asarray(e1, dtype=float)) / m0)
        out = difference / se if as_z else difference - self.z * se
        return np.where(ok, out, _NONE)

    def _one(self, rows: np.ndarray, as_z: bool) -> float:
        rows = rows & self.pool
        e1 = None if self.expected is None else float(self.expected @ rows)
        return float(self.of_counts(np.array(rows.sum()), np.array(self.errors @ rows),
                                    None if e1 is None else np.array(e1), as_z))

    def __call__(self, rows: np.ndarray) -> float:
        """Return the bound for ``rows & pool`` against the rest of the pool (``-inf``: too small)."""
        return self._one(rows, as_z=False)

    def z_score(self, rows: np.ndarray) -> float:
        """Return the excess of ``rows & pool`` in standard errors (``-inf``: too small)."""
        return self._one(rows, as_z=True)


def _best_threshold(masks: ConditionMasks, inside: np.ndarray, column: str, score: ExcessScore
                    ) -> tuple[float, Condition] | None:
    """Return the best ``<=`` or ``>`` condition on a number at its deciles inside (scored at once)."""
    order = masks.order(column)  # every row, by value, missing values last
    order = order[inside[order]]
    x = masks.numbers(column)
    order = order[np.isfinite(x[order])]
    if len(order) == 0:
        return None
    ordered = x[order]
    errors = np.r_[0.0, np.cumsum(score.errors[order])]
    expected = None if score.expected is None else np.r_[0.0, np.cumsum(score.expected[order])]
    values = ordered
    cuts = np.unique(values[(np.linspace(0.1, 0.9, 9) * (len(values) - 1)).round().astype(int)])
    below = np.searchsorted(ordered, cuts, side="right")  # rows <= cut
    n_in = int(inside.sum())
    counts = np.r_[below, len(values) - below]
    wrong = np.r_[errors[below], errors[-1] - errors[below]]
    hoped = None if expected is None else np.r_[expected[below], expected[-1] - expected[below]]
    scores = score.of_counts(counts, wrong, hoped)
    scores[counts >= n_in] = _NONE  # narrows nothing
    best = int(np.argmax(scores))
    if scores[best] == _NONE:
        return None
    op = "<=" if best < len(cuts) else ">"
    return float(scores[best]), Condition(column, op, float(cuts[best % len(cuts)]))


def _level_sets(masks: ConditionMasks, inside: np.ndarray, residuals: np.ndarray,
                column: str) -> list[Condition]:
    """Return the sets of a category's levels that could narrow the rows ``inside``.

    The sets of its levels with the highest error rates inside (the first 1, 2, ...
    ``MAX_SET_LEVELS`` levels, ranked by error rates shrunk towards the rate inside, so that a
    rare level does not lead by chance), never all of them.
    """
    codes, levels = masks.codes(column)
    codes = codes[inside]
    present = codes >= 0
    counts = np.bincount(codes[present], minlength=len(levels))
    wrong = np.bincount(codes[present], weights=residuals[inside][present], minlength=len(levels))
    seen = np.flatnonzero(counts)
    if len(seen) > MAX_LEVELS:  # the most frequent levels
        seen = np.sort(seen[np.argsort(-counts[seen], kind="stable")[:MAX_LEVELS]])
    prior = wrong.sum() / max(counts.sum(), 1)
    shrunk = (wrong[seen] + LEVEL_PRIOR_ROWS * prior) / (counts[seen] + LEVEL_PRIOR_ROWS)
    order = seen[np.argsort(-shrunk, kind="stable")]
    ranked = [levels[i] for i in order]
    out = []
    for k in range(1, min(len(ranked), MAX_SET_LEVELS + 1)):
        chosen = ranked[:k]
        out.append(Condition(column, "==", chosen[0]) if k == 1 else
                   Condition(column, "in", tuple(sorted(chosen))))
    return out


def _additions(masks: ConditionMasks, rule: SliceRule, hit: np.ndarray, columns: Sequence[str],
               score: ExcessScore) -> list[tuple[float, Condition, np.ndarray]]:
    """Return the best condition per column that narrows ``rule``'s rows ``hit``, with its score.

    A number is cut at its deciles inside the rows (``<=`` or ``>``); a category offers the sets
    of :func:`_level_sets`.
    """
    out = []
    inside = hit & score.pool
    n_in = int(inside.sum())
    for column in columns:
        if any(c.column == column and c.op in ("==", "in") for c in rule.conditions):
            continue
        best: tuple[float, Condition] | None = None
        if masks.is_number(column):
            best = _best_threshold(masks, inside, column, score)
        else:
            for condition in _level_sets(masks, inside, score.residuals, column):
                rows = inside & masks.condition(condition)
                z = score(rows) if int(rows.sum()) < n_in else _NONE
                if z > _NONE and (best is None or z > best[0]):
                    best = (z, condition)
        if best is not None:
            out.append((best[0], best[1], hit & masks.condition(best[1])))
    return out


def _local_search(
    masks: ConditionMasks,
    start: SliceRule,
    columns: Sequence[str],
    score_of: ExcessScore,
    steps: int,
) -> tuple[float, SliceRule]:
    """Greedy moves (drop or add one condition) while the score of the rows grows.

    Rules grow to at most ``MAX_CONDITIONS + 1`` conditions.
    """
    current = start
    hit = masks.rule(current)
    score = score_of(hit)
    for _ in range(steps):
        # a move drops one condition or adds one; adding narrows the rows to hit & condition
        # (merging bounds on one column keeps the conjunction's rows), so only the best move's
        # rule is built
        best: tuple[float, tuple[Condition, ...] | Condition, np.ndarray] | None = None
        if len(current.conditions) > 1:
            for dropped in current.conditions:
                kept = tuple(c for c in current.conditions if c != dropped)
                rows = masks.rule(SliceRule(kept))
                z = score_of(rows)
                if z > _NONE and (best is None or z > best[0]):
                    best = (z, kept, rows)
        if len(current.conditions) <= MAX_CONDITIONS:
            for z, condition, rows in _additions(masks, current, hit, columns, score_of):
                if best is None or z > best[0]:
                    best = (z, condition, rows)
        if best is None or best[0] <= score:
            break
        score, move, hit = best
        current = SliceRule(move) if isinstance(move, tuple) else \
            SliceRule(simplify([*current.conditions, move]))
    return score, current


def refine_rule(
    masks: ConditionMasks,
    rule: SliceRule,
    errors: np.ndarray,
    columns: Sequence[str],
    *,
    min_rows: int,
    steps: int = 4,
    expected: np.ndarray | None = None,
    from_conditions: bool = True,
) -> list[SliceRule]:
    """Adjust ``rule`` towards the rows where the model errs most, if they stand out more.

    A small local search from the rule and from each of its conditions alone, at most ``steps``
    moves each: a move drops one condition or adds one (a threshold on a number, or the set of a
    column's levels with the highest error rates inside the rule), whichever gives the rows'
    excess error over all other rows the best score (:class:`ExcessScore`), as long as it grows.
    Each distinct result that beats the rule is a further candidate, certified like the others on
    other rows.

    Parameters
    ----------
    masks : ConditionMasks
        Condition masks of the discovery rows (shared between calls).
    rule : SliceRule
    errors : ndarray
        The model's 0/1 errors on the discovery rows.
    columns : sequence of str
        Columns a condition may name.
    min_rows : int
        Fewest rows a result may hold.
    steps : int, default 4
    expected : ndarray, optional
        Each row's expected error (see :class:`ExcessScore`).
    from_conditions : bool, default True
        Also search from each condition alone (else from the rule only).

    Returns
    -------
    list of SliceRule
        Empty when no search improves on the rule.
    """
    score_of = ExcessScore(errors, min_rows, expected=expected)
    base = ExcessScore(errors, 1, expected=expected)(masks.rule(rule))  # even if small
    starts = [rule] + ([SliceRule((c,)) for c in rule.conditions]
                       if from_conditions and len(rule.conditions) > 1 else [])
    found: dict[tuple[Any, ...], SliceRule] = {}
    for start in starts:
        score, result = _local_search(masks, start, columns, score_of, steps)
        if result.key() != rule.key() and score > base:
            found.setdefault(result.key(), result)
    return list(found.values())


def _polish(masks: ConditionMasks, rule: SliceRule, score: ExcessScore) -> tuple[float, SliceRule]:
    """Move each threshold of ``rule`` to the finer quantile (of 40) that scores best, one at a time.

    The beam search cuts numbers at deciles of the rows it narrows; this places each cut more
    precisely with the other conditions held fixed.
    """
    best = score(masks.rule(rule))
    for i, condition in enumerate(rule.conditions):
        if condition.op not in ("<=", ">"):
            continue
        others = SliceRule(rule.conditions[:i] + rule.conditions[i + 1:])
        inside = masks.rule(others) & score.pool
        values = masks.numbers(condition.column)[inside]
        values = values[np.isfinite(values)]
        if len(values) == 0:
            continue
        for cut in np.unique(np.quantile(values, np.linspace(0.025, 0.975, 39))):
            moved = Condition(condition.column, condition.op, float(cut))
            conditions = rule.conditions[:i] + (moved,) + rule.conditions[i + 1:]
            z = score(masks.rule(SliceRule(conditions)))
            if z > best:
                best, rule = z, SliceRule(conditions)
    return best, rule


def beam_search(
    masks: ConditionMasks,
    errors: np.ndarray,
    columns: Sequence[str],
    *,
    min_rows: int,
    pool: np.ndarray | None = None,
    expected: np.ndarray | None = None,
    width: int = BEAM_WIDTH,
    depth: int = MAX_CONDITIONS,
) -> tuple[float, SliceRule] | None:
    """Find the conjunction of at most ``depth`` conditions whose rows score best (:class:`ExcessScore`).

    Starting from every row of ``pool``, each round adds one condition (a threshold at a decile of
    a number inside the rule, or a set of a category's most error-prone levels inside it) to each
    of the ``width`` best rules so far; among a rule's extensions only the best per column is
    kept, so the beam does not fill with near-copies of one threshold. The best rule's thresholds
    are then placed more finely, one at a time.

    Parameters
    ----------
    masks : ConditionMasks
        Condition masks of the discovery rows.
    errors : ndarray
        The model's 0/1 errors on those rows.
    columns : sequence of str
        Columns a condition may name.
    min_rows : int
        Fewest rows (within ``pool``) a rule may hold.
    pool : ndarray of bool, optional
        Rows searched (default all); the excess is measured against the pool's other rows.
    expected : ndarray, optional
        Each row's expected error (see :class:`ExcessScore`).
    width, depth : int

    Returns
    -------
    (float, SliceRule) or None
        The best score and its rule; ``None`` when no rule holds enough rows.

    Examples
    --------
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"age": rng.integers(18, 90, 3000), "job": rng.choice(list("abc"), 3000)})
    >>> region = (frame.age > 60).to_numpy() & (frame.job == "a").to_numpy()
    >>> errors = (rng.random(3000) < np.where(region, 0.4, 0.1)).astype(float)
    >>> z, rule = beam_search(ConditionMasks(frame), errors, ["age", "job"], min_rows=30)
    >>> rule.text(), round(z, 2)
    ('job == a and age > 64', 0.18)
    """
    score = ExcessScore(errors, min_rows, pool, expected=expected)
    everything = np.ones(len(errors), dtype=bool)
    beam: list[tuple[float, SliceRule, np.ndarray]] = [(_NONE, SliceRule(()), everything)]
    best: tuple[float, SliceRule] | None = None
    for _ in range(depth):
        extensions: dict[tuple[Any, ...], tuple[float, SliceRule, np.ndarray]] = {}
        for _, rule, hit in beam:
            for z, condition, rows in _additions(masks, rule, hit, columns, score):
                grown = SliceRule(simplify([*rule.conditions, condition]))
                if grown.key() not in extensions:
                    extensions[grown.key()] = (z, grown, rows)
        if not extensions:
            break
        beam = sorted(extensions.values(), key=lambda e: -e[0])[:width]
        if best is None or beam[0][0] > best[0]:
            best = (beam[0][0], beam[0][1])
    return None if best is None else _polish(masks, best[1], score)


def peel(
    masks: ConditionMasks,
    errors: np.ndarray,
    columns: Sequence[str],
    *,
    min_rows: int,
    expected: np.ndarray | None = None,
    rounds: int = PEEL_ROUNDS,
    width: int = BEAM_WIDTH,
    depth: int = MAX_CONDITIONS,
) -> list[tuple[float, SliceRule]]:
    """Beam searches one after another, each without the rows of the rules found before.

    The most significant failure region of a model is often a large one (e.g. the band along its
    decision boundary); a smaller region where errors are denser still, but fewer, only wins the
    search once the larger region's rows are set aside. Stops after ``rounds`` searches, when the
    best rule's excess over the remaining rows is under ``PEEL_MIN_Z`` standard errors, or when
    too few rows remain.

    Parameters
    ----------
    masks, errors, columns, min_rows, expected, width, depth : see :func:`beam_search`
    rounds : int, default PEEL_ROUNDS

    Returns
    -------
    list of (float, SliceRule)
        The rules found, in order, with their scores within the rows that remained.
    """
    errors = np.asarray(errors, dtype=float)
    pool = np.ones(len(errors), dtype=bool)
    found: list[tuple[float, SliceRule]] = []
    for _ in range(rounds):
        if pool.sum() < 2 * min_rows:
            break
        result = beam_search(masks, errors, columns, min_rows=min_rows, pool=pool,
                             expected=expected, width=width, depth=depth)
        if result is None:
            break
        hit = masks.rule(result[1])
        if ExcessScore(errors, min_rows, pool, expected=expected).z_score(hit) < PEEL_MIN_Z:
            break
        found.append(result)
        pool &= ~hit
    return found
