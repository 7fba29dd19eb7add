"""fairlatent: bias auditing with latent-variable generative models.

Heavy dependencies (torch, matplotlib) are imported lazily; importing this package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fairlatent._version import __version__

if TYPE_CHECKING:
    from fairlatent.api import audit, debias, load_and_audit, write_report  # noqa: F401
    from fairlatent.config import AuditConfig  # noqa: F401
    from fairlatent.model_audit import audit_model, audit_predictions  # noqa: F401
    from fairlatent.results import AuditResult  # noqa: F401

_LAZY = {
    "audit": "fairlatent.api",
    "load_and_audit": "fairlatent.api",
    "write_report": "fairlatent.api",
    "debias": "fairlatent.api",
    "DebiasOutcome": "fairlatent.results.debiased",
    "InvariantEncoder": "fairlatent.models.vae.invariant",
    "audit_predictions": "fairlatent.model_audit",
    "audit_model": "fairlatent.model_audit",
    "AuditResult": "fairlatent.results",
    "StrategySpec": "fairlatent.strategies.registry",
    "ClassifierSpec": "fairlatent.classifiers.registry",
    "AuditConfig": "fairlatent.config",
    "read_table": "fairlatent.data.io",
    "prepare": "fairlatent.data.schema",
    "evaluate_predictions": "fairlatent.metrics.fairness",
    "reweighing_weights": "fairlatent.strategies.baseline",
    "FairlatentError": "fairlatent.exceptions",
    "FairlatentWarning": "fairlatent.warnings",
    "TabularEncoder": "fairlatent.encoding.encoder",
    "TabularVAE": "fairlatent.models.vae",
    "TabularGAN": "fairlatent.models.gan",
    "LatentDensityResampler": "fairlatent.samplers",
    "ThresholdPostProcessor": "fairlatent.strategies.postprocessors",
    "GoalPostProcessor": "fairlatent.strategies.postprocessors",
    "CellBalancingResampler": "fairlatent.samplers",
    "OutlierBalancedResampler": "fairlatent.samplers",
    "find_slices": "fairlatent.metrics.slices",
    "counterfactual_flips": "fairlatent.metrics.counterfactual",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fairlatent' has no attribute {name!r}")
