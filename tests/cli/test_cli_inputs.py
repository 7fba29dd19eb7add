"""Every bad input of audit, synth and debias: exit code 2, one line, no traceback, nothing written.

Also the inputs that used to fail and now work (inf in a feature), and the terminal behaviour:
help texts, --version, --quiet, warnings collected into notices, the epoch progress line.
"""

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fairlatent.cli import app
from tests.conftest import TARGET_GROUP, make_biased_frame, run_audit

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def files_under(path):
    return set(path.rglob("*"))


def assert_one_line_error(result, message):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: "), lines
    assert message in lines[0], lines[0]
    assert "Traceback" not in result.output


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "data.csv"
    make_biased_frame(400).to_csv(path, index=False)
    return path


def invoke_expecting_error(tmp_path, args, message):
    before = files_under(tmp_path)
    result = runner.invoke(app, args)
    assert_one_line_error(result, message)
    assert files_under(tmp_path) == before, "an error wrote files"
    return result


SEED_MESSAGE = "is out of range: seeds must be whole numbers from 0 to 4294967295"


@pytest.mark.parametrize("seed", ["-1", "99999999999"])
@pytest.mark.parametrize("command", ["audit", "synth", "debias"])
def test_seeds_outside_numpy_and_torch_range(tmp_path, monkeypatch, csv, command, seed):
    monkeypatch.chdir(tmp_path)
    args = {
        "audit": ["audit", str(csv), *TARGET_GROUP, "--out", str(tmp_path / "out")],
        "synth": ["synth", str(csv), "--out", str(tmp_path / "s.csv")],
        "debias": ["debias", str(csv), *TARGET_GROUP, "--out", str(tmp_path / "d.csv")],
    }[command]
    invoke_expecting_error(tmp_path, [*args, "--seed", seed], f"--seed {seed} {SEED_MESSAGE}")


