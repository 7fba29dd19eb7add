"""Slice rules: conditions on the original columns, their conjunctions, and fast row masks.

A slice is described by a conjunction of ``{column, op, value}`` conditions (:class:`Condition`,
:class:`SliceRule`); :class:`ConditionMasks` caches each condition's rows on one frame for the
searches of :mod:`~fairlatent.metrics.slices.search`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.data.kinds import is_numeric

__all__ = ["MAX_LEVELS", "OPS", "Condition", "ConditionMasks", "SliceRule", "simplify", "text_values"]

#: Comparison operators a slice condition may use.
OPS: tuple[str, ...] = ("==", "!=", "<=", ">", "in")
#: Most values of an ``in`` condition written out in a rule's text.
MAX_SHOWN_LEVELS = 6
#: Most category levels per column a description or a search may use (the most frequent).
MAX_LEVELS = 30

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
        text = text_values(series)
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


def simplify(conditions: list[Condition]) -> tuple[Condition, ...]:
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




class ConditionMasks:
    """Condition masks on one frame, each computed once (the local search asks for many).

    Numbers are kept as floats, categories as integer codes into their sorted levels (missing
    values: -1), so a condition is one vectorised comparison.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._masks: dict[Condition, np.ndarray] = {}
        self._numbers: dict[str, np.ndarray] = {}
        self._codes: dict[str, tuple[np.ndarray, list[str]]] = {}
        self._kinds: dict[str, bool] = {}
        self._orders: dict[str, np.ndarray] = {}
        self.designs: dict[tuple[str, ...], Any] = {}  # describe's view of the columns, by columns

    def is_number(self, column: str) -> bool:
        """Whether ``column`` holds numbers (compared by thresholds) rather than categories."""
        if column not in self._kinds:
            series = self.frame[column]
            self._kinds[column] = bool(is_numeric(series) and series.dtype != bool)
        return self._kinds[column]

    def order(self, column: str) -> np.ndarray:
        """Return the rows in increasing order of a number column (missing values last)."""
        if column not in self._orders:
            self._orders[column] = np.argsort(self.numbers(column), kind="stable")
        return self._orders[column]

    def numbers(self, column: str) -> np.ndarray:
        """Return the column as floats (NaN where missing or not a number)."""
        if column not in self._numbers:
            self._numbers[column] = pd.to_numeric(self.frame[column], errors="coerce").to_numpy(
                dtype=float)
        return self._numbers[column]

    def codes(self, column: str) -> tuple[np.ndarray, list[str]]:
        """Return the column as codes into its sorted text levels (``-1``: missing)."""
        if column not in self._codes:
            text = text_values(self.frame[column]).to_numpy(dtype=object)
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


def text_values(series: pd.Series) -> pd.Series:
    """Values as text, missing values as ``None``."""
    return series.astype(object).where(series.notna(), None).map(
        lambda v: None if v is None else str(v)
    )


