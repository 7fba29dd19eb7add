"""The numeric encodings of :class:`~fairlatent.encoding.TabularEncoder`.

``numeric="quantile"`` (default) maps a value to a normal score through its empirical quantile.
The map is piecewise linear in the probability scale with a *plateau* for every repeated value: a
value that fills quantile levels ``[a, b]`` encodes to the midpoint of that interval, and every
score that lands anywhere inside it decodes back to exactly that value. Zero-inflated or heavily
tied columns (``capital-gain``, ``hours-per-week``) thus decode exactly even from slightly noisy
model output, and the map is invertible up to float32 resolution. Probabilities stay inside
``[0.5 / n, 1 - 0.5 / n]`` (``n`` = number of quantile levels), so scores stay finite (about
+/-3.3 for 1000 levels); they are also clipped to +/-5.

``numeric="gmm"`` is the mode-specific normalisation of the CTGAN paper: a Bayesian Gaussian
mixture with up to ``max_modes`` components, modes with weight below 0.005 are dropped, and a
value becomes ``(value - mean_k) / (4 * std_k)`` (a ``numeric`` span) followed by the one-hot mode
``k`` (a ``mode`` span). The mode is the most probable one (deterministic, so the inverse is
exact) and the scalar is not clipped. The mixture is fitted on at most 20,000 rows drawn with
``random_state``.

Fitting returns plain JSON-ready lists (the saved description); :class:`QuantileMap` and
:func:`gmm_modes` apply them.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri

logger = logging.getLogger(__name__)

__all__ = [
    "GMM_STD_SCALE",
    "QuantileMap",
    "decimal_places",
    "fit_gmm",
    "fit_quantile",
    "gmm_modes",
]

Z_CLIP = 5.0
"""Normal scores of the quantile map are clipped to +/- this."""
GMM_STD_SCALE = 4.0
"""The GMM scalar is ``(value - mean_k) / (GMM_STD_SCALE * std_k)``."""
_GMM_WEIGHT_THRESHOLD = 0.005
_GMM_MAX_FIT_ROWS = 20_000


def fit_quantile(values: np.ndarray, n_quantiles: int) -> dict[str, list[float]]:
    """Fit the plateau quantile map on finite ``values`` (may be empty): JSON-ready lists."""
    if values.size == 0:
        return {"values": [0.0], "lo": [0.5], "hi": [0.5]}
    n_levels = int(min(n_quantiles, values.size))
    if n_levels == 1:
        return {"values": [float(values[0])], "lo": [0.5], "hi": [0.5]}
    levels = np.linspace(0.0, 1.0, n_levels)
    knots = np.quantile(values, levels)
    # quantiles are sorted; guard against tiny floating non-monotonicity of the interpolation
    knots = np.maximum.accumulate(knots)
    uniq, first, counts = np.unique(knots, return_index=True, return_counts=True)
    delta = 0.5 / n_levels
    scale = 1.0 - 2.0 * delta
    lo = delta + scale * levels[first]
    hi = delta + scale * levels[first + counts - 1]
    return {"values": uniq.tolist(), "lo": lo.tolist(), "hi": hi.tolist()}


class QuantileMap:
    """Vectorised forward/inverse of the plateau quantile map (kept out of JSON)."""

    __slots__ = ("hi", "inv_fp", "inv_xp", "lo", "mid", "values")

    def __init__(self, spec: dict[str, Any]) -> None:
        self.values = np.asarray(spec["values"], dtype=np.float64)
        self.lo = np.asarray(spec["lo"], dtype=np.float64)
        self.hi = np.asarray(spec["hi"], dtype=np.float64)
        self.mid = 0.5 * (self.lo + self.hi)
        self.inv_xp = np.column_stack([self.lo, self.hi]).ravel()
        self.inv_fp = np.repeat(self.values, 2)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Map finite values to normal scores."""
        v = self.values
        if v.size == 1:
            p = np.full(x.shape, self.mid[0])
        else:
            x = np.clip(x, v[0], v[-1])
            idx = np.searchsorted(v, x, side="right") - 1
            idx = np.clip(idx, 0, v.size - 2)
            left, right = v[idx], v[idx + 1]
            frac = (x - left) / (right - left)
            p = self.hi[idx] + frac * (self.lo[idx + 1] - self.hi[idx])
            p = np.where(x == left, self.mid[idx], p)
            p = np.where(x == right, self.mid[idx + 1], p)
        return np.clip(ndtri(p), -Z_CLIP, Z_CLIP)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Map normal scores back to values (any real ``z``; NaN decodes to the median)."""
        z = np.nan_to_num(z, nan=0.0)
        return np.interp(ndtr(z), self.inv_xp, self.inv_fp)


def fit_gmm(values: np.ndarray, max_modes: int, seed: int) -> dict[str, list[float]]:
    """Fit a Bayesian GMM and keep the modes whose weight exceeds the threshold."""
    uniq = np.unique(values)
    if uniq.size <= 1:
        center = float(uniq[0]) if uniq.size else 0.0
        return {"means": [center], "stds": [1.0], "log_weights": [0.0]}
    from sklearn.mixture import BayesianGaussianMixture

    rng = np.random.default_rng(seed)
    sample = values
    if values.size > _GMM_MAX_FIT_ROWS:
        sample = rng.choice(values, size=_GMM_MAX_FIT_ROWS, replace=False)
    loc = float(np.mean(sample))
    spread = float(np.std(sample)) or 1.0
    standard = ((sample - loc) / spread).reshape(-1, 1)
    gmm = BayesianGaussianMixture(
        n_components=int(min(max_modes, uniq.size)),
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=0.001,
        max_iter=100,
        n_init=1,
        random_state=int(rng.integers(2**31 - 1)),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gmm.fit(standard)
    for warning in caught:
        logger.debug("BayesianGaussianMixture: %s", warning.message)
    weights = gmm.weights_
    keep = np.flatnonzero(weights > _GMM_WEIGHT_THRESHOLD)
    if keep.size == 0:
        keep = np.array([int(np.argmax(weights))])
    keep = keep[np.argsort(-weights[keep], kind="stable")]
    means = gmm.means_.ravel()[keep] * spread + loc
    stds = np.sqrt(gmm.covariances_.ravel()[keep]) * spread
    stds = np.maximum(stds, 1e-12 * max(1.0, abs(loc)))
    kept = weights[keep] / weights[keep].sum()
    return {"means": means.tolist(), "stds": stds.tolist(), "log_weights": np.log(kept).tolist()}


def gmm_modes(x: np.ndarray, means: np.ndarray, stds: np.ndarray, log_w: np.ndarray) -> np.ndarray:
    """Most probable mode of each value under the kept mixture components."""
    if means.size == 1:
        return np.zeros(x.shape, dtype=np.int64)
    scaled = (x[:, None] - means[None, :]) / stds[None, :]
    log_post = log_w[None, :] - np.log(stds)[None, :] - 0.5 * scaled**2
    return np.argmax(log_post, axis=1)


_MAX_DECIMALS = 6


def decimal_places(values: np.ndarray) -> int | None:
    """Fewest decimal places (0 to 6) that represent every value exactly, or ``None``.

    Synthetic and reconstructed values are rounded to this precision on decode, so a column recorded
    to one decimal (``38.5``) never comes back as ``38.51734``.
    """
    sample = values  # every value: one row with more decimals must not be rounded away
    if sample.size == 0:
        return None
    tolerance = 1e-9 * np.abs(sample)  # relative: a tiny value such as 1e-38 is not "0 decimals"
    for places in range(_MAX_DECIMALS + 1):
        if np.all(np.abs(np.round(sample, places) - sample) <= tolerance):
            return places
    return None
