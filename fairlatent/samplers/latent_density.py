"""DB-VAE resampling as an imbalanced-learn style sampler.

:class:`LatentDensityResampler` trains a :class:`~fairlatent.models.vae.TabularVAE` on the rows
(features, sensitive columns and the label), estimates the density of their latent means and draws
rows with probability inversely related to that density (Amini et al., AIES 2019), so rows from
sparse regions of the data (often under-represented sub-populations) are seen more often. It follows
the imbalanced-learn sampler contract (``fit_resample`` returning the same columns and dtypes,
``sample_indices_``) and can also hand the weights to ``sample_weight`` instead of duplicating rows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from fairlatent.data.schema import GROUP_SEPARATOR
from fairlatent.data.schema import MISSING_GROUP as MISSING_LABEL
from fairlatent.exceptions import ConfigError, DataError, NotFittedError, SchemaError
from fairlatent.models.density import LatentDensity, make_density

if TYPE_CHECKING:
    from fairlatent.models.vae import TabularVAE

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_VAE_PARAMS",
    "LABEL_COLUMN",
    "LatentDensityResampler",
    "LatentModel",
    "effective_sample_size",
    "group_labels",
]

#: Name of the label column added to the VAE's input.
LABEL_COLUMN = "_fl_label"
#: VAE parameters used unless ``vae_params`` says otherwise (a small latent space keeps the
#: per-dimension histograms of DB-VAE meaningful).
DEFAULT_VAE_PARAMS: dict[str, Any] = {"latent_dim": 8, "hidden_dims": (128,)}

ERR_NOT_FRAME = (
    "X must be a pandas DataFrame with the sensitive attributes as named columns, got {kind}; "
    "wrap it with pd.DataFrame(X, columns=names)"
)
ERR_LENGTH = "X has {n_x} rows but y has {n_y}; pass one label per row"
ERR_EMPTY = "X has no rows; pass at least one row to resample"
ERR_Y_MISSING = "y holds {count} missing label(s); drop those rows or fill them first"
ERR_SENSITIVE = (
    "sensitive column(s) {missing} are not columns of X (columns: {columns}); keep the "
    "sensitive attributes as named columns of X"
)
ERR_SCOPE = "scope={value!r} is unknown; use 'global' or 'group'"
ERR_SCOPE_GROUP = (
    "scope='group' needs groups: pass sensitive=['sex', ...] or fit(X, y, groups=labels)"
)
ERR_GROUPS = "X has {n_x} rows but groups has {n_groups}; pass one group label per row"
ERR_SAMPLING = "sampling={value!r} is unknown; use 'resample' or 'weights'"
ERR_WEIGHTS_MODE = (
    "sampling='weights' does not change rows, so fit_resample cannot honour it; call "
    "compute_sample_weight(X, y) and pass the result as sample_weight, or use sampling='resample'"
)
ERR_SIZE = "size={value!r} must be None (keep the number of rows) or an integer of at least 1"
ERR_VAE_PARAMS = (
    "vae_params must be a dict of TabularVAE parameters without 'device' or 'random_state' "
    "(set those on the resampler itself), got {value!r}"
)
ERR_LABEL_CLASH = (
    "X has a column named {name!r}, which the resampler reserves for the label; rename it"
)
WARN_LOW_ESS = (
    "the latent density weights concentrate on few rows (effective sample size %.0f of %d): "
    "the resampled set will be mostly copies of them; raise alpha, or use rule='max' "
    "(with many latent dimensions the product rule multiplies per-dimension rarities)"
)
#: Below this share of rows as effective sample size, fit logs :data:`WARN_LOW_ESS`.
LOW_ESS_SHARE = 0.05
ERR_NOT_FITTED = "this LatentDensityResampler is not fitted yet; call fit(X, y) first"


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


def group_labels(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Label each row with the values of ``columns`` joined by ``" × "`` (missing: ``(missing)``).

    Parameters
    ----------
    frame : DataFrame
        Rows holding the columns.
    columns : sequence of str
        Sensitive columns; an empty sequence puts every row in the group ``"all"``.

    Returns
    -------
    ndarray of str

    Examples
    --------
    >>> group_labels(pd.DataFrame({"sex": ["F", None], "race": ["a", "b"]}), ["sex", "race"])
    array(['F × a', '(missing) × b'], dtype=object)
    """
    if not columns:
        return np.full(len(frame), "all", dtype=object)
    parts = [
        np.where(frame[c].isna().to_numpy(), MISSING_LABEL, frame[c].astype(object).astype(str))
        for c in columns
    ]
    labels = parts[0].astype(object)
    for part in parts[1:]:
        labels = labels + GROUP_SEPARATOR + part.astype(object)
    return labels.astype(object)


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
            the most frequent value of a categorical column, the median of a numeric one.
        """
        info: dict[str, dict[str, Any]] = {}
        for column in X.columns:
            series = X[column]
            present = series.dropna()
            numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(
                series
            )
            if numeric:
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
        for column, info in self.fill.items():
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
            raise SchemaError(
                f"the rows lack column(s) {missing} the VAE was trained on; pass the same columns"
            )
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


class LatentDensityResampler(BaseEstimator):
    """Resample rows inversely to their latent density (DB-VAE), imbalanced-learn style.

    A :class:`~fairlatent.models.vae.TabularVAE` is trained on ``X`` plus the label ``y`` (so the
    latent space reflects the group x label structure), the density of the rows' latent means is
    estimated, and every row gets a weight that is larger where the latent space is sparse.

    Parameters
    ----------
    sensitive : sequence of str, default ()
        Sensitive columns of ``X``; needed for ``scope="group"`` and used for group diagnostics.
    scope : {"global", "group"}, default "global"
        ``"global"``: one density over all rows. ``"group"``: one density within each sensitive
        group (combination of the ``sensitive`` columns, or the ``groups`` passed to ``fit``), so
        rarity is relative to one's own group, and each group keeps its size when resampling.
    density : {"histogram", "gmm"}, default "histogram"
        :class:`~fairlatent.models.density.HistogramDensity` (DB-VAE) or
        :class:`~fairlatent.models.density.GaussianMixtureDensity`.
    alpha : float, default 0.01
        Smoothing: small = strong debiasing, large = nearly uniform weights.
    bins : int, default 10
        Histogram bins per latent dimension.
    rule : {"product", "max"}, default "product"
        How the per-dimension histograms combine (see ``HistogramDensity``).
    n_components : int, default 8
        Components of the Gaussian mixture (``density="gmm"``).
    sampling : {"resample", "weights"}, default "resample"
        ``"resample"``: :meth:`fit_resample` draws rows with replacement, probability ∝ weight.
        ``"weights"``: use :meth:`compute_sample_weight` instead (``fit_resample`` then raises).
    size : int or None, default None
        Rows to draw; ``None`` keeps the number of input rows.
    vae_params : dict or None, default None
        :class:`~fairlatent.models.vae.TabularVAE` parameters, on top of
        :data:`DEFAULT_VAE_PARAMS`.
    epochs : int or None, default None
        Overrides ``vae_params["epochs"]`` when given.
    device : str, default "auto"
        Device of the VAE.
    random_state : int or None, default None
        Seed of the VAE, the density and the draw (explicit generators; no global state).

    Attributes
    ----------
    vae_ : TabularVAE
        The trained VAE.
    density_ : LatentDensity or dict
        The fitted density (``scope="global"``) or group label -> density (``scope="group"``).
    latent_model_ : LatentModel
        VAE plus a global density, to encode and score new rows.
    latent_means_ : ndarray of shape (n_rows, latent_dim)
        Latent means of the input rows.
    weights_ : ndarray of shape (n_rows,)
        Weight of each input row; mean 1 overall (``"global"``) or within each group (``"group"``).
    rarity_ : ndarray of shape (n_rows,)
        Rarity in ``[0, 1]`` of each input row (within its group for ``scope="group"``).
    groups_ : ndarray of str
        Group label of each input row.
    sample_indices_ : ndarray of int
        Position in ``X`` of every row returned by the last :meth:`fit_resample`.

    Examples
    --------
    >>> from imblearn.pipeline import Pipeline  # doctest: +SKIP
    >>> pipe = Pipeline([("resample", LatentDensityResampler(sensitive=["sex"], random_state=0)),
    ...                  ("model", classifier)])  # doctest: +SKIP
    >>> pipe.fit(X, y)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        sensitive: Sequence[str] = (),
        scope: Literal["global", "group"] = "global",
        density: Literal["histogram", "gmm"] = "histogram",
        alpha: float = 0.01,
        bins: int = 10,
        rule: Literal["product", "max"] = "product",
        n_components: int = 8,
        sampling: Literal["resample", "weights"] = "resample",
        size: int | None = None,
        vae_params: dict[str, Any] | None = None,
        epochs: int | None = None,
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.sensitive = sensitive
        self.scope = scope
        self.density = density
        self.alpha = alpha
        self.bins = bins
        self.rule = rule
        self.n_components = n_components
        self.sampling = sampling
        self.size = size
        self.vae_params = vae_params
        self.epochs = epochs
        self.device = device
        self.random_state = random_state

    # -- validation --------------------------------------------------------------------------
    def _check_params(self) -> None:
        if self.scope not in ("global", "group"):
            raise ConfigError(ERR_SCOPE.format(value=self.scope))
        if self.sampling not in ("resample", "weights"):
            raise ConfigError(ERR_SAMPLING.format(value=self.sampling))
        size = self.size
        if size is not None and (
            isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1
        ):
            raise ConfigError(ERR_SIZE.format(value=size))
        params = self.vae_params
        if params is not None and (
            not isinstance(params, dict) or {"device", "random_state"} & set(params)
        ):
            raise ConfigError(ERR_VAE_PARAMS.format(value=params))
        # builds (and so validates) the density's parameters
        make_density(self.density, alpha=self.alpha, bins=self.bins, rule=self.rule,
                     n_components=self.n_components)._check_params()

    def _check_xy(self, X: Any, y: Any) -> tuple[pd.DataFrame, np.ndarray]:
        if not isinstance(X, pd.DataFrame):
            raise DataError(ERR_NOT_FRAME.format(kind=type(X).__name__))
        labels = np.asarray(y)
        if labels.ndim != 1 or len(labels) != len(X):
            raise DataError(ERR_LENGTH.format(n_x=len(X), n_y=len(labels) if labels.ndim else 0))
        if len(X) == 0:
            raise DataError(ERR_EMPTY)
        n_missing = int(pd.isna(pd.Series(labels)).sum())
        if n_missing:
            raise DataError(ERR_Y_MISSING.format(count=n_missing))
        missing = [c for c in self.sensitive if c not in X.columns]
        if missing:
            raise SchemaError(ERR_SENSITIVE.format(missing=missing, columns=list(X.columns)))
        if LABEL_COLUMN in X.columns:
            raise SchemaError(ERR_LABEL_CLASH.format(name=LABEL_COLUMN))
        return X, labels

    def _vae(self, seed: int) -> TabularVAE:
        from fairlatent.models.vae import TabularVAE

        params = {**DEFAULT_VAE_PARAMS, **(self.vae_params or {})}
        if self.epochs is not None:
            params["epochs"] = self.epochs
        try:
            return TabularVAE(**params, device=self.device, random_state=seed)
        except TypeError as err:
            raise ConfigError(ERR_VAE_PARAMS.format(value=self.vae_params) + f": {err}") from None

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: Any, *, groups: Any = None) -> LatentDensityResampler:
        """Train the VAE, fit the latent density and compute each row's weight and rarity.

        Parameters
        ----------
        X : DataFrame
            Features, with the sensitive attributes as named columns.
        y : array-like of shape (n_rows,)
            Labels.
        groups : array-like of shape (n_rows,), optional
            Group label of each row, used instead of the combination of the ``sensitive``
            columns (e.g. groups where small ones were merged); never seen by the VAE.

        Returns
        -------
        self
        """
        self._check_params()
        if self.scope == "group" and not list(self.sensitive) and groups is None:
            raise ConfigError(ERR_SCOPE_GROUP)
        X, labels = self._check_xy(X, y)
        if groups is None:
            group_of_row = group_labels(X, list(self.sensitive))
        else:
            group_of_row = np.asarray(pd.Series(np.asarray(groups)).astype(object).astype(str))
            if len(group_of_row) != len(X):
                raise DataError(ERR_GROUPS.format(n_x=len(X), n_groups=len(group_of_row)))
        self.groups_ = group_of_row
        rng = np.random.default_rng(self.random_state)
        vae_seed, density_seed, draw_seed = (int(s) for s in rng.integers(0, 2**31 - 1, size=3))
        self._draw_seed = draw_seed
        columns = [str(c) for c in X.columns]
        model = LatentModel(
            vae=self._vae(vae_seed),
            density=make_density(self.density, alpha=self.alpha, bins=self.bins, rule=self.rule,
                                 n_components=self.n_components, random_state=density_seed),
            columns=columns,
            sensitive=[str(c) for c in self.sensitive],
            fill=LatentModel.describe_columns(X),
        )
        frame = model.vae_input(X, labels)
        model.vae.fit(frame)
        means = np.asarray(model.vae.encode(frame)[0], dtype=float)
        model.density.fit(means)
        if self.scope == "global":
            self.density_: LatentDensity | dict[str, LatentDensity] = model.density
            self.weights_ = model.density.sampling_weights(means)
            self.rarity_ = model.density.rarity(means)
        else:
            densities: dict[str, LatentDensity] = {}
            self.weights_ = np.empty(len(X))
            self.rarity_ = np.empty(len(X))
            for group in pd.unique(self.groups_):
                rows = self.groups_ == group
                density = clone(model.density).fit(means[rows])
                densities[str(group)] = density
                self.weights_[rows] = density.sampling_weights(means[rows])
                self.rarity_[rows] = density.rarity(means[rows])
            model.group_densities = densities
            self.density_ = densities
        self.vae_ = model.vae
        self.latent_model_ = model
        self.latent_means_ = means
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(columns, dtype=object)
        ess = effective_sample_size(self.weights_)
        logger.info(
            "latent density weights (%s scope, %s): min %.3g, max %.3g, effective sample size "
            "%.0f of %d", self.scope, self.density, self.weights_.min(), self.weights_.max(),
            ess, len(X),
        )
        if ess < LOW_ESS_SHARE * len(X):
            logger.warning(WARN_LOW_ESS, ess, len(X))
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise NotFittedError(ERR_NOT_FITTED)

    def draw_indices(self) -> np.ndarray:
        """Draw row positions with replacement, probability ∝ :attr:`weights_`.

        With ``scope="group"`` every group is drawn separately and keeps its share of the rows.
        The draw is seeded by ``random_state``: the same fit gives the same indices.

        Returns
        -------
        ndarray of int
            Positions into the fitted ``X``, sorted.
        """
        self._check_fitted()
        rng = np.random.default_rng(self._draw_seed)
        n = len(self.weights_)
        size = n if self.size is None else int(self.size)
        if self.scope == "global":
            p = self.weights_ / self.weights_.sum()
            return np.sort(rng.choice(n, size=size, replace=True, p=p))
        groups = list(pd.unique(self.groups_))
        counts = np.array([np.sum(self.groups_ == g) for g in groups])
        quota = _proportional_counts(counts, size)
        chosen = []
        for group, k in zip(groups, quota, strict=True):
            rows = np.flatnonzero(self.groups_ == group)
            w = self.weights_[rows]
            chosen.append(rng.choice(rows, size=int(k), replace=True, p=w / w.sum()))
        return np.sort(np.concatenate(chosen))

    def fit_resample(
        self, X: pd.DataFrame, y: Any, *, groups: Any = None
    ) -> tuple[pd.DataFrame, Any]:
        """Fit, then draw rows with replacement, probability ∝ weight.

        Parameters
        ----------
        X : DataFrame
            Features, with the sensitive attributes as named columns.
        y : array-like of shape (n_rows,)
            Labels.
        groups : array-like of shape (n_rows,), optional
            See :meth:`fit`.

        Returns
        -------
        X_res : DataFrame
            The drawn rows: same columns and dtypes, fresh ``RangeIndex``.
        y_res : same type as ``y``
            Their labels (a Series keeps its name and dtype).

        Raises
        ------
        ConfigError
            With ``sampling="weights"`` (use :meth:`compute_sample_weight`).
        """
        if self.sampling == "weights":
            raise ConfigError(ERR_WEIGHTS_MODE)
        self.fit(X, y, groups=groups)
        idx = self.draw_indices()
        self.sample_indices_ = idx
        X_res = X.iloc[idx].reset_index(drop=True)
        if isinstance(y, pd.Series):
            y_res: Any = y.iloc[idx].reset_index(drop=True)
        elif isinstance(y, np.ndarray):
            y_res = y[idx]
        else:
            y_res = np.asarray(y)[idx]
        return X_res, y_res

    def compute_sample_weight(self, X: pd.DataFrame, y: Any, *, groups: Any = None) -> np.ndarray:
        """Fit and return one weight per row, for scikit-learn's ``sample_weight``.

        Parameters
        ----------
        X : DataFrame
            Features, with the sensitive attributes as named columns.
        y : array-like of shape (n_rows,)
            Labels.
        groups : array-like of shape (n_rows,), optional
            See :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_rows,)
            :attr:`weights_` (mean 1; within each group for ``scope="group"``).
        """
        self.fit(X, y, groups=groups)
        return self.weights_.copy()


def _proportional_counts(counts: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` over groups in proportion to ``counts`` (largest remainders)."""
    exact = counts / counts.sum() * total
    quota = np.floor(exact).astype(int)
    remainder = total - int(quota.sum())
    if remainder:
        order = np.argsort(-(exact - quota), kind="stable")
        quota[order[:remainder]] += 1
    return quota
