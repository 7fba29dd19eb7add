"""Network building blocks and the span operations shared by the VAE and the GAN.

The encoder's span list (:class:`~fairlatent.encoding.spans.Span`) is the only contract between the
data and the networks: a network outputs one raw value per encoded dimension ("logits"). Everything
that works span by span lives here, once:

* :class:`SpanLayout` / :func:`span_layout`: index tensors of a span list, cached per (spans,
  device, dtype, width);
* segment operations over the one-hot spans, dense over all spans (no Python loop per span, no
  scatter in the backward pass): :func:`segment_max`, :func:`segment_sum`,
  :func:`segment_logsumexp`, :func:`segment_softmax` and :func:`segment_cross_entropy`;
* :func:`gumbel_noise` and :func:`apply_span_activations`, which turns logits into rows in the
  encoded layout (identity for ``numeric`` spans, softmax or gumbel-softmax for every one-hot
  span).

The span losses of the VAE (:mod:`fairlatent.models.losses`) are built on these.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch
from torch import nn

from fairlatent.encoding.spans import Span

__all__ = [
    "ResidualBlock",
    "SpanLayout",
    "apply_span_activations",
    "gumbel_noise",
    "make_mlp",
    "segment_cross_entropy",
    "segment_logsumexp",
    "segment_max",
    "segment_softmax",
    "segment_sum",
    "span_layout",
]

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
}


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
        The encoder's spans, in order, covering ``0 .. dim`` contiguously; or, with ``dim``,
        any one-hot spans of a wider layout in any order (e.g. the spans a GAN conditions on).
    device : torch.device
        Device of the tensors the layout will index.
    dtype : torch.dtype, default torch.float32
        Floating dtype of the 0/1 matrices (that of the network output).
    dim : int, optional
        Encoded width; ``None``: the end of the last span.

    Attributes
    ----------
    dim : int
        Encoded width.
    numeric_index : LongTensor, shape (n_numeric_dims,)
        Encoded positions of all ``numeric`` dimensions.
    numeric_members : Tensor, shape (n_numeric_dims, n_numeric_spans)
        0/1 matrix summing numeric dimensions into their span.
    discrete_members : Tensor, shape (dim, n_discrete_spans)
        0/1 matrix summing one-hot dimensions into their span.
    discrete_members_t : Tensor, shape (n_discrete_spans, dim)
        Contiguous transpose of ``discrete_members``.
    discrete_mask : Tensor, shape (dim,)
        1 on one-hot dimensions, 0 elsewhere; ``discrete_is_member`` is its boolean form.
    numeric_mask : Tensor, shape (dim,)
        ``1 - discrete_mask``.
    numeric_fill : Tensor, shape (dim,)
        0 on one-hot dimensions, ``-inf`` elsewhere.
    discrete_gather : LongTensor, shape (n_discrete_spans * max_width,)
        Dimensions of every one-hot span, padded with ``dim`` (a ``-inf`` column appended by
        :func:`segment_max`).
    discrete_starts : LongTensor, shape (n_discrete_spans,)
        First dimension of every one-hot span.
    order : LongTensor, shape (n_spans,)
        Permutation that puts ``[numeric spans..., discrete spans...]`` back into span order.
    numeric_spans, discrete_spans : tuple of Span
        The spans of each family, in order.
    """

    def __init__(
        self,
        spans: tuple[Span, ...],
        device: torch.device,
        dtype: torch.dtype = torch.float32,
        dim: int | None = None,
    ) -> None:
        if not spans:
            raise ValueError("the span list is empty")
        self.spans = spans
        self.dim = max(s.stop for s in spans) if dim is None else int(dim)
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
        n_discrete = len(self.discrete_spans)
        width = max((s.width for s in self.discrete_spans), default=1)
        gather = torch.full((n_discrete, width), self.dim, dtype=torch.long)
        d_members = torch.zeros(self.dim, n_discrete, dtype=dtype)
        for j, s in enumerate(self.discrete_spans):
            gather[j, : s.width] = torch.arange(s.start, s.stop)
            d_members[s.start : s.stop, j] = 1.0
        self.gather_shape = (n_discrete, width)
        self.discrete_gather = gather.reshape(-1).to(device)
        self.discrete_starts = torch.tensor(
            [s.start for s in self.discrete_spans], dtype=torch.long, device=device
        )
        self.discrete_members = d_members.to(device)
        self.discrete_members_t = d_members.T.contiguous().to(device)
        self.discrete_mask = d_members.sum(dim=1).to(device)
        self.discrete_is_member = self.discrete_mask.bool()
        self.numeric_mask = 1.0 - self.discrete_mask
        self.numeric_fill = torch.where(self.discrete_mask.cpu() > 0, 0.0, float("-inf")).to(
            device=device, dtype=dtype
        )
        position = {s: i for i, s in enumerate(spans)}
        grouped = [position[s] for s in (*self.numeric_spans, *self.discrete_spans)]
        self.order = torch.argsort(torch.tensor(grouped, dtype=torch.long)).to(device)


@functools.lru_cache(maxsize=64)
def _cached_layout(
    spans: tuple[Span, ...], device: torch.device, dtype: torch.dtype, dim: int | None
) -> SpanLayout:
    return SpanLayout(spans, device, dtype, dim)


