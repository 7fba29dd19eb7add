from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fairlatent.encoding import Span, TabularEncoder
from fairlatent.exceptions import (
    ConfigError,
    DataError,
    ModelFileError,
    NotFittedError,
    SchemaError,
)

# --------------------------------------------------------------------------------------------------
# random frames
# --------------------------------------------------------------------------------------------------

COLUMN_KINDS = [
    "float",
    "float_nan",
    "float32",
    "int",
    "Int64_na",
    "str_nan",
    "string",
    "category",
    "bool",
    "object",
]
WORDS = ["a", "b", "ccc", "Doctorate", " x ", "é"]


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=1, max_value=40))
    kinds = draw(st.lists(st.sampled_from(COLUMN_KINDS), min_size=1, max_size=5))
    data: dict[str, object] = {}
    for i, kind in enumerate(kinds):
        name = f"{kind}_{i}"
        nan_mask = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        if kind.startswith("float"):
            values = draw(
                st.lists(
                    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=32),
                    min_size=n,
                    max_size=n,
                )
            )
            arr = np.asarray(values, dtype=np.float64)
            if kind == "float_nan":
                arr[np.asarray(nan_mask)] = np.nan
            data[name] = arr.astype(np.float32) if kind == "float32" else arr
        elif kind in ("int", "Int64_na"):
            values = draw(st.lists(st.integers(-100_000, 100_000), min_size=n, max_size=n))
            if kind == "int":
                data[name] = np.asarray(values, dtype=np.int64)
            else:
                data[name] = pd.array(
                    [None if m else v for v, m in zip(values, nan_mask, strict=True)], dtype="Int64"
                )
        elif kind == "bool":
            data[name] = np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        else:
            words = draw(st.lists(st.sampled_from(WORDS), min_size=n, max_size=n))
            if kind == "str_nan":
                data[name] = pd.Series(
                    [None if m else w for w, m in zip(words, nan_mask, strict=True)], dtype="str"
                )
            elif kind == "string":
                data[name] = pd.Series(words, dtype="string")
            elif kind == "category":
                data[name] = pd.Series(
                    pd.Categorical(words, categories=[*WORDS[::-1], "unused"], ordered=True)
                )
            else:
                mixed_types = [w if j % 3 else j for j, w in enumerate(words)]
                data[name] = pd.Series(mixed_types, dtype=object)
    return pd.DataFrame(data)


def assert_round_trip(frame: pd.DataFrame, back: pd.DataFrame) -> None:
    assert list(back.columns) == list(frame.columns)
    for column in frame.columns:
        orig, dec = frame[column], back[column]
        assert dec.dtype == orig.dtype, column
        assert (dec.isna().to_numpy() == orig.isna().to_numpy()).all(), column
        present = ~orig.isna().to_numpy()
        if pd.api.types.is_float_dtype(orig.dtype) and present.any():
            o = orig.to_numpy(dtype="float64", na_value=np.nan)[present]
            d = dec.to_numpy(dtype="float64", na_value=np.nan)[present]
            span = float(o.max() - o.min()) if o.size else 0.0
            np.testing.assert_allclose(d, o, rtol=0, atol=2e-5 * span + 1e-6 * np.abs(o).max())
            assert d.min() >= o.min() and d.max() <= o.max()
        else:
            assert orig[present].tolist() == dec[present].tolist(), column


# --------------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_round_trip_is_exact(frame: pd.DataFrame) -> None:
    enc = TabularEncoder(n_quantiles=30)
    encoded = enc.fit_transform(frame)
    assert encoded.dtype == np.float32
    assert encoded.shape == (len(frame), enc.output_dim_)
    assert np.isfinite(encoded).all()
    assert np.abs(encoded).max() <= 5.0 + 1e-6
    assert_round_trip(frame, enc.inverse_transform(encoded))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames(), st.integers(0, 2**32 - 1))
