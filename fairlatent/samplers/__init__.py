"""Samplers with the imbalanced-learn contract (``fit_resample`` returning the same columns)."""

from fairlatent.samplers.latent_density import (
    LatentDensityResampler,
    LatentModel,
    effective_sample_size,
    group_labels,
)
from fairlatent.samplers.synthesis import (
    CellBalancingResampler,
    OutlierBalancedResampler,
    cell_targets,
)

__all__ = [
    "CellBalancingResampler",
    "LatentDensityResampler",
    "LatentModel",
    "OutlierBalancedResampler",
    "cell_targets",
    "effective_sample_size",
    "group_labels",
]