CONFIG_CASES = {
    "repeats text": (
        'repeats = "three"',
        'repeats = "three" has the wrong type: expected a whole number, found text; '
        "write it like repeats = 1",
    ),
    "test size text": (
        'test_size = "0.3"',
        'test_size = "0.3" has the wrong type: expected a number, found text',
    ),
    "repeats fraction": (
        "repeats = 1.5",
        "repeats = 1.5 has the wrong type: expected a whole number, found a number with a fraction",
    ),
    "sensitive number": (
        "sensitive = 5",
        "sensitive = 5 has the wrong type: expected a list of text",
    ),
    "options number": (
        "strategy_options = 5",
        "strategy_options = 5 has the wrong type: expected a table per strategy",
    ),
    "options unknown strategy": (
        "[audit.strategy_options.nonexistent]\nalpha = 1",
        "[audit.strategy_options.nonexistent] names no strategy: choose from none, reweigh",
    ),
    "options unknown name": (
        "[audit.strategy_options.vae]\nalphaa = 0.1",
        "unknown option 'alphaa' in [audit.strategy_options.vae]: strategy 'vae' takes the "
        "options alpha,",
    ),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_config_values_of_the_wrong_type(tmp_path, monkeypatch, csv, case):
    monkeypatch.chdir(tmp_path)
    toml, message = CONFIG_CASES[case]
    config = tmp_path / "audit.toml"
    head = '[audit]\ntarget = "label"\n' + ("" if toml.startswith("sensitive") else 'sensitive = "group"\n')
    config.write_text(head + toml + "\n")
    invoke_expecting_error(
        tmp_path, ["audit", str(csv), "--config", str(config), "--out", str(tmp_path / "o")], message
    )


def test_config_naming_a_directory(tmp_path, monkeypatch, csv):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf").mkdir()
    invoke_expecting_error(
        tmp_path,
        ["audit", str(csv), "--config", str(tmp_path / "conf"), "--out", str(tmp_path / "o")],
        "config path " + str(tmp_path / "conf") + " is a directory; pass --config FILE.toml",
    )


def test_synth_repeated_condition_on_one_column(tmp_path, csv):
    invoke_expecting_error(
        tmp_path,
        ["synth", str(csv), "--out", str(tmp_path / "s.csv"), "--condition", "group=A",
         "--condition", "group=B"],
        "--condition names column 'group' twice ('A' and 'B')",
    )


def test_synth_impossible_combination_is_refused_before_training(tmp_path):
    frame = make_biased_frame(400)
    frame.loc[(frame["group"] == "B") & (frame["job"] == "manager"), "job"] = "clerk"
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    invoke_expecting_error(
        tmp_path,
        ["synth", str(path), "--out", str(tmp_path / "s.csv"), "--condition", "group=B",
         "--condition", "job=manager"],
        "no row of the data has group=B and job=manager together",
    )


@pytest.mark.parametrize(
    ("column", "purpose"),
    [("is_synthetic", "flag the generated rows"), ("sample_weight", "hold the rows' weights")],
)
def test_debias_refuses_to_overwrite_its_own_columns(tmp_path, column, purpose):
    path = tmp_path / "data.csv"
    make_biased_frame(400).assign(**{column: 1}).to_csv(path, index=False)
    invoke_expecting_error(
        tmp_path,
        ["debias", str(path), *TARGET_GROUP, "--strategy", "reweigh", "--out", str(tmp_path / "d.csv")],
        f"the data already has a column {column!r}, which debias adds to {purpose}; yours would be "
        f"overwritten: rename it, or leave it out with --drop {column}",
    )
    result = runner.invoke(
        app,
        ["debias", str(path), *TARGET_GROUP, "--strategy", "reweigh", "--out",
         str(tmp_path / "d.csv"), "--drop", column, "-q"],
    )
    assert result.exit_code == 0, result.output


def test_user_column_named_like_an_internal_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "data.csv"
    make_biased_frame(400).assign(_fl_group="mine").to_csv(path, index=False)
    invoke_expecting_error(
        tmp_path,
        ["audit", str(path), *TARGET_GROUP, "--out", str(tmp_path / "o")],
        "column '_fl_group' starts with '_fl_', which fairlatent reserves",
    )


def test_inf_in_a_numeric_feature_audits_with_a_notice(tmp_path):
    frame = make_biased_frame(500)
    frame.loc[::25, "hours"] = np.inf
    frame.loc[3, "score"] = -np.inf
    path = tmp_path / "inf.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    result = run_audit(path, out, "--n-boot", "0", "--classifiers", "logreg")
    assert result.exit_code == 0, result.output
    notices = json.loads((out / "metrics.json").read_text())["schema"]["notices"]
    assert "column 'hours' holds 20 infinite value(s) (inf/-inf): treated as missing" in notices
    assert "column 'score' holds 1 infinite value(s) (inf/-inf): treated as missing" in notices
    assert "infinite value(s)" in result.output  # the terminal summary lists the notices too


def test_quiet_prints_nothing_and_warnings_become_notices(tmp_path, biased_csv, monkeypatch):
    """numpy/library warnings and log warnings go to the report's notices, never the terminal."""
    import logging

    import fairlatent.api

    real = fairlatent.api.load_and_audit

    def noisy(*args, **kwargs):
        np.mean(np.array([]))  # RuntimeWarning: Mean of empty slice
        np.mean(np.array([]))
        logging.getLogger("fairlatent.engine").warning("something odd happened")
        return real(*args, **kwargs)

    monkeypatch.setattr(fairlatent.api, "load_and_audit", noisy)
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the CLI must collect them, whatever the filters say
        result = run_audit(biased_csv, out, "--n-boot", "0", "--classifiers", "logreg", "-q")
    assert result.exit_code == 0, result.output
    assert result.output == ""
    notices = json.loads((out / "metrics.json").read_text())["schema"]["notices"]
    empty = [n for n in notices if "RuntimeWarning: Mean of empty slice" in n]
    assert len(empty) == 1  # once, however often it was raised
    assert any("fairlatent.engine: something odd happened" in n for n in notices)
    assert "Mean of empty slice" in (out / "report.html").read_text()
    loud = run_audit(biased_csv, tmp_path / "loud", "--n-boot", "0", "--classifiers", "logreg")
    assert "RuntimeWarning" in loud.output and "warnings.warn" not in loud.output


def test_help_shows_defaults_requirements_version_and_completion():
    text = runner.invoke(app, ["audit", "--help"], env={"COLUMNS": "200"}).output
    for expected in (
        "[default: none,reweigh]",
        "[default: logreg,hgb]",
        "[default: 0.3]",
        "[default: 200]",
        "[default: 100]",
        "[required unless --config sets it]",
    ):
        assert expected in text, expected
    assert text.count("[required unless --config sets it]") == 2
    synth = runner.invoke(app, ["synth", "--help"], env={"COLUMNS": "200"}).output
    assert "[default: 1000]" in synth and "[default: the GAN's own, 300]" in synth
    debias = runner.invoke(app, ["debias", "--help"], env={"COLUMNS": "200"}).output
    assert "[default: auto]" in debias and "[required]" in debias
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.output.startswith("fairlatent ")
    root = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    assert "--install-completion" in root


def test_epoch_progress_line_shows_model_epoch_loss_and_eta():
    from fairlatent.cli import _Progress

    shown = _Progress(quiet=True)
    shown.epoch(1, 300, {"generator_loss": 1.5, "critic_loss": -0.2})
    shown.epoch(2, 300, {"generator_loss": 1.25, "critic_loss": -0.1})
    task = shown.bar.tasks[shown.fits]
    assert task.description == "GAN epoch 2/300" and task.fields["info"] == "loss 1.25"
    assert task.total == 300 and task.completed == 2 and task.visible
    shown.epoch(1, 50, {"train_loss": 0.75})  # a new fit restarts the line
    task = shown.bar.tasks[shown.fits]
    assert task.description == "VAE epoch 1/50" and task.total == 50 and task.completed == 1
    from rich.progress import TimeRemainingColumn

    assert any(isinstance(c, TimeRemainingColumn) for c in shown.bar.columns)


def test_synth_reports_progress_and_low_acceptance(tmp_path, monkeypatch):
    """The epoch callback reaches the GAN fit; a rarely satisfied condition is a loud warning."""
    from fairlatent import commands

    class StubGAN:
        def __init__(self, **kwargs):
            self.calls = []

        def set_params(self, **kwargs):
            return self

        def fit(self, frame, callbacks=None):
            self.columns = list(frame.columns)
            for epoch in (1, 2):
                for callback in callbacks or []:
                    callback(epoch, 2, {"generator_loss": 0.5})
            return self

        def sample(self, n, condition=None, random_state=None):
            self.calls.append((n, random_state))
            self.last_sample_stats_ = {"generated": 100 * n, "accepted": n}
            return pd.DataFrame({c: ["B"] * n for c in self.columns})

    stub = StubGAN()

    class Factory:  # stands in for the TabularGAN class: construct and load give the stub
        def __call__(self, **kwargs):
            return stub

        def load(self, *args, **kwargs):
            return stub

    monkeypatch.setattr("fairlatent.models.gan.TabularGAN", Factory())
    monkeypatch.setattr(commands, "SYNTH_BATCH_ROWS", 7)
    frame = make_biased_frame(200)[["group", "job"]]
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    epochs, rows, notices = [], [], []
    out = commands.synthesise(
        path, rows=30, out=tmp_path / "s.csv", conditions=["group=B"], progress=lambda *a: epochs.append(a[0]),
        on_rows=lambda done, total: rows.append(done), notices=notices,
    )
    assert epochs == [1, 2] and rows == [7, 14, 21, 28, 30]
    assert [n for n, _ in stub.calls] == [7, 7, 7, 7, 2]
    assert stub.calls[0][1] == 0 and len({s for _, s in stub.calls}) == 5  # seed, then derived
    written = pd.read_csv(out)
    assert len(written) == 30 and list(written.columns) == ["group", "job"]
    assert any(n.startswith("WARNING: only 1.00% of generated rows satisfied group=B") for n in notices)
    # a saved GAN cannot say which values occur together: the run says so
    notices.clear()
    commands.synthesise(
        None, rows=5, out=tmp_path / "m.csv", model=tmp_path, conditions=["group=B", "job=clerk"],
        notices=notices,
    )
    assert any("could not be checked against its training data" in n for n in notices)


@pytest.fixture(scope="module")
def saved_gan(tmp_path_factory):
    """A small GAN fitted for one epoch and saved, for synth --model (cheap to sample from)."""
    from fairlatent.models.gan import TabularGAN

    folder = tmp_path_factory.mktemp("saved_gan")
    gan = TabularGAN(
        epochs=1, embedding_dim=16, generator_dims=(32,), critic_dims=(32,), device="cpu",
        random_state=0,
    )
    gan.fit(make_biased_frame())
    gan.save(folder / "gan")
    return folder / "gan"


@pytest.mark.slow
def test_synth_streams_any_number_of_rows(tmp_path, saved_gan):
    """1.4M rows used to fail ("only 1310720 satisfied the condition"): batches stream to the CSV."""
    out = tmp_path / "big.csv"
    result = runner.invoke(app, ["synth", "--model", str(saved_gan), "--rows", "1400000", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    with out.open() as handle:
        header = handle.readline()
        count = sum(1 for _ in handle)
    assert count == 1_400_000 and header.strip() == "age,hours,job,city,score,group,label"
    assert [p.name for p in tmp_path.iterdir()] == ["big.csv"]


@pytest.mark.slow
def test_debias_model_trained_on_other_columns(tmp_path, biased_csv):
    wide = tmp_path / "wide.csv"
    pd.read_csv(biased_csv).assign(extra=lambda f: f["age"] * 2 + 1).to_csv(wide, index=False)
    model = tmp_path / "gan"
    saved = runner.invoke(
        app,
        ["debias", str(wide), *TARGET_GROUP, "--strategy", "gan", "--epochs", "1", "--no-tune",
         "--save-model", str(model), "--out", str(tmp_path / "wide_out.csv"), "--device", "cpu", "-q"],
    )
    assert saved.exit_code == 0, saved.output
    invoke_expecting_error(
        tmp_path,
        ["debias", str(biased_csv), *TARGET_GROUP, "--strategy", "gan", "--model", str(model),
         "--out", str(tmp_path / "d.csv")],
        "was trained on other columns than debias gives it from this data (it learnt 'extra' "
        "which the data lacks)",
    )
    synth_model = tmp_path / "synth_gan"
    saved = runner.invoke(
        app,
        ["synth", str(biased_csv), "--epochs", "1", "--rows", "5", "--save-model", str(synth_model),
         "--out", str(tmp_path / "s.csv"), "--device", "cpu", "-q"],
    )
    assert saved.exit_code == 0, saved.output
    invoke_expecting_error(
        tmp_path,
        ["debias", str(biased_csv), *TARGET_GROUP, "--strategy", "gan", "--model", str(synth_model),
         "--out", str(tmp_path / "d.csv")],
        "it learnt no group x label cells, as GANs saved by synth do",
    )


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_synth_leaves_no_temporary_file(tmp_path, saved_gan, signum, code):
    """Ctrl-C or SIGTERM while rows stream out: one line, and no hidden .tmp file left behind."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "fairlatent.cli", "synth", "--model", str(saved_gan), "--rows",
         "50000000", "--out", str(out_dir / "big.csv")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A shell that starts the test run in the background (`pytest &`) ignores SIGINT for it,
        # and an ignored signal stays ignored across exec: give the CLI Python's usual Ctrl-C.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not any(p.suffix == ".tmp" for p in out_dir.iterdir()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "synth never started writing"
        time.sleep(0.2)
    time.sleep(0.5)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr
    lines = [line for line in (stdout + stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: interrupted"), lines
    assert list(out_dir.iterdir()) == []


# --- Hostile inputs, round two (issue 21) -------------------------------------------------------


def six_group_frame(seed=0):
    """Recidivism-like: three big groups, one of 40 rows all unfavourable, two of 12-18 rows."""
    rng = np.random.default_rng(seed)
    sizes = {"A": 360, "B": 260, "C": 140, "D": 40, "E": 18, "F": 12}
    rates = {"A": 0.5, "B": 0.35, "C": 0.45, "D": 0.0, "E": 0.6, "F": 0.95}
    group = np.concatenate([[g] * n for g, n in sizes.items()])
    label = rng.random(len(group)) < np.array([rates[g] for g in group])
    n = len(group)
    return pd.DataFrame({
        "age": rng.integers(18, 70, n) - 5 * label,
        "priors": rng.poisson(1 + 3 * label),
        "charge": np.where(rng.random(n) < 0.3 + 0.3 * label, "F", "M"),
        "race": group,
        "recid": np.where(label, "yes", "no"),
    })


def majority_rate(result_row):
    groups = result_row["by_group"].values()
    rows = sum(g["count"] for g in groups)
    favourable = sum(g["count"] * g["base_rate"] for g in groups) / rows
    return max(favourable, 1 - favourable)


def audit_six_groups(tmp_path, seed, strategies):
    csv = tmp_path / f"six_{seed}.csv"
    six_group_frame(seed).to_csv(csv, index=False)
    out = tmp_path / f"out_{seed}"
    result = runner.invoke(app, [
        "audit", str(csv), "--target", "recid", "--sensitive", "race", "--strategies", strategies,
        "--epochs", "2", "--repeats", "1", "--n-boot", "0", "--seed", str(seed), "--out", str(out),
        "--device", "cpu",
    ])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    metrics = json.loads((out / "metrics.json").read_text())
    for row in metrics["results"]:
        if row["strategy"] in ("threshold", "goal", "reweigh+threshold"):
            assert row["summary"]["accuracy"] >= majority_rate(row), row["strategy"]
    return metrics


def test_post_processors_on_thin_and_one_label_groups(tmp_path):
    """threshold crashed ('Degenerate labels for sensitive feature value D'), goal collapsed."""
    metrics = audit_six_groups(tmp_path, 0, "none,threshold,goal,reweigh+threshold")
    notices = " ".join(metrics["schema"]["notices"])
    assert "to the classifier's own predictions" in notices


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_six_group_audit_with_every_kind_of_strategy(tmp_path, seed):
    audit_six_groups(tmp_path, seed, "none,reweigh,latent-eo,gan,threshold,goal")
