"""Samplers with the imbalanced-learn contract (``fit_resample`` returning the same columns)."""

from fairlatent.samplers.base import BaseSampler, group_labels
from fairlatent.samplers.latent_density import LatentDensityResampler, effective_sample_size
from fairlatent.samplers.latent_model import LatentModel
from fairlatent.samplers.outlier_balanced import OutlierBalancedResampler
from fairlatent.samplers.synthesis import CellBalancingResampler, Resampled, cell_targets
from fairlatent.samplers.synthetic_source import SyntheticSource

__all__ = [
    "BaseSampler",
    "CellBalancingResampler",
    "LatentDensityResampler",
    "LatentModel",
    "OutlierBalancedResampler",
    "Resampled",
    "SyntheticSource",
    "cell_targets",
    "effective_sample_size",
    "group_labels",
]
