"""The bootstrap-max (max-t) critical value and simultaneous intervals of a family of estimates.

See :mod:`fairlatent.metrics.simultaneous` for the method and the findings built on it; slice
discovery and the comparison of models use these intervals directly.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import norm

from fairlatent.policy import LEVEL

__all__ = ["max_t_critical_value", "simultaneous_intervals"]


def max_t_critical_value(deviations: np.ndarray, level: float = LEVEL) -> float:
    """Critical value of the bootstrap-max: the ``level`` quantile of each replicate's largest deviation.

    Parameters
    ----------
    deviations : ndarray, shape (B, K)
        ``|estimate*_bk - estimate_k| / se_k`` for B replicates and K comparisons; NaN entries
        (a rate undefined in that replicate) are ignored.
    level : float
        Simultaneous coverage.

    Returns
    -------
    float
        ``c`` such that ``estimate_k ± c · se_k`` covers all K values at once with probability
        ``level``; the normal quantile with a Bonferroni correction when there are no usable
        replicates.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> one = max_t_critical_value(np.abs(rng.standard_normal((4000, 1))))
    >>> ten = max_t_critical_value(np.abs(rng.standard_normal((4000, 10))))
    >>> bool(1.9 < one < 2.05), bool(2.6 < ten < 2.95)
    (True, True)
    """
    deviations = np.asarray(deviations, dtype=float)
    k = deviations.shape[1] if deviations.ndim == 2 else 0
    if k == 0:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        worst = np.nanmax(np.where(np.isfinite(deviations), deviations, np.nan), axis=1)
    worst = worst[np.isfinite(worst)]
    if len(worst) < 20:
        return float(norm.ppf(1 - (1 - level) / (2 * k)))
    return float(np.quantile(worst, level, method="higher"))


def simultaneous_intervals(
    estimates: np.ndarray,
    replicates: np.ndarray,
    se: np.ndarray | None = None,
    level: float = LEVEL,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Intervals that cover K estimands at once, by the studentised bootstrap-max.

    Parameters
    ----------
    estimates : ndarray, shape (K,)
        Point estimates on the original rows.
    replicates : ndarray, shape (B, K)
        The same statistics on B bootstrap resamples (NaN where undefined).
    se : ndarray, shape (K,), optional
        Standard errors; default the replicates' standard deviation.
    level : float
        Simultaneous coverage.

    Returns
    -------
    low, high : ndarray, shape (K,)
    critical_value : float

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> reps = rng.normal(0.0, 0.1, size=(2000, 3))
    >>> low, high, c = simultaneous_intervals(np.zeros(3), reps)
    >>> bool(np.all(low < 0) and np.all(high > 0) and c > 1.96)
    True
    """
    estimates = np.asarray(estimates, dtype=float)
    replicates = np.asarray(replicates, dtype=float)
    if se is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            se = np.nanstd(replicates, axis=0, ddof=1)
    se = np.asarray(se, dtype=float)
    usable = np.isfinite(estimates) & np.isfinite(se) & (se > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        deviations = np.abs(replicates[:, usable] - estimates[usable]) / se[usable]
    c = max_t_critical_value(deviations, level)
    low = np.where(usable, estimates - c * se, np.nan)
    high = np.where(usable, estimates + c * se, np.nan)
    return low, high, c
