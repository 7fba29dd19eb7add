"""Reference mitigations from fairlearn, and our goal thresholds, as tunable strategies.

- ``threshold``: :class:`~fairlearn.postprocessing.ThresholdOptimizer` (post-processing);
- ``expgrad``: :class:`~fairlearn.reductions.ExponentiatedGradient` (in-processing);
- ``corr-remove``: :class:`~fairlearn.preprocessing.CorrelationRemover` on the numeric features
  (pre-processing of the features, applied to every row the classifier sees, so it is delivered as
  an estimator wrapper);
- ``goal``: randomised group thresholds meeting DP and EO bounds at the best accuracy, fitted on
  validation scores (post-processing; the linear programme of
  :mod:`fairlatent.models.thresholds`).

None of them trains a generative model; :meth:`fit` only records the settings, and every grid
starts with ``off``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, ClassVar

import pandas as pd

from fairlatent.exceptions import ConfigError
from fairlatent.policy import GOAL
from fairlatent.strategies.adapters import CorrelationRemoverClassifier, ReductionClassifier
from fairlatent.strategies.base import (
    OFF,
    FittedStrategy,
    Strategy,
    StrategyContext,
    StrategyKind,
    StrategyOutput,
    Strength,
)
from fairlatent.strategies.common import FittedParts, identity_output, strength_values
from fairlatent.strategies.postprocessors import GoalPostProcessor, ThresholdPostProcessor

__all__ = [
    "CorrelationRemoverStrategy",
    "ExponentiatedGradientStrategy",
    "GoalStrategy",
    "ThresholdStrategy",
]

_SHORT = {"demographic_parity": "dp", "equalized_odds": "eo"}


def _label(params: Mapping[str, Any]) -> str:
    parts = []
    for key, value in params.items():
        if value is None:
            continue
        if key in ("constraint", "constraints"):
            parts.append(_SHORT.get(value, str(value)))
        else:
            parts.append(f"{key}={value:g}" if isinstance(value, float | int) else f"{key}={value}")
    return ", ".join(parts)


class _GridStrategy(Strategy):  # noqa: B024 - _output is the one hook
    """A strategy without a fit: a grid of parameter dicts, each turned into an output.

    Subclasses set :attr:`GRID` and :attr:`DEFAULT` and implement :meth:`_output`.
    """

    GRID: ClassVar[tuple[dict[str, Any], ...]] = ()
    DEFAULT: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        *,
        strengths: Sequence[Mapping[str, Any]] | None = None,
        default: Mapping[str, Any] | None = None,
    ) -> None:
        self.strengths = strengths
        self.default = default

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        """Require ``strengths`` to be tables of settings and ``default`` one table.

        Raises
        ------
        ConfigError
        """
        for value in strength_values(options):
            if not isinstance(value, Mapping):
                raise ConfigError(
                    f"{cls.__name__} settings are tables such as {dict(cls.DEFAULT)!r}, not "
                    f"{value!r}; write strengths = [{{...}}] and default = {{...}}"
                )

    def _fit(self, train: pd.DataFrame, context: StrategyContext) -> FittedStrategy:
        return _FittedGrid(self, context)

    def settings(self) -> tuple[list[Mapping[str, Any]], Mapping[str, Any]]:
        """Return the grid's settings (besides ``off``) and the default setting."""
        strengths = self.GRID if self.strengths is None else self.strengths
        return list(strengths), self.DEFAULT if self.default is None else self.default

    def _output(
        self, frame: pd.DataFrame, params: Mapping[str, Any], context: StrategyContext
    ) -> StrategyOutput:
        raise NotImplementedError


class _FittedGrid(FittedParts):
    strategy: _GridStrategy

    def grid(self) -> list[Strength]:
        points = [Strength(_label(p), dict(p)) for p in self.strategy.settings()[0]]
        return [OFF] + list({p.label: p for p in points}.values())

    def default(self) -> Strength:
        default = self.strategy.settings()[1]
        return Strength(_label(default), dict(default))

    def transform(self, frame: pd.DataFrame, strength: Strength) -> StrategyOutput:
        if strength.identity:
            return identity_output(frame, strength)
        output = self.strategy._output(frame, strength.params, self.context)
        output.diagnostics = {"params": dict(strength.params)}
        output.strength = strength
        return output


class _PostProcessing(_GridStrategy):  # noqa: B024
    """A post-processing grid: each setting builds :attr:`postprocessor` with those keywords."""

    kind: ClassVar[StrategyKind] = "post"
    postprocessor: ClassVar[type]

    def _output(
        self, frame: pd.DataFrame, params: Mapping[str, Any], context: StrategyContext
    ) -> StrategyOutput:
        return StrategyOutput(frame=frame, postprocessor=self.postprocessor(**params))


