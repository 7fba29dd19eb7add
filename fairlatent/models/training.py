"""What the VAE's and the GAN's fits share: their common options, starting a fit, the loop's inputs.

:func:`check_fit_options` checks the parameters both models take; :func:`start_fit` applies the
thread policy, picks the device, joins a data-parallel job when
asked and draws the fit's seeds; :class:`TrainingRun` carries the device, the training seed, the
data-parallel place, the history and the callbacks into a training loop
(:func:`fairlatent.models.vae.training.train`, :func:`fairlatent.models.gan.training.train`) and
records every epoch the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch

from fairlatent.encoding import TabularEncoder
from fairlatent.encoding.encoder import NumericMethod
from fairlatent.models.device import resolve_device
from fairlatent.models.distributed import SINGLE, Distributed, check_distributed, setup_distributed
from fairlatent.models.params import EpochCallback, active_epoch_callbacks, check_bool, check_choice
from fairlatent.models.seeding import derive_seeds
from fairlatent.models.threads import ensure_thread_policy

logger = logging.getLogger(__name__)

__all__ = [
    "FIT_SEEDS",
    "FitStart",
    "TrainingRun",
    "check_fit_options",
    "epoch_timing",
    "start_fit",
]

#: Seeds a fit draws from its ``random_state``: network initialisation, encoder (and the VAE's
#: validation split), training stream, default sampling stream.
FIT_SEEDS = 4


class FitOptions(Protocol):
    """The constructor parameters every generative model takes (see :class:`TabularVAE`)."""

    numeric: str
    device: str
    bf16: bool
    compile: bool
    distributed: bool
    random_state: int | None


def check_fit_options(model: FitOptions) -> None:
    """Check ``numeric``, ``bf16``, ``compile`` and ``distributed`` of ``model``.

    Raises
    ------
    ConfigError
        Naming the first bad parameter.
    """
    check_choice("numeric", model.numeric, ("quantile", "gmm"))
    check_bool("bf16", model.bf16)
    check_bool("compile", model.compile)
    check_distributed(model.distributed)


def epoch_timing(tick: float, started: float) -> dict[str, float]:
    """Return the timing entries of an epoch's metrics, measured now.

    Parameters
    ----------
    tick, started : float
        :func:`time.perf_counter` at the start of the epoch and of the training.

    Returns
    -------
    dict
        ``seconds`` (this epoch) and ``elapsed_seconds`` (since training started).
    """
    now = time.perf_counter()
    return {"seconds": now - tick, "elapsed_seconds": now - started}


@dataclass(frozen=True)
class TrainingRun:
    """The inputs every training loop shares, and how it records an epoch.

    Parameters
    ----------
    device : torch.device
        Training device.
    seed : int
        Seed of the training stream (the same on every rank).
    history : list of dict
        Receives one dict per epoch (the loop's ``epoch_metrics``).
    callbacks : sequence of callable
        Each called after every epoch as ``callback(epoch, epochs, metrics)``.
    dist : Distributed
        This process's place in a data-parallel fit (see :mod:`fairlatent.models.distributed`).
    """

    device: torch.device
    seed: int
    history: list[dict[str, Any]]
    callbacks: Sequence[EpochCallback] = ()
    dist: Distributed = SINGLE

    def record_epoch(self, epoch: int, epochs: int, metrics: dict[str, Any]) -> None:
        """Append ``metrics`` to the history, log them and hand them to every callback."""
        self.history.append(metrics)
        logger.debug("epoch %d/%d: %s", epoch, epochs, metrics)
        for callback in self.callbacks:
            callback(epoch, epochs, metrics)


@dataclass(frozen=True)
class FitStart:
    """Where a fit runs and with which seeds (see :func:`start_fit`).

    Attributes
    ----------
    dist : Distributed
        This process's place in a data-parallel fit.
    device : torch.device
        The training device.
    seeds : list of int
        :data:`FIT_SEEDS` seeds, the same on every rank: initialisation, encoder, training,
        sampling.
    """

    dist: Distributed
    device: torch.device
    seeds: list[int]

    def fit_encoder(
        self, frame: pd.DataFrame, numeric: NumericMethod, discrete_columns: Sequence[str] | None = None
    ) -> tuple[TabularEncoder, np.ndarray]:
        """Fit a :class:`~fairlatent.encoding.TabularEncoder` on ``frame`` with the encoder seed.

        Parameters
        ----------
        frame : DataFrame
            The training rows.
        numeric : {"quantile", "gmm"}
            The model's ``numeric`` parameter.
        discrete_columns : sequence of str, optional
            Columns to encode as discrete whatever their dtype (see :meth:`TabularEncoder.fit`).

        Returns
        -------
        encoder : TabularEncoder
            Fitted.
        encoded : ndarray of shape (n_rows, encoder.output_dim_)
            ``frame`` encoded.
        """
        encoder = TabularEncoder(numeric=numeric, random_state=self.seeds[1] % 2**31)
        return encoder, encoder.fit_transform(frame, discrete_columns=discrete_columns)

    def training_run(
        self, history: list[dict[str, Any]], callbacks: Sequence[EpochCallback] | None
    ) -> TrainingRun:
        """Return the :class:`TrainingRun` of this fit, recording into ``history``.

        Its callbacks are ``callbacks`` (the fit's own), then those of the enclosing
        :func:`~fairlatent.models.params.epoch_callbacks` blocks.
        """
        return TrainingRun(
            self.device,
            self.seeds[2],
            history,
            [*(callbacks or []), *active_epoch_callbacks()],
            self.dist,
        )


def start_fit(model: FitOptions) -> FitStart:
    """Prepare one fit of ``model``.

    Applies the thread policy (:func:`~fairlatent.models.threads.ensure_thread_policy`), resolves
    the model's ``device``, joins a ``torchrun`` job when it is ``distributed`` and draws
    :data:`FIT_SEEDS` seeds from its ``random_state`` on rank 0, broadcast to every rank.

    Parameters
    ----------
    model : TabularVAE or TabularGAN
        The model about to be fitted (its parameters already checked).

    Returns
    -------
    FitStart
    """
    ensure_thread_policy()
    dist, device = setup_distributed(model.distributed, resolve_device(model.device))
    seeds = dist.broadcast_ints(derive_seeds(model.random_state, FIT_SEEDS))
    return FitStart(dist, device, seeds)
