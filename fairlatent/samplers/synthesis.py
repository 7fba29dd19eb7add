"""Cell balancing with a conditional tabular GAN, and its outlier-balanced (VAE-filtered) variant.

:class:`CellBalancingResampler` trains a :class:`~fairlatent.models.gan.TabularGAN` conditioned on the
(group, label) cell and synthesises rows until every cell reaches its target size.
:class:`OutlierBalancedResampler` generates several candidates per needed row and keeps them with
probability proportional to their inverse latent density under a :class:`~fairlatent.models.vae.TabularVAE`
trained on the real rows, so the synthetic rows fill sparse regions instead of piling onto the mode;
when real rows are removed to keep group sizes, it removes them from dense regions first.

Both follow the imbalanced-learn sampler contract (input checks in
:class:`~fairlatent.samplers.base.BaseSampler`): ``fit_resample(X, y)`` returns the same columns and
dtypes, ``sample_indices_`` traces real rows to their input position (``-1`` marks synthetic rows) and
``is_synthetic_`` flags the generated rows. :meth:`CellBalancingResampler.synthetic_source` hands the
fitted generator to quality checks as a :class:`~fairlatent.samplers.synthetic_source.SyntheticSource`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from fairlatent.exceptions import ConfigError, DataError, NotFittedError, SchemaError
from fairlatent.samplers.base import BaseSampler, SamplerInput
from fairlatent.samplers.cells import TargetSizes, cell_targets, count_cells
from fairlatent.samplers.latent_density import LatentDensityResampler
from fairlatent.samplers.latent_model import LABEL_COLUMN
from fairlatent.samplers.synthetic_source import (
    CELL_GROUP,
    CELL_LABEL,
    SyntheticSource,
    gan_training_frame,
)

logger = logging.getLogger(__name__)

__all__ = [
    "CELL_GROUP",
    "CELL_LABEL",
    "DEFAULT_GAN_PARAMS",
    "CellBalancingResampler",
    "OutlierBalancedResampler",
    "cell_targets",
]

#: GAN parameters used unless ``gan_params`` says otherwise.
DEFAULT_GAN_PARAMS: dict[str, Any] = {}

ERR_LABELS = "y must hold 0/1 labels, found {found}; binarise it first"
ERR_CANDIDATE_FACTOR = "candidate_factor={value} must be at least 1"
ERR_DTYPE = "synthetic values of {column!r} do not fit its dtype ({error})"
ERR_NOT_FITTED = "this {name} is not fitted yet; call fit_resample first"


class CellBalancingResampler(BaseSampler):
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

    #: The GAN's training frame carries the cell under these names.
    _reserved_columns: ClassVar[tuple[str, ...]] = (CELL_GROUP, CELL_LABEL)

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

    # -- input checks on top of BaseSampler's ------------------------------------------------

    def _groups_needed_by(self) -> str | None:
        return "cell balancing"

    def _check_labels(self, labels: np.ndarray) -> np.ndarray:
        values = set(np.unique(labels).tolist())
        if not values <= {0, 1}:
            raise SchemaError(ERR_LABELS.format(found=sorted(map(str, values))[:5]))
        return labels.astype(int)

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

        Raises
        ------
        SchemaError
            ``y`` holds values other than 0 and 1 (and see
            :meth:`BaseSampler.fit_resample <fairlatent.samplers.base.BaseSampler.fit_resample>`).
        """
        return super().fit_resample(X, y, groups=groups, fitted_gan=fitted_gan)

    def _fit_resample(
        self, data: SamplerInput, *, fitted_gan: Any = None
    ) -> tuple[pd.DataFrame, Any, np.ndarray]:
        from fairlatent.models.gan import TabularGAN

        X, labels, group = data.X, data.labels, data.groups
        rng = np.random.default_rng(self.random_state)
        gan_seed, select_seed, draw_seed = (int(s) for s in rng.integers(0, 2**31 - 1, size=3))
        draw = np.random.default_rng(draw_seed)
        cells = cell_targets(count_cells(group, labels), self.target_sizes)

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
        sample_indices = np.concatenate([real_idx, np.full(n_synth, -1)])
        self.is_synthetic_ = sample_indices < 0
        self.groups_resampled_ = np.concatenate([group[real_idx], *synthetic_groups]).astype(str)
        y_res_values = np.concatenate([labels[real_idx], *synthetic_labels]).astype(int)
        logger.info(
            "cell balancing: %d real rows kept, %d synthetic rows added", len(real_idx), n_synth
        )
        y = data.y
        if isinstance(y, pd.Series):
            return X_res, pd.Series(y_res_values, name=y.name).astype(y.dtype), sample_indices
        return X_res, y_res_values, sample_indices

    def gan_training_frame(
        self, X: pd.DataFrame, labels: np.ndarray, group: np.ndarray
    ) -> pd.DataFrame:
        """Build the frame the GAN learns: non-sensitive columns plus the cell columns.

        See :func:`~fairlatent.samplers.synthetic_source.gan_training_frame`.
        """
        return gan_training_frame(X, labels, group, self.sensitive)

    def synthetic_source(self, target_name: str = "label") -> SyntheticSource:
        """Return the fitted generator as a :class:`SyntheticSource`, for quality checks.

        Parameters
        ----------
        target_name : str, default "label"
            Name of the label, shown as the column ``"[<target_name>]"``.

        Returns
        -------
        SyntheticSource
            Sources of samplers that share one GAN have the same ``identity``.

        Raises
        ------
        NotFittedError
            Before :meth:`fit_resample`.
        """
        if not (hasattr(self, "gan_") and hasattr(self, "feature_names_in_")):
            raise NotFittedError(ERR_NOT_FITTED.format(name=type(self).__name__))
        sensitive = set(self.sensitive)
        return SyntheticSource(
            self.gan_,
            feature_columns=[c for c in self.feature_names_in_ if c not in sensitive],
            sensitive=list(self.sensitive),
            target_name=target_name,
        )

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

    #: The VAE scoring the candidates also reserves its label column.
    _reserved_columns: ClassVar[tuple[str, ...]] = (CELL_GROUP, CELL_LABEL, LABEL_COLUMN)

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
            raise ConfigError(ERR_CANDIDATE_FACTOR.format(value=self.candidate_factor))
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
                raise DataError(ERR_DTYPE.format(column=column, error=err)) from None
    return frame
