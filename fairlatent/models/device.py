"""Pick the torch device a model trains on, and move data and work onto it."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import numpy as np
import torch
from torch import nn

from fairlatent.exceptions import ConfigError
from fairlatent.models.device_names import ERR_UNKNOWN_DEVICE

logger = logging.getLogger(__name__)

__all__ = ["autocast", "available_devices", "maybe_compile", "resolve_device", "to_device"]

ERR_NO_CUDA = (
    "device {name!r} was asked for but this torch build sees no CUDA GPU (torch {version}, "
    "CUDA build: {cuda}); install a CUDA build of torch on a machine with an NVIDIA GPU, or use "
    "--device auto / --device cpu"
)
ERR_CUDA_INDEX = (
    "device {name!r} was asked for but only {count} CUDA device(s) are visible; use an index "
    "below {count} or --device auto"
)
ERR_BF16 = "bf16 autocast runs on CUDA or the CPU, not on {device}; pass bf16=False"
ERR_NO_MPS = (
    "device 'mps' was asked for but Apple's Metal backend is not available (needs macOS 12.3+ on "
    "Apple silicon and a torch build with MPS); use --device auto or --device cpu"
)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def available_devices() -> list[str]:
    """List the device names usable on this machine, best first.

    Returns
    -------
    list of str
        Some of ``"cuda"``, ``"mps"`` and always ``"cpu"`` last.

    Examples
    --------
    >>> "cpu" in available_devices()
    True
    """
    names = []
    if torch.cuda.is_available():
        names.append("cuda")
    if _mps_available():
        names.append("mps")
    names.append("cpu")
    return names


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """Turn a device option into a :class:`torch.device`, checking that it exists.

    Parameters
    ----------
    name : str or torch.device, default "auto"
        ``"auto"`` picks ``cuda`` > ``mps`` > ``cpu``; ``"cpu"``, ``"cuda"``, ``"cuda:<index>"`` and
        ``"mps"`` are taken as asked (case-insensitive).

    Returns
    -------
    torch.device
        The device to put models and data on.

    Raises
    ------
    ConfigError
        If the name is unknown or the device is not available, with the fix in the message.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    text = str(name).strip().lower()
    if text == "auto":
        device = torch.device(available_devices()[0])
        logger.debug("device 'auto' resolved to %s", device)
        return device
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError) as exc:
        raise ConfigError(ERR_UNKNOWN_DEVICE.format(name=name)) from exc
    if device.type == "cpu":
        return device
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(
                ERR_NO_CUDA.format(name=text, version=torch.__version__, cuda=torch.version.cuda)
            )
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ConfigError(ERR_CUDA_INDEX.format(name=text, count=count))
        return device
    if device.type == "mps":
        if not _mps_available():
            raise ConfigError(ERR_NO_MPS)
        return device
    raise ConfigError(ERR_UNKNOWN_DEVICE.format(name=name))


def to_device(array: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    """Copy a host array to ``device`` once; through pinned memory (asynchronously) on CUDA.

    On the CPU the array's memory is shared, not copied (``torch.from_numpy``).

    Examples
    --------
    >>> to_device(np.zeros((2, 3), np.float32), torch.device("cpu")).shape
    torch.Size([2, 3])
    """
    tensor = torch.from_numpy(array) if isinstance(array, np.ndarray) else array
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager[Any]:
    """bf16 autocast on ``device`` when ``enabled`` (matrix products in bfloat16), else nothing.

    Raises
    ------
    ConfigError
        ``enabled`` on a device without bf16 autocast (MPS).
    """
    if not enabled:
        return contextlib.nullcontext()
    if device.type not in ("cuda", "cpu"):
        raise ConfigError(ERR_BF16.format(device=device))
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def maybe_compile(module: nn.Module, enabled: bool) -> nn.Module:
    """``torch.compile(module)`` when ``enabled``, else ``module`` (the weights are shared)."""
    if not enabled:
        return module
    return torch.compile(module)  # type: ignore[return-value]
