"""The condition table of :class:`~fairlatent.models.gan.TabularGAN`.

A **condition** sets one value of some categorical columns; the conditional vector fed to both
networks has one one-hot block per *vector column*. :class:`ConditionTable` holds the conditions
present in the training data with their row counts, draws them, turns a user's ``condition`` into
codes and serialises itself for ``config.json``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.encoding import Span
from fairlatent.exceptions import FairlatentError, SchemaError

__all__ = ["ConditionTable", "condition_spans"]

ERR_NO_CONDITIONABLE = (
    "condition column {column!r} has no non-missing value to condition on; drop it from "
    "condition_columns"
)
ERR_UNKNOWN_CONDITION_COLUMN = (
    "cannot condition on {column!r}: the model was fitted with conditioning columns {known!r}; "
    "refit with condition_columns including {column!r}, or drop it from the condition"
)
ERR_UNKNOWN_CONDITION_VALUE = (
    "cannot condition on {column!r} = {value!r}: that value never occurs in the training data "
    "(known values: {known}); use one of those values"
)
ERR_EMPTY_CELL = (
    "the condition {condition!r} combines values that never occur together in the training "
    "data, so there is no cell to sample from; ask for a combination that exists"
)
ERR_BAD_CONDITION = "condition must be a dict mapping column names to values, got {kind}"
ERR_DECODED_MISMATCH = (
    "{count} decoded rows do not satisfy the condition {condition!r} although their one-hot codes "
    "do; this is a bug in the encoder/decoder pair, please report it"
)


def _json_value(value: Any) -> str | int | float | bool | None:
    """Return a category label as a plain JSON scalar (``None`` for missing)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return str(value)


