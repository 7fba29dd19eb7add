"""Shared test settings and factories: seeded, deliberately biased data of chosen size.

Every test that trains a neural model uses :data:`FAST` (epochs) with :data:`VAE_FAST` or
:data:`GAN_FAST` (networks); every test that needs a biased frame builds it with a factory here.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pytest

#: Tiny-but-real settings for every neural model in tests: the epochs ...
FAST = {"epochs": 2}
#: ... the VAE's networks ...
VAE_FAST = {"latent_dim": 4, "hidden_dims": (16, 16)}
#: ... and the GAN's.
GAN_FAST = {"generator_dims": (32,), "critic_dims": (32,), "batch_size": 100, "embedding_dim": 16}
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


def make_scored_groups(
    n: int = 3000,
    *,
    seed: int = 0,
    minority_share: float = 0.4,
    base_rates: tuple[float, float] = (0.4, 0.1),
    majority_lift: float = 0.0,
    noise: float = 0.7,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores, 0/1 labels and groups (``a`` majority, ``b`` minority with a lower base rate).

    A score is the label plus ``majority_lift`` for group ``a`` plus Gaussian noise.
    """
    rng = np.random.default_rng(seed)
    g = np.where(rng.random(n) < minority_share, "b", "a")
    y = (rng.random(n) < np.where(g == "a", base_rates[0], base_rates[1])).astype(int)
    scores = y * 1.0 + majority_lift * (g == "a") + rng.normal(0, noise, n)
    return scores, y, g


def make_fair_predictions(n: int, *, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, predictions and two equal groups (``a``, ``b``) with no disparity at all.

    Both groups have base rate 0.4; a prediction is the label plus Gaussian noise, thresholded.
    """
    rng = np.random.default_rng(seed)
    g = np.where(rng.random(n) < 0.5, "a", "b")
    y = (rng.random(n) < 0.4).astype(int)
    p = ((y + rng.normal(0, 0.7, n)) > 0.5).astype(int)
    return y, p, g


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
