"""Decoding of :class:`~fairlatent.models.vae.TabularVAE`: latent codes (and groups) to rows.

:class:`GroupDecoding` is the half of the VAE estimator that turns codes back into rows: the
conditional decoder's group input (one-hot codes, averaged over the groups when none is given),
:meth:`~GroupDecoding.decode` and :meth:`~GroupDecoding.sample`. The estimator
(:mod:`fairlatent.models.vae.estimator`) fits the network and encodes rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import torch

from fairlatent.encoding import TabularEncoder
from fairlatent.encoding.spans import Span
from fairlatent.exceptions import DataError
from fairlatent.models.losses import LOG_SIGMA_MAX, LOG_SIGMA_MIN
from fairlatent.models.nn import gumbel_noise, span_layout
from fairlatent.models.params import check_count
from fairlatent.models.seeding import sampling_generator
from fairlatent.models.vae.networks import VAENetwork
from fairlatent.models.vae.training import CHUNK_ROWS

__all__ = ["ERR_GROUPS_LENGTH", "ERR_NEEDS_GROUPS", "ERR_UNKNOWN_GROUP", "GroupDecoding"]

ERR_GROUPS_LENGTH = "groups has {n} label(s) for {rows} row(s); give one group per row"
ERR_UNKNOWN_GROUP = (
    "group(s) {groups} were not seen in fit; this conditional VAE knows {levels}"
)
ERR_NEEDS_GROUPS = (
    "this VAE was fitted without groups, so its decoder takes none; leave groups out"
)


class GroupDecoding:
    """Decoding half of the VAE estimator: group inputs, :meth:`decode` and :meth:`sample`."""

    latent_dim: int
    module_: VAENetwork
    encoder_: TabularEncoder
    spans_: list[Span]
    device_: torch.device
    group_levels_: np.ndarray
    group_shares_: np.ndarray
    _sample_rng: np.random.Generator

    def _check_fitted(self) -> None:  # pragma: no cover - SavableModel's
        raise NotImplementedError

    # -- groups (conditional decoder) --------------------------------------------------------------

    @property
    def conditional(self) -> bool:
        """Whether the decoder reads the group (the VAE was fitted with ``groups``)."""
        self._check_fitted()
        return bool(len(self.group_levels_))

    def _set_groups(self, groups: Any, n_rows: int) -> None:
        if groups is None:
            self.group_levels_ = np.asarray([], dtype=object)
            self.group_shares_ = np.asarray([], dtype=float)
            return
        labels = pd.Series(np.asarray(groups, dtype=object)).astype(str)
        if len(labels) != n_rows:
            raise DataError(ERR_GROUPS_LENGTH.format(n=len(labels), rows=n_rows))
        counts = labels.value_counts().sort_index()
        self.group_levels_ = counts.index.to_numpy(dtype=object)
        self.group_shares_ = (counts / counts.sum()).to_numpy(dtype=float)

    def _group_onehot(self, groups: Any, n_rows: int) -> np.ndarray:
        """One-hot codes (float32) of ``groups``: labels per row, or one label for every row."""
        levels = [str(v) for v in self.group_levels_]
        if np.ndim(groups) == 0:
            groups = np.full(n_rows, groups, dtype=object)
        labels = np.asarray([str(v) for v in np.asarray(groups, dtype=object)], dtype=object)
        if len(labels) != n_rows:
            raise DataError(ERR_GROUPS_LENGTH.format(n=len(labels), rows=n_rows))
        index = {level: i for i, level in enumerate(levels)}
        unknown = sorted({v for v in labels if v not in index})
        if unknown:
            raise DataError(ERR_UNKNOWN_GROUP.format(groups=unknown[:5], levels=levels))
        onehot = np.zeros((n_rows, len(levels)), dtype=np.float32)
        onehot[np.arange(n_rows), [index[v] for v in labels]] = 1.0
        return onehot


    def _chunks(self, n: int) -> Iterable[slice]:
        return (slice(s, min(s + CHUNK_ROWS, n)) for s in range(0, n, CHUNK_ROWS))


    def _onehot_tensor(self, groups: Any, n_rows: int) -> torch.Tensor | None:
        """Return the decoder's group input for ``n_rows`` rows (``None`` for a plain VAE)."""
        if not len(self.group_levels_):
            if groups is not None:
                raise DataError(ERR_NEEDS_GROUPS)
            return None
        return torch.from_numpy(self._group_onehot(groups, n_rows)).to(self.device_)

    def _decode_mean(self, z: torch.Tensor, groups: Any) -> torch.Tensor:
        """Return the decoder output for codes ``z``: at ``groups``, or averaged over the groups.

        Averaging (``groups=None`` on a conditional VAE) mixes each group's output by its
        training share: softmax probabilities on one-hot spans (so the most likely category of
        the mixture wins), values on numeric spans.
        """
        module = self.module_
        n = z.shape[0]
        if not len(self.group_levels_) or groups is not None:
            onehot = self._onehot_tensor(groups, n)
            return module.decode(z, onehot)
        mixed = torch.zeros((n, self.encoder_.output_dim_), device=z.device)
        for level, share in zip(self.group_levels_, self.group_shares_, strict=True):
            out = module.decode(z, self._onehot_tensor(level, n))
            for span in self.spans_:
                if span.is_discrete:
                    out[:, span.slice] = torch.softmax(out[:, span.slice], dim=1)
            mixed += float(share) * out
        return mixed

    def decode(self, z: np.ndarray, groups: Any = None) -> pd.DataFrame:
        """Decode latent codes back to rows in the fitted schema.

        Parameters
        ----------
        z : array-like of shape (n_rows, latent_dim)
            Latent codes (e.g. the means of :meth:`encode`).
        groups : array-like of shape (n_rows,) or scalar, optional
            A conditional VAE's group input: one group per row, or one group for every row.
            ``None`` averages the decoder's output over the groups, weighted by their training
            shares. A plain VAE takes no groups.

        Returns
        -------
        DataFrame
            The most likely category per categorical column and the mean of each numeric
            value, with the fitted columns and dtypes.

        Raises
        ------
        DataError
            A group not seen in fit, a wrong number of groups, or groups for a plain VAE.
        """
        self._check_fitted()
        codes = np.asarray(z, dtype=np.float32)
        if codes.ndim != 2 or codes.shape[1] != int(self.latent_dim):
            raise DataError(
                f"z has shape {codes.shape}; expected (n_rows, {int(self.latent_dim)})"
            )
        n = codes.shape[0]
        per_row = groups is not None and np.ndim(groups) > 0
        if per_row and len(np.asarray(groups, dtype=object)) != n:
            raise DataError(ERR_GROUPS_LENGTH.format(n=len(np.asarray(groups)), rows=n))
        self.module_.eval()
        outputs = []
        with torch.inference_mode():
            for rows in self._chunks(n):
                part = torch.from_numpy(codes[rows]).to(self.device_)
                chunk_groups = np.asarray(groups, dtype=object)[rows] if per_row else groups
                outputs.append(self._decode_mean(part, chunk_groups))
        dim = self.encoder_.output_dim_
        decoded = torch.cat(outputs).cpu().numpy() if outputs else np.zeros((0, dim))
        return self.encoder_.inverse_transform(decoded)


    def sample(
        self, n: int, *, groups: Any = None, random_state: int | None = None
    ) -> pd.DataFrame:
        """Draw new rows from the generative model.

        ``z ~ N(0, I)``; numeric values are drawn from the decoder's Gaussian (mean and learned
        standard deviation) and every one-hot span from its softmax, then decoded.

        Parameters
        ----------
        n : int
            Number of rows.
        groups : array-like of shape (n,) or scalar, optional
            A conditional VAE's group input; ``None`` draws each row's group with the training
            shares.
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
                logits = module.decode(z, self._sample_groups(groups, rows, generator))
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

    def _sample_groups(
        self, groups: Any, rows: slice, generator: torch.Generator
    ) -> torch.Tensor | None:
        """Return the decoder's group input for the rows ``rows`` of a draw."""
        count = rows.stop - rows.start
        if not len(self.group_levels_):
            if groups is not None:
                raise DataError(ERR_NEEDS_GROUPS)
            return None
        if groups is None:
            shares = torch.tensor(self.group_shares_.tolist(), dtype=torch.float32, device=self.device_)
            picks = torch.multinomial(shares, count, replacement=True, generator=generator)
            return torch.nn.functional.one_hot(picks, len(self.group_levels_)).float()
        if np.ndim(groups) > 0:
            groups = np.asarray(groups, dtype=object)[rows]
        return self._onehot_tensor(groups, count)
