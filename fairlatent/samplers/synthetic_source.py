"""A public view of a cell-balancing sampler's generator, for synthetic-data quality checks.

The conditional GAN of :class:`~fairlatent.samplers.CellBalancingResampler` learns the
non-sensitive columns plus two internal condition columns (the row's group and its 0/1 label).
:class:`SyntheticSource` hides those internals: it draws unconditional rows from the generator and
builds the matching real rows, both with readable condition columns (``"[group]"`` and
``"[<target>]"``), so a quality audit can compare them without knowing how the sampler works.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CELL_GROUP", "CELL_LABEL", "GROUP_COLUMN_NAME", "SyntheticSource", "gan_training_frame"]

#: Internal column names added to the GAN's training frame.
CELL_GROUP = "_fl_cell_group"
CELL_LABEL = "_fl_cell_label"
#: Readable name of the group condition column in :class:`SyntheticSource` frames.
GROUP_COLUMN_NAME = "[group]"


def gan_training_frame(
    X: pd.DataFrame, labels: Any, group: Any, sensitive: Sequence[str]
) -> pd.DataFrame:
    """Build the frame the GAN learns: non-sensitive columns plus the cell columns.

    Parameters
    ----------
    X : DataFrame
        Features with the sensitive attributes as named columns.
    labels : array-like of {0, 1}
        Label of each row.
    group : array-like of str
        Group label of each row.
    sensitive : sequence of str
        Sensitive columns of ``X``; left out (the group condition stands for them).

    Returns
    -------
    DataFrame
        The non-sensitive columns of ``X`` in order, then :data:`CELL_GROUP` and
        :data:`CELL_LABEL` (both strings).
    """
    train = X[[c for c in X.columns if c not in set(sensitive)]].copy()
    train[CELL_GROUP] = np.asarray(group, dtype=object).astype(str)
    train[CELL_LABEL] = np.asarray(labels).astype(int).astype(str)
    return train


class SyntheticSource:
    """A fitted cell-conditioned generator seen from outside, for quality checks.

    Get one from :meth:`CellBalancingResampler.synthetic_source
    <fairlatent.samplers.CellBalancingResampler.synthetic_source>` after ``fit_resample``.

    Parameters
    ----------
    generator : TabularGAN
        The fitted GAN, conditioned on :data:`CELL_GROUP` and :data:`CELL_LABEL`.
    feature_columns : sequence of str
        The non-sensitive columns the GAN learned, in order.
    sensitive : sequence of str
        Sensitive columns, which the GAN does not see.
    target_name : str, default "label"
        Name of the label, shown as the column ``"[<target_name>]"``.

    Examples
    --------
    >>> source = sampler.synthetic_source(target_name="income")  # doctest: +SKIP
    >>> real = source.real_frame(X, y, groups)  # doctest: +SKIP
    >>> fake = source.sample(len(real), random_state=0)  # doctest: +SKIP
    >>> list(fake.columns) == list(real.columns) == source.columns  # doctest: +SKIP
    True
    """

    def __init__(
        self,
        generator: Any,
        *,
        feature_columns: Sequence[str],
        sensitive: Sequence[str] = (),
        target_name: str = "label",
    ) -> None:
        self._generator = generator
        self.feature_columns = list(feature_columns)
        self.sensitive = list(sensitive)
        self.target_name = str(target_name)

    @property
    def group_column(self) -> str:
        """Readable name of the group column (:data:`GROUP_COLUMN_NAME`)."""
        return GROUP_COLUMN_NAME

    @property
    def label_column(self) -> str:
        """Readable name of the label column, ``"[<target_name>]"``."""
        return f"[{self.target_name}]"

    @property
    def columns(self) -> list[str]:
        """Columns of :meth:`sample` and :meth:`real_frame`: features, group, label."""
        return [*self.feature_columns, self.group_column, self.label_column]

    @property
    def identity(self) -> int:
        """Same for every source that wraps the same fitted generator object.

        Strategies that share one GAN share one quality figure: key the figures by this.
        """
        return id(self._generator)

    def _readable(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.rename(columns={CELL_GROUP: self.group_column, CELL_LABEL: self.label_column})

    def sample(self, n: int, random_state: int | None = None) -> pd.DataFrame:
        """Draw ``n`` unconditional rows from the generator.

        Parameters
        ----------
        n : int
            Number of rows.
        random_state : int or None, default None
            Seed of the draw (``None`` continues the generator's own stream).

        Returns
        -------
        DataFrame
            Columns :attr:`columns`: the features, then the group and label each row was
            generated for.
        """
        rows = self._generator.sample(n, random_state=random_state)
        return self._readable(rows)[self.columns]

    def real_frame(self, X: pd.DataFrame, y: Any, groups: Any) -> pd.DataFrame:
        """Real rows in the form of :meth:`sample`: what the generator learned from these rows.

        Parameters
        ----------
        X : DataFrame
            Real rows (e.g. the training or the test rows), sensitive columns included.
        y : array-like of {0, 1}
            Their labels.
        groups : array-like of str
            Their group labels.

        Returns
        -------
        DataFrame
            Columns :attr:`columns`.
        """
        train = gan_training_frame(X, np.asarray(y), np.asarray(groups), self.sensitive)
        return self._readable(train)
