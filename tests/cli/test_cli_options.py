"""The option table: one declaration per option, defaults read from the config, a cheap --help."""

import json
import os
import shlex
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from fairlatent.cli import app, expand_multi_value_options
from fairlatent.cli.options import AUDIT, DEBIAS, SYNTH, canonical_command
from fairlatent.config import AuditConfig

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

#: Runs the CLI in a fresh interpreter and reports which heavy packages it imported.
PROBE = """
import json, runpy, sys
sys.argv = ["fairlatent", *sys.argv[1:]]
try:
    runpy.run_module("fairlatent.cli", run_name="__main__")
except SystemExit as done:
    code = done.code
heavy = sorted(m for m in ("torch", "sklearn", "pandas", "matplotlib") if m in sys.modules)
sys.stderr.write("PROBE " + json.dumps({"code": code, "heavy": heavy}) + "\\n")
"""


@pytest.mark.parametrize("args", [["--help"], ["audit", "--help"], ["--version"], ["debias", "--help"]])
def test_help_and_version_import_neither_torch_nor_sklearn(args):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, timeout=120
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("PROBE "))
    probe = json.loads(line[len("PROBE "):])
    assert probe["code"] in (0, None), done.stderr
    assert "torch" not in probe["heavy"] and "sklearn" not in probe["heavy"], probe
    assert done.stdout.strip(), "the help or version was printed"


def test_every_config_option_names_a_config_field_once():
    names = {f.name for f in fields(AuditConfig)}
    for table in (AUDIT, DEBIAS):
        declared = [o.name for o in table]
        assert len(declared) == len(set(declared))
        assert {o.name for o in table if o.config} <= names
    flags = [flag for option in AUDIT for flag in option.spellings]
    assert len(flags) == len(set(flags))
    assert {o.name for o in SYNTH} >= {"rows", "condition", "model", "save_model", "threads"}


def test_help_defaults_are_read_from_the_config():
    text = runner.invoke(app, ["audit", "--help"], env={"COLUMNS": "250"}).output
    assert "[default: 0.25]" in text  # validation_size
    defaults = AuditConfig()
    for option in AUDIT:
        value = getattr(defaults, option.name, None)
        if "{default}" in option.help and isinstance(value, int | float | str) and not isinstance(value, bool):
            assert option.help_text().endswith(rf"\[default: {value}]"), option.name
    debias = runner.invoke(app, ["debias", "--help"], env={"COLUMNS": "250"}).output
    assert f"[default: {AuditConfig().min_group_size}]" in debias
    assert "[default: FAIRLATENT_THREADS, OMP_NUM_THREADS, else 1]" in debias


def test_canonical_command_uses_only_flags_the_audit_command_takes():
    cfg = AuditConfig(
        target="y", sensitive=["s"], include_sensitive=True, tune=False, latent_audit=False,
        latent_view=False, jobs=2, fit_sample=500, reference="A", drop=["id", "x"],
    ).validate()
    line = canonical_command(Path("d.csv"), cfg, Path("out"))
    words = shlex.split(line)
    command = typer.main.get_command(app).commands["audit"]  # type: ignore[attr-defined]
    known = {name for param in command.params for name in [*param.opts, *param.secondary_opts]}
    used = [w for w in words if w.startswith("-")]
    assert set(used) <= known, set(used) - known
    for flag in ("--include-sensitive", "--no-tune", "--no-latent-audit", "--no-latent-view"):
        assert flag in used
    assert words[words.index("--drop") + 1] == "id,x"
    assert AuditConfig(target="y", sensitive=["s"], include_sensitive=False).include_sensitive is False


def test_multi_value_options_are_read_from_the_table():
    argv = ["audit", "d.csv", "-j", "2", "--prediction", "a", "b", "--tune", "c.csv"]
    assert expand_multi_value_options(argv) == [
        "audit", "d.csv", "-j", "2", "--prediction", "a", "--prediction", "b", "--tune", "c.csv",
    ]
