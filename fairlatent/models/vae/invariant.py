"""``InvariantEncoder``: latent features that carry little of the sensitive attribute.

A conditional :class:`~fairlatent.models.vae.TabularVAE` (VFAE-style, Louizos et al. 2016): the
decoder reads the group next to the latent code, so the code need not describe the group, and the
encoder is penalised for carrying it anyway (the squared MMD between each group's latent means and
everyone's, :func:`~fairlatent.models.vae.networks.mmd_penalty`). The sensitive columns never enter
the encoder; a feature that is a proxy of them does, and the penalty pushes its group signal out of
the code. ``strength`` scales the penalty per modelled column (the reconstruction term is a sum over
columns), so one strength means about the same on narrow and wide tables; ``0`` is the conditional
VAE without the penalty.

The encoder is a scikit-learn transformer (``fit(X, y=None, *, sensitive_features)``,
``transform(X)`` -> the latent means) for pipelines, and also gives *repaired rows*
(:meth:`InvariantEncoder.repair`): each row decoded from its code with the group input averaged
over the groups (or set to one reference group), in the original schema.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import validate_data

from fairlatent.exceptions import DataError, check_fitted
from fairlatent.models.vae.estimator import TabularVAE

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_STRENGTH", "InvariantEncoder", "group_labels_of"]

#: Default penalty per modelled column (a middle point of the ``invariant`` strategy's grid).
DEFAULT_STRENGTH = 100.0

ERR_SENSITIVE_COLUMNS = (
    "sensitive column(s) {missing} are not columns of X (columns: {columns}); pass X as a "
    "DataFrame that holds them, or give the groups as sensitive_features"
)
ERR_SENSITIVE_LENGTH = (
    "sensitive_features has {n} row(s) for {rows} row(s) of X; give one group per row"
)
ERR_NO_FEATURES = (
    "X has no column besides the sensitive ones {sensitive}; the encoder needs features to encode"
)


#: :class:`TabularVAE` options the encoder holds under the VAE's names and hands on as they are.
VAE_OPTIONS = ("latent_dim", "beta", "epochs", "batch_size", "learning_rate", "patience", "device",
               "random_state")

def group_labels_of(values: Any) -> np.ndarray:
    """One text label per row from one or several sensitive columns (joined with ``" | "``).

    Examples
    --------
    >>> group_labels_of(pd.DataFrame({"a": ["x", "y"], "b": [1, 2]})).tolist()
    ['x | 1', 'y | 2']
    >>> group_labels_of(["F", "M"]).tolist()
    ['F', 'M']
    """
    if isinstance(values, pd.DataFrame):
        parts = values.astype(str)
        return parts.agg(" | ".join, axis=1).to_numpy(dtype=object)
    array = np.asarray(values, dtype=object)
    if array.ndim == 2:
        return np.asarray([" | ".join(map(str, row)) for row in array], dtype=object)
    return np.asarray([str(v) for v in array], dtype=object)


class InvariantEncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Encode rows to latent features that are (nearly) independent of a sensitive attribute.

    Parameters
    ----------
    sensitive : sequence of str or None, default None
        Sensitive columns of ``X`` (a DataFrame): they are the groups, and they are left out of
        what the encoder sees, in ``fit`` and ``transform`` alike. ``None``: the groups come from
        ``sensitive_features`` in :meth:`fit`, and every column of ``X`` is encoded.
    strength : float, default DEFAULT_STRENGTH
        Weight of the MMD penalty per modelled column (``0``: a conditional VAE without it).
    decode : {"average", "reference"}, default "average"
        How :meth:`repair` sets the decoder's group input: averaged over the groups (weighted by
        their shares) or the largest group.
    latent_dim : int, default 8
    hidden_dims : tuple of int, default (128,)
    beta : float, default 0.1
    epochs : int, default 100
    batch_size : int, default 500
    learning_rate : float, default 3e-3
    patience : int or None, default 10
        As for :class:`~fairlatent.models.vae.TabularVAE`.
    device : str, default "auto"
    random_state : int or None, default None
        Seed of the VAE (same seed, same numbers on the CPU).

    Attributes
    ----------
    vae_ : TabularVAE
        The fitted conditional VAE (``vae_.decode(z, group)`` decodes codes for a group).
    columns_ : list of str
        The columns the encoder reads (``X``'s columns without the sensitive ones).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Set when ``X`` was a DataFrame with string column names.
    conditional_ : bool
        Whether groups were given (without them the model is a plain VAE and nothing is
        removed; a warning is logged).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> sex = rng.choice(["F", "M"], 300)
    >>> X = pd.DataFrame({"height": rng.normal(0, 1, 300) + (sex == "M"),
    ...                   "hours": rng.normal(40, 5, 300)})
    >>> enc = InvariantEncoder(epochs=2, latent_dim=4, device="cpu", random_state=0)
    >>> enc.fit(X, sensitive_features=sex).transform(X).shape
    (300, 4)
    >>> list(enc.repair(X).columns)
    ['height', 'hours']
    """

    def __init__(
        self,
        *,
        sensitive: Sequence[str] | None = None,
        strength: float = DEFAULT_STRENGTH,
        decode: Literal["average", "reference"] = "average",
        latent_dim: int = 8,
        hidden_dims: tuple[int, ...] = (128,),
        beta: float = 0.1,
        epochs: int = 100,
        batch_size: int = 500,
        learning_rate: float = 3e-3,
        patience: int | None = 10,
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.sensitive = sensitive
        self.strength = strength
        self.decode = decode
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.beta = beta
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.patience = patience
        self.device = device
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        """Missing values are modelled (a missing-value indicator per numeric column)."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    # -- input ------------------------------------------------------------------------------------

    def _frame(self, X: Any, *, reset: bool) -> pd.DataFrame:
        """Validate ``X`` the scikit-learn way and return it as a DataFrame (columns kept)."""
        if isinstance(X, pd.DataFrame):
            validate_data(
                self, X, reset=reset, dtype=None, ensure_all_finite="allow-nan",
                ensure_min_samples=2 if reset else 1,
            )
            return X.reset_index(drop=True)
        array = validate_data(
            self, X, reset=reset, dtype="numeric", ensure_all_finite="allow-nan",
            ensure_min_samples=2 if reset else 1,
        )
        return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])

    def _split(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """Features the encoder reads, and the sensitive columns (when named)."""
        names = list(self.sensitive or [])
        if not names:
            return frame, None
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise DataError(
                ERR_SENSITIVE_COLUMNS.format(missing=missing, columns=list(frame.columns)[:10])
            )
        features = frame.drop(columns=names)
        if features.shape[1] == 0:
            raise DataError(ERR_NO_FEATURES.format(sensitive=names))
        return features, frame[names]

    # -- fit / transform ---------------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any = None) -> InvariantEncoder:
        """Fit the conditional VAE with the MMD penalty.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_rows, n_columns)
            Rows (mixed types in a DataFrame).
        y : None
            Ignored (the encoder is unsupervised).
        sensitive_features : array-like of shape (n_rows,) or (n_rows, k), optional
            Each row's group (several columns form intersectional groups). Default: the
            ``sensitive`` columns of ``X``.

        Returns
        -------
        InvariantEncoder
        """
        frame = self._frame(X, reset=True)
        features, named = self._split(frame)
        groups_source = sensitive_features if sensitive_features is not None else named
        groups = None
        if groups_source is not None:
            groups = group_labels_of(groups_source)
            if len(groups) != len(frame):
                raise DataError(ERR_SENSITIVE_LENGTH.format(n=len(groups), rows=len(frame)))
        else:
            logger.warning(
                "InvariantEncoder fitted without groups: it is a plain VAE and removes nothing; "
                "pass sensitive_features or name the sensitive columns"
            )
        self.columns_ = [str(c) for c in features.columns]
        self.conditional_ = groups is not None
        shared = {name: getattr(self, name) for name in VAE_OPTIONS}
        self.vae_ = TabularVAE(
            **shared,
            hidden_dims=tuple(self.hidden_dims),
            mmd_weight=float(self.strength) * features.shape[1] if groups is not None else 0.0,
        ).fit(features, groups=groups)
        self._n_features_out = int(self.latent_dim)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Return the latent means of ``X``'s rows.

        Parameters
        ----------
        X : DataFrame or array-like
            Rows with the fitted columns (the sensitive ones are not read).

        Returns
        -------
        ndarray of float64, shape (n_rows, latent_dim)
        """
        check_fitted(self, "vae_")
        frame = self._frame(X, reset=False)
        features, _ = self._split(frame)
        means, _ = self.vae_.encode(features)
        return means.astype(np.float64)

    def repair(self, X: Any, groups: Any = None) -> pd.DataFrame:
        """Decode each row from its latent code with the group input neutralised.

        Parameters
        ----------
        X : DataFrame or array-like
            Rows with the fitted columns.
        groups : scalar, optional
            The group to decode every row as; default per ``decode``: averaged over the groups
            (``"average"``) or the largest group (``"reference"``).

        Returns
        -------
        DataFrame
            The encoded columns (``columns_``) in their fitted dtypes, one row per row of ``X``.
        """
        check_fitted(self, "vae_")
        frame = self._frame(X, reset=False)
        features, _ = self._split(frame)
        means, _ = self.vae_.encode(features)
        if groups is None and self.decode == "reference" and self.conditional_:
            groups = self.reference_group_
        return self.vae_.decode(means, groups if self.conditional_ else None)

    @property
    def reference_group_(self) -> str:
        """The largest training group (the group input of ``decode="reference"``)."""
        check_fitted(self, "vae_")
        if not self.conditional_:
            raise DataError("this encoder was fitted without groups: it has no reference group")
        return str(self.vae_.group_levels_[int(np.argmax(self.vae_.group_shares_))])
