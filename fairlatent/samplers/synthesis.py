"""Cell balancing with a conditional tabular GAN, and its outlier-balanced (VAE-filtered) variant.

:class:`CellBalancingResampler` trains a :class:`~fairlatent.models.gan.TabularGAN` conditioned on the
(group, label) cell and synthesises rows until every cell reaches its target size.
:class:`OutlierBalancedResampler` generates several candidates per needed row and keeps them with
probability proportional to their inverse latent density under a :class:`~fairlatent.models.vae.TabularVAE`
trained on the real rows, so the synthetic rows fill sparse regions instead of piling onto the mode;
when real rows are removed to keep group sizes, it removes them from dense regions first.

Both follow the imbalanced-learn sampler contract: ``fit_resample(X, y)`` returns the same columns and
dtypes, ``sample_indices_`` traces real rows to their input position (``-1`` marks synthetic rows) and
``is_synthetic_`` flags the generated rows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from fairlatent.exceptions import ConfigError, DataError, NotFittedError, SchemaError
from fairlatent.samplers.latent_density import LatentDensityResampler, group_labels

logger = logging.getLogger(__name__)

#: Internal column names added to the GAN's training frame.
CELL_GROUP = "_fl_cell_group"
CELL_LABEL = "_fl_cell_label"
#: GAN parameters used unless ``gan_params`` says otherwise.
DEFAULT_GAN_PARAMS: dict[str, Any] = {}

TargetSizes = Literal["parity", "largest"] | Mapping[Any, int]

ERR_TARGET = (
    "target_sizes={value!r} is unknown; use 'parity' (equal base rates at the overall rate, group "
    "sizes kept), 'largest' (every cell grows to the largest cell) or a dict {{(group, label): rows}}"
)
ERR_CELL = (
    "target_sizes names cell {cell!r}, which is not a (group, label) cell of the data: {cells}"
)
ERR_NOT_FRAME = (
    "X must be a pandas DataFrame with the sensitive attributes as named columns, got {kind}; "
    "wrap it with pd.DataFrame(X, columns=names)"
)
ERR_NO_GROUPS = "cell balancing needs groups: pass sensitive=['sex', ...] or groups=labels"


def cell_targets(cells: pd.DataFrame, target_sizes: TargetSizes) -> pd.DataFrame:
    """Target size of every (group, label) cell.

    Parameters
    ----------
    cells : DataFrame
        Columns ``group``, ``label``, ``rows`` (real rows per cell).
    target_sizes : {"parity", "largest"} or dict
        ``"parity"``: every group keeps its size and gets the overall base rate;
        ``"largest"``: every cell grows to the largest cell; a dict maps ``(group, label)`` to rows.

    Returns
    -------
    DataFrame
        ``cells`` plus ``target``.

    Examples
    --------
    >>> cells = pd.DataFrame({"group": ["a", "a", "b", "b"], "label": [0, 1, 0, 1],
    ...                       "rows": [60, 40, 90, 10]})
    >>> cell_targets(cells, "parity")["target"].tolist()
    [75, 25, 75, 25]
    """
    cells = cells.copy()
    if isinstance(target_sizes, Mapping):
        known = {(str(g), int(lab)) for g, lab in zip(cells["group"], cells["label"], strict=True)}
        wanted = {}
        for key, rows in target_sizes.items():
            group, label = key if isinstance(key, tuple) else str(key).rsplit("|", 1)
            cell = (str(group), int(label))
            if cell not in known:
                raise ConfigError(ERR_CELL.format(cell=key, cells=sorted(known)))
            wanted[cell] = int(rows)
        cells["target"] = [
            wanted.get((str(g), int(lab)), int(r))
            for g, lab, r in zip(cells["group"], cells["label"], cells["rows"], strict=True)
        ]
    elif target_sizes == "largest":
        cells["target"] = int(cells["rows"].max())
    elif target_sizes == "parity":
        total = cells["rows"].sum()
        rate = cells.loc[cells["label"] == 1, "rows"].sum() / total
        sizes = cells.groupby("group")["rows"].transform("sum")
        positives = np.rint(sizes * rate).astype(int)
        cells["target"] = np.where(cells["label"] == 1, positives, sizes - positives).astype(int)
    else:
        raise ConfigError(ERR_TARGET.format(value=target_sizes))
    return cells


class CellBalancingResampler(BaseEstimator):
    """Synthesise rows with a conditional GAN so every (group, label) cell reaches its target.

    Parameters
    ----------
    sensitive : sequence of str, default ()
        Sensitive columns of ``X``; their value combination is the group (or pass ``groups``).
    target_sizes : {"parity", "largest"} or dict, default "parity"
        See :func:`cell_targets`.
    keep_size : bool, default True
        When a cell is above its target, drop real rows at random (``True``) or keep them
        (``False``: only add rows). With ``"parity"`` this keeps every group's size.
    gan_params : dict, optional
        :class:`~fairlatent.models.gan.TabularGAN` parameters (besides ``device``, ``random_state``).
    epochs : int, optional
        GAN epochs (overrides ``gan_params``).
    device : str, default "auto"
    random_state : int, optional

    Attributes
    ----------
    gan_ : TabularGAN
        Conditioned on the cell columns.
    cells_ : DataFrame
        group, label, rows, target, added, removed.
    sample_indices_ : ndarray of int
        Input position of each output row; ``-1`` for synthetic rows.
    is_synthetic_ : ndarray of bool
    groups_resampled_ : ndarray of str
        Group of each output row.

    Examples
    --------
    >>> sampler = CellBalancingResampler(sensitive=["sex"], epochs=50, random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)  # doctest: +SKIP
    >>> X_res[sampler.is_synthetic_].head()  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        sensitive: Sequence[str] = (),
        target_sizes: TargetSizes = "parity",
        keep_size: bool = True,
        gan_params: dict[str, Any] | None = None,
        epochs: int | None = None,
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.sensitive = sensitive
        self.target_sizes = target_sizes
        self.keep_size = keep_size
        self.gan_params = gan_params
        self.epochs = epochs
        self.device = device
        self.random_state = random_state

    # -- hooks the outlier-balanced variant overrides ------------------------------------------

    def _prepare_selection(self, X: pd.DataFrame, labels: np.ndarray, seed: int) -> None:
        """Fit whatever ranks candidates and real rows (nothing here)."""

    def _choose_synthetic(
        self, candidates: pd.DataFrame, label: int, k: int, rng: np.random.Generator
    ) -> pd.DataFrame:
        return candidates.iloc[:k]

    def _choose_removed(self, rows: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
        return rng.choice(rows, size=k, replace=False)

    def _candidate_factor(self) -> int:
        return 1

    # -- the algorithm -------------------------------------------------------------------------

    def fit_resample(
        self, X: pd.DataFrame, y: Any, *, groups: Any = None, fitted_gan: Any = None
    ) -> tuple[pd.DataFrame, Any]:
        """Train the GAN and return real plus synthetic rows with every cell at its target.

        Parameters
        ----------
        X : DataFrame
            Features with the sensitive attributes as named columns.
        y : array-like of {0, 1}
            Labels.
        groups : array-like, optional
            Group label of each row, used instead of the ``sensitive`` columns.
        fitted_gan : TabularGAN, optional
            A GAN this class already trained on the same rows (see :meth:`gan_training_frame`);
            reused instead of training a new one.

        Returns
        -------
        X_res : DataFrame
            Same columns and dtypes as ``X``; real rows first, then synthetic ones.
        y_res : same type as ``y``
        """
        from fairlatent.models.gan import TabularGAN

        X, labels, group = self._check_input(X, y, groups)
        rng = np.random.default_rng(self.random_state)
        gan_seed, select_seed, draw_seed = (int(s) for s in rng.integers(0, 2**31 - 1, size=3))
        draw = np.random.default_rng(draw_seed)
        counts = (
            pd.DataFrame({"group": group, "label": labels})
            .groupby(["group", "label"])
            .size()
            .rename("rows")
            .reset_index()
        )
        cells = cell_targets(counts, self.target_sizes)

        if fitted_gan is not None:
            self.gan_ = fitted_gan
        else:
            params = {**DEFAULT_GAN_PARAMS, **(self.gan_params or {})}
            if self.epochs is not None:
                params["epochs"] = self.epochs
            self.gan_ = TabularGAN(
                condition_columns=[CELL_GROUP, CELL_LABEL],
                device=self.device,
                random_state=gan_seed,
                **params,
            )
            self.gan_.fit(self.gan_training_frame(X, labels, group))
        self._prepare_selection(X, labels, select_seed)

        keep = np.ones(len(X), dtype=bool)
        synthetic_parts, synthetic_groups, synthetic_labels = [], [], []
        added, removed, tries = [], [], []
        for g, lab, rows, target in cells[["group", "label", "rows", "target"]].itertuples(
            index=False
        ):
            members = np.flatnonzero((group == g) & (labels == lab))
            if target < rows and self.keep_size:
                drop = self._choose_removed(members, int(rows - target), draw)
                keep[drop] = False
                removed.append(int(rows - target))
            else:
                removed.append(0)
            need = max(int(target - rows), 0)
            added.append(need)
            if need == 0:
                tries.append(0)
                continue
            candidates = self.gan_.sample(
                need * self._candidate_factor(),
                condition={CELL_GROUP: g, CELL_LABEL: str(lab)},
                random_state=int(draw.integers(0, 2**31 - 1)),
            )
            tries.append(int(self.gan_.last_sample_stats_.get("tries", 1)))
            candidates = self._fill_sensitive(
                candidates.drop(columns=[CELL_GROUP, CELL_LABEL]), X, group, g, draw
            )[list(X.columns)]
            synthetic_parts.append(self._choose_synthetic(candidates, int(lab), need, draw))
            synthetic_groups.append(np.full(need, g, dtype=object))
            synthetic_labels.append(np.full(need, lab))
        cells["added"], cells["removed"], cells["sample_tries"] = added, removed, tries
        self.cells_ = cells

        real_idx = np.flatnonzero(keep)
        parts = [X.iloc[real_idx]] + synthetic_parts
        X_res = pd.concat(parts, ignore_index=True)
        X_res = _restore_dtypes(X_res, X)
        n_synth = len(X_res) - len(real_idx)
        self.sample_indices_ = np.concatenate([real_idx, np.full(n_synth, -1)])
        self.is_synthetic_ = self.sample_indices_ < 0
        self.groups_resampled_ = np.concatenate([group[real_idx], *synthetic_groups]).astype(str)
        y_res_values = np.concatenate([labels[real_idx], *synthetic_labels]).astype(int)
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        logger.info(
            "cell balancing: %d real rows kept, %d synthetic rows added", len(real_idx), n_synth
        )
        if isinstance(y, pd.Series):
            return X_res, pd.Series(y_res_values, name=y.name).astype(y.dtype)
        return X_res, y_res_values

    def gan_training_frame(
        self, X: pd.DataFrame, labels: np.ndarray, group: np.ndarray
    ) -> pd.DataFrame:
        """Build the frame the GAN learns: non-sensitive columns plus the cell columns it is conditioned on."""
        train = X[[c for c in X.columns if c not in set(self.sensitive)]].copy()
        train[CELL_GROUP] = np.asarray(group, dtype=object).astype(str)
        train[CELL_LABEL] = np.asarray(labels).astype(int).astype(str)
        return train

    def _check_input(
        self, X: Any, y: Any, groups: Any
    ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        if not isinstance(X, pd.DataFrame):
            raise DataError(ERR_NOT_FRAME.format(kind=type(X).__name__))
        labels = np.asarray(y)
        if len(labels) != len(X):
            raise DataError(f"X has {len(X)} rows but y has {len(labels)}; pass one label per row")
        if pd.isna(labels).any():
            raise DataError("y holds missing labels; drop those rows or fill them first")
        values = set(np.unique(labels).tolist())
        if not values <= {0, 1}:
            raise SchemaError(
                f"y must hold 0/1 labels, found {sorted(map(str, values))[:5]}; binarise it first"
            )
        missing = [c for c in self.sensitive if c not in X.columns]
        if missing:
            raise SchemaError(
                f"sensitive column(s) {missing} are not columns of X; keep them as named columns"
            )
        if groups is not None:
            group = np.asarray(pd.Series(np.asarray(groups)).astype(str), dtype=object)
        elif list(self.sensitive):
            group = np.asarray(group_labels(X, list(self.sensitive)), dtype=object)
        else:
            raise ConfigError(ERR_NO_GROUPS)
        if len(group) != len(X):
            raise DataError(f"X has {len(X)} rows but groups has {len(group)}; pass one per row")
        return X.reset_index(drop=True), labels.astype(int), group

    def _fill_sensitive(
        self,
        rows: pd.DataFrame,
        X: pd.DataFrame,
        group: np.ndarray,
        g: str,
        rng: np.random.Generator,
    ) -> pd.DataFrame:
        """Give synthetic rows of group ``g`` sensitive values drawn from that group's real rows.

        For an ordinary group every real row has the same values, so the rows get exactly them;
        for a merged group (``other``) the values follow their frequency among its real rows.
        """
        rows = rows.reset_index(drop=True).copy()
        if not list(self.sensitive):
            return rows
        source = X.loc[group == g, list(self.sensitive)].reset_index(drop=True)
        picks = rng.integers(0, len(source), size=len(rows))
        for column in self.sensitive:
            rows[column] = source[column].iloc[picks].to_numpy()
        return rows


class OutlierBalancedResampler(CellBalancingResampler):
    """Cell balancing whose synthetic rows fill sparse latent regions (GAN filtered by a VAE).

    The GAN proposes ``candidate_factor`` candidates per needed row; a VAE trained on the real rows
    scores them by latent density, and the rows kept are drawn without replacement with
    probability proportional to the DB-VAE weight (inverse density). Real rows removed to keep group
    sizes are drawn with probability proportional to density (the most redundant ones).

    Parameters
    ----------
    candidate_factor : int, default 4
        Candidates generated per synthetic row kept.
    alpha, density, bins, rule : see :class:`~fairlatent.samplers.LatentDensityResampler`.
        ``rule`` defaults to ``"max"`` here: with the product rule a handful of candidates carry
        almost all the weight (effective sample size below 1% on Adult).
    vae_params : dict, optional
        :class:`~fairlatent.models.vae.TabularVAE` parameters.
    vae_epochs : int, optional
        VAE epochs.
    **others
        As :class:`CellBalancingResampler`.

    Attributes
    ----------
    latent_model_ : LatentModel
        The VAE and density that scored candidates.
    selection_ : dict
        Mean rarity of all candidates and of the kept ones.
    """

    def __init__(
        self,
        *,
        sensitive: Sequence[str] = (),
        target_sizes: TargetSizes = "parity",
        keep_size: bool = True,
        candidate_factor: int = 4,
        alpha: float = 0.01,
        density: Literal["histogram", "gmm"] = "histogram",
        bins: int = 10,
        rule: Literal["product", "max"] = "max",
        gan_params: dict[str, Any] | None = None,
        vae_params: dict[str, Any] | None = None,
        epochs: int | None = None,
        vae_epochs: int | None = None,
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        super().__init__(
            sensitive=sensitive,
            target_sizes=target_sizes,
            keep_size=keep_size,
            gan_params=gan_params,
            epochs=epochs,
            device=device,
            random_state=random_state,
        )
        self.candidate_factor = candidate_factor
        self.alpha = alpha
        self.density = density
        self.bins = bins
        self.rule = rule
        self.vae_params = vae_params
        self.vae_epochs = vae_epochs

    def _candidate_factor(self) -> int:
        if int(self.candidate_factor) < 1:
            raise ConfigError(f"candidate_factor={self.candidate_factor} must be at least 1")
        return int(self.candidate_factor)

    def _prepare_selection(self, X: pd.DataFrame, labels: np.ndarray, seed: int) -> None:
        scorer = LatentDensityResampler(
            alpha=self.alpha,
            density=self.density,
            bins=self.bins,
            rule=self.rule,
            vae_params=self.vae_params,
            epochs=self.vae_epochs,
            device=self.device,
            random_state=seed,
        )
        scorer.fit(X, labels)
        self.latent_model_ = scorer.latent_model_
        self._real_weights = scorer.weights_
        self.selection_ = {"candidates": 0, "kept": 0, "rarity_candidates": [], "rarity_kept": []}

    def _choose_synthetic(
        self, candidates: pd.DataFrame, label: int, k: int, rng: np.random.Generator
    ) -> pd.DataFrame:
        labels = np.full(len(candidates), label)
        z = self.latent_model_.encode(candidates, labels)
        weights = self.latent_model_.density.sampling_weights(z)
        rarity = self.latent_model_.density.rarity(z)
        chosen = rng.choice(len(candidates), size=k, replace=False, p=weights / weights.sum())
        self.selection_["candidates"] += len(candidates)
        self.selection_["kept"] += k
        self.selection_["rarity_candidates"].append(float(rarity.mean()))
        self.selection_["rarity_kept"].append(float(rarity[chosen].mean()))
        return candidates.iloc[np.sort(chosen)]

    def _choose_removed(self, rows: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
        density = 1.0 / self._real_weights[rows]
        return rng.choice(rows, size=k, replace=False, p=density / density.sum())


def _restore_dtypes(frame: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    for column in like.columns:
        if frame[column].dtype != like[column].dtype:
            try:
                frame[column] = frame[column].astype(like[column].dtype)
            except (TypeError, ValueError) as err:
                raise DataError(
                    f"synthetic values of {column!r} do not fit its dtype ({err})"
                ) from None
    return frame


def check_fitted(sampler: CellBalancingResampler) -> None:
    """Raise :class:`NotFittedError` unless ``sampler`` has been fitted."""
    if not hasattr(sampler, "cells_"):
        raise NotFittedError(
            f"this {type(sampler).__name__} is not fitted yet; call fit_resample first"
        )
