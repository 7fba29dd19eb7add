"""audit_predictions and audit_model: the library entry points of an audit of a model you have."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

import fairlatent
from fairlatent.exceptions import ConfigError, DataError, FairlatentError

FAST_AUDIT = {"latent_view": False, "n_boot": 60}


def scores_frame(n: int = 2400, seed: int = 0) -> pd.DataFrame:
    """A COMPAS-like frame: decile risk scores that are harsher on group b, and two-year outcomes."""
    rng = np.random.default_rng(seed)
    race = rng.choice(["a", "b", "c"], n, p=[0.5, 0.4, 0.1])
    y = (rng.random(n) < np.where(race == "b", 0.5, 0.4)).astype(int)  # 1 = reoffended
    risk = np.clip(y * 3 + rng.integers(1, 8, n) + (race == "b"), 1, 10)
    frame = pd.DataFrame({"race": race, "recid": y, "decile": risk, "priors": rng.poisson(2, n),
                          "age": rng.integers(18, 70, n)})
    frame["high_risk"] = np.where(risk >= 5, 1, 0)
    frame["strict"] = np.where(risk >= 6, 1, 0)
    return frame


def test_predictions_reproduce_metricframe():
    df = scores_frame()
    result = fairlatent.audit_predictions(df, target="recid", sensitive="race", prediction="high_risk",
                                          positive_label="1", **FAST_AUDIT)
    (record,) = result.records
    assert (record.strategy, record.classifier) == ("none", "high_risk")
    assert len(record.y_pred) == len(df)  # every row, no split
    frame = MetricFrame(
        metrics={"selection_rate": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate},
        y_true=df["recid"], y_pred=df["high_risk"], sensitive_features=df["race"],
    )
    table = record.evaluation.by_group
    for metric in ("selection_rate", "tpr", "fpr"):
        for group in frame.by_group.index:
            assert table.at[group, metric] == frame.by_group.at[group, metric]


def test_score_rule_and_direction():
    df = scores_frame()
    # favourable = did not reoffend; low decile = favourable; decisions: decile <= 4
    result = fairlatent.audit_predictions(df, target="recid", sensitive="race", score="decile",
                                          score_direction="lower", threshold=4, positive_label="0",
                                          **FAST_AUDIT)
    (record,) = result.records
    np.testing.assert_array_equal(record.y_pred, (df["decile"] <= 4).astype(int))
    scores = result.analyses["scores"]["models"]["decile"]
    for row in scores["groups"]:
        mask = (df["race"] == row["group"]).to_numpy()
        favourable = (df["recid"] == 0).astype(int)[mask]
        assert row["auc"] == roc_auc_score(favourable, -df["decile"][mask])
    assert scores["tradeoff"]["decisions"] == "decile"
    top = fairlatent.audit_predictions(df, target="recid", sensitive="race", score="decile", top_k=500,
                                       score_direction="lower", positive_label="0", **FAST_AUDIT)
    assert int(top.records[0].y_pred.sum()) == 500


def test_two_prediction_columns_are_compared_pairwise():
    df = scores_frame(n=4000)
    df["fair"] = np.where(df["decile"] - (df["race"] == "b") >= 5, 1, 0)
    result = fairlatent.audit_predictions(df, target="recid", sensitive="race",
                                          prediction=["high_risk", "fair"], positive_label="1", n_boot=200,
                                          latent_view=False)
    assert [r.classifier for r in result.records] == ["high_risk", "fair"]
    compared = result.analyses["models_compared"]
    (comparison,) = compared["comparisons"]
    assert (comparison["baseline"], comparison["model"]) == ("high_risk", "fair")
    marks = {(r["group"], r["metric"]): r["mark"] for r in comparison["findings"]}
    assert marks[("b", "selection_rate")] == "better"  # removing the +1 shift for b closes b's gap
    assert marks[("c", "selection_rate")] == "same"  # c's decisions did not change
    assert set(marks.values()) <= {"better", "worse", "same", "insufficient"}


def test_audit_model_on_pipeline_equals_audit_predictions():
    df = scores_frame()
    features = df.drop(columns=["recid", "high_risk", "strict"])
    pipe = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["race"]), remainder="passthrough"),
        LogisticRegression(max_iter=500),
    ).fit(features, df["recid"])
    data = df.drop(columns=["high_risk", "strict"])
    from_model = fairlatent.audit_model({"pipe": pipe}, data, target="recid", sensitive="race",
                                        positive_label="1", **FAST_AUDIT)
    given = data.assign(pipe=pipe.predict(features))
    from_column = fairlatent.audit_predictions(given, target="recid", sensitive="race", prediction="pipe",
                                               positive_label="1", **FAST_AUDIT)
    a, b = from_model.records[0], from_column.records[0]
    np.testing.assert_array_equal(a.y_pred, b.y_pred)
    assert a.evaluation.summary == b.evaluation.summary
    pd.testing.assert_frame_equal(a.evaluation.by_group, b.evaluation.by_group)
    assert from_model.analyses["scores"]["models"]["pipe"]["overall"]["auc"] == pytest.approx(
        roc_auc_score(df["recid"], pipe.predict_proba(features)[:, 1])
    )


def test_result_writes_report(tmp_path):
    df = scores_frame()
    result = fairlatent.audit_predictions(df, target="recid", sensitive="race", prediction="high_risk,strict",
                                          score="decile", positive_label="1", **FAST_AUDIT)
    paths = fairlatent.write_report(result, tmp_path / "out")
    html = paths["report"].read_text()
    assert "Scores by group" in html and "Models compared" in html
    import json

    doc = json.loads(paths["metrics"].read_text())
    assert set(doc["scores"]["models"]) == {"decile"}
    assert doc["models_compared"]["comparisons"][0]["model"] == "strict"


@pytest.mark.parametrize(
    ("change", "options", "match"),
    [
        (lambda d: d.assign(high_risk=d["high_risk"].replace(1, 7)), {"prediction": "high_risk"}, "outside"),
        (lambda d: d.assign(decile=d["decile"].astype(float).where(d.index > 3)), {"score": "decile",
                                                                                   "threshold": 5}, "missing"),
        (lambda d: d.assign(high_risk=1), {"prediction": "high_risk"}, "for every row"),
        (lambda d: d.assign(decile="high"), {"score": "decile", "threshold": 5}, "not numeric"),
        (lambda d: d, {"score": "decile", "top_k": 10**6}, "larger than"),
        (lambda d: d, {"score": "decile", "top_percent": 100}, "out of range"),
        (lambda d: d, {"score": "decile"}, "decision rule"),
        (lambda d: d, {"prediction": "high_risk", "score": "decile", "threshold": 3}, "leave out one"),
        (lambda d: d, {"threshold": 3, "prediction": "high_risk", "score": None}, "--score"),
        (lambda d: d, {"prediction": "nope"}, "not found"),
        (lambda d: d, {"prediction": "recid"}, "target"),
        (lambda d: d, {"prediction": "high_risk", "score_direction": "up"}, "direction"),
        (lambda d: d, {"prediction": "high_risk", "strategies": ["none", "reweigh"]}, "strategies"),
    ],
)
def test_bad_input_is_one_line(change, options, match):
    df = change(scores_frame(n=400))
    with pytest.raises(FairlatentError, match=match) as info:
        fairlatent.audit_predictions(df, target="recid", sensitive="race", positive_label="1",
                                     **{**FAST_AUDIT, **options})
    assert "\n" not in str(info.value)


def test_model_whose_predict_fails():
    df = scores_frame(n=400)
    clf = LogisticRegression().fit(df[["priors"]], df["recid"])  # fitted on other columns
    with pytest.raises(DataError, match="predict failed"):
        fairlatent.audit_model(clf, df, target="recid", sensitive="race", **FAST_AUDIT)
    with pytest.raises(ConfigError, match="no predict"):
        fairlatent.audit_model(object(), df, target="recid", sensitive="race", **FAST_AUDIT)


def test_latent_view_runs_on_the_feature_columns(tmp_path):
    df = scores_frame(n=600)
    result = fairlatent.audit_predictions(df, target="recid", sensitive="race", prediction="high_risk",
                                          positive_label="1", n_boot=30, epochs=2)
    rep = result.analyses["representation"]
    assert rep["n_test"] == 600 and rep["given"] == {"rows": 600, "sampled": False}
    (series,) = rep["error_by_decile"]["series"]
    expected = float(np.mean(df["high_risk"].to_numpy() != df["recid"].to_numpy()))
    assert (series["classifier"], series["overall"]) == ("high_risk", pytest.approx(expected))
    html = fairlatent.write_report(result, tmp_path / "r")["report"].read_text()
    assert "the model's own outputs are not features" in html
    assert "high_risk" not in result.schema.features  # the audited column is not a feature


def test_tradeoff_of_a_calibrated_score_with_different_base_rates():
    rng = np.random.default_rng(5)
    n = 20000
    group = rng.choice(["a", "b"], n)
    risk = np.clip(rng.normal(np.where(group == "a", 0.35, 0.6), 0.18, n), 0.01, 0.99)
    y = (rng.random(n) < risk).astype(int)  # the score is calibrated in both groups
    df = pd.DataFrame({"g": group, "y": y, "risk": risk, "x": rng.normal(size=n)})
    result = fairlatent.audit_predictions(df, target="y", sensitive="g", score="risk", threshold=0.5,
                                          positive_label="1", **FAST_AUDIT)
    t = result.analyses["scores"]["models"]["risk"]["tradeoff"]
    assert t["calibration_state"] == "not_detected"
    assert t["error_rate_state"] == "established"
    assert t["holds"] == "calibration"
