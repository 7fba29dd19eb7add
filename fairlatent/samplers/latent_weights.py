"""Weights of latent-density resampling: the weighed rows, their effective size, group quotas."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fairlatent.models.density import LatentDensity

__all__ = ["LatentWeights", "effective_sample_size", "proportional_counts"]


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` of a weight vector.

    Parameters
    ----------
    weights : ndarray
        Non-negative weights.

    Returns
    -------
    float
        Between 1 and ``len(weights)`` (equal weights give ``len(weights)``).

    Examples
    --------
    >>> effective_sample_size(np.ones(10))
    10.0
    """
    w = np.asarray(weights, dtype=float)
    total = float(np.sum(w**2))
    return float(np.sum(w) ** 2 / total) if total > 0 else 0.0


@dataclass(frozen=True)
class LatentWeights:
    """Latent-density weights of a set of rows (see :meth:`LatentDensityResampler.weigh`).

    Parameters
    ----------
    weights : ndarray
        Weight of each row, larger for rarer rows; mean 1 (within each group in group scope).
    rarity : ndarray
        Rarity in ``[0, 1]`` of each row (within its group in group scope).
    means : ndarray of shape (n_rows, latent_dim)
        The rows' latent means.
    groups : ndarray of str
        Group of each row.
    density : LatentDensity
        Density fitted on all these rows.
    group_densities : dict
        Group -> density fitted within it (group scope), else empty.
    """

    weights: np.ndarray
    rarity: np.ndarray
    means: np.ndarray
    groups: np.ndarray
    density: LatentDensity
    group_densities: dict[str, LatentDensity]


def proportional_counts(counts: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` over groups in proportion to ``counts`` (largest remainders).

    Parameters
    ----------
    counts : ndarray of int
        Rows of each group.
    total : int
        Rows to share out.

    Returns
    -------
    ndarray of int
        Quota of each group, summing to ``total``.

    Examples
    --------
    >>> proportional_counts(np.array([2, 1]), 4).tolist()
    [3, 1]
    """
    exact = counts / counts.sum() * total
    quota = np.floor(exact).astype(int)
    remainder = total - int(quota.sum())
    if remainder:
        order = np.argsort(-(exact - quota), kind="stable")
        quota[order[:remainder]] += 1
    return quota
