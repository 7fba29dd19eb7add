"""Strategies ``gan`` and ``vae+gan``: rebalance group x label cells with synthetic rows."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.samplers.synthesis import CellBalancingResampler, OutlierBalancedResampler
from fairlatent.strategies.base import (
    ARTIFACT_SYNTHETIC_SOURCE,
    Strategy,
    StrategyContext,
    StrategyOutput,
)

#: GAN epochs used by the strategies unless ``--epochs`` or the ``epochs`` option says otherwise.
GAN_EPOCHS = 100


class CellBalancingStrategy(Strategy):
    """Synthesise rows with a conditional GAN until every (group, label) cell reaches its target.

    Parameters
    ----------
    target_sizes : {"parity", "largest"} or dict, default "parity"
        ``"parity"``: each group keeps its size and gets the overall base rate (synthetic rows fill
        the rarer label, real rows of the commoner label are dropped at random).
    keep_size : bool, default True
        Drop real rows of over-target cells (``False``: only add rows).
    epochs : int, optional
        GAN epochs (default :data:`GAN_EPOCHS`, or the audit's ``--epochs``).
    gan_params : dict, optional
        Other :class:`~fairlatent.models.gan.TabularGAN` parameters.
    """

    name = "gan"
    description = (
        "conditional WGAN-GP synthesises rows so every group reaches the overall base rate "
        "(group sizes kept; real rows of the commoner label dropped at random)"
    )

    def __init__(
        self,
        *,
        target_sizes: Any = "parity",
        keep_size: bool = True,
        epochs: int | None = None,
        gan_params: dict[str, Any] | None = None,
    ) -> None:
        self.target_sizes = target_sizes
        self.keep_size = keep_size
        self.epochs = epochs
        self.gan_params = gan_params

    def _epochs(self, context: StrategyContext) -> int:
        return self.epochs or context.epochs or GAN_EPOCHS

    def _sampler(self, context: StrategyContext) -> CellBalancingResampler:
        return CellBalancingResampler(
            sensitive=list(context.sensitive),
            target_sizes=self.target_sizes,
            keep_size=self.keep_size,
            gan_params=self.gan_params,
            epochs=self._epochs(context),
            device=context.device,
            random_state=context.random_state,
        )

    def _apply(self, train: pd.DataFrame, context: StrategyContext) -> StrategyOutput:
        X = train.drop(columns=[context.target, context.group_column])
        y = train[context.target].to_numpy()
        sampler = self._sampler(context)
        key = "gan:" + json.dumps(
            {
                "epochs": self._epochs(context),
                "params": self.gan_params,
                "seed": context.random_state,
            },
            sort_keys=True,
            default=str,
        )
        fitted = context.pretrained.get("gan") or context.shared.get(key)
        X_res, y_res = sampler.fit_resample(
            X, y, groups=train[context.group_column], fitted_gan=fitted
        )
        context.shared[key] = sampler.gan_
        frame = X_res.copy()
        frame[context.target] = np.asarray(y_res, dtype=int)
        frame[context.group_column] = sampler.groups_resampled_
        return StrategyOutput(
            frame=frame[list(train.columns)],
            is_synthetic=sampler.is_synthetic_,
            diagnostics=self._diagnostics(sampler),
            artifacts={
                "gan": sampler.gan_,
                "sampler": sampler,
                ARTIFACT_SYNTHETIC_SOURCE: sampler.synthetic_source(target_name=context.target),
            },
        )

    def _diagnostics(self, sampler: CellBalancingResampler) -> dict[str, Any]:
        gan = sampler.gan_
        history = getattr(gan, "history_", [])
        return {
            "target_sizes": self.target_sizes if isinstance(self.target_sizes, str) else "custom",
            "cells": sampler.cells_.to_dict(orient="records"),
            "gan": {
                "epochs": len(history),
                "fit_seconds": round(float(getattr(gan, "fit_seconds_", float("nan"))), 2),
                "device": str(getattr(gan, "device_", "")),
                "history": [
                    {
                        k: v
                        for k, v in h.items()
                        if k in {"epoch", "generator_loss", "critic_loss", "condition_loss"}
                    }
                    for h in history
                ],
            },
        }


class OutlierBalancedStrategy(CellBalancingStrategy):
    """Cell balancing whose synthetic rows are chosen where the VAE's latent density is low.

    Parameters
    ----------
    candidate_factor : int, default 4
        GAN candidates per synthetic row kept.
    alpha : float, default 0.01
        DB-VAE smoothing of the inverse-density weights.
    vae_epochs : int, optional
        VAE epochs (default: the VAE's own).
    **others
        As :class:`CellBalancingStrategy`.
    """

    name = "vae+gan"
    description = (
        "outlier-balanced synthesis: GAN candidates for each under-target cell kept with probability "
        "∝ inverse VAE latent density; real rows dropped from dense regions first"
    )

    def __init__(
        self,
        *,
        target_sizes: Any = "parity",
        keep_size: bool = True,
        epochs: int | None = None,
        gan_params: dict[str, Any] | None = None,
        candidate_factor: int = 4,
        alpha: float = 0.01,
        vae_epochs: int | None = None,
        vae_params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            target_sizes=target_sizes, keep_size=keep_size, epochs=epochs, gan_params=gan_params
        )
        self.candidate_factor = candidate_factor
        self.alpha = alpha
        self.vae_epochs = vae_epochs
        self.vae_params = vae_params

    def _sampler(self, context: StrategyContext) -> OutlierBalancedResampler:
        return OutlierBalancedResampler(
            sensitive=list(context.sensitive),
            target_sizes=self.target_sizes,
            keep_size=self.keep_size,
            candidate_factor=self.candidate_factor,
            alpha=self.alpha,
            gan_params=self.gan_params,
            vae_params=self.vae_params,
            epochs=self._epochs(context),
            vae_epochs=self.vae_epochs or context.epochs,
            device=context.device,
            random_state=context.random_state,
        )

    def _diagnostics(self, sampler: CellBalancingResampler) -> dict[str, Any]:
        diagnostics = super()._diagnostics(sampler)
        selection = getattr(sampler, "selection_", {})
        diagnostics["selection"] = {
            "candidate_factor": self.candidate_factor,
            "candidates": selection.get("candidates", 0),
            "kept": selection.get("kept", 0),
            "mean_rarity_candidates": _mean(selection.get("rarity_candidates", [])),
            "mean_rarity_kept": _mean(selection.get("rarity_kept", [])),
        }
        return diagnostics


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None
