"""The :class:`TabularVAE` estimator: parameters, fit, latent codes, reconstructions, samples.

The network lives in :mod:`~fairlatent.models.vae.networks` and the training loop in
:mod:`~fairlatent.models.vae.training`; see :mod:`fairlatent.models.vae` for the model itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator

from fairlatent.encoding.frames import as_frame
from fairlatent.exceptions import DataError
from fairlatent.models.device import to_device
from fairlatent.models.losses import span_losses
from fairlatent.models.params import (
    EpochCallback,
    check_number,
    check_positive_int,
    check_widths,
    settings_from,
)
from fairlatent.models.persistence import SavableModel, cpu_state, set_fitted_encoder
from fairlatent.models.training import check_fit_options, start_fit
from fairlatent.models.vae.decoding import GroupDecoding
from fairlatent.models.vae.networks import VAENetwork
from fairlatent.models.vae.training import CHUNK_ROWS, TrainingSettings
from fairlatent.models.vae.training import train as train_vae

logger = logging.getLogger(__name__)

__all__ = ["TabularVAE"]

T = TypeVar("T")

ERR_TOO_FEW_ROWS = (
    "the frame has {n} row(s); with val_fraction={fraction} no training rows are left; pass more "
    "rows or val_fraction=0"
)


class TabularVAE(SavableModel, GroupDecoding, BaseEstimator):
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
    bf16 : bool, default False
        Run the network's forward pass under bf16 autocast during training (CUDA or CPU); the
        losses stay in float32. Off by default: it changes the numbers, and on the CPU it gained
        3-8 % at most (``benchmarks/RESULTS.md``); ``benchmarks/gpu_check.py`` measures it on a GPU.
    compile : bool, default False
        Train through ``torch.compile(network)``. Off by default: it costs tens of seconds of
        compilation per fit and gained nothing on the CPU; ``benchmarks/gpu_check.py`` measures it.
    distributed : bool, default False
        Data-parallel training (DistributedDataParallel) when the fit runs under ``torchrun``
        with several processes; alone, a plain fit (see :mod:`fairlatent.models.distributed`).
    mmd_weight : float, default 0.0
        Only with ``groups`` in :meth:`fit` (a conditional decoder): weight of the penalty on
        the encoder for carrying the group, the share-weighted squared MMD between each group's
        latent means and the batch's (VFAE, Louizos et al. 2016;
        :func:`~fairlatent.models.vae.networks.mmd_penalty`). ``0``: a conditional VAE without
        the penalty.
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
        ``recon``, ``kl``, ``loss`` (the one to show), ``seconds`` (the epoch's) and
        ``elapsed_seconds`` (since training started); see
        :func:`~fairlatent.models.vae.training.epoch_metrics`.
    best_epoch_ : int
        Epoch whose weights were kept.
    fit_seconds_ : float
        Wall-clock time of :meth:`fit` (encoder included).
    group_levels_ : ndarray of str
        Groups the conditional decoder knows (empty for a plain VAE, fitted without ``groups``).
    group_shares_ : ndarray of float
        Their shares of the training rows (the weights of :meth:`decode`'s average over groups).

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
    FITTED_ATTRIBUTE = "module_"

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
        bf16: bool = False,
        compile: bool = False,
        distributed: bool = False,
        mmd_weight: float = 0.0,
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
        self.bf16 = bf16
        self.compile = compile
        self.distributed = distributed
        self.mmd_weight = mmd_weight
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
        check_number("mmd_weight", self.mmd_weight, inclusive=True)
        check_fit_options(self)

    # -- fit ---------------------------------------------------------------------------------------

    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        groups: Any = None,
        callbacks: Sequence[EpochCallback] | None = None,
    ) -> TabularVAE:
        """Fit the encoder and train the VAE on ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_rows, n_columns)
            Training rows (every column is modelled; an array's columns are named ``x0, ...``).
        y : None
            Ignored (the model is unsupervised: a label to model is a column of ``X``).
        groups : array-like of shape (n_rows,), optional
            Each row's group. Given, the decoder is *conditional*: it reads the group's one-hot
            code next to the latent code (so the code need not carry the group), and
            ``mmd_weight`` penalises the encoder for carrying it. The group is not a column of
            ``frame``: leave the sensitive columns out of it to get a code free of them.
        callbacks : sequence of callable, optional
            Each is called after every epoch as ``callback(epoch, epochs, metrics)`` with the
            1-based epoch number, the maximum number of epochs and that epoch's ``history_`` dict
            (losses, ``loss``, ``seconds`` and ``elapsed_seconds``: enough for a display with the
            loss and an ETA).

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
        frame = as_frame(X, self)
        started = time.perf_counter()
        start = start_fit(self)
        init_seed, split_seed, _, sample_seed = start.seeds
        device = start.device

        encoder, encoded = start.fit_encoder(frame, self.numeric)
        n_rows = encoded.shape[0]
        n_val = round(n_rows * self.val_fraction)
        if self.val_fraction > 0 and n_val == 0 and n_rows >= 2:
            n_val = 1
        if n_rows - n_val < 1:
            raise DataError(ERR_TOO_FEW_ROWS.format(n=n_rows, fraction=self.val_fraction))
        order = np.random.default_rng(split_seed).permutation(n_rows)

        set_fitted_encoder(self, encoder, frame.columns)
        self._set_groups(groups, n_rows)
        if len(self.group_levels_):
            encoded = np.hstack([encoded, self._group_onehot(groups, n_rows)])
        self.device_ = device
        self.module_ = self._build_module(init_seed)
        self._sample_rng = np.random.default_rng(sample_seed)

        data = to_device(encoded, device)  # the whole table, once
        split = to_device(order, device)
        train = data.index_select(0, split[n_val:])
        val = data.index_select(0, split[:n_val]) if n_val else None
        del data
        self.history_: list[dict[str, Any]] = []
        self.best_epoch_ = train_vae(
            self.module_,
            train,
            val,
            self.spans_,
            replace(
                settings_from(TrainingSettings, self), n_groups=len(self.group_levels_)
            ),
            start.training_run(self.history_, callbacks),
        )
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

    def _build_module(self, seed: int) -> VAENetwork:
        n_numeric = sum(s.width for s in self.encoder_.spans_ if not s.is_discrete)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = VAENetwork(
                self.encoder_.output_dim_,
                tuple(self.hidden_dims),
                int(self.latent_dim),
                n_numeric,
                n_groups=len(self.group_levels_),
            )
        return module.to(self.device_)

    # -- inference ---------------------------------------------------------------------------------

    def _map_chunks(
        self, frame: pd.DataFrame, step: Callable[[VAENetwork, torch.Tensor], T]
    ) -> list[T]:
        """Encode ``frame`` and apply ``step(module, rows)`` to chunks of it, without gradient."""
        self._check_fitted()
        data = torch.from_numpy(self.encoder_.transform(frame)).to(self.device_)
        module = self.module_.eval()
        with torch.inference_mode():
            return [
                step(module, data[start : start + CHUNK_ROWS])
                for start in range(0, data.shape[0], CHUNK_ROWS)
            ]

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
        posteriors = self._map_chunks(frame, lambda module, rows: module.encode(rows))
        means = [mu for mu, _ in posteriors]
        log_vars = [log_var for _, log_var in posteriors]
        shape = (0, int(self.latent_dim))
        mean = torch.cat(means).cpu().numpy() if means else np.zeros(shape, np.float32)
        log_var = torch.cat(log_vars).cpu().numpy() if log_vars else np.zeros(shape, np.float32)
        return mean, log_var

    def _forward_chunks(
        self, frame: pd.DataFrame, groups: Any, step: Callable[[torch.Tensor, torch.Tensor], T]
    ) -> list[T]:
        """Apply ``step(rows, logits)`` to chunks of ``frame`` decoded from their posterior means."""
        self._check_fitted()
        data = torch.from_numpy(self.encoder_.transform(frame)).to(self.device_)
        n = data.shape[0]
        # a conditional VAE without groups averages over them (see _decode_mean)
        onehot = self._onehot_tensor(groups, n) if groups is not None else None
        module = self.module_.eval()
        out = []
        with torch.inference_mode():
            for rows in self._chunks(n):
                mu, _ = module.encode(data[rows])
                if onehot is not None:
                    logits = module.decode(mu, onehot[rows])
                else:
                    logits = self._decode_mean(mu, None)
                out.append(step(data[rows], logits))
        return out

    def reconstruct(self, frame: pd.DataFrame, groups: Any = None) -> pd.DataFrame:
        """Decode each row's posterior mean back to a row.

        Parameters
        ----------
        frame : DataFrame
            Rows with the fitted columns.
        groups : array-like of shape (n_rows,) or scalar, optional
            A conditional VAE's group input (``None``: averaged over the groups, see
            :meth:`decode`).

        Returns
        -------
        DataFrame
            Reconstructions (most likely category per one-hot span, mean per numeric value), with
            the fitted columns and dtypes and a fresh ``RangeIndex``.
        """
        outputs = self._forward_chunks(frame, groups, lambda rows, logits: logits)
        dim = self.encoder_.output_dim_
        decoded = torch.cat(outputs).cpu().numpy() if outputs else np.zeros((0, dim))
        return self.encoder_.inverse_transform(decoded)

    def reconstruction_error(self, frame: pd.DataFrame, groups: Any = None) -> np.ndarray:
        """Per-row reconstruction error, averaged over the source columns.

        A column's error is its negative log-likelihood given the row's posterior mean, with unit
        variance for numeric scores: ``0.5 * squared error`` of the encoded value, or the
        cross-entropy (nats) of a categorical column; spans of one column (value, mode, missing
        flag) are summed.

        Parameters
        ----------
        frame : DataFrame
            Rows with the fitted columns.
        groups : array-like of shape (n_rows,), optional
            A conditional VAE's group input (each row's own group, normally).

        Returns
        -------
        ndarray of float64, shape (n_rows,)
            Mean per-column error of each row (higher = less typical of the training data).
        """
        self._check_fitted()
        spans = self.spans_
        columns = list(dict.fromkeys(s.column for s in spans))
        membership = torch.zeros(len(spans), len(columns), device=self.device_)
        for i, span in enumerate(spans):
            membership[i, columns.index(span.column)] = 1.0 / len(columns)

        def error(rows: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
            return (span_losses(logits, rows, spans) @ membership).sum(dim=1)

        errors = self._forward_chunks(frame, groups, error)
        if not errors:
            return np.zeros(0)
        return torch.cat(errors).cpu().numpy().astype(np.float64)

    # -- persistence (save and load come from SavableModel) ---------------------------------------

    def _extra_config(self) -> dict[str, Any]:
        return {
            "best_epoch": self.best_epoch_,
            "group_levels": [str(v) for v in self.group_levels_],
            "group_shares": [float(v) for v in self.group_shares_],
        }

    def _weights(self) -> dict[str, Any]:
        return cpu_state(self.module_)

    def _restore_config(self, config: dict[str, Any]) -> None:
        self.best_epoch_ = int(config["best_epoch"])
        self.group_levels_ = np.asarray(config.get("group_levels", []), dtype=object)
        self.group_shares_ = np.asarray(config.get("group_shares", []), dtype=float)

    def _restore_weights(self, state: Any) -> None:
        module = self._build_module(0)
        module.load_state_dict(state)
        self.module_ = module.eval()
