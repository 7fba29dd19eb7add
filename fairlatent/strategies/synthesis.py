"""Strategies ``gan`` and ``vae+gan``: rebalance group x label cells with synthetic rows (tunable)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from fairlatent.samplers.outlier_balanced import OutlierBalancedResampler
from fairlatent.samplers.synthesis import DEFAULT_GAN_PARAMS, CellBalancingResampler, Resampled
from fairlatent.strategies.base import (
    ARTIFACT_SYNTHETIC_SOURCE,
    OFF,
    Strategy,
    StrategyContext,
    StrategyOutput,
    Strength,
)
from fairlatent.strategies.common import (
    FittedParts,
    defaults_of,
    frame_parts,
    identity_output,
    params_for,
    shared_key,
)

#: The outlier-balanced sampler's defaults: the one home of the options ``vae+gan`` shares with it.
_OUTLIER = defaults_of(OutlierBalancedResampler)
#: Strengths offered to the tuning besides ``off``: half or all the way to the targets, with real
#: rows dropped (group sizes kept) or not (groups grow).
GRID: tuple[dict[str, Any], ...] = (
    {"reach": 0.5},
    {"reach": 1.0},
    {"reach": 0.5, "drop": False},
    {"reach": 1.0, "drop": False},
)
#: The strength used when nothing is tuned: the full targets, real rows dropped.
DEFAULT: dict[str, Any] = {"reach": 1.0, "drop": True, "synthetic": 1.0}


class CellBalancingStrategy(Strategy):
    """Synthesise rows with a conditional GAN until every (group, label) cell reaches its target.

    Parameters
    ----------
    target_sizes : {"parity", "largest"} or dict, default "parity"
        ``"parity"``: each group keeps its size and gets the overall base rate (synthetic rows fill
        the rarer label, real rows of the commoner label are dropped at random).
    keep_size : bool, default True
        Drop real rows of over-target cells (``False``: only add rows).
    gan_epochs : int, optional
        GAN epochs (default: the audit's ``--epochs``, else the sampler's,
        :data:`~fairlatent.samplers.synthesis.DEFAULT_GAN_PARAMS`).
    gan_params : dict, optional
        Other :class:`~fairlatent.models.gan.TabularGAN` parameters.
    strengths : sequence of dict, default GRID
        Strengths the audit may tune over besides ``off``, each the keyword arguments of
        :func:`balance_strength` (``reach``, ``drop``, ``synthetic``).
    default : dict, default DEFAULT
        Strength used when nothing is tuned (the full targets, real rows dropped: the documented
        behaviour).

    Notes
    -----
    The GAN is trained once, in :meth:`fit`; each strength then costs only sampling. Targets are
    computed on the rows being transformed, so the same fitted strategy balances the fitting part
    of the training rows and the whole of them alike.
    """

    #: The sampler this strategy builds.
    sampler_class: ClassVar[type[CellBalancingResampler]] = CellBalancingResampler

    def __init__(
        self,
        *,
        target_sizes: Any = "parity",
        keep_size: bool = True,
        gan_epochs: int | None = None,
        gan_params: dict[str, Any] | None = None,
        strengths: Sequence[Mapping[str, Any]] = GRID,
        default: Mapping[str, Any] = DEFAULT,
    ) -> None:
        self.target_sizes = target_sizes
        self.keep_size = keep_size
        self.gan_epochs = gan_epochs
        self.gan_params = gan_params
        self.strengths = strengths
        self.default = default

    def _epochs(self, context: StrategyContext) -> int:
        return self.gan_epochs or context.epochs or DEFAULT_GAN_PARAMS["epochs"]

    def _sampler(self, context: StrategyContext) -> CellBalancingResampler:
        """Build the sampler, handing on the options this strategy shares with it by name."""
        cls = self.sampler_class
        return cls(
            **params_for(
                cls,
                self,
                sensitive=list(context.sensitive),
                epochs=self._epochs(context),
                device=context.device,
                random_state=context.random_state,
                **self._model_options(context),
            )
        )

    def _model_options(self, context: StrategyContext) -> dict[str, Any]:
        """Options of the sampler's models that the audit's context sets (none here)."""
        return {}

    def fit_sampler(self, train: pd.DataFrame, context: StrategyContext) -> CellBalancingResampler:
        """Fit this strategy's sampler on ``train``, sharing the GAN through ``context.shared``.

        Parameters
        ----------
        train : DataFrame
            Real training rows.
        context : StrategyContext
            A GAN in ``context.pretrained["gan"]`` is used as it is.

        Returns
        -------
        CellBalancingResampler
            Fitted on ``train`` (GAN trained or reused).
        """
        X, y, groups = frame_parts(train, context)
        sampler = self._sampler(context)
        key = shared_key(
            "gan", train, epochs=self._epochs(context), params=self.gan_params,
            seed=context.random_state, columns=list(X.columns),
        )
        fitted = context.pretrained.get("gan") or context.shared.get(key)
        sampler.fit(X, y.to_numpy(), groups=groups, fitted_gan=fitted)
        context.shared[key] = sampler.gan_
        return sampler

    def _fit(self, train: pd.DataFrame, context: StrategyContext) -> FittedCellBalancing:
        return FittedCellBalancing(self, context, self.fit_sampler(train, context))

    def _diagnostics(self, sampler: CellBalancingResampler, result: Resampled) -> dict[str, Any]:
        gan = sampler.gan_
        history = getattr(gan, "history_", [])
        return {
            "target_sizes": self.target_sizes if isinstance(self.target_sizes, str) else "custom",
            "cells": result.cells.to_dict(orient="records"),
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


def balance_strength(reach: float = 1.0, drop: bool = True, synthetic: float = 1.0) -> Strength:
    """Return the strength of cell balancing with these knobs (``reach = 0`` is ``off``).

    Parameters
    ----------
    reach : float, default 1.0
        How far each (group, label) cell moves toward its target (0: not at all, 1: the full
        targets).
    drop : bool, default True
        Whether real rows of over-target cells may be dropped (``False``: groups grow instead).
    synthetic : float, default 1.0
        Share of the added rows made by the GAN (the rest copy real rows of the cell).

    Returns
    -------
    Strength

    Examples
    --------
    >>> balance_strength(0.5, drop=False).label
    'reach=0.5, no drop'
    >>> balance_strength(0).identity
    True
    """
    if reach == 0:
        return OFF
    label = f"reach={reach:g}" + ("" if drop else ", no drop")
    if synthetic < 1:
        label += f", {synthetic:.0%} synthetic"
    return Strength(
        label, {"reach": float(reach), "drop": bool(drop), "synthetic": float(synthetic)}
    )


class FittedCellBalancing(FittedParts):
    """Cell balancing with its GAN trained: rebalances any rows; targets come from those rows."""

    strategy: CellBalancingStrategy
    sampler: CellBalancingResampler

    def grid(self) -> list[Strength]:
        """``off``, then the configured strengths (default :data:`GRID`)."""
        points = [balance_strength(**dict(p)) for p in self.strategy.strengths]
        return [OFF] + [p for p in points if not p.identity]

    def default(self) -> Strength:
        """Return the full targets with real rows dropped (the documented behaviour)."""
        return balance_strength(**dict(self.strategy.default))

    def transform(self, frame: pd.DataFrame, strength: Strength) -> StrategyOutput:
        """Rebalance ``frame``'s cells at ``strength`` with the fitted GAN."""
        if strength.identity or float(strength.params.get("reach", 0.0)) == 0:
            return identity_output(frame, strength)
        context = self.context
        X, y, groups = frame_parts(frame, context)
        sampler = self.sampler
        result = sampler.resample(
            X, y.to_numpy(), groups=groups,
            reach=float(strength.params["reach"]),
            drop=bool(strength.params.get("drop", True)),
            synthetic=float(strength.params.get("synthetic", 1.0)),
        )
        new = result.X.copy()
        new[context.target] = result.labels
        new[context.group_column] = result.groups
        return StrategyOutput(
            frame=new[list(frame.columns)],
            is_synthetic=result.is_synthetic,
            diagnostics=self.strategy._diagnostics(sampler, result),
            artifacts={
                "gan": sampler.gan_,
                "sampler": sampler,
                "sample_indices": result.sample_indices,
                ARTIFACT_SYNTHETIC_SOURCE: sampler.synthetic_source(target_name=context.target),
            },
            strength=strength,
        )


