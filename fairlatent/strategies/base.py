"""The strategy slot: one small interface every mitigation implements.

A strategy is fitted once per train/test split. It receives the real training frame (features,
sensitive columns and the 0/1 target) and returns a debiased training frame and/or sample weights,
plus its own JSON-serialisable diagnostics for the report. Classifiers are then trained on what it
returns and always evaluated on the same real held-out test rows.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class StrategyContext:
    """Everything a strategy may need besides the training rows.

    Parameters
    ----------
    target : str
        Name of the target column (values are 0/1 integers, 1 = favourable).
    sensitive : list of str
        Names of the sensitive columns (categorical, already binned when numeric).
    group_column : str
        Name of the column that holds each row's (possibly intersectional) group label.
    random_state : int
        Seed for this split; strategies derive their own generators from it.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"mps"``.
    epochs : int or None
        Override of the generative models' epoch count (``None`` = model default).
    options : dict
        Strategy-specific options from the configuration (e.g. ``{"vae": {"alpha": 0.01}}``).
    pretrained : dict
        Models the user supplied (``{"gan": TabularGAN}``), used instead of training new ones.
    shared : dict
        Per-split cache of fitted models that strategies may share (e.g. ``gan`` and ``vae+gan``
        train the same GAN on the same rows with the same seed, so the second reuses the first).
    """

    target: str
    sensitive: list[str]
    group_column: str
    random_state: int = 0
    device: str = "auto"
    epochs: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    pretrained: dict[str, Any] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)


#: Key of :attr:`StrategyOutput.artifacts` holding the fitted latent model (VAE plus latent density,
#: a :class:`~fairlatent.samplers.LatentModel`) that the representation audit reads.
ARTIFACT_LATENT_MODEL = "latent_model"
#: Key of :attr:`StrategyOutput.artifacts` holding the generator of the synthetic rows (a
#: :class:`~fairlatent.samplers.SyntheticSource`) that the synthetic-data quality audit reads.
ARTIFACT_SYNTHETIC_SOURCE = "synthetic_source"


@dataclass
class StrategyOutput:
    """What a strategy hands to the classifiers.

    Parameters
    ----------
    frame : DataFrame
        Training rows to fit the classifiers on (same columns as the input frame, including the
        target, sensitive and group columns). May hold resampled or synthetic rows.
    sample_weight : ndarray or None
        Per-row weights aligned with ``frame`` (``None`` = unweighted).
    is_synthetic : ndarray of bool
        Marks rows of ``frame`` that were generated rather than drawn from the real data.
    diagnostics : dict
        JSON-serialisable figures the strategy wants in the report and ``metrics.json``.
    artifacts : dict
        Fitted, non-serialisable objects (e.g. a trained VAE) that later audit steps may reuse;
        the audits read them under :data:`ARTIFACT_LATENT_MODEL` and
        :data:`ARTIFACT_SYNTHETIC_SOURCE`.
    fit_seconds : float
        Wall-clock time of :meth:`Strategy.apply`.
    """

    frame: pd.DataFrame
    sample_weight: np.ndarray | None = None
    is_synthetic: np.ndarray | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)
    fit_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.is_synthetic is None:
            self.is_synthetic = np.zeros(len(self.frame), dtype=bool)


class Strategy(ABC):
    """Base class of the mitigation strategies.

    Subclasses set :attr:`name` and :attr:`description` and implement :meth:`_apply`.
    """

    name: ClassVar[str]
    description: ClassVar[str]

    def apply(self, train: pd.DataFrame, context: StrategyContext) -> StrategyOutput:
        """Fit the strategy on ``train`` and return the debiased training data.

        Parameters
        ----------
        train : DataFrame
            Real training rows (features, sensitive columns, group column and 0/1 target).
        context : StrategyContext
            Column roles, seed, device and options.

        Returns
        -------
        StrategyOutput
            Training frame and/or weights, with diagnostics and the fit time.
        """
        start = time.perf_counter()
        output = self._apply(train, context)
        output.fit_seconds = time.perf_counter() - start
        return output

    @abstractmethod
    def _apply(self, train: pd.DataFrame, context: StrategyContext) -> StrategyOutput:
        """Strategy-specific work; see :meth:`apply`."""