def test_any_model_output_decodes_to_valid_values(frame: pd.DataFrame, seed: int) -> None:
    enc = TabularEncoder().fit(frame)
    noise = np.random.default_rng(seed).normal(scale=3.0, size=(7, enc.output_dim_))
    back = enc.inverse_transform(noise)
    assert (back.dtypes == frame.dtypes).all()
    for column in frame.columns:
        orig, dec = frame[column], back[column]
        if column in enc.discrete_columns_:
            allowed = set(orig.dropna().tolist())
            if isinstance(orig.dtype, pd.CategoricalDtype):
                allowed = set(orig.cat.categories)  # declared categories, used or not
            assert set(dec.dropna().tolist()) <= allowed
            if not orig.isna().any():
                assert not dec.isna().any()
        elif orig.notna().any():  # an all-missing column has no range
            present = dec.dropna().to_numpy(dtype="float64")
            assert ((present >= orig.min()) & (present <= orig.max())).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_json_round_trip_gives_identical_encoding(frame: pd.DataFrame) -> None:
    enc = TabularEncoder().fit(frame)
    clone = TabularEncoder.from_dict(json.loads(json.dumps(enc.to_dict())))
    np.testing.assert_array_equal(clone.transform(frame), enc.transform(frame))
    assert clone.spans_ == enc.spans_
    assert_round_trip(frame, clone.inverse_transform(enc.transform(frame)))


# --------------------------------------------------------------------------------------------------
# examples
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def mixed() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 300
    return pd.DataFrame(
        {
            "age": rng.integers(17, 90, n),
            "income": np.where(rng.random(n) < 0.7, 0.0, rng.lognormal(8, 1, n)),
            "score": np.where(rng.random(n) < 0.1, np.nan, rng.normal(0, 1, n)),
            "sex": pd.Series(rng.choice(["F", "M"], n), dtype="str"),
            "grade": pd.Categorical(rng.choice(["lo", "hi"], n), categories=["lo", "hi"]),
            "flag": rng.random(n) < 0.3,
        }
    )


def test_spans_layout(mixed: pd.DataFrame) -> None:
    enc = TabularEncoder().fit(mixed)
    assert [(s.column, s.kind, s.width) for s in enc.spans_] == [
        ("age", "numeric", 1),
        ("income", "numeric", 1),
        ("score", "numeric", 1),
        ("score", "missing", 2),
        ("sex", "categorical", 2),
        ("grade", "categorical", 2),
        ("flag", "categorical", 2),
    ]
    assert all(isinstance(s, Span) for s in enc.spans_)
    assert enc.spans_[-1].stop == enc.output_dim_ == 11
    assert enc.columns_ == list(mixed.columns)
    assert enc.discrete_columns_ == ["sex", "grade", "flag"]


def test_gmm_mode_round_trip(mixed: pd.DataFrame) -> None:
    enc = TabularEncoder(numeric="gmm", max_modes=4, random_state=0).fit(mixed)
    kinds = [(s.column, s.kind) for s in enc.spans_]
    assert kinds[:2] == [("age", "numeric"), ("age", "mode")]
    assert ("score", "missing") in kinds
    assert all(s.width <= 4 for s in enc.spans_ if s.kind == "mode")
    assert_round_trip(mixed, enc.inverse_transform(enc.transform(mixed)))
    again = TabularEncoder(numeric="gmm", max_modes=4, random_state=0).fit(mixed)
    np.testing.assert_array_equal(again.transform(mixed), enc.transform(mixed))
    clone = TabularEncoder.from_dict(json.loads(json.dumps(enc.to_dict())))
    np.testing.assert_array_equal(clone.transform(mixed), enc.transform(mixed))


def test_tied_values_decode_exactly_from_noisy_scores(mixed: pd.DataFrame) -> None:
    enc = TabularEncoder().fit(mixed)
    encoded = enc.transform(mixed)
    zero = mixed["income"].to_numpy() == 0.0
    encoded[:, 1] += np.random.default_rng(1).normal(scale=0.05, size=len(mixed))
    decoded = enc.inverse_transform(encoded)["income"].to_numpy()
    assert (decoded[zero] == 0.0).mean() > 0.95


def test_discrete_columns_one_hot_an_integer_column(mixed: pd.DataFrame) -> None:
    frame = mixed.assign(level=np.arange(len(mixed)) % 4)
    enc = TabularEncoder().fit(frame, discrete_columns=["level"])
    span = [s for s in enc.spans_ if s.column == "level"]
    assert [(s.kind, s.width) for s in span] == [("categorical", 4)]
    assert_round_trip(frame, enc.inverse_transform(enc.transform(frame)))


