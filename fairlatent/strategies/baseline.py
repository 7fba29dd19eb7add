"""The two classical reference strategies: no mitigation, and Kamiran & Calders reweighing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairlatent.strategies.base import Strategy, StrategyContext, StrategyOutput


class NoMitigation(Strategy):
    """Baseline: train on the real training rows as they are."""

    name = "none"
    description = "baseline: classifiers trained on the real training rows, unchanged"

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
    """Kamiran & Calders reweighing: each (group, label) cell weighted to independence."""

    name = "reweigh"
    description = (
        "Kamiran & Calders reweighing: each group x label cell weighted by "
        "P(group)P(label)/P(group, label)"
    )

    def _apply(self, train: pd.DataFrame, context: StrategyContext) -> StrategyOutput:
        weights = reweighing_weights(train[context.group_column], train[context.target])
        cells = (
            pd.DataFrame(
                {
                    "group": train[context.group_column],
                    "label": train[context.target],
                    "weight": weights,
                }
            )
            .groupby(["group", "label"], as_index=False)
            .agg(rows=("weight", "size"), weight=("weight", "first"))
        )
        return StrategyOutput(
            frame=train,
            sample_weight=weights,
            diagnostics={"cell_weights": cells.to_dict(orient="records")},
        )
