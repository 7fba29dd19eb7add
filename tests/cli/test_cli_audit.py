"""End-to-end CLI tests: a full audit through Typer's CliRunner, and every bad input."""

import json
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fairlatent.cli import app
from tests.conftest import TARGET_GROUP, make_biased_frame, run_audit

runner = CliRunner()
SECTIONS = {
    "verdict",
    "data",
    "comparison",
    "groups",
    "tradeoff",
    "strategies",
    "repro",
    "glossary",
}


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.tags, self.text = set(), [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])

    def handle_data(self, data):
        self.text.append(data)


def parse(path):
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def test_full_audit_writes_report_and_metrics(tmp_path, biased_csv):
    out = tmp_path / "out"
    result = run_audit(biased_csv, out, "--n-boot", "30", "--min-test-support", "5")
    assert result.exit_code == 0, result.output
    assert "report:" in result.output
    page = parse(out / "report.html")
    assert page.ids >= SECTIONS
    assert "script" not in page.tags
    metrics = json.loads((out / "metrics.json").read_text())
    strategies = {r["strategy"] for r in metrics["results"]}
    assert strategies == {"none", "reweigh"}
    assert metrics["config"]["sensitive"] == ["group"]
    assert metrics["command"].startswith("fairlatent audit")
    none_lr = next(
        r for r in metrics["results"] if r["strategy"] == "none" and r["classifier"] == "logreg"
    )
    assert none_lr["summary"]["dp_difference"] > 0.1
    assert set(none_lr["by_group"]) == {"A", "B"}
    minority = next(g for g in metrics["data"]["groups"] if g["group"] == "B")
    html = (out / "report.html").read_text()
    assert ("Thin groups" in html) == (min(minority["test_positives"], minority["test_negatives"]) < 5)


def test_data_strings_are_escaped_in_the_report(tmp_path):
    frame = make_biased_frame(400)
    frame["group"] = frame["group"].map({"A": "<script>alert(1)</script>", "B": "B&co"})
    frame = frame.rename(columns={"job": "<img src=x onerror=alert(2)>"})
    path = tmp_path / "evil.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "evil"
    result = run_audit(path, out, "--n-boot", "0")
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    page = parse(out / "report.html")
    assert "script" not in page.tags
    assert any("<script>alert(1)</script>" in t for t in page.text)


