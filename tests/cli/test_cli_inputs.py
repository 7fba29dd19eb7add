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


FAST_AUDIT = ("--strategies", "none", "--repeats", "1", "--n-boot", "0", "--no-tune",
              "--classifiers", "logreg")


def audit_frame(tmp_path, frame, *extra, name="data.csv", target=TARGET_GROUP):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["audit", str(path), *target, "--out", str(out), *FAST_AUDIT, *extra])
    return result, out


def notices_of(out):
    return json.loads((out / "metrics.json").read_text())["schema"]["notices"]


def test_escape_sequences_in_group_names_are_printed_escaped(tmp_path):
    """ESC [2J (clear screen), an OSC title and BEL in a group name reached the terminal raw."""
    frame = make_biased_frame(300)
    frame["group"] = np.where(frame["group"] == "A", "A\x1b[2J\x1b]0;pwned\x07", "B")
    result, out = audit_frame(tmp_path, frame)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "A\\x1b[2J\\x1b]0;pwned\\x07" in result.output
    groups = [g["group"] for g in json.loads((out / "metrics.json").read_text())["data"]["groups"]]
    assert "A\x1b[2J\x1b]0;pwned\x07" in groups  # the data itself is kept as it is


def test_escape_sequences_in_an_error_are_escaped(tmp_path, csv):
    result = runner.invoke(app, ["audit", str(csv), "--target", "lab\x1b]0;x\x07el",
                                 "--sensitive", "group", "--out", str(tmp_path / "o")])
    assert_one_line_error(result, "not found")
    assert "\x1b" not in result.output and "\x07" not in result.output


def test_a_directory_named_like_an_output_is_never_replaced(tmp_path, csv):
    """--out holding a directory named metrics.json: it was swapped out and deleted, exit 0."""
    out = tmp_path / "out"
    (out / "metrics.json").mkdir(parents=True)
    (out / "metrics.json" / "keep.txt").write_text("precious")
    invoke_expecting_error(
        tmp_path, ["audit", str(csv), *TARGET_GROUP, "--out", str(out), *FAST_AUDIT],
        "metrics.json exists and is not a regular file",
    )
    assert (out / "metrics.json" / "keep.txt").read_text() == "precious"


def test_outputs_next_to_a_user_directory_are_written_in_place(tmp_path):
    """A directory of other entries is updated file by file, the user's directory untouched."""
    from fairlatent.report import _can_swap

    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    assert not _can_swap(out)
    (out / "sub").rmdir()
    (out / "report.html").mkdir()
    assert not _can_swap(out)


@pytest.mark.parametrize("command", ["audit", "synth", "debias"])
@pytest.mark.parametrize("shape", ["long name", "deep path"])
def test_output_paths_too_long_are_refused_before_any_work(tmp_path, csv, command, shape):
    """OSError: [Errno 36] File name too long, as a traceback after the work was done."""
    name = "x" * 300 if shape == "long name" else "/".join(["d"] * 2100)
    target = tmp_path / name
    args = {
        "audit": ["audit", str(csv), *TARGET_GROUP, "--out", str(target)],
        "synth": ["synth", str(csv), "--out", str(target) + ".csv"],
        "debias": ["debias", str(csv), *TARGET_GROUP, "--out", str(target) + ".csv"],
    }[command]
    message = "bytes long"
    invoke_expecting_error(tmp_path, args, message)


@pytest.mark.parametrize("command", ["synth", "debias"])
def test_save_model_path_checked_before_any_work(tmp_path, csv, command, monkeypatch):
    """An unusable --save-model was found only after training, with the CSV already written."""
    from fairlatent.models.gan import TabularGAN

    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking --save-model")

    monkeypatch.setattr(TabularGAN, "fit", no_training)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    base = {
        "synth": ["synth", str(csv), "--out", str(tmp_path / "s.csv"), "--epochs", "1"],
        "debias": ["debias", str(csv), *TARGET_GROUP, "--strategy", "gan", "--out",
                   str(tmp_path / "d.csv"), "--epochs", "1"],
    }[command]
    invoke_expecting_error(tmp_path, [*base, "--save-model", str(blocker / "gan")],
                           "is not a writable directory")
    invoke_expecting_error(tmp_path, [*base, "--save-model", str(tmp_path / ("m" * 300))],
                           "--save-model")