def span_layout(
    spans: Sequence[Span],
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    dim: int | None = None,
) -> SpanLayout:
    """Return the (cached) :class:`SpanLayout` of ``spans`` on ``device``.

    Parameters
    ----------
    spans : sequence of Span
        The encoder's spans (or, with ``dim``, some one-hot spans of a layout of width ``dim``).
    device : torch.device or str, default "cpu"
        Device of the tensors to index.
    dtype : torch.dtype, default torch.float32
        Floating dtype of the network output.
    dim : int, optional
        Encoded width; ``None``: the end of the last span.

    Returns
    -------
    SpanLayout
        Index tensors; the same object for equal span lists, devices, dtypes and widths.
    """
    return _cached_layout(tuple(spans), torch.device(device), dtype, dim)


# --------------------------------------------------------------------------------------------------
# segment operations over the one-hot spans: (rows, dim) -> (rows, n_discrete_spans) or back
# --------------------------------------------------------------------------------------------------


def segment_max(x: torch.Tensor, layout: SpanLayout) -> torch.Tensor:
    """Maximum of every one-hot span of ``x`` (rows, dim): shape (rows, n_discrete), no gradient.

    Taken from a padded gather, so nothing scatters. The maximum is exact, so it serves as the
    shift that keeps ``exp`` finite in :func:`segment_logsumexp` and :func:`segment_softmax`.
    """
    with torch.no_grad():
        pad = x.new_full((x.shape[0], 1), float("-inf"))
        blocks = torch.cat([x, pad], dim=1).index_select(1, layout.discrete_gather)
        return blocks.view(x.shape[0], *layout.gather_shape).amax(dim=2)


def segment_sum(
    values: torch.Tensor, layout: SpanLayout, *, transpose: bool = True
) -> torch.Tensor:
    """Sum (rows, dim) values over every one-hot span: shape (rows, n_discrete).

    Parameters
    ----------
    values : Tensor, shape (rows, dim)
        Values; those outside the one-hot spans must be finite (they are multiplied by 0).
    layout : SpanLayout
        The layout.
    transpose : bool, default True
        ``True``: ``(members.T @ values.T).T``, which BLAS runs several times faster for this
        skinny product; ``False``: ``values @ members``. The two orders of the same sums can
        differ in the last bit (MKL sums a span in another order for a few row counts, e.g.
        1-3 rows), so each model keeps the one it was trained with: the VAE's losses use
        ``True``, the GAN's activations and condition penalty ``False``.

    Returns
    -------
    Tensor, shape (rows, n_discrete)
    """
    if transpose:
        return (layout.discrete_members_t @ values.T).T
    return values @ layout.discrete_members


def _spread(per_span: torch.Tensor, layout: SpanLayout) -> torch.Tensor:
    """Give every dimension of a one-hot span its span's value (0 elsewhere); exact."""
    return per_span @ layout.discrete_members_t


def _shifted_exp(x: torch.Tensor, layout: SpanLayout, span_max: torch.Tensor) -> torch.Tensor:
    """``exp(x - max of its span)`` on the one-hot dimensions, 0 elsewhere."""
    shift = _spread(span_max, layout)
    return torch.exp(torch.where(layout.discrete_is_member, x - shift, 0.0)) * layout.discrete_mask


def segment_logsumexp(
    x: torch.Tensor, layout: SpanLayout, *, transpose: bool = True
) -> torch.Tensor:
    """Log-sum-exp of every one-hot span of ``x`` (rows, dim): shape (rows, n_discrete).

    ``transpose`` chooses the orientation of the sum (see :func:`segment_sum`).
    """
    span_max = segment_max(x, layout)
    expo = _shifted_exp(x, layout, span_max)
    return torch.log(segment_sum(expo, layout, transpose=transpose)) + span_max


def segment_softmax(x: torch.Tensor, layout: SpanLayout) -> torch.Tensor:
    """Softmax within every one-hot span of ``x`` (rows, dim); 0 outside those spans."""
    e = _shifted_exp(x, layout, segment_max(x, layout))
    total = _spread(segment_sum(e, layout, transpose=False), layout)
    return e / (total + layout.numeric_mask)


def segment_cross_entropy(
    logits: torch.Tensor, codes: torch.Tensor, layout: SpanLayout
) -> torch.Tensor:
    """Cross-entropy of every one-hot span of ``logits`` against target codes.

    Parameters
    ----------
    logits : Tensor, shape (rows, dim)
        Raw output.
    codes : LongTensor, shape (rows, n_discrete)
        Target category of each span (0-based within the span); ``-1`` leaves the span free.

    Returns
    -------
    Tensor, shape (rows, n_discrete)
        ``logsumexp(span) - logits[target]``, 0 where the span is free.
    """
    active = codes >= 0
    picked = logits.gather(1, layout.discrete_starts + codes.clamp_min(0))
    ce = segment_logsumexp(logits, layout, transpose=False) - picked
    return ce * active


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
    ``missing``) gets a softmax, or a gumbel-softmax when ``gumbel_tau`` is given. Dense over all
    spans (:func:`segment_softmax`), no Python loop per span.

    Parameters
    ----------
    logits : Tensor, shape (batch, dim)
        Raw output, one value per encoded dimension.
    spans : sequence of Span
        The encoder's spans.
    gumbel_tau : float, optional
        Temperature of the gumbel-softmax (the CTGAN paper uses 0.2). ``None``: plain softmax.
    generator : torch.Generator, optional
        Source of the gumbel noise (on ``logits.device``), drawn for the whole (batch, dim) shape;
        ``None`` uses torch's global generator.

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
    layout = span_layout(spans, logits.device, logits.dtype)
    if not layout.discrete_spans:
        return logits
    x = logits
    if gumbel_tau is not None:
        noise = gumbel_noise(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        x = (x + noise) / gumbel_tau
    return logits * layout.numeric_mask + segment_softmax(x, layout)
