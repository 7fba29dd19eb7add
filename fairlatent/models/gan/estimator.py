"""The :class:`TabularGAN` estimator: parameters, fit, conditional sampling, save and load.

The networks live in :mod:`~fairlatent.models.gan.networks`, the condition table in
:mod:`~fairlatent.models.gan.conditions`, the training loop in
:mod:`~fairlatent.models.gan.training` and the rejection sampling in
:mod:`~fairlatent.models.gan.sampling`; see :mod:`fairlatent.models.gan` for the model itself.
"""

from __future__ import annotations

import logging
import numbers
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from torch import nn

from fairlatent.encoding.frames import as_frame
from fairlatent.exceptions import (
    ConfigError,
    SchemaError,
)
from fairlatent.models.device import to_device
from fairlatent.models.gan.conditions import ConditionTable
from fairlatent.models.gan.networks import Critic, Generator
from fairlatent.models.gan.sampling import draw_rows
from fairlatent.models.gan.training import TrainingSettings, train
from fairlatent.models.params import (
    ERR_PARAM,
    EpochCallback,
    check_count,
    check_number,
    check_positive_int,
    check_widths,
    settings_from,
)
from fairlatent.models.persistence import SavableModel, cpu_state, set_fitted_encoder
from fairlatent.models.seeding import sampling_generator
from fairlatent.models.training import check_fit_options, start_fit

logger = logging.getLogger(__name__)

__all__ = ["MAX_SAMPLE_TRIES", "TabularGAN"]

#: Default number of generation batches :meth:`TabularGAN.sample` may spend on one request.
MAX_SAMPLE_TRIES = 20

ERR_PAC = (
    "batch_size ({batch}) must be a multiple of pac ({pac}) because the critic judges packs of "
    "pac rows; use e.g. batch_size={suggest}"
)
ERR_CONDITION_COLUMNS = (
    "condition_columns names {names!r}, which are not in the frame (columns: {cols!r}); pass "
    "columns of the frame you fit on"
)


