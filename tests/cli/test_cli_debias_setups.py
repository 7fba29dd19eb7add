"""debias tuned for the user's setups: the sidecar, the printed setup, and bad setups."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from fairlatent.cli import app
from tests.conftest import make_biased_frame


def _csv(tmp_path):
    path = tmp_path / "data.csv"
    make_biased_frame(800).to_csv(path, index=False)
    return path


def test_sidecar_names_the_setup_strategy_and_leakage(tmp_path):
    data = _csv(tmp_path)
    out = tmp_path / "out" / "train.csv"
    result = CliRunner().invoke(app, [
        "debias", str(data), "--target", "label", "--sensitive", "group",
        "--positive-label", "yes", "--strategy", "reweigh", "--classifier", "logreg",
        "--include-sensitive", "--out", str(out),
    ])
    assert result.exit_code == 0, result.output
    assert "tuned for your setup: logreg, sensitive column used" in result.output
    side = json.loads((tmp_path / "out" / "train.csv.json").read_text())
    assert side["setups"] == ["logreg, sensitive column used"]
    assert side["strategy"] in {"reweigh", "none"}
    assert {v["setup"] for v in side["validation"]} == {"logreg, sensitive column used"}
    probes = {(e["rows"], e["probe"]) for e in side["leakage"]}
    assert ("written", "linear") in probes and ("written", "boosting") in probes
    for entry in side["leakage"]:
        assert entry["auc"] is None or entry["low"] <= entry["auc"] <= entry["high"]
    assert side["rows"] == len(pd.read_csv(out))
    assert {o["strategy"] for o in side["tuning"]} == {"none", "reweigh"}


def test_default_family_is_both_setups_of_every_classifier(tmp_path):
    data = _csv(tmp_path)
    out = tmp_path / "train.csv"
    result = CliRunner().invoke(app, [
        "debias", str(data), "--target", "label", "--sensitive", "group",
        "--positive-label", "yes", "--strategy", "reweigh", "--classifier", "logreg,hgb",
        "--out", str(out),
    ])
    assert result.exit_code == 0, result.output
    side = json.loads((tmp_path / "train.csv.json").read_text())
    assert len(side["setups"]) == 4
    assert all(len(o["setups"]) == 4 for o in side["tuning"])


def test_unknown_classifier_is_one_line_and_exit_2(tmp_path):
    data = _csv(tmp_path)
    out = tmp_path / "x.csv"
    result = CliRunner().invoke(app, [
        "debias", str(data), "--target", "label", "--sensitive", "group",
        "--classifier", "svm", "--out", str(out),
    ])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "unknown classifier 'svm'" in lines[0]
    assert not out.exists() and not (tmp_path / "x.csv.json").exists()


def test_setup_contradicting_the_config_is_one_line_and_exit_2(tmp_path):
    data = _csv(tmp_path)
    config = tmp_path / "audit.toml"
    config.write_text('[audit]\ntarget = "label"\nsensitive = ["group"]\n'
                      'include_sensitive = true\nclassifiers = ["logreg"]\n')
    out = tmp_path / "x.csv"
    for flags, key in ((["--exclude-sensitive"], "include_sensitive"),
                       (["--classifier", "hgb"], "classifiers")):
        result = CliRunner().invoke(app, ["debias", str(data), "--config", str(config),
                                          *flags, "--out", str(out)])
        assert result.exit_code == 2, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and "contradicts the config file" in lines[0] and key in lines[0]
        assert not out.exists()
