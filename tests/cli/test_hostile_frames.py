"""Property: on any small hostile frame the audit succeeds with a consistent metrics.json, or
exits 2 with one line -- never a traceback, a half-written output or a raw control character.

Hypothesis builds frames with degenerate labels per group, missing-value look-alikes (``NA``,
``None``, ``?``), extreme floats (``inf``, ``±1e308``, subnormals), odd column and group names
(commas, escapes, padding, audit-like labels) and thin groups, writes them as CSV and runs
``fairlatent audit`` on them with cheap settings.

The normal test run tries a bounded, seeded (derandomised) set of examples. The long mode is
``make fuzz``: ``FAIRLATENT_FUZZ_EXAMPLES=N pytest -m fuzz`` runs the same property on N
examples (and ``FAIRLATENT_FUZZ_REPORT=FILE`` writes a count of the outcomes as JSON).
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fairlatent.cli import app

runner = CliRunner()

#: Examples in the normal test run (kept small: each example is one audit).
BOUNDED_EXAMPLES = 8
#: The long mode's example count (``make fuzz`` sets it).
FUZZ_EXAMPLES = int(os.environ.get("FAIRLATENT_FUZZ_EXAMPLES", "0") or 0)
STRATEGIES = "none,reweigh,threshold,goal"
CHEAP = ("--strategies", STRATEGIES, "--classifiers", "logreg", "--repeats", "1", "--n-boot", "0",
         "--no-tune", "--epochs", "1", "--device", "cpu", "--min-group-size", "5")

GROUP_NAMES = ["A", "B", "NA", "None", " padded ", "A ", "\x1b[2J", "(small groups)", "(missing)",
               "1", "1.0", "race, x", "ünï", "?", "", "\u202egroup"]
TEXT_VALUES = ["NA", "None", "?", "", "null", " x ", "x", "y", "5,49", "\x1b]0;t\x07", "n/a"]
COLUMN_NAMES = ["f", "race, ethnicity", " spaced ", "0", "ünï", "\x1b[31mred", "a:b", "id"]
EXTREMES = [math.inf, -math.inf, math.nan, 1e308, -1e308, 5e-324, 0.0, 1e15]
LABEL_MODES = ["mixed", "mixed", "all favourable", "all unfavourable", "one favourable"]

OUTCOMES: Counter[str] = Counter()


@st.composite
def hostile_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, str]:
    """A small frame and the name of its sensitive column."""
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    names = draw(st.lists(st.sampled_from(GROUP_NAMES), min_size=2, max_size=5, unique=True))
    sizes = [draw(st.integers(1, 8)) if draw(st.integers(0, 2)) == 0 else draw(st.integers(20, 80))
             for _ in names]
    group = np.concatenate([[name] * size for name, size in zip(names, sizes, strict=True)])
    labels = []
    for size in sizes:
        mode = draw(st.sampled_from(LABEL_MODES))
        part = rng.random(size) < 0.4
        if mode == "all favourable":
            part[:] = True
        elif mode == "all unfavourable":
            part[:] = False
        elif mode == "one favourable":
            part[:] = False
            part[0] = True
        labels.append(part)
    label = np.concatenate(labels)
    n = len(group)
    numeric = rng.normal(label * 1.0, 1.0, n)
    share = draw(st.sampled_from([0.0, 0.05, 0.5, 1.0]))
    extreme = draw(st.sampled_from(EXTREMES))
    numeric[rng.random(n) < share] = extreme
    text = rng.choice(draw(st.lists(st.sampled_from(TEXT_VALUES), min_size=1, max_size=4)), n)
    feature_names = draw(st.lists(st.sampled_from(COLUMN_NAMES), min_size=2, max_size=2, unique=True))
    sensitive = draw(st.sampled_from(["group", "race, ethnicity", " odd name "]))
    if sensitive in feature_names:
        sensitive = "group"
    frame = pd.DataFrame({
        feature_names[0]: numeric,
        feature_names[1]: text,
        "other": rng.integers(0, 5, n),
        sensitive: group,
        "label": np.where(label, "yes", "no"),
    })
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True), sensitive


def check_audit(tmp_path: Path, frame: pd.DataFrame, sensitive: str) -> str:
    """Run the audit; assert the property; return the outcome (``ok`` or the error's start)."""
    csv = tmp_path / "hostile.csv"
    frame.to_csv(csv, index=False)
    out = tmp_path / "out"
    spec = f'"{sensitive.strip()}"' if "," in sensitive else sensitive.strip()
    result = runner.invoke(
        app, ["audit", str(csv), "--target", "label", "--sensitive", spec, "--out", str(out), *CHEAP]
    )
    text = result.output
    assert "Traceback" not in text, text
    assert not any(ord(c) < 0x20 and c not in "\n" for c in text), repr(text)
    if result.exit_code == 2:
        lines = [line for line in text.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), text
        assert not out.exists() or not any(out.iterdir()), "an error left outputs behind"
        return "exit 2: " + " ".join(lines[0].split()[1:6])
    assert result.exit_code == 0, (result.exit_code, text, result.exception)
    check_metrics(json.loads((out / "metrics.json").read_text()))
    assert (out / "report.html").stat().st_size > 0
    return "ok"


def check_metrics(metrics: dict) -> None:
    """metrics.json agrees with itself: rows, groups, results of every strategy, rates in range."""
    data = metrics["data"]
    assert sum(g["rows"] for g in data["groups"]) == data["rows"]
    assert data["train_rows"] + data["test_rows"] == data["rows"]
    expected = {(s, "logreg") for s in STRATEGIES.split(",")}
    assert {(r["strategy"], r["classifier"]) for r in metrics["results"]} == expected
    assert {(r["strategy"], r["classifier"]) for r in metrics["summary"]} == expected
    for row in metrics["results"]:
        assert sum(g["count"] for g in row["by_group"].values()) == data["test_rows"]
        for key in ("accuracy", "selection_rate"):
            assert 0.0 <= row["summary"][key] <= 1.0, (key, row["summary"][key])
        for group in row["by_group"].values():
            assert 0.0 <= group["selection_rate"] <= 1.0


def record(outcome: str) -> None:
    OUTCOMES["ok" if outcome == "ok" else "exit 2"] += 1
    if outcome != "ok":
        OUTCOMES[outcome] += 1
    report = os.environ.get("FAIRLATENT_FUZZ_REPORT")
    if report:
        Path(report).write_text(json.dumps(dict(OUTCOMES), indent=1, ensure_ascii=True))


HYPOTHESIS = {
    "derandomize": True,
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                              HealthCheck.data_too_large],
}


@settings(max_examples=BOUNDED_EXAMPLES, **HYPOTHESIS)
@given(case=hostile_frames())
def test_hostile_frames_audit_or_exit_2_with_one_line(tmp_path_factory, case):
    frame, sensitive = case
    record(check_audit(tmp_path_factory.mktemp("fuzz"), frame, sensitive))


@pytest.mark.fuzz
@pytest.mark.skipif(not FUZZ_EXAMPLES, reason="long mode: set FAIRLATENT_FUZZ_EXAMPLES (make fuzz)")
@settings(max_examples=max(FUZZ_EXAMPLES, 1), **HYPOTHESIS)
@given(case=hostile_frames())
def test_hostile_frames_long_mode(tmp_path_factory, case):
    frame, sensitive = case
    record(check_audit(tmp_path_factory.mktemp("fuzz"), frame, sensitive))