def test_nan_category_round_trip() -> None:
    frame = pd.DataFrame({"c": pd.Series(["x", None, "y", None], dtype=object)})
    enc = TabularEncoder().fit(frame)
    assert enc.spans_[0].width == 3
    back = enc.inverse_transform(enc.transform(frame))
    assert back["c"].isna().tolist() == [False, True, False, True]
    assert back["c"].dtype == object


def test_unseen_category_names_column_and_value(mixed: pd.DataFrame) -> None:
    enc = TabularEncoder().fit(mixed)
    bad = mixed.head(3).copy()
    bad["sex"] = pd.Series(["F", "X", "F"], dtype="str", index=bad.index)
    with pytest.raises(SchemaError, match=r"'sex'.*'X'"):
        enc.transform(bad)
    with pytest.raises(SchemaError, match="'age'"):
        enc.transform(mixed.drop(columns="age"))
    nan_sex = mixed.head(2).copy()
    nan_sex.loc[nan_sex.index[0], "sex"] = None
    with pytest.raises(SchemaError, match="missing value"):
        enc.transform(nan_sex)


def test_errors() -> None:
    with pytest.raises(NotFittedError):
        TabularEncoder().transform(pd.DataFrame({"a": [1]}))
    with pytest.raises(DataError):
        TabularEncoder().fit(pd.DataFrame({"a": []}))
    with pytest.raises(DataError, match="Expected 2D array"):
        TabularEncoder().fit([1, 2])
    with pytest.raises(DataError, match="X has 1 features, but TabularEncoder is expecting 2"):
        TabularEncoder().fit([[1, 2], [3, 4]]).transform([[1]])
    with pytest.raises(SchemaError, match="infinite"):
        TabularEncoder().fit(pd.DataFrame({"a": [1.0, np.inf]}))
    with pytest.raises(SchemaError, match="datetime"):
        TabularEncoder().fit(pd.DataFrame({"d": pd.to_datetime(["2020-01-01"])}))
    with pytest.raises(SchemaError, match="not in the frame"):
        TabularEncoder().fit(pd.DataFrame({"a": [1]}), discrete_columns=["b"])
    with pytest.raises(SchemaError, match="unique strings"):
        TabularEncoder().fit(pd.DataFrame({0: [1]}))
    with pytest.raises(ConfigError):
        TabularEncoder(numeric="bogus").fit(pd.DataFrame({"a": [1]}))  # type: ignore[arg-type]
    enc = TabularEncoder().fit(pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(DataError, match="shape"):
        enc.inverse_transform(np.zeros((2, 3)))
    with pytest.raises(ModelFileError):
        TabularEncoder.from_dict({"format": "something else"})


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (pd.Series([1, 2], dtype="uint8"), "numeric"),
        (pd.Series([1.5, None], dtype="Float64"), "numeric"),
        (pd.Series([True, None], dtype="boolean"), "categorical"),
        (pd.Series([1, 2], dtype="category"), "categorical"),
        (pd.Series(["a", 1], dtype=object), "categorical"),
        (pd.Series(pd.to_timedelta(["1D"])), None),
        (pd.Series(pd.to_datetime(["2020-01-01"]).tz_localize("UTC")), None),
        (pd.Series([1 + 2j]), None),
    ],
)
def test_column_kind_follows_data_kinds(values: pd.Series, kind: str | None) -> None:
    """Numbers are what ``data.kinds.is_numeric`` says (booleans are not); other dtypes fail."""
    from fairlatent.data.kinds import is_numeric

    frame = pd.DataFrame({"x": values})
    if kind is None:
        with pytest.raises(SchemaError, match="cannot handle"):
            TabularEncoder().fit(frame)
        return
    spans = TabularEncoder().fit(frame).spans_
    assert spans[0].kind == kind
    assert (kind == "numeric") == is_numeric(values)


def test_constant_and_all_missing_numeric_columns() -> None:
    frame = pd.DataFrame({"const": [3, 3, 3], "empty": [np.nan, np.nan, np.nan]})
    enc = TabularEncoder().fit(frame)
    back = enc.inverse_transform(enc.transform(frame))
    assert back["const"].tolist() == [3, 3, 3]
    assert back["empty"].isna().all()


