"""The strategy registry: one :class:`StrategySpec` per mitigation strategy.

Adding a built-in strategy is one module (its :class:`~fairlatent.strategies.base.Strategy`
subclass) plus one line in :data:`BUILTIN_STRATEGIES`. Another package adds one through the
entry-point group ``fairlatent.strategies``; it then appears in ``fairlatent audit``, ``fairlatent
debias``, ``--help``, the config validation and the report with no other edit::

    [project.entry-points."fairlatent.strategies"]
    mine = "my_package.strategy:SPEC"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fairlatent.exceptions import ConfigError
from fairlatent.policy import GOAL
from fairlatent.registry import Registry, load_object

if TYPE_CHECKING:  # the strategies' code is imported when one is created, not for its name
    from fairlatent.strategies.base import Strategy

#: Colours given, in turn, to strategies whose spec names none.
FALLBACK_COLOURS = ("#0891b2", "#be123c", "#4d7c0f", "#a16207", "#7c3aed", "#0f766e")


@dataclass(frozen=True)
class StrategySpec:
    """Everything the audit, the CLI and the report need to know about one strategy.

    Parameters
    ----------
    name : str
        What users type (``--strategies NAME``).
    factory : str or callable
        ``"module:Class"`` (imported only when the strategy runs) or a callable; called with the
        strategy's options as keyword arguments, it returns a :class:`Strategy`.
    description : str
        One line for ``--help`` and the report.
    colour : str or None
        Colour of the strategy in the report's figures (``None``: one from
        :data:`FALLBACK_COLOURS`).
    generative : bool
        Trains neural generative models (so it uses ``--device`` and ``--epochs``).
    uses_gan : bool
        Trains a GAN that ``debias --model`` / ``--save-model`` can supply or save.
    analyses : tuple of str
        Names of the audit analyses (and their report sections) its output feeds, e.g.
        ``("representation",)``; see :mod:`fairlatent.metrics.analyses`.
    debias : bool
        Can be applied by ``fairlatent debias`` (the baseline cannot).
    shares : str or None
        Strategies with the same key share fitted models within a split (e.g. one GAN), so the
        audit runs them in the same unit of work.

    Examples
    --------
    >>> spec = STRATEGIES.get("reweigh")
    >>> spec.generative, spec.debias
    (False, True)
    """

    name: str
    factory: str | Callable[..., Strategy]
    description: str
    colour: str | None = None
    generative: bool = False
    uses_gan: bool = False
    analyses: tuple[str, ...] = ()
    debias: bool = True
    shares: str | None = None

    def create(self, **options: Any) -> Strategy:
        """Instantiate the strategy with its options.

        Raises
        ------
        ConfigError
            An option the strategy does not take.
        """
        from fairlatent.strategies.base import Strategy

        factory = load_object(self.factory)
        try:
            strategy = factory(**options)
        except TypeError as err:
            raise ConfigError(f"bad option for strategy {self.name!r}: {err}") from None
        if not isinstance(strategy, Strategy):
            raise ConfigError(
                f"strategy {self.name!r} built a {type(strategy).__name__}, not a Strategy; "
                "its factory must return a fairlatent.strategies.Strategy"
            )
        return strategy


#: What the two cell-synthesis strategies (``gan``, ``vae+gan``) share: one GAN, its analyses.
_CELL_SYNTHESIS: dict[str, Any] = {
    "generative": True, "uses_gan": True, "analyses": ("synthesis",), "shares": "gan",
}

BUILTIN_STRATEGIES: tuple[StrategySpec, ...] = (
    StrategySpec(
        "none",
        "fairlatent.strategies.baseline:NoMitigation",
        "baseline: classifiers trained on the real training rows, unchanged",
        colour="#6b7280",
        debias=False,
    ),
    StrategySpec(
        "reweigh",
        "fairlatent.strategies.baseline:Reweighing",
        "Kamiran & Calders reweighing: each group x label cell weighted by "
        "P(group)P(label)/P(group, label)",
        colour="#2563eb",
    ),
    StrategySpec(
        "vae",
        "fairlatent.strategies.latent:LatentDensityStrategy",
        "DB-VAE (Amini et al. 2019): a VAE learns a latent space of the training rows (features "
        "and label); rows from sparse latent regions weigh more, weight ∝ 1/(density + alpha), "
        "mixed with uniform weights at a tuned strength",
        colour="#16a34a",
        generative=True,
        analyses=("representation",),
    ),
    StrategySpec(
        "gan",
        "fairlatent.strategies.synthesis:CellBalancingStrategy",
        "conditional WGAN-GP synthesises rows so every group reaches the overall base rate "
        "(group sizes kept; real rows of the commoner label dropped at random)",
        colour="#ea580c",
        **_CELL_SYNTHESIS,
    ),
    StrategySpec(
        "vae+gan",
        "fairlatent.strategies.synthesis:OutlierBalancedStrategy",
        "outlier-balanced synthesis: GAN candidates for each under-target cell kept with "
        "probability ∝ inverse VAE latent density; real rows dropped from dense regions first",
        colour="#9333ea",
        **_CELL_SYNTHESIS,
    ),
    StrategySpec(
        "latent-eo",
        "fairlatent.strategies.latent_eo:LatentEqualizedOddsStrategy",
        "latent equalized odds: within each label, each group's rows weighted by the density "
        "ratio r = p(z | label) / p(z | group, label) in the VAE's latent space (cross-fitted "
        "classifier) raised to a tuned power λ (λ = 1 matches each group to the pooled latent "
        "distribution; the default λ = -1 weights up each group's typical regions)",
        colour="#0d9488",
        generative=True,
        shares="vae",
    ),
    StrategySpec(
        "invariant",
        "fairlatent.strategies.invariant:InvariantStrategy",
        "invariant latent repair (VFAE-style): a VAE whose decoder reads the group and whose "
        "encoder is penalised (MMD) for carrying it; each training row's features are decoded "
        "from its own code with the group input averaged over the groups, labels and sensitive "
        "columns kept; the penalty's weight is tuned (off first)",
        colour="#db2777",
        generative=True,
    ),
    StrategySpec(
        "threshold",
        "fairlatent.strategies.classical:ThresholdStrategy",
        "fairlearn ThresholdOptimizer (Hardt et al. 2016): group-specific randomised thresholds "
        "fitted on validation scores under an equalized-odds or demographic-parity constraint",
        colour="#64748b",
        debias=False,
    ),
    StrategySpec(
        "expgrad",
        "fairlatent.strategies.classical:ExponentiatedGradientStrategy",
        "fairlearn ExponentiatedGradient (Agarwal et al. 2018): a randomised mix of classifiers "
        "retrained with constraint-driven weights (equalized odds or demographic parity)",
        colour="#a16207",
        debias=False,
    ),
    StrategySpec(
        "corr-remove",
        "fairlatent.strategies.classical:CorrelationRemoverStrategy",
        "fairlearn CorrelationRemover: numeric features linearly projected off the group "
        "indicators (training and predicted rows alike), blended by alpha",
        colour="#84cc16",
        debias=False,
    ),
    StrategySpec(
        "goal",
        "fairlatent.strategies.classical:GoalStrategy",
        "goal thresholds: the most accurate randomised group thresholds with "
        f"DP ≤ {GOAL.dp_difference:g} and EO ≤ {GOAL.eo_difference:g} on validation scores "
        "(a linear programme), applied to new scores",
        colour="#0f172a",
        debias=False,
    ),
    StrategySpec(
        "reweigh+threshold",
        "fairlatent.strategies.composite:reweigh_threshold",
        "reweighing, then ThresholdOptimizer on the reweighted classifier's validation scores",
        colour="#1d4ed8",
        debias=False,
    ),
    StrategySpec(
        "gan+threshold",
        "fairlatent.strategies.composite:gan_threshold",
        "GAN cell balancing, then ThresholdOptimizer on the classifier's validation scores",
        colour="#c2410c",
        generative=True,
        uses_gan=True,
        debias=False,
        shares="gan",
    ),
    StrategySpec(
        "gan+goal",
        "fairlatent.strategies.composite:gan_goal",
        "GAN cell balancing, then the goal thresholds on the classifier's validation scores",
        colour="#7c2d12",
        generative=True,
        uses_gan=True,
        debias=False,
        shares="gan",
    ),
)

#: Every strategy the audit knows: the built-ins, then entry-point plug-ins.
STRATEGIES: Registry[StrategySpec] = Registry(
    "strategy", StrategySpec, BUILTIN_STRATEGIES, "fairlatent.strategies"
)


def strategy_colour(name: str) -> str:
    """Colour of strategy ``name`` in figures (stable; plug-ins without one get a fallback)."""
    names = STRATEGIES.names()
    if name not in names:
        return "#000000"
    spec = STRATEGIES.get(name)
    if spec.colour:
        return spec.colour
    uncoloured = [n for n in names if not STRATEGIES.get(n).colour]
    return FALLBACK_COLOURS[uncoloured.index(name) % len(FALLBACK_COLOURS)]


def get_strategy(name: str, **options: Any) -> Strategy:
    """Instantiate the strategy registered under ``name``.

    Parameters
    ----------
    name : str
        A name in :data:`STRATEGIES`.
    **options
        Keyword options for the strategy's constructor.

    Returns
    -------
    Strategy

    Examples
    --------
    >>> get_strategy("reweigh").__class__.__name__
    'Reweighing'
    """
    return STRATEGIES.get(name).create(**options)
