"""Parameter types and checks shared by the generative models.

Each check raises :class:`~fairlatent.exceptions.ConfigError` with one line naming the parameter,
what it must be and the value it got.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import numbers
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

from fairlatent.exceptions import ConfigError

ERR_PARAM = "{name} must be {expected}, got {value!r}"

_Settings = TypeVar("_Settings")

EpochCallback = Callable[[int, int, Mapping[str, float]], Any]
"""A ``fit(callbacks=...)`` entry, called after every epoch with ``(epoch, epochs, metrics)``.

``epoch`` counts from 1 and ``epochs`` is the most the fit will run. ``metrics`` is that epoch's
``history_`` dict: the model's own losses (VAE: ``train_loss``, ``val_loss``, ``recon``, ``kl``;
GAN: ``generator_loss``, ``critic_loss``, ``condition_loss``), plus, for every model, ``loss`` (the
one number to show), ``seconds`` (the epoch's wall time) and ``elapsed_seconds`` (since training
started), so that a display can show the loss and an ETA
(``elapsed_seconds / epoch * (epochs - epoch)``; an upper bound when the VAE may stop early).
The VAE fitted inside :class:`~fairlatent.samplers.LatentDensityResampler` reports the same keys.
"""

_ACTIVE_CALLBACKS: ContextVar[tuple[EpochCallback, ...]] = ContextVar(
    "fairlatent_epoch_callbacks", default=()
)


@contextlib.contextmanager
def epoch_callbacks(callbacks: Iterable[EpochCallback]) -> Iterator[None]:
    """Hand ``callbacks`` to every VAE/GAN fit run inside the ``with`` block (however nested).

    The audit engine wraps each unit of work in it, so a progress display sees every model fit of
    every strategy without each strategy and sampler passing callbacks along.

    Examples
    --------
    >>> seen = []
    >>> with epoch_callbacks([lambda epoch, epochs, metrics: seen.append(epoch)]):
    ...     for callback in active_epoch_callbacks():
    ...         callback(1, 1, {})
    >>> seen, active_epoch_callbacks()
    ([1], ())
    """
    token = _ACTIVE_CALLBACKS.set(_ACTIVE_CALLBACKS.get() + tuple(callbacks))
    try:
        yield
    finally:
        _ACTIVE_CALLBACKS.reset(token)


def active_epoch_callbacks() -> tuple[EpochCallback, ...]:
    """Return the callbacks installed by the enclosing :func:`epoch_callbacks` blocks."""
    return _ACTIVE_CALLBACKS.get()



def _fail(name: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(ERR_PARAM.format(name=name, expected=expected, value=value))


def check_positive_int(name: str, value: Any) -> None:
    """Require an integer >= 1 (``bool`` is not accepted).

    Examples
    --------
    >>> check_positive_int("epochs", 3)
    >>> check_positive_int("epochs", 0)
    Traceback (most recent call last):
    ...
    fairlatent.exceptions.ConfigError: epochs must be an integer >= 1, got 0
    """
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise _fail(name, "an integer >= 1", value)


def check_widths(name: str, value: Any) -> None:
    """Require a sequence of layer widths, each an integer >= 1 (may be empty)."""
    if not isinstance(value, Iterable) or isinstance(value, str):
        raise _fail(name, "a tuple of ints", value)
    for width in value:
        check_positive_int(f"each of {name}", width)


def check_number(
    name: str,
    value: Any,
    *,
    minimum: float = 0.0,
    inclusive: bool = False,
    below: float | None = None,
) -> None:
    """Require a finite real number above ``minimum`` (or equal when ``inclusive``), under ``below``.

    Examples
    --------
    >>> check_number("beta", 0.0, inclusive=True)
    >>> check_number("ema_decay", 1.0, inclusive=True, below=1.0)
    Traceback (most recent call last):
    ...
    fairlatent.exceptions.ConfigError: ema_decay must be a number in [0, 1), got 1.0
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value >= minimum if inclusive else value > minimum)
    ok = ok and (below is None or value < below)
    if not ok:
        if below is not None:
            expected = f"a number in {'[' if inclusive else '('}{minimum:g}, {below:g})"
        else:
            expected = f"a number {'>=' if inclusive else '>'} {minimum:g}"
        raise _fail(name, expected, value)


def check_bool(name: str, value: Any) -> None:
    """Require ``True`` or ``False``.

    Examples
    --------
    >>> check_bool("bf16", "yes")
    Traceback (most recent call last):
    ...
    fairlatent.exceptions.ConfigError: bf16 must be True or False, got 'yes'
    """
    if not isinstance(value, bool):
        raise _fail(name, "True or False", value)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    """Require one of ``choices``."""
    if value not in choices:
        raise _fail(name, " or ".join(repr(c) for c in choices), value)


def check_count(name: str, value: Any) -> None:
    """Require an integer >= 0 (``bool`` is not accepted), e.g. a number of rows to draw.

    Examples
    --------
    >>> check_count("n", 0)
    >>> check_count("n", -1)
    Traceback (most recent call last):
    ...
    fairlatent.exceptions.ConfigError: n must be an integer >= 0, got -1
    """
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
        raise _fail(name, "an integer >= 0", value)


def settings_from(cls: type[_Settings], model: Any) -> _Settings:
    """Build the dataclass ``cls`` from the attributes of ``model`` with the same names.

    Parameters
    ----------
    cls : type
        A dataclass whose fields are constructor parameters of ``model``.
    model : object
        The estimator.

    Returns
    -------
    cls instance
        Fields annotated ``int``, ``float`` or ``bool`` hold values of that type (the model's
        attribute converted), so the training loops read them as they are.
    """
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    # fields the model has no attribute for keep their dataclass default
    return cls(
        **{
            name: _as_declared(hints[name], getattr(model, name))
            for name in names
            if hasattr(model, name)
        }
    )


def _as_declared(hint: Any, value: Any) -> Any:
    """``value`` converted to ``hint`` when that is ``int``, ``float`` or ``bool``, else as is."""
    return hint(value) if hint in (int, float, bool) else value
