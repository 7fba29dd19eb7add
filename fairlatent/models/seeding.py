"""Seeds for the independent random streams of one model, derived from its ``random_state``."""

from __future__ import annotations

import numpy as np


def derive_seeds(random_state: int | None, count: int) -> list[int]:
    """Return ``count`` seeds drawn from ``random_state`` (fresh entropy when ``None``).

    Examples
    --------
    >>> derive_seeds(0, 2) == derive_seeds(0, 2)
    True
    """
    rng = np.random.default_rng(random_state)
    return [int(s) for s in rng.integers(0, 2**62, size=count)]