def test_float_columns_keep_their_recorded_precision():
    import numpy as np
    import pandas as pd

    from fairlatent.encoding import TabularEncoder

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"hours": rng.normal(40, 8, 500).round(1), "ratio": rng.random(500)})
    encoder = TabularEncoder().fit(frame)
    noisy = encoder.transform(frame) + rng.normal(0, 0.05, (500, encoder.output_dim_)).astype(
        "float32"
    )
    decoded = encoder.inverse_transform(noisy)
    assert np.allclose(decoded["hours"], decoded["hours"].round(1))
    assert (decoded["ratio"] != decoded["ratio"].round(3)).any()  # full-precision column untouched


def test_tiny_values_are_not_rounded_away():
    import numpy as np
    import pandas as pd

    from fairlatent.encoding import TabularEncoder

    frame = pd.DataFrame({"x": np.array([0.0, 1.1754943508222875e-38])})
    encoder = TabularEncoder().fit(frame)
    back = encoder.inverse_transform(encoder.transform(frame))
    np.testing.assert_allclose(back["x"].to_numpy(), frame["x"].to_numpy(), rtol=1e-6, atol=1e-40)


# --------------------------------------------------------------------------------------------------
# saved format: descriptions written before the column classes existed still load
# --------------------------------------------------------------------------------------------------

SAVED_V1 = Path(__file__).parent / "data" / "encoder_format_v1.json"


def saved_v1_frame() -> pd.DataFrame:
    """The frame ``data/encoder_format_v1.json`` was fitted on (by the pre-columns.py encoder)."""
    return pd.DataFrame(
        {
            "age": [25, 38, 52, 38, 61, 25, 44, 38],
            "hours": [40.0, 38.5, np.nan, 40.0, 20.25, 60.0, 40.0, 45.5],
            "score": pd.array([1, None, 3, 3, 7, 1, 2, 9], dtype="Int64"),
            "sex": ["F", "M", "F", "F", "M", "M", "F", "M"],
            "city": pd.Series(
                ["north", None, "south", "north", "east", "south", None, "east"], dtype="string"
            ),
            "grade": pd.Categorical(
                ["b", "a", "b", "c", "a", "b", "a", "c"], categories=["c", "b", "a"], ordered=True
            ),
            "flag": [True, False, True, True, False, True, False, True],
        }
    )


@pytest.mark.parametrize("method", ["quantile", "gmm"])
def test_encoder_saved_in_format_v1_loads_and_encodes_identically(method: str) -> None:
    saved = json.loads(SAVED_V1.read_text())[method]
    encoder = TabularEncoder.from_dict(saved["encoder"])
    # the description is written back unchanged, key order included
    assert json.dumps(encoder.to_dict()) == json.dumps(saved["encoder"])
    frame = saved_v1_frame()
    encoded = encoder.transform(frame)
    np.testing.assert_array_equal(encoded, np.asarray(saved["encoded"], dtype=np.float32))
    decoded = encoder.inverse_transform(encoded)
    assert decoded.dtypes.to_dict() == frame.dtypes.to_dict()
    # fitting today gives the same description
    refit = TabularEncoder(**saved["encoder"]["params"]).fit(
        frame, discrete_columns=["age"] if method == "gmm" else None
    )
    assert json.dumps(refit.to_dict()) == json.dumps(saved["encoder"])


def test_numeric_description_without_decimals_still_loads() -> None:
    """Descriptions saved before ``decimals`` existed decode without rounding."""
    saved = json.loads(SAVED_V1.read_text())["quantile"]["encoder"]
    for info in saved["columns"]:
        info.pop("decimals", None)
    encoder = TabularEncoder.from_dict(saved)
    frame = saved_v1_frame()
    decoded = encoder.inverse_transform(encoder.transform(frame))
    assert list(decoded.columns) == list(frame.columns)
    assert all(
        "decimals" in info for info in encoder.to_dict()["columns"] if info["kind"] == "numeric"
    )


def test_an_array_is_a_frame_with_columns_x0_x1() -> None:
    rows = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 6.0]])
    enc = TabularEncoder().fit(rows)
    assert enc.columns_ == ["x0", "x1"] and enc.n_features_in_ == 2
    framed = TabularEncoder().fit(pd.DataFrame(rows, columns=["x0", "x1"]))
    np.testing.assert_array_equal(enc.transform(rows), framed.transform(rows))
