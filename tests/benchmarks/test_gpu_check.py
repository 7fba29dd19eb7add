"""benchmarks/gpu_check.py must keep running: its CPU quick mode, on tiny data."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_gpu_check_quick_mode_runs_on_cpu(tmp_path: Path) -> None:
    out = tmp_path / "gpu_check.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--device", "cpu",
         "--rows", "1000", "--quick", "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["environment"]["device"] == "cpu"
    assert [(f["model"], f["rows"]) for f in report["fits"]] == [("vae", 1000), ("gan", 1000)]
    for fit in report["fits"]:
        for variant in ("plain", "bf16"):
            assert math.isfinite(fit[variant]["s_epoch"]) and fit[variant]["s_epoch"] > 0
    assert report["demo"]["returncode"] == 0
    assert "| VAE |" in done.stdout and "make demo" in done.stdout
