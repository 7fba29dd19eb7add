"""The latent audit end to end: on by default, ``--no-latent-audit`` skips it, contract keys."""

import json

import numpy as np

from tests.conftest import make_biased_frame, run_audit

SLICE_KEYS = {"classifier", "strategy", "conditions", "size", "metric", "value", "rest_value",
              "low", "high", "state"}
FLIP_KEYS = {"classifier", "strategy", "group", "flip_rate", "low", "high", "n"}


def test_latent_audit_runs_by_default_and_is_escaped(tmp_path):
    frame = make_biased_frame(900, seed=2)
    frame["job"] = np.where(frame["job"] == "manager", "<b>boss</b>", frame["job"])
    csv = tmp_path / "data.csv"
    frame.to_csv(csv, index=False)
    out = tmp_path / "out"
    result = run_audit(csv, out, "--n-boot", "30", "--epochs", "3")
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert isinstance(metrics["slices"], list) and isinstance(metrics["counterfactual"], list)
    for entry in metrics["slices"]:
        assert set(entry) >= SLICE_KEYS
        assert entry["state"] in {"certified", "not_certified"}
        assert entry["metric"] == "error_rate"
        for condition in entry["conditions"]:
            assert set(condition) == {"column", "op", "value"}
            assert condition["op"] in {"==", "!=", "<=", ">", "in"}
    models = {(r["strategy"], r["classifier"]) for r in metrics["results"]}
    groups = {g["group"] for g in metrics["data"]["groups"]}
    seen = {(e["strategy"], e["classifier"], e["group"]) for e in metrics["counterfactual"]}
    assert seen == {(s, c, g) for s, c in models for g in groups}
    for entry in metrics["counterfactual"]:
        assert set(entry) >= FLIP_KEYS
        assert 0.0 <= entry["flip_rate"] <= 1.0
    family = metrics["latent"]["slice_family"]
    assert family["n_tested"] == sum(e["low"] is not None for e in metrics["slices"])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="latent"' in html and "Where the model fails" in html
    assert "<b>boss</b>" not in html


def test_no_latent_audit_skips_it(tmp_path, biased_csv):
    out = tmp_path / "out"
    result = run_audit(biased_csv, out, "--n-boot", "0", "--no-latent-audit")
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["slices"] is None and metrics["counterfactual"] is None
    assert metrics["config"]["latent_audit"] is False
    assert "--no-latent-audit" in metrics["command"]
    assert 'id="latent"' not in (out / "report.html").read_text(encoding="utf-8")
