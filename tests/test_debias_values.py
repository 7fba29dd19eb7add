"""``debias`` writes the user's own values for real rows (issue 21: pooled levels, missing groups)."""

import logging

import numpy as np
import pandas as pd

import fairlatent


def _frame(n=900, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    frame = pd.DataFrame({
        "city": rng.choice([f"city{i:02d}" for i in range(30)], n),
        "sex": rng.choice(["F", "M", None], n, p=[0.45, 0.45, 0.10]),
        "x": x,
        "y": np.where(x + rng.normal(0, 1, n) > 0, "hi", "lo"),
    })
    frame.index = frame.index + 1000  # a user's index: not positions
    return frame


def test_real_rows_keep_their_levels_and_missing_values():
    logging.disable(logging.WARNING)
    try:
        frame = _frame()
        out = fairlatent.debias(frame, target="y", sensitive="sex", positive_label="hi",
                                strategy="reweigh", max_categories=5, tune=False)
    finally:
        logging.disable(logging.NOTSET)
    assert any("pooled" in n for n in out.notices)  # the audit did pool the rare cities
    written = out.frame
    assert len(written) == len(frame) and not out.is_synthetic.any()
    assert "(other levels)" not in set(written["city"])
    np.testing.assert_array_equal(written["city"].to_numpy(), frame["city"].to_numpy())
    assert written["sex"].isna().sum() == frame["sex"].isna().sum()
    assert "(missing)" not in set(written["sex"].dropna())
    np.testing.assert_allclose(written["x"].to_numpy(), frame["x"].to_numpy())
    assert not any("could not be traced" in n for n in out.notices)


def test_rewritten_rows_are_left_alone():
    from fairlatent.api import prepare_data, restore_real_values
    from fairlatent.config import AuditConfig

    frame = _frame(seed=1)
    cfg = AuditConfig.from_mapping({}, target="y", sensitive=["sex"], positive_label="hi",
                                   max_categories=5).validate()
    data = prepare_data(frame, cfg)
    rows = data.frame.drop(columns=["_fl_group"], errors="ignore").copy()
    rows["x"] = rows["x"] + 1.0  # every row rewritten: none is its source row any more
    kept = restore_real_values(rows, np.zeros(len(rows), dtype=bool), frame, data)
    assert kept > 0 and "(other levels)" in set(rows["city"])