class OutlierBalancedStrategy(CellBalancingStrategy):
    """Cell balancing whose synthetic rows are chosen where the VAE's latent density is low.

    Parameters
    ----------
    candidate_factor : int, default 4
        GAN candidates per synthetic row kept.
    alpha : float, default 0.01
        DB-VAE smoothing of the inverse-density weights.
    vae_epochs : int, optional
        VAE epochs (default: the audit's ``--epochs``, else the VAE's own).
    **others
        As :class:`CellBalancingStrategy`.

    The options shared with :class:`~fairlatent.samplers.OutlierBalancedResampler` are handed on
    under their own names (:func:`~fairlatent.strategies.common.params_for`).
    """

    sampler_class = OutlierBalancedResampler

    def __init__(
        self,
        *,
        target_sizes: Any = "parity",
        keep_size: bool = True,
        gan_epochs: int | None = None,
        gan_params: dict[str, Any] | None = None,
        candidate_factor: int = _OUTLIER["candidate_factor"],
        alpha: float = _OUTLIER["alpha"],
        vae_epochs: int | None = None,
        vae_params: dict[str, Any] | None = None,
        strengths: Sequence[Mapping[str, Any]] = GRID,
        default: Mapping[str, Any] = DEFAULT,
    ) -> None:
        super().__init__(
            target_sizes=target_sizes, keep_size=keep_size, gan_epochs=gan_epochs,
            gan_params=gan_params,
            strengths=strengths, default=default,
        )
        self.candidate_factor = candidate_factor
        self.alpha = alpha
        self.vae_epochs = vae_epochs
        self.vae_params = vae_params

    def _model_options(self, context: StrategyContext) -> dict[str, Any]:
        return {"vae_epochs": self.vae_epochs or context.epochs}

    def _diagnostics(self, sampler: CellBalancingResampler, result: Resampled) -> dict[str, Any]:
        diagnostics = super()._diagnostics(sampler, result)
        selection = result.selection
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
