import json

import numpy as np
import pytest

from fairlatent.data.schema import GROUP_COLUMN, prepare
from fairlatent.samplers import LatentModel
from fairlatent.strategies import STRATEGIES, StrategyContext, get_strategy
from fairlatent.strategies.latent import LatentDensityStrategy
from tests.conftest import FAST, VAE_FAST, make_biased_frame


@pytest.fixture(scope="module")
def data():
    return prepare(make_biased_frame(300), target="label", sensitive=["group"]).frame


def context(**kw) -> StrategyContext:
    return StrategyContext(target="label", sensitive=["group"], group_column=GROUP_COLUMN,
                           random_state=3, device="cpu", epochs=FAST["epochs"], **kw)


def test_registry_builds_the_strategy_with_options():
    strategy = get_strategy("vae", scope="group", alpha=0.05)
    assert isinstance(strategy, LatentDensityStrategy)
    assert strategy.scope == "group" and strategy.alpha == 0.05
    assert "DB-VAE" in STRATEGIES.get("vae").description


def test_resample_output(data):
    out = get_strategy("vae", sampling="resample", **VAE_FAST).apply(data, context())
    assert list(out.frame.columns) == list(data.columns)
    assert (out.frame.dtypes == data.dtypes).all()
    assert len(out.frame) == len(data) and out.sample_weight is None
    assert not out.is_synthetic.any()
    diag = out.diagnostics
    json.dumps(diag, allow_nan=False)
    assert diag["vae"]["epochs_run"] == 2 and len(diag["vae"]["history"]) == 2
    assert diag["vae"]["config"]["latent_dim"] == 4
    assert diag["weights"]["effective_sample_size"] <= len(data)
    shares = {g["group"]: g for g in diag["groups"]}
    assert set(shares) == set(data[GROUP_COLUMN].astype(str))
    assert sum(g["new_share"] for g in diag["groups"]) == pytest.approx(1.0)
    model = out.artifacts["latent_model"]
    assert isinstance(model, LatentModel)
    assert GROUP_COLUMN not in model.columns and "label" not in model.columns
    assert model.rarity(data, data["label"]).shape == (len(data),)
    # same seed, same rows
    again = get_strategy("vae", sampling="resample", **VAE_FAST).apply(data, context())
    np.testing.assert_array_equal(again.artifacts["sample_indices"],
                                  out.artifacts["sample_indices"])


def test_weights_and_group_scope(data):
    out = get_strategy("vae", sampling="weights", scope="group", density="gmm", n_components=2,
                       **VAE_FAST).apply(data, context())
    assert out.frame is data
    assert out.sample_weight.shape == (len(data),)
    groups = data[GROUP_COLUMN].to_numpy()
    for g in np.unique(groups):
        assert out.sample_weight[groups == g].mean() == pytest.approx(1.0)
    diag = out.diagnostics
    json.dumps(diag, allow_nan=False)
    for g in diag["groups"]:  # weights keep each group's share in group scope
        assert g["new_share"] == pytest.approx(g["share"])
    assert out.artifacts["latent_model"].group_densities


def test_strategy_epochs_option_beats_context(data):
    out = get_strategy("vae", epochs=1, **VAE_FAST).apply(data, context())
    assert out.diagnostics["vae"]["epochs_run"] == 1
