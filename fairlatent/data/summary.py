"""Summaries of prepared data and its split, for the report and ``metrics.json``."""

from __future__ import annotations

from typing import Any

import pandas as pd

from fairlatent.data.schema import GROUP_COLUMN, PreparedData


def data_summary(data: PreparedData, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    """Row counts, per-group sizes and base rates, test support and missing values.

    Parameters
    ----------
    data : PreparedData
        The prepared frame and its schema.
    train, test : DataFrame
        The audit's (first) split of ``data.frame``.

    Returns
    -------
    dict
        ``rows``, ``train_rows``, ``test_rows``, ``base_rate``, ``groups`` (largest first: group,
        rows, share, base_rate, test_rows, test_positives, test_negatives) and ``missing``.
    """
    frame = data.frame
    target = data.schema.target
    groups = (
        frame.groupby(GROUP_COLUMN, observed=True)[target]
        .agg(rows="size", base_rate="mean")
        .sort_values("rows", ascending=False)
    )
    groups["share"] = groups["rows"] / len(frame)
    groups["test_rows"] = (
        test[GROUP_COLUMN].value_counts().reindex(groups.index).fillna(0).astype(int)
    )
    positives = test.loc[test[target] == 1, GROUP_COLUMN].value_counts()
    groups["test_positives"] = positives.reindex(groups.index).fillna(0).astype(int)
    return {
        "rows": len(frame),
        "train_rows": len(train),
        "test_rows": len(test),
        "base_rate": float(frame[target].mean()),
        "groups": [
            {
                "group": str(g),
                "rows": int(r.rows),
                "share": float(r.share),
                "base_rate": float(r.base_rate),
                "test_rows": int(r.test_rows),
                "test_positives": int(r.test_positives),
                "test_negatives": int(r.test_rows - r.test_positives),
            }
            for g, r in groups.iterrows()
        ],
        "missing": {c.name: c.n_missing for c in data.schema.columns if c.n_missing > 0},
    }
