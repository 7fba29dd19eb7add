"""Honest conditional sampling for :class:`~fairlatent.models.gan.TabularGAN`.

:func:`draw_rows` feeds the generator conditional vectors drawn by frequency, turns every one-hot
span into a draw from its softmax (gumbel-max) and, under a condition, keeps only the rows whose
conditioned spans hold the asked codes, generating further batches until enough rows are
collected or the batch budget is spent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from fairlatent.encoding import Span
from fairlatent.exceptions import FairlatentError
from fairlatent.models.gan.conditions import condition_spans
from fairlatent.models.nn import gumbel_noise, span_layout

__all__ = ["draw_rows"]

_SAMPLE_CHUNK_MIN = 1_024
_SAMPLE_CHUNK_MAX = 65_536

ERR_UNREACHABLE = (
    "could not generate {n} rows with {condition!r}: after {tries} batches ({generated} rows) "
    "only {accepted} satisfied the condition (acceptance rate {rate:.2%}). The generator has not "
    "learned this cell; train longer, condition on fewer columns, or use a cell with more "
    "training rows"
)


def draw_rows(
    generator: nn.Module,
    spans: Sequence[Span],
    vectors: np.ndarray,
    probabilities: np.ndarray,
    resolved: Mapping[str, int],
    n: int,
    *,
    embedding_dim: int,
    rng: torch.Generator,
    device: torch.device,
    max_tries: int,
    labels: Mapping[str, Any],
) -> tuple[np.ndarray, dict[str, int]]:
    """Generate ``n`` encoded rows whose conditioned spans hold the ``resolved`` codes.

    Parameters
    ----------
    generator : torch.nn.Module
        The fitted generator (put in eval mode).
    spans : sequence of Span
        The encoder's spans.
    vectors : ndarray of float32, shape (k, cond_dim)
        Conditional vectors to draw from, with ``probabilities`` (float, shape (k,)).
    probabilities : ndarray, shape (k,)
        Probability of each vector.
    resolved : mapping of str to int
        Code each conditioned column must hold (empty: no rejection).
    n : int
        Number of rows.
    embedding_dim : int
        Width of the generator's noise input.
    rng : torch.Generator
        Source of the condition draws, noise and gumbel draws (on ``device``).
    device : torch.device
        Device of the generator.
    max_tries : int
        Generation batches allowed.
    labels : mapping
        The condition as ``{column: value}``, for the error message.

    Returns
    -------
    rows : ndarray of float32, shape (n, dim)
        Encoded rows (one-hot spans hold gumbel-perturbed logits: their argmax is the draw).
    stats : dict
        ``tries``, ``generated`` and ``accepted`` (rows that satisfied the condition).

    Raises
    ------
    FairlatentError
        If ``max_tries`` batches did not yield ``n`` rows satisfying the condition.
    """
    cond_bank = torch.from_numpy(vectors).to(device)
    probs = torch.from_numpy(np.asarray(probabilities, dtype=np.float32)).to(device)

    check_spans = condition_spans(spans, list(resolved))
    check_gather = [torch.arange(s.start, s.stop, device=device) for s in check_spans]
    check_codes = list(resolved.values())

    gen = generator
    gen.eval()
    layout = span_layout(spans, device)
    discrete_mask = layout.discrete_mask
    kept: list[torch.Tensor] = []
    collected = tries = generated = matched = 0
    rate = 1.0
    emb = int(embedding_dim)
    with torch.inference_mode():
        while collected < n:
            if tries >= max_tries:
                raise FairlatentError(
                    ERR_UNREACHABLE.format(
                        n=n,
                        condition=dict(labels),
                        tries=tries,
                        generated=generated,
                        accepted=matched,
                        rate=matched / max(generated, 1),
                    )
                )
            need = n - collected
            chunk = int(min(_SAMPLE_CHUNK_MAX, max(_SAMPLE_CHUNK_MIN, 1.2 * need / rate)))
            if not resolved:
                chunk = min(chunk, need)
            pick = torch.multinomial(probs, chunk, replacement=True, generator=rng)
            z = torch.randn((chunk, emb), generator=rng, device=device)
            logits = gen(torch.cat([z, cond_bank.index_select(0, pick)], dim=1))
            # gumbel-max: every one-hot span becomes a draw from its softmax, as in training
            # (the critic judged gumbel-softmax rows); a plain argmax would pile every row of
            # an uncertain span onto its most likely category
            noise = gumbel_noise(logits.shape, generator=rng, device=device)
            logits = logits + noise * discrete_mask
            ok = torch.ones(chunk, dtype=torch.bool, device=device)
            for gather, code in zip(check_gather, check_codes, strict=True):
                ok &= logits.index_select(1, gather).argmax(dim=1) == code
            accepted = logits[ok] if resolved else logits
            tries += 1
            generated += chunk
            matched += int(accepted.shape[0])
            kept.append(accepted[:need])
            collected += min(int(accepted.shape[0]), need)
            rate = max(matched / generated, 1e-3)
    empty = np.zeros((0, layout.dim), dtype=np.float32)
    rows = torch.cat(kept).cpu().numpy() if kept else empty
    return rows, {"tries": tries, "generated": generated, "accepted": matched}
