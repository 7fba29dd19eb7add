"""Mitigation strategies behind one interface (:class:`Strategy`) and one registry."""

from __future__ import annotations

from fairlatent.strategies.base import Strategy, StrategyContext, StrategyOutput
from fairlatent.strategies.registry import (
    STRATEGIES,
    StrategySpec,
    get_strategy,
    strategy_colour,
)

__all__ = [
    "STRATEGIES",
    "Strategy",
    "StrategyContext",
    "StrategyOutput",
    "StrategySpec",
    "get_strategy",
    "strategy_colour",
]