def test_debias_save_model_with_strength_off_is_refused(tmp_path, csv):
    invoke_expecting_error(
        tmp_path,
        ["debias", str(csv), *TARGET_GROUP, "--strategy", "gan", "--strength", "off",
         "--save-model", str(tmp_path / "gan"), "--out", str(tmp_path / "d.csv")],
        "--strength off trains no GAN",
    )


def test_synth_save_model_with_model_is_refused(tmp_path, saved_gan):
    invoke_expecting_error(
        tmp_path,
        ["synth", "--model", str(saved_gan), "--save-model", str(tmp_path / "again"),
         "--out", str(tmp_path / "s.csv")],
        "--save-model saves a GAN this command trains, but --model loads one",
    )


def test_debias_model_error_names_only_strategies_debias_takes(tmp_path, csv):
    from fairlatent.strategies import STRATEGIES

    result = invoke_expecting_error(
        tmp_path,
        ["debias", str(csv), *TARGET_GROUP, "--strategy", "reweigh", "--model", str(tmp_path),
         "--out", str(tmp_path / "d.csv")],
        "--model/--save-model hold a GAN",
    )
    named = result.output.split("--strategy", 1)[1]
    for spec in STRATEGIES:
        if spec.uses_gan and not spec.debias:
            assert f" {spec.name}" not in named.replace(",", " ").split(" or "), spec.name


def test_synth_rows_checked_against_free_disk(tmp_path, csv, monkeypatch):
    """--rows 10000000000 was accepted and would have filled the disk."""
    from fairlatent.models.gan import TabularGAN

    monkeypatch.setattr(TabularGAN, "fit", lambda *a, **k: pytest.fail("trained first"))
    invoke_expecting_error(
        tmp_path, ["synth", str(csv), "--rows", "10000000000", "--out", str(tmp_path / "s.csv")],
        "of CSV, but",
    )


def test_interrupt_while_saving_the_model_says_the_csv_was_written(tmp_path, csv, monkeypatch):
    """Ctrl-C while the GAN was saved said 'nothing was written' although the CSV was complete."""
    from fairlatent.models.gan import TabularGAN

    def interrupted(self, path):
        raise KeyboardInterrupt

    monkeypatch.setattr(TabularGAN, "save", interrupted)
    out = tmp_path / "s.csv"
    result = runner.invoke(app, ["synth", str(csv), "--rows", "5", "--epochs", "1", "--out",
                                 str(out), "--save-model", str(tmp_path / "gan"), "--device", "cpu"])
    assert result.exit_code == 130, result.output
    assert f"{out} was written completely, the model was not saved" in result.output
    assert out.exists()


NA_GROUPS = {"NA": "A", "None": "B"}


def test_groups_named_na_and_none_are_groups(tmp_path):
    """'NA' and 'None' were read as missing and merged into '(missing)' (debias wrote it back)."""
    frame = make_biased_frame(300)
    frame["group"] = frame["group"].map({"A": "NA", "B": "None"})
    frame.loc[:4, "group"] = ""  # empty fields are still missing
    result, out = audit_frame(tmp_path, frame)
    assert result.exit_code == 0, result.output
    groups = {g["group"] for g in json.loads((out / "metrics.json").read_text())["data"]["groups"]}
    assert {"NA", "None"} <= groups
    debiased = tmp_path / "d.csv"
    done = runner.invoke(app, ["debias", str(tmp_path / "data.csv"), *TARGET_GROUP, "--strategy",
                               "reweigh", "--no-tune", "--out", str(debiased), "-q"])
    assert done.exit_code == 0, done.output
    written = pd.read_csv(debiased, keep_default_na=False)["group"]
    assert {"NA", "None"} <= set(written)


