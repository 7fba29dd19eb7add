"""Small helpers the tunable strategies share: the do-nothing output, frame parts, shared-model keys."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.strategies.base import FittedStrategy, StrategyContext, StrategyOutput, Strength

__all__ = [
    "FittedParts",
    "defaults_of",
    "frame_parts",
    "identity_output",
    "params_for",
    "shared_key",
    "strength_values",
    "unit_mean_within",
]


def strength_values(options: Any) -> list[Any]:
    """Return the strengths a strategy's options name: each ``strengths`` entry, then ``default``.

    Examples
    --------
    >>> strength_values({"strengths": [0.5, 1.0], "default": 1.0})
    [0.5, 1.0, 1.0]
    """
    return list(options.get("strengths", ())) + (
        [options["default"]] if "default" in options else []
    )


def defaults_of(cls: type) -> dict[str, Any]:
    """Return the constructor defaults of a class: the one home of an option a strategy shares.

    Parameters
    ----------
    cls : type
        A sampler or model class (keyword parameters with defaults).

    Returns
    -------
    dict
        Parameter name -> default.

    Examples
    --------
    >>> from fairlatent.samplers import LatentDensityResampler
    >>> defaults_of(LatentDensityResampler)["alpha"]
    0.01
    """
    return {
        name: p.default
        for name, p in inspect.signature(cls).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def params_for(
    cls: type, source: Any, names: Iterable[str] | None = None, **fixed: Any
) -> dict[str, Any]:
    """Parameters of ``cls`` taken from a strategy's options of the same name, plus ``fixed``.

    A strategy declares a sampler's or model's option under the option's own name (and with its
    default, :func:`defaults_of`); this hands every such option on, so no strategy lists them
    again.

    Parameters
    ----------
    cls : type
        The sampler or model class to build.
    source : object
        The strategy (its attributes are its options).
    names : iterable of str, optional
        Only these options (default: every parameter of ``cls`` that ``source`` has).
    **fixed
        Values set by the caller (they win over ``source``'s).

    Returns
    -------
    dict
        Keyword arguments of ``cls``.
    """
    wanted = list(inspect.signature(cls).parameters) if names is None else list(names)
    shared = {name: getattr(source, name) for name in wanted if hasattr(source, name)}
    return {**{k: v for k, v in shared.items() if k not in fixed}, **fixed}


def identity_output(frame: pd.DataFrame, strength: Strength) -> StrategyOutput:
    """Return the output of a do-nothing strength: the rows as they are, no weights.

    Parameters
    ----------
    frame : DataFrame
        Real rows.
    strength : Strength
        The (identity) strength.

    Returns
    -------
    StrategyOutput

    Examples
    --------
    >>> from fairlatent.strategies.base import OFF
    >>> out = identity_output(pd.DataFrame({"a": [1]}), OFF)
    >>> out.sample_weight is None and out.strength.identity
    True
    """
    return StrategyOutput(frame=frame, strength=strength)


def frame_parts(
    frame: pd.DataFrame, context: StrategyContext
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Split a strategy's frame into features (with sensitive columns), labels and groups.

    Parameters
    ----------
    frame : DataFrame
        Rows with the target and group columns.
    context : StrategyContext

    Returns
    -------
    X : DataFrame
        Every column but the target and the group column.
    y : Series
        The 0/1 target.
    groups : Series
        The group label of each row.
    """
    X = frame.drop(columns=[context.target, context.group_column])
    return X, frame[context.target], frame[context.group_column]


def shared_key(kind: str, frame: pd.DataFrame, **parts: Any) -> str:
    """Key of a model in :attr:`StrategyContext.shared`: its kind, settings and training rows.

    Two strategies get the same key (and so share one fitted model) only when they train the same
    kind of model with the same settings on the same rows.

    Parameters
    ----------
    kind : str
        ``"gan"``, ``"vae"``, ...
    frame : DataFrame
        The rows the model is trained on.
    **parts
        Settings that change the model (JSON-serialisable, or turned into text).

    Returns
    -------
    str

    Examples
    --------
    >>> rows = pd.DataFrame({"a": [1, 2]})
    >>> shared_key("vae", rows, seed=0) == shared_key("vae", rows.copy(), seed=0)
    True
    >>> shared_key("vae", rows, seed=0) == shared_key("vae", rows.head(1), seed=0)
    False
    """
    fingerprint = int(pd.util.hash_pandas_object(frame, index=False).to_numpy().sum() % (2**61))
    payload = json.dumps(
        {"rows": len(frame), "hash": fingerprint, **parts}, sort_keys=True, default=str
    )
    return f"{kind}:{payload}"


def unit_mean_within(weights: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """Scale ``weights`` to mean 1 within every combination of ``keys`` (e.g. group x label).

    Parameters
    ----------
    weights : ndarray
        Positive weights.
    *keys : ndarray
        One label per row for each key.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> unit_mean_within(np.array([1.0, 3.0, 5.0]), np.array(["a", "a", "b"])).tolist()
    [0.5, 1.5, 1.0]
    """
    weights = np.asarray(weights, dtype=float)
    cells = pd.Series(weights).groupby([np.asarray(k) for k in keys]).transform("mean")
    return weights / cells.to_numpy()


class FittedParts(FittedStrategy):
    """Base of the fitted strategies: the strategy (its options), what it fitted, the context.

    Parameters
    ----------
    strategy : Strategy
        The strategy whose options the transforms read.
    context : StrategyContext
    sampler : object, optional
        The fitted sampler (VAE, GAN), if the strategy trains one.
    """

    def __init__(self, strategy: Any, context: StrategyContext, sampler: Any = None) -> None:
        self.strategy = strategy
        self.context = context
        self.sampler = sampler
