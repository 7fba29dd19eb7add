"""A data strategy followed by a post-processor, as one strategy (e.g. ``gan+threshold``).

:class:`PrePostStrategy` is parameterised by two registered strategy names: a pre-processing strategy
that makes the training rows (``gan``, ``reweigh``, ...) and a post-processing one fitted on held-out
scores of the classifier trained on them (``threshold``, ``goal``). Each part is fitted once; the grid
combines the parts' grids (see :meth:`FittedPrePost.grid`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pandas as pd

from fairlatent.exceptions import ConfigError
from fairlatent.strategies.base import (
    OFF,
    FittedStrategy,
    Strategy,
    StrategyContext,
    StrategyKind,
    StrategyOutput,
    Strength,
)
from fairlatent.strategies.common import identity_output
from fairlatent.strategies.registry import get_strategy

__all__ = ["FittedPrePost", "PrePostStrategy", "gan_goal", "gan_threshold", "reweigh_threshold"]

ERR_KINDS = (
    "{name!r} combines a pre-processing strategy with a post-processing one, but {part!r} is "
    "{kind!r}-processing; choose e.g. pre='gan', post='threshold'"
)


class PrePostStrategy(Strategy):
    """Train on a pre-processing strategy's rows, then post-process the classifier's scores.

    Parameters
    ----------
    pre : str
        A registered pre-processing strategy (``"gan"``, ``"reweigh"``, ``"vae"``, ...).
    post : str
        A registered post-processing strategy (``"threshold"``, ``"goal"``).
    pre_options, post_options : dict, optional
        Options of each part.

    Examples
    --------
    >>> strategy = PrePostStrategy(pre="reweigh", post="threshold")
    >>> fitted = strategy.fit(None, None)
    >>> [s.label for s in fitted.grid()][:3]
    ['off', 'off + eo', 'λ=0.25 + eo']
    """

    kind: ClassVar[StrategyKind] = "post"

    def __init__(
        self,
        *,
        pre: str,
        post: str,
        pre_options: Mapping[str, Any] | None = None,
        post_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.pre = pre
        self.post = post
        self.pre_options = pre_options
        self.post_options = post_options

    @property
    def name(self) -> str:
        """``"<pre>+<post>"``."""
        return f"{self.pre}+{self.post}"

    def parts(self) -> tuple[Strategy, Strategy]:
        """Build the two strategies (checking their kinds).

        Returns
        -------
        pre, post : Strategy

        Raises
        ------
        ConfigError
            ``pre`` is not pre-processing or ``post`` is not post-processing.
        """
        pre = get_strategy(self.pre, **dict(self.pre_options or {}))
        post = get_strategy(self.post, **dict(self.post_options or {}))
        for part, strategy, kind in ((self.pre, pre, "pre"), (self.post, post, "post")):
            if strategy.kind != kind:
                raise ConfigError(ERR_KINDS.format(name=self.name, part=part, kind=strategy.kind))
        return pre, post

    def _fit(self, train: pd.DataFrame, context: StrategyContext) -> FittedPrePost:
        pre, post = self.parts()
        return FittedPrePost(pre.fit(train, context), post.fit(train, context))


def _pair(pre: Strength, post: Strength) -> Strength:
    if pre.identity and post.identity:
        return OFF
    return Strength(f"{pre.label} + {post.label}", {"pre": pre.to_dict(), "post": post.to_dict()})


class FittedPrePost(FittedStrategy):
    """The two fitted parts; a strength is a pair of the parts' strengths."""

    def __init__(self, pre: FittedStrategy, post: FittedStrategy) -> None:
        self.pre = pre
        self.post = post

    def grid(self) -> list[Strength]:
        """``off``; every pre strength with the post default; the pre default with the other posts.

        So the tuning can keep the data strategy and vary the post-processor, or the reverse,
        without paying for every combination (each grid point costs one classifier fit).
        """
        pre_default, post_default = self.pre.default(), self.post.default()
        points = [_pair(p, post_default) for p in self.pre.grid()]
        points += [_pair(pre_default, q) for q in self.post.grid() if not q.identity]
        return [OFF] + list({p.label: p for p in points if not p.identity}.values())

    def default(self) -> Strength:
        """Return both parts' defaults."""
        return _pair(self.pre.default(), self.post.default())

    def transform(self, frame: pd.DataFrame, strength: Strength) -> StrategyOutput:
        """Make the training rows with the pre part and attach the post part's post-processor."""
        if strength.identity:
            return identity_output(frame, strength)
        pre = Strength(**strength.params["pre"])
        post = Strength(**strength.params["post"])
        output = self.pre.transform(frame, pre)
        if not post.identity:
            post_output = self.post.transform(output.frame, post)
            output.postprocessor = post_output.postprocessor
            output.diagnostics = {**output.diagnostics, "post": post_output.diagnostics}
        output.strength = strength
        return output


def gan_threshold(**options: Any) -> PrePostStrategy:
    """``gan+threshold``: GAN cell balancing, then fairlearn's ThresholdOptimizer."""
    return PrePostStrategy(pre="gan", post="threshold", **options)


def gan_goal(**options: Any) -> PrePostStrategy:
    """``gan+goal``: GAN cell balancing, then the goal thresholds."""
    return PrePostStrategy(pre="gan", post="goal", **options)


def reweigh_threshold(**options: Any) -> PrePostStrategy:
    """``reweigh+threshold``: reweighing, then fairlearn's ThresholdOptimizer."""
    return PrePostStrategy(pre="reweigh", post="threshold", **options)
