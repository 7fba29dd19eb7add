"""Seeds for the independent random streams of one model, derived from its ``random_state``."""

from __future__ import annotations

import numpy as np
import torch


def derive_seeds(random_state: int | None, count: int) -> list[int]:
    """Return ``count`` seeds drawn from ``random_state`` (fresh entropy when ``None``).

    Examples
    --------
    >>> derive_seeds(0, 2) == derive_seeds(0, 2)
    True
    """
    rng = np.random.default_rng(random_state)
    return [int(s) for s in rng.integers(0, 2**62, size=count)]


def sampling_generator(
    stream: np.random.Generator, random_state: int | None, device: torch.device
) -> torch.Generator:
    """Return the torch generator of one ``sample`` call.

    Parameters
    ----------
    stream : numpy.random.Generator
        The model's own sampling stream, advanced by one draw when ``random_state`` is ``None``.
    random_state : int, optional
        Seed of this call; ``None`` continues ``stream``.
    device : torch.device
        Device of the generator.

    Returns
    -------
    torch.Generator
        A seeded generator on ``device``.
    """
    if random_state is None:
        seed = int(stream.integers(0, 2**62))
    else:
        seed = derive_seeds(random_state, 1)[0]
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator
