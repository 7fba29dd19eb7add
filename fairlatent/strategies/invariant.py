"""The ``invariant`` strategy: train on rows repaired through a group-invariant latent code.

An :class:`~fairlatent.models.vae.invariant.InvariantEncoder` (a conditional VAE whose decoder reads
the group and whose encoder is penalised, by MMD, for carrying it; VFAE-style) is fitted on the
training rows' features without the sensitive columns. Each row is then *repaired*: decoded from
its own latent code with the group input averaged over the groups (or set to the largest group),
so what a feature said about the group is replaced by what the code says about the row. The label
and the sensitive columns are kept; the classifier trains on the repaired features and predicts
real rows.

The strength is the penalty's weight per modelled column; the grid starts with *off* (the real
rows), and one VAE is trained per strength the first time it is asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import pandas as pd

from fairlatent.models.vae.invariant import DEFAULT_STRENGTH, InvariantEncoder
from fairlatent.samplers.base import restore_dtypes
from fairlatent.samplers.latent_model import LatentModel, fill_unseen
from fairlatent.strategies.base import OFF, Strategy, StrategyContext, StrategyOutput, Strength
from fairlatent.strategies.common import FittedParts, defaults_of, identity_output, params_for

logger = logging.getLogger(__name__)

#: The encoder's defaults: the one home of the VAE options this strategy shares with it.
_ENCODER = defaults_of(InvariantEncoder)

__all__ = ["STRENGTHS", "FittedInvariant", "InvariantStrategy", "invariant_strength"]

#: Penalty weights per modelled column offered to the tuning besides ``off``.
STRENGTHS: tuple[float, ...] = (30.0, 100.0, 300.0)
#: Artifact key of the fitted encoders (strength label -> InvariantEncoder).
ARTIFACT_ENCODER = "invariant_encoder"


def invariant_strength(weight: float) -> Strength:
    """Return the strength with MMD weight ``weight`` per column (``0``: no penalty).

    Examples
    --------
    >>> invariant_strength(100).label
    'mmd=100'
    """
    return Strength(f"mmd={weight:g}", {"mmd": float(weight)})


class InvariantStrategy(Strategy):
    """Repair the training rows through a latent code penalised for carrying the group.

    Parameters
    ----------
    strengths : sequence of float, default STRENGTHS
        MMD weights per modelled column the tuning may pick (besides ``off``).
    default_strength : float, default DEFAULT_STRENGTH
        Weight used when nothing is tuned.
    decode : {"average", "reference"}, default "average"
        The decoder's group input for the repaired rows: averaged over the groups (weighted by
        their shares) or the largest group.
    latent_dim : int, default 8
    hidden_dims : sequence of int, default (128,)
    beta : float, default 0.1
        As :class:`~fairlatent.models.vae.invariant.InvariantEncoder` (its defaults).
    vae_epochs : int or None, default None
        VAE epochs (``None``: the audit's ``--epochs``, else the encoder's default, 100).

    Examples
    --------
    >>> from fairlatent.strategies import get_strategy
    >>> get_strategy("invariant", strengths=[100]).strengths
    [100]
    """

    def __init__(
        self,
        *,
        strengths: Sequence[float] = STRENGTHS,
        default_strength: float = DEFAULT_STRENGTH,
        decode: Literal["average", "reference"] = "average",
        latent_dim: int = _ENCODER["latent_dim"],
        hidden_dims: Sequence[int] = _ENCODER["hidden_dims"],
        beta: float = _ENCODER["beta"],
        vae_epochs: int | None = None,
    ) -> None:
        self.strengths = strengths
        self.default_strength = default_strength
        self.decode = decode
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.beta = beta
        self.vae_epochs = vae_epochs

    def encoder(self, context: StrategyContext, weight: float) -> InvariantEncoder:
        """Build the (unfitted) encoder of strength ``weight`` for ``context``."""
        epochs = self.vae_epochs if self.vae_epochs is not None else context.epochs
        return InvariantEncoder(
            **params_for(
                InvariantEncoder,
                self,
                ("decode", "latent_dim", "beta"),
                strength=float(weight),
                hidden_dims=tuple(int(h) for h in self.hidden_dims),
                epochs=int(epochs) if epochs is not None else _ENCODER["epochs"],
                device=context.device,
                random_state=context.random_state,
            )
        )

    def _fit(self, train: pd.DataFrame, context: StrategyContext) -> FittedInvariant:
        return FittedInvariant(self, context, train)


class FittedInvariant(FittedParts):
    """The ``invariant`` strategy on its training rows; one encoder per strength, fitted lazily."""

    strategy: InvariantStrategy

    def __init__(self, strategy: InvariantStrategy, context: StrategyContext, train: pd.DataFrame):
        super().__init__(strategy, context)
        self.train = train
        self.encoders: dict[str, InvariantEncoder] = {}
        # what the encoders see in training, so rows with unseen categories can still be encoded
        self.fill = LatentModel.describe_columns(train[self._feature_columns(train)])

    def grid(self) -> list[Strength]:
        """``off``, then each configured weight."""
        return [OFF] + [invariant_strength(w) for w in self.strategy.strengths]

    def default(self) -> Strength:
        """Return the default weight (:data:`~fairlatent.models.vae.invariant.DEFAULT_STRENGTH`)."""
        return invariant_strength(self.strategy.default_strength)

    def _feature_columns(self, frame: pd.DataFrame) -> list[str]:
        context = self.context
        skip = {context.target, context.group_column, *context.sensitive}
        return [c for c in frame.columns if c not in skip]

    def fitted_encoder(self, strength: Strength) -> InvariantEncoder:
        """Return the encoder of ``strength``, fitted on the training rows when first asked."""
        if strength.label not in self.encoders:
            context = self.context
            columns = self._feature_columns(self.train)
            encoder = self.strategy.encoder(context, float(strength.params["mmd"]))
            encoder.fit(
                self.train[columns], sensitive_features=self.train[context.group_column].to_numpy()
            )
            self.encoders[strength.label] = encoder
        return self.encoders[strength.label]

    def transform(self, frame: pd.DataFrame, strength: Strength) -> StrategyOutput:
        """Repair the features of ``frame`` at ``strength`` (labels and sensitive columns kept)."""
        if strength.identity:
            return identity_output(frame, strength)
        encoder = self.fitted_encoder(strength)
        columns = self._feature_columns(frame)
        rows = fill_unseen(frame[columns].reset_index(drop=True), self.fill)
        repaired = encoder.repair(rows)
        repaired.index = frame.index
        new = frame.copy()
        for column in columns:
            new[column] = repaired[column].to_numpy()
        new = restore_dtypes(new, frame)
        vae = encoder.vae_
        output = StrategyOutput(frame=new, strength=strength)
        output.diagnostics = {
            "mmd_per_column": float(strength.params["mmd"]),
            "mmd_weight": float(vae.mmd_weight),
            "decode": self.strategy.decode,
            "epochs_run": len(vae.history_),
            "best_epoch": int(vae.best_epoch_),
            "vae_fit_seconds": float(vae.fit_seconds_),
            "repaired_columns": columns,
        }
        output.artifacts[ARTIFACT_ENCODER] = encoder
        return output
