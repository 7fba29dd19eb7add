"""Seeded train/test split stratified on target x group."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from fairlatent.data.schema import GROUP_COLUMN
from fairlatent.exceptions import SchemaError


def stratified_split(
    frame: pd.DataFrame, *, target: str, test_size: float, random_state: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows into train and test, stratified on every (group, label) cell.

    Cells with a single row fall back to stratification on the label alone.

    Parameters
    ----------
    frame : DataFrame
        Prepared data with the target and :data:`~fairlatent.data.schema.GROUP_COLUMN`.
    target : str
        0/1 target column.
    test_size : float
        Share of rows held out.
    random_state : int
        Seed.

    Returns
    -------
    train, test : DataFrame
        Disjoint, with fresh indexes.
    """
    strata = frame[GROUP_COLUMN].astype(str) + "|" + frame[target].astype(str)
    counts = strata.value_counts()
    rare = strata.map(counts) < 2
    strata = strata.where(~rare, "rare|" + frame[target].astype(str))
    if strata.value_counts().min() < 2:
        strata = frame[target].astype(str)
    n_test = int(np.ceil(test_size * len(frame)))
    if n_test < strata.nunique() or len(frame) - n_test < strata.nunique():
        raise SchemaError(
            f"too few rows ({len(frame)}) to split {test_size:.0%} for testing across "
            f"{strata.nunique()} group x label cells; add rows or change --test-size"
        )
    train, test = train_test_split(
        frame, test_size=test_size, stratify=strata, random_state=random_state
    )
    if train[target].nunique() < 2:
        raise SchemaError("the training split holds a single class; add rows of the rarer class")
    return train.reset_index(drop=True), test.reset_index(drop=True)
