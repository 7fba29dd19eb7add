"""Mitigation strategies behind one interface (:class:`Strategy`) and one registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fairlatent.strategies.registry import (
    STRATEGIES,
    StrategySpec,
    get_strategy,
    strategy_colour,
)

if TYPE_CHECKING:
    from fairlatent.strategies.base import Strategy, StrategyContext, StrategyOutput

__all__ = [
    "STRATEGIES",
    "Strategy",
    "StrategyContext",
    "StrategyOutput",
    "StrategySpec",
    "get_strategy",
    "strategy_colour",
]


def __getattr__(name: str) -> Any:
    # the interface (numpy, pandas) is imported on first use, so reading the registry stays cheap
    if name in ("Strategy", "StrategyContext", "StrategyOutput"):
        from fairlatent.strategies import base

        return getattr(base, name)
    raise AttributeError(f"module 'fairlatent.strategies' has no attribute {name!r}")
