"""The typed result of ``debias``: the rows to train on and the record of how they were chosen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SIDECAR_VERSION", "DebiasOutcome"]

#: Version of the sidecar document (:meth:`DebiasOutcome.sidecar`).
SIDECAR_VERSION = 1


@dataclass
class DebiasOutcome:
    """What :func:`fairlatent.debias` returns.

    Attributes
    ----------
    frame : DataFrame
        The debiased training rows in the input's schema (target with its original labels, the
        sensitive columns kept; no weight or synthetic-flag column).
    sample_weight : ndarray or None
        Per-row weights when the strategy weights rows (train with them).
    is_synthetic : ndarray of bool
        Rows generated rather than drawn from the data.
    strategy, strength : str
        What was applied (``"none"``, ``"off"`` when nothing beat the real rows).
    setups : list of str
        The downstream setups the choice was tuned for (classifier, sensitive column used or not).
    validation : list of dict
        The pick's validation figures in each setup, against doing nothing, with the paired
        change of the DP and EO differences.
    leakage : list of dict
        Probe AUCs of recovering the group from the written rows (``rows="written"``) and, for
        comparison, from the real rows (``rows="real"``).
    tuning : list of dict
        Every option scored on the validation rows, admissible or refused and why.
    notices : list of str
        Decisions taken about the data.
    config : dict
        The configuration used.
    artifacts : dict
        Fitted models of the strategy (e.g. ``"gan"``), not serialised.
    """

    frame: pd.DataFrame
    sample_weight: np.ndarray | None
    is_synthetic: np.ndarray
    strategy: str
    strength: str
    setups: list[str]
    validation: list[dict[str, Any]] = field(default_factory=list)
    leakage: list[dict[str, Any]] = field(default_factory=list)
    tuning: list[dict[str, Any]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict, repr=False)

    def setup_line(self) -> str:
        """One line naming the pick and the setups it was tuned for.

        Examples
        --------
        >>> DebiasOutcome(pd.DataFrame(), None, np.zeros(0, bool), "reweigh", "λ=0.5",
        ...               ["logreg, sensitive column not used"]).setup_line()
        'reweigh at strength λ=0.5, tuned for: logreg, sensitive column not used'
        """
        return f"{self.strategy} at strength {self.strength}, tuned for: {'; '.join(self.setups)}"

    def sidecar(self) -> dict[str, Any]:
        """Return the JSON-ready record written next to the rows (``<out>.json``).

        Keys: ``sidecar_version``, ``strategy``, ``strength``, ``setups`` (tuned for),
        ``validation`` (figures per setup), ``leakage``, ``tuning`` (every option scored),
        ``rows``, ``synthetic_rows``, ``weighted``, ``notices``, ``config``.
        """
        return {
            "sidecar_version": SIDECAR_VERSION,
            "strategy": self.strategy,
            "strength": self.strength,
            "setups": list(self.setups),
            "validation": self.validation,
            "leakage": self.leakage,
            "tuning": self.tuning,
            "rows": int(len(self.frame)),
            "synthetic_rows": int(np.count_nonzero(self.is_synthetic)),
            "weighted": self.sample_weight is not None,
            "notices": list(self.notices),
            "config": self.config,
        }
