"""Samplers with the imbalanced-learn contract (``fit_resample`` returning the same columns)."""

from fairlatent.samplers.latent_density import (
    LatentDensityResampler,
    LatentModel,
    effective_sample_size,
    group_labels,
)

__all__ = ["LatentDensityResampler", "LatentModel", "effective_sample_size", "group_labels"]
