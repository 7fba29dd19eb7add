"""The tuning contract every registered strategy keeps: a grid with one do-nothing strength first,
unique labels, deterministic transforms of any frame, and a default that transforms too."""

import numpy as np
import pandas as pd
import pytest

from fairlatent.data.schema import GROUP_COLUMN, prepare
from fairlatent.strategies import STRATEGIES, StrategyContext, get_strategy
from fairlatent.strategies.base import OFF
from tests.conftest import FAST, GAN_FAST, VAE_FAST, make_biased_frame

OPTIONS = {
    "vae": VAE_FAST,
    "latent-eo": {**VAE_FAST, "synthesize": True, "gan_params": GAN_FAST},
    "gan": {"gan_params": GAN_FAST},
    "vae+gan": {"gan_params": GAN_FAST, "vae_params": VAE_FAST},
    "gan+threshold": {"pre_options": {"gan_params": GAN_FAST}},
    "gan+goal": {"pre_options": {"gan_params": GAN_FAST}},
    "expgrad": {"max_iter": 2},
}
TUNABLE = [name for name in STRATEGIES.names() if name != "none"]


@pytest.fixture(scope="module")
def frame():
    return prepare(make_biased_frame(300, seed=5), target="label", sensitive=["group"]).frame


@pytest.fixture(scope="module")
def context():
    return StrategyContext(target="label", sensitive=["group"], group_column=GROUP_COLUMN,
                           random_state=1, device="cpu", epochs=FAST["epochs"])


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.frame, b.frame)
    if a.sample_weight is None:
        assert b.sample_weight is None
    else:
        np.testing.assert_array_equal(a.sample_weight, b.sample_weight)
    np.testing.assert_array_equal(a.is_synthetic, b.is_synthetic)
    assert (a.wrap_estimator is None) == (b.wrap_estimator is None)
    assert (a.postprocessor is None) == (b.postprocessor is None)


def _changes_something(out, frame) -> bool:
    return (
        out.sample_weight is not None
        or out.wrap_estimator is not None
        or out.postprocessor is not None
        or not out.frame.equals(frame)
    )


@pytest.mark.parametrize("name", TUNABLE)
def test_grid_has_off_first_and_transforms_are_deterministic(name, frame, context):
    strategy = get_strategy(name, **OPTIONS.get(name, {}))
    fitted = strategy.fit(frame, context)
    grid = fitted.grid()
    labels = [s.label for s in grid]
    assert len(set(labels)) == len(labels), labels
    assert grid[0] == OFF and sum(s.identity for s in grid) == 1
    assert 2 <= len(grid) <= 8  # every grid point costs one classifier fit per classifier

    off = fitted.transform(frame, grid[0])
    assert off.frame.equals(frame) and off.sample_weight is None
    assert off.wrap_estimator is None and off.postprocessor is None and off.n_synthetic == 0

    for strength in [*grid[1:], fitted.default()]:
        out = fitted.transform(frame, strength)
        assert _changes_something(out, frame), strength.label
        assert out.strength == strength
        assert list(out.frame.columns) == list(frame.columns)
        if out.sample_weight is not None:
            assert len(out.sample_weight) == len(out.frame)
    part = frame.iloc[::2]  # any frame of real rows, not only the fitted one
    for strength in {s.label: s for s in (grid[-1], fitted.default())}.values():
        _same(fitted.transform(frame, strength), fitted.transform(frame, strength))
        _same(fitted.transform(part, strength), fitted.transform(part, strength))


def test_kinds_and_accuracy_guard():
    kinds = {name: get_strategy(name, **OPTIONS.get(name, {})).kind for name in TUNABLE}
    assert kinds["threshold"] == kinds["goal"] == kinds["gan+threshold"] == "post"
    assert kinds["expgrad"] == "in"
    assert kinds["reweigh"] == kinds["vae"] == kinds["corr-remove"] == kinds["latent-eo"] == "pre"
    assert get_strategy("vae").max_accuracy_loss == 0.005


def test_registry_lines_for_the_new_strategies():
    names = STRATEGIES.names()
    for name in ("latent-eo", "threshold", "expgrad", "corr-remove", "goal", "gan+threshold",
                 "gan+goal", "reweigh+threshold"):
        assert name in names
        spec = STRATEGIES.get(name)
        assert spec.description and spec.colour
    for name in ("threshold", "expgrad", "corr-remove", "goal", "gan+threshold"):
        assert not STRATEGIES.get(name).debias  # nothing to write as a training set
    assert STRATEGIES.get("gan+threshold").uses_gan and STRATEGIES.get("latent-eo").generative