def _same_value(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and not isinstance(a, bool) ^ isinstance(b, bool | np.bool_)
    except (TypeError, ValueError):
        return False


def condition_spans(spans: Sequence[Span], columns: Sequence[str]) -> list[Span]:
    """Return the categorical span of each of ``columns``, in that order.

    Parameters
    ----------
    spans : sequence of Span
        The encoder's spans.
    columns : sequence of str
        Categorical (or forced-discrete) columns.

    Returns
    -------
    list of Span
        One ``categorical`` span per column.
    """
    by_column = {s.column: s for s in spans if s.kind == "categorical"}
    return [by_column[c] for c in columns]


class ConditionTable:
    """The conditions a conditional GAN is trained on and can sample from.

    Built by :meth:`fit` or :meth:`from_dict`, then treated as immutable.

    Parameters
    ----------
    columns : list of str
        Vector columns: the cell columns first, then the other categorical columns.
    n_cell : int
        Number of cell columns.
    cells_mode : bool
        Whether conditions are cells of ``condition_columns`` (else: single-value mode).
    labels : dict of str to list
        Per vector column, the value of each one-hot code (``None``: missing or never seen).
    table : ndarray of int64, shape (n_conditions, len(columns))
        The code each condition sets per vector column, ``-1`` where it leaves the column free.
    counts : ndarray of int64, shape (n_conditions,)
        Training rows of each condition.
    row_order, row_offsets : ndarray of int64, optional
        Training rows per condition, ``row_order[row_offsets[i]:][: counts[i]]`` for condition
        ``i`` (only after :meth:`fit`; not saved).
    """

    def __init__(
        self,
        columns: list[str],
        n_cell: int,
        cells_mode: bool,
        labels: dict[str, list[Any]],
        table: np.ndarray,
        counts: np.ndarray,
        row_order: np.ndarray | None = None,
        row_offsets: np.ndarray | None = None,
    ) -> None:
        self.columns = columns
        self.n_cell = n_cell
        self.cells_mode = cells_mode
        self.labels = labels
        self.table = table
        self.counts = counts
        self.row_order = row_order
        self.row_offsets = row_offsets

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        encoded: np.ndarray,
        spans: Sequence[Span],
        cell_columns: list[str],
        extra_columns: list[str],
    ) -> ConditionTable:
        """Build the table from the training rows: labels per code, conditions, counts, rows.

        A condition sets every cell column (one cell) and at most one extra column (training by
        sampling over the remaining categorical columns, as in the CTGAN paper). With extra
        columns every row belongs to one condition per extra column. Without cell columns the
        table is in single-value mode.

        Parameters
        ----------
        frame : DataFrame
            The training rows.
        encoded : ndarray, shape (n_rows, dim)
            ``frame`` encoded with the spans ``spans``.
        spans : sequence of Span
            The encoder's spans.
        cell_columns : list of str
            The ``condition_columns`` (empty: single-value mode).
        extra_columns : list of str
            The other categorical columns.

        Returns
        -------
        ConditionTable

        Raises
        ------
        SchemaError
            If a cell column has no non-missing value.
        """
        columns = [*cell_columns, *extra_columns]
        col_spans = condition_spans(spans, columns)
        n_rows = len(frame)
        codes = np.zeros((n_rows, len(col_spans)), dtype=np.int64)
        for j, span in enumerate(col_spans):
            codes[:, j] = np.argmax(encoded[:, span.start : span.stop], axis=1)
        labels: dict[str, list[Any]] = {}
        for j, (col, span) in enumerate(zip(columns, col_spans, strict=True)):
            column_labels: list[Any] = [None] * span.width
            firsts = pd.Series(np.arange(n_rows)).groupby(codes[:, j]).first()
            values = frame[col].to_numpy(dtype=object)
            for code, row in firsts.items():
                column_labels[int(code)] = _json_value(values[int(row)])
            if j < len(cell_columns) and all(v is None for v in column_labels):
                raise SchemaError(ERR_NO_CONDITIONABLE.format(column=col))
            labels[col] = column_labels
        n_cell = len(cell_columns)
        if n_cell:
            cell_table, cell_of_row = np.unique(codes[:, :n_cell], axis=0, return_inverse=True)
            cell_of_row = cell_of_row.reshape(-1)
        else:
            cell_table = np.zeros((1, 0), dtype=np.int64)
            cell_of_row = np.zeros(n_rows, dtype=np.int64)
        if not extra_columns:
            keys_per_column = [cell_of_row]
        else:
            keys_per_column = []
            for j in range(len(extra_columns)):
                width = col_spans[n_cell + j].width
                keys_per_column.append(cell_of_row * width + codes[:, n_cell + j])
        tables, count_list, order_parts = [], [], []
        for j, key in enumerate(keys_per_column):
            present, inverse, cnt = np.unique(key, return_inverse=True, return_counts=True)
            table = np.full((len(present), len(columns)), -1, dtype=np.int64)
            if extra_columns:
                width = col_spans[n_cell + j].width
                table[:, :n_cell] = cell_table[present // width]
                table[:, n_cell + j] = present % width
            else:
                table[:, :n_cell] = cell_table[present]
            tables.append(table)
            count_list.append(cnt)
            order_parts.append(np.argsort(inverse.reshape(-1), kind="stable"))
        counts = np.concatenate(count_list)
        return cls(
            columns=columns,
            n_cell=n_cell,
            cells_mode=bool(cell_columns),
            labels=labels,
            table=np.vstack(tables).astype(np.int64),
            counts=counts.astype(np.int64),
            row_order=np.concatenate(order_parts).astype(np.int64),
            row_offsets=np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64),
        )

    # -- what can be conditioned on ----------------------------------------------------------------

    @property
    def condition_columns(self) -> list[str]:
        """Columns a ``condition`` may name: the cell columns, or every vector column."""
        return list(self.columns[: self.n_cell] if self.cells_mode else self.columns)

    @property
    def widths(self) -> list[int]:
        """Width of each vector column's one-hot block (its number of codes)."""
        return [len(self.labels[c]) for c in self.columns]

    def values(self) -> dict[str, list[Any]]:
        """Values each conditioning column can be conditioned on (those present in the data)."""
        return {c: [v for v in self.labels[c] if v is not None] for c in self.condition_columns}

    def cells(self) -> pd.DataFrame:
        """Return the cells of the conditioning columns with their number of training rows.

        In single-value mode one row per (column, value) instead, with ``None`` in the other
        columns.
        """
        table, counts = self.table, self.counts
        if self.cells_mode:
            cols = list(range(self.n_cell))
            table, inverse = np.unique(table[:, cols], axis=0, return_inverse=True)
            k = max(len(self.columns) - self.n_cell, 1)
            counts = np.bincount(inverse.reshape(-1), weights=counts) // k
        data: dict[str, list[Any]] = {
            col: [self.labels[col][code] if code >= 0 else None for code in table[:, j]]
            for j, col in enumerate(self.condition_columns)
        }
        data["rows"] = [int(c) for c in counts]
        return pd.DataFrame(data)

    # -- drawing conditions ------------------------------------------------------------------------

    def probabilities(self, *, training: bool) -> np.ndarray:
        """Probability of each condition: log-frequency for training, frequency for sampling.

        For sampling every row is counted once per extra column, so the frequency of a condition
        is simply its row count. For training the cell is drawn by log-frequency, then an extra
        column uniformly, then its value by log-frequency within the cell.

        Parameters
        ----------
        training : bool
            Which of the two distributions.

        Returns
        -------
        ndarray of float64, shape (n_conditions,)
        """
        counts = self.counts.astype(np.float64)
        if not training:
            return counts / counts.sum()
        table, n_cell = self.table, self.n_cell
        n_extra = len(self.columns) - n_cell
        _, cell = np.unique(table[:, :n_cell], axis=0, return_inverse=True)
        cell = cell.reshape(-1)
        column = np.argmax(table[:, n_cell:] >= 0, axis=1) if n_extra else np.zeros_like(cell)
        k = max(n_extra, 1)
        cell_rows = np.bincount(cell, weights=counts) / k
        cell_p = np.log1p(cell_rows) / np.log1p(cell_rows).sum()
        weight = np.log1p(counts)
        group = cell * k + column
        totals = np.bincount(group, weights=weight)
        return cell_p[cell] / k * weight / totals[group]

    def matrix(self) -> np.ndarray:
        """Return the conditional vectors of all conditions: float32 (n_conditions, sum(widths))."""
        return self._vectors(self.table)

    def _vectors(self, table: np.ndarray) -> np.ndarray:
        """Conditional vectors of rows of codes (``-1``: the column is left free)."""
        widths = self.widths
        starts = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
        matrix = np.zeros((len(table), int(sum(widths))), dtype=np.float32)
        for j in range(len(widths)):
            hit = table[:, j] >= 0
            matrix[np.flatnonzero(hit), starts[j] + table[hit, j]] = 1.0
        return matrix

    # -- sampling under a user's condition ---------------------------------------------------------

    def resolve(self, condition: Mapping[str, Any]) -> dict[str, int]:
        """Turn ``{column: value}`` into ``{column: code}``.

        Parameters
        ----------
        condition : mapping
            Values of some conditioning columns.

        Returns
        -------
        dict of str to int

        Raises
        ------
        SchemaError
            If ``condition`` is not a mapping, names a column that is not a conditioning column
            or a value never seen in fit.
        """
        if not isinstance(condition, Mapping):
            raise SchemaError(ERR_BAD_CONDITION.format(kind=type(condition).__name__))
        known_columns = self.condition_columns
        resolved: dict[str, int] = {}
        for column, value in condition.items():
            if column not in known_columns:
                raise SchemaError(
                    ERR_UNKNOWN_CONDITION_COLUMN.format(column=column, known=known_columns)
                )
            labels = self.labels[column]
            code = next(
                (i for i, lab in enumerate(labels) if lab is not None and _same_value(lab, value)),
                None,
            )
            if code is None:
                known = ", ".join(repr(v) for v in labels if v is not None)
                raise SchemaError(
                    ERR_UNKNOWN_CONDITION_VALUE.format(column=column, value=value, known=known)
                )
            resolved[column] = code
        return resolved

    def sampling_conditions(self, resolved: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
        """Return the conditional vectors for ``resolved`` and their probabilities.

        The vectors of the conditions that agree with ``resolved``, weighted by frequency; when
        several columns are asked for in single-value mode (a combination no condition of the
        table expresses) one vector that sets all of them.

        Parameters
        ----------
        resolved : dict of str to int
            Output of :meth:`resolve` (empty: every condition).

        Returns
        -------
        vectors : ndarray of float32, shape (k, sum(widths))
        probabilities : ndarray of float64, shape (k,)

        Raises
        ------
        SchemaError
            If the asked values never occur together in the training data.
        """
        table = self.table
        freq = self.probabilities(training=False)
        if not resolved:
            return self.matrix(), freq
        cols = [self.columns.index(c) for c in resolved]
        wanted = np.array(list(resolved.values()), dtype=np.int64)
        if self.cells_mode or len(cols) == 1:
            match = (table[:, cols] == wanted).all(axis=1)
            if not match.any():
                raise SchemaError(ERR_EMPTY_CELL.format(condition=self.labels_of(resolved)))
            idx = np.flatnonzero(match)
            return self.matrix()[idx], freq[idx] / freq[idx].sum()
        combined = np.full((1, len(self.columns)), -1, dtype=np.int64)
        combined[0, cols] = wanted
        return self._vectors(combined), np.ones(1)

    def labels_of(self, resolved: dict[str, int]) -> dict[str, Any]:
        """``{column: value}`` of resolved codes (for messages and statistics)."""
        return {c: self.labels[c][code] for c, code in resolved.items()}

    def verify(self, frame: pd.DataFrame, resolved: dict[str, int]) -> pd.DataFrame:
        """Check decoded rows against the condition (a second, value-level guard); return them.

        Raises
        ------
        FairlatentError
            If a decoded row does not hold the asked value (an encoder/decoder bug).
        """
        mask = np.ones(len(frame), dtype=bool)
        for column, code in resolved.items():
            value = self.labels[column][code]
            mask &= np.array([_same_value(v, value) for v in frame[column].tolist()], dtype=bool)
        if not mask.all():  # pragma: no cover - the code-level check makes this unreachable
            raise FairlatentError(
                ERR_DECODED_MISMATCH.format(
                    count=int((~mask).sum()), condition=self.labels_of(resolved)
                )
            )
        return frame

    # -- persistence -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Describe the table as plain JSON data (the row lists are not included).

        Returns
        -------
        dict
            ``columns``, ``n_cell_columns``, ``cells_mode``, ``labels``, ``table``, ``counts``.
        """
        return {
            "columns": self.columns,
            "n_cell_columns": self.n_cell,
            "cells_mode": self.cells_mode,
            "labels": self.labels,
            "table": self.table.tolist(),
            "counts": self.counts.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConditionTable:
        """Rebuild a table from :meth:`to_dict` output.

        Parameters
        ----------
        data : mapping
            Output of :meth:`to_dict`, possibly after a JSON round trip.

        Returns
        -------
        ConditionTable
            A table without row lists (``KeyError``, ``TypeError`` or ``ValueError`` when ``data``
            is malformed; the model loader turns them into a ``ModelFileError``).
        """
        columns = [str(c) for c in data["columns"]]
        return cls(
            columns=columns,
            n_cell=int(data["n_cell_columns"]),
            cells_mode=bool(data["cells_mode"]),
            labels={str(k): list(v) for k, v in data["labels"].items()},
            table=np.asarray(data["table"], dtype=np.int64).reshape(-1, len(columns)),
            counts=np.asarray(data["counts"], dtype=np.int64),
        )
