"""Mitigation strategies behind one interface; see :class:`Strategy`."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from fairlatent.exceptions import ConfigError
from fairlatent.strategies.base import Strategy, StrategyContext, StrategyOutput

#: Strategy name -> "module:Class"; imported lazily so torch loads only when needed.
STRATEGY_REGISTRY: dict[str, str] = {
    "none": "fairlatent.strategies.baseline:NoMitigation",
    "reweigh": "fairlatent.strategies.baseline:Reweighing",
    "vae": "fairlatent.strategies.latent:LatentDensityStrategy",
    "gan": "fairlatent.strategies.synthesis:CellBalancingStrategy",
    "vae+gan": "fairlatent.strategies.synthesis:OutlierBalancedStrategy",
}


def get_strategy(name: str, **options: Any) -> Strategy:
    """Instantiate the strategy registered under ``name``.

    Parameters
    ----------
    name : str
        One of :data:`STRATEGY_REGISTRY`.
    **options
        Keyword options for the strategy's constructor.

    Returns
    -------
    Strategy
    """
    try:
        module_name, class_name = STRATEGY_REGISTRY[name].split(":")
    except KeyError:
        raise ConfigError(
            f"unknown strategy {name!r}: choose from {', '.join(STRATEGY_REGISTRY)}"
        ) from None
    cls = getattr(import_module(module_name), class_name)
    try:
        return cls(**options)
    except TypeError as err:
        raise ConfigError(f"bad option for strategy {name!r}: {err}") from None


__all__ = ["STRATEGY_REGISTRY", "Strategy", "StrategyContext", "StrategyOutput", "get_strategy"]
