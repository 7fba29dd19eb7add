"""The fitted latent model of DB-VAE: a tabular VAE plus a density of its latent means.

:class:`LatentModel` is what :class:`~fairlatent.samplers.LatentDensityResampler` learns and what
the representation audit (:func:`fairlatent.metrics.representation.representation_audit`) reads:
it encodes new rows (their features plus the label, as the VAE saw them in training) and scores
how rare they are under the training rows' latent density.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fairlatent.data.kinds import is_numeric
from fairlatent.exceptions import SchemaError
from fairlatent.models.density import LatentDensity

if TYPE_CHECKING:
    from fairlatent.models.vae import TabularVAE

logger = logging.getLogger(__name__)

__all__ = ["ERR_MISSING_COLUMNS", "LABEL_COLUMN", "LatentModel", "fill_unseen"]

#: Name of the label column added to the VAE's input.
LABEL_COLUMN = "_fl_label"
ERR_MISSING_COLUMNS = (
    "the rows lack column(s) {missing} the VAE was trained on; pass the same columns"
)


def _label_series(y: Any, index: pd.Index) -> pd.Series:
    """Turn the label into a string column for the VAE (so it is one-hot encoded)."""
    values = pd.Series(np.asarray(y), index=index)
    return values.astype(object).astype(str).astype("string")


@dataclass
class LatentModel:
    """A fitted VAE plus latent density, able to encode and score new rows.

    Parameters
    ----------
    vae : TabularVAE
        Trained on ``columns`` plus the label column :data:`LABEL_COLUMN`.
    density : LatentDensity
        Density fitted on the latent means of all training rows.
    columns : list of str
        Columns of ``X`` the VAE sees, besides the label.
    sensitive : list of str
        Sensitive columns (part of ``columns``).
    group_densities : dict
        Group label -> density fitted within that group (``scope="group"``), else empty.
    fill : dict
        What the VAE saw in each column (see :meth:`describe_columns`), used to map values it
        never saw.

    Examples
    --------
    >>> model = resampler.latent_model_  # doctest: +SKIP
    >>> model.rarity(test_frame, test_frame["income"])  # doctest: +SKIP
    """

    vae: TabularVAE
    density: LatentDensity
    columns: list[str]
    sensitive: list[str] = field(default_factory=list)
    group_densities: dict[str, LatentDensity] = field(default_factory=dict)
    fill: dict[str, dict[str, Any]] = field(default_factory=dict)

    @staticmethod
    def describe_columns(X: pd.DataFrame) -> dict[str, dict[str, Any]]:
        """Record what the VAE saw in each column, so unseen values can be mapped later.

        Parameters
        ----------
        X : DataFrame
            The training rows.

        Returns
        -------
        dict
            Column -> ``{"categories": set or None, "has_nan": bool, "value": fill value}``:
            the most frequent value of a categorical column, the median of a numeric one
            (numeric as decided by :func:`fairlatent.data.kinds.is_numeric`).
        """
        info: dict[str, dict[str, Any]] = {}
        for column in X.columns:
            series = X[column]
            present = series.dropna()
            if is_numeric(series):
                value: Any = float(present.median()) if len(present) else 0.0
                categories = None
            else:
                value = present.mode().iloc[0] if len(present) else None
                categories = set(present.unique().tolist())
            info[str(column)] = {"categories": categories, "has_nan": bool(series.isna().any()),
                                 "value": value}
        return info

    def _fill_unseen(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Map categories and missing values the VAE never saw to the column's fill value."""
        return fill_unseen(frame, self.fill)

    def vae_input(self, X: pd.DataFrame, y: Any) -> pd.DataFrame:
        """Build the VAE's input frame: ``X[columns]`` plus the label as a string column.

        Categories (and missing values) never seen in training are replaced by the column's most
        frequent training value (median for numbers), so held-out rows can always be encoded.

        Parameters
        ----------
        X : DataFrame
            Rows holding at least :attr:`columns`.
        y : array-like
            Their labels.

        Returns
        -------
        DataFrame
        """
        missing = [c for c in self.columns if c not in X.columns]
        if missing:
            raise SchemaError(ERR_MISSING_COLUMNS.format(missing=missing))
        frame = self._fill_unseen(X[self.columns].copy())
        frame[LABEL_COLUMN] = _label_series(y, frame.index)
        return frame

    def encode(self, X: pd.DataFrame, y: Any) -> np.ndarray:
        """Latent means of the rows (``n x latent_dim``)."""
        return np.asarray(self.vae.encode(self.vae_input(X, y))[0], dtype=float)

    def log_density(self, X: pd.DataFrame, y: Any) -> np.ndarray:
        """Log latent density of the rows under :attr:`density` (higher = more common)."""
        return self.density.log_density(self.encode(X, y))

    def rarity(self, X: pd.DataFrame, y: Any) -> np.ndarray:
        """Rarity in ``[0, 1]`` of the rows relative to the training rows (higher = rarer)."""
        return self.density.rarity(self.encode(X, y))

    def reconstruction_error(self, X: pd.DataFrame, y: Any) -> np.ndarray:
        """Return the VAE's per-row reconstruction error (higher = less typical)."""
        return np.asarray(self.vae.reconstruction_error(self.vae_input(X, y)), dtype=float)


def fill_unseen(frame: pd.DataFrame, fill: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Map categories and missing values a model never saw to the column's fill value (in place).

    Parameters
    ----------
    frame : DataFrame
        Rows to encode (changed in place and returned).
    fill : dict
        What the model saw per column, from :meth:`LatentModel.describe_columns`.

    Returns
    -------
    DataFrame
    """
    for column, info in fill.items():
        if column not in frame.columns or info["value"] is None:
            continue
        series = frame[column]
        missing = series.isna().to_numpy()
        bad = missing if not info["has_nan"] else np.zeros(len(frame), dtype=bool)
        if info["categories"] is not None:
            bad = bad | (~missing & ~series.isin(info["categories"]).to_numpy())
        if bad.any():
            logger.info("column %r: %d value(s) unseen in training mapped to %r",
                        column, int(bad.sum()), info["value"])
            frame.loc[bad, column] = info["value"]
    return frame