def test_config_file_and_default_output_dir(tmp_path, biased_csv, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "audit.toml"
    config.write_text(
        'target = "label"\nsensitive = "group"\nclassifiers = ["logreg"]\nn_boot = 0\n'
    )
    result = runner.invoke(app, ["audit", str(biased_csv), "--config", str(config), "--quiet"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "reports" / "biased" / "report.html").exists()
    metrics = json.loads((tmp_path / "reports" / "biased" / "metrics.json").read_text())
    assert {r["classifier"] for r in metrics["results"]} == {"logreg"}


def _bad_inputs(tmp_path):
    frame = make_biased_frame(300)
    cases = {}

    def write(name, content):
        path = tmp_path / name
        if isinstance(content, pd.DataFrame):
            content.to_csv(path, index=False)
        else:
            path.write_text(content)
        return path

    good = write("good.csv", frame)
    cases["missing file"] = (
        [str(tmp_path / "nope.csv"), "--target", "label", "--sensitive", "group"],
        "not found",
    )
    cases["empty file"] = (
        [str(write("empty.csv", "")), "--target", "label", "--sensitive", "group"],
        "empty",
    )
    cases["malformed"] = (
        [str(write("bad.csv", 'a,b\n1,"x\n')), "--target", "a", "--sensitive", "b"],
        "malformed",
    )
    cases["unknown target"] = (
        [str(good), "--target", "nope", "--sensitive", "group"],
        "target column 'nope' not found",
    )
    cases["unknown sensitive"] = (
        [str(good), "--target", "label", "--sensitive", "nope"],
        "sensitive column 'nope'",
    )
    cases["one class"] = (
        [str(write("one.csv", frame.assign(label="no"))), *TARGET_GROUP],
        "single class",
    )
    cases["multiclass"] = (
        [str(write("multi.csv", frame.assign(label=[f"c{i % 3}" for i in range(len(frame))]))), *TARGET_GROUP],
        "--positive-label",
    )
    cases["single group"] = (
        [str(write("grp.csv", frame.assign(group="A"))), *TARGET_GROUP],
        "single group",
    )
    cases["target is sensitive"] = (
        [str(good), "--target", "label", "--sensitive", "label"],
        "also a sensitive",
    )
    cases["all NaN target"] = (
        [str(write("nan.csv", frame.assign(label=None))), *TARGET_GROUP],
        "entirely missing",
    )
    cases["too few rows"] = (
        [str(write("few.csv", frame.head(12))), "--target", "label", "--sensitive", "group"],
        "too few rows",
    )
    cases["reserved column"] = (
        [str(write("reserved.csv", frame.assign(_fl_group="x"))), *TARGET_GROUP],
        "column '_fl_group' starts with '_fl_'",
    )
    blocker = write("blocker", "a file")
    cases["unwritable output"] = (
        [str(good), "--target", "label", "--sensitive", "group", "--out", str(blocker / "sub")],
        "output",
    )
    cases["unknown strategy"] = (
        [str(good), "--target", "label", "--sensitive", "group", "--strategies", "magic"],
        "unknown strategy",
    )
    return cases


def test_every_bad_input_gets_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cases = _bad_inputs(tmp_path)
    before = set(tmp_path.rglob("*"))
    for name, (args, message) in cases.items():
        result = runner.invoke(
            app,
            ["audit", *args, "--out", str(tmp_path / "out")]
            if "--out" not in args
            else ["audit", *args],
        )
        assert result.exit_code == 2, (name, result.output)
        lines = [line for line in result.output.strip().splitlines() if line.strip()]
        assert len(lines) == 1, (name, result.output)
        assert lines[0].startswith("error: "), (name, lines)
        assert message in lines[0], (name, lines[0])
        assert "Traceback" not in result.output
    assert set(tmp_path.rglob("*")) == before, "an error wrote files"


def test_messy_real_data_audits_with_notices(tmp_path):
    """A 400-level text column, an id, free text, dates, inf and an empty column: all audit."""
    from tests.data.test_clean import messy_frame

    frame = messy_frame(1500)
    rng = np.random.default_rng(4)
    frame["product"] = [f"item-{i}" for i in rng.integers(0, 400, len(frame))]
    frame["hours"] = frame["hours"].where(rng.random(len(frame)) > 0.02, np.inf)
    frame.loc[:39, "group"] = None
    path = tmp_path / "messy.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    result = run_audit(path, out, "--n-boot", "0", "--classifiers", "logreg", "--max-categories", "30")
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    schema = metrics["schema"]
    assert schema["pooled"]["product"]["kept"] == 30
    assert {"customer_id", "ref", "comment", "nothing"} <= set(schema["dropped"])
    assert schema["converted"]["signup"] == "datetime"
    assert "(missing)" in {g["group"] for g in metrics["data"]["groups"]}
    notices = " ".join(schema["notices"])
    for text in ("'product' has", "'hours' holds", "infinite", "'signup' holds dates", "free text"):
        assert text in notices, text
    html = (out / "report.html").read_text()
    assert "pooled the other" in html and "infinite value" in html


def test_help_is_fast_and_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "audit" in result.output


@pytest.mark.slow
def test_full_audit_with_every_strategy(tmp_path, biased_csv):
    """Every strategy end to end with few epochs: report sections and metrics.json carry the VAE/GAN parts."""
    out = tmp_path / "all"
    result = run_audit(
        biased_csv, out, "--strategies", "none,reweigh,vae,gan,vae+gan", "--classifiers", "logreg",
        "--epochs", "2", "--device", "cpu", "--n-boot", "20",
    )
    assert result.exit_code == 0, result.output
    page = parse(out / "report.html")
    assert SECTIONS | {"representation", "synthesis"} <= page.ids
    metrics = json.loads((out / "metrics.json").read_text())
    assert {r["strategy"] for r in metrics["results"]} == {"none", "reweigh", "vae", "gan", "vae+gan"}
    rep = metrics["representation"]
    assert {"map", "rare_groups", "error_by_decile", "rare_regions", "reconstruction", "training"} <= set(rep)
    assert set(metrics["synthesis"]) == {"gan", "vae+gan"}
    assert 0.0 <= metrics["synthesis"]["gan"]["generator"]["detection"]["auc"] <= 1.0
    assert metrics["strategies"]["gan"]["synthetic_rows"][0] > 0
    assert metrics["strategies"]["vae"]["diagnostics"]
    assert metrics["frontier"]["logreg"]["feasible"]


def test_fail_on_established_exits_3_after_writing(tmp_path):
    biased_csv = tmp_path / "big.csv"
    make_biased_frame(2500, seed=1).to_csv(biased_csv, index=False)
    out = tmp_path / "gate"
    gated = run_audit(biased_csv, out, "--strategies", "none", "--classifiers", "logreg",
                      "--n-boot", "50", "--min-test-support", "5", "--no-tune",
                      "--fail-on", "established")
    metrics = json.loads((out / "metrics.json").read_text())
    established = [f for f in metrics["findings"]
                   if f["strategy"] == "none" and f["state"] == "established"]
    assert established, "the biased frame should show an established gap"
    assert gated.exit_code == 3, gated.output
    assert "--fail-on established" in gated.output
    for row in metrics["findings"]:
        assert {"classifier", "strategy", "group", "reference", "metric", "difference", "low",
                "high", "ratio", "ratio_low", "ratio_high", "state", "support"} <= set(row)
    never = run_audit(biased_csv, tmp_path / "never", "--strategies", "none", "--classifiers",
                      "logreg", "--n-boot", "0", "--min-test-support", "5", "--no-tune", "--quiet")
    assert never.exit_code == 0, never.output


def test_fail_on_rejects_other_values_in_one_line(tmp_path, biased_csv):
    result = run_audit(biased_csv, tmp_path / "x", "--fail-on", "sometimes")
    assert result.exit_code == 2
    assert "--fail-on must be one of never, established" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x").exists()
