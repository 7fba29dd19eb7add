"""Training of :class:`~fairlatent.models.vae.TabularVAE`: the ELBO loop with early stopping."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from fairlatent.encoding import Span
from fairlatent.models.device import autocast, maybe_compile
from fairlatent.models.distributed import SINGLE, Distributed
from fairlatent.models.losses import span_reconstruction_loss
from fairlatent.models.training import TrainingRun, epoch_timing
from fairlatent.models.vae.networks import (
    VAENetwork,
    kl_divergence,
    mmd_penalty,
    random_features,
)

logger = logging.getLogger(__name__)

__all__ = ["CHUNK_ROWS", "TrainingSettings", "epoch_metrics", "train", "validation_loss"]

#: Rows per forward pass when no gradient is needed (validation, inference).
CHUNK_ROWS = 16_384


@dataclass(frozen=True)
class TrainingSettings:
    """The estimator parameters the training loop reads (see :class:`TabularVAE`)."""

    epochs: int
    batch_size: int
    latent_dim: int
    beta: float
    learning_rate: float
    patience: int | None
    bf16: bool = False
    compile: bool = False
    n_groups: int = 0
    mmd_weight: float = 0.0


def _adam(module: nn.Module, learning_rate: float) -> torch.optim.Optimizer:
    """Adam, fused into one kernel where this torch build and device support it."""
    try:
        return torch.optim.Adam(module.parameters(), lr=learning_rate, fused=True)
    except (RuntimeError, TypeError, ValueError):  # pragma: no cover - depends on the build
        return torch.optim.Adam(module.parameters(), lr=learning_rate)


def train(
    module: VAENetwork,
    train: torch.Tensor,
    val: torch.Tensor | None,
    spans: Sequence[Span],
    settings: TrainingSettings,
    run: TrainingRun,
) -> int:
    """Train ``module`` in place, with early stopping on ``val``; return the best epoch.

    Everything stays on ``device``: the epoch's permutation is drawn there (a device generator),
    batches are slices of the permuted table, and the losses are summed there and read once per
    epoch (no host synchronisation per step).

    Parameters
    ----------
    module : VAENetwork
        The network (on ``device``).
    train : Tensor, shape (n_train, dim)
        Encoded training rows, on ``device``. With ``settings.n_groups`` (a conditional decoder)
        the last ``n_groups`` columns are each row's one-hot group, which the decoder reads and
        the encoder's latent means are penalised for carrying (``settings.mmd_weight`` times
        :func:`~fairlatent.models.vae.networks.mmd_penalty`).
    val : Tensor, shape (n_val, dim), optional
        Encoded validation rows (same layout); ``None``: no validation, every epoch counts as
        the best.
    spans : sequence of Span
        The encoder's spans.
    settings : TrainingSettings
        Training parameters (``bf16``: the network's forward under bf16 autocast; ``compile``:
        the network through ``torch.compile``).
    run : TrainingRun
        Device; seed of the shuffling and the latent noise; the history, which receives one dict
        per epoch (see :func:`epoch_metrics`), and the callbacks; the data-parallel place: every
        rank draws the same batches and trains on its shard of each.

    Returns
    -------
    int
        The epoch whose weights ``module`` holds at the end (in eval mode).
    """
    device, dist = run.device, run.dist
    batch_size = settings.batch_size
    n_groups = settings.n_groups
    mmd_weight = settings.mmd_weight
    generator = torch.Generator(device=device)
    generator.manual_seed(run.seed)
    rff = None
    if n_groups and mmd_weight:
        rff = random_features(settings.latent_dim, generator, device)
    optimizer = _adam(module, settings.learning_rate)
    net = maybe_compile(dist.wrap(module, device), settings.compile)
    n_train = train.shape[0]
    best_loss = math.inf
    best_state = None
    best_epoch = 0
    stale = 0
    started = time.perf_counter()
    for epoch in range(1, settings.epochs + 1):
        tick = time.perf_counter()
        module.train()
        shuffled = train.index_select(
            0, torch.randperm(n_train, generator=generator, device=device)
        )
        totals = torch.zeros(3, device=device)
        trained = 0
        for start in range(0, n_train, batch_size):
            batch = shuffled[start : start + batch_size]
            rows = batch.shape[0]
            if dist.enabled and rows < dist.world_size:
                continue  # a last batch too small to give every rank a row
            noise = torch.randn((rows, settings.latent_dim), generator=generator, device=device)
            if dist.enabled:
                part = dist.shard(rows)
                batch, noise = batch[part], noise[part]
            groups = None
            if n_groups:
                batch, groups = batch[:, :-n_groups], batch[:, -n_groups:]
            with autocast(device, settings.bf16):
                logits, mu, log_var = net(batch, noise, groups) if n_groups else net(batch, noise)
            if settings.bf16:
                logits, mu, log_var = logits.float(), mu.float(), log_var.float()
            recon = span_reconstruction_loss(
                logits, batch, spans, numeric_log_sigma=module.log_sigma
            )
            kl = kl_divergence(mu, log_var)
            loss = recon + settings.beta * kl
            if mmd_weight and groups is not None:
                loss = loss + mmd_weight * mmd_penalty(mu, groups, rff)
            optimizer.zero_grad(set_to_none=True)
            if dist.enabled:  # DDP averages over ranks: weight each shard by its share of rows
                (loss * (batch.shape[0] * dist.world_size / rows)).backward()
            else:
                loss.backward()
            optimizer.step()
            totals += torch.stack([loss, recon, kl]).detach() * batch.shape[0]
            trained += rows
        dist.sum_(totals)
        train_loss, recon_mean, kl_mean = (totals / trained).tolist()  # one sync per epoch
        val_loss = (
            validation_loss(
                module, val, spans, settings.beta, dist=dist, n_groups=n_groups,
                mmd_weight=mmd_weight, batch_size=batch_size, features=rff,
            )
            if val is not None
            else math.nan
        )
        metrics = epoch_metrics(
            epoch,
            train_loss=train_loss,
            val_loss=val_loss,
            recon=recon_mean,
            kl=kl_mean,
            timing=epoch_timing(tick, started),
        )
        if not math.isfinite(train_loss):
            logger.warning(
                "training loss is %s at epoch %d; lower learning_rate (now %g)",
                train_loss,
                epoch,
                settings.learning_rate,
            )
        run.record_epoch(epoch, settings.epochs, metrics)
        if val is None:
            best_epoch = epoch
            continue
        if val_loss < best_loss:
            best_loss, best_epoch, stale = val_loss, epoch, 0
            best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        else:
            stale += 1
            if settings.patience is not None and stale >= settings.patience:
                logger.info("early stopping after epoch %d (best %d)", epoch, best_epoch)
                break
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    return best_epoch


def epoch_metrics(
    epoch: int,
    *,
    train_loss: float,
    val_loss: float,
    recon: float,
    kl: float,
    timing: Mapping[str, float],
) -> dict[str, Any]:
    """Build the per-epoch dict of the history and of every callback.

    Keys: ``epoch`` (from 1); ``train_loss``, ``recon``, ``kl`` (means over the epoch's training
    rows, latent code sampled); ``val_loss`` (negative ELBO of the validation rows at the
    posterior mean, NaN without validation); ``loss`` (the number to show: ``val_loss``, or
    ``train_loss`` without validation; early stopping watches it); ``seconds`` (this epoch,
    validation included) and ``elapsed_seconds`` (since training started; with ``epoch`` and the
    callback's ``epochs`` it gives an ETA, an upper bound when early stopping may end sooner).
    The last two come from ``timing`` (:func:`~fairlatent.models.training.epoch_timing`).
    """
    return {
        "epoch": epoch,
        "train_loss": train_loss,
        "val_loss": val_loss,
        "recon": recon,
        "kl": kl,
        "loss": val_loss if math.isfinite(val_loss) else train_loss,
        **timing,
    }


def validation_loss(
    module: VAENetwork,
    val: torch.Tensor,
    spans: Sequence[Span],
    beta: float,
    *,
    dist: Distributed = SINGLE,
    n_groups: int = 0,
    mmd_weight: float = 0.0,
    batch_size: int = 500,
    features: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> float:
    """Mean negative ELBO of the rows ``val`` with the code at its posterior mean.

    In a data-parallel fit every rank scores its shard of ``val`` and the sums are added up, so
    every rank gets the same figure. A conditional VAE (``n_groups``: the last columns of ``val``
    are the one-hot groups) adds ``mmd_weight`` times the MMD penalty of the latent means, scored
    on blocks of ``batch_size`` rows as in training.
    """
    module.eval()
    n_val = val.shape[0]
    if dist.enabled:
        val = val[dist.shard(n_val)]
    total = torch.zeros((), device=val.device)
    with torch.inference_mode():
        for start in range(0, val.shape[0], CHUNK_ROWS):
            batch = val[start : start + CHUNK_ROWS]
            groups = None
            if n_groups:
                batch, groups = batch[:, :-n_groups], batch[:, -n_groups:]
            logits, mu, log_var = module(batch, None, groups)
            recon = span_reconstruction_loss(
                logits, batch, spans, numeric_log_sigma=module.log_sigma
            )
            total += (recon + beta * kl_divergence(mu, log_var)) * batch.shape[0]
            if mmd_weight and groups is not None:
                for block in range(0, batch.shape[0], batch_size):
                    part = slice(block, block + batch_size)
                    rows = mu[part].shape[0]
                    total += mmd_weight * mmd_penalty(mu[part], groups[part], features) * rows
    if dist.enabled:
        total = dist.sum_(total.clone())
    return float(total.item()) / n_val
