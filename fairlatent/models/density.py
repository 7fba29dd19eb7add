"""Density estimators on latent means, for DB-VAE style rarity weights.

Both estimators take the latent means ``z`` (``n x d``) of a fitted VAE and share one API:

* ``fit(z) -> self``
* ``log_density(z)``: log of the estimated density (higher = more common)
* ``sampling_weights(z)``: resampling weights, larger for rarer rows, mean 1 over the given rows
* ``rarity(z)``: in ``[0, 1]``, the share of the fitted rows that are *more common* than each row
  (mid-rank of ``-log_density`` against the rows seen in ``fit``), so higher = rarer and the value
  of a row does not depend on which other rows are scored with it.

:class:`HistogramDensity` is the estimator of DB-VAE (Amini et al., AIES 2019): one histogram per
latent dimension with the outer bin edges open to +/- infinity; :class:`GaussianMixtureDensity` is
the follow-up literature's replacement, a Gaussian mixture on the whole latent space.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator

from fairlatent.exceptions import ConfigError, DataError, check_fitted

logger = logging.getLogger(__name__)

__all__ = ["GaussianMixtureDensity", "HistogramDensity", "LatentDensity", "make_density"]

ERR_Z_SHAPE = (
    "expected latent means as a 2-D array (rows x latent dimensions), got shape {shape}; "
    "pass e.g. vae.encode(frame)[0]"
)
ERR_Z_EMPTY = "expected at least one row of latent means, got none"
ERR_Z_FINITE = (
    "latent means hold {count} NaN or infinite value(s); the VAE diverged or the input was not "
    "encoded: retrain with a smaller learning rate"
)
ERR_Z_DIMS = "latent means have {found} dimension(s) but the density was fitted on {expected}"
ERR_NOT_FITTED = "{name} is not fitted yet; call fit(z) first"
ERR_BINS = "bins={value!r} must be an integer of at least 2"
ERR_ALPHA = "alpha={value!r} must be a positive, finite number (the paper uses 0.001 to 0.01)"
ERR_RULE = "rule={value!r} is unknown; use 'product' (the paper) or 'max' (the reference lab code)"
ERR_COMPONENTS = "n_components={value!r} must be an integer of at least 1"
ERR_DENSITY = "density={value!r} is unknown; use 'histogram' or 'gmm'"

Rule = Literal["product", "max"]


def _check_z(z: Any, n_dims: int | None = None) -> np.ndarray:
    """Validate latent means and return them as a float64 ``n x d`` array."""
    array = np.asarray(z, dtype=float)
    if array.ndim != 2:
        raise DataError(ERR_Z_SHAPE.format(shape=array.shape))
    if array.shape[0] == 0:
        raise DataError(ERR_Z_EMPTY)
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise DataError(ERR_Z_FINITE.format(count=bad))
    if n_dims is not None and array.shape[1] != n_dims:
        raise DataError(ERR_Z_DIMS.format(found=array.shape[1], expected=n_dims))
    return array


def _check_alpha(alpha: Any) -> float:
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise ConfigError(ERR_ALPHA.format(value=alpha)) from None
    if not np.isfinite(value) or value <= 0:
        raise ConfigError(ERR_ALPHA.format(value=alpha))
    return value


def _normalise_log_weights(log_w: np.ndarray) -> np.ndarray:
    """Exponentiate log weights without overflow and scale them to mean 1."""
    w = np.exp(log_w - log_w.max())
    return w / w.mean()


def _mid_rank(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Share of ``reference`` (sorted) below each value, ties counted half."""
    left = np.searchsorted(reference, values, side="left")
    right = np.searchsorted(reference, values, side="right")
    return (left + right) / (2.0 * len(reference))


