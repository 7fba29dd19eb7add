"""Span losses of the VAE: the negative log-likelihood of encoded rows under the network output.

:func:`span_losses` / :func:`span_reconstruction_loss` score logits against encoded rows (Gaussian
negative log-likelihood for ``numeric`` spans, cross-entropy for one-hot spans), on the span
operations of :mod:`fairlatent.models.nn`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from fairlatent.encoding.spans import Span
from fairlatent.models.nn import SpanLayout, segment_logsumexp, segment_sum, span_layout

__all__ = ["LOG_SIGMA_MAX", "LOG_SIGMA_MIN", "span_losses", "span_reconstruction_loss"]

LOG_SIGMA_MIN = math.log(0.01)
"""Lower clamp of a learned numeric log standard deviation (sigma >= 0.01)."""
LOG_SIGMA_MAX = 0.0
"""Upper clamp of a learned numeric log standard deviation (sigma <= 1)."""
_EXP_FLOOR = 80.0


def span_losses(
    output: torch.Tensor,
    target: torch.Tensor,
    spans: Sequence[Span],
    *,
    numeric_log_sigma: torch.Tensor | None = None,
) -> torch.Tensor:
    """Per-row, per-span negative log-likelihood of encoded rows under the network output.

    Parameters
    ----------
    output : Tensor, shape (batch, dim)
        Raw network output (pre-activation logits for one-hot spans, values for numeric spans).
    target : Tensor, shape (batch, dim)
        Encoded rows; one-hot blocks may also hold probability vectors (soft targets).
    spans : sequence of Span
        The encoder's spans.
    numeric_log_sigma : Tensor, shape (n_numeric_dims,), optional
        Learned log standard deviation of each numeric dimension (clamped to
        [``LOG_SIGMA_MIN``, ``LOG_SIGMA_MAX``]). ``None``: unit variance.

    Returns
    -------
    Tensor, shape (batch, n_spans)
        Column ``j`` is the loss of ``spans[j]``: ``0.5 * ((x - mu) / sigma) ** 2 + log(sigma)``
        summed over a numeric span's dimensions (the Gaussian NLL without its constant), or the
        cross-entropy of a one-hot span.
    """
    layout = span_layout(spans, output.device, output.dtype)
    parts: list[torch.Tensor] = []
    if layout.numeric_spans:
        residual = output.index_select(1, layout.numeric_index) - target.index_select(
            1, layout.numeric_index
        )
        if numeric_log_sigma is None:
            nll = 0.5 * residual.square()
        else:
            log_sigma = numeric_log_sigma.clamp(LOG_SIGMA_MIN, LOG_SIGMA_MAX)
            nll = 0.5 * (residual * torch.exp(-log_sigma)).square() + log_sigma
        parts.append(nll @ layout.numeric_members)
    if layout.discrete_spans:
        log_norm = segment_logsumexp(output, layout)
        weight = segment_sum(target, layout)
        picked = segment_sum(target * output, layout)
        parts.append(weight * log_norm - picked)
    losses = torch.cat(parts, dim=1)
    if layout.numeric_spans and layout.discrete_spans:
        losses = losses.index_select(1, layout.order)
    return losses


def span_reconstruction_loss(
    output: torch.Tensor,
    target: torch.Tensor,
    spans: Sequence[Span],
    *,
    numeric_log_sigma: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean over rows of the summed span losses.

    Parameters
    ----------
    output, target, spans, numeric_log_sigma
        As for :func:`span_losses`.

    Returns
    -------
    Tensor
        Scalar loss, differentiable with respect to ``output`` (and ``numeric_log_sigma``).

    Examples
    --------
    >>> from fairlatent.encoding import Span
    >>> spans = [Span("x", "numeric", 0, 1), Span("c", "categorical", 1, 2)]
    >>> out = torch.tensor([[1.0, 0.0, 0.0]])
    >>> round(span_reconstruction_loss(out, torch.tensor([[0.0, 1.0, 0.0]]), spans).item(), 4)
    1.1931
    """
    layout = span_layout(spans, output.device, output.dtype)
    if target.requires_grad:  # rare: let autograd handle the gradient to the target as well
        return span_losses(output, target, spans, numeric_log_sigma=numeric_log_sigma).sum(1).mean()
    return _FusedSpanNLL.apply(output, target, numeric_log_sigma, layout)


class _FusedSpanNLL(torch.autograd.Function):
    """Mean summed span loss with a hand-written backward pass.

    Autograd would record ~25 small operations per call; on CPU with a batch of a few hundred
    rows their overhead rivals the network's matrix products. The gradient is analytic: for
    one-hot dimensions ``weight * softmax - target``, for numeric ones ``residual / sigma**2``.
    The target receives no gradient.
    """

    @staticmethod
    def forward(
        ctx: Any,
        output: torch.Tensor,
        target: torch.Tensor,
        log_sigma: torch.Tensor | None,
        layout: SpanLayout,
    ) -> torch.Tensor:
        residual = output - target
        precision = output.new_zeros(layout.dim)
        clamped = None
        if layout.numeric_spans:
            if log_sigma is None:
                numeric_precision = output.new_ones(layout.numeric_index.shape[0])
            else:
                clamped = log_sigma.clamp(LOG_SIGMA_MIN, LOG_SIGMA_MAX)
                numeric_precision = torch.exp(-2.0 * clamped)
            precision.index_copy_(0, layout.numeric_index, numeric_precision)
        total = 0.5 * (residual.square() @ precision)
        expo = summed = weight = None
        if layout.discrete_spans:
            # one shift per row (the largest one-hot logit) instead of one per span: exact as
            # long as every span's largest logit is within 80 of it; beyond that the far span's
            # terms are floored at exp(-80) so nothing underflows (loss approximate there, the
            # gradient still softmax - target)
            masked = output + layout.numeric_fill if layout.numeric_spans else output
            shift = masked.amax(dim=1, keepdim=True)
            expo = torch.exp((output - shift).clamp_min(-_EXP_FLOOR))
            summed = segment_sum(expo, layout)
            weight = segment_sum(target, layout)
            log_norm = torch.log(summed) + shift
            picked = (target * output) @ layout.discrete_mask
            total = total + (weight * log_norm).sum(dim=1) - picked
        loss = total.mean()
        if clamped is not None:
            loss = loss + clamped.sum()
        ctx.layout = layout
        ctx.has_sigma = log_sigma is not None
        ctx.save_for_backward(residual, precision, target, expo, summed, weight, log_sigma)
        return loss

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        residual, precision, target, expo, summed, weight, log_sigma = ctx.saved_tensors
        layout: SpanLayout = ctx.layout
        n_rows = residual.shape[0]
        scale = grad / n_rows
        grad_output = grad_sigma = None
        if ctx.needs_input_grad[0]:
            grad_output = residual * precision
            if expo is not None:
                ratio = (weight / summed) @ layout.discrete_members_t
                grad_output = grad_output + (expo * ratio - target) * layout.discrete_mask
            grad_output = grad_output * scale
        if ctx.has_sigma and ctx.needs_input_grad[2]:
            numeric_residual = residual.index_select(1, layout.numeric_index)
            numeric_precision = precision.index_select(0, layout.numeric_index)
            inside = (log_sigma >= LOG_SIGMA_MIN) & (log_sigma <= LOG_SIGMA_MAX)
            d_sigma = 1.0 - numeric_residual.square().mean(dim=0) * numeric_precision
            grad_sigma = d_sigma * inside * grad
        return grad_output, None, grad_sigma, None
