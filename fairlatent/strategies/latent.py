"""The ``vae`` strategy: DB-VAE latent-density resampling (Amini et al., AIES 2019)."""

from __future__ import annotations

import logging
import math
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairlatent.samplers.latent_density import (
    DEFAULT_VAE_PARAMS,
    LatentDensityResampler,
    effective_sample_size,
)
from fairlatent.strategies.base import (
    ARTIFACT_LATENT_MODEL,
    Strategy,
    StrategyContext,
    StrategyOutput,
)

logger = logging.getLogger(__name__)

__all__ = ["LatentDensityStrategy"]

_HISTORY_KEYS = ("epoch", "train_loss", "val_loss", "recon", "kl")


def _float(value: Any) -> float | None:
    """Turn a number into a JSON float (NaN and infinities become ``None``)."""
    value = float(value)
    return value if math.isfinite(value) else None


class LatentDensityStrategy(Strategy):
    """DB-VAE: resample (or weight) training rows inversely to their latent density.

    A tabular VAE learns a latent space of the training rows (features, sensitive columns and the
    label); a density is estimated on the rows' latent means, and rows from sparse regions are
    drawn more often (or weighted up), so under-represented kinds of individuals count more. The
    fitted VAE and density are kept in ``artifacts["latent_model"]`` for the representation audit.

    Parameters
    ----------
    scope : {"global", "group"}, default "group"
        Density over all rows, or within each group (rarity relative to one's own group; each
        group keeps its size, so the group mix of the training set does not change).
    sampling : {"resample", "weights"}, default "resample"
        Draw a new training set with replacement, or keep the rows and return sample weights.
    density : {"histogram", "gmm"}, default "histogram"
        Per-dimension histograms (DB-VAE) or a Gaussian mixture.
    alpha : float, default 0.01
        Smoothing (small = strong debiasing, large = uniform).
    bins : int, default 10
        Histogram bins per latent dimension.
    rule : {"product", "max"}, default "max"
        Combination of the per-dimension histograms: ``"max"`` (the reference lab code) or
        ``"product"`` (the paper). See Notes for why ``"max"`` is the default.
    n_components : int, default 8
        Gaussian mixture components.
    latent_dim : int, default 8
        Size of the VAE's latent space.
    hidden_dims : sequence of int, default (128,)
        Hidden widths of the VAE.
    beta : float or None, default None
        KL weight of the VAE (``None``: the VAE's default).
    epochs : int or None, default None
        VAE epochs; ``None`` takes the audit's ``epochs`` override, else the VAE's default.
    vae_params : dict or None, default None
        Any other :class:`~fairlatent.models.vae.TabularVAE` parameter.

    Notes
    -----
    Defaults were chosen on Adult (target ``income``, sensitive ``sex``) on validation rows
    carved out of the training split (never the audit's test rows), over three VAE seeds and
    validation splits, with logistic regression and gradient boosting. The paper's rule
    (``rule="product"``, ``alpha=0.01``) multiplies 8 per-dimension rarities and concentrates the
    weights on about a hundred of 25,600 rows (effective sample size 0.4%): accuracy fell from
    0.851 to 0.780 (logreg) and 0.873 to 0.841 (hgb), and the demographic-parity difference rose
    from 0.18 to 0.27 / 0.25. The lab code's ``"max"`` rule keeps about half the rows effective
    and stays close to the baseline (``scope="group"``: logreg 0.850 / DP 0.178 / EO 0.098 against
    0.851 / 0.181 / 0.101; hgb 0.867 / 0.198 / 0.101 against 0.873 / 0.179 / 0.087). No setting
    reduced the parity gap the way reweighing does (DP 0.09): DB-VAE targets rare kinds of rows,
    not group x label balance.

    Examples
    --------
    >>> from fairlatent.strategies import get_strategy
    >>> strategy = get_strategy("vae", scope="group", alpha=0.05)
    >>> strategy.name
    'vae'
    """

    name = "vae"
    description = (
        "DB-VAE (Amini et al. 2019): a VAE learns a latent space of the training rows (features "
        "and label); rows from sparse latent regions are drawn more often, weight ∝ 1/(density "
        "+ alpha)"
    )

    def __init__(
        self,
        *,
        scope: Literal["global", "group"] = "group",
        sampling: Literal["resample", "weights"] = "resample",
        density: Literal["histogram", "gmm"] = "histogram",
        alpha: float = 0.01,
        bins: int = 10,
        rule: Literal["product", "max"] = "max",
        n_components: int = 8,
        latent_dim: int = DEFAULT_VAE_PARAMS["latent_dim"],
        hidden_dims: tuple[int, ...] | list[int] = DEFAULT_VAE_PARAMS["hidden_dims"],
        beta: float | None = None,
        epochs: int | None = None,
        vae_params: dict[str, Any] | None = None,
    ) -> None:
        self.scope = scope
        self.sampling = sampling
        self.density = density
        self.alpha = alpha
        self.bins = bins
        self.rule = rule
        self.n_components = n_components
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.beta = beta
        self.epochs = epochs
        self.vae_params = vae_params

    def resampler(self, context: StrategyContext) -> LatentDensityResampler:
        """Build the (unfitted) sampler this strategy uses for ``context``.

        Parameters
        ----------
        context : StrategyContext

        Returns
        -------
        LatentDensityResampler
        """
        vae_params = dict(self.vae_params or {})
        vae_params.setdefault("latent_dim", int(self.latent_dim))
        vae_params.setdefault("hidden_dims", tuple(int(h) for h in self.hidden_dims))
        if self.beta is not None:
            vae_params.setdefault("beta", float(self.beta))
        epochs = self.epochs if self.epochs is not None else context.epochs
        return LatentDensityResampler(
            sensitive=list(context.sensitive),
            scope=self.scope,
            density=self.density,
            alpha=self.alpha,
            bins=self.bins,
            rule=self.rule,
            n_components=self.n_components,
            sampling=self.sampling,
            vae_params=vae_params,
            epochs=epochs,
            device=context.device,
            random_state=context.random_state,
        )

    def _apply(self, train: pd.DataFrame, context: StrategyContext) -> StrategyOutput:
        X = train.drop(columns=[context.target, context.group_column])
        y = train[context.target]
        groups = train[context.group_column]
        sampler = self.resampler(context)
        if self.sampling == "weights":
            weights = sampler.compute_sample_weight(X, y, groups=groups)
            output = StrategyOutput(frame=train, sample_weight=weights)
            resampled_groups, resampled_y, resampled_w = groups, y, weights
        else:
            sampler.fit_resample(X, y, groups=groups)
            idx = sampler.sample_indices_
            frame = train.iloc[idx].reset_index(drop=True)
            output = StrategyOutput(frame=frame)
            resampled_groups, resampled_y = frame[context.group_column], frame[context.target]
            resampled_w = np.ones(len(frame))
        output.diagnostics = self._diagnostics(
            sampler, groups, y, resampled_groups, resampled_y, resampled_w
        )
        output.artifacts[ARTIFACT_LATENT_MODEL] = sampler.latent_model_
        output.artifacts["resampler"] = sampler
        return output

    def _diagnostics(
        self,
        sampler: LatentDensityResampler,
        groups: pd.Series,
        y: pd.Series,
        new_groups: pd.Series,
        new_y: pd.Series,
        new_w: np.ndarray,
    ) -> dict[str, Any]:
        vae = sampler.vae_
        history = [
            {k: _float(row[k]) if k != "epoch" else int(row[k]) for k in _HISTORY_KEYS if k in row}
            for row in vae.history_
        ]
        last = history[-1] if history else {}
        params = vae.get_params()
        vae_config = {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in params.items()
            if k != "random_state"
        }
        w = sampler.weights_
        ess = effective_sample_size(w)
        return {
            "options": {
                "scope": self.scope, "sampling": self.sampling, "density": self.density,
                "alpha": float(self.alpha), "bins": int(self.bins), "rule": self.rule,
                "n_components": int(self.n_components),
            },
            "vae": {
                "config": vae_config,
                "device": str(vae.device_),
                "epochs_run": len(history),
                "best_epoch": int(vae.best_epoch_),
                "final_train_loss": last.get("train_loss"),
                "final_val_loss": last.get("val_loss"),
                "fit_seconds": _float(getattr(vae, "fit_seconds_", math.nan)),
                "history": history,
            },
            "weights": {
                "min": _float(w.min()),
                "max": _float(w.max()),
                "max_over_min": _float(w.max() / w.min()) if w.min() > 0 else None,
                "effective_sample_size": _float(ess),
                "effective_share": _float(ess / len(w)),
                "top_1pct_weight_share": _float(np.sort(w)[::-1][: max(1, len(w) // 100)].sum()
                                                / w.sum()),
            },
            "groups": _group_table(groups, y, sampler.weights_, sampler.rarity_, new_groups,
                                   new_y, new_w),
        }


def _group_table(
    groups: pd.Series,
    y: pd.Series,
    weights: np.ndarray,
    rarity: np.ndarray,
    new_groups: pd.Series,
    new_y: pd.Series,
    new_w: np.ndarray,
) -> list[dict[str, Any]]:
    """Each group's share and base rate before and after (weighted when ``new_w`` is not 1)."""
    old = pd.DataFrame({"g": groups.astype(str).to_numpy(), "y": y.to_numpy(dtype=float),
                        "w": weights, "r": rarity})
    new = pd.DataFrame({"g": new_groups.astype(str).to_numpy(),
                        "y": new_y.to_numpy(dtype=float), "w": new_w})
    new["wy"] = new["w"] * new["y"]
    old_stats = old.groupby("g").agg(rows=("y", "size"), base_rate=("y", "mean"),
                                     mean_weight=("w", "mean"), mean_rarity=("r", "mean"))
    new_stats = new.groupby("g").agg(w=("w", "sum"), wy=("wy", "sum"))
    table = []
    for group, row in old_stats.sort_values("rows", ascending=False).iterrows():
        w_sum = float(new_stats["w"].get(group, 0.0))
        table.append({
            "group": str(group),
            "rows": int(row["rows"]),
            "share": _float(row["rows"] / len(old)),
            "new_share": _float(w_sum / new["w"].sum()),
            "base_rate": _float(row["base_rate"]),
            "new_base_rate": _float(new_stats["wy"].get(group, math.nan) / w_sum)
            if w_sum > 0 else None,
            "mean_weight": _float(row["mean_weight"]),
            "mean_rarity": _float(row["mean_rarity"]),
        })
    return table
