"""Findings and the verdict built from them: null data, a shifted group, thin groups, bad models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fairlatent
from fairlatent.report.html import render_html
from fairlatent.report.json_writer import result_to_json
from fairlatent.results.findings import FINDING_KEYS, model_check, model_findings
from fairlatent.results.verdict import build_headline
from tests.conftest import make_fair_predictions


def frame(n=3000, *, seed=0, groups=(("A", 0.6, 0.0), ("B", 0.4, 0.0)), base=0.4, signal=1.5):
    """Rows with a label, features carrying it, and groups (name, share, shift of ``x1``)."""
    rng = np.random.default_rng(seed)
    names = [g[0] for g in groups]
    shares = np.array([g[1] for g in groups])
    idx = rng.choice(len(names), n, p=shares / shares.sum())
    shift = np.array([g[2] for g in groups])[idx]
    y = rng.random(n) < base
    return pd.DataFrame({
        "x1": signal * y + shift + rng.normal(0, 1, n),
        "x2": rng.normal(0, 1, n),
        "group": np.array(names, dtype=object)[idx],
        "label": np.where(y, "yes", "no"),
    })


def audit(data, **options):
    return fairlatent.audit(data, target="label", sensitive="group", positive_label="yes",
                            strategies=["none"], classifiers=["logreg"], tune=False,
                            n_boot=100, min_group_size=5, **options)


def test_null_data_establishes_nothing():
    result = audit(frame(seed=1))
    head = result.verdicts()[0].headline
    assert result.findings.established() == ()
    assert head.state in {"no_gap", "inconclusive"}
    assert "No gap is established" in head.sentence or "No disparity detected" in head.sentence
    assert not head.check.flagged


def test_shifted_group_is_established_and_named():
    result = audit(frame(seed=2, groups=(("A", 0.6, 0.0), ("B", 0.4, -1.0))))
    head = result.verdicts()[0].headline
    assert head.state == "established"
    assert head.finding.group == "B" and head.finding.reference == "A"
    assert head.finding.high < 0 and "B" in head.sentence and "A" in head.sentence
    sel = next(f for m, f in result.findings.established() if f.metric == "selection_rate")
    assert sel.group == "B" and sel.difference < -0.15


def test_established_interval_covers_the_planted_truth():
    rng = np.random.default_rng(7)
    n = 8000
    g = np.where(rng.random(n) < 0.5, "a", "b")
    y = (rng.random(n) < 0.4).astype(int)
    p = (rng.random(n) < np.where(g == "b", 0.30, 0.45)).astype(int)  # truth: -0.15 on every rate of p
    found = model_findings(y, p, g, classifier="column", reference="a", n_boot=200, random_state=3)
    sel = next(f for f in found.family.findings if f.metric == "selection_rate")
    assert sel.state == "established" and sel.low <= -0.15 <= sel.high
    assert sel.ratio_low <= 0.30 / 0.45 <= sel.ratio_high
    assert build_headline(found).finding.group == "b"


def test_thin_group_with_large_gap_is_shown_marked_and_never_green():
    data = pd.concat([
        frame(4000, seed=3),
        frame(60, seed=4, groups=(("Thin", 1.0, -2.5),)),
    ], ignore_index=True)
    result = audit(data)
    model = result.findings.model("logreg")
    assert "Thin" in model.family.insufficient_groups
    assert {f.state for f in model.family.findings if f.group == "Thin"} == {"insufficient"}
    head = result.verdicts()[0].headline
    thin = {t.group: t for t in head.thin}
    assert thin["Thin"].large_gap and not head.green
    assert head.state != "established" or head.finding.group != "Thin"
    html = render_html(result)
    assert "large point gap" in html and "Thin" in html.split("Too few test rows to judge")[1][:2000]
    assert 'class="answer fair' not in html


def test_fewer_than_two_supported_groups_means_we_cannot_tell():
    data = frame(400, seed=5, groups=(("A", 0.9, 0.0), ("B", 0.1, 0.0)), base=0.1)
    result = audit(data, min_test_support=20)
    head = result.verdicts()[0].headline
    assert head.state == "cannot_tell" and "We cannot tell" in head.sentence
    first = result.records[0].evaluation
    assert first.compared == [] and np.isnan(first.summary["dp_difference"])
    assert all(f.state == "insufficient" for f in result.findings.model("logreg").family.findings)
    assert result.findings.established() == ()


def test_model_no_better_than_the_majority_label_is_flagged():
    data = frame(3000, seed=6, base=0.2, signal=0.0)  # the features carry nothing
    result = audit(data)
    head = result.verdicts()[0].headline
    assert head.check.flagged and head.check.state != "better"
    assert "no better than predicting the unfavourable label" in head.sentence
    assert "model no better than the majority label" in render_html(result)
    doc = result_to_json(result)
    assert all(row["model_flagged"] for row in doc["findings"])


def test_model_check_by_hand():
    y = np.array([1] * 300 + [0] * 700)
    good = y.copy()
    good[:30] = 0
    check = model_check(y, good, scores=np.where(good == 1, 0.9, 0.1))
    assert check.state == "better" and not check.flagged and check.auc > 0.9
    assert model_check(y, np.zeros(1000, dtype=int)).state == "not_clearly_better"
    assert model_check(y, 1 - y).state == "worse"


def test_metrics_json_findings_schema():
    result = audit(frame(seed=8), min_test_support=20)
    doc = result_to_json(result)
    rows = doc["findings"]
    assert len(rows) == 9  # one model, one group besides the reference, nine rates
    for row in rows:
        assert list(row)[: len(FINDING_KEYS)] == list(FINDING_KEYS)
        assert row["classifier"] == "logreg" and row["strategy"] == "none"
        assert row["state"] in {"established", "not_detected", "inconclusive", "insufficient"}
        assert row["low"] <= row["difference"] <= row["high"]
    assert {r["metric"] for r in rows} == {
        "selection_rate", "tpr", "fpr", "fnr", "ppv", "fdr", "npv", "for", "accuracy"}
    family = doc["findings_method"]["families"][0]
    assert family["family_size"] == 18 and family["critical_value"] > 1.96
    assert family["level"] == 0.95 and family["method"] == "studentised bootstrap-max"


def test_findings_pair_with_the_evaluation_replicates():
    result = audit(frame(seed=9))
    rec = result.records[0]
    assert rec.findings.family.n_boot == rec.evaluation.bootstrap_key[2]
    assert rec.evaluation.bootstrap_key[0] == result.config.seed  # same seed: replicates pair


@pytest.mark.parametrize("n_boot", [0, 5])
def test_few_replicates_fall_back_to_bonferroni(n_boot):
    rng = np.random.default_rng(0)
    g = np.repeat(["a", "b"], 500)
    y = rng.integers(0, 2, 1000)
    found = model_findings(y, y, g, classifier="c", n_boot=n_boot)
    assert found.family.n_boot == 0 and np.isfinite(found.family.critical_value)


def test_green_only_when_every_judged_finding_is_not_detected_and_no_thin_gap():
    y, p, g = make_fair_predictions(120_000, seed=11)
    clean = build_headline(model_findings(y, p, g, classifier="c", n_boot=50))
    assert clean.state == "no_gap" and clean.green and "No disparity detected" in clean.sentence
    g2 = np.concatenate([g, ["thin"] * 30])
    y2 = np.concatenate([y, np.tile([0, 1], 15)])
    p2 = np.concatenate([p, np.zeros(30, dtype=int)])  # the thin group never gets the outcome
    marked = build_headline(model_findings(y2, p2, g2, classifier="c", n_boot=50))
    assert marked.state == "no_gap" and not marked.green
    assert marked.thin[0].group == "thin" and marked.thin[0].large_gap


def test_methods_note_quotes_the_measured_false_alarm_rate(tmp_path):
    from fairlatent.policy import MEASURED_CALIBRATION, load_calibration
    from fairlatent.results.verdict import methods_note

    assert MEASURED_CALIBRATION is not None and MEASURED_CALIBRATION.false_alarm_rate <= 0.05
    result = audit(frame(seed=12))
    note = methods_note(result)
    assert f"{MEASURED_CALIBRATION.false_alarm_rate:.1%}" in note
    assert f"{MEASURED_CALIBRATION.null_datasets} audits" in note
    assert result_to_json(result)["findings_method"]["measured"]["coverage"] >= 0.95
    bad = tmp_path / "calibration.json"
    bad.write_text("{not json")
    assert load_calibration(bad) is None and load_calibration(tmp_path / "missing.json") is None


def test_a_reference_too_small_to_judge_is_one_clear_error():
    data = pd.concat([frame(2000, seed=13), frame(40, seed=14, groups=(("Tiny", 1.0, 0.0),))],
                     ignore_index=True)
    with pytest.raises(fairlatent.FairlatentError, match="pass another --reference"):
        audit(data, reference="Tiny")
