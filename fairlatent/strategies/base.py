"""The strategy slot: one small interface every mitigation implements.

A strategy is *fitted* once per train/test split on real training rows (that is where the VAE or
the GAN learns) and then *transforms* a frame of real rows into what the classifiers train on, at a
chosen **strength**: a debiased training frame and/or sample weights (pre-processing), a wrapper
around the classifier's training (in-processing), or a post-processor fitted on held-out scores
(post-processing). Each fitted strategy offers a grid of strengths that includes *doing nothing*, so
the audit can tune the strength on validation rows carved out of the training rows and never do worse
than the baseline there. Classifiers are always evaluated on the same real held-out test rows.

Writing a strategy:

- a fixed one (no knob): subclass :class:`Strategy` and implement :meth:`Strategy._apply`;
- a tunable one: implement :meth:`Strategy._fit`, returning a :class:`FittedStrategy` whose
  :meth:`~FittedStrategy.grid` lists the strengths and whose :meth:`~FittedStrategy.transform`
  applies one.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
import pandas as pd

#: What a strategy changes: the training data, the classifier's training, or its predictions.
StrategyKind = Literal["pre", "in", "post"]


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
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:<index>"`` or ``"mps"``.
    epochs : int or None
        Override of the generative models' epoch count (``None`` = model default).
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
    pretrained: dict[str, Any] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)


#: Key of :attr:`StrategyOutput.artifacts` holding the fitted latent model (VAE plus latent density,
#: a :class:`~fairlatent.samplers.LatentModel`) that the representation audit reads.
ARTIFACT_LATENT_MODEL = "latent_model"
#: Key of :attr:`StrategyOutput.artifacts` holding the generator of the synthetic rows (a
#: :class:`~fairlatent.samplers.SyntheticSource`) that the synthetic-data quality audit reads.
ARTIFACT_SYNTHETIC_SOURCE = "synthetic_source"


@dataclass(frozen=True)
class Strength:
    """One setting of a strategy's strength knob.

    Parameters
    ----------
    label : str
        Short text for the report (``"0.5"``, ``"off"``, ``"dp, ε=0.02"``).
    params : mapping
        What :meth:`FittedStrategy.transform` reads.
    identity : bool
        The setting does nothing: training on it is training on the real rows (the baseline).

    Examples
    --------
    >>> Strength("0.5", {"mix": 0.5}).label
    '0.5'
    >>> OFF.identity
    True
    """

    label: str
    params: Mapping[str, Any] = field(default_factory=dict)
    identity: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"label": self.label, "params": dict(self.params), "identity": self.identity}


#: The strength that does nothing; every tunable grid includes it.
OFF = Strength("off", {}, identity=True)


class PostProcessor(Protocol):
    """A post-processing estimator in fairlearn's shape (``estimator=``, ``prefit=``).

    The audit clones it with ``estimator=<trained classifier>, prefit=True``, fits it on validation
    rows that the classifier never saw, then predicts the test rows (see
    :mod:`fairlatent.strategies.postprocessors`).
    """

    def set_params(self, **params: Any) -> Any:
        """Set ``estimator`` and ``prefit`` (scikit-learn's parameter protocol)."""

    def fit(self, X: pd.DataFrame, y: np.ndarray, *, sensitive_features: np.ndarray) -> Any:
        """Fit the group thresholds on held-out rows; return ``self``."""

    def predict(
        self, X: pd.DataFrame, *, sensitive_features: np.ndarray, random_state: int | None = None
    ) -> np.ndarray:
        """Return 0/1 predictions for ``X`` (randomised post-processors use ``random_state``)."""


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
        Wall-clock time of fitting the strategy and transforming the rows.
    wrap_estimator : callable or None
        In-processing: builds, from the classifier pipeline, the estimator to train instead; it is
        fitted as ``fit(X, y, sensitive_features=groups)`` and predicts with
        ``predict(X, sensitive_features=groups)``.
    postprocessor : PostProcessor or None
        Post-processing: fitted on validation rows after the classifier (see :class:`PostProcessor`).
    strength : Strength or None
        The strength these rows were made at.
    """

    frame: pd.DataFrame
    sample_weight: np.ndarray | None = None
    is_synthetic: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    diagnostics: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)
    fit_seconds: float = 0.0
    wrap_estimator: Callable[[Any], Any] | None = None
    postprocessor: PostProcessor | None = None
    strength: Strength | None = None

    def __post_init__(self) -> None:
        if self.is_synthetic is None or len(self.is_synthetic) != len(self.frame):
            if self.is_synthetic is not None and len(self.is_synthetic):
                raise ValueError(
                    f"is_synthetic has {len(self.is_synthetic)} flags for {len(self.frame)} rows"
                )
            self.is_synthetic = np.zeros(len(self.frame), dtype=bool)

    @property
    def n_synthetic(self) -> int:
        """Number of generated rows."""
        return int(np.count_nonzero(self.is_synthetic))


class FittedStrategy(ABC):
    """A strategy fitted on training rows, able to debias any frame of real rows at a strength.

    Attributes
    ----------
    fit_seconds : float
        Wall-clock time of the fit (set by :meth:`Strategy.fit`).
    """

    fit_seconds: float = 0.0

    def grid(self) -> list[Strength]:
        """Strengths the audit may tune over; the default is the strategy's fixed strength only."""
        return [self.default()]

    @abstractmethod
    def default(self) -> Strength:
        """Return the strength used when nothing is tuned (the documented default)."""

    @abstractmethod
    def transform(self, frame: pd.DataFrame, strength: Strength) -> StrategyOutput:
        """Debias ``frame`` (real rows with target, sensitive and group columns) at ``strength``.

        Must be deterministic: the same fitted strategy, frame and strength give the same output.
        """


class _FixedStrategy(FittedStrategy):
    """Adapter for strategies that implement only :meth:`Strategy._apply` (no knob)."""

    def __init__(self, strategy: Strategy, context: StrategyContext) -> None:
        self.strategy = strategy
        self.context = context

    def default(self) -> Strength:
        return Strength("default", {})

    def transform(self, frame: pd.DataFrame, strength: Strength) -> StrategyOutput:
        output = self.strategy._apply(frame, self.context)
        output.strength = strength
        return output


class Strategy(ABC):  # noqa: B024 - either _apply or _fit is overridden
    """Base class of the mitigation strategies.

    Subclasses implement :meth:`_apply` (fixed strategies) or :meth:`_fit` (tunable ones); the
    registry's :class:`~fairlatent.strategies.StrategySpec` carries the name and description.

    Attributes
    ----------
    kind : {"pre", "in", "post"}
        What the strategy changes: the training data, the classifier's training, or its
        predictions.
    max_accuracy_loss : float or None
        Largest validation accuracy loss the tuning may accept for this strategy (``None``: the
        audit's accuracy budget).
    """

    kind: ClassVar[StrategyKind] = "pre"
    max_accuracy_loss: ClassVar[float | None] = None

    def fit(self, train: pd.DataFrame, context: StrategyContext) -> FittedStrategy:
        """Fit the strategy on real training rows.

        Parameters
        ----------
        train : DataFrame
            Real training rows (features, sensitive columns, group column and 0/1 target).
        context : StrategyContext
            Column roles, seed, device and shared models.

        Returns
        -------
        FittedStrategy
        """
        start = time.perf_counter()
        fitted = self._fit(train, context)
        fitted.fit_seconds = time.perf_counter() - start
        return fitted

    def apply(
        self, train: pd.DataFrame, context: StrategyContext, strength: Strength | None = None
    ) -> StrategyOutput:
        """Fit on ``train`` and transform it at ``strength`` (default: the strategy's default).

        Returns
        -------
        StrategyOutput
            Training frame and/or weights, with diagnostics and the time taken.
        """
        start = time.perf_counter()
        fitted = self.fit(train, context)
        output = fitted.transform(train, strength or fitted.default())
        output.fit_seconds = time.perf_counter() - start
        return output

    def _fit(self, train: pd.DataFrame, context: StrategyContext) -> FittedStrategy:
        """Fit; the default wraps :meth:`_apply` as a strategy with one fixed strength."""
        return _FixedStrategy(self, context)

    def _apply(self, train: pd.DataFrame, context: StrategyContext) -> StrategyOutput:
        """Transform ``train`` (fixed strategies implement this instead of :meth:`_fit`)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement _apply (a fixed strategy) or _fit (a tunable one)"
        )
