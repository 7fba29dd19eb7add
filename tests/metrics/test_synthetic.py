import json

import numpy as np
import pandas as pd
import pytest

from fairlatent.exceptions import DataError, SchemaError
from fairlatent.metrics.synthetic import (
    column_fidelity,
    correlation_difference,
    detection_auc,
    privacy_scores,
    quality_warnings,
    synthetic_quality,
)


def make_frame(n: int = 300, seed: int = 0, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, n)
    frame = pd.DataFrame(
        {
            "x": x,
            "age": rng.integers(18, 80, n),
            "sex": pd.array(rng.choice(["F", "M"], n, p=[0.3, 0.7]), dtype="string"),
            "colour": rng.choice(["red", "green", "blue"], n),
            "const": 1.0,
            "label": (x + rng.normal(0, 0.5, n) > shift).astype(int),
        }
    )
    frame.loc[::17, "x"] = np.nan
    frame.loc[::23, "colour"] = None
    return frame


def test_identical_frames_are_perfect_and_json_serialisable():
    real = make_frame()
    report = synthetic_quality(real, real.copy(), real_test=make_frame(seed=1), target="label")
    assert report["mean_ks"] == 0.0
    assert report["mean_tvd"] == 0.0
    assert report["correlation"]["mean_abs_diff"] == 0.0
    assert report["privacy"]["copy_share"] == 1.0
    assert report["privacy"]["dcr_synthetic_median"] == 0.0
    assert report["utility"]["gap"] == 0.0
    assert report["columns"]["sex"]["kind"] == "categorical"
    assert report["columns"]["const"]["ks"] == 0.0
    json.dumps(report, allow_nan=False)
    warnings = quality_warnings(report)
    assert any("exact copies" in w for w in warnings)


def test_disjoint_distributions_give_high_ks_and_warnings():
    real = make_frame()
    fake = make_frame(seed=1, shift=10.0)
    fake["colour"] = "purple"
    report = synthetic_quality(real, fake, random_state=0)
    assert report["columns"]["x"]["ks"] == 1.0
    assert report["columns"]["colour"]["tvd"] == 1.0
    assert report["detection"]["auc"] > 0.95
    assert report["privacy"]["copy_share"] == 0.0
    text = " ".join(quality_warnings(report))
    assert "ROC AUC" in text and "KS" in text


def test_detection_auc_same_distribution_near_half():
    res = detection_auc(make_frame(1000, seed=0), make_frame(1000, seed=1), random_state=0)
    assert 0.4 < res["auc"] < 0.6
    again = detection_auc(make_frame(1000, seed=0), make_frame(1000, seed=1), random_state=0)
    assert res == again


def test_fidelity_independent_samples_small():
    res = column_fidelity(make_frame(2000, seed=0), make_frame(2000, seed=1))
    assert res["mean_ks"] < 0.1
    assert res["mean_tvd"] < 0.05
    assert res["columns"]["x"]["missing_rate_real"] == pytest.approx(1 / 17, abs=0.01)


def test_correlation_difference_detects_broken_dependence():
    real = make_frame(1000)
    broken = real.copy()
    broken["label"] = np.random.default_rng(5).permutation(broken["label"].to_numpy())
    same = correlation_difference(real, real)
    diff = correlation_difference(real, broken)
    assert same["mean_abs_diff"] == 0.0
    assert diff["mean_abs_diff"] > 0.02
    assert diff["numeric_pearson_mean_abs_diff"] > 0.05


def test_privacy_baseline_from_split_and_no_copies():
    real = make_frame(500)
    fake = make_frame(500, seed=3)
    res = privacy_scores(real, fake)
    assert res["copy_share"] < 0.02
    assert res["dcr_synthetic_median"] > 0
    assert res["dcr_holdout_median"] > 0
    assert "80%" in res["baseline"]


def test_bad_inputs_raise_clear_errors():
    real = make_frame()
    with pytest.raises(SchemaError, match="missing"):
        synthetic_quality(real, real.drop(columns="x"))
    with pytest.raises(DataError, match="no rows"):
        synthetic_quality(real, real.iloc[:0])
    with pytest.raises(SchemaError, match="real_test"):
        synthetic_quality(real, real, target="label")
    with pytest.raises(SchemaError, match="nope"):
        synthetic_quality(real, real, real_test=real, target="nope")


def test_single_class_synthetic_target_is_reported():
    real = make_frame()
    fake = make_frame(seed=2)
    fake["label"] = 0
    report = synthetic_quality(real, fake, real_test=make_frame(seed=4), target="label")
    assert report["utility"]["accuracy_synthetic"] is None
    assert any("single class" in w for w in quality_warnings(report))


def test_all_missing_and_odd_dtypes_are_handled():
    rng = np.random.default_rng(0)
    n = 120
    real = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": pd.Categorical(rng.choice(["x", "y"], n)),
            "c": rng.random(n) > 0.5,
            "d": pd.array(rng.integers(0, 5, n), dtype="Int64"),
            "e": np.nan,
            "y": rng.integers(0, 2, n),
        }
    )
    real.loc[::5, "d"] = pd.NA
    fake = real.sample(frac=1, random_state=1).reset_index(drop=True)
    fake["a"] = np.nan
    report = synthetic_quality(real, fake, real_test=real.copy(), target="y")
    assert report["columns"]["a"]["ks"] == 1.0
    assert report["columns"]["e"]["ks"] == 0.0
    assert report["columns"]["c"]["kind"] == "categorical"
    assert report["detection"]["auc"] > 0.9
    json.dumps(report, allow_nan=False)


def test_package_reexports_and_column_kinds_from_data_kinds():
    import fairlatent.metrics.synthetic as synthetic
    from fairlatent.data.kinds import MISSING_LABEL, is_numeric

    for name in synthetic.__all__:
        assert hasattr(synthetic, name)
    assert synthetic.MISSING_LABEL == MISSING_LABEL == "(missing)"
    real = make_frame().assign(flag=lambda f: f["label"] == 1, cat=lambda f: f["colour"].astype("category"))
    columns = column_fidelity(real, real)["columns"]
    for name, entry in columns.items():
        assert entry["kind"] == ("numeric" if is_numeric(real[name]) else "categorical"), name
    assert columns["flag"]["kind"] == "categorical" and columns["age"]["kind"] == "numeric"
    forced = column_fidelity(real, real, discrete_columns=["age"])["columns"]
    assert forced["age"]["kind"] == "categorical"
    with pytest.raises(SchemaError, match="discrete_columns names columns"):
        column_fidelity(real, real, discrete_columns=["nope"])


def test_missing_categories_are_one_category_under_the_shared_label():
    from fairlatent.metrics.synthetic.columns import _as_labels

    labels = _as_labels(pd.Series(["a", None, np.nan], dtype=object))
    assert labels.tolist() == ["a", "(missing)", "(missing)"]
    real = pd.DataFrame({"c": ["a", "a", None, None]})
    fake = pd.DataFrame({"c": ["a", "a", "a", None]})
    assert column_fidelity(real, fake)["columns"]["c"]["tvd"] == 0.25
