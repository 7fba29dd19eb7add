"""The network of :class:`~fairlatent.models.vae.TabularVAE` and its KL term."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from fairlatent.models.nn import make_mlp

__all__ = ["VAENetwork", "kl_divergence"]


class VAENetwork(nn.Module):
    """Encoder and decoder MLPs plus the learned numeric log standard deviations.

    Parameters
    ----------
    data_dim : int
        Encoded width.
    hidden_dims : sequence of int
        Hidden widths of the encoder; the decoder uses them in reverse.
    latent_dim : int
        Size of the latent code.
    n_numeric : int
        Number of numeric encoded dimensions (one learned log standard deviation each).
    """

    def __init__(
        self, data_dim: int, hidden_dims: Sequence[int], latent_dim: int, n_numeric: int
    ) -> None:
        super().__init__()
        self.encoder = make_mlp(data_dim, hidden_dims, 2 * latent_dim)
        self.decoder = make_mlp(latent_dim, tuple(reversed(hidden_dims)), data_dim)
        self.log_sigma = nn.Parameter(torch.full((n_numeric,), math.log(0.1)))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the posterior mean and log-variance of encoded rows ``x``."""
        mu, log_var = self.encoder(x).chunk(2, dim=1)
        return mu, log_var

    def forward(
        self, x: torch.Tensor, noise: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return ``(logits, mu, log_var)``; ``noise`` draws the code, ``None`` takes its mean."""
        mu, log_var = self.encode(x)
        z = mu if noise is None else mu + noise * torch.exp(0.5 * log_var)
        return self.decoder(z), mu, log_var


def kl_divergence(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """Mean over rows of KL(N(mu, exp(log_var)) || N(0, I))."""
    return 0.5 * (mu.square() + log_var.exp() - 1.0 - log_var).sum(dim=1).mean()
