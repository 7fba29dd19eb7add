from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from fairlatent.encoding import Span
from fairlatent.exceptions import ConfigError
from fairlatent.models import (
    apply_span_activations,
    make_mlp,
    resolve_device,
    span_losses,
    span_reconstruction_loss,
)
from fairlatent.models.nn import (
    ResidualBlock,
    segment_cross_entropy,
    segment_logsumexp,
    segment_softmax,
    segment_sum,
    span_layout,
)

SPANS = [
    Span("x", "numeric", 0, 1),
    Span("c", "categorical", 1, 3),
    Span("y", "numeric", 4, 1),
    Span("y", "mode", 5, 2),
    Span("y", "missing", 7, 2),
]


def encoded_batch(n: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, list]:
    gen = torch.Generator().manual_seed(seed)
    output = torch.randn(n, 9, generator=gen) * 20  # large logits: checks numerical stability
    target = torch.zeros(n, 9)
    target[:, 0] = torch.randn(n, generator=gen)
    target[:, 4] = torch.randn(n, generator=gen)
    codes = []
    for span in [s for s in SPANS if s.is_discrete]:
        code = torch.randint(0, span.width, (n,), generator=gen)
        target[torch.arange(n), span.start + code] = 1.0
        codes.append(code)
    return output, target, codes


def reference(output: torch.Tensor, target: torch.Tensor, codes: list) -> torch.Tensor:
    return torch.stack(
        [
            0.5 * (output[:, 0] - target[:, 0]) ** 2,
            F.cross_entropy(output[:, 1:4], codes[0], reduction="none"),
            0.5 * (output[:, 4] - target[:, 4]) ** 2,
            F.cross_entropy(output[:, 5:7], codes[1], reduction="none"),
            F.cross_entropy(output[:, 7:9], codes[2], reduction="none"),
        ],
        dim=1,
    )


def test_span_losses_match_torch_cross_entropy_and_mse() -> None:
    output, target, codes = encoded_batch()
    output.requires_grad_()
    losses = span_losses(output, target, SPANS)
    expected = reference(output, target, codes)
    torch.testing.assert_close(losses, expected, atol=1e-4, rtol=1e-5)
    total = span_reconstruction_loss(output, target, SPANS)
    torch.testing.assert_close(total, expected.sum(dim=1).mean())
    (grad,) = torch.autograd.grad(total, output)
    (expected_grad,) = torch.autograd.grad(expected.sum(dim=1).mean(), output)
    torch.testing.assert_close(grad, expected_grad)


def test_learned_sigma_gaussian_nll() -> None:
    output, target, _ = encoded_batch()
    log_sigma = torch.tensor([-1.0, -9.0])  # the second is clamped to log(0.01)
    losses = span_losses(output, target, SPANS, numeric_log_sigma=log_sigma)
    sigma0 = torch.exp(torch.tensor(-1.0))
    expected0 = 0.5 * ((output[:, 0] - target[:, 0]) / sigma0) ** 2 - 1.0
    torch.testing.assert_close(losses[:, 0], expected0)
    torch.testing.assert_close(
        span_reconstruction_loss(output, target, SPANS, numeric_log_sigma=log_sigma),
        losses.sum(dim=1).mean(),
    )


def test_activations() -> None:
    output, _, _ = encoded_batch()
    activated = apply_span_activations(output, SPANS)
    torch.testing.assert_close(activated[:, 0], output[:, 0])
    for span in SPANS:
        if span.is_discrete:
            torch.testing.assert_close(activated[:, span.slice].sum(dim=1), torch.ones(16))
    first = apply_span_activations(
        output, SPANS, gumbel_tau=0.2, generator=torch.Generator().manual_seed(3)
    )
    second = apply_span_activations(
        output, SPANS, gumbel_tau=0.2, generator=torch.Generator().manual_seed(3)
    )
    assert torch.equal(first, second) and torch.isfinite(first).all()
    assert not torch.allclose(first, activated)


def test_gumbel_draws_follow_the_softmax() -> None:
    spans = [Span("c", "categorical", 0, 3)]
    logits = torch.tensor([[2.0, 0.0, 0.0]]).repeat(20_000, 1)
    draws = apply_span_activations(
        logits, spans, gumbel_tau=0.1, generator=torch.Generator().manual_seed(0)
    )
    freq = torch.bincount(draws.argmax(dim=1), minlength=3) / 20_000
    torch.testing.assert_close(freq, torch.softmax(logits[0], 0), atol=0.02, rtol=0)


def test_segment_operations_match_per_span_torch() -> None:
    output, _, codes = encoded_batch()
    layout = span_layout(SPANS)
    discrete = [s for s in SPANS if s.is_discrete]
    softmax = segment_softmax(output, layout)
    for j, span in enumerate(discrete):
        block = output[:, span.slice]
        torch.testing.assert_close(softmax[:, span.slice], torch.softmax(block, dim=1))
        for transpose in (True, False):
            lse = segment_logsumexp(output, layout, transpose=transpose)
            torch.testing.assert_close(lse[:, j], torch.logsumexp(block, dim=1))
            total = segment_sum(output, layout, transpose=transpose)
            torch.testing.assert_close(total[:, j], block.sum(dim=1))
    assert (softmax[:, [0, 4]] == 0).all()
    free = torch.stack(codes, dim=1)
    free[::2, 1] = -1  # every other row leaves the second span free
    ce = segment_cross_entropy(output, free, layout)
    for j, span in enumerate(discrete):
        expected = F.cross_entropy(output[:, span.slice], codes[j], reduction="none")
        expected = torch.where(free[:, j] >= 0, expected, 0.0)
        torch.testing.assert_close(ce[:, j], expected)


def test_layout_of_a_span_subset_in_any_order() -> None:
    """The GAN's condition penalty scores some one-hot spans, in its own order, of a wider row."""
    output, _, codes = encoded_batch()
    subset = [SPANS[3], SPANS[1]]  # the mode span, then the categorical one
    layout = span_layout(subset, dim=9)
    ce = segment_cross_entropy(output, torch.stack([codes[1], codes[0]], dim=1), layout)
    torch.testing.assert_close(
        ce[:, 0], F.cross_entropy(output[:, 5:7], codes[1], reduction="none")
    )
    torch.testing.assert_close(
        ce[:, 1], F.cross_entropy(output[:, 1:4], codes[0], reduction="none")
    )


def test_building_blocks() -> None:
    net = make_mlp(5, (8, 8), 3, batch_norm=True, dropout=0.1)
    assert net(torch.zeros(4, 5)).shape == (4, 3)
    assert ResidualBlock(5, 7)(torch.zeros(4, 5)).shape == (4, 12)
    with pytest.raises(ValueError):
        make_mlp(5, (8,), 3, activation="swish2")


def test_resolve_device() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in {"cpu", "cuda", "mps"}
    with pytest.raises(ConfigError, match="unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="--device"):
            resolve_device("cuda")
    else:
        with pytest.raises(ConfigError, match="index"):
            resolve_device(f"cuda:{torch.cuda.device_count()}")
