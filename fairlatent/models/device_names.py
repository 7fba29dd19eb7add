"""Device names, checked without importing torch (so config validation and ``--help`` stay fast)."""

from __future__ import annotations

import re

from fairlatent.exceptions import ConfigError

ERR_UNKNOWN_DEVICE = "unknown device {name!r}; use 'auto', 'cpu', 'cuda', 'cuda:<index>' or 'mps'"
_DEVICE_NAME = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


def check_device_name(name: object) -> str:
    """Return ``name`` normalised (stripped, lower case) if it is a device name, else raise.

    Parameters
    ----------
    name : object
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:<index>"`` or ``"mps"`` (any case).

    Returns
    -------
    str

    Raises
    ------
    ConfigError
        Anything else; whether the device exists is :func:`~fairlatent.models.device.resolve_device`'s
        question.

    Examples
    --------
    >>> check_device_name(" CUDA:1 ")
    'cuda:1'
    """
    text = str(name).strip().lower()
    if not isinstance(name, str) or not _DEVICE_NAME.fullmatch(text):
        raise ConfigError(ERR_UNKNOWN_DEVICE.format(name=name))
    return text
