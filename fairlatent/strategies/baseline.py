"""The two classical reference strategies: no mitigation, and Kamiran & Calders reweighing (tunable)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.exceptions import ConfigError
from fairlatent.strategies.base import (
    OFF,
    FittedStrategy,
    Strategy,
    StrategyContext,
    StrategyOutput,
    Strength,
)
from fairlatent.strategies.common import FittedParts, identity_output, strength_values


class NoMitigation(Strategy):
    """Baseline: train on the real training rows as they are."""

    def _apply(self, train: pd.DataFrame, context: StrategyContext) -> StrategyOutput:
        return StrategyOutput(frame=train)


def reweighing_weights(groups: pd.Series, labels: pd.Series) -> np.ndarray:
    """Kamiran & Calders (2012) weights: ``P(group) * P(label) / P(group, label)``.

    Parameters
    ----------
    groups, labels : Series
        Group label and 0/1 target of each row.

    Returns
    -------
    ndarray of float
        One weight per row; the weights sum to the number of rows.

    Examples
    --------
    >>> import pandas as pd
    >>> w = reweighing_weights(pd.Series(["a", "a", "b", "b"]), pd.Series([1, 1, 0, 1]))
    >>> [round(float(x), 2) for x in w]
    [0.75, 0.75, 0.5, 1.5]
    """
    n = len(groups)
    keys = pd.DataFrame({"g": groups.to_numpy(), "y": labels.to_numpy()})
    p_group = keys["g"].map(keys["g"].value_counts() / n)
    p_label = keys["y"].map(keys["y"].value_counts() / n)
    p_joint = keys.groupby(["g", "y"])["g"].transform("size") / n
    return (p_group * p_label / p_joint).to_numpy(dtype=float)


class Reweighing(Strategy):
    """Kamiran & Calders reweighing, with a strength between no weights and the full weights.

    At strength ``λ`` each row's weight is ``1 + λ (w_KC - 1)``, where ``w_KC`` is the
    Kamiran & Calders weight of its (group, label) cell (:func:`reweighing_weights`): ``λ = 0``
    trains on the real rows unweighted, ``λ = 1`` makes group and label independent.

    Parameters
    ----------
    strengths : sequence of float, default (0.25, 0.5, 0.75, 1.0)
        The non-zero ``λ`` the audit may tune over (``λ = 0``, doing nothing, is always offered).
    default : float, default 1.0
        ``λ`` used when nothing is tuned.

    Examples
    --------
    >>> from fairlatent.strategies import get_strategy
    >>> [s.label for s in get_strategy("reweigh").fit(None, None).grid()]
    ['off', 'λ=0.25', 'λ=0.5', 'λ=0.75', 'λ=1']
    """

    def __init__(
        self, *, strengths: Sequence[float] = (0.25, 0.5, 0.75, 1.0), default: float = 1.0
    ) -> None:
        self.strengths = strengths
        self.default = default

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        """Require every ``λ`` (``strengths`` and ``default``) to be a number from 0 to 1.

        Outside it the weights ``1 + λ (w - 1)`` can turn negative (``λ > 1``) or push the
        other way (``λ < 0``).

        Raises
        ------
        ConfigError
        """
        for value in strength_values(options):
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ConfigError(
                    f"reweigh strength {value!r} is out of range: λ runs from 0 (no weights) to "
                    "1 (full reweighing); fix [audit.strategy_options.reweigh]"
                )

    def _fit(self, train: pd.DataFrame, context: StrategyContext) -> FittedStrategy:
        return FittedReweighing(self, context)


def _lambda_strength(value: float) -> Strength:
    return OFF if value == 0 else Strength(f"λ={value:g}", {"lambda": float(value)})


class FittedReweighing(FittedParts):
    """Reweighing needs no fit: the cell weights are computed on the frame being transformed."""

    strategy: Reweighing

    def grid(self) -> list[Strength]:
        """``off`` then each configured ``λ``."""
        return [OFF] + [_lambda_strength(v) for v in self.strategy.strengths if v != 0]

    def default(self) -> Strength:
        """Return the configured default ``λ`` (1: full reweighing)."""
        return _lambda_strength(self.strategy.default)

    def transform(self, frame: pd.DataFrame, strength: Strength) -> StrategyOutput:
        """Weight ``frame``'s rows at ``λ = strength.params["lambda"]``."""
        lam = float(strength.params.get("lambda", 0.0))
        if strength.identity or lam == 0:
            return identity_output(frame, strength)
        context = self.context
        full = reweighing_weights(frame[context.group_column], frame[context.target])
        weights = full if lam == 1 else 1.0 + lam * (full - 1.0)
        cells = (
            pd.DataFrame(
                {
                    "group": frame[context.group_column],
                    "label": frame[context.target],
                    "weight": weights,
                }
            )
            .groupby(["group", "label"], as_index=False)
            .agg(rows=("weight", "size"), weight=("weight", "first"))
        )
        return StrategyOutput(
            frame=frame,
            sample_weight=weights,
            diagnostics={"cell_weights": cells.to_dict(orient="records")},
            strength=strength,
        )
