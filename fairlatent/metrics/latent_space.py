"""The latent space the latent audit works in: a group-conditional VAE over the features.

:class:`LatentCoder` wraps a fitted :class:`~fairlatent.models.vae.InvariantEncoder` (a VAE whose
decoder reads the group next to the latent code, with an MMD penalty that keeps the group out of
the code; the ``invariant`` strategy's model when the audit has one). It

* encodes rows to latent means (the sensitive columns never enter the encoder), for the slice
  discovery of :mod:`fairlatent.metrics.slices`;
* decodes codes with any group as the decoder's input, for the counterfactual rows of
  :mod:`fairlatent.metrics.counterfactual`; a decoded row carries that group's values in the
  sensitive columns (their most frequent value among the group's training rows), so a model that
  reads those columns sees the group change too.

Categories and missing values the VAE never saw are mapped to the column's training mode (median
for numbers) before encoding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairlatent.exceptions import DataError, SchemaError
from fairlatent.models.vae.invariant import DEFAULT_STRENGTH, InvariantEncoder, group_labels_of
from fairlatent.samplers.latent_model import LatentModel, fill_unseen

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_EPOCHS",
    "DEFAULT_FIT_ROWS",
    "LatentCoder",
    "coder_for",
    "decider",
    "fit_latent_coder",
]

#: Epochs of the latent audit's own VAE (early stopping may end sooner).
DEFAULT_EPOCHS = 30
#: Most rows the latent audit's own VAE is fitted on (a seeded sample of the training rows).
DEFAULT_FIT_ROWS = 5000

ERR_NO_COLUMNS = "the latent coder needs at least one feature column besides the sensitive ones"
ERR_MISSING = "column(s) {missing} are missing from the rows; pass the columns the coder was fitted on"
ERR_ONE_GROUP = (
    "the rows hold a single group ({group!r}); counterfactuals need at least two groups"
)


@dataclass
class LatentCoder:
    """A fitted group-conditional VAE over feature columns, able to encode and decode rows.

    Parameters
    ----------
    encoder : InvariantEncoder
        Fitted with groups (its ``vae_`` has a conditional decoder).
    columns : list of str
        Feature columns the encoder reads (no sensitive column).
    sensitive : list of str
        Sensitive columns; decoded rows carry each group's values in them.
    group_values : dict
        Group label -> {sensitive column -> value} (the group's most frequent value).
    fill : dict
        What the VAE saw in each column (see
        :meth:`~fairlatent.samplers.LatentModel.describe_columns`).
    fitted_here : bool
        Whether the latent audit fitted this VAE (``False``: reused from a strategy).
    """

    encoder: InvariantEncoder
    columns: list[str]
    sensitive: list[str]
    group_values: dict[str, dict[str, Any]]
    fill: dict[str, dict[str, Any]] = field(default_factory=dict)
    fitted_here: bool = True

    @property
    def groups(self) -> list[str]:
        """Groups the decoder knows."""
        return [str(g) for g in self.encoder.vae_.group_levels_]

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise SchemaError(ERR_MISSING.format(missing=missing))
        return fill_unseen(frame[self.columns].reset_index(drop=True).copy(), self.fill)

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Latent means of ``frame``'s rows, shape ``(n_rows, latent_dim)``."""
        return np.asarray(self.encoder.vae_.encode(self._features(frame))[0], dtype=float)

    def decode(self, z: np.ndarray, groups: Any) -> pd.DataFrame:
        """Decode codes with ``groups`` as the decoder's input (one per row, or one for all).

        Returns
        -------
        DataFrame
            The feature columns, plus the sensitive columns set to each row's group values.
        """
        decoded = self.encoder.vae_.decode(np.asarray(z, dtype=np.float32), groups)
        n = len(decoded)
        labels = np.full(n, groups, dtype=object) if np.ndim(groups) == 0 else \
            np.asarray(groups, dtype=object)
        for column in self.sensitive:
            values = [self.group_values.get(str(g), {}).get(column) for g in labels]
            decoded[column] = pd.Series(values, dtype=object)
        return decoded


def _group_values(frame: pd.DataFrame, sensitive: list[str], groups: np.ndarray) -> dict[str, Any]:
    """Each group's most frequent value in every sensitive column."""
    values: dict[str, dict[str, Any]] = {}
    for label in pd.unique(groups):
        rows = frame.loc[groups == label, sensitive]
        values[str(label)] = {
            c: (rows[c].mode(dropna=True).iloc[0] if rows[c].notna().any() else None)
            for c in sensitive
        }
    return values


def fit_latent_coder(
    frame: pd.DataFrame,
    *,
    columns: list[str],
    sensitive: list[str],
    groups: Any = None,
    encoder: InvariantEncoder | None = None,
    epochs: int = DEFAULT_EPOCHS,
    max_rows: int | None = DEFAULT_FIT_ROWS,
    strength: float = DEFAULT_STRENGTH,
    device: str = "auto",
    random_state: int = 0,
) -> LatentCoder:
    """Fit (or wrap) a group-conditional VAE over ``columns``.

    Parameters
    ----------
    frame : DataFrame
        Training rows holding ``columns`` and ``sensitive``.
    columns : list of str
        Feature columns to encode (sensitive columns are dropped from them).
    sensitive : list of str
        Sensitive columns.
    groups : array-like, optional
        Each row's group label; default the sensitive columns' values joined with ``" | "``.
    encoder : InvariantEncoder, optional
        An already fitted conditional encoder over the same columns (e.g. the ``invariant``
        strategy's): wrapped, not refitted.
    epochs : int, default DEFAULT_EPOCHS
    max_rows : int or None, default DEFAULT_FIT_ROWS
        Fit on a seeded sample of at most this many rows (``None``: every row).
    strength : float, default DEFAULT_STRENGTH
        MMD penalty per column (see :class:`~fairlatent.models.vae.InvariantEncoder`).
    device : str, default "auto"
    random_state : int, default 0

    Returns
    -------
    LatentCoder

    Raises
    ------
    DataError
        Only one group in the rows.
    SchemaError
        No feature column.
    """
    features = [c for c in columns if c not in set(sensitive)]
    if not features:
        raise SchemaError(ERR_NO_COLUMNS)
    labels = group_labels_of(frame[sensitive]) if groups is None else \
        np.asarray([str(g) for g in np.asarray(groups, dtype=object)], dtype=object)
    if len(pd.unique(labels)) < 2:
        raise DataError(ERR_ONE_GROUP.format(group=str(labels[0]) if len(labels) else None))
    values = _group_values(frame.reset_index(drop=True), sensitive, labels)
    if encoder is not None:
        features = [c for c in encoder.columns_ if c in frame.columns]
        fill = _fill_known_to(encoder, frame[features])
        return LatentCoder(encoder, features, list(sensitive), values, fill, fitted_here=False)
    rows = frame.reset_index(drop=True)
    if max_rows is not None and len(rows) > max_rows:
        chosen = np.sort(np.random.default_rng(random_state).choice(len(rows), max_rows,
                                                                     replace=False))
        rows, labels_fit = rows.iloc[chosen].reset_index(drop=True), labels[chosen]
    else:
        labels_fit = labels
    fill = LatentModel.describe_columns(rows[features])
    encoder = InvariantEncoder(
        strength=strength,
        epochs=int(epochs),
        patience=5,
        device=device,
        random_state=random_state,
    ).fit(rows[features], sensitive_features=labels_fit)
    logger.info("latent audit: conditional VAE fitted on %d rows in %.1f s", len(rows),
                encoder.vae_.fit_seconds_)
    return LatentCoder(encoder, features, list(sensitive), values, fill, fitted_here=True)


def decider(model: Any, features: Sequence[str] | None) -> Callable[[pd.DataFrame], np.ndarray]:
    """0/1 decisions of ``model`` on a frame: ``model.predict(frame[features])`` or ``model(frame)``.

    Examples
    --------
    >>> decide = decider(lambda frame: frame["x"] > 0, None)
    >>> decide(pd.DataFrame({"x": [-1.0, 2.0]})).tolist()
    [0, 1]
    """
    if hasattr(model, "predict"):
        def decide(frame: pd.DataFrame) -> np.ndarray:
            X = frame[list(features)] if features is not None else frame
            return np.asarray(model.predict(X)).astype(int)
        return decide
    return lambda frame: np.asarray(model(frame)).astype(int)


def coder_for(
    frame: pd.DataFrame,
    *,
    sensitive: Sequence[str],
    target: str | None,
    columns: Sequence[str] | None = None,
    coder: LatentCoder | None = None,
    epochs: int | None = None,
    device: str = "auto",
    random_state: int = 0,
) -> tuple[LatentCoder, list[str]]:
    """Return ``coder``, or a conditional VAE fitted on ``frame``, and the columns to encode.

    Parameters
    ----------
    frame : DataFrame
        Rows to fit the VAE on when ``coder`` is not given.
    sensitive : sequence of str
    target : str or None
        A label column to leave out.
    columns : sequence of str, optional
        Columns to encode; default every column of ``frame`` but ``target`` and ``sensitive``.
    coder : LatentCoder, optional
    epochs : int, optional
        Default :data:`DEFAULT_EPOCHS`.
    device : str, default "auto"
    random_state : int, default 0

    Returns
    -------
    (LatentCoder, list of str)
        The coder and the columns it was asked to encode.
    """
    sensitive = list(sensitive)
    if columns is None:
        columns = [c for c in frame.columns if c != target and c not in set(sensitive)]
    columns = list(columns)
    if coder is None:
        coder = fit_latent_coder(frame, columns=columns, sensitive=sensitive,
                                 epochs=epochs or DEFAULT_EPOCHS, device=device,
                                 random_state=random_state)
    return coder, columns


def _fill_known_to(encoder: Any, frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Fill values for a model fitted elsewhere: only the categories its encoder saw count as seen.

    ``frame`` may hold categories (or missing values) the wrapped encoder never saw in its own
    training rows; they are mapped to the most frequent value it did see.
    """
    fill = LatentModel.describe_columns(frame)
    known = encoder.vae_.encoder_.known_categories()
    for column, info in fill.items():
        if column not in known or info["categories"] is None:
            continue
        categories, saw_missing = known[column]
        seen = set(categories)
        info["categories"] = info["categories"] & seen
        info["has_nan"] = saw_missing
        if info["value"] not in seen:
            present = frame[column][frame[column].isin(seen)]
            info["value"] = present.mode().iloc[0] if len(present) else categories[0]
    return fill
