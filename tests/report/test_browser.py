"""The report renders in headless Chromium with every section and no console errors."""

import subprocess

import pytest

from tests.conftest import run_audit

pytestmark = pytest.mark.browser
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def test_report_renders_in_headless_chromium(tmp_path, biased_csv, chromium_path):
    out = tmp_path / "out"
    result = run_audit(biased_csv, out, "--n-boot", "20", "--quiet", "--min-test-support", "5")
    assert result.exit_code == 0, result.output
    url = (out / "report.html").resolve().as_uri()
    profile = tmp_path / "profile"
    shot = tmp_path / "report.png"
    run = subprocess.run(
        [
            chromium_path,
            *FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=1280,3000",
            f"--screenshot={shot}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 20_000, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    dom = subprocess.run(
        [chromium_path, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    for section in ("verdict", "data", "comparison", "groups", "tradeoff", "strategies", "repro"):
        assert f'id="{section}"' in dom
    assert dom.count("data:image/png;base64,") >= 3
    # the top screen leads with the answer: the sentence, then the grid, then what to do
    verdict = dom.split('id="verdict"')[1].split("</section>")[0]
    lead = verdict.index('class="lead"')
    assert lead < verdict.index('class="grid findings"') < verdict.index("What to do next")
    for heading in ("selection rate", "TPR", "FPR", "FNR", "PPV", "FDR", "NPV", "FOR", "accuracy"):
        assert f">{heading}</th>" in verdict
    assert 'data-state="' in verdict and "How the audit decides" in verdict
    assert "fairlatent audit " in verdict.split("What to do next")[1]  # a real command


def test_missing_chromium_fails_on_ci_and_skips_elsewhere(monkeypatch):
    from tests.conftest import find_chromium

    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true but no headless chromium"):
        find_chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        find_chromium()
