"""The network of :class:`~fairlatent.models.vae.TabularVAE` and its KL term."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from fairlatent.models.nn import make_mlp

__all__ = ["VAENetwork", "kl_divergence", "mmd_penalty", "random_features"]


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
    n_groups : int, default 0
        Conditional decoder: the number of groups whose one-hot code the decoder reads next to
        the latent code (``0``: the plain VAE, the decoder reads the code alone). The encoder
        never sees the group.
    """

    def __init__(
        self,
        data_dim: int,
        hidden_dims: Sequence[int],
        latent_dim: int,
        n_numeric: int,
        n_groups: int = 0,
    ) -> None:
        super().__init__()
        self.n_groups = int(n_groups)
        self.encoder = make_mlp(data_dim, hidden_dims, 2 * latent_dim)
        self.decoder = make_mlp(latent_dim + self.n_groups, tuple(reversed(hidden_dims)), data_dim)
        self.log_sigma = nn.Parameter(torch.full((n_numeric,), math.log(0.1)))

    def decode(self, z: torch.Tensor, groups: torch.Tensor | None = None) -> torch.Tensor:
        """Return the decoder's output for codes ``z`` (and one-hot ``groups`` when conditional)."""
        if self.n_groups:
            if groups is None:
                raise ValueError("this VAE's decoder is conditional: pass the groups' one-hot codes")
            z = torch.cat([z, groups.to(z.dtype)], dim=1)
        return self.decoder(z)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the posterior mean and log-variance of encoded rows ``x``."""
        mu, log_var = self.encoder(x).chunk(2, dim=1)
        return mu, log_var

    def forward(
        self, x: torch.Tensor, noise: torch.Tensor | None, groups: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return ``(logits, mu, log_var)``; ``noise`` draws the code, ``None`` takes its mean.

        ``groups`` (one-hot, one row per row of ``x``) feeds a conditional decoder.
        """
        mu, log_var = self.encode(x)
        z = mu if noise is None else mu + noise * torch.exp(0.5 * log_var)
        return self.decode(z, groups), mu, log_var


def kl_divergence(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """Mean over rows of KL(N(mu, exp(log_var)) || N(0, I))."""
    return 0.5 * (mu.square() + log_var.exp() - 1.0 - log_var).sum(dim=1).mean()


#: Bandwidths of the RBF kernels summed by :func:`mmd_penalty`, as multiples of the latent size.
MMD_BANDWIDTHS = (0.5, 1.0, 2.0)


#: Random Fourier features per bandwidth used by the training loop's MMD estimate.
N_RANDOM_FEATURES = 32


def random_features(
    latent_dim: int, generator: torch.Generator, device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw the random Fourier features of the RBF kernels of :func:`mmd_penalty` (Rahimi & Recht).

    ``N_RANDOM_FEATURES`` frequencies per bandwidth ``b`` (``w ~ N(0, I / (b latent_dim))``) and
    phases ``u ~ U[0, 2 pi)``; ``phi(z) = sqrt(2 / D) cos(z W + u)`` approximates the sum of the
    kernels by a dot product, so the MMD costs O(n D) per batch instead of O(n^2). VFAE uses the
    same device. Drawn once per fit from the training generator (seeded, reproducible).

    Returns
    -------
    weights : Tensor, shape (latent_dim, D)
    phases : Tensor, shape (D,)
    """
    blocks = []
    for bandwidth in MMD_BANDWIDTHS:
        scale = 1.0 / math.sqrt(bandwidth * latent_dim)
        blocks.append(
            torch.randn((latent_dim, N_RANDOM_FEATURES), generator=generator, device=device) * scale
        )
    weights = torch.cat(blocks, dim=1)
    phases = torch.rand((weights.shape[1],), generator=generator, device=device) * (2 * math.pi)
    return weights, phases


def mmd_penalty(
    z: torch.Tensor,
    groups: torch.Tensor,
    features: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Share-weighted squared MMD between each group's latent codes and the batch's (VFAE-style).

    ``sum_g (n_g / n) MMD^2(z_g, z)`` with a sum of RBF kernels (bandwidths
    :data:`MMD_BANDWIDTHS` times the latent size): zero when every group's codes are distributed
    like everyone's. Exact (one ``n x n`` kernel matrix), or, given ``features`` from
    :func:`random_features`, estimated with random Fourier features in O(n D) (what training
    uses: within 1.5x of the plain VAE's cost per epoch). Per-group means are matrix products
    with the one-hot codes, so the cost does not grow with the number of groups.

    Parameters
    ----------
    z : Tensor, shape (n, latent_dim)
        Latent codes of a batch.
    groups : Tensor, shape (n, n_groups)
        One-hot group codes of the same rows.
    features : (weights, phases), optional
        Random Fourier features; ``None``: the exact kernel.

    Returns
    -------
    Tensor
        A scalar.
    """
    g = groups.to(z.dtype)
    counts = g.sum(dim=0)
    n = z.shape[0]
    if features is not None:
        weights, phases = features
        scale = math.sqrt(2.0 * len(MMD_BANDWIDTHS) / weights.shape[1])
        phi = torch.cos(z @ weights + phases) * scale
        group_means = (g.t() @ phi) / counts.clamp(min=1.0)[:, None]
        gap = (group_means - phi.mean(dim=0)).square().sum(dim=1)
        return (gap * (counts / n) * (counts > 0)).sum()
    dim = z.shape[1]
    sq = torch.cdist(z, z).square()
    kernel = torch.exp(-sq / (2.0 * MMD_BANDWIDTHS[0] * dim))
    for bandwidth in MMD_BANDWIDTHS[1:]:
        kernel = kernel + torch.exp(-sq / (2.0 * bandwidth * dim))
    present = counts > 0
    safe = counts.clamp(min=1.0)
    kg = kernel @ g  # (n, G): row i's kernel sum with each group
    within = (g * kg).sum(dim=0) / safe.square()  # mean k(z_g, z_g)
    cross = kg.sum(dim=0) / (safe * n)  # mean k(z_g, z)
    total = kernel.sum() / (n * n)
    mmd = (within - 2.0 * cross + total).clamp(min=0.0)
    return (mmd * (counts / n) * present).sum()
