"""``fairlatent audit --prediction/--score`` and ``fairlatent compare`` end to end (CliRunner)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fairlatent.cli import app
from tests.test_model_audit import scores_frame

BASE = ["--target", "recid", "--sensitive", "race", "--positive-label", "1", "--n-boot", "40",
        "--no-latent-view"]


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "scores.csv"
    scores_frame(n=1200).to_csv(path, index=False)
    return path


def test_repeated_and_comma_predictions_are_the_same_audit(csv, tmp_path):
    one = invoke("audit", str(csv), *BASE, "--prediction", "high_risk", "--prediction", "strict",
                 "--out", str(tmp_path / "a"))
    two = invoke("audit", str(csv), *BASE, "--prediction", "high_risk,strict", "--out", str(tmp_path / "b"))
    assert one.exit_code == 0, one.output
    assert two.exit_code == 0, two.output
    assert "FPR" in one.output and "high_risk: decisions by group" in one.output
    a = json.loads((tmp_path / "a" / "metrics.json").read_text())
    b = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert [r["classifier"] for r in a["results"]] == ["high_risk", "strict"]
    assert a["results"] == b["results"]
    assert a["models_compared"]["comparisons"][0]["model"] == "strict"
    assert a["config"]["prediction"] == ["high_risk", "strict"]
    assert "--prediction high_risk,strict" in a["command"] and "--classifiers" not in a["command"]
    assert a["data"]["test_rows"] == 1200  # every row audited


def test_score_with_top_percent(csv, tmp_path):
    res = invoke("audit", str(csv), *BASE, "--score", "decile", "--top-percent", "30", "--out",
                 str(tmp_path / "s"))
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "s" / "metrics.json").read_text())
    assert doc["results"][0]["classifier"] == "decile"
    assert doc["results"][0]["summary"]["selection_rate"] == pytest.approx(0.3, abs=1 / 1200)
    groups = doc["scores"]["models"]["decile"]["groups"]
    assert all(0.5 < g["auc"] < 1 for g in groups)
    html = (tmp_path / "s" / "report.html").read_text()
    assert "Calibration within groups or equal error rates?" in html


@pytest.mark.parametrize(
    ("edit", "args", "words"),
    [
        (None, ["--prediction", "high_risk", "--strategies", "none,reweigh"], "--strategies"),
        (None, ["--threshold", "4"], "--score"),
        (None, ["--score", "decile", "--top-k", "5000"], "larger than the 1200 rows"),
        (None, ["--score", "race", "--threshold", "3"], "sensitive attribute"),
        (lambda d: d.assign(decile=d["decile"].astype(str) + "x"), ["--score", "decile", "--threshold", "3"],
         "not numeric"),
        (lambda d: d.assign(decile=d["decile"].where(d.index > 0)), ["--score", "decile", "--threshold", "3"],
         "missing or infinite"),
        (lambda d: d.assign(high_risk="yes"), ["--prediction", "high_risk"], "outside the target"),
        (lambda d: d.assign(high_risk=0), ["--prediction", "high_risk"], "for every row"),
        (None, ["--score", "decile", "--threshold", "99"], "for every row"),
        (None, ["--prediction", "missing_column"], "not found"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, edit, args, words):
    frame = scores_frame(n=1200)
    if edit is not None:
        frame = edit(frame)
    path = tmp_path / "in.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    res = invoke("audit", str(path), *BASE, *args, "--out", str(out))
    assert res.exit_code == 2, res.output
    assert words in " ".join(res.output.split())
    assert "Traceback" not in res.output
    assert len([line for line in res.output.splitlines() if line.strip()]) == 1
    assert not out.exists()


def _doc(findings, target="recid", version=1):
    return {"schema_version": version, "created": "2026-01-01T00:00:00+00:00", "command": "fairlatent audit",
            "config": {"target": target}, "schema": {"positive_label": "1"}, "findings": findings}


def _finding(group, metric, state, difference=0.1):
    return {"classifier": "m", "strategy": "none", "group": group, "reference": "a", "metric": metric,
            "difference": difference, "low": difference - 0.05, "high": difference + 0.05, "ratio": 1.2,
            "ratio_low": 1.1, "ratio_high": 1.3, "state": state, "support": 100}


def test_compare_two_audits(tmp_path):
    old = [_finding("b", "fpr", "established"), _finding("b", "tpr", "inconclusive"),
           _finding("c", "fpr", "not_detected")]
    new = [_finding("b", "fpr", "inconclusive", 0.04), _finding("b", "tpr", "inconclusive"),
           _finding("d", "fpr", "established", 0.2)]
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    (tmp_path / "old" / "metrics.json").write_text(json.dumps(_doc(old)))
    (tmp_path / "new" / "metrics.json").write_text(json.dumps(_doc(new)))
    res = invoke("compare", str(tmp_path / "old" / "metrics.json"), str(tmp_path / "new"), "--out",
                 str(tmp_path / "cmp"))
    assert res.exit_code == 0, res.output
    assert "1 finding(s) changed state, 1 appeared, 1 disappeared, 1 unchanged" in res.output
    diff = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert [(r["group"], r["old_state"], r["new_state"]) for r in diff["changed"]] == [
        ("b", "established", "inconclusive")
    ]
    assert [r["group"] for r in diff["appeared"]] == ["d"]
    assert [r["group"] for r in diff["disappeared"]] == ["c"]
    html = (tmp_path / "cmp" / "compare.html").read_text()
    assert 'id="changed"' in html and "established" in html


@pytest.mark.parametrize(
    ("new_doc", "words"),
    [
        (_doc([], version=2), "schema version"),
        (_doc([], target="arrested"), "same outcome"),
        ({"schema_version": 1, "config": {"target": "recid"}, "schema": {"positive_label": "1"}}, "no findings"),
    ],
)
def test_compare_refuses_other_versions_and_targets(tmp_path, new_doc, words):
    (tmp_path / "old.json").write_text(json.dumps(_doc([])))
    (tmp_path / "new.json").write_text(json.dumps(new_doc))
    res = invoke("compare", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--out", str(tmp_path / "c"))
    assert res.exit_code == 2
    assert words in " ".join(res.output.split())
    assert len([line for line in res.output.splitlines() if line.strip()]) == 1
    assert not (tmp_path / "c").exists()


def test_compare_missing_file(tmp_path):
    res = invoke("compare", str(tmp_path / "nope.json"), str(tmp_path / "nope2.json"), "--out", str(tmp_path / "c"))
    assert res.exit_code == 2 and "not found" in res.output
    assert not (tmp_path / "c").exists()


def test_compare_on_two_real_audits(tmp_path):
    frame = scores_frame(n=3000)
    before = frame.assign(decision=frame["high_risk"])
    after = frame.assign(decision=(frame["decile"] - (frame["race"] == "b") >= 5).astype(int))
    for name, data in (("before", before), ("after", after)):
        data.to_csv(tmp_path / f"{name}.csv", index=False)
        res = invoke("audit", str(tmp_path / f"{name}.csv"), *BASE, "--prediction", "decision", "--out",
                     str(tmp_path / name))
        assert res.exit_code == 0, res.output
    res = invoke("compare", str(tmp_path / "before" / "metrics.json"), str(tmp_path / "after" / "metrics.json"),
                 "--out", str(tmp_path / "cmp"))
    assert res.exit_code == 0, res.output
    diff = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    doc = json.loads((tmp_path / "before" / "metrics.json").read_text())
    assert diff["old"]["findings"] == len(doc["findings"]) > 0
    moved = {(r["group"], r["metric"]): (r["old_state"], r["new_state"]) for r in diff["changed"]}
    assert moved[("b", "selection_rate")][0] == "established"  # the +1 shift for b is gone
    assert moved[("b", "selection_rate")][1] != "established"


def test_fail_on_established_gates_given_predictions(csv, tmp_path):
    res = invoke("audit", str(csv), *BASE, "--prediction", "high_risk", "--fail-on", "established",
                 "--out", str(tmp_path / "gate"))
    assert res.exit_code == 3, res.output  # group b's planted +1 risk shift is established
    assert (tmp_path / "gate" / "report.html").exists()


def test_space_separated_predictions_through_the_console_entry_point(csv, tmp_path):
    """``--prediction a b`` (one flag, several columns) is the same audit as ``--prediction a,b``."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "fairlatent.cli", "audit", str(csv), *BASE, "--prediction",
         "high_risk", "strict", "--no-latent-view", "--out", str(tmp_path / "s"), "-q"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    doc = json.loads((tmp_path / "s" / "metrics.json").read_text())
    assert doc["config"]["prediction"] == ["high_risk", "strict"]
    assert [r["classifier"] for r in doc["results"]] == ["high_risk", "strict"]
