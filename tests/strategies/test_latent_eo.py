import numpy as np
import pandas as pd
import pytest

from fairlatent.data.schema import GROUP_COLUMN, prepare
from fairlatent.strategies import StrategyContext, get_strategy
from fairlatent.strategies.latent_eo import eo_strength
from tests.conftest import FAST, GAN_FAST, VAE_FAST, make_biased_frame

#: One hidden layer: with the shared two-layer VAE_FAST the pull toward the pooled latent mean on
#: these 600 rows is within noise for one cell (the assertion below then fails).
NARROW_VAE = {**VAE_FAST, "hidden_dims": (16,)}


@pytest.fixture(scope="module")
def frame():
    return prepare(make_biased_frame(600, seed=11), target="label", sensitive=["group"]).frame


@pytest.fixture(scope="module")
def fitted(frame):
    ctx = StrategyContext(target="label", sensitive=["group"], group_column=GROUP_COLUMN,
                          random_state=4, device="cpu", epochs=FAST["epochs"])
    return get_strategy("latent-eo", synthesize=True, synthetic_share=0.2, gan_params=GAN_FAST,
                        **NARROW_VAE).fit(frame, ctx)


def test_weights_keep_cells_and_pull_each_group_to_the_pooled_latent_mean(frame, fitted):
    out = fitted.transform(frame, eo_strength(1.0))
    groups, labels = frame[GROUP_COLUMN].to_numpy(), frame["label"].to_numpy()
    X = frame.drop(columns=["label", GROUP_COLUMN])
    z = fitted.encode(X, labels)
    for label in (0, 1):
        pooled = z[labels == label].mean(axis=0)
        for g in ("A", "B"):
            rows = (groups == g) & (labels == label)
            assert out.sample_weight[rows].mean() == pytest.approx(1.0)  # cells keep their size
            before = np.linalg.norm(z[rows].mean(axis=0) - pooled)
            after = np.linalg.norm(np.average(z[rows], axis=0, weights=out.sample_weight[rows])
                                   - pooled)
            assert after < before
    cells = {(c["group"], c["label"]) for c in out.diagnostics["cells"]}
    assert cells == {("A", 0), ("A", 1), ("B", 0), ("B", 1)}


def test_strength_exponent_and_sign(frame, fitted):
    full = fitted.transform(frame, eo_strength(1.0)).sample_weight
    half = fitted.transform(frame, eo_strength(0.5)).sample_weight
    inverse = fitted.transform(frame, eo_strength(-1.0)).sample_weight
    assert np.std(half) < np.std(full)
    assert np.corrcoef(np.log(full), np.log(inverse))[0, 1] < 0


def test_encoding_ignores_the_sensitive_value(frame, fitted):
    X = frame.drop(columns=["label", GROUP_COLUMN])
    flipped = X.assign(group=np.where(X["group"] == "A", "B", "A"))
    labels = frame["label"].to_numpy()
    np.testing.assert_allclose(fitted.encode(X, labels), fitted.encode(flipped, labels))


def test_resample_and_synthesize(frame, fitted):
    counts = frame.groupby([GROUP_COLUMN, "label"]).size()
    redrawn = fitted.transform(frame, eo_strength(1.0, "resample"))
    pd.testing.assert_series_equal(redrawn.frame.groupby([GROUP_COLUMN, "label"]).size(), counts)
    grown = fitted.transform(frame, eo_strength(1.0, "synthesize"))
    added = grown.frame[grown.is_synthetic]
    assert set(added[GROUP_COLUMN]) == {"B"}  # only groups that are not the largest in a label
    for label in (0, 1):
        assert (added["label"] == label).sum() == round(0.2 * counts[("B", label)])
    assert (grown.frame.dtypes == frame.dtypes).all()
    assert grown.frame[~grown.is_synthetic].equals(frame.reset_index(drop=True))
