"""Training of :class:`~fairlatent.models.gan.TabularGAN`: the WGAN-GP loop and its helpers.

* :func:`train` runs the loop: training-by-sampling of conditions (one per critic pack), the critic
  updates with the gradient penalty (:func:`critic_loss`), the generator update with the
  conditional cross-entropy penalty (:class:`ConditionPenalty`) and the moving average of the
  generator's weights (:class:`WeightAverage`).
* Everything lives on the training device for the whole fit; losses are summed on the device and
  read once per epoch.
* Optional: bf16 autocast of the networks' forward passes (``bf16``), ``torch.compile`` of the
  generator (``compile``; the critic's gradient penalty needs a double backward, which compiled
  graphs do not support), and data-parallel training over several processes (``dist``).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from fairlatent.encoding import Span
from fairlatent.models.device import autocast, maybe_compile, to_device
from fairlatent.models.gan.conditions import ConditionTable, condition_spans
from fairlatent.models.gan.networks import Critic
from fairlatent.models.nn import apply_span_activations, segment_cross_entropy, span_layout
from fairlatent.models.training import TrainingRun, epoch_timing

__all__ = [
    "ConditionPenalty",
    "TrainingSettings",
    "WeightAverage",
    "critic_loss",
    "epoch_metrics",
    "train",
]


@dataclass(frozen=True)
class TrainingSettings:
    """The estimator parameters the training loop reads (see :class:`TabularGAN`)."""

    epochs: int
    batch_size: int
    embedding_dim: int
    pac: int
    critic_steps: int
    generator_lr: float
    critic_lr: float
    gp_lambda: float
    gumbel_tau: float
    ema_decay: float
    bf16: bool = False
    compile: bool = False


class ConditionPenalty:
    """Mean over rows of the summed cross-entropy of the conditioned spans.

    Parameters
    ----------
    spans : sequence of Span
        The spans of the vector columns, in conditional-vector order.
    dim : int
        Encoded width.
    device : torch.device
        Training device.
    """

    def __init__(self, spans: Sequence[Span], dim: int, device: torch.device) -> None:
        self.layout = span_layout(spans, device, dim=dim) if spans else None

    def __call__(self, logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """Penalty of generator ``logits`` (rows, dim) for ``codes`` (rows, n_spans).

        ``codes`` holds the target category per span, -1 where the span is free.
        """
        if self.layout is None:
            return logits.new_zeros(())
        return segment_cross_entropy(logits, codes, self.layout).sum() / logits.shape[0]


class WeightAverage:
    """Exponential moving average of a module's weights, with warm-up.

    Averaging the generator's iterates (Yazici et al., 2019, "The Unusual Effectiveness of
    Averaging in GAN Training") damps the oscillation of adversarial training. The weight of the
    newest iterate is ``1 - min(decay, (1 + t) / (10 + t))`` after ``t`` updates, so short fits
    are not dominated by the initial weights. Batch-norm statistics are not averaged:
    :meth:`finish` recomputes them for the averaged weights.

    Parameters
    ----------
    module : torch.nn.Module
        The live module (copied; the copy holds the average).
    decay : float
        Largest weight of the old average.
    """

    def __init__(self, module: nn.Module, decay: float) -> None:
        self.module = copy.deepcopy(module).requires_grad_(False)
        self.decay = decay
        self.updates = 0
        self._averages: list[torch.Tensor] = list(self.module.parameters())
        self._lives: list[torch.Tensor] = list(module.parameters())

    @torch.no_grad()
    def update(self) -> None:
        """Move the average towards the live module's current weights.

        One multi-tensor ``lerp`` (a single kernel launch on CUDA for all weights; on the CPU the
        same per-tensor ``lerp_`` as a loop).
        """
        self.updates += 1
        t = self.updates
        weight = 1.0 - min(self.decay, (1.0 + t) / (10.0 + t))
        torch._foreach_lerp_(self._averages, self._lives, weight)

    @torch.no_grad()
    def finish(self, inputs: Callable[[], torch.Tensor], batches: int = 20) -> nn.Module:
        """Recompute batch-norm statistics on ``batches`` training-like inputs; return the module.

        ``inputs()`` returns one batch of network input drawn as in training. The statistics are
        plain averages over those batches (momentum ``None``), then momentum is restored.
        """
        module = self.module
        norms = [m for m in module.modules() if isinstance(m, nn.BatchNorm1d)]
        if norms:
            momenta = [m.momentum for m in norms]
            for norm in norms:
                norm.reset_running_stats()
                norm.momentum = None
            module.train()
            for _ in range(batches):
                module(inputs())
            for norm, momentum in zip(norms, momenta, strict=True):
                norm.momentum = momentum
        return module.eval()


def critic_loss(
    critic: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    pack_cond: torch.Tensor,
    pac: int,
    gp_lambda: float,
    rng: torch.Generator,
    *,
    penalty_critic: nn.Module | None = None,
    bf16: bool = False,
) -> torch.Tensor:
    """WGAN critic loss ``E[D(fake)] - E[D(real)]`` plus the gradient penalty.

    Real and fake packs go through the critic as one batch; the interpolated packs of the penalty
    (one mixing weight and one gradient norm per pack of ``pac`` rows) get their own forward, so
    that the double-backward of the penalty runs over those packs only rather than over all three
    sets (a third of the work).

    Parameters
    ----------
    critic : Critic
        The critic (in training mode), or its DistributedDataParallel wrapper.
    real, fake : Tensor, shape (batch, dim)
        Real and generated rows, ``pac`` consecutive rows per pack.
    pack_cond : Tensor, shape (batch // pac, cond_dim)
        Conditional vector of each pack.
    pac : int
        Rows per pack.
    gp_lambda : float
        Weight of the gradient penalty (0: none).
    rng : torch.Generator
        Source of the dropout masks and the mixing weights.
    penalty_critic : torch.nn.Module, optional
        The network the interpolated packs go through (default ``critic``): the bare critic when
        ``critic`` is its DistributedDataParallel wrapper, whose forward may run once per backward.
    bf16 : bool, default False
        Critic forwards under bf16 autocast (scores and penalty in float32).

    Returns
    -------
    Tensor
        Scalar loss.
    """
    packs = pack_cond.shape[0]
    device = real.device
    with autocast(device, bf16):
        scores = critic(torch.cat([real, fake], dim=0), pack_cond.repeat(2, 1), rng)
    scores = scores.float().view(2, packs) if bf16 else scores.view(2, packs)
    loss = scores[1].mean() - scores[0].mean()
    if gp_lambda > 0:
        alpha = torch.rand((packs, 1, 1), generator=rng, device=device)
        alpha = alpha.expand(packs, pac, 1).reshape(-1, 1)
        mixed = (alpha * real + (1.0 - alpha) * fake).requires_grad_(True)
        with autocast(device, bf16):
            mixed_scores = (penalty_critic or critic)(mixed, pack_cond, rng)
        if bf16:
            mixed_scores = mixed_scores.float()
        (grad,) = torch.autograd.grad(mixed_scores.sum(), mixed, create_graph=True)
        norm = grad.reshape(packs, -1).norm(2, dim=1)
        loss = loss + gp_lambda * ((norm - 1.0) ** 2).mean()
    return loss


def train(
    generator: nn.Module,
    critic: Critic,
    data: torch.Tensor,
    conditions: ConditionTable,
    spans: Sequence[Span],
    settings: TrainingSettings,
    run: TrainingRun,
) -> nn.Module:
    """Train the generator and critic in place; return the fitted generator.

    Parameters
    ----------
    generator : Generator
        The generator (on ``device``).
    critic : Critic
        The critic (on ``device``).
    data : Tensor, shape (n_rows, dim)
        The whole encoded training table, on ``device``.
    conditions : ConditionTable
        The condition table fitted on the same rows (with its row lists).
    spans : sequence of Span
        The encoder's spans.
    settings : TrainingSettings
        Training parameters (``bf16``: forward passes under bf16 autocast; ``compile``: the
        generator through ``torch.compile``).
    run : TrainingRun
        Device; seed of the training stream (condition draws, real-row draws, noise, dropout),
        the same on every rank; the history, which receives one dict per epoch (see
        :func:`epoch_metrics`), and the callbacks; the data-parallel place: every rank draws the
        same conditions, real rows and latent noise from the shared stream and trains on its
        shard of the packs; its gumbel noise, dropout masks and penalty weights come from a
        stream of its own.

    Returns
    -------
    torch.nn.Module
        ``generator``, or the moving average of its weights when ``settings.ema_decay > 0``; in
        eval mode.
    """
    gen = generator
    device, dist, seed = run.device, run.dist, run.seed
    rng = torch.Generator(device=device)
    rng.manual_seed(seed % 2**63)
    noise_rng = rng  # alone, one stream for everything (the numbers of a single-process fit)
    if dist.enabled:
        noise_rng = torch.Generator(device=device)
        noise_rng.manual_seed(_rank_seed(seed, dist.rank))
    batch = settings.batch_size
    pac = settings.pac
    bf16 = settings.bf16
    dim = data.shape[1]

    cond_matrix = to_device(conditions.matrix(), device)
    real_dtype = torch.float32 if device.type == "mps" else torch.float64  # mps: no float64
    cond_probs = to_device(conditions.probabilities(training=True), device).to(dtype=real_dtype)
    cond_codes = to_device(conditions.table, device)
    if conditions.row_offsets is None or conditions.row_order is None:
        raise ValueError("the condition table has no row lists: fit it on the training rows")
    counts = to_device(conditions.counts, device)
    offsets = to_device(conditions.row_offsets, device)
    order = to_device(conditions.row_order, device)
    penalty = ConditionPenalty(condition_spans(spans, conditions.columns), dim, device)

    fused = device.type in ("cpu", "cuda")  # one kernel per optimizer step
    opt_g = torch.optim.Adam(
        gen.parameters(), lr=settings.generator_lr, betas=(0.5, 0.9), fused=fused
    )
    opt_d = torch.optim.Adam(
        critic.parameters(), lr=settings.critic_lr, betas=(0.5, 0.9), fused=fused
    )
    steps = max(1, data.shape[0] // batch)

    packs = batch // pac
    # this rank's packs (and their rows) of every batch; None: all of them
    mine = dist.shard(packs) if dist.enabled else None
    rows_mine = slice(mine.start * pac, mine.stop * pac) if mine is not None else None
    gen_net = maybe_compile(dist.wrap(gen, device), settings.compile)
    critic_net = dist.wrap(critic, device)

    def draw() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One condition per pack; real rows drawn from each pack's condition."""
        idx = torch.multinomial(cond_probs, packs, replacement=True, generator=rng)
        rows_idx = idx.repeat_interleave(pac)
        u = torch.rand(batch, generator=rng, device=device, dtype=real_dtype)
        if mine is not None:
            idx, rows_idx, u = idx[mine], rows_idx[rows_mine], u[rows_mine]
        count = counts.index_select(0, rows_idx)
        pick = offsets.index_select(0, rows_idx) + (u * count).long().clamp_max(count - 1)
        real = data.index_select(0, order.index_select(0, pick))
        pack_cond = cond_matrix.index_select(0, idx)
        return rows_idx, pack_cond, pack_cond.repeat_interleave(pac, dim=0), real

    def latent() -> torch.Tensor:
        z = torch.randn((batch, settings.embedding_dim), generator=rng, device=device)
        return z if rows_mine is None else z[rows_mine]

    def generate(inputs: torch.Tensor) -> torch.Tensor:
        with autocast(device, bf16):
            logits = gen_net(inputs)
        return logits.float() if bf16 else logits

    gen.train()
    critic.train()
    critic_params = list(critic.parameters())
    decay = settings.ema_decay
    average = WeightAverage(gen, decay) if decay > 0 else None
    n_critic = settings.critic_steps
    started = time.perf_counter()
    for epoch in range(1, settings.epochs + 1):
        tick = time.perf_counter()
        totals = torch.zeros(3, device=device)
        for _ in range(steps):
            # critic updates; the last one shares its fake batch with the generator update
            for k in range(n_critic):
                idx, pack_cond, cond, real = draw()
                z = latent()
                if k == n_critic - 1:
                    logits = generate(torch.cat([z, cond], dim=1))
                    fake = apply_span_activations(
                        logits, spans, gumbel_tau=settings.gumbel_tau, generator=noise_rng
                    )
                    fake_d = fake.detach()
                else:
                    with torch.no_grad():
                        logits_d = generate(torch.cat([z, cond], dim=1))
                        fake_d = apply_span_activations(
                            logits_d, spans, gumbel_tau=settings.gumbel_tau, generator=noise_rng
                        )
                loss_d = critic_loss(
                    critic_net,
                    real,
                    fake_d,
                    pack_cond,
                    pac,
                    settings.gp_lambda,
                    noise_rng,
                    penalty_critic=critic,
                    bf16=bf16,
                )
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
            for param in critic_params:
                param.requires_grad_(False)
            with autocast(device, bf16):
                scores = critic(fake, pack_cond, noise_rng)  # frozen: no gradient to reduce
            adversarial = -(scores.float() if bf16 else scores).mean()
            cond_loss = penalty(logits, cond_codes.index_select(0, idx))
            loss_g = adversarial + cond_loss
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            if average is not None:
                average.update()
            for param in critic_params:
                param.requires_grad_(True)
            totals += torch.stack([loss_g.detach(), loss_d.detach(), cond_loss.detach()])
        if dist.enabled:  # every rank's mean losses: average them
            totals = dist.sum_(totals) / dist.world_size
        g_loss, d_loss, c_loss = (totals / steps).tolist()  # one sync per epoch
        metrics = epoch_metrics(
            epoch,
            generator_loss=g_loss,
            critic_loss=d_loss,
            condition_loss=c_loss,
            timing=epoch_timing(tick, started),
        )
        run.record_epoch(epoch, settings.epochs, metrics)
    fitted: nn.Module = gen
    if average is not None:

        def inputs() -> torch.Tensor:
            cond = draw()[2]
            z = torch.randn((cond.shape[0], settings.embedding_dim), generator=rng, device=device)
            return torch.cat([z, cond], dim=1)

        fitted = average.finish(inputs)
    fitted.eval()
    critic.eval()
    return fitted


def epoch_metrics(
    epoch: int,
    *,
    generator_loss: float,
    critic_loss: float,
    condition_loss: float,
    timing: Mapping[str, float],
) -> dict[str, float]:
    """Build the per-epoch dict of the history and of every callback.

    Keys: ``epoch`` (from 1); ``generator_loss`` (adversarial plus condition penalty),
    ``critic_loss`` (minus the critic's Wasserstein estimate plus the gradient penalty) and
    ``condition_loss``, each the mean over the epoch's steps; ``loss`` (the number to show: the
    critic loss, whose distance from 0 tracks how far the generated rows are from the real ones);
    ``seconds`` (this epoch) and ``elapsed_seconds`` (since training started: with ``epoch`` and
    the callback's ``epochs`` it gives an ETA).
    The last two come from ``timing`` (:func:`~fairlatent.models.training.epoch_timing`).
    """
    return {
        "epoch": float(epoch),
        "generator_loss": generator_loss,
        "critic_loss": critic_loss,
        "condition_loss": condition_loss,
        "loss": critic_loss,
        **timing,
    }


def _rank_seed(seed: int, rank: int) -> int:
    """Seed of one rank's own noise stream, derived from the shared seed and the rank."""
    state = np.random.SeedSequence([int(seed) % 2**63, int(rank)]).generate_state(1, np.uint64)
    return int(state[0]) % 2**63
