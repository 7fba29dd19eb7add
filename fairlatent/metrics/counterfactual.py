"""Counterfactual flips: whether a decision would change if the person belonged to another group.

In the spirit of FlipTest (Black et al., FAT* 2020), with a group-conditional VAE
(:class:`~fairlatent.metrics.latent_space.LatentCoder`) as the map between groups: each row is
encoded once (the encoder never reads the sensitive columns, and the MMD penalty keeps the group out
of the code), then decoded twice — with its own group and with another group as the decoder's
input. Both decoded rows carry their group in the sensitive columns and the group column, so a model
that reads them sees the swap. The audited model scores both; a *flip* is a changed decision.

The comparison is always decoded-own against decoded-other, never the raw row against a decoded
one, so the VAE's reconstruction error does not count as a flip.

Per group the flip rate is the share of its rows whose decision changes under at least one other
group (with two groups: under the other one), with a percentile bootstrap interval over the group's
rows; per group pair the same, plus the direction (to the favourable or the unfavourable decision).
The report also shows which features move most between the two decodings and a few example pairs.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.data.kinds import is_numeric
from fairlatent.data.schema import RESERVED_PREFIX
from fairlatent.exceptions import DataError
from fairlatent.metrics.bootstrap import bootstrap_rows
from fairlatent.policy import LEVEL

logger = logging.getLogger(__name__)

__all__ = [
    "CounterfactualRows",
    "FlipResult",
    "counterfactual_flips",
    "counterfactual_rows",
    "feature_moves",
    "flip_rates",
]

#: Example pairs kept per group pair.
N_EXAMPLES = 3
#: Features listed per group pair in "what moves most".
N_MOVES = 6

ERR_GROUPS = "the rows hold group(s) {unknown} the latent model does not know (it knows {known})"


@dataclass(frozen=True)
class CounterfactualRows:
    """Every row decoded with its own group and with each other group.

    Attributes
    ----------
    groups : ndarray of str
        Each row's own group.
    own : DataFrame
        The rows decoded with their own group (features, sensitive and group columns).
    other : dict
        Group -> the rows decoded with that group (rows of that group are left as ``own``).
    """

    groups: np.ndarray
    own: pd.DataFrame
    other: dict[str, pd.DataFrame]


@dataclass(frozen=True)
class FlipResult:
    """Flip rates of one model, per group and per group pair (``counterfactual`` in metrics.json).

    Attributes
    ----------
    classifier, strategy : str
    entries : list of dict
        Per group: ``group``, ``flip_rate``, ``low``, ``high``, ``n``, ``to_favourable``,
        ``to_unfavourable`` and ``pairs`` (per other group: ``to``, ``flip_rate``, ``low``,
        ``high``, ``to_favourable``, ``to_unfavourable``).
    examples : list of dict
        A few flipped rows: group, other group, the two decisions and the features that differ.
    """

    classifier: str
    strategy: str
    entries: list[dict[str, Any]] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def counterfactual_rows(
    coder: Any,
    frame: pd.DataFrame,
    groups: Sequence[Any],
    *,
    group_column: str | None = None,
) -> CounterfactualRows:
    """Decode every row of ``frame`` with its own group and with every other group.

    Parameters
    ----------
    coder : LatentCoder
        A fitted group-conditional latent model.
    frame : DataFrame
        Rows holding the coder's feature columns.
    groups : sequence
        Each row's group label (one the coder knows).
    group_column : str, optional
        A group-label column to set in the decoded rows as well (the audit's ``_fl_group``).

    Returns
    -------
    CounterfactualRows
    """
    labels = np.asarray([str(g) for g in groups], dtype=object)
    if len(labels) != len(frame):
        raise DataError(f"groups has {len(labels)} labels for {len(frame)} rows; give one per row")
    known = coder.groups
    unknown = sorted(set(labels) - set(known))
    if unknown:
        raise DataError(ERR_GROUPS.format(unknown=unknown[:5], known=known))
    z = coder.encode(frame)

    def decoded(as_groups: Any) -> pd.DataFrame:
        rows = coder.decode(z, as_groups)
        if group_column is not None:
            rows[group_column] = np.asarray(as_groups, dtype=object) if np.ndim(as_groups) else \
                np.full(len(rows), as_groups, dtype=object)
        return rows

    own = decoded(labels)
    other = {g: decoded(g) for g in known}
    return CounterfactualRows(labels, own, other)


def _interval(flags: np.ndarray, n_boot: int, random_state: int, level: float) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of 0/1 ``flags``."""
    n = len(flags)
    if n == 0 or n_boot < 1:
        return float("nan"), float("nan")
    means = np.concatenate([flags[chunk].mean(axis=1) for chunk in bootstrap_rows(n, n_boot,
                                                                                   random_state)])
    alpha = (1 - level) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def flip_rates(
    rows: CounterfactualRows,
    decide: Callable[[pd.DataFrame], np.ndarray],
    *,
    classifier: str = "model",
    strategy: str = "none",
    n_boot: int = 200,
    random_state: int = 0,
    level: float = LEVEL,
    n_examples: int = N_EXAMPLES,
) -> FlipResult:
    """Score the decoded rows with ``decide`` and count changed decisions per group and pair.

    Parameters
    ----------
    rows : CounterfactualRows
    decide : callable
        Frame -> 0/1 decisions (1 favourable).
    classifier, strategy : str
        Names written into the result.
    n_boot : int
    random_state : int
    level : float
    n_examples : int
        Flipped example pairs kept per group pair.

    Returns
    -------
    FlipResult
    """
    own = np.asarray(decide(rows.own), dtype=int)
    other = {g: np.asarray(decide(frame), dtype=int) for g, frame in rows.other.items()}
    entries, examples = [], []
    for group in pd.unique(rows.groups):
        member = rows.groups == group
        n = int(member.sum())
        any_flip = np.zeros(n, dtype=bool)
        up = np.zeros(n, dtype=bool)
        down = np.zeros(n, dtype=bool)
        pairs = []
        for target, decisions in other.items():
            if target == group:
                continue
            before, after = own[member], decisions[member]
            flips = before != after
            any_flip |= flips
            up |= (before == 0) & (after == 1)
            down |= (before == 1) & (after == 0)
            low, high = _interval(flips.astype(float), n_boot, random_state, level)
            pairs.append({
                "to": str(target),
                "flip_rate": float(flips.mean()) if n else float("nan"),
                "low": low,
                "high": high,
                "to_favourable": float(np.mean((before == 0) & (after == 1))) if n else float("nan"),
                "to_unfavourable": float(np.mean((before == 1) & (after == 0))) if n else float("nan"),
            })
            examples.extend(_examples(rows, np.flatnonzero(member)[flips], str(group), str(target),
                                      before[flips], after[flips], n_examples))
        low, high = _interval(any_flip.astype(float), n_boot, random_state, level)
        entries.append({
            "classifier": classifier,
            "strategy": strategy,
            "group": str(group),
            "flip_rate": float(any_flip.mean()) if n else float("nan"),
            "low": low,
            "high": high,
            "n": n,
            "to_favourable": float(up.mean()) if n else float("nan"),
            "to_unfavourable": float(down.mean()) if n else float("nan"),
            "pairs": pairs,
        })
    return FlipResult(classifier, strategy, _jsonable(entries), _jsonable(examples))


def _examples(rows: CounterfactualRows, index: np.ndarray, group: str, target: str,
              before: np.ndarray, after: np.ndarray, k: int) -> list[dict[str, Any]]:
    """Return the first ``k`` flipped rows: the columns whose decoded values differ."""
    out = []
    other = rows.other[target]
    for position, b, a in zip(index[:k], before[:k], after[:k], strict=False):
        changes = []
        for column in rows.own.columns:
            if str(column).startswith(RESERVED_PREFIX):  # the audit's group column
                continue
            x, y = rows.own[column].iloc[position], other[column].iloc[position]
            if _differs(x, y):
                changes.append({"column": str(column), "own": _show(x), "other": _show(y)})
        out.append({"row": int(position), "group": group, "to": target,
                    "decision_own": int(b), "decision_other": int(a), "changes": changes})
    return out


def _labels(series: pd.Series) -> np.ndarray:
    """Values as text, every kind of missing value as ``"(missing)"``."""
    return np.asarray(["(missing)" if _missing(v) else str(v) for v in series], dtype=object)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _differs(x: Any, y: Any) -> bool:
    if _missing(x) or _missing(y):
        return _missing(x) != _missing(y)
    if isinstance(x, int | float | np.number) and isinstance(y, int | float | np.number):
        return not math.isclose(float(x), float(y), rel_tol=1e-3, abs_tol=1e-6)
    return str(x) != str(y)


def _show(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return round(float(value), 3)
    if isinstance(value, np.integer):
        return int(value)
    return None if value is None or value is pd.NA else str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def feature_moves(rows: CounterfactualRows, columns: Sequence[str],
                  k: int = N_MOVES) -> list[dict[str, Any]]:
    """Which features move most between decoded-own and decoded-other, per group pair.

    A number's move is the mean absolute change in units of its standard deviation over the own
    decodings; a category's move is the share of rows whose value changes.

    Returns
    -------
    list of dict
        Per (group, to): ``moves``, the ``k`` largest as ``{column, kind, move, example}``.
    """
    out = []
    for group in pd.unique(rows.groups):
        member = rows.groups == group
        for target, frame in rows.other.items():
            if target == group or not member.any():
                continue
            moves: list[dict[str, Any]] = []
            for column in columns:
                own, other = rows.own[column][member], frame[column][member]
                if is_numeric(own) and own.dtype != bool:
                    a = pd.to_numeric(own, errors="coerce").to_numpy(dtype=float)
                    b = pd.to_numeric(other, errors="coerce").to_numpy(dtype=float)
                    scale = np.nanstd(pd.to_numeric(rows.own[column], errors="coerce"))
                    delta = np.nanmean(b - a)
                    move = float(np.nanmean(np.abs(b - a)) / scale) if scale > 0 else 0.0
                    moves.append({"column": str(column), "kind": "numeric", "move": move,
                                  "mean_change": float(delta)})
                else:
                    a_text, b_text = _labels(own), _labels(other)
                    changed = a_text != b_text
                    common = pd.Series([f"{x} → {y}" for x, y in zip(a_text[changed], b_text[changed],
                                                                      strict=True)]).value_counts()
                    moves.append({"column": str(column), "kind": "categorical",
                                  "move": float(changed.mean()),
                                  "most_common_change": str(common.index[0]) if len(common) else None})
            moves.sort(key=lambda m: -float(m["move"]))
            out.append({"group": str(group), "to": str(target), "moves": _jsonable(moves[:k])})
    return out


def counterfactual_flips(
    model: Any,
    frame: pd.DataFrame,
    *,
    sensitive: Sequence[str],
    features: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    target: str | None = None,
    coder: Any = None,
    train: pd.DataFrame | None = None,
    classifier: str = "model",
    strategy: str = "none",
    epochs: int | None = None,
    n_boot: int = 200,
    level: float = LEVEL,
    device: str = "auto",
    random_state: int = 0,
) -> dict[str, Any]:
    """Flip rates of a fitted model when each row is moved to another group through a conditional VAE.

    Parameters
    ----------
    model : estimator or callable
        A fitted model: ``model.predict(frame[features])`` (or ``model(frame)``) gives 0/1
        decisions, 1 favourable. The sensitive columns of the decoded rows hold the group the
        row was decoded as.
    frame : DataFrame
        Rows to move (e.g. held-out rows), with ``sensitive`` and the features.
    sensitive : sequence of str
        Sensitive columns; their values joined with ``" | "`` form the groups.
    features : sequence of str, optional
        The model's input columns; default every column of ``frame`` but ``target``.
    columns : sequence of str, optional
        Columns the VAE models and redraws (the sensitive ones never enter it); default every
        column but ``target`` and the sensitive ones. The model's features must be among these
        and the sensitive columns.
    target : str, optional
        A label column of ``frame`` to leave out.
    coder : LatentCoder, optional
        A fitted latent space; default a conditional VAE fitted on ``train`` (or ``frame``).
    train : DataFrame, optional
        Rows to fit the VAE on when ``coder`` is not given.
    classifier, strategy : str
        Names written into the result.
    epochs : int, optional
    n_boot : int, default 200
    level : float, default LEVEL
    device : str, default "auto"
    random_state : int, default 0

    Returns
    -------
    dict
        ``counterfactual``: per group ``flip_rate``, ``low``, ``high``, ``n`` (and pairs);
        ``moves``: features that move most per group pair; ``examples``: flipped pairs.

    Examples
    --------
    >>> out = fairlatent.counterfactual_flips(clf, test, sensitive=["sex"],
    ...                                       features=columns)  # doctest: +SKIP
    >>> [(e["group"], e["flip_rate"]) for e in out["counterfactual"]]  # doctest: +SKIP
    """
    from fairlatent.metrics.latent_space import coder_for, decider
    from fairlatent.models.vae.invariant import group_labels_of

    sensitive = list(sensitive)
    if features is None:
        features = [c for c in frame.columns if c != target]
    coder, _ = coder_for(train if train is not None else frame, sensitive=sensitive,
                         target=target, columns=columns, coder=coder, epochs=epochs,
                         device=device, random_state=random_state)
    rows = counterfactual_rows(coder, frame, list(group_labels_of(frame[sensitive])))
    result = flip_rates(rows, decider(model, features), classifier=classifier, strategy=strategy,
                        n_boot=n_boot, random_state=random_state, level=level)
    return {
        "counterfactual": result.entries,
        "moves": feature_moves(rows, coder.columns),
        "examples": result.examples,
    }