class LatentDensity(BaseEstimator):
    """Shared part of the latent density estimators; subclasses implement ``_fit``/``_log_density``.

    Fitted attributes: ``n_features_in_`` (latent dimensions) and ``reference_`` (sorted
    ``-log_density`` of the fitted rows, used by :meth:`rarity`).
    """

    def fit(self, z: Any) -> LatentDensity:
        """Fit the density on latent means.

        Parameters
        ----------
        z : array-like of shape (n_rows, n_dims)
            Latent means of the rows (e.g. ``vae.encode(frame)[0]``).

        Returns
        -------
        self
        """
        array = _check_z(z)
        self._check_params()
        self._fit(array)
        self.n_features_in_ = array.shape[1]
        self.reference_ = np.sort(-self._log_density(array))
        return self

    def _checked(self, z: Any) -> np.ndarray:
        """Require a fitted estimator and latent means of its dimensions; return them checked."""
        check_fitted(self, "reference_", message=ERR_NOT_FITTED.format(name=type(self).__name__))
        return _check_z(z, self.n_features_in_)

    def log_density(self, z: Any) -> np.ndarray:
        """Log of the estimated latent density at each row of ``z`` (higher = more common).

        ``z`` is array-like of shape (n_rows, n_dims); the result has shape (n_rows,).
        """
        return self._log_density(self._checked(z))

    def rarity(self, z: Any) -> np.ndarray:
        """Rarity of each row in ``[0, 1]``: the share of the fitted rows that are more common.

        Parameters
        ----------
        z : array-like of shape (n_rows, n_dims)

        Returns
        -------
        ndarray of shape (n_rows,)
            0 = as common as the densest fitted rows, 1 = rarer than every fitted row.
        """
        return _mid_rank(self.reference_, -self.log_density(z))

    def sampling_weights(self, z: Any) -> np.ndarray:
        """Resampling weights of the rows of ``z`` (n_rows, n_dims): larger for rarer rows, mean 1.

        Returns
        -------
        ndarray of shape (n_rows,)
            Positive weights whose mean over these rows is 1.
        """
        return self._sampling_weights(self._checked(z))

    # subclass hooks -------------------------------------------------------------------------
    def _check_params(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _fit(self, z: np.ndarray) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _log_density(self, z: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def _sampling_weights(self, z: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError


class HistogramDensity(LatentDensity):
    """DB-VAE's density: one histogram per latent dimension, combined over dimensions.

    Each dimension's latent means are binned into ``bins`` equal-width bins over the fitted range;
    the outer edges are then opened to -inf/+inf so new rows always fall in a bin. Each histogram is
    normalised to probability masses ``Q_i`` (summing to 1), so ``alpha`` does not depend on the
    scale of the latent space.

    Parameters
    ----------
    bins : int, default 10
        Bins per latent dimension (the reference lab code uses 10).
    alpha : float, default 0.01
        Smoothing. ``alpha -> 0`` samples uniformly over latent space (strongest debiasing),
        ``alpha -> inf`` gives uniform weights (no debiasing); the paper found 0.001-0.01 best.
    rule : {"product", "max"}, default "product"
        ``"product"`` (the paper): ``w ∝ prod_i 1 / (Q_i(z_i) + alpha)``, computed in log space so
        64 or more dimensions do not underflow. ``"max"`` (the reference lab code): per dimension
        ``(Q_i + alpha)`` is renormalised, inverted and normalised over the rows, and the weight is
        the element-wise maximum over dimensions. (The lab code bins with ``density=True``; here the
        masses are used in both rules.)

    Attributes
    ----------
    edges_ : ndarray of shape (n_dims, bins - 1)
        Inner bin edges of each dimension.
    masses_ : ndarray of shape (n_dims, bins)
        Normalised histogram of each dimension.
    n_fit_ : int
        Rows seen in ``fit``.

    Notes
    -----
    :meth:`log_density` is ``sum_i log Q_i(z_i)`` (a bin empty in ``fit`` counts as half a row, so
    new rows never get ``-inf``).

    Examples
    --------
    >>> import numpy as np
    >>> z = np.r_[np.zeros(95), np.full(5, 3.0)][:, None]
    >>> w = HistogramDensity(bins=5).fit(z).sampling_weights(z)
    >>> bool(w[-1] > 10 * w[0])
    True
    """

    def __init__(self, *, bins: int = 10, alpha: float = 0.01, rule: Rule = "product") -> None:
        self.bins = bins
        self.alpha = alpha
        self.rule = rule

    def _check_params(self) -> None:
        bins = self.bins
        if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 2:
            raise ConfigError(ERR_BINS.format(value=self.bins))
        _check_alpha(self.alpha)
        if self.rule not in ("product", "max"):
            raise ConfigError(ERR_RULE.format(value=self.rule))

    def _fit(self, z: np.ndarray) -> None:
        n, d = z.shape
        bins = int(self.bins)
        edges = np.empty((d, bins - 1))
        masses = np.empty((d, bins))
        for i in range(d):
            counts, bin_edges = np.histogram(z[:, i], bins=bins)
            edges[i] = bin_edges[1:-1]
            masses[i] = counts / n
        self.edges_ = edges
        self.masses_ = masses
        self.n_fit_ = n

    def _bin_index(self, z: np.ndarray) -> np.ndarray:
        """Bin of every row in every dimension (n x d)."""
        idx = np.empty(z.shape, dtype=np.intp)
        for i in range(z.shape[1]):
            idx[:, i] = np.searchsorted(self.edges_[i], z[:, i], side="right")
        return idx

    def _bin_masses(self, z: np.ndarray) -> np.ndarray:
        """``Q_i(z_i)`` for every row and dimension (n x d)."""
        return self.masses_[np.arange(z.shape[1]), self._bin_index(z)]

    def _log_density(self, z: np.ndarray) -> np.ndarray:
        q = np.maximum(self._bin_masses(z), 0.5 / self.n_fit_)
        return np.log(q).sum(axis=1)

    def _sampling_weights(self, z: np.ndarray) -> np.ndarray:
        alpha = _check_alpha(self.alpha)
        q = self._bin_masses(z)
        if self.rule == "product":
            return _normalise_log_weights(-np.log(q + alpha).sum(axis=1))
        # reference lab code: smooth, renormalise, invert, normalise over rows, max over dims
        smoothed = self.masses_ + alpha
        smoothed = smoothed / smoothed.sum(axis=1, keepdims=True)
        idx = self._bin_index(z)
        weights = np.zeros(len(z))
        for i in range(z.shape[1]):
            p = 1.0 / smoothed[i][idx[:, i]]
            weights = np.maximum(weights, p / p.sum())
        return weights / weights.mean()


class GaussianMixtureDensity(LatentDensity):
    """A Gaussian mixture (full covariances) on the whole latent space.

    Parameters
    ----------
    n_components : int, default 8
        Mixture components (capped at the number of fitted rows).
    alpha : float, default 0.01
        Smoothing of the weights ``w ∝ 1 / (r(z) + alpha)``, where ``r(z) = p(z) / mean p`` is the
        density relative to its mean over the fitted rows (so ``alpha`` is scale-free).
        ``alpha -> 0`` samples ∝ ``1 / p`` (uniform over latent space), ``alpha -> inf`` uniformly.
    random_state : int or None, default None
        Seed of the mixture's initialisation.

    Attributes
    ----------
    mixture_ : sklearn.mixture.GaussianMixture
    log_mean_density_ : float
        ``log mean p`` over the fitted rows.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.random.default_rng(0).normal(size=(200, 2))
    >>> gmm = GaussianMixtureDensity(n_components=2, random_state=0).fit(z)
    >>> gmm.sampling_weights(z).mean().round(6)
    np.float64(1.0)
    """

    def __init__(
        self, *, n_components: int = 8, alpha: float = 0.01, random_state: int | None = None
    ) -> None:
        self.n_components = n_components
        self.alpha = alpha
        self.random_state = random_state

    def _check_params(self) -> None:
        k = self.n_components
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ConfigError(ERR_COMPONENTS.format(value=k))
        _check_alpha(self.alpha)

    def _fit(self, z: np.ndarray) -> None:
        from sklearn.mixture import GaussianMixture

        k = int(min(self.n_components, len(z)))
        self.mixture_ = GaussianMixture(
            n_components=k, covariance_type="full", reg_covar=1e-4, random_state=self.random_state
        ).fit(z)
        log_p = self.mixture_.score_samples(z)
        self.log_mean_density_ = float(logsumexp(log_p) - np.log(len(z)))

    def _log_density(self, z: np.ndarray) -> np.ndarray:
        return self.mixture_.score_samples(z)

    def _sampling_weights(self, z: np.ndarray) -> np.ndarray:
        alpha = _check_alpha(self.alpha)
        log_r = self._log_density(z) - self.log_mean_density_
        # w = 1 / (r + alpha) in log space: -log(exp(log_r) + alpha)
        return _normalise_log_weights(-np.logaddexp(log_r, np.log(alpha)))


def make_density(
    kind: str,
    *,
    alpha: float = 0.01,
    bins: int = 10,
    rule: Rule = "product",
    n_components: int = 8,
    random_state: int | None = None,
) -> LatentDensity:
    """Build an unfitted density estimator by name.

    Parameters
    ----------
    kind : {"histogram", "gmm"}
        Which estimator.
    alpha, bins, rule, n_components, random_state
        Passed to the estimator that takes them.

    Returns
    -------
    LatentDensity

    Examples
    --------
    >>> make_density("gmm", n_components=3)
    GaussianMixtureDensity(n_components=3)
    """
    if kind == "histogram":
        return HistogramDensity(bins=bins, alpha=alpha, rule=rule)
    if kind == "gmm":
        return GaussianMixtureDensity(
            n_components=n_components, alpha=alpha, random_state=random_state
        )
    raise ConfigError(ERR_DENSITY.format(value=kind))
