"""Shared fixtures: seeded, deliberately biased tabular frames of chosen size."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pytest

#: Tiny-but-real settings for every neural model in tests.
FAST = {"epochs": 2}
#: The target and sensitive options that fit :func:`make_biased_frame`.
TARGET_GROUP = ("--target", "label", "--sensitive", "group")


def run_audit(csv, out, *extra: str):
    """``fairlatent audit CSV --target label --sensitive group --out OUT [extra...]`` via CliRunner."""
    from typer.testing import CliRunner

    from fairlatent.cli import app

    return CliRunner().invoke(app, ["audit", str(csv), *TARGET_GROUP, "--out", str(out), *extra])


def make_biased_frame(
    n: int = 600,
    *,
    seed: int = 0,
    minority_share: float = 0.3,
    base_rates: tuple[float, float] = (0.4, 0.15),
    with_missing: bool = True,
) -> pd.DataFrame:
    """A frame where group ``B`` is a minority with a lower favourable base rate.

    Columns: ``age`` (int), ``hours`` (float), ``job`` (3 categories), ``city`` (4 categories, some
    missing), ``score`` (numeric with NaN), ``group`` (A/B), ``label`` (``yes``/``no``).
    """
    rng = np.random.default_rng(seed)
    group = np.where(rng.random(n) < minority_share, "B", "A")
    rate = np.where(group == "A", base_rates[0], base_rates[1])
    label = rng.random(n) < rate
    age = np.clip(rng.normal(40 + 6 * label, 10, n), 18, 90).round().astype(int)
    hours = np.clip(rng.normal(38 + 5 * label - 3 * (group == "B"), 8, n), 1, 99).round(1)
    job = rng.choice(["clerk", "manager", "technician"], n, p=[0.5, 0.2, 0.3])
    job = np.where(label & (rng.random(n) < 0.4), "manager", job)
    city = rng.choice(["north", "south", "east", "west"], n).astype(object)
    score = rng.normal(label * 1.0, 1.0, n)
    if with_missing:
        city[rng.random(n) < 0.05] = None
        score[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "age": age,
            "hours": hours,
            "job": job,
            "city": pd.Series(city, dtype="string"),
            "score": score,
            "group": group,
            "label": np.where(label, "yes", "no"),
        }
    )


@pytest.fixture
def biased_frame() -> pd.DataFrame:
    return make_biased_frame()


@pytest.fixture
def biased_csv(tmp_path, biased_frame):
    path = tmp_path / "biased.csv"
    biased_frame.to_csv(path, index=False)
    return path


@pytest.fixture
def chromium_path():
    return find_chromium()


def find_chromium() -> str:
    """Path of a headless Chromium; skipped when absent, except on CI (``CI=true``): failed."""
    path = (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(
                "CI=true but no headless chromium on PATH: .ci/run installs it with "
                "'apt-get install -y chromium'; the browser test must run on CI"
            )
        pytest.skip("headless chromium is not installed")
    return path
