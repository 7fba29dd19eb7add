"""Generative models (``vae/``; the GAN in ``gan/`` is imported on demand), span ops and devices."""

from fairlatent.models.device import available_devices, resolve_device
from fairlatent.models.losses import span_losses, span_reconstruction_loss
from fairlatent.models.nn import apply_span_activations, make_mlp
from fairlatent.models.vae import TabularVAE

__all__ = [
    "TabularVAE",
    "apply_span_activations",
    "available_devices",
    "make_mlp",
    "resolve_device",
    "span_losses",
    "span_reconstruction_loss",
]
