"""What an audit ran on: package versions, platform, device and time (``metrics.json``'s environment)."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fairlatent.config import AuditConfig
from fairlatent.strategies import STRATEGIES

__all__ = ["NO_NEURAL_DEVICE", "PACKAGES", "device_name", "environment"]

#: The device an audit reports when it trains no neural model.
NO_NEURAL_DEVICE = "cpu (no neural models trained)"
#: Packages whose versions an audit records.
PACKAGES = ("fairlatent", "numpy", "pandas", "scikit-learn", "fairlearn", "torch", "matplotlib")


def device_name(cfg: AuditConfig) -> str:
    """Return the device the audit's neural models train on, or :data:`NO_NEURAL_DEVICE`."""
    if not any(STRATEGIES.get(name).generative for name in cfg.strategies):
        return NO_NEURAL_DEVICE
    from fairlatent.models.device import resolve_device

    return str(resolve_device(cfg.device))


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def environment(device: str, seconds: float) -> dict[str, Any]:
    """Return Python, platform and package versions, the device and the audit's wall time.

    Parameters
    ----------
    device : str
    seconds : float
        Wall time of the audit (rounded to 0.01 s).

    Returns
    -------
    dict
        ``python``, ``platform``, ``packages``, ``device``, ``seconds``.
    """
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {p: _package_version(p) for p in PACKAGES},
        "device": device,
        "seconds": round(seconds, 2),
    }
