"""Number formatting shared by the report's templates and its generated sentences."""

from __future__ import annotations

import math
from typing import Any

MISSING = "–"
"""What a missing or non-finite number is shown as."""


def _as_finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def number(value: Any, digits: int = 3) -> str:
    """Format ``value`` with ``digits`` decimals; ``–`` when missing or not finite.

    A value that is not a number at all (e.g. a label) is shown as its text.

    Examples
    --------
    >>> number(0.12345), number(None), number(float("nan")), number("n/a")
    ('0.123', '–', '–', 'n/a')
    """
    if value is None:
        return MISSING
    try:
        finite = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{finite:.{digits}f}" if math.isfinite(finite) else MISSING


def percent(value: Any, digits: int = 1) -> str:
    """Format a share (0.25) as a percentage (``25.0%``); ``–`` when missing or not finite.

    Examples
    --------
    >>> percent(0.25), percent(0.3333, 0), percent(None)
    ('25.0%', '33%', '–')
    """
    finite = None if value is None else _as_finite(value)
    return MISSING if finite is None else f"{100 * finite:.{digits}f}%"


def points(value: Any, digits: int = 1) -> str:
    """Format a difference of shares in signed percentage points (``-0.175`` -> ``-17.5``).

    Examples
    --------
    >>> points(-0.175), points(0.0031), points(None)
    ('-17.5', '+0.3', '–')
    """
    finite = None if value is None else _as_finite(value)
    return MISSING if finite is None else f"{100 * finite:+.{digits}f}"
