"""Describe a set of rows by one rule on the original columns (a shallow decision tree's best leaf)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.data.kinds import is_numeric
from fairlatent.metrics.slices.rules import (
    MAX_LEVELS,
    Condition,
    ConditionMasks,
    SliceRule,
    simplify,
    text_values,
)

__all__ = ["MAX_DEPTH", "MIN_F1", "describe_members"]

#: Depth of the tree that describes a candidate.
MAX_DEPTH = 3
#: Smallest F1 between a rule's rows and its candidate's rows for the rule to be kept.
MIN_F1 = 0.5


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
        text = text_values(series)
        counts = text.value_counts()
        counts = counts[counts >= max(5, int(0.005 * n))].head(MAX_LEVELS)
        for level in counts.index:
            blocks.append((text == level).to_numpy(dtype=float)[:, None])
            terms.append((str(column), "cat", level))
    matrix = np.hstack(blocks) if blocks else np.zeros((n, 0))
    return _Design(matrix, terms)


def describe_members(
    frame: pd.DataFrame,
    members: np.ndarray,
    columns: Sequence[str],
    *,
    max_depth: int = MAX_DEPTH,
    random_state: int = 0,
    masks: ConditionMasks | None = None,
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
    if masks is not None and masks.frame is frame:  # the tree's view, built once per frame
        design = masks.designs.setdefault(tuple(columns), None) or _design(frame, columns)
        masks.designs[tuple(columns)] = design
    else:
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
    rule = SliceRule(simplify(paths[best[1]]))
    f1 = 2.0 * np.sum(rule.mask(frame) & members) / (rule.mask(frame).sum() + n_members)
    return rule, float(f1)


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


