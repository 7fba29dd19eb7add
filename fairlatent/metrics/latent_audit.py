"""The latent audit of an audit: certified slices where the models fail, and counterfactual flips.

Runs on every audit unless ``--no-latent-audit`` (``latent_audit = false``), whatever the
strategies, on the first repeat's rows:

1. a group-conditional VAE (:mod:`fairlatent.metrics.latent_space`) over the classifiers'
   non-sensitive features — the ``invariant`` strategy's encoder when the audit fitted one over the
   same groups, else one fitted here on a sample of the training rows (no labels);
2. :func:`~fairlatent.metrics.slices.slice_report` for every audited model: proposed on the
   validation rows (predictions of a model fitted without them where the audit has one), certified
   on the test rows, all models in one simultaneous family;
3. :func:`~fairlatent.metrics.counterfactual.flip_rates` for every audited model on the test rows.

The result is stored as ``analyses["latent"]``; metrics.json also lists its ``slices`` and
``counterfactual`` entries at the top level.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from fairlatent.metrics.counterfactual import counterfactual_rows, feature_moves, flip_rates
from fairlatent.metrics.latent_space import DEFAULT_EPOCHS, DEFAULT_FIT_ROWS, fit_latent_coder
from fairlatent.metrics.slices import slice_report
from fairlatent.models.vae.invariant import InvariantEncoder
from fairlatent.policy import BASELINE

if TYPE_CHECKING:
    from fairlatent.metrics.analyses import AnalysisInput

logger = logging.getLogger(__name__)

__all__ = ["latent_audit"]


def _reusable_encoder(inputs: AnalysisInput, groups: set[str]) -> InvariantEncoder | None:
    """Return a fitted conditional encoder some strategy kept over the audit's groups, if any."""
    for output in inputs.outputs.values():
        for artifact in output.artifacts.values():
            if (
                isinstance(artifact, InvariantEncoder)
                and getattr(artifact, "conditional_", False)
                and {str(g) for g in artifact.vae_.group_levels_} == groups
            ):
                return artifact
    return None


def latent_audit(inputs: AnalysisInput) -> dict[str, Any] | None:
    """Run the latent audit on an audit's first repeat (see the module docstring).

    Parameters
    ----------
    inputs : AnalysisInput
        Needs ``validation``, ``models`` and ``validation_predictions`` (kept by the engine when
        the latent audit is on).

    Returns
    -------
    dict or None
        ``slices`` (one entry per candidate), ``slice_family`` (how many were tested, critical
        value, settings), ``counterfactual`` (one entry per model and group), ``moves``,
        ``examples``, ``latent_model``, ``seconds``; ``None`` when the engine kept no model.
    """
    if inputs.validation is None or not inputs.models:
        logger.info("latent audit skipped: no models were kept")
        return None
    started = time.perf_counter()
    sensitive = list(inputs.sensitive)
    features = [c for c in inputs.features if c not in set(sensitive)]
    group_column = inputs.group_column
    train, validation, test = inputs.train, inputs.validation, inputs.test
    groups = {str(g) for g in train[group_column].unique()}
    options = dict(inputs.options)
    reused = _reusable_encoder(inputs, groups)
    epochs = int(options.get("epochs") or DEFAULT_EPOCHS)
    coder = fit_latent_coder(
        train,
        columns=features,
        sensitive=sensitive,
        groups=train[group_column].to_numpy(),
        encoder=reused,
        epochs=epochs,
        max_rows=DEFAULT_FIT_ROWS,
        device=str(options.get("device", "auto")),
        random_state=inputs.random_state,
    )
    fitted = time.perf_counter()
    n_boot = int(options.get("n_boot", 200))
    keys = [k for k in inputs.models if k in inputs.predictions and k in inputs.validation_predictions]
    report = slice_report(
        {k: (np.asarray(inputs.validation_predictions[k]), np.asarray(inputs.predictions[k]))
         for k in keys},
        discover=validation.reset_index(drop=True),
        certify=test.reset_index(drop=True),
        z_discover=coder.encode(validation),
        target=inputs.target,
        columns=[*features, *sensitive],
        groups_discover=validation[group_column].to_numpy(),
        n_boot=n_boot,
        random_state=inputs.random_state,
    )
    sliced = time.perf_counter()
    rows = counterfactual_rows(coder, test, list(test[group_column]), group_column=group_column)
    counterfactual: list[dict[str, Any]] = []
    examples: list[dict[str, Any]] = []
    for strategy, classifier in keys:
        flips = flip_rates(rows, inputs.models[(strategy, classifier)], classifier=classifier,
                           strategy=strategy, n_boot=n_boot, random_state=inputs.random_state)
        counterfactual.extend(flips.entries)
        if strategy == BASELINE:
            examples.extend({"classifier": classifier, **e} for e in flips.examples)
    family = report.to_dict()
    slices = family.pop("slices")
    held_out = {f"{s} / {c}": bool(getattr(inputs.models[(s, c)], "held_out", False))
                for s, c in keys}
    vae = coder.encoder.vae_
    return {
        "slices": slices,
        "slice_family": {**family, "discovery_predictions_held_out": held_out},
        "counterfactual": counterfactual,
        "moves": feature_moves(rows, coder.columns),
        "examples": examples,
        "latent_model": {
            "source": "fitted by the latent audit" if coder.fitted_here else
            "the invariant strategy's encoder",
            "columns": list(coder.columns),
            "groups": coder.groups,
            "epochs_run": len(getattr(vae, "history_", []) or []),
            "fit_rows": min(len(train), DEFAULT_FIT_ROWS) if coder.fitted_here else None,
            "fit_seconds": round(float(getattr(vae, "fit_seconds_", 0.0)), 2),
        },
        "seconds": {
            "total": round(time.perf_counter() - started, 2),
            "latent_model": round(fitted - started, 2),
            "slices": round(sliced - fitted, 2),
            "counterfactual": round(time.perf_counter() - sliced, 2),
        },
    }
