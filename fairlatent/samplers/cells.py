"""The (group, label) cells of cell balancing: how many rows each has and should have."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairlatent.exceptions import ConfigError

__all__ = [
    "ERR_CELL",
    "ERR_REACH",
    "ERR_TARGET",
    "Resampled",
    "TargetSizes",
    "cell_targets",
    "count_cells",
    "partial_targets",
]

TargetSizes = Literal["parity", "largest"] | Mapping[Any, int]

ERR_TARGET = (
    "target_sizes={value!r} is unknown; use 'parity' (equal base rates at the overall rate, group "
    "sizes kept), 'largest' (every cell grows to the largest cell) or a dict {{(group, label): rows}}"
)
ERR_CELL = (
    "target_sizes names cell {cell!r}, which is not a (group, label) cell of the data: {cells}"
)
ERR_REACH = "reach={value!r} must be a number between 0 (cells unchanged) and 1 (the full targets)"


def count_cells(group: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """Real rows per (group, label) cell.

    Parameters
    ----------
    group : ndarray of str
        Group label of each row.
    labels : ndarray of {0, 1}
        Label of each row.

    Returns
    -------
    DataFrame
        Columns ``group``, ``label``, ``rows``, one row per cell that has rows, sorted.

    Examples
    --------
    >>> count_cells(np.array(["a", "b", "a"]), np.array([1, 0, 1]))["rows"].tolist()
    [2, 1]
    """
    return (
        pd.DataFrame({"group": group, "label": labels})
        .groupby(["group", "label"])
        .size()
        .rename("rows")
        .reset_index()
    )


def cell_targets(cells: pd.DataFrame, target_sizes: TargetSizes) -> pd.DataFrame:
    """Target size of every (group, label) cell.

    Parameters
    ----------
    cells : DataFrame
        Columns ``group``, ``label``, ``rows`` (real rows per cell).
    target_sizes : {"parity", "largest"} or dict
        ``"parity"``: every group keeps its size and gets the overall base rate;
        ``"largest"``: every cell grows to the largest cell; a dict maps ``(group, label)`` to rows.

    Returns
    -------
    DataFrame
        ``cells`` plus ``target``.

    Examples
    --------
    >>> cells = pd.DataFrame({"group": ["a", "a", "b", "b"], "label": [0, 1, 0, 1],
    ...                       "rows": [60, 40, 90, 10]})
    >>> cell_targets(cells, "parity")["target"].tolist()
    [75, 25, 75, 25]
    """
    cells = cells.copy()
    if isinstance(target_sizes, Mapping):
        known = {(str(g), int(lab)) for g, lab in zip(cells["group"], cells["label"], strict=True)}
        wanted = {}
        for key, rows in target_sizes.items():
            group, label = key if isinstance(key, tuple) else str(key).rsplit("|", 1)
            cell = (str(group), int(label))
            if cell not in known:
                raise ConfigError(ERR_CELL.format(cell=key, cells=sorted(known)))
            wanted[cell] = int(rows)
        cells["target"] = [
            wanted.get((str(g), int(lab)), int(r))
            for g, lab, r in zip(cells["group"], cells["label"], cells["rows"], strict=True)
        ]
    elif target_sizes == "largest":
        cells["target"] = int(cells["rows"].max())
    elif target_sizes == "parity":
        total = cells["rows"].sum()
        rate = cells.loc[cells["label"] == 1, "rows"].sum() / total
        sizes = cells.groupby("group")["rows"].transform("sum")
        positives = np.rint(sizes * rate).astype(int)
        cells["target"] = np.where(cells["label"] == 1, positives, sizes - positives).astype(int)
    else:
        raise ConfigError(ERR_TARGET.format(value=target_sizes))
    return cells


def partial_targets(
    cells: pd.DataFrame, target_sizes: TargetSizes, *, reach: float = 1.0, drop: bool = True
) -> pd.DataFrame:
    """Cell targets a share ``reach`` of the way from the cells' sizes to ``target_sizes``.

    Parameters
    ----------
    cells : DataFrame
        Columns ``group``, ``label``, ``rows`` (real rows per cell).
    target_sizes : {"parity", "largest"} or dict
        The full targets (see :func:`cell_targets`).
    reach : float, default 1.0
        0 keeps every cell as it is, 1 gives the full targets; in between, each cell's target is
        ``rows + round(reach * (full target - rows))``.
    drop : bool, default True
        Whether real rows may be dropped. ``False`` scales a group's targets up until no cell of
        the group is below its real rows, so the group keeps the targets' label balance but only
        gains rows (with ``"parity"``: the group grows instead of losing rows of its commoner
        label).

    Returns
    -------
    DataFrame
        ``cells`` plus ``target``.

    Raises
    ------
    ConfigError
        ``reach`` outside ``[0, 1]``.

    Examples
    --------
    >>> cells = pd.DataFrame({"group": ["a", "a", "b", "b"], "label": [0, 1, 0, 1],
    ...                       "rows": [60, 40, 90, 10]})
    >>> partial_targets(cells, "parity", reach=0.5)["target"].tolist()
    [68, 32, 82, 18]
    >>> partial_targets(cells, "parity", drop=False)["target"].tolist()
    [120, 40, 90, 30]
    """
    try:
        share = float(reach)
    except (TypeError, ValueError):
        raise ConfigError(ERR_REACH.format(value=reach)) from None
    if not 0.0 <= share <= 1.0:
        raise ConfigError(ERR_REACH.format(value=reach))
    full = cell_targets(cells, target_sizes)
    if share < 1.0:
        rows = full["rows"].to_numpy()
        full["target"] = rows + np.rint(share * (full["target"].to_numpy() - rows)).astype(int)
    if drop:
        return full
    rows = full["rows"].to_numpy(dtype=float)
    target = full["target"].to_numpy(dtype=float)
    over = np.where(target > 0, rows / np.maximum(target, 1), np.where(rows > 0, np.inf, 1.0))
    # per group, the factor that lifts every cell's target to at least its rows (cells whose target
    # is 0 cannot be lifted: they keep their rows)
    finite = np.where(np.isfinite(over), over, 1.0)
    scale = pd.Series(finite).groupby(full["group"].to_numpy()).transform("max").to_numpy()
    scaled = np.rint(target * np.maximum(scale, 1.0)).astype(int)
    full["target"] = np.maximum(scaled, full["rows"].to_numpy()).astype(int)
    return full


@dataclass(frozen=True)
class Resampled:
    """One rebalancing of a set of rows by a fitted cell-balancing sampler.

    Parameters
    ----------
    X : DataFrame
        Kept real rows, then copies of real rows, then synthetic rows (the input's columns and
        dtypes).
    labels : ndarray of int
        Their labels.
    groups : ndarray of str
        Their groups.
    sample_indices : ndarray of int
        Input position of each row; ``-1`` for synthetic rows.
    cells : DataFrame
        group, label, rows, target, added, removed, sample_tries.
    selection : dict
        What a ranking sampler kept (see
        :class:`~fairlatent.samplers.outlier_balanced.OutlierBalancedResampler`), else empty.
    """

    X: pd.DataFrame
    labels: np.ndarray
    groups: np.ndarray
    sample_indices: np.ndarray
    cells: pd.DataFrame
    selection: dict[str, Any] = field(default_factory=dict)

    @property
    def is_synthetic(self) -> np.ndarray:
        """Flags of the generated rows."""
        return self.sample_indices < 0
