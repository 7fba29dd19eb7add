"""TabularVAE: a variational autoencoder for mixed-type tables that keeps its encoder.

The model fits its own :class:`~fairlatent.encoding.TabularEncoder`, encodes the whole table once
to a float32 tensor on the training device and trains an MLP encoder ``x -> (mu, log_var)`` and an
MLP decoder ``z -> logits`` on a mixed likelihood: a Gaussian with a learned standard deviation per
numeric dimension, and a softmax cross-entropy for every one-hot span (categories, GMM modes and
missing-value indicators). The KL term is weighted by ``beta``.

After ``fit`` the model gives latent codes (:meth:`TabularVAE.encode`, the input of the DB-VAE
debiasing strategy), reconstructions, per-row reconstruction errors and new samples.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from torch import nn

from fairlatent.encoding import TabularEncoder
from fairlatent.exceptions import (
    DataError,
    NotFittedError,
)
from fairlatent.models.device import resolve_device
from fairlatent.models.losses import (
    LOG_SIGMA_MAX,
    LOG_SIGMA_MIN,
    span_losses,
    span_reconstruction_loss,
)
from fairlatent.models.nn import gumbel_noise, make_mlp, span_layout
from fairlatent.models.params import (
    EpochCallback,
    check_choice,
    check_count,
    check_number,
    check_positive_int,
    check_widths,
)
from fairlatent.models.persistence import SavableModel, cpu_state, set_fitted_encoder
from fairlatent.models.seeding import derive_seeds, sampling_generator

logger = logging.getLogger(__name__)

__all__ = ["EpochCallback", "TabularVAE"]

_CHUNK_ROWS = 16_384

ERR_NOT_FITTED = "this TabularVAE is not fitted yet; call fit(frame) first"
ERR_TOO_FEW_ROWS = (
    "the frame has {n} row(s); with val_fraction={fraction} no training rows are left; pass more "
    "rows or val_fraction=0"
)


class _VAENetwork(nn.Module):
    """Encoder and decoder MLPs plus the learned numeric log standard deviations."""

    def __init__(
        self, data_dim: int, hidden_dims: Sequence[int], latent_dim: int, n_numeric: int
    ) -> None:
        super().__init__()
        self.encoder = make_mlp(data_dim, hidden_dims, 2 * latent_dim)
        self.decoder = make_mlp(latent_dim, tuple(reversed(hidden_dims)), data_dim)
        self.log_sigma = nn.Parameter(torch.full((n_numeric,), math.log(0.1)))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, log_var = self.encoder(x).chunk(2, dim=1)
        return mu, log_var

    def forward(
        self, x: torch.Tensor, noise: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, log_var = self.encode(x)
        z = mu if noise is None else mu + noise * torch.exp(0.5 * log_var)
        return self.decoder(z), mu, log_var


def _kl(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """Mean over rows of KL(N(mu, exp(log_var)) || N(0, I))."""
    return 0.5 * (mu.square() + log_var.exp() - 1.0 - log_var).sum(dim=1).mean()


def _adam(module: nn.Module, learning_rate: float) -> torch.optim.Optimizer:
    """Adam, fused into one kernel where this torch build and device support it."""
    try:
        return torch.optim.Adam(module.parameters(), lr=learning_rate, fused=True)
    except (RuntimeError, TypeError, ValueError):  # pragma: no cover - depends on the build
        return torch.optim.Adam(module.parameters(), lr=learning_rate)


class TabularVAE(SavableModel, BaseEstimator):
    """Variational autoencoder for a mixed-type DataFrame.

    Parameters
    ----------
    latent_dim : int, default 16
        Size of the latent code.
    hidden_dims : tuple of int, default (128,)
        Hidden widths of the encoder; the decoder uses them in reverse. One hidden layer of 128
        reaches a better validation ELBO and held-out reconstruction on Adult and Bank than two,
        in about 60% of the time per epoch (``benchmarks/RESULTS.md``).
    beta : float, default 0.1
        Weight of the KL term (``beta < 1`` favours faithful reconstructions over a smooth prior).
    epochs : int, default 100
        Maximum number of passes over the training rows.
    batch_size : int, default 500
        Rows per optimisation step.
    learning_rate : float, default 3e-3
        Adam step size.
    val_fraction : float, default 0.1
        Share of rows held out for early stopping (0 disables validation and early stopping).
    patience : int or None, default 10
        Stop after this many epochs without a better validation loss and restore the best
        weights; ``None`` trains all ``epochs``.
    numeric : {"quantile", "gmm"}, default "quantile"
        Numeric encoding of the internal :class:`~fairlatent.encoding.TabularEncoder`.
    device : str, default "auto"
        ``"auto"`` (cuda > mps > cpu), ``"cpu"``, ``"cuda"``, ``"cuda:<i>"`` or ``"mps"``.
    random_state : int or None, default None
        Seed of the weight initialisation, the validation split, the shuffling, the latent noise
        and the default sampling stream. The same seed gives the same numbers on CPU. No global
        random state is read or changed.

    Attributes
    ----------
    encoder_ : TabularEncoder
        The fitted data encoder.
    spans_ : list of Span
        ``encoder_.spans_``.
    feature_names_in_ : ndarray of str
        Columns the model was fitted on.
    n_features_in_ : int
        Number of those columns.
    module_ : torch.nn.Module
        The trained network (on ``device_``).
    device_ : torch.device
        Device the network lives on.
    history_ : list of dict
        One dict per epoch: ``epoch``, ``train_loss``, ``val_loss`` (NaN without validation),
        ``recon``, ``kl``, ``seconds``.
    best_epoch_ : int
        Epoch whose weights were kept.
    fit_seconds_ : float
        Wall-clock time of :meth:`fit` (encoder included).

    Notes
    -----
    ``train_loss``, ``recon`` and ``kl`` are means over the epoch's training rows with the latent
    code sampled; ``val_loss`` is the negative ELBO of the held-out rows with the code at its
    posterior mean (deterministic), and drives early stopping.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"age": rng.integers(18, 80, 200),
    ...                       "sex": rng.choice(["F", "M"], 200)})
    >>> vae = TabularVAE(epochs=2, hidden_dims=(16, 16), device="cpu", random_state=0).fit(frame)
    >>> means, log_vars = vae.encode(frame)
    >>> means.shape
    (200, 16)
    >>> sorted(vae.sample(5, random_state=1)["sex"].unique()) in (["F"], ["F", "M"], ["M"])
    True
    """

    FORMAT_NAME = "fairlatent.TabularVAE"
    FORMAT_VERSION = 1
    TUPLE_PARAMS = ("hidden_dims",)

    def __init__(
        self,
        *,
        latent_dim: int = 16,
        hidden_dims: tuple[int, ...] = (128,),
        beta: float = 0.1,
        epochs: int = 100,
        batch_size: int = 500,
        learning_rate: float = 3e-3,
        val_fraction: float = 0.1,
        patience: int | None = 10,
        numeric: Literal["quantile", "gmm"] = "quantile",
        device: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.beta = beta
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.val_fraction = val_fraction
        self.patience = patience
        self.numeric = numeric
        self.device = device
        self.random_state = random_state

    # -- validation --------------------------------------------------------------------------------

    def _validate_params(self) -> None:
        check_positive_int("latent_dim", self.latent_dim)
        check_positive_int("epochs", self.epochs)
        check_positive_int("batch_size", self.batch_size)
        if self.patience is not None:
            check_positive_int("patience", self.patience)
        check_widths("hidden_dims", self.hidden_dims)
        check_number("beta", self.beta, inclusive=True)
        check_number("learning_rate", self.learning_rate)
        check_number("val_fraction", self.val_fraction, inclusive=True, below=1.0)
        check_choice("numeric", self.numeric, ("quantile", "gmm"))

    def _check_fitted(self) -> None:
        if not hasattr(self, "module_"):
            raise NotFittedError(ERR_NOT_FITTED)

    # -- fit ---------------------------------------------------------------------------------------

    def fit(
        self,
        frame: pd.DataFrame,
        *,
        callbacks: Sequence[EpochCallback] | None = None,
    ) -> TabularVAE:
        """Fit the encoder and train the VAE on ``frame``.

        Parameters
        ----------
        frame : DataFrame
            Training rows (every column is modelled).
        callbacks : sequence of callable, optional
            Each is called after every epoch as ``callback(epoch, epochs, metrics)`` with the
            1-based epoch number, the maximum number of epochs and that epoch's ``history_`` dict.

        Returns
        -------
        TabularVAE
            ``self``, fitted.

        Raises
        ------
        ConfigError
            On invalid parameters or an unavailable device.
        DataError, SchemaError
            On an unusable frame (see :meth:`TabularEncoder.fit`).
        """
        self._validate_params()
        started = time.perf_counter()
        device = resolve_device(self.device)
        init_seed, split_seed, train_seed, sample_seed = derive_seeds(self.random_state, 4)

        encoder = TabularEncoder(numeric=self.numeric, random_state=split_seed % 2**31)
        encoded = encoder.fit_transform(frame)
        n_rows = encoded.shape[0]
        n_val = round(n_rows * self.val_fraction)
        if self.val_fraction > 0 and n_val == 0 and n_rows >= 2:
            n_val = 1
        if n_rows - n_val < 1:
            raise DataError(ERR_TOO_FEW_ROWS.format(n=n_rows, fraction=self.val_fraction))
        order = np.random.default_rng(split_seed).permutation(n_rows)

        set_fitted_encoder(self, encoder, frame.columns)
        self.device_ = device
        self.module_ = self._build_module(init_seed)
        self._sample_rng = np.random.default_rng(sample_seed)

        data = torch.from_numpy(encoded).to(device)  # the whole table, once
        split = torch.from_numpy(order).to(device)
        train = data.index_select(0, split[n_val:])
        val = data.index_select(0, split[:n_val]) if n_val else None
        del data
        self._train(train, val, train_seed, list(callbacks or []))
        self.fit_seconds_ = time.perf_counter() - started
        logger.info(
            "TabularVAE fitted on %d rows (%d validation) in %.1f s: %d epochs, best epoch %d",
            n_rows,
            n_val,
            self.fit_seconds_,
            len(self.history_),
            self.best_epoch_,
        )
        return self

    def _build_module(self, seed: int) -> _VAENetwork:
        n_numeric = sum(s.width for s in self.encoder_.spans_ if not s.is_discrete)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = _VAENetwork(
                self.encoder_.output_dim_, tuple(self.hidden_dims), int(self.latent_dim), n_numeric
            )
        return module.to(self.device_)

    def _train(
        self,
        train: torch.Tensor,
        val: torch.Tensor | None,
        seed: int,
        callbacks: list[EpochCallback],
    ) -> None:
        module = self.module_
        spans = self.spans_
        device = self.device_
        beta = float(self.beta)
        batch_size = int(self.batch_size)
        latent_dim = int(self.latent_dim)
        generator = torch.Generator(device=device)
        generator.manual_seed(seed)
        optimizer = _adam(module, float(self.learning_rate))
        n_train = train.shape[0]
        self.history_: list[dict[str, Any]] = []
        best_loss = math.inf
        best_state = None
        self.best_epoch_ = 0
        stale = 0
        for epoch in range(1, int(self.epochs) + 1):
            tick = time.perf_counter()
            module.train()
            shuffled = train.index_select(
                0, torch.randperm(n_train, generator=generator, device=device)
            )
            totals = torch.zeros(3, device=device)
            for start in range(0, n_train, batch_size):
                batch = shuffled[start : start + batch_size]
                noise = torch.randn(
                    (batch.shape[0], latent_dim), generator=generator, device=device
                )
                logits, mu, log_var = module(batch, noise)
                recon = span_reconstruction_loss(
                    logits, batch, spans, numeric_log_sigma=module.log_sigma
                )
                kl = _kl(mu, log_var)
                loss = recon + beta * kl
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                totals += torch.stack([loss, recon, kl]).detach() * batch.shape[0]
            train_loss, recon_mean, kl_mean = (totals / n_train).tolist()  # one sync per epoch
            val_loss = self._validation_loss(val, beta) if val is not None else math.nan
            metrics = {
                "epoch": epoch,
                "train_loss": train_loss,
                "val_loss": val_loss,
                "recon": recon_mean,
                "kl": kl_mean,
                "seconds": time.perf_counter() - tick,
            }
            self.history_.append(metrics)
            if not math.isfinite(train_loss):
                logger.warning(
                    "training loss is %s at epoch %d; lower learning_rate (now %g)",
                    train_loss,
                    epoch,
                    self.learning_rate,
                )
            logger.debug("epoch %d/%d: %s", epoch, self.epochs, metrics)
            for callback in callbacks:
                callback(epoch, int(self.epochs), metrics)
            if val is None:
                self.best_epoch_ = epoch
                continue
            if val_loss < best_loss:
                best_loss, self.best_epoch_, stale = val_loss, epoch, 0
                best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
            else:
                stale += 1
                if self.patience is not None and stale >= self.patience:
                    logger.info("early stopping after epoch %d (best %d)", epoch, self.best_epoch_)
                    break
        if best_state is not None:
            module.load_state_dict(best_state)
        module.eval()

    def _validation_loss(self, val: torch.Tensor, beta: float) -> float:
        module = self.module_
        module.eval()
        total = torch.zeros((), device=val.device)
        with torch.inference_mode():
            for start in range(0, val.shape[0], _CHUNK_ROWS):
                batch = val[start : start + _CHUNK_ROWS]
                logits, mu, log_var = module(batch, None)
                recon = span_reconstruction_loss(
                    logits, batch, self.spans_, numeric_log_sigma=module.log_sigma
                )
                total += (recon + beta * _kl(mu, log_var)) * batch.shape[0]
        return float(total.item()) / val.shape[0]

    # -- inference ---------------------------------------------------------------------------------

    def _encode_tensor(self, frame: pd.DataFrame) -> torch.Tensor:
        return torch.from_numpy(self.encoder_.transform(frame)).to(self.device_)

    def _chunks(self, n: int) -> Iterable[slice]:
        return (slice(s, min(s + _CHUNK_ROWS, n)) for s in range(0, n, _CHUNK_ROWS))

    def encode(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Latent posterior of each row.

        Parameters
        ----------
        frame : DataFrame
            Rows with the fitted columns (others are ignored).

        Returns
        -------
        means : ndarray of float32, shape (n_rows, latent_dim)
            Posterior means.
        log_vars : ndarray of float32, shape (n_rows, latent_dim)
            Posterior log-variances.
        """
        self._check_fitted()
        data = self._encode_tensor(frame)
        module = self.module_.eval()
        means, log_vars = [], []
        with torch.inference_mode():
            for rows in self._chunks(data.shape[0]):
                mu, log_var = module.encode(data[rows])
                means.append(mu)
                log_vars.append(log_var)
        shape = (0, int(self.latent_dim))
        mean = torch.cat(means).cpu().numpy() if means else np.zeros(shape, np.float32)
        log_var = torch.cat(log_vars).cpu().numpy() if log_vars else np.zeros(shape, np.float32)
        return mean, log_var

    def reconstruct(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Decode each row's posterior mean back to a row.

        Parameters
        ----------
        frame : DataFrame
            Rows with the fitted columns.

        Returns
        -------
        DataFrame
            Reconstructions (most likely category per one-hot span, mean per numeric value), with
            the fitted columns and dtypes and a fresh ``RangeIndex``.
        """
        self._check_fitted()
        data = self._encode_tensor(frame)
        module = self.module_.eval()
        outputs = []
        with torch.inference_mode():
            for rows in self._chunks(data.shape[0]):
                logits, _, _ = module(data[rows], None)
                outputs.append(logits)
        decoded = torch.cat(outputs).cpu().numpy() if outputs else np.zeros((0, data.shape[1]))
        return self.encoder_.inverse_transform(decoded)

    def reconstruction_error(self, frame: pd.DataFrame) -> np.ndarray:
        """Per-row reconstruction error, averaged over the source columns.

        A column's error is its negative log-likelihood given the row's posterior mean, with unit
        variance for numeric scores: ``0.5 * squared error`` of the encoded value, or the
        cross-entropy (nats) of a categorical column; spans of one column (value, mode, missing
        flag) are summed.

        Parameters
        ----------
        frame : DataFrame
            Rows with the fitted columns.

        Returns
        -------
        ndarray of float64, shape (n_rows,)
            Mean per-column error of each row (higher = less typical of the training data).
        """
        self._check_fitted()
        data = self._encode_tensor(frame)
        module = self.module_.eval()
        columns = list(dict.fromkeys(s.column for s in self.spans_))
        membership = torch.zeros(len(self.spans_), len(columns), device=self.device_)
        for i, span in enumerate(self.spans_):
            membership[i, columns.index(span.column)] = 1.0 / len(columns)
        errors = []
        with torch.inference_mode():
            for rows in self._chunks(data.shape[0]):
                batch = data[rows]
                logits, _, _ = module(batch, None)
                errors.append((span_losses(logits, batch, self.spans_) @ membership).sum(dim=1))
        if not errors:
            return np.zeros(0)
        return torch.cat(errors).cpu().numpy().astype(np.float64)

    def sample(self, n: int, *, random_state: int | None = None) -> pd.DataFrame:
        """Draw new rows from the generative model.

        ``z ~ N(0, I)``; numeric values are drawn from the decoder's Gaussian (mean and learned
        standard deviation) and every one-hot span from its softmax, then decoded.

        Parameters
        ----------
        n : int
            Number of rows.
        random_state : int, optional
            Seed of this draw. ``None`` continues the model's own stream, seeded by the
            constructor's ``random_state`` (so a seeded model gives a reproducible sequence of
            samples).

        Returns
        -------
        DataFrame
            ``n`` rows with the fitted columns and dtypes: categories seen in fit, numeric values
            within the fitted range.
        """
        self._check_fitted()
        check_count("n", n)
        device = self.device_
        generator = sampling_generator(self._sample_rng, random_state, device)
        module = self.module_.eval()
        layout = span_layout(self.spans_, device)
        sigma = torch.exp(module.log_sigma.detach().clamp(LOG_SIGMA_MIN, LOG_SIGMA_MAX))
        outputs = []
        with torch.inference_mode():
            for rows in self._chunks(int(n)):
                count = rows.stop - rows.start
                z = torch.randn((count, int(self.latent_dim)), generator=generator, device=device)
                logits = module.decoder(z)
                gumbel = gumbel_noise(logits.shape, generator=generator, device=device)
                logits = logits + gumbel * layout.discrete_mask  # gumbel-max = categorical draw
                if layout.numeric_index.numel():
                    gauss = torch.randn(
                        (count, layout.numeric_index.numel()), generator=generator, device=device
                    )
                    logits[:, layout.numeric_index] += gauss * sigma
                outputs.append(logits)
        dim = self.encoder_.output_dim_
        decoded = torch.cat(outputs).cpu().numpy() if outputs else np.zeros((0, dim))
        return self.encoder_.inverse_transform(decoded)

    # -- persistence (save and load come from SavableModel) ---------------------------------------

    def _extra_config(self) -> dict[str, Any]:
        return {"best_epoch": self.best_epoch_}

    def _weights(self) -> dict[str, Any]:
        return cpu_state(self.module_)

    def _restore_config(self, config: dict[str, Any]) -> None:
        self.best_epoch_ = int(config["best_epoch"])

    def _restore_weights(self, state: Any) -> None:
        module = self._build_module(0)
        module.load_state_dict(state)
        self.module_ = module.eval()
