import numpy as np
import pandas as pd
import pytest

from fairlatent.data.schema import GROUP_COLUMN, OTHER_GROUP, infer_kind, prepare
from fairlatent.exceptions import SchemaError


def test_infer_kind():
    assert infer_kind(pd.Series([1.5, 2.0, 3.25, np.nan])) == "continuous"
    assert infer_kind(pd.Series([1, 2, 3])) == "integer"
    assert infer_kind(pd.Series([0, 1, 1])) == "binary"
    assert infer_kind(pd.Series(["a", "b", "c"])) == "categorical"
    assert infer_kind(pd.Series([True, False])) == "binary"


def test_prepare_binarises_target_and_builds_groups(biased_frame):
    data = prepare(biased_frame, target="label", sensitive=["group"])
    assert set(data.frame["label"].unique()) == {0, 1}
    assert data.schema.positive_label == "yes"
    assert data.schema.positive_label_inferred
    assert set(data.groups.unique()) == {"A", "B"}
    assert "group" not in data.schema.features and "label" not in data.schema.features
    assert data.frame["label"].sum() == (biased_frame["label"] == "yes").sum()


def test_label_variants_are_normalised():
    frame = pd.DataFrame(
        {"x": range(60), "g": ["a", "b"] * 30, "income": [">50K", "<=50K", ">50K.", "<=50K."] * 15}
    )
    data = prepare(frame, target="income", sensitive=["g"], positive_label=">50K")
    assert data.frame["income"].sum() == 30


def test_positive_label_for_multiclass_target(biased_frame):
    frame = biased_frame.assign(label=np.resize(["low", "mid", "high"], len(biased_frame)))
    with pytest.raises(SchemaError, match="3 classes.*--positive-label"):
        prepare(frame, target="label", sensitive=["group"])
    data = prepare(frame, target="label", sensitive=["group"], positive_label="high")
    assert data.frame["label"].mean() == pytest.approx(1 / 3, abs=0.01)
    with pytest.raises(SchemaError, match="not found in target"):
        prepare(frame, target="label", sensitive=["group"], positive_label="huge")


def test_intersectional_groups_and_merging(biased_frame):
    data = prepare(biased_frame, target="label", sensitive=["group", "job"], min_group_size=40)
    labels = set(data.groups.unique())
    assert "A × clerk" in labels
    counts = pd.concat([biased_frame["group"], biased_frame["job"]], axis=1).value_counts()
    if (counts < 40).any():
        assert OTHER_GROUP in labels
        assert data.schema.merged_groups[OTHER_GROUP]


def test_real_group_named_other_is_never_merged_or_confused(biased_frame):
    """Groups called 'other', 'Other' and even the merged label itself keep their own rows."""
    frame = biased_frame.copy()
    frame.loc[:59, "group"] = "other"  # a real, large enough group
    frame.loc[60:64, "group"] = "Other"  # small: merged
    frame.loc[65:69, "group"] = "rare"  # small: merged
    frame.loc[100:139, "group"] = OTHER_GROUP  # a real group that carries the merged label
    data = prepare(frame, target="label", sensitive=["group"], min_group_size=30)
    sizes = data.groups.value_counts()
    ((merged_label, merged),) = data.schema.merged_groups.items()
    assert merged == ["Other", "rare"]
    assert merged_label not in {"other", "Other", OTHER_GROUP}
    assert sizes[merged_label] == 10
    assert sizes["other"] == 60 and sizes[OTHER_GROUP] == 40
    assert (data.groups[:60] == "other").all()
    assert any(merged_label in n and "Other, rare" in n for n in data.schema.notices)


def test_missing_sensitive_values_form_their_own_group(biased_frame):
    frame = biased_frame.copy()
    frame.loc[:49, "group"] = None
    data = prepare(frame, target="label", sensitive=["group"])
    assert data.groups.value_counts()["(missing)"] == 50
    assert (data.groups[:50] == "(missing)").all()
    assert any("50 row(s) with no value" in n for n in data.schema.notices)
    # a real value spelt like the missing label stays apart from the missing rows
    frame.loc[50:99, "group"] = "(missing)"
    data = prepare(frame, target="label", sensitive=["group"])
    sizes = data.groups.value_counts()
    assert sizes["(missing)"] == 50 and sizes["(missing) 2"] == 50
    # numeric sensitive attributes: missing and infinite values, binned or not
    ages = frame["age"].astype(float)
    ages[:30] = np.nan
    ages[30:40] = np.inf
    data = prepare(frame.assign(age=ages), target="label", sensitive=["age:40"])
    assert data.groups.value_counts()["(missing)"] == 40