def test_whitespace_variants_of_a_group_are_said_to_be_joined(tmp_path):
    frame = make_biased_frame(300)
    frame.loc[frame.index[::7], "group"] = frame["group"] + "  "
    result, out = audit_frame(tmp_path, frame)
    assert result.exit_code == 0, result.output
    assert any("values 'A', 'A  ' read as one group 'A'" in n for n in notices_of(out))


def test_numeric_sensitive_column_binning_is_a_notice(tmp_path):
    frame = make_biased_frame(300).assign(zip=lambda f: 10000 + np.arange(len(f)) * 7)
    result, out = audit_frame(tmp_path, frame, target=("--target", "label", "--sensitive", "zip"))
    assert result.exit_code == 0, result.output
    assert "sensitive column 'zip' is numeric with 300 distinct values: binned into" in result.output


def test_decimal_commas_are_read_as_numbers(tmp_path):
    """'5,49' in a ';' file became a categorical feature with hundreds of levels."""
    frame = make_biased_frame(300)
    frame["hours"] = frame["hours"].map(lambda v: f"{v:.2f}".replace(".", ","))
    path = tmp_path / "semi.csv"
    frame.to_csv(path, index=False, sep=";")
    out = tmp_path / "out"
    result = runner.invoke(app, ["audit", str(path), *TARGET_GROUP, "--out", str(out), *FAST_AUDIT])
    assert result.exit_code == 0, result.output
    columns = json.loads((out / "metrics.json").read_text())["schema"]["columns"]
    assert next(c for c in columns if c["name"] == "hours")["kind"] == "continuous"
    assert any("decimal commas" in n for n in notices_of(out))


@pytest.mark.parametrize(
    ("mutate", "outcome"),
    [
        (lambda f: f.assign(age=np.inf), "dropped column 'age': the column has no finite value"),
        (lambda f: f.assign(hours=f["hours"] * 1e306), "too large to compute with"),
    ],
    ids=["inf in every row", "finite 1e308"],
)
def test_extreme_feature_values_audit_with_a_notice(tmp_path, mutate, outcome):
    result, out = audit_frame(tmp_path, mutate(make_biased_frame(300)))
    assert result.exit_code == 0, result.output
    assert any(outcome in n for n in notices_of(out))


@pytest.mark.parametrize("favourable", [1, 2])
def test_target_with_too_few_favourable_rows(tmp_path, favourable):
    frame = make_biased_frame(300).assign(label="no")
    frame.loc[: favourable - 1, "label"] = "yes"
    frame.to_csv(tmp_path / "d.csv", index=False)
    invoke_expecting_error(
        tmp_path, ["audit", str(tmp_path / "d.csv"), *TARGET_GROUP, "--out", str(tmp_path / "o")],
        f"has only {favourable} row(s) with 'yes'",
    )


def test_parquet_bytes_column(tmp_path):
    pytest.importorskip("pyarrow")
    frame = make_biased_frame(300).assign(blob=[b"\x00\xff" + bytes([i % 5]) for i in range(300)])
    path = tmp_path / "bytes.parquet"
    frame.to_parquet(path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["audit", str(path), *TARGET_GROUP, "--out", str(out), *FAST_AUDIT])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[audit.strategy_options.reweigh]\nstrengths = "abc"', 'strengths = "abc" has the wrong type'),
        ('[audit.strategy_options.goal]\ndefault = "x"', 'default = "x" has the wrong type'),
        ("[audit.strategy_options.reweigh]\nstrengths = [-3, 0.5]", "reweigh strength -3 is out of range"),
        ("[audit.strategy_options.reweigh]\ndefault = 10", "reweigh strength 10 is out of range"),
        ("[audit.strategy_options.goal]\nstrengths = [0.5]", "settings are tables"),
    ],
)
def test_strategy_strength_options_checked(tmp_path, csv, table, message):
    config = tmp_path / "c.toml"
    config.write_text(f'[audit]\ntarget = "label"\nsensitive = "group"\n{table}\n')
    invoke_expecting_error(
        tmp_path, ["audit", str(csv), "--config", str(config), "--strategies", "none,reweigh,goal",
                   "--out", str(tmp_path / "o")], message,
    )


