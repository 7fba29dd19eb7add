import numpy as np
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    selection_rate,
)

import fairlatent
from fairlatent.data.schema import GROUP_COLUMN
from fairlatent.exceptions import FairlatentError
from fairlatent.report.json_writer import result_to_json


@pytest.fixture(scope="module")
def result():
    from tests.conftest import make_biased_frame

    return fairlatent.audit(
        make_biased_frame(800),
        target="label",
        sensitive="group",
        strategies=["none", "reweigh"],
        classifiers=["logreg", "hgb"],
        repeats=2,
        n_boot=50,
        tune=False,  # reweighing at full strength (tuning has its own tests in tests/engine)
        min_test_support=5,  # group B has ~12 favourable test rows in 800
    )


def test_reported_metrics_equal_fairlearn_on_the_same_predictions(result):
    test = result.test_frame
    for rec in (r for r in result.records if r.repeat == 0):
        y, p, g = test["label"].to_numpy(), rec.y_pred, test[GROUP_COLUMN].to_numpy()
        assert rec.evaluation.summary["dp_difference"] == pytest.approx(
            demographic_parity_difference(y, p, sensitive_features=g)
        )
        assert rec.evaluation.summary["eo_difference"] == pytest.approx(
            equalized_odds_difference(y, p, sensitive_features=g)
        )
        frame = MetricFrame(metrics=selection_rate, y_true=y, y_pred=p, sensitive_features=g)
        np.testing.assert_allclose(rec.evaluation.by_group["selection_rate"], frame.by_group)


def test_tidy_frames_and_summary(result):
    tidy = result.metrics
    assert set(tidy["strategy"]) == {"none", "reweigh"}
    assert set(tidy["repeat"]) == {0, 1}
    summary = result.summary()
    assert list(summary.index) == [
        ("none", "logreg"),
        ("none", "hgb"),
        ("reweigh", "logreg"),
        ("reweigh", "hgb"),
    ]
    assert np.isfinite(summary["dp_difference_std"]).all()
    row = tidy[
        (tidy.strategy == "none") & (tidy.classifier == "logreg") & (tidy.metric == "accuracy")
    ]
    assert summary.loc[("none", "logreg"), "accuracy"] == pytest.approx(row["value"].mean())
    assert set(result.by_group["group"]) == {"A", "B"}


def test_baseline_is_unfair_and_reweighing_helps(result):
    summary = result.summary()
    assert summary.loc[("none", "logreg"), "dp_difference"] > 0.1
    assert (
        summary.loc[("reweigh", "logreg"), "dp_difference"]
        < summary.loc[("none", "logreg"), "dp_difference"]
    )
    verdicts = result.verdict()
    assert [v["classifier"] for v in verdicts] == ["logreg", "hgb"]
    top = verdicts[0]["headline"]["finding"]
    assert verdicts[0]["unfair"] and top["group"] == "B" and top["difference"] < 0


def test_same_seed_same_numbers():
    from tests.conftest import make_biased_frame

    frame = make_biased_frame(500, seed=3)
    a = fairlatent.audit(frame, target="label", sensitive="group", n_boot=20, seed=5)
    b = fairlatent.audit(frame, target="label", sensitive="group", n_boot=20, seed=5)
    assert a.metrics.equals(b.metrics)


def test_json_document(result):
    import json

    doc = result_to_json(result)
    json.dumps(doc, allow_nan=False)
    assert doc["schema_version"] == 1
    assert len(doc["results"]) == len(result.records)
    assert doc["data"]["groups"][0]["group"] in {"A", "B"}
    for group in doc["data"]["groups"]:
        assert group["test_positives"] + group["test_negatives"] == group["test_rows"]


def test_library_errors_are_fairlatent_errors():
    from tests.conftest import make_biased_frame

    with pytest.raises(FairlatentError):
        fairlatent.audit(make_biased_frame(), target="nope", sensitive="group")


def test_the_result_is_built_once_and_never_changed(result):
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        result.command = "fairlatent audit x.csv"
    assert set(result.analyses) >= {"leakage"}  # the engine built every part up front
    assert result.environment["seconds"] >= 0 and result.environment["device"]
    notices = list(result.schema.notices)
    run = result.with_run(command="fairlatent audit x.csv", notices=["a warning logged"])
    assert run is not result and run.command == "fairlatent audit x.csv"
    assert run.schema.notices == [*notices, "a warning logged"]
    assert result.command is None and result.schema.notices == notices  # the original unchanged
    assert run.findings is result.findings and run.records is result.records


def test_load_and_audit_names_the_data(tmp_path):
    from tests.conftest import make_biased_frame

    path = tmp_path / "people.csv"
    make_biased_frame(400).to_csv(path, index=False)
    cfg = fairlatent.AuditConfig(target="label", sensitive=["group"], strategies=["none"],
                                 classifiers=["logreg"], n_boot=0, min_test_support=5)
    result = fairlatent.load_and_audit(path, cfg)
    assert result.data_summary["name"] == "people"
    assert result.records[0].strategy == "none"