def test_reserved_column_can_be_dropped(biased_frame):
    data = prepare(
        biased_frame.assign(_fl_group="x"), target="label", sensitive=["group"], drop=["_fl_group"]
    )
    assert set(data.groups.unique()) == {"A", "B"}


def test_numeric_sensitive_binning(biased_frame):
    data = prepare(biased_frame, target="label", sensitive=["age:30,50"])
    assert set(data.groups.unique()) <= {"<30", "30 to <50", ">=50"}
    assert data.schema.binned["age"] == ["<30", "30 to <50", ">=50"]
    assert (data.frame.loc[biased_frame["age"] < 30, "age"] == "<30").all()
    data = prepare(biased_frame, target="label", sensitive=["age:q3"])
    assert data.groups.nunique() == 3


def test_id_like_column_dropped_with_notice(biased_frame):
    frame = biased_frame.assign(customer=[f"c{i}" for i in range(len(biased_frame))])
    data = prepare(frame, target="label", sensitive=["group"])
    assert "customer" not in data.frame.columns
    assert "customer" in data.schema.dropped
    assert any("customer" in n for n in data.schema.notices)


def test_missing_target_rows_dropped(biased_frame):
    frame = biased_frame.copy()
    frame.loc[:9, "label"] = None
    data = prepare(frame, target="label", sensitive=["group"])
    assert len(data.frame) == len(frame) - 10
    assert data.schema.rows_dropped_missing_target == 10


@pytest.mark.parametrize(
    ("mutate", "kwargs", "message"),
    [
        (lambda f: f, {"target": "nope", "sensitive": ["group"]}, "target column 'nope' not found"),
        (
            lambda f: f,
            {"target": "label", "sensitive": ["nope"]},
            "sensitive column 'nope' not found",
        ),
        (
            lambda f: f.assign(label="yes"),
            {"target": "label", "sensitive": ["group"]},
            "single class",
        ),
        (
            lambda f: f.assign(group="A"),
            {"target": "label", "sensitive": ["group"]},
            "single group",
        ),
        (lambda f: f, {"target": "label", "sensitive": ["label"]}, "also a sensitive"),
        (
            lambda f: f.assign(label=np.nan),
            {"target": "label", "sensitive": ["group"]},
            "target column 'label' is entirely missing",
        ),
        (
            lambda f: f.assign(group=None),
            {"target": "label", "sensitive": ["group"]},
            "sensitive column 'group' is entirely missing",
        ),
        (
            lambda f: f.assign(_fl_group="x"),
            {"target": "label", "sensitive": ["group"]},
            "column '_fl_group' starts with '_fl_'",
        ),
        (
            lambda f: f.assign(_fl_label=1),
            {"target": "label", "sensitive": ["group"]},
            "column '_fl_label' starts with '_fl_'",
        ),
        (lambda f: f.head(20), {"target": "label", "sensitive": ["group"]}, "too few rows"),
        (
            lambda f: f.assign(hours=f["hours"].astype(str).where(f.index != 3, "abc")),
            {"target": "label", "sensitive": ["group"]},
            "looks numeric",
        ),
        (lambda f: f, {"target": "label", "sensitive": ["job:25,60"]}, "not numeric"),
        (lambda f: f, {"target": "label", "sensitive": ["age:q99"]}, "q2 to q20"),
    ],
)
def test_bad_schema_inputs(biased_frame, mutate, kwargs, message):
    with pytest.raises(SchemaError, match=message):
        prepare(mutate(biased_frame.copy()), **kwargs)


def test_group_column_present(biased_frame):
    data = prepare(biased_frame, target="label", sensitive=["group"])
    assert GROUP_COLUMN in data.frame.columns


def test_library_inputs_that_are_not_named_frames(biased_frame):
    with pytest.raises(SchemaError, match="must be a pandas DataFrame with named columns, found ndarray"):
        prepare(biased_frame.to_numpy(), target="label", sensitive=["group"])
    with pytest.raises(SchemaError, match="found Series"):
        prepare(biased_frame["age"], target="label", sensitive=["group"])
    wide = biased_frame.copy()
    wide.columns = pd.MultiIndex.from_tuples([("a", c) for c in wide.columns])
    with pytest.raises(SchemaError, match="multi-level column names"):
        prepare(wide, target="label", sensitive=["group"])
    numbered = biased_frame.copy()
    numbered.columns = range(numbered.shape[1])
    labels = list(biased_frame.columns)
    prepared = prepare(numbered, target=labels.index("label"), sensitive=[str(labels.index("group"))])
    assert prepared.frame[prepared.target].isin([0, 1]).all()
    assert np.asarray(prepared.groups).size == len(biased_frame)
