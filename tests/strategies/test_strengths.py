"""What the strengths of reweigh, vae and gan mean, and that their defaults are the old behaviour."""

import numpy as np
import pandas as pd
import pytest

from fairlatent.data.schema import GROUP_COLUMN, prepare
from fairlatent.samplers import CellBalancingResampler, LatentDensityResampler
from fairlatent.samplers.cells import partial_targets
from fairlatent.strategies import StrategyContext, get_strategy
from fairlatent.strategies.baseline import reweighing_weights
from fairlatent.strategies.latent import mix_strength
from fairlatent.strategies.synthesis import balance_strength
from tests.conftest import FAST, GAN_FAST, VAE_FAST, make_biased_frame


@pytest.fixture(scope="module")
def frame():
    return prepare(make_biased_frame(400, seed=7), target="label", sensitive=["group"]).frame


def context(**kw):
    return StrategyContext(target="label", sensitive=["group"], group_column=GROUP_COLUMN,
                           random_state=2, device="cpu", epochs=FAST["epochs"], **kw)


def test_reweigh_interpolates_to_kamiran_calders(frame):
    fitted = get_strategy("reweigh").fit(frame, context())
    full = reweighing_weights(frame[GROUP_COLUMN], frame["label"])
    half = fitted.transform(frame, fitted.grid()[2])  # λ = 0.5
    np.testing.assert_allclose(half.sample_weight, 1 + 0.5 * (full - 1))
    np.testing.assert_array_equal(fitted.transform(frame, fitted.default()).sample_weight, full)
    custom = get_strategy("reweigh", strengths=[0.3], default=0.3).fit(frame, context())
    assert [s.label for s in custom.grid()] == ["off", "λ=0.3"]


def test_vae_default_weighs_the_rows_and_resample_draws_what_fit_resample_draws(frame):
    X, y = frame.drop(columns=["label", GROUP_COLUMN]), frame["label"]
    old = LatentDensityResampler(sensitive=["group"], scope="group", alpha=0.01, rule="max",
                                 vae_params=VAE_FAST, epochs=FAST["epochs"], device="cpu",
                                 random_state=2)
    old.fit_resample(X, y, groups=frame[GROUP_COLUMN])
    fitted = get_strategy("vae", **VAE_FAST).fit(frame, context())
    assert fitted.default() == mix_strength(1.0, "weights")
    weighed = fitted.transform(frame, fitted.default())
    np.testing.assert_allclose(weighed.sample_weight, old.weights_)
    redrawn = get_strategy("vae", sampling="resample", **VAE_FAST).fit(frame, context())
    assert redrawn.default() == mix_strength(1.0, "resample")
    out = redrawn.transform(frame, redrawn.default())
    np.testing.assert_array_equal(out.artifacts["sample_indices"], old.sample_indices_)


def test_vae_mixes_weights_between_uniform_and_db_vae(frame):
    fitted = get_strategy("vae", **VAE_FAST).fit(frame, context())
    full = fitted.transform(frame, mix_strength(1.0)).sample_weight
    half = fitted.transform(frame, mix_strength(0.5)).sample_weight
    np.testing.assert_allclose(half, 0.5 + 0.5 * full)
    groups = frame[GROUP_COLUMN].to_numpy()
    for g in np.unique(groups):  # group scope: every group keeps its total weight
        assert half[groups == g].mean() == pytest.approx(1.0)
    softer = fitted.transform(frame, mix_strength(1.0, alpha=10.0)).sample_weight
    assert softer.std() < full.std()
    assert all(s.params.get("sampling") == "weights" for s in fitted.grid()[1:])


def test_vae_shares_its_vae_with_latent_eo_on_the_same_rows(frame):
    ctx = context()
    vae = get_strategy("vae", **VAE_FAST).fit(frame, ctx)
    eo = get_strategy("latent-eo", **VAE_FAST).fit(frame, ctx)
    assert eo.sampler.vae_ is vae.sampler.vae_
    other = get_strategy("latent-eo", **VAE_FAST).fit(frame.iloc[:300], ctx)
    assert other.sampler.vae_ is not vae.sampler.vae_  # other rows, other VAE


def test_partial_targets():
    cells = pd.DataFrame({"group": ["a", "a", "b", "b"], "label": [0, 1, 0, 1],
                          "rows": [60, 40, 90, 10]})
    assert partial_targets(cells, "parity", reach=0)["target"].tolist() == [60, 40, 90, 10]
    grown = partial_targets(cells, "parity", drop=False)
    assert (grown["target"] >= grown["rows"]).all()
    rates = grown[grown["label"] == 1].set_index("group")["target"] / grown.groupby("group")[
        "target"].sum()
    assert rates.round(2).tolist() == [0.25, 0.25]
    with pytest.raises(Exception, match="reach"):
        partial_targets(cells, "parity", reach=1.5)


def test_gan_strengths(frame):
    ctx = context()
    X, y = frame.drop(columns=["label", GROUP_COLUMN]), frame["label"].to_numpy()
    old = CellBalancingResampler(sensitive=["group"], gan_params=GAN_FAST, epochs=FAST["epochs"],
                                 device="cpu", random_state=2)
    X_old, y_old = old.fit_resample(X, y, groups=frame[GROUP_COLUMN])
    fitted = get_strategy("gan", gan_params=GAN_FAST).fit(frame, ctx)
    out = fitted.transform(frame, fitted.default())  # the old behaviour, row for row
    pd.testing.assert_frame_equal(out.frame.drop(columns=["label", GROUP_COLUMN]), X_old)
    np.testing.assert_array_equal(out.frame["label"].to_numpy(), y_old)

    counts = frame.groupby([GROUP_COLUMN, "label"]).size()
    half = fitted.transform(frame, balance_strength(0.5))
    assert 0 < half.n_synthetic < out.n_synthetic
    grow = fitted.transform(frame, balance_strength(1.0, drop=False))
    real = grow.artifacts["sample_indices"][~grow.is_synthetic]
    assert set(real) == set(range(len(frame)))  # no real row dropped
    rates = grow.frame.groupby(GROUP_COLUMN)["label"].mean()
    assert abs(rates["A"] - rates["B"]) < 0.02
    copies = fitted.transform(frame, balance_strength(1.0, synthetic=0.0))
    assert copies.n_synthetic == 0 and len(copies.frame) == len(out.frame)
    assert copies.frame.groupby([GROUP_COLUMN, "label"]).size().sum() == counts.sum()
