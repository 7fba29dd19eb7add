"""Cell balancing with a conditional tabular GAN.

:class:`CellBalancingResampler` trains a :class:`~fairlatent.models.gan.TabularGAN` conditioned on the
(group, label) cell and synthesises rows until every cell reaches its target size; its
outlier-balanced (VAE-filtered) variant is
:class:`~fairlatent.samplers.outlier_balanced.OutlierBalancedResampler`. The GAN is trained once by
:meth:`~CellBalancingResampler.fit`; :meth:`~CellBalancingResampler.resample` then rebalances any rows
at a chosen strength (how far toward the targets, whether real rows may be dropped, how many added rows
are synthetic).

Both follow the imbalanced-learn sampler contract (input checks in
:class:`~fairlatent.samplers.base.BaseSampler`): ``fit_resample(X, y)`` returns the same columns and
dtypes, ``sample_indices_`` traces real rows to their input position (``-1`` marks synthetic rows) and
``is_synthetic_`` flags the generated rows. :meth:`CellBalancingResampler.synthetic_source` hands the
fitted generator to quality checks as a :class:`~fairlatent.samplers.synthetic_source.SyntheticSource`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from fairlatent.exceptions import SchemaError, check_fitted
from fairlatent.samplers.base import BaseSampler, SamplerInput, restore_dtypes
from fairlatent.samplers.cells import (
    Resampled,
    TargetSizes,
    cell_targets,
    count_cells,
    partial_targets,
)
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
    "Resampled",
    "cell_targets",
]

#: GAN parameters used unless ``gan_params`` says otherwise.
#: The GAN's settings in a debiasing sampler (on top of its own defaults): 100 epochs, the audit's
#: default for the ``gan``, ``vae+gan`` and ``latent-eo`` strategies (a standalone
#: :class:`~fairlatent.models.gan.TabularGAN`, as ``fairlatent synth`` trains it, keeps 300).
DEFAULT_GAN_PARAMS: dict[str, Any] = {"epochs": 100}

ERR_LABELS = "y must hold 0/1 labels, found {found}; binarise it first"
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
        :class:`~fairlatent.models.gan.TabularGAN` parameters (besides ``device``, ``random_state``),
        on top of :data:`DEFAULT_GAN_PARAMS`.
    epochs : int, optional
        GAN epochs (overrides ``gan_params``; default: :data:`DEFAULT_GAN_PARAMS`, 100).
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
    _fit_params = ("fitted_gan",)

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

    def _fit_selection(self, X: pd.DataFrame, labels: np.ndarray, seed: int) -> None:
        """Fit whatever ranks candidates and real rows (nothing here)."""

    def _selection_state(self, X: pd.DataFrame, labels: np.ndarray) -> Any:
        """Per-resampling state of the ranking, computed on the rows being resampled."""
        return None

    def _choose_synthetic(
        self, state: Any, candidates: pd.DataFrame, label: int, k: int, rng: np.random.Generator
    ) -> pd.DataFrame:
        return candidates.iloc[:k]

    def _choose_removed(
        self, state: Any, rows: np.ndarray, k: int, rng: np.random.Generator
    ) -> np.ndarray:
        return rng.choice(rows, size=k, replace=False)

    def _candidate_factor(self) -> int:
        return 1

    # -- the algorithm -------------------------------------------------------------------------

    def resample(
        self,
        X: pd.DataFrame,
        y: Any,
        *,
        groups: Any = None,
        reach: float = 1.0,
        drop: bool = True,
        synthetic: float = 1.0,
    ) -> Resampled:
        """Rebalance the cells of any rows with the fitted GAN (deterministic for a given fit).

        Parameters
        ----------
        X, y, groups
            Rows to rebalance (the fitted columns); cell targets are computed on these rows.
        reach : float, default 1.0
            How far each cell moves toward its target (see
            :func:`~fairlatent.samplers.cells.partial_targets`); 0 changes nothing.
        drop : bool, default True
            Whether real rows may be dropped (with ``keep_size``); ``False`` grows each group
            instead, keeping the targets' label balance.
        synthetic : float, default 1.0
            Share of the added rows made by the GAN; the rest are copies of real rows of the
            same cell drawn at random (0: plain random oversampling).

        Returns
        -------
        Resampled
            ``fit_resample(X, y)`` is ``fit`` then ``resample`` with the defaults.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        """
        check_fitted(self, "gan_", message=ERR_NOT_FITTED.format(name=type(self).__name__))
        data = self._validate_input(X, y, groups, reset=False)
        return self._resample(data, reach=reach, drop=drop, synthetic=synthetic)

    def _fit(self, data: SamplerInput, *, fitted_gan: Any = None, **params: Any) -> None:
        """Train the GAN (and what ranks candidates) on validated input.

        ``fitted_gan`` (``fit(X, y, fitted_gan=...)``): a GAN this class already trained on the
        same rows (see :meth:`gan_training_frame`), reused instead of training a new one.
        """
        from fairlatent.models.gan import TabularGAN

        gan_seed, select_seed, draw_seed = self._seeds(3)
        self._draw_seed = draw_seed
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
            self.gan_.fit(self.gan_training_frame(data.X, data.labels, data.groups))
        self._fit_selection(data.X, data.labels, select_seed)

    def _fit_resample(
        self, data: SamplerInput, *, fitted_gan: Any = None, **params: Any
    ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        self._fit(data, fitted_gan=fitted_gan)
        result = self._resample(data)
        self.cells_ = result.cells
        self.is_synthetic_ = result.is_synthetic
        self.groups_resampled_ = result.groups
        if result.selection:
            self.selection_ = result.selection
        return result.X, result.labels, result.sample_indices

    def _resample(
        self, data: SamplerInput, *, reach: float = 1.0, drop: bool = True, synthetic: float = 1.0
    ) -> Resampled:
        X, labels, group = data.X, data.labels, data.groups
        draw = np.random.default_rng(self._draw_seed)
        copies = np.random.default_rng([self._draw_seed, 1])
        cells = partial_targets(count_cells(group, labels), self.target_sizes, reach=reach,
                                drop=drop)
        state = self._selection_state(X, labels)
        keep = np.ones(len(X), dtype=bool)
        copied, synthetic_parts, synthetic_groups, synthetic_labels = [], [], [], []
        added, removed, tries = [], [], []
        for g, lab, rows, target in cells[["group", "label", "rows", "target"]].itertuples(
            index=False
        ):
            members = np.flatnonzero((group == g) & (labels == lab))
            if target < rows and self.keep_size:
                keep[self._choose_removed(state, members, int(rows - target), draw)] = False
                removed.append(int(rows - target))
            else:
                removed.append(0)
            need = max(int(target - rows), 0)
            added.append(need)
            n_gan = need if synthetic >= 1.0 else int(round(float(synthetic) * need))
            if need > n_gan:
                copied.append(copies.choice(members, size=need - n_gan, replace=True))
            if n_gan == 0:
                tries.append(0)
                continue
            candidates, n_tries = self.sample_cell(
                X, group, g, int(lab), n_gan * self._candidate_factor(), draw
            )
            tries.append(n_tries)
            synthetic_parts.append(self._choose_synthetic(state, candidates, int(lab), n_gan, draw))
            synthetic_groups.append(np.full(n_gan, g, dtype=object))
            synthetic_labels.append(np.full(n_gan, lab))
        cells["added"], cells["removed"], cells["sample_tries"] = added, removed, tries

        real_idx = np.concatenate([np.flatnonzero(keep), *copied]).astype(int)
        X_res = restore_dtypes(pd.concat([X.iloc[real_idx], *synthetic_parts],
                                          ignore_index=True), X)
        n_synth = len(X_res) - len(real_idx)
        logger.info(
            "cell balancing: %d real rows kept, %d synthetic rows added", len(real_idx), n_synth
        )
        return Resampled(
            X=X_res,
            labels=np.concatenate([labels[real_idx], *synthetic_labels]).astype(int),
            groups=np.concatenate([group[real_idx], *synthetic_groups]).astype(str),
            sample_indices=np.concatenate([real_idx, np.full(n_synth, -1)]),
            cells=cells,
            selection=getattr(state, "stats", {}),
        )

    def sample_cell(
        self,
        X: pd.DataFrame,
        groups: np.ndarray,
        group: str,
        label: int,
        n: int,
        rng: np.random.Generator,
    ) -> tuple[pd.DataFrame, int]:
        """Generate ``n`` rows of the (``group``, ``label``) cell with the fitted GAN.

        Parameters
        ----------
        X : DataFrame
            Real rows with the fitted columns; the synthetic rows get their columns, and sensitive
            values drawn from the rows of ``X`` in ``group``.
        groups : ndarray of str
            Group of each row of ``X``.
        group : str
            The cell's group.
        label : int
            The cell's label.
        n : int
            Rows to generate.
        rng : Generator
            Seeds the GAN's draw and the sensitive values.

        Returns
        -------
        rows : DataFrame
            ``n`` rows with the columns of ``X``.
        tries : int
            Sampling rounds the GAN needed to fill the cell.
        """
        candidates = self.gan_.sample(
            n,
            condition={CELL_GROUP: group, CELL_LABEL: str(label)},
            random_state=int(rng.integers(0, 2**31 - 1)),
        )
        tries = int(self.gan_.last_sample_stats_.get("tries", 1))
        rows = self._fill_sensitive(
            candidates.drop(columns=[CELL_GROUP, CELL_LABEL]), X, groups, group, rng
        )
        return rows[list(X.columns)], tries

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
        check_fitted(self, ["gan_", "feature_names_in_"],
                     message=ERR_NOT_FITTED.format(name=type(self).__name__))
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
        for a merged group (:data:`~fairlatent.data.groups.OTHER_GROUP`) the values follow their
        frequency among its real rows.
        """
        rows = rows.reset_index(drop=True).copy()
        if not list(self.sensitive):
            return rows
        source = X.loc[group == g, list(self.sensitive)].reset_index(drop=True)
        picks = rng.integers(0, len(source), size=len(rows))
        for column in self.sensitive:
            rows[column] = source[column].iloc[picks].to_numpy()
        return rows