class ThresholdStrategy(_PostProcessing):
    """fairlearn's ThresholdOptimizer: group-specific randomised thresholds on held-out scores.

    The classifier is trained on the training rows as they are; the thresholds are fitted on
    validation rows it never saw (``prefit``), maximising accuracy under the constraint.

    Parameters
    ----------
    strengths : sequence of dict, default GRID
        ``ThresholdPostProcessor`` settings besides ``off``: ``constraints`` and ``tol``.
    default : dict, default {"constraints": "equalized_odds"}
        Setting used when nothing is tuned.
    """

    postprocessor = ThresholdPostProcessor
    GRID: ClassVar[tuple[dict[str, Any], ...]] = (
        {"constraints": "equalized_odds"},
        {"constraints": "demographic_parity", "tol": 0.05},
        {"constraints": "demographic_parity"},
    )
    DEFAULT: ClassVar[dict[str, Any]] = GRID[0]


class GoalStrategy(_PostProcessing):
    """Goal thresholds: the most accurate randomised group thresholds within DP and EO bounds.

    The bounds are met on the validation rows the thresholds are fitted on; the test rows then show
    how well they hold. The grid offers the audit's goal (DP ≤ 0.04, EO ≤ 0.08) and two looser
    bounds on both (0.08, 0.12), so the tuning can trade disparity for accuracy within its budget.

    Parameters
    ----------
    strengths : sequence of dict, default GRID
        ``GoalPostProcessor`` settings besides ``off``: ``dp_max`` and ``eo_max``.
    default : dict, default {"dp_max": 0.04, "eo_max": 0.08}
    """

    postprocessor = GoalPostProcessor
    GRID: ClassVar[tuple[dict[str, Any], ...]] = (
        {"dp_max": 0.12, "eo_max": 0.12},
        {"dp_max": 0.08, "eo_max": 0.08},
        {"dp_max": GOAL.dp_difference, "eo_max": GOAL.eo_difference},  # the audit's goal
    )
    DEFAULT: ClassVar[dict[str, Any]] = GRID[2]


class ExponentiatedGradientStrategy(_GridStrategy):
    """fairlearn's ExponentiatedGradient reduction: a randomised mix of reweighted classifiers.

    Each iteration retrains the classifier with weights set by the constraint's multipliers, so a
    grid point costs ``max_iter`` classifier fits; the grid is kept to two points.

    Parameters
    ----------
    strengths : sequence of dict, default GRID
        ``ReductionClassifier`` settings besides ``off``: ``constraint`` and ``eps``.
    default : dict, default {"constraint": "equalized_odds", "eps": 0.02}
    max_iter : int, default 10
        Iterations of every reduction.
    """

    kind: ClassVar[StrategyKind] = "in"
    GRID: ClassVar[tuple[dict[str, Any], ...]] = (
        {"constraint": "equalized_odds", "eps": 0.02},
        {"constraint": "demographic_parity", "eps": 0.02},
    )
    DEFAULT: ClassVar[dict[str, Any]] = GRID[0]

    def __init__(
        self,
        *,
        strengths: Sequence[Mapping[str, Any]] | None = None,
        default: Mapping[str, Any] | None = None,
        max_iter: int = 10,
    ) -> None:
        super().__init__(strengths=strengths, default=default)
        self.max_iter = max_iter

    def _output(
        self, frame: pd.DataFrame, params: Mapping[str, Any], context: StrategyContext
    ) -> StrategyOutput:
        settings = {"max_iter": int(self.max_iter), "random_state": context.random_state, **params}
        return StrategyOutput(frame=frame, wrap_estimator=partial(ReductionClassifier, **settings))


class CorrelationRemoverStrategy(_GridStrategy):
    """fairlearn's CorrelationRemover: numeric features projected off the group indicators.

    Parameters
    ----------
    strengths : sequence of dict, default GRID
        ``alpha`` values besides ``off`` (``alpha = 0`` is the identity and is left out).
    default : dict, default {"alpha": 1.0}
    """

    GRID: ClassVar[tuple[dict[str, Any], ...]] = ({"alpha": 0.5}, {"alpha": 1.0})
    DEFAULT: ClassVar[dict[str, Any]] = GRID[1]

    def settings(self) -> tuple[list[Mapping[str, Any]], Mapping[str, Any]]:
        """Return the grid's settings without ``alpha = 0`` (that is ``off``) and the default."""
        strengths, default = super().settings()
        return [p for p in strengths if float(p.get("alpha", 1.0)) != 0], default

    def _output(
        self, frame: pd.DataFrame, params: Mapping[str, Any], context: StrategyContext
    ) -> StrategyOutput:
        alpha = float(params.get("alpha", 1.0))
        return StrategyOutput(
            frame=frame, wrap_estimator=partial(CorrelationRemoverClassifier, alpha=alpha)
        )
