"""Samplers with the imbalanced-learn contract (``fit_resample`` returning the same columns)."""

from fairlatent.samplers.base import BaseSampler, group_labels
from fairlatent.samplers.latent_density import LatentDensityResampler, effective_sample_size
from fairlatent.samplers.latent_model import LatentModel
from fairlatent.samplers.synthesis import (
    CellBalancingResampler,
    OutlierBalancedResampler,
    cell_targets,
)
from fairlatent.samplers.synthetic_source import SyntheticSource

__all__ = [
    "BaseSampler",
    "CellBalancingResampler",
    "LatentDensityResampler",
    "LatentModel",
    "OutlierBalancedResampler",
    "SyntheticSource",
    "cell_targets",
    "effective_sample_size",
    "group_labels",
]