class TabularGAN(SavableModel, BaseEstimator):
    """Conditional WGAN-GP for a mixed-type DataFrame, with honest conditional sampling.

    Parameters
    ----------
    condition_columns : list of str, optional
        Columns whose value combinations (cells) the generator is conditioned on, e.g.
        ``["sex", "income"]``; :meth:`sample` can then ask for any cell (or a subset of its
        columns). ``None``: every categorical column is conditionable, one at a time (the CTGAN
        paper's scheme).
    embedding_dim : int, default 128
        Size of the generator's noise input.
    generator_dims : tuple of int, default (256, 256)
        Widths of the residual generator blocks.
    critic_dims : tuple of int, default (256, 256)
        Hidden widths of the critic.
    pac : int, default 10
        Rows packed into one critic input (PacGAN); ``batch_size`` must be a multiple of it.
    epochs : int, default 300
        Passes over the training rows (``len(frame) // batch_size`` steps each, at least one).
    batch_size : int, default 500
        Rows per step.
    generator_lr, critic_lr : float, default 2e-4
        Adam step sizes (betas (0.5, 0.9)).
    critic_steps : int, default 1
        Critic updates per generator update.
    gp_lambda : float, default 10.0
        Weight of the gradient penalty.
    gumbel_tau : float, default 0.2
        Temperature of the gumbel-softmax on one-hot spans during training.
    ema_decay : float, default 0.999
        Decay of the exponential moving average of the generator's weights that becomes the
        fitted generator (0 disables it: the generator of the last step is kept). Averaging
        damps the oscillation of GAN training: on Adult the categorical marginals of the last
        step's generator drift by 0.05-0.2 in total variation from epoch to epoch.
    numeric : {"quantile", "gmm"}, default "quantile"
        Numeric encoding of the internal :class:`~fairlatent.encoding.TabularEncoder`.
    device : str, default "auto"
        ``"auto"`` (cuda > mps > cpu), ``"cpu"``, ``"cuda"``, ``"cuda:<i>"`` or ``"mps"``.
    bf16 : bool, default False
        Run the networks' forward passes under bf16 autocast during training (CUDA or CPU);
        losses, activations and the gradient penalty stay in float32. Off by default: it changes
        the numbers, made GAN training diverge in a first CPU try (``benchmarks/RESULTS.md``), and
        is only worth it where ``benchmarks/gpu_check.py`` measures a gain.
    compile : bool, default False
        Train the generator through ``torch.compile`` (the critic's gradient penalty needs a
        double backward, which compiled graphs do not support). Off by default (compilation
        costs tens of seconds per fit); ``benchmarks/gpu_check.py`` measures it.
    distributed : bool, default False
        Data-parallel training (DistributedDataParallel) when the fit runs under ``torchrun``
        with several processes; alone, a plain fit (see :mod:`fairlatent.models.distributed`).
    random_state : int or None, default None
        Seed of the weights, training noise, batches and the default sampling stream. The same
        seed gives the same numbers on CPU; no global random state is read or changed.

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
    condition_columns_ : list of str
        Columns :meth:`sample` accepts in ``condition`` (all categorical columns when
        ``condition_columns`` is ``None``).
    condition_values_ : dict of str to list
        Values each conditioning column can be conditioned on.
    cells_ : DataFrame
        The cells of ``condition_columns`` with their number of training ``rows`` (one row per
        (column, value) in single-value mode).
    generator_, critic_ : torch.nn.Module
        The trained networks (on ``device_``); ``generator_`` holds the averaged weights when
        ``ema_decay > 0``.
    device_ : torch.device
        Device of the networks.
    history_ : list of dict
        One dict per epoch: ``epoch``, ``generator_loss``, ``critic_loss``, ``condition_loss``,
        ``loss`` (the one to show), ``seconds`` (the epoch's) and ``elapsed_seconds`` (since
        training started); see :func:`~fairlatent.models.gan.training.epoch_metrics`.
    fit_seconds_ : float
        Wall-clock time of :meth:`fit`; ``encode_seconds_`` is the encoder's part of it.
    last_sample_stats_ : dict
        Figures of the latest :meth:`sample` call: ``requested``, ``tries``, ``generated``,
        ``accepted``, ``acceptance_rate``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"age": rng.integers(18, 80, 300),
    ...                       "sex": rng.choice(["F", "M"], 300),
    ...                       "label": rng.choice(["yes", "no"], 300)})
    >>> gan = TabularGAN(condition_columns=["sex", "label"], epochs=2, generator_dims=(32,),
    ...                  critic_dims=(32,), batch_size=100, device="cpu", random_state=0)
    >>> rows = gan.fit(frame).sample(20, condition={"sex": "F", "label": "yes"}, random_state=1)
    >>> sorted(rows["sex"].unique()), sorted(rows["label"].unique())
    (['F'], ['yes'])
    """

    FORMAT_NAME = "fairlatent.TabularGAN"
    FORMAT_VERSION = 1
    TUPLE_PARAMS = ("generator_dims", "critic_dims")
    FITTED_ATTRIBUTE = "generator_"

    generator_: nn.Module
    critic_: Critic

    def __init__(
        self,
        *,
        condition_columns: Sequence[str] | None = None,
        embedding_dim: int = 128,
        generator_dims: tuple[int, ...] = (256, 256),
        critic_dims: tuple[int, ...] = (256, 256),
        pac: int = 10,
        epochs: int = 300,
        batch_size: int = 500,
        generator_lr: float = 2e-4,
        critic_lr: float = 2e-4,
        critic_steps: int = 1,
        gp_lambda: float = 10.0,
        gumbel_tau: float = 0.2,
        ema_decay: float = 0.999,
        numeric: Literal["quantile", "gmm"] = "quantile",
        device: str = "auto",
        bf16: bool = False,
        compile: bool = False,
        distributed: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.condition_columns = condition_columns
        self.embedding_dim = embedding_dim
        self.generator_dims = generator_dims
        self.critic_dims = critic_dims
        self.pac = pac
        self.epochs = epochs
        self.batch_size = batch_size
        self.generator_lr = generator_lr
        self.critic_lr = critic_lr
        self.critic_steps = critic_steps
        self.gp_lambda = gp_lambda
        self.gumbel_tau = gumbel_tau
        self.ema_decay = ema_decay
        self.numeric = numeric
        self.device = device
        self.bf16 = bf16
        self.compile = compile
        self.distributed = distributed
        self.random_state = random_state

    # -- validation --------------------------------------------------------------------------------

    def _validate_params(self) -> None:
        for name in ("embedding_dim", "pac", "epochs", "batch_size", "critic_steps"):
            check_positive_int(name, getattr(self, name))
        check_widths("generator_dims", self.generator_dims)
        check_widths("critic_dims", self.critic_dims)
        check_number("generator_lr", self.generator_lr)
        check_number("critic_lr", self.critic_lr)
        check_number("gumbel_tau", self.gumbel_tau)
        check_number("ema_decay", self.ema_decay, inclusive=True, below=1.0)
        check_number("gp_lambda", self.gp_lambda, inclusive=True)
        if self.batch_size % self.pac:
            suggest = max(self.pac, self.batch_size // self.pac * self.pac)
            raise ConfigError(ERR_PAC.format(batch=self.batch_size, pac=self.pac, suggest=suggest))
        check_fit_options(self)
        cols = self.condition_columns
        if cols is not None and (
            isinstance(cols, str)
            or not isinstance(cols, Iterable)
            or not all(isinstance(c, str) for c in cols)
            or len(list(cols)) == 0
        ):
            raise ConfigError(
                ERR_PARAM.format(
                    name="condition_columns",
                    expected="None or a non-empty list of column names",
                    value=cols,
                )
            )

    # -- fit ---------------------------------------------------------------------------------------

    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        callbacks: Sequence[EpochCallback] | None = None,
    ) -> TabularGAN:
        """Fit the encoder and train the conditional GAN on ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_rows, n_columns)
            Training rows (every column is modelled; an array's columns are named ``x0, ...``).
        y : None
            Ignored (the model is unsupervised: a label to model is a column of ``X``).
        callbacks : sequence of callable, optional
            Each is called after every epoch as ``callback(epoch, epochs, metrics)`` with the
            1-based epoch number, the number of epochs and that epoch's ``history_`` dict
            (losses, ``loss``, ``seconds`` and ``elapsed_seconds``: enough for a display with the
            loss and an ETA).

        Returns
        -------
        TabularGAN
            ``self``, fitted.

        Raises
        ------
        ConfigError
            On invalid parameters or an unavailable device.
        DataError, SchemaError
            On an unusable frame or unknown ``condition_columns``.
        """
        self._validate_params()
        frame = as_frame(X, self)
        wanted = list(self.condition_columns) if self.condition_columns is not None else None
        if wanted is not None:
            unknown = [c for c in wanted if c not in frame.columns]
            if unknown:
                raise SchemaError(
                    ERR_CONDITION_COLUMNS.format(names=unknown, cols=list(frame.columns))
                )
        started = time.perf_counter()
        start = start_fit(self)
        encoder, encoded = start.fit_encoder(frame, self.numeric, discrete_columns=wanted)
        self.encode_seconds_ = time.perf_counter() - started
        set_fitted_encoder(self, encoder, frame.columns)
        cell_columns = wanted or []
        extra_columns = [c for c in encoder.discrete_columns_ if c not in cell_columns]
        self._conditions = ConditionTable.fit(
            frame, encoded, self.spans_, cell_columns, extra_columns
        )
        init_seed, _, _, sample_seed = start.seeds
        self.device_ = start.device
        self._build_networks(init_seed)
        self._sample_rng = np.random.default_rng(sample_seed)

        data = to_device(encoded, self.device_)  # the whole table, once
        self.history_: list[dict[str, float]] = []
        self.generator_ = train(
            self.generator_,
            self.critic_,
            data,
            self._conditions,
            self.spans_,
            settings_from(TrainingSettings, self),
            start.training_run(self.history_, callbacks),
        )
        self.fit_seconds_ = time.perf_counter() - started
        logger.info(
            "TabularGAN fitted on %d rows in %.1f s (encoder %.1f s, %.3f s/epoch over %d epochs)",
            len(frame),
            self.fit_seconds_,
            self.encode_seconds_,
            float(np.mean([h["seconds"] for h in self.history_])) if self.history_ else 0.0,
            len(self.history_),
        )
        return self

    def _build_networks(self, seed: int) -> None:
        dim = self.encoder_.output_dim_
        cond_dim = sum(self._conditions.widths)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed % 2**63)
            generator = Generator(
                int(self.embedding_dim) + cond_dim, tuple(self.generator_dims), dim
            )
            critic = Critic(dim, cond_dim, tuple(self.critic_dims), int(self.pac))
        self.generator_ = generator.to(self.device_)
        self.critic_ = critic.to(self.device_)

    # -- conditions --------------------------------------------------------------------------------

    @property
    def condition_columns_(self) -> list[str]:
        """Columns :meth:`sample` accepts in ``condition``."""
        self._check_fitted()
        return self._conditions.condition_columns

    @property
    def condition_values_(self) -> dict[str, list[Any]]:
        """Values each conditioning column can be conditioned on (those present in the data)."""
        self._check_fitted()
        return self._conditions.values()

    @property
    def cells_(self) -> pd.DataFrame:
        """The cells of the conditioning columns with their number of training rows.

        In single-value mode (``condition_columns=None``) one row per (column, value) instead,
        with ``None`` in the other columns.
        """
        self._check_fitted()
        return self._conditions.cells()

    # -- sampling ----------------------------------------------------------------------------------

    def sample(
        self,
        n: int,
        *,
        condition: Mapping[str, Any] | None = None,
        random_state: int | None = None,
        max_tries: int = MAX_SAMPLE_TRIES,
    ) -> pd.DataFrame:
        """Generate ``n`` new rows, optionally all inside one condition.

        Parameters
        ----------
        n : int
            Number of rows.
        condition : dict, optional
            ``{column: value}`` over the conditioning columns (a subset is allowed: the other
            conditioning columns then follow their frequency in the data). Every returned row
            satisfies it.
        random_state : int, optional
            Seed of this draw. ``None`` continues the model's own stream, seeded by the
            constructor's ``random_state``.
        max_tries : int, default 20
            Generation batches allowed before giving up on a condition the generator rarely
            produces.

        Returns
        -------
        DataFrame
            ``n`` rows with the fitted columns and dtypes: only categories seen in fit, numeric
            values within the fitted range, integer columns integral.

        Raises
        ------
        SchemaError
            If the condition names a column that is not a conditioning column, a value never
            seen in fit, or a combination that does not occur in the data.
        FairlatentError
            If ``max_tries`` batches did not yield ``n`` rows satisfying the condition.
        """
        self._check_fitted()
        check_count("n", n)
        if not isinstance(max_tries, numbers.Integral) or max_tries < 1:
            raise ConfigError(
                ERR_PARAM.format(name="max_tries", expected="an integer >= 1", value=max_tries)
            )
        conditions = self._conditions
        resolved = conditions.resolve(condition or {})
        vectors, probabilities = conditions.sampling_conditions(resolved)
        rng = sampling_generator(self._sample_rng, random_state, self.device_)
        n = int(n)
        labels = conditions.labels_of(resolved)
        rows, stats = draw_rows(
            self.generator_,
            self.spans_,
            vectors,
            probabilities,
            resolved,
            n,
            embedding_dim=int(self.embedding_dim),
            rng=rng,
            device=self.device_,
            max_tries=max_tries,
            labels=labels,
        )
        frame = self.encoder_.inverse_transform(rows)
        if resolved:
            frame = conditions.verify(frame, resolved)
        generated, accepted = stats["generated"], stats["accepted"]
        self.last_sample_stats_ = {
            "requested": n,
            "condition": labels or None,
            "tries": stats["tries"],
            "generated": generated,
            "accepted": accepted,
            "acceptance_rate": accepted / generated if generated else 1.0,
        }
        return frame

    # -- persistence (save and load come from SavableModel) ---------------------------------------

    def _config_params(self) -> dict[str, Any]:
        params = super()._config_params()
        if params["condition_columns"] is not None:
            params["condition_columns"] = list(params["condition_columns"])
        return params

    def _extra_config(self) -> dict[str, Any]:
        return {"conditions": self._conditions.to_dict()}

    def _weights(self) -> dict[str, Any]:
        return {"generator": cpu_state(self.generator_), "critic": cpu_state(self.critic_)}

    def _restore_config(self, config: dict[str, Any]) -> None:
        self._conditions = ConditionTable.from_dict(config["conditions"])

    def _restore_weights(self, state: Any) -> None:
        self._build_networks(0)
        self.generator_.load_state_dict(state["generator"])
        self.critic_.load_state_dict(state["critic"])
        self.generator_.eval()
        self.critic_.eval()
