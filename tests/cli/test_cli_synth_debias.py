"""End-to-end tests of the synth and debias commands."""

import pandas as pd
import pytest
from typer.testing import CliRunner

from fairlatent.cli import app
from tests.conftest import TARGET_GROUP

runner = CliRunner()
pytestmark = pytest.mark.slow


def test_synth_with_condition_save_and_reuse(tmp_path, biased_csv):
    out, model = tmp_path / "s.csv", tmp_path / "gan"
    result = runner.invoke(
        app,
        [
            "synth",
            str(biased_csv),
            "--rows",
            "40",
            "--out",
            str(out),
            "--epochs",
            "2",
            "--condition",
            "group=B",
            "--condition",
            "label=yes",
            "--save-model",
            str(model),
            "--device",
            "cpu",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out)
    real = pd.read_csv(biased_csv)
    assert len(rows) == 40 and list(rows.columns) == list(real.columns)
    assert (rows["group"] == "B").all() and (rows["label"] == "yes").all()
    assert set(rows["job"]) <= set(real["job"])
    assert rows["age"].between(real["age"].min(), real["age"].max()).all()
    again = tmp_path / "s2.csv"
    result = runner.invoke(
        app,
        [
            "synth",
            "--model",
            str(model),
            "--rows",
            "10",
            "--out",
            str(again),
            "--condition",
            "job=manager",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (pd.read_csv(again)["job"] == "manager").all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--condition", "sex=F"], "condition column 'sex' not found"),
        (["--condition", "group=Z"], "never occurs"),
        (["--condition", "age=40"], "is numeric"),
        (["--condition", "group"], "COLUMN=VALUE"),
        (["--rows", "0"], "at least 1"),
    ],
)
def test_synth_bad_options_fail_before_training(tmp_path, biased_csv, args, message):
    out = tmp_path / "s.csv"
    result = runner.invoke(app, ["synth", str(biased_csv), "--out", str(out), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()


def debias(csv, strategy: str, out, *extra: str):
    """Run ``fairlatent debias`` on the biased frame (target label, sensitive group)."""
    args = ["debias", str(csv), *TARGET_GROUP, "--strategy", strategy, "--out", str(out)]
    return runner.invoke(app, [*args, *extra])


def test_debias_gan_writes_flagged_rows_and_reuses_model(tmp_path, biased_csv):
    out, model = tmp_path / "d.csv", tmp_path / "gan"
    result = debias(  # untuned: the default strength balances every cell to the overall rate
        biased_csv, "gan", out, "--epochs", "2", "--save-model", str(model), "--device", "cpu",
        "--no-tune",
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert frame["is_synthetic"].sum() > 0
    assert set(frame["label"]) == {"yes", "no"}
    rates = frame.groupby("group")["label"].apply(lambda s: (s == "yes").mean())
    assert abs(rates["A"] - rates["B"]) < 0.02
    again = tmp_path / "d2.csv"
    result = debias(biased_csv, "gan", again, "--model", str(model), "--no-tune", "-q")
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(again)) == len(frame)


def test_debias_reweigh_adds_weights_and_rejects_model(tmp_path, biased_csv):
    out = tmp_path / "d.csv"
    result = debias(biased_csv, "reweigh", out, "--no-tune", "-q")
    assert result.exit_code == 0, result.output
    assert "sample_weight" in pd.read_csv(out).columns
    result = debias(biased_csv, "reweigh", out, "--model", str(tmp_path))
    assert result.exit_code == 2 and "--model" in result.output


def test_debias_auto_lets_validation_choose_and_says_what(tmp_path, biased_csv):
    out = tmp_path / "auto.csv"
    result = runner.invoke(
        app,
        ["debias", str(biased_csv), *TARGET_GROUP, "--strategy", "auto", "--classifier", "logreg",
         "--epochs", "2", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    line = result.output.strip().splitlines()[-1]
    assert "strategy" in line and "strength" in line
    frame = pd.read_csv(out)
    real = pd.read_csv(biased_csv)
    assert set(frame["label"]) == set(real["label"])
    chosen = line.split("strategy ")[1].split(" at strength")[0]
    from fairlatent.strategies import STRATEGIES

    assert chosen == "none" or chosen in [spec.name for spec in STRATEGIES if spec.debias]
    if chosen == "reweigh":
        assert "sample_weight" in frame.columns


def test_debias_rejects_a_strength_the_grid_lacks(tmp_path, biased_csv):
    result = runner.invoke(
        app,
        ["debias", str(biased_csv), *TARGET_GROUP, "--strategy", "reweigh", "--strength", "7",
         "--out", str(tmp_path / "x.csv")],
    )
    assert result.exit_code == 2
    assert "has no strength '7'" in result.output
    assert not (tmp_path / "x.csv").exists()
