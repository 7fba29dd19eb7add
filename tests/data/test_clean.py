"""Real, messy columns are made usable (or dropped) with a notice, never refused."""

import numpy as np
import pandas as pd
import pytest

from fairlatent.data.clean import POOLED_LEVEL, clean_features, days_to_datetimes
from fairlatent.data.schema import prepare
from fairlatent.exceptions import SchemaError
from tests.conftest import make_biased_frame


def messy_frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = make_biased_frame(n, seed=seed)
    frame["customer_id"] = rng.permutation(n) + 10_000
    frame["ref"] = [f"R-{i:06d}" for i in rng.permutation(n)]
    frame["comment"] = [
        f"called on day {i}, asked about plan {rng.integers(0, 50)} and left a note" for i in range(n)
    ]
    frame["signup"] = (
        pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    ).strftime("%Y-%m-%d")
    frame["seen"] = pd.Timestamp("2021-06-01", tz="Europe/Paris") + pd.to_timedelta(
        rng.integers(0, 10_000, n), unit="min"
    )
    frame["wait"] = pd.to_timedelta(rng.integers(0, 48, n), unit="h")
    frame["product"] = [f"p{int(i)}" for i in rng.zipf(1.3, n) % 400]
    frame["amount"] = [str(round(v, 2)) for v in rng.normal(100, 20, n)]
    frame["nothing"] = None
    ratio = rng.normal(1, 0.2, n)
    ratio[:7] = np.inf
    ratio[7:9] = -np.inf
    frame["ratio"] = ratio
    return frame


def test_every_kind_of_messy_column_is_handled_with_a_notice():
    frame = messy_frame()
    cleaned = clean_features(frame, protected={"label", "group"}, max_categories=20)
    out = cleaned.frame
    assert set(cleaned.dropped) == {"customer_id", "ref", "comment", "nothing"}
    assert "identifier" in cleaned.dropped["customer_id"]
    assert "identifier" in cleaned.dropped["ref"]
    assert "free text" in cleaned.dropped["comment"]
    assert cleaned.converted == {
        "signup": "datetime",
        "seen": "datetime",
        "wait": "timedelta",
        "amount": "text",
    }
    signup = pd.to_datetime(frame["signup"])
    assert np.allclose(out["signup"], (signup - pd.Timestamp("1970-01-01")).dt.days)
    assert (days_to_datetimes(out["signup"]) == signup).all()
    assert out["wait"].max() <= 2 and out["amount"].dtype == float
    assert out["ratio"].isna().sum() == 9 and np.isfinite(out["ratio"].dropna()).all()
    assert out["product"].nunique() == 21
    assert POOLED_LEVEL in set(out["product"])
    assert cleaned.pooled["product"]["kept"] == 20
    for column in ("customer_id", "ref", "comment", "nothing", "signup", "seen", "wait",
                   "amount", "ratio", "product"):
        assert any(repr(column) in n for n in cleaned.notices), column
    # untouched columns keep their values and dtypes
    for column in ("age", "hours", "job", "city", "score", "label", "group"):
        pd.testing.assert_series_equal(out[column], frame[column])


def test_pooled_level_never_collides_with_a_real_level():
    values = [POOLED_LEVEL] * 30 + [f"v{i}" for i in range(40)] * 2
    cleaned = clean_features(pd.DataFrame({"c": values}), max_categories=5)
    label = cleaned.pooled["c"]["label"]
    assert label != POOLED_LEVEL
    assert (cleaned.frame["c"][:30] == POOLED_LEVEL).all()
    assert cleaned.frame["c"].nunique() == 6


def test_pooling_keeps_the_most_frequent_levels_and_missing_values():
    values = ["a"] * 10 + ["b"] * 8 + ["c"] * 2 + ["d"] * 1 + [None] * 3
    cleaned = clean_features(pd.DataFrame({"c": values}), max_categories=2)
    column = cleaned.frame["c"]
    assert column[:18].tolist() == values[:18]
    assert set(column[18:21]) == {POOLED_LEVEL}
    assert column[21:].isna().all()


def test_measurements_and_categories_are_not_mistaken_for_identifiers():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "balance": rng.permutation(500) * 7,  # unique integers, not named like an id
            "weight": rng.normal(70, 10, 500),  # unique floats
            "paid": rng.permutation(500),  # ends in "id" but is a word
            "month": rng.choice(["jan", "feb", "may", "jun"], 500),  # not dates
            "size": rng.choice(["10-20", "20-30"], 500),
        }
    )
    cleaned = clean_features(frame, max_categories=100)
    assert cleaned.dropped == {} and cleaned.converted == {}
    assert cleaned.notices == []


def test_a_column_that_is_almost_numeric_is_still_an_error():
    frame = pd.DataFrame({"x": [str(i % 10) for i in range(50)] + ["abc"]})
    with pytest.raises(SchemaError, match="looks numeric"):
        clean_features(frame)


def test_prepare_audits_a_400_level_text_column():
    frame = make_biased_frame(2000)
    rng = np.random.default_rng(3)
    frame["product"] = [f"item-{i}" for i in rng.integers(0, 400, len(frame))]
    data = prepare(frame, target="label", sensitive=["group"], max_categories=50)
    assert "product" in data.schema.features
    assert data.frame["product"].nunique() == 51
    assert data.schema.pooled["product"]["levels"] > 300
    assert any("'product' has" in n and "pooled" in n for n in data.schema.notices)


def test_prepare_records_messy_columns_in_the_schema():
    data = prepare(messy_frame(), target="label", sensitive=["group"], max_categories=20)
    schema = data.schema
    assert {"customer_id", "ref", "comment", "nothing"} <= set(schema.dropped)
    assert {"signup", "seen", "wait", "amount", "ratio", "product"} <= set(schema.features)
    assert schema.converted["signup"] == "datetime"
    assert "product" in schema.pooled
    assert "_fl_group" in data.frame.columns