@pytest.mark.parametrize("value", ["0", "-3"])
def test_max_categories_below_one(tmp_path, csv, value):
    invoke_expecting_error(
        tmp_path, ["audit", str(csv), *TARGET_GROUP, "--max-categories", value, "--out",
                   str(tmp_path / "o")], f"max_categories={value} must be at least 1",
    )


def test_threads_beyond_the_cores_are_capped_with_a_notice(tmp_path, monkeypatch):
    """--threads 10000 ran 3x slower without a word."""
    import torch

    from fairlatent.models import threads

    names = ("FAIRLATENT_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    saved = {name: os.environ.get(name) for name in names}  # the CLI exports its count
    monkeypatch.setattr(threads, "_applied", threads._applied)
    before = torch.get_num_threads()
    try:
        result, out = audit_frame(tmp_path, make_biased_frame(300), "--threads", "10000")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        torch.set_num_threads(before)
        threads._limit_pools(before)
    assert result.exit_code == 0, result.output
    assert any("--threads 10000 is more than the" in n for n in notices_of(out))


def test_sensitive_column_with_a_comma_in_its_name(tmp_path):
    frame = make_biased_frame(300).rename(columns={"group": "race, ethnicity"})
    frame.to_csv(tmp_path / "c.csv", index=False)
    invoke_expecting_error(
        tmp_path, ["audit", str(tmp_path / "c.csv"), "--target", "label", "--sensitive",
                   "race, ethnicity", "--out", str(tmp_path / "o")],
        """a name holding a comma is quoted: --sensitive '"race, ethnicity"'""",
    )
    result, out = audit_frame(tmp_path, frame, target=("--target", "label", "--sensitive",
                                                       '"race, ethnicity"'))
    assert result.exit_code == 0, result.output


def test_reference_merged_into_small_groups_says_so(tmp_path):
    frame = make_biased_frame(300)
    frame.loc[:9, "group"] = "C"
    frame.to_csv(tmp_path / "d.csv", index=False)
    invoke_expecting_error(
        tmp_path, ["audit", str(tmp_path / "d.csv"), *TARGET_GROUP, "--reference", "C",
                   "--out", str(tmp_path / "o"), *FAST_AUDIT],
        "reference group 'C' has fewer than 30 rows, so it was merged into '(small groups)'",
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c.update(format_version="1"), "has format_version '1', which is not a version"),
        (lambda c: c["params"].update(random_state=-5), "has random_state -5"),
        (lambda c: [col.update(min=-1e30) for col in c["encoder"]["columns"]
                    if col.get("name") == "age"], "bounds min=-1e+30"),
    ],
    ids=["string version", "negative seed", "edited bounds"],
)
def test_edited_saved_model_metadata_is_refused(tmp_path, saved_gan, edit, message):
    import shutil

    model = tmp_path / "gan"
    shutil.copytree(saved_gan, model)
    config = json.loads((model / "config.json").read_text())
    edit(config)
    (model / "config.json").write_text(json.dumps(config))
    invoke_expecting_error(
        tmp_path, ["synth", "--model", str(model), "--rows", "5", "--out", str(tmp_path / "s.csv")],
        message,
    )


@pytest.mark.slow
def test_sigterm_during_start_up_is_one_line(tmp_path, csv):
    """debias killed by SIGTERM while starting exited -15 with no word."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "fairlatent.cli", "debias", str(csv), *TARGET_GROUP, "--strategy",
         "gan", "--epochs", "50", "--out", str(tmp_path / "d.csv")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    lines = [line for line in (stdout + stderr).splitlines() if line.strip()]
    assert lines == ["error: interrupted (SIGTERM); nothing was written"], lines
