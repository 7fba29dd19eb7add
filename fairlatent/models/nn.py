"""Network building blocks and the span-aware activations and losses shared by the VAE and GAN.

The encoder's span list (:class:`~fairlatent.encoding.spans.Span`) is the only contract between the
data and the networks: a network outputs one raw value per encoded dimension ("logits"), and

* :func:`apply_span_activations` turns logits into rows in the encoded layout (identity for
  ``numeric`` spans, softmax or gumbel-softmax for every one-hot span);
* :func:`span_losses` / :func:`span_reconstruction_loss` score logits against encoded rows
  (Gaussian negative log-likelihood for ``numeric`` spans, cross-entropy for one-hot spans).

Index tensors derived from a span list are cached per (spans, device), so calling these helpers in
a training loop costs no Python-side set-up after the first step.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from fairlatent.encoding.spans import Span

__all__ = [
    "ResidualBlock",
    "SpanLayout",
    "apply_span_activations",
    "make_mlp",
    "span_layout",
    "span_losses",
    "span_reconstruction_loss",
]

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
}

LOG_SIGMA_MIN = math.log(0.01)
"""Lower clamp of a learned numeric log standard deviation (sigma >= 0.01)."""
LOG_SIGMA_MAX = 0.0
"""Upper clamp of a learned numeric log standard deviation (sigma <= 1)."""
_EXP_FLOOR = 80.0


def make_mlp(
    in_features: int,
    hidden_dims: Sequence[int],
    out_features: int,
    *,
    activation: str = "relu",
    batch_norm: bool = False,
    dropout: float = 0.0,
) -> nn.Sequential:
    """Build an MLP: ``Linear -> [BatchNorm] -> act -> [Dropout] -> ... -> Linear``.

    Parameters
    ----------
    in_features : int
        Input width.
    hidden_dims : sequence of int
        Width of each hidden layer (may be empty: a single linear map).
    out_features : int
        Output width; the last layer is linear, without activation.
    activation : {"relu", "leaky_relu", "gelu", "tanh", "silu"}, default "relu"
        Hidden-layer activation.
    batch_norm : bool, default False
        Insert ``BatchNorm1d`` after each hidden linear layer.
    dropout : float, default 0.0
        Dropout probability after each hidden activation (0 = none).

    Returns
    -------
    torch.nn.Sequential
        The network (weights initialised from torch's global generator: build it inside
        ``torch.random.fork_rng()`` with a manual seed for reproducible weights).

    Examples
    --------
    >>> net = make_mlp(10, (32, 32), 4)
    >>> net(torch.zeros(2, 10)).shape
    torch.Size([2, 4])
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = []
    width = int(in_features)
    for hidden in hidden_dims:
        layers.append(nn.Linear(width, int(hidden)))
        if batch_norm:
            layers.append(nn.BatchNorm1d(int(hidden)))
        layers.append(_ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = int(hidden)
    layers.append(nn.Linear(width, int(out_features)))
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """``Linear -> BatchNorm1d -> ReLU`` whose output is concatenated to its input.

    The output width is ``in_features + out_features`` (the residual generator block of the CTGAN
    paper).

    Parameters
    ----------
    in_features : int
        Input width.
    out_features : int
        Width added by the block.

    Examples
    --------
    >>> ResidualBlock(8, 16)(torch.zeros(4, 8)).shape
    torch.Size([4, 24])
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.norm = nn.BatchNorm1d(out_features)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block.

        Parameters
        ----------
        x : Tensor, shape (batch, in_features)
            Input.

        Returns
        -------
        Tensor, shape (batch, in_features + out_features)
            ``cat([act(norm(linear(x))), x])``.
        """
        return torch.cat([self.act(self.norm(self.linear(x))), x], dim=1)


class SpanLayout:
    """Index tensors derived from a span list, on one device.

    Parameters
    ----------
    spans : tuple of Span
        The encoder's spans, in order, covering ``0 .. dim`` contiguously.
    device : torch.device
        Device of the tensors the layout will index.
    dtype : torch.dtype, default torch.float32
        Floating dtype of the 0/1 matrices (that of the network output).

    Attributes
    ----------
    dim : int
        Encoded width.
    numeric_index : LongTensor, shape (n_numeric_dims,)
        Encoded positions of all ``numeric`` dimensions.
    numeric_members : Tensor, shape (n_numeric_dims, n_numeric_spans)
        0/1 matrix summing numeric dimensions into their span.
    segment : LongTensor, shape (dim,)
        Index of the one-hot span each encoded dimension belongs to (numeric dimensions get the
        extra index ``n_discrete_spans``).
    discrete_members : Tensor, shape (dim, n_discrete_spans)
        0/1 matrix summing one-hot dimensions into their span.
    discrete_members_t : Tensor, shape (n_discrete_spans, dim)
        Contiguous transpose of ``discrete_members``.
    discrete_mask : Tensor, shape (dim,)
        1 on one-hot dimensions, 0 on numeric ones.
    numeric_fill : Tensor, shape (dim,)
        0 on one-hot dimensions, ``-inf`` on numeric ones.
    order : LongTensor, shape (n_spans,)
        Permutation that puts ``[numeric spans..., discrete spans...]`` back into span order.
    numeric_spans, discrete_spans : tuple of Span
        The spans of each family, in order.
    """

    def __init__(
        self, spans: tuple[Span, ...], device: torch.device, dtype: torch.dtype = torch.float32
    ) -> None:
        if not spans:
            raise ValueError("the span list is empty")
        self.spans = spans
        self.dim = max(s.stop for s in spans)
        self.numeric_spans = tuple(s for s in spans if not s.is_discrete)
        self.discrete_spans = tuple(s for s in spans if s.is_discrete)
        numeric_dims = [i for s in self.numeric_spans for i in range(s.start, s.stop)]
        self.numeric_index = torch.tensor(numeric_dims, dtype=torch.long, device=device)
        members = torch.zeros(len(numeric_dims), len(self.numeric_spans), dtype=dtype)
        row = 0
        for j, s in enumerate(self.numeric_spans):
            members[row : row + s.width, j] = 1.0
            row += s.width
        self.numeric_members = members.to(device)
        segment = torch.full((self.dim,), len(self.discrete_spans), dtype=torch.long)
        d_members = torch.zeros(self.dim, len(self.discrete_spans), dtype=dtype)
        for j, s in enumerate(self.discrete_spans):
            segment[s.start : s.stop] = j
            d_members[s.start : s.stop, j] = 1.0
        self.segment = segment.to(device)
        self.discrete_members = d_members.to(device)
        self.discrete_members_t = d_members.T.contiguous().to(device)
        self.discrete_mask = d_members.sum(dim=1).to(device)
        self.numeric_fill = torch.where(self.discrete_mask.cpu() > 0, 0.0, float("-inf")).to(
            device=device, dtype=dtype
        )
        position = {s: i for i, s in enumerate(spans)}
        grouped = [position[s] for s in (*self.numeric_spans, *self.discrete_spans)]
        self.order = torch.argsort(torch.tensor(grouped, dtype=torch.long)).to(device)


@functools.lru_cache(maxsize=64)
def _cached_layout(spans: tuple[Span, ...], device: torch.device, dtype: torch.dtype) -> SpanLayout:
    return SpanLayout(spans, device, dtype)


def span_layout(
    spans: Sequence[Span],
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> SpanLayout:
    """Return the (cached) :class:`SpanLayout` of ``spans`` on ``device``.

    Parameters
    ----------
    spans : sequence of Span
        The encoder's spans.
    device : torch.device or str, default "cpu"
        Device of the tensors to index.
    dtype : torch.dtype, default torch.float32
        Floating dtype of the network output.

    Returns
    -------
    SpanLayout
        Index tensors; the same object for equal span lists, devices and dtypes.
    """
    return _cached_layout(tuple(spans), torch.device(device), dtype)


def _segment_logsumexp(output: torch.Tensor, layout: SpanLayout) -> torch.Tensor:
    """Log-sum-exp of every one-hot span of ``output``, shape (batch, n_discrete_spans).

    The per-span maximum is a constant shift (no gradient flows through it), so the whole
    computation stays on (batch, dim) tensors: one scatter, one exp and one matrix product.
    """
    n_rows, n_spans = output.shape[0], len(layout.discrete_spans)
    with torch.no_grad():
        shift = output.new_full((n_rows, n_spans + 1), float("-inf"))
        shift.scatter_reduce_(1, layout.segment.expand(n_rows, -1), output, reduce="amax")
    expo = torch.exp(output - shift.index_select(1, layout.segment))
    return torch.log(_segment_sum(expo, layout)) + shift[:, :n_spans]


def _segment_sum(values: torch.Tensor, layout: SpanLayout) -> torch.Tensor:
    """Sum (batch, dim) values over every one-hot span: shape (batch, n_discrete_spans).

    ``(members.T @ values.T).T`` rather than ``values @ members``: BLAS handles the skinny
    product several times faster in this orientation.
    """
    return (layout.discrete_members_t @ values.T).T


def gumbel_noise(
    shape: Sequence[int] | torch.Size,
    *,
    generator: torch.Generator | None,
    device: torch.device | str,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Draw standard Gumbel noise ``-log(-log(U))``, clamped so that it stays finite.

    ``argmax(logits + gumbel_noise(...))`` over a one-hot span is an exact draw from
    ``softmax(logits)`` (the gumbel-max trick); ``softmax((logits + noise) / tau)`` is the
    gumbel-softmax relaxation.

    Parameters
    ----------
    shape : sequence of int
        Shape of the noise.
    generator : torch.Generator, optional
        Source of the uniforms (on ``device``); ``None`` uses torch's global generator.
    device : torch.device or str
        Device of the result.
    dtype : torch.dtype, default torch.float32
        Floating dtype of the result.

    Returns
    -------
    Tensor
        Noise of the given shape.
    """
    uniform = torch.rand(tuple(shape), generator=generator, device=device, dtype=dtype)
    tiny = torch.finfo(dtype).tiny
    return -torch.log((-torch.log(uniform.clamp_min(tiny))).clamp_min(tiny))


def apply_span_activations(
    logits: torch.Tensor,
    spans: Sequence[Span],
    *,
    gumbel_tau: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Turn raw network output into rows in the encoded layout.

    ``numeric`` spans pass through unchanged; every one-hot span (``categorical``, ``mode``,
    ``missing``) gets a softmax, or a gumbel-softmax when ``gumbel_tau`` is given.

    Parameters
    ----------
    logits : Tensor, shape (batch, dim)
        Raw output, one value per encoded dimension.
    spans : sequence of Span
        The encoder's spans.
    gumbel_tau : float, optional
        Temperature of the gumbel-softmax (the CTGAN paper uses 0.2). ``None``: plain softmax.
    generator : torch.Generator, optional
        Source of the gumbel noise (on ``logits.device``); ``None`` uses torch's global generator.

    Returns
    -------
    Tensor, shape (batch, dim)
        Activated rows, differentiable with respect to ``logits``.

    Examples
    --------
    >>> from fairlatent.encoding import Span
    >>> spans = [Span("x", "numeric", 0, 1), Span("c", "categorical", 1, 2)]
    >>> apply_span_activations(torch.tensor([[0.5, 0.0, 0.0]]), spans)
    tensor([[0.5000, 0.5000, 0.5000]])
    """
    pieces: list[torch.Tensor] = []
    for span in spans:
        block = logits[:, span.start : span.stop]
        if span.is_discrete:
            if gumbel_tau is not None:
                gumbel = gumbel_noise(
                    block.shape, generator=generator, device=block.device, dtype=block.dtype
                )
                block = (block + gumbel) / gumbel_tau
            block = torch.softmax(block, dim=1)
        pieces.append(block)
    return torch.cat(pieces, dim=1)


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
        log_norm = _segment_logsumexp(output, layout)
        weight = _segment_sum(target, layout)
        picked = _segment_sum(target * output, layout)
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
    """Mean over rows of the summed span losses (see :func:`span_losses`).

    Parameters
    ----------
    output : Tensor, shape (batch, dim)
        Raw network output.
    target : Tensor, shape (batch, dim)
        Encoded rows.
    spans : sequence of Span
        The encoder's spans.
    numeric_log_sigma : Tensor, optional
        Learned numeric log standard deviations; ``None``: unit variance.

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
    def forward(  # type: ignore[override]
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
            summed = _segment_sum(expo, layout)
            weight = _segment_sum(target, layout)
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
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:  # type: ignore[override]
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
