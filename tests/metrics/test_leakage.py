"""Leakage probes: how well the group is recovered from a training set, in the audit and its JSON."""

from __future__ import annotations

import numpy as np
import pandas as pd

import fairlatent
from fairlatent.metrics.leakage import leakage_probe
from fairlatent.report.json_writer import result_to_json
from fairlatent.report.sections import render_sections
from tests.conftest import make_biased_frame


def test_probe_sees_a_proxy_and_not_noise():
    rng = np.random.default_rng(0)
    groups = rng.choice(["a", "b"], 900)
    frame = pd.DataFrame({"proxy": (groups == "a") + rng.normal(0, 0.7, 900),
                          "noise": rng.normal(size=900), "cat": rng.choice(["x", "y"], 900)})
    strong = leakage_probe(frame, numeric=["proxy", "noise"], categorical=["cat"], groups=groups)
    blind = leakage_probe(frame, numeric=["noise"], categorical=["cat"], groups=groups)
    for entry in strong:
        assert entry["auc"] > 0.7 and entry["low"] <= entry["auc"] <= entry["high"]
    for entry in blind:
        assert abs(entry["auc"] - 0.5) < 0.08
    assert [e["probe"] for e in strong] == ["linear", "boosting"]


def test_several_groups_use_macro_one_vs_rest_and_subsample():
    rng = np.random.default_rng(1)
    groups = rng.choice(["a", "b", "c"], 5000)
    frame = pd.DataFrame({"proxy": (groups == "a") * 1.0 - (groups == "c") * 1.0
                          + rng.normal(0, 0.8, 5000)})
    out = leakage_probe(frame, numeric=["proxy"], categorical=[], groups=groups, n_boot=20,
                        max_rows=1500)
    assert all(e["n"] == 1500 and e["groups"] == 3 for e in out)
    assert all(e["auc"] > 0.65 for e in out)


def test_weights_that_balance_the_group_given_the_label_lower_leakage():
    rng = np.random.default_rng(2)
    n = 3000
    groups = rng.choice(["a", "b"], n)
    label = (rng.random(n) < np.where(groups == "a", 0.7, 0.2)).astype(int)
    frame = pd.DataFrame({"feature": label + rng.normal(0, 0.3, n)})
    plain = leakage_probe(frame, numeric=["feature"], categorical=[], groups=groups, n_boot=0)
    cell = pd.Series(groups).astype(str) + pd.Series(label).astype(str)
    p_g = pd.Series(groups).map(pd.Series(groups).value_counts(normalize=True))
    p_y = pd.Series(label).map(pd.Series(label).value_counts(normalize=True))
    weights = (p_g * p_y / cell.map(cell.value_counts(normalize=True))).to_numpy()
    weighted = leakage_probe(frame, numeric=["feature"], categorical=[], groups=groups,
                             sample_weight=weights, n_boot=0)
    assert weighted[0]["auc"] < plain[0]["auc"] - 0.1


def test_audit_writes_leakage_per_strategy_and_a_report_section():
    result = fairlatent.audit(make_biased_frame(700), target="label", sensitive="group",
                              positive_label="yes", strategies=["none", "reweigh"],
                              classifiers=["logreg"], n_boot=0)
    doc = result_to_json(result)
    entries = doc["leakage"]
    assert {e["strategy"] for e in entries} == {"none", "reweigh"}
    for entry in entries:
        assert {"strategy", "probe", "auc", "low", "high", "n"} <= set(entry)
    titles = [s["title"] for s in render_sections(result)]
    assert "Group leakage of the training sets" in titles
