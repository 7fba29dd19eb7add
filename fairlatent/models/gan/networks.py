"""The networks of :class:`~fairlatent.models.gan.TabularGAN`: residual generator, PacGAN critic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from torch import nn

from fairlatent.models.nn import ResidualBlock

__all__ = ["Critic", "Generator"]

_CRITIC_DROPOUT = 0.5
_LEAKY_SLOPE = 0.2


class Generator(nn.Module):
    """``[z, cond] -> residual blocks -> Linear -> logits`` (one logit per encoded dimension).

    Parameters
    ----------
    in_features : int
        Width of the input: noise plus conditional vector.
    dims : sequence of int
        Widths added by the residual blocks (:class:`~fairlatent.models.nn.ResidualBlock`).
    out_features : int
        Encoded width (one logit per encoded dimension).
    """

    def __init__(self, in_features: int, dims: Sequence[int], out_features: int) -> None:
        super().__init__()
        blocks = []
        width = in_features
        for hidden in dims:
            blocks.append(ResidualBlock(width, int(hidden)))
            width += int(hidden)
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(width, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map noise plus condition to logits.

        The same function as ``head(blocks(x))``, where every block outputs ``cat([new, input])``,
        but each layer multiplies the learned features and ``x`` with separate slices of its
        weight: ``x`` (noise and condition) needs no gradient, so the backward pass never computes
        the part of the input gradient that belongs to it (a quarter of the generator's backward
        matrix work at the default sizes).

        Parameters
        ----------
        x : Tensor, shape (batch, in_features)
            Noise and conditional vector.

        Returns
        -------
        Tensor, shape (batch, out_features)
            Logits.
        """
        hidden: torch.Tensor | None = None  # learned features, newest first
        for module in self.blocks:
            block = cast(ResidualBlock, module)
            new = block.act(block.norm(_split_linear(block.linear, hidden, x)))
            hidden = new if hidden is None else torch.cat([new, hidden], dim=1)
        return _split_linear(self.head, hidden, x)


def _split_linear(layer: nn.Linear, hidden: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
    """``layer(cat([hidden, x], dim=1))`` as two products, one per input block."""
    width = x.shape[1]
    out = torch.addmm(layer.bias, x, layer.weight[:, -width:].t())
    if hidden is not None:
        out = torch.addmm(out, hidden, layer.weight[:, :-width].t())
    return out


class Critic(nn.Module):
    """PacGAN critic: ``pac`` rows drawn under one condition, flattened, plus that condition.

    Every pack shares one conditional vector (the training loop draws one condition per pack), so
    the critic judges ``pac`` samples of the same conditional distribution at once and the
    condition enters its input once per pack rather than once per row. Dropout masks are drawn
    from an explicit :class:`torch.Generator` so that training never reads torch's global random
    state.

    Parameters
    ----------
    data_dim : int
        Encoded width of one row.
    cond_dim : int
        Width of the conditional vector.
    dims : sequence of int
        Hidden widths (LeakyReLU 0.2, dropout 0.5 in training).
    pac : int
        Rows per pack.
    """

    def __init__(self, data_dim: int, cond_dim: int, dims: Sequence[int], pac: int) -> None:
        super().__init__()
        self.pac = pac
        width = data_dim * pac + cond_dim
        self.hidden = nn.ModuleList()
        for hidden in dims:
            self.hidden.append(nn.Linear(width, int(hidden)))
            width = int(hidden)
        self.out = nn.Linear(width, 1)

    def forward(
        self, x: torch.Tensor, cond: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Score packs of rows.

        Parameters
        ----------
        x : Tensor, shape (rows, data_dim)
            Rows, ``pac`` consecutive rows per pack.
        cond : Tensor, shape (rows // pac, cond_dim)
            Conditional vector of each pack.
        generator : torch.Generator, optional
            Source of the dropout masks; given: training (dropout on), ``None``: no dropout.

        Returns
        -------
        Tensor, shape (rows // pac, 1)
            One score per pack.
        """
        h = torch.cat([x.reshape(-1, x.shape[1] * self.pac), cond], dim=1)
        keep = 1.0 - _CRITIC_DROPOUT
        for layer in self.hidden:
            h = nn.functional.leaky_relu(layer(h), _LEAKY_SLOPE)
            if generator is not None:  # inverted dropout; a float mask (a bool one costs a cast)
                mask = torch.rand(h.shape, generator=generator, device=h.device)
                h = h * mask.lt_(keep).mul_(1.0 / keep)
        return self.out(h)
